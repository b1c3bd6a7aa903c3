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
