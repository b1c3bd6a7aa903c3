"""The computed ledger columns in the database agree with the pure rules."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from chengzhen.ledger import progress
from chengzhen.ledger.models import AnnualPlan, ProgressReport, Task
from chengzhen.ledger.queries import with_progress


def report(task, unit, period, pct, money="0"):
    return ProgressReport.objects.create(
        task=task, reporting_unit=unit, period=period, physical_progress=Decimal(pct),
        investment=Decimal(money), submitted_at=timezone.now(),
    )


@pytest.mark.parametrize(
    "start,due,today",
    [
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31), dt.date(2025, 12, 31)),  # before start
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31), dt.date(2026, 1, 1)),  # first day
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31), dt.date(2026, 7, 2)),
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31), dt.date(2026, 12, 31)),  # due day
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31), dt.date(2027, 3, 1)),  # after due
        (dt.date(2028, 2, 28), dt.date(2028, 3, 1), dt.date(2028, 2, 29)),  # leap day
        (dt.date(2026, 5, 5), dt.date(2026, 5, 5), dt.date(2026, 5, 5)),  # one-day task
    ],
)
def test_time_progress_in_database_matches_pure(make_task, start, due, today):
    make_task("T1", start_date=start, due_date=due)
    row = with_progress(Task.objects.all(), today=today).get()
    assert row.time_progress == pytest.approx(progress.time_progress(start, due, today))
    assert row.days_overdue == progress.days_overdue("not_started", due, today)


def test_progress_lagging_investment_and_rollup(county, make_task):
    town_a, dept = county.units["town_a"], county.units["dept"]
    parent = make_task("P", planned_total_investment=Decimal("0"))
    c1 = make_task("P-1", parent=parent, coop=("dept",), planned_total_investment=Decimal("300"),
                   opening_completed_investment=Decimal("10"))
    c2 = make_task("P-2", parent=parent, planned_total_investment=Decimal("100"))
    AnnualPlan.objects.create(task=c1, year=2026, amount=Decimal("200"))
    report(c1, town_a, "2026-04", "20", "50")
    old = report(c1, town_a, "2026-05", "30", "40")
    report(c1, dept, "2026-05", "90", "5.5")  # a cooperating unit's progress does not count
    old.is_current = False
    old.save()
    report(c1, town_a, "2026-05", "40", "45")  # the correction
    report(c2, town_a, "2026-05", "80", "0")
    today = dt.date(2026, 7, 2)  # 序时进度 = 183/365 ≈ 50.1 %
    rows = {t.code: t for t in with_progress(Task.objects.all(), today=today)}
    assert rows["P-1"].physical_progress == pytest.approx(40)
    assert rows["P-1"].lagging is True
    assert rows["P-2"].lagging is False
    assert rows["P-1"].cumulative_investment == Decimal("110.50")  # 10 + 50 + 5.5 + 45
    assert rows["P-1"].year_investment == Decimal("100.50")
    assert rows["P-1"].year_plan == Decimal("200.00")
    assert rows["P-1"].investment_rate == pytest.approx(100.5 / 200)
    expected = progress.rollup([
        progress.Child(Decimal(40), None, Decimal(300)),
        progress.Child(Decimal(80), None, Decimal(100)),
    ])
    assert rows["P"].physical_progress == pytest.approx(float(expected))
    assert float(expected) == pytest.approx(50)
    lagging_codes = set(
        with_progress(Task.objects.all(), today=today).filter(lagging=True)
        .values_list("code", flat=True)
    )
    assert lagging_codes == {"P", "P-1"}


def test_postgresql_runs_without_jit(db):
    """JIT compiled a ledger list query for over a second to save milliseconds."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's setting")
    with connection.cursor() as cur:
        cur.execute("SHOW jit")
        assert cur.fetchone()[0] == "off"


def test_a_parent_takes_its_childrens_progress_never_its_own_report(county, make_task):
    town_a = county.units["town_a"]
    parent = make_task("P")
    make_task("P-1", parent=parent)  # no report yet: 0
    report(parent, town_a, "2026-05", "99", "0")  # a report on the parent itself is ignored
    alone = make_task("S")
    report(alone, town_a, "2026-05", "35", "0")
    rows = {t.code: t for t in with_progress(Task.objects.all(), today=dt.date(2026, 7, 2))}
    assert rows["P"].physical_progress == 0.0 and rows["S"].physical_progress == 35.0
