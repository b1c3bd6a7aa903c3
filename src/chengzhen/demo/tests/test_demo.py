"""The demo county loads what it promises, the same way every time and on every database.

The county is loaded once for the module (in a transaction rolled back at the end); each test
runs in its own savepoint inside it, so one test's writes never reach the next.
"""

import datetime as dt
import io
import time
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.test import override_settings

from chengzhen.audit.models import AuditHead, AuditRecord
from chengzhen.audit.verify import verify
from chengzhen.demo import build
from chengzhen.ledger.models import AnnualPlan, Cooperation, ProgressReport, Task, TimeNode
from chengzhen.ledger.queries import with_progress
from chengzhen.ledger.services import report_is_late
from chengzhen.org.models import Division, Membership, MembershipProgramme, Unit, User
from chengzhen.programmes.models import Phase, Programme, Target

# The digest of the demo's data (build.fingerprint). The same value on SQLite and PostgreSQL
# shows the data are the same on both; change it only with a deliberate change of the demo.
FINGERPRINT = "315a82c6c2d9ac657528cda09ef43169ba792d6c9aec38b2cf6b52a2a5b2df86"


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The demo loaded once; yields what the command printed and how long it took."""
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast, transaction.atomic():
        out = io.StringIO()
        started = time.monotonic()
        call_command("demo", stdout=out)
        yield out.getvalue(), time.monotonic() - started
        transaction.set_rollback(True)


@pytest.fixture
def demo(loaded, db):
    return loaded[0]


def test_counts_and_shape(demo):
    assert Division.objects.filter(level="town").count() >= 15
    assert Division.objects.filter(level="village", name__endswith="村").count() >= 40
    assert Division.objects.filter(level="village", name__endswith="社区").count() >= 20
    assert Unit.objects.count() >= 40
    assert User.objects.filter(is_active=True).count() >= 60
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {"admin", "supervisor", "unit_editor", "leader", "inspector"}
    assert MembershipProgramme.objects.count() == 1
    assert set(Programme.objects.values_list("kind", "reporting_cycle")) == {
        ("key_town", "monthly"), ("beautiful_town", "quarterly"), ("city_upgrade", "monthly"),
        ("joint_campaign", "monthly")}  # the three title campaigns (六城联创), bound to frameworks
    assert Phase.objects.count() >= 6
    assert set(Target.objects.values_list("level", flat=True)) == {"stage", "annual", "overall"}
    assert Target.objects.filter(programme__code="ZDZ2026", name="镇区常住人口",
                                 value=30000).count() == len(build.data.PRIORITY_TOWNS)
    assert Task.objects.count() >= 280
    assert Task.objects.filter(parent__isnull=False).count() >= 60
    assert TimeNode.objects.count() >= 500
    assert Cooperation.objects.count() >= 200
    statuses = set(Task.objects.values_list("status", flat=True))
    assert statuses == {"not_started", "in_progress", "completed", "closed"}
    assert Task.objects.filter(due_date__year=2027).exists()
    assert Task.objects.filter(responsible_user__isnull=False).exists()
    assert Task.objects.filter(responsible_user__isnull=True).exists()


def test_output_names_the_steps_and_logins(demo, loaded):
    lines = demo.splitlines()
    for step in ("行政区划", "人员", "工作计划", "2026年重点镇建设", "2026年美丽城镇建设",
                 "2026年城市提质", "时间节点", "进度报送", "载入完成"):
        assert any(step in line for line in lines), step
    header = next(i for i, line in enumerate(lines) if line.startswith("用户名"))
    assert lines[header].split() == ["用户名", "姓名", "角色", "单位"]
    assert lines[header + 1].split()[0] == "admin"
    assert len(lines) - header - 1 == Membership.objects.filter(user__is_active=True).count()
    assert any("限2026年重点镇建设" in line for line in lines)
    print(f"demo loaded in {loaded[1]:.2f} s")


def test_units_and_codes(demo):
    gov = Unit.objects.get(parent__isnull=True)
    assert gov.code == "419922" and gov.division.gb2260 == "419922"
    assert not Unit.objects.exclude(pk=gov.pk).filter(parent__isnull=True).exists()
    towns = Unit.objects.filter(kind__in=["town", "street"]).select_related("division")
    assert towns.count() == 15
    for unit in towns:
        assert unit.code == unit.division.code and len(unit.code) == 12
        assert unit.code.startswith("419922") and unit.code.endswith("000")
    for village in Division.objects.filter(level="village").select_related("parent"):
        assert len(village.code) == 12 and village.code[:9] == village.parent.code[:9]
        assert ("001" <= village.code[9:] <= "199") == village.name.endswith("社区")


def test_tasks_add_up(demo):
    """Sub-tasks split their parent's money exactly; annual plans add up; two levels only."""
    assert not Task.objects.filter(parent__parent__isnull=False).exists()
    kids = defaultdict(list)
    for child in Task.objects.filter(parent__isnull=False):
        kids[child.parent_id].append(child)
    plans = defaultdict(dict)
    for plan in AnnualPlan.objects.all():
        plans[plan.task_id][plan.year] = plan.amount
    for task in Task.objects.all():
        children = kids.get(task.pk)
        assert task.start_date <= task.due_date
        assert Decimal("10000") <= task.planned_total_investment < Decimal("1000000000")
        if children:
            assert sum(c.planned_total_investment for c in children) == task.planned_total_investment
            for c in children:
                assert task.start_date <= c.start_date <= c.due_date <= task.due_date
            for year, amount in plans[task.pk].items():
                assert amount == sum(plans[c.pk].get(year, 0) for c in children)
        else:
            assert sum(plans[task.pk].values()) == (task.planned_total_investment
                                                    - task.opening_completed_investment)
            assert set(plans[task.pk]) == set(range(task.start_date.year, task.due_date.year + 1))


