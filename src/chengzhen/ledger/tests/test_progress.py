"""Pure ledger rules, without a database."""

import datetime as dt
from decimal import Decimal

import pytest

from chengzhen.ledger import progress as P


def test_time_progress_edges():
    start, due = dt.date(2026, 1, 1), dt.date(2026, 1, 10)
    assert P.time_progress(start, due, dt.date(2025, 12, 31)) == 0
    assert P.time_progress(start, due, start) == pytest.approx(0.1)  # today counts
    assert P.time_progress(start, due, due) == 1
    assert P.time_progress(start, due, dt.date(2026, 2, 1)) == 1
    assert P.time_progress(dt.date(2028, 2, 28), dt.date(2028, 3, 1), dt.date(2028, 2, 29)) == (
        pytest.approx(2 / 3))
    with pytest.raises(ValueError):
        P.time_progress(due, start, start)


def test_lagging_and_overdue():
    assert P.is_lagging("in_progress", Decimal("49.9"), 0.5)
    assert not P.is_lagging("in_progress", Decimal("50"), 0.5)
    assert not P.is_lagging("completed", 0, 1.0) and not P.is_lagging("closed", 0, 1.0)
    assert P.days_overdue("in_progress", dt.date(2026, 5, 1), dt.date(2026, 5, 4)) == 3
    assert P.days_overdue("in_progress", dt.date(2026, 5, 1), dt.date(2026, 5, 1)) == 0
    assert P.days_overdue("completed", dt.date(2026, 5, 1), dt.date(2026, 6, 1)) == 0


def test_rollup_weights():
    c = P.Child
    # explicit weights win over planned investment
    assert P.rollup([c(Decimal(100), Decimal(1), Decimal(900)),
                     c(Decimal(0), Decimal(3), Decimal(100))]) == 25
    # default weight: planned investment
    assert P.rollup([c(Decimal(100), None, Decimal(300)), c(Decimal(0), None, Decimal(100))]) == 75
    # no weight anywhere: children count equally
    assert P.rollup([c(Decimal(30), None), c(Decimal(60), None)]) == 45
    with pytest.raises(ValueError):
        P.rollup([])


@pytest.mark.parametrize("key,first,last", [
    ("2026-05", dt.date(2026, 5, 1), dt.date(2026, 5, 31)),
    ("2028-02", dt.date(2028, 2, 1), dt.date(2028, 2, 29)),
    ("2026-q2", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
    ("2026-Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
])
def test_periods(key, first, last):
    p = P.parse_period(key)
    assert (p.first_day, p.last_day) == (first, last)


@pytest.mark.parametrize("bad", ["2026-5", "2026-13", "2026Q2", "2026-Q5", "五月", ""])
def test_bad_periods(bad):
    with pytest.raises(ValueError):
        P.parse_period(bad)


def test_reporting_deadline_and_lateness():
    q2 = P.parse_period("2026-Q2")
    assert P.reporting_deadline(q2, 25) == dt.date(2026, 6, 25)  # in the quarter's last month
    assert P.reporting_deadline(P.parse_period("2026-06"), 31) == dt.date(2026, 6, 30)
    assert P.reporting_deadline(P.parse_period("2027-02"), 30) == dt.date(2027, 2, 28)
    assert not P.is_late(q2, 25, dt.date(2026, 6, 25))
    assert P.is_late(q2, 25, dt.date(2026, 6, 26))
    assert P.period_of(dt.date(2026, 11, 24), "quarterly").key == "2026-Q4"
    assert P.period_of(dt.date(2026, 11, 24), "monthly").key == "2026-11"


# ---- further edges ----------------------------------------------------------------------

@pytest.mark.parametrize("today,expected", [
    (dt.date(2028, 2, 28), 0.0),  # the day before the start
    (dt.date(2028, 2, 29), 1.0),  # a one-day task on its (leap) day
    (dt.date(2028, 3, 1), 1.0),
])
def test_one_day_task_on_leap_day(today, expected):
    leap = dt.date(2028, 2, 29)
    assert P.time_progress(leap, leap, today) == expected


def test_time_progress_across_leap_february():
    start, due = dt.date(2028, 2, 1), dt.date(2028, 2, 29)  # 29 days
    assert P.time_progress(start, due, dt.date(2028, 2, 28)) == pytest.approx(28 / 29)
    assert P.time_progress(start, due, due) == 1
    # a non-leap year's February has 28 days: the 28th finishes it
    assert P.time_progress(dt.date(2027, 2, 1), dt.date(2027, 2, 28), dt.date(2027, 2, 28)) == 1
    # a whole leap year: 366 days, the leap day is day 60
    year = (dt.date(2028, 1, 1), dt.date(2028, 12, 31))
    assert P.time_progress(*year, dt.date(2028, 2, 29)) == pytest.approx(60 / 366)


def test_rollup_zero_and_explicit_weights():
    c = P.Child
    # explicit zero weights everywhere: counted equally, not divided by zero
    assert P.rollup([c(Decimal(20), Decimal(0)), c(Decimal(40), Decimal(0))]) == 30
    # an explicit zero weight drops that child when others weigh something
    assert P.rollup([c(Decimal(100), Decimal(0), Decimal(500)),
                     c(Decimal(40), None, Decimal(100))]) == 40
    # explicit weight beside a default (planned investment) weight
    assert P.rollup([c(Decimal(100), Decimal(100)), c(Decimal(0), None, Decimal(300))]) == 25
    # one child: its own progress
    assert P.rollup([c(Decimal("66.6"), None)]) == Decimal("66.6")


@pytest.mark.parametrize("bad", ["2026-00", "0000-01", "2026-Q0", "26-05", "2026-05-01",
                                 "2026年5月", None, 202605])
def test_more_bad_periods(bad):
    with pytest.raises(ValueError, match="报送期"):
        P.parse_period(bad)


def test_period_keys_are_normalised():
    assert P.parse_period(" 2026-q3 ").key == "2026-Q3"
    assert P.parse_period("2026-Q1").year == 2026


@pytest.mark.parametrize("period,day,deadline", [
    ("2026-Q1", 25, dt.date(2026, 3, 25)),  # a quarter's reporting day is in its last month
    ("2026-Q1", 31, dt.date(2026, 3, 31)),
    ("2026-Q2", 31, dt.date(2026, 6, 30)),  # day 31 in a 30-day month: the month's last day
    ("2026-Q3", 31, dt.date(2026, 9, 30)),
    ("2028-02", 30, dt.date(2028, 2, 29)),  # leap February
    ("2026-04", 1, dt.date(2026, 4, 1)),
])
def test_reporting_deadline_edges(period, day, deadline):
    p = P.parse_period(period)
    assert P.reporting_deadline(p, day) == deadline
    assert not P.is_late(p, day, deadline)
    assert P.is_late(p, day, deadline + dt.timedelta(days=1))


def test_period_of_rejects_unknown_cycle():
    with pytest.raises(ValueError):
        P.period_of(dt.date(2026, 1, 1), "weekly")
