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
    from conftest import run_concurrently

    task = make_task("C1")
    editor = county.users["editor_a"]
    services.submit_report(editor, task, period="2026-05", unit=county.units["town_a"],
                           physical_progress="10")

    def correct(worker: int) -> None:
        services.submit_report(editor, task, period="2026-05", unit=county.units["town_a"],
                               physical_progress=20 + worker, supersede=True)

    assert run_concurrently(correct) == []
    reports = ProgressReport.objects.filter(task=task)
    assert reports.count() == 5 and reports.filter(is_current=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_of_one_unit_on_many_tasks_never_deadlock(county, make_task):
    """Found under load: locking the current report also locked the unit row (a join from
    the model's ordering), and a second submission's commit-time foreign-key check on that
    unit waited for it while holding the audit chain's lock — a deadlock on PostgreSQL."""
    from conftest import run_concurrently

    tasks = [make_task(f"D{i}") for i in range(8)]
    editor, unit = county.users["editor_a"], county.units["town_a"]
    for task in tasks:
        services.submit_report(editor, task, period="2026-05", unit=unit, physical_progress="1")

    def submit(worker: int) -> None:
        for i in range(12):
            services.submit_report(editor, tasks[(worker + i) % len(tasks)], period="2026-05",
                                   unit=unit, physical_progress=i, supersede=True)

    assert run_concurrently(submit) == []
    assert ProgressReport.objects.filter(is_current=True).count() == len(tasks)
    assert ProgressReport.objects.count() == len(tasks) + 48


def test_row_locks_take_only_the_row_itself(county, make_task):
    """No SELECT … FOR UPDATE of a ledger action locks a joined row (FOR UPDATE OF names the
    table): a locked unit or programme row would block other writers' foreign-key checks."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks (its immediate transactions serialise writers)")
    task = make_task("L1")
    editor, unit = county.users["editor_a"], county.units["town_a"]
    with CaptureQueriesContext(connection) as queries:
        services.submit_report(editor, task, period="2026-05", unit=unit, physical_progress="1")
        services.submit_report(editor, task, period="2026-05", unit=unit, physical_progress="2",
                               supersede=True)
        services.update_task(editor, task, expected_version=task.version, name="改名")
        node = task.time_nodes.create(name="开工", planned_date=dt.date(2026, 3, 1))
        services.complete_time_node(editor, node, dt.date(2026, 3, 1))
    locking = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert locking
    for sql in locking:  # a join locks the joined rows too, unless FOR UPDATE OF names one
        assert " FOR UPDATE OF " in sql or " JOIN " not in sql, sql


# ---- refusals leave the database and the audit chain as they were ---------------------------

def snapshot() -> tuple:
    """Everything a ledger action could write: the audit head and every ledger row."""
    from chengzhen.audit.models import AuditHead
    from chengzhen.ledger.models import Cooperation, TimeNode

    head = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first()
    rows = tuple(
        tuple(model.objects.order_by("pk").values())
        for model in (Task, Cooperation, TimeNode, ProgressReport)
    )
    return head, AuditRecord.objects.count(), rows


def report(user, task, unit, period="2026-05", **kw):
    return services.submit_report(user, task, period=period, unit=unit,
                                  physical_progress=kw.pop("physical_progress", "10"), **kw)


def refusals(county, task, node):
    """(name, action, expected exception) for one refusal of every kind through every action."""
    u, sup = county.units, county.users["supervisor"]
    ed_a, ed_b = county.users["editor_a"], county.users["editor_b"]
    good = {"code": "NEW", "name": "新任务", "lead_unit": u["town_a"],
            "start_date": dt.date(2026, 1, 1), "due_date": dt.date(2026, 6, 30)}
    return [
        ("create: other unit's task", lambda: services.create_task(ed_b, county.programme, **good),
         PermissionDenied),
        ("create: leader", lambda: services.create_task(county.users["leader"], county.programme,
                                                        **good), PermissionDenied),
        ("create: due before start", lambda: services.create_task(
            sup, county.programme, **{**good, "due_date": dt.date(2025, 12, 31)}), Refused),
        ("create: negative money", lambda: services.create_task(
            sup, county.programme, **{**good, "planned_total_investment": Decimal("-1")}), Refused),
        ("create: duplicate code", lambda: services.create_task(
            sup, county.programme, **{**good, "code": task.code}), Refused),
        ("create: no lead unit", lambda: services.create_task(
            sup, county.programme, **{**good, "lead_unit": None}), Refused),
        ("update: stale", lambda: services.update_task(sup, task, expected_version=task.version - 1,
                                                        name="旧版本"), services.StaleEdit),
        ("update: no right", lambda: services.update_task(ed_b, task, expected_version=task.version,
                                                           name="越权"), PermissionDenied),
        ("update: lead moved out of reach", lambda: services.update_task(
            ed_a, task, expected_version=task.version, lead_unit=u["town_b"]), PermissionDenied),
        ("update: bad status", lambda: services.update_task(
            sup, task, expected_version=task.version, status="滞后"), Refused),
        ("cooperating: stale", lambda: services.set_cooperating_units(
            sup, task, [u["town_b"]], expected_version=task.version - 1), services.StaleEdit),
        ("cooperating: lead as cooperating", lambda: services.set_cooperating_units(
            sup, task, [u["town_a"]], expected_version=task.version), Refused),
        ("cooperating: no right", lambda: services.set_cooperating_units(
            county.users["editor_dept"], task, [], expected_version=task.version),
         PermissionDenied),
        ("node: no right", lambda: services.complete_time_node(ed_b, node, dt.date(2026, 3, 1)),
         PermissionDenied),
        ("node: future", lambda: services.complete_time_node(
            ed_a, node, timezone.localdate() + dt.timedelta(days=1)), Refused),
        ("report: no right", lambda: report(ed_b, task, u["town_b"]), PermissionDenied),
        ("report: unit not on task", lambda: report(ed_a, task, u["village_a"]), Refused),
        ("report: for the lead as cooperating unit", lambda: report(
            county.users["editor_dept"], task, u["town_a"]), PermissionDenied),
        ("report: second current", lambda: report(ed_a, task, u["town_a"], period="2026-04"),
         Refused),
        ("report: quarter in monthly programme", lambda: report(ed_a, task, u["town_a"],
                                                                period="2026-Q2"), Refused),
        ("report: progress over 100", lambda: report(ed_a, task, u["town_a"],
                                                     physical_progress="100.01"), Refused),
        ("report: progress not a number", lambda: report(ed_a, task, u["town_a"],
                                                         physical_progress="一半"), Refused),
        ("report: NaN money", lambda: report(ed_a, task, u["town_a"], investment="NaN"), Refused),
        ("report: money too large", lambda: report(ed_a, task, u["town_a"],
                                                   investment="1e20"), Refused),
        ("report: future period", lambda: report(ed_a, task, u["town_a"], period=(
            timezone.localdate() + dt.timedelta(days=40)).strftime("%Y-%m")), Refused),
    ]


def test_every_refusal_writes_nothing(county, make_task):
    from chengzhen.ledger.models import TimeNode

    task = make_task("R", lead="town_a", coop=("dept",))
    node = TimeNode.objects.create(task=task, name="开工", planned_date=dt.date(2026, 3, 1))
    report(county.users["editor_a"], task, county.units["town_a"], period="2026-04")
    task.refresh_from_db()
    for name, action, expected in refusals(county, task, node):
        before = snapshot()
        with pytest.raises(expected):
            action()
        assert snapshot() == before, name


def test_refusal_reasons_are_chinese_and_name_the_column(county, make_task):
    task = make_task("R")
    with pytest.raises(Refused) as exc:
        report(county.users["editor_a"], task, county.units["village_a"])
    assert [p.column for p in exc.value.problems] == ["报送单位"]
    assert "不是任务 R 的牵头单位或配合单位" in str(exc.value)
    with pytest.raises(services.StaleEdit, match="已被他人修改"):
        services.update_task(county.users["supervisor"], task, expected_version=99, name="x")


def test_permission_is_checked_before_the_version(county, make_task):
    task = make_task("R")
    with pytest.raises(PermissionDenied):  # not StaleEdit: nothing about the task is told
        services.update_task(county.users["editor_b"], task, expected_version=99, name="x")


# ---- the audit records name the person ---------------------------------------------------

def test_each_action_is_audited_under_its_user(county, make_task):
    from chengzhen.ledger.models import TimeNode

    u = county.units
    task = make_task("A", lead="town_a")
    node = TimeNode.objects.create(task=task, name="开工", planned_date=dt.date(2026, 3, 1))
    sup, ed_a = county.users["supervisor"], county.users["editor_a"]
    actions = [
        ("create_task", sup, lambda: services.create_task(
            sup, county.programme, code="B", name="乙", lead_unit=u["town_a"],
            start_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 1))),
        ("update_task", ed_a, lambda: services.update_task(
            ed_a, task, expected_version=Task.objects.get(pk=task.pk).version, notes="改")),
        ("set_cooperating_units", sup, lambda: services.set_cooperating_units(
            sup, task, [u["dept"]], expected_version=Task.objects.get(pk=task.pk).version)),
        ("complete_time_node", ed_a, lambda: services.complete_time_node(
            ed_a, node, dt.date(2026, 3, 2))),
        ("submit_report", ed_a, lambda: report(ed_a, task, u["town_a"])),
    ]
    for name, user, action in actions:
        last = AuditRecord.objects.order_by("-seq").values_list("seq", flat=True).first()
        action()
        new = AuditRecord.objects.filter(seq__gt=last)
        assert new.exists(), name
        assert {(r.actor_id, r.actor_username, r.source) for r in new} == {
            (user.pk, user.username, f"service:{name}")}, name


def test_a_request_or_command_keeps_its_source(county, make_task):
    from chengzhen.audit.context import acting_as

    task = make_task("A")
    editor = county.users["editor_a"]
    with acting_as(editor, "command:ledger report"):
        report(editor, task, county.units["town_a"])
    record = AuditRecord.objects.order_by("-seq").first()
    assert (record.actor_username, record.source) == ("editor_a", "command:ledger report")


# ---- reports: supersede, server time, lateness ------------------------------------------------

def test_supersede_chain_keeps_every_report_and_one_current(county, make_task):
    from django.db import IntegrityError, transaction

    task = make_task("S")
    editor, unit = county.users["editor_a"], county.units["town_a"]
    first = report(editor, task, unit, physical_progress="10")
    second = report(editor, task, unit, physical_progress="20", supersede=True)
    third = report(editor, task, unit, physical_progress="30", supersede=True)
    history = list(ProgressReport.objects.filter(task=task).order_by("pk"))
    assert [r.pk for r in history] == [first.pk, second.pk, third.pk]
    assert [r.is_current for r in history] == [False, False, True]
    assert (second.supersedes_id, third.supersedes_id) == (first.pk, second.pk)
    # supersede with nothing to supersede is a plain first report
    other = report(editor, task, unit, period="2026-04", supersede=True)
    assert other.supersedes_id is None and other.is_current
    # the database itself refuses a second current report, whatever path tries it
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressReport.objects.create(task=task, period="2026-05", reporting_unit=unit,
                                      physical_progress=1, submitted_at=timezone.now())
    # the superseded report's audit trail: created, then made non-current by the same person
    changes = AuditRecord.objects.filter(model="ledger.progressreport", object_pk=str(first.pk))
    assert [r.action for r in changes] == ["create", "update"]
    assert {r.actor_username for r in changes} == {"editor_a"}


def test_submitted_at_is_server_time_and_cannot_be_given(county, make_task):
    task = make_task("T")
    editor, unit = county.users["editor_a"], county.units["town_a"]
    with pytest.raises(TypeError):
        report(editor, task, unit, submitted_at=timezone.now() - dt.timedelta(days=30))
    assert not ProgressReport.objects.exists()
    start = timezone.now()
    made = report(editor, task, unit)
    assert start <= made.submitted_at <= timezone.now()
    assert made.reporter == editor and made.reporter_name == "editor_a"


def test_report_values_are_quantised(county, make_task):
    task = make_task("Q")
    made = report(county.users["editor_a"], task, county.units["town_a"],
                  physical_progress=Decimal("33.333"), investment="1234.565")
    made.refresh_from_db()
    assert made.physical_progress == Decimal("33.33")
    assert made.investment == Decimal("1234.57")  # half up, to the fen


def at_shanghai(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.mark.parametrize("period,day,submitted,late", [
    ("2026-Q2", 25, at_shanghai(dt.date(2026, 6, 25), 23, 59), False),
    ("2026-Q2", 25, at_shanghai(dt.date(2026, 6, 26), 0, 1), True),
    ("2026-Q2", 25, at_shanghai(dt.date(2026, 4, 26)), False),  # the quarter's first month
    ("2026-Q2", 31, at_shanghai(dt.date(2026, 6, 30), 23, 59), False),  # 31 → June 30
    ("2026-Q2", 31, at_shanghai(dt.date(2026, 7, 1), 0, 0), True),
    ("2026-Q1", 31, at_shanghai(dt.date(2026, 3, 31), 23, 0), False),
])
def test_quarterly_report_lateness(county, make_task, period, day, submitted, late):
    programme = county.other_programme  # quarterly
    programme.reporting_day = day
    programme.save()
    task = make_task("Q1", programme=programme)
    r = ProgressReport(task=task, period=period, reporting_unit=county.units["town_a"],
                       physical_progress=Decimal(1), submitted_at=submitted)
    assert services.report_is_late(r) is late


def test_lateness_is_judged_on_the_shanghai_calendar(county, make_task):
    task = make_task("L")  # monthly, reporting day 25
    # 2026-05-25 16:30 UTC is 2026-05-26 00:30 in Asia/Shanghai: one day late
    utc_evening = dt.datetime(2026, 5, 25, 16, 30, tzinfo=dt.UTC)
    r = ProgressReport(task=task, period="2026-05", reporting_unit=county.units["town_a"],
                       physical_progress=Decimal(1), submitted_at=utc_evening)
    assert services.report_is_late(r)
    r.submitted_at = dt.datetime(2026, 5, 25, 15, 59, tzinfo=dt.UTC)  # 23:59 in Shanghai
    assert not services.report_is_late(r)


def test_quarterly_programme_takes_quarters_only(county, make_task):
    task = make_task("Q2", programme=county.other_programme)
    editor, unit = county.users["editor_a"], county.units["town_a"]
    with pytest.raises(Refused, match="2026-Q2"):
        report(editor, task, unit, period="2026-05")
    assert report(editor, task, unit, period="2026-q1").period == "2026-Q1"


# ---- tasks -----------------------------------------------------------------------------------

def test_task_validation_rules(county, make_task):
    sup = county.users["supervisor"]
    top, elsewhere = make_task("TOP"), make_task("X", programme=county.other_programme)
    child = make_task("TOP-1", parent=top)

    def problems(task, **changes) -> str:
        with pytest.raises(Refused) as exc:
            services.update_task(sup, task, expected_version=task.version, **changes)
        return str(exc.value)

    assert "不在同一工作计划" in problems(make_task("C2"), parent=elsewhere)
    assert "不能是自己的上级" in problems(top, parent=top)
    assert "已有子任务" in problems(top, parent=make_task("OTHER"))
    assert "台账只有两级" in problems(make_task("C3"), parent=child)
    assert "未知状态" in problems(top, status="delayed")
    assert "权重" in problems(top, weight=Decimal("-1"))
    assert "不是数字" in problems(top, opening_completed_investment="很多")
    assert "早于开始时间" in problems(top, due_date=dt.date(2025, 1, 1))
    # a valid parent is accepted and money is quantised to the fen
    moved = services.update_task(sup, make_task("C4"), expected_version=1, parent=top,
                                 planned_total_investment="10.005")
    assert moved.parent == top and moved.planned_total_investment == Decimal("10.01")


def test_set_cooperating_units_orders_and_versions(county, make_task):
    from chengzhen.ledger.models import Cooperation

    u, sup = county.units, county.users["supervisor"]
    task = make_task("K", coop=("dept",))
    task = services.set_cooperating_units(sup, task, [u["town_b"], u["dept"], u["town_b"]],
                                          expected_version=task.version)
    assert list(Cooperation.objects.filter(task=task).values_list("unit__code", "seq")) == [
        ("411300102000", 0), ("ZJJ", 1)]
    assert task.version == 2
    with pytest.raises(services.StaleEdit):
        services.set_cooperating_units(sup, task, [], expected_version=1)
    services.set_cooperating_units(sup, task, [], expected_version=2)
    assert not Cooperation.objects.filter(task=task).exists()
    deletes = AuditRecord.objects.filter(model="ledger.cooperation", action="delete")
    assert deletes.count() == 2 and {r.actor_username for r in deletes} == {"supervisor"}


def test_time_node_reopen(county, make_task):
    from chengzhen.ledger.models import TimeNode

    node = TimeNode.objects.create(task=make_task("N"), name="竣工", planned_date=dt.date(2026, 6, 1))
    editor = county.users["editor_a"]
    services.complete_time_node(editor, node, dt.date(2026, 5, 30))
    reopened = services.complete_time_node(editor, node, None)
    assert reopened.done_on is None and TimeNode.objects.get(pk=node.pk).done_on is None
