"""The demo county loads what it promises, the same way every time."""

import pytest
from django.core.management import call_command

from chengzhen.audit.models import AuditHead
from chengzhen.audit.verify import verify
from chengzhen.ledger.models import ProgressReport, Task
from chengzhen.ledger.queries import with_progress
from chengzhen.ledger.services import report_is_late
from chengzhen.org.models import Division, Membership, Unit, User
from chengzhen.programmes.models import Programme, Target


@pytest.fixture
def demo(db):
    call_command("demo", stdout=open("/dev/null", "w"))


def test_demo_counts_and_shape(demo):
    assert Division.objects.filter(level="town").count() >= 15
    assert Unit.objects.count() >= 40
    assert User.objects.filter(is_active=True).count() >= 60
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {"admin", "supervisor", "unit_editor", "leader", "inspector"}
    assert Programme.objects.count() == 3 and Target.objects.count() > 20
    assert Task.objects.count() >= 280
    assert Task.objects.filter(parent__isnull=False).exists()
    assert not Task.objects.filter(parent__parent__isnull=False).exists()  # two levels only
    periods = set(ProgressReport.objects.values_list("period", flat=True))
    assert {"2026-05", "2026-10", "2026-Q2", "2026-Q3"} <= periods
    assert ProgressReport.objects.filter(is_current=False, superseded_by__isnull=False).exists()
    reports = ProgressReport.objects.select_related("task__programme")
    assert any(report_is_late(r) for r in reports)
    rows = with_progress(Task.objects.all())
    assert rows.filter(lagging=True).exists() and rows.filter(days_overdue__gt=0).exists()
    statuses = set(Task.objects.values_list("status", flat=True))
    assert statuses == {"not_started", "in_progress", "completed", "closed"}


def test_units_and_codes(demo):
    assert list(Unit.objects.filter(parent__isnull=True).values_list("code", flat=True)) == [
        "419922"
    ]
    for unit in Unit.objects.filter(kind__in=["town", "street"]).select_related("division"):
        assert unit.code == unit.division.code and len(unit.code) == 12


def test_demo_is_idempotent_and_audited(demo, capsys):
    head = AuditHead.objects.get()
    counts = (Task.objects.count(), ProgressReport.objects.count(), User.objects.count())
    call_command("demo")
    assert "已存在" in capsys.readouterr().out
    assert AuditHead.objects.get().seq == head.seq
    assert (Task.objects.count(), ProgressReport.objects.count(), User.objects.count()) == counts
    assert verify().ok


def test_every_role_sees_tasks(demo):
    """Supervisors, leaders and inspectors cover the county; a liaison covers its town."""
    from chengzhen.org.permissions import restrict

    counts = {}
    for username in ("duban01", "xianzhang", "rddb01", "lly01", "lly_zjj", "admin"):
        user = User.objects.get(username=username)
        counts[username] = restrict(Task.objects.all(), user).count()
    total = Task.objects.count()
    assert counts["duban01"] == counts["xianzhang"] == counts["rddb01"] == counts["admin"] == total
    assert 0 < counts["lly01"] < total and 0 < counts["lly_zjj"] < total
