"""Ledger actions: permissions, stale edits, superseded reports, late reports."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from chengzhen.audit.models import AuditRecord
from chengzhen.ledger import services
from chengzhen.ledger.models import ProgressReport, Task
from chengzhen.problems import Refused


def audit_count() -> int:
    return AuditRecord.objects.count()


def test_create_and_update_task_with_version(county):
    sup = county.users["supervisor"]
    task = services.create_task(sup, county.programme, code="A1", name="镇区道路改造",
                                lead_unit=county.units["town_a"], start_date=dt.date(2026, 1, 1),
                                due_date=dt.date(2026, 9, 30))
    services.update_task(sup, task, expected_version=1, name="镇区主干道改造")
    before = audit_count()
    with pytest.raises(services.StaleEdit):
        services.update_task(sup, task, expected_version=1, name="被覆盖的名称")
    assert Task.objects.get(pk=task.pk).name == "镇区主干道改造"
    assert audit_count() == before
    last = AuditRecord.objects.filter(model="ledger.task").order_by("-seq").first()
    assert last.actor_username == "supervisor"


@pytest.mark.parametrize("who,allowed", [
    ("editor_a", True), ("editor_b", False), ("leader", False), ("inspector", False),
    ("supervisor", True), ("admin", True), ("editor_dept", False),
])
def test_update_task_permission(county, make_task, who, allowed):
    task = make_task("A1", lead="town_a", coop=("dept",))
    before = audit_count()
    if allowed:
        services.update_task(county.users[who], task, expected_version=task.version, notes="x")
        assert Task.objects.get(pk=task.pk).notes == "x"
    else:
        with pytest.raises(PermissionDenied):
            services.update_task(county.users[who], task, expected_version=task.version, notes="x")
        assert audit_count() == before


def test_invalid_task_refused_with_every_problem(county, make_task):
    parent = make_task("P")
    child = make_task("P-1", parent=parent)
    with pytest.raises(Refused) as exc:
        services.create_task(county.users["supervisor"], county.programme, code="P", name="",
                             lead_unit=county.units["town_a"], start_date=dt.date(2026, 5, 1),
                             due_date=dt.date(2026, 4, 1), parent=child)
    reasons = "\n".join(str(p) for p in exc.value.problems)
    assert "任务名称: 不能为空" in reasons
    assert "早于开始时间" in reasons
    assert "台账只有两级" in reasons
    assert "已存在" in reasons


def test_report_supersede_keeps_history(county, make_task):
    task = make_task("R1", coop=("dept",))
    editor = county.users["editor_a"]
    first = services.submit_report(editor, task, period="2026-05", unit=county.units["town_a"],
                                   physical_progress="30", investment="1000")
    with pytest.raises(Refused):
        services.submit_report(editor, task, period="2026-05", unit=county.units["town_a"],
                               physical_progress="35")
    second = services.submit_report(editor, task, period="2026-05", unit=county.units["town_a"],
                                    physical_progress="35", supersede=True)
    first.refresh_from_db()
    assert first.is_current is False and second.supersedes_id == first.pk
    assert ProgressReport.objects.filter(task=task).count() == 2
    assert second.reporter == editor and second.submitted_at <= timezone.now()


def test_cooperating_unit_reports_for_itself_only(county, make_task):
    task = make_task("R2", coop=("dept",))
    services.submit_report(county.users["editor_dept"], task, period="2026-05",
                           unit=county.units["dept"], physical_progress="50")
    with pytest.raises(PermissionDenied):
        services.submit_report(county.users["editor_dept"], task, period="2026-05",
                               unit=county.units["town_a"], physical_progress="50")
    with pytest.raises(PermissionDenied):
        services.submit_report(county.users["editor_b"], task, period="2026-05",
                               unit=county.units["town_b"], physical_progress="50")


@pytest.mark.parametrize("period,pct,money,reason", [
    ("2026-Q2", "10", "0", "按月报送"),
    ("2026-13", "10", "0", "应写作"),
    ("2025-12", "10", "0", "不在计划期内"),
    ("2026-05", "101", "0", "0–100"),
    ("2026-05", "10", "-5", "不能为负数"),
])
def test_bad_report_refused(county, make_task, period, pct, money, reason):
    task = make_task("R3")
    before = audit_count()
    with pytest.raises(Refused) as exc:
        services.submit_report(county.users["editor_a"], task, period=period,
                               unit=county.units["town_a"], physical_progress=pct,
                               investment=money)
    assert reason in str(exc.value)
    assert audit_count() == before


@pytest.mark.parametrize("day,submitted,late", [
    (25, dt.date(2026, 5, 25), False), (25, dt.date(2026, 5, 26), True),
    (31, dt.date(2026, 6, 30), False), (31, dt.date(2026, 7, 1), True),
])
def test_late_report_at_reporting_day(county, make_task, day, submitted, late):
    county.programme.reporting_day = day
    county.programme.save()
    task = make_task("L1")
    period = f"{submitted.year}-{(submitted - dt.timedelta(days=1)).month:02d}" if (
        submitted.day == 1) else f"{submitted.year}-{submitted.month:02d}"
    report = ProgressReport(task=task, period=period, reporting_unit=county.units["town_a"],
                            physical_progress=Decimal(1), submitted_at=timezone.make_aware(
                                dt.datetime.combine(submitted, dt.time(23, 30))))
    assert services.report_is_late(report) is late


def test_complete_time_node(county, make_task):
    from chengzhen.ledger.models import TimeNode

    task = make_task("N1")
    node = TimeNode.objects.create(task=task, name="开工", planned_date=dt.date(2026, 3, 1))
    services.complete_time_node(county.users["editor_a"], node, dt.date(2026, 3, 2))
    assert TimeNode.objects.get(pk=node.pk).done_on == dt.date(2026, 3, 2)
    with pytest.raises(PermissionDenied):
        services.complete_time_node(county.users["editor_b"], node, None)


@pytest.mark.django_db(transaction=True)
def test_concurrent_corrections_leave_one_current_report(county, make_task):
    import threading

    from django.db import connection

    task = make_task("C1")
    editor = county.users["editor_a"]
    services.submit_report(editor, task, period="2026-05", unit=county.units["town_a"],
                           physical_progress="10")
    barrier, errors = threading.Barrier(4), []

    def correct(pct: int) -> None:
        try:
            barrier.wait()
            services.submit_report(editor, task, period="2026-05", unit=county.units["town_a"],
                                   physical_progress=pct, supersede=True)
        except Exception as exc:  # noqa: BLE001 - any failure is what this test looks for
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=correct, args=(20 + i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    reports = ProgressReport.objects.filter(task=task)
    assert reports.count() == 5 and reports.filter(is_current=True).count() == 1