def test_reports_late_lagging_overdue_superseded(demo):
    periods = set(ProgressReport.objects.values_list("period", flat=True))
    assert periods == set(build.REPORT_MONTHS) | set(build.REPORT_QUARTERS)
    assert ProgressReport.objects.count() >= 1000
    # reports only on tasks without sub-tasks; cooperating units report too
    assert not ProgressReport.objects.filter(task__children__isnull=False).exists()
    coop = ProgressReport.objects.exclude(reporting_unit=F("task__lead_unit"))
    assert coop.exists()
    assert all(Cooperation.objects.filter(task_id=r.task_id, unit_id=r.reporting_unit_id).exists()
               for r in coop[:50])
    old = ProgressReport.objects.filter(is_current=False)
    assert old.exists() and all(r.superseded_by.is_current for r in old)
    reports = list(ProgressReport.objects.select_related("task__programme"))
    late = sum(report_is_late(r) for r in reports)
    assert 0.03 * len(reports) < late < 0.25 * len(reports)
    rows = with_progress(Task.objects.all(), today=build.AS_OF)
    total = rows.count()
    lagging = rows.filter(lagging=True).count()
    overdue = rows.filter(days_overdue__gt=0).count()
    assert 0.1 * total < lagging < 0.5 * total
    assert 0.03 * total < overdue < 0.3 * total
    # 未启动 though the start date has passed: lagging, with no reports
    stalled = rows.filter(status="not_started", start_date__lt=build.AS_OF, children__isnull=True)
    assert stalled.exists() and all(t.lagging for t in stalled)
    assert not ProgressReport.objects.filter(task__in=stalled).exists()
    # time nodes: some done, some missed; done in order, none after one still open
    assert TimeNode.objects.filter(done_on__isnull=False).exists()
    assert TimeNode.objects.filter(done_on__isnull=True, planned_date__lt=build.AS_OF).exists()
    nodes = defaultdict(list)
    for node in TimeNode.objects.order_by("task_id", "seq"):
        nodes[node.task_id].append(node.done_on)
    for done in nodes.values():
        marked = [d for d in done if d is not None]
        assert done[: len(marked)] == marked and marked == sorted(marked)


def test_same_data_on_every_database(demo):
    assert build.fingerprint() == FINGERPRINT, "demo data changed: if on purpose, update FINGERPRINT"


def test_second_run_changes_nothing(demo):
    head = AuditHead.objects.get()
    before = build.fingerprint()
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert "已存在" in out.getvalue() and "admin" in out.getvalue()
    assert AuditHead.objects.get().seq == head.seq
    assert build.fingerprint() == before
    assert verify().ok


def test_everything_is_audited_as_the_command(demo):
    tracked = (Division.objects.count() + Unit.objects.count() + User.objects.count()
               + Task.objects.count() + ProgressReport.objects.count())
    records = AuditRecord.objects.filter(source="command:demo", action="create")
    assert records.count() >= tracked - 1  # the system account may predate the demo
    # the assessment round is played by its people (liaisons submit, duban01/02 verify and score)
    assert set(records.exclude(model__startswith="assessment.").values_list("actor_username", flat=True)) == {
        "system"}
    actors = set(AuditRecord.objects.filter(source="command:demo", model="assessment.value").values_list(
        "actor_username", flat=True))
    assert {"duban01", "duban02"} <= actors and any(a.startswith("lly") for a in actors)


def test_every_role_sees_tasks(demo):
    """Supervisors, leaders and inspectors cover the county; a liaison covers its town."""
    from chengzhen.org.permissions import restrict

    counts = {}
    for username in ("duban01", "xianzhang", "rddb01", "lly01", "lly_zjj", "admin", "lly04",
                     "lly04b"):
        user = User.objects.get(username=username)
        counts[username] = restrict(Task.objects.all(), user).count()
    total = Task.objects.count()
    assert counts["duban01"] == counts["xianzhang"] == counts["rddb01"] == counts["admin"] == total
    assert 0 < counts["lly01"] < total and 0 < counts["lly_zjj"] < total
    assert 0 < counts["lly04b"] < counts["lly04"]  # same town, limited to one programme


def test_logins_work(demo, client):
    assert client.login(username="lly02", password=build.PASSWORD)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(build.PASSWORD)


def test_the_priority_towns_have_their_profile_for_the_key_town_framework(demo):
    from chengzhen.assessment.models import SubjectProfile
    from chengzhen.assessment.services import framework_of, profiles_for, resolve

    fw = framework_of(resolve("ZDZ@2023"))
    profiles = SubjectProfile.objects.filter(year=2026, unit__kind="town")  # the county has one too (六城联创)
    assert profiles.count() == 8
    codes = list(profiles.values_list("unit__code", flat=True))
    assert all(p["plan_year"] in fw.profile["plan_year"].values for p in profiles_for(codes, 2026).values())


def test_the_key_towns_round_is_scored_and_published(demo):
    from chengzhen.assessment import rounds
    from chengzhen.assessment.models import Value

    r = rounds.round_of("ZDZ-2026-10")
    assert r.published and r.framework_version.frozen
    rows = rounds.ranking(r)
    assert len(rows) == 8 and [row["rank"] for row in rows] == list(range(1, 9))
    assert not Value.objects.filter(round=r).exclude(status="accepted").exists()
    platform = Value.objects.filter(round=r, source="platform")
    assert 8 * 2 <= platform.count() <= 8 * 3  # a town with no task due by 10-31 has no completion rate
    assert all("末级任务" in v.derivation or "扣分候选" in v.derivation for v in platform)
    # the demo's calendar: every town on time but 枫林镇, whose values came a day after the deadline
    late = {row["unit"].short_name: row["late"] for row in rounds.progress(r)}
    given = Value.objects.filter(round=r, subject__short_name="枫林镇", source="person").count()
    assert late == {**{name: 0 for name in late}, "枫林镇": given} and given > 0
    assert not any(row["overdue"] for row in rounds.progress(r))  # published: nothing is overdue


def test_the_towns_graded_below_the_line_enter_their_rectification_period(demo):
    from chengzhen.assessment.models import Designation, SubjectScore

    failing = set(SubjectScore.objects.filter(scoring__label="ZDZ-2026-10", grade__startswith="不合格")
                  .values_list("subject", flat=True))
    states = dict(Designation.objects.values_list("unit__code", "state"))
    assert len(states) == 8 and failing and {c for c, s in states.items() if s == "rectifying"} == failing
    rectifying = Designation.objects.filter(state="rectifying")
    assert {d.rectify_until for d in rectifying} == {dt.date(2027, 5, 16)}  # 6 months after 2026-11-16


def test_the_fund_is_shared_by_the_towns_that_passed_to_the_fen(demo):
    from decimal import Decimal

    from chengzhen.assessment.models import FundPool, SubjectScore

    pool = FundPool.objects.get(code="YXFZZDZ-2026")
    shares = {a.unit.code: a.amount for a in pool.allocations.select_related("unit")}
    assert pool.amount == Decimal("68000000.00") and sum(shares.values()) == pool.amount and pool.remainder == 0
    failing = set(SubjectScore.objects.filter(scoring__label="ZDZ-2026-10", grade__startswith="不合格")
                  .values_list("subject", flat=True))
    assert all(shares.get(code, 0) == 0 for code in failing)
    assert all(Decimal("5000000") <= v <= Decimal("15000000") for c, v in shares.items() if c not in failing)


def test_the_county_s_campaigns_are_merged_with_the_strictest_demand(demo):
    from chengzhen.assessment.models import JointPlan

    plan = JointPlan.objects.get(code="LC-2026")
    assert plan.campaigns.count() == 3 and plan.subject.code == "419922"
    green = plan.indicators.get(key="green_coverage_rate")
    assert len({s["campaign"] for s in green.sources}) >= 2 and green.binding.startswith("≥")
    assert green.lead_unit is not None
