"""Pure rules of the ledger (no Django): 序时进度, 滞后, overdue, roll-up and reporting periods.

The database expressions in ``queries.py`` compute the same things for lists; the tests check
that both agree at the edges.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

FINISHED = frozenset({"completed", "closed"})


def time_progress(start: dt.date, due: dt.date, today: dt.date) -> float:
    """序时进度: the share of the task's calendar days elapsed, today included, in [0, 1].

    ``clamp((today − start + 1) / (due − start + 1), 0, 1)``; a one-day task is 1 on its day.
    """
    if due < start:
        raise ValueError(f"due date {due} is before start date {start}")
    share = ((today - start).days + 1) / ((due - start).days + 1)
    return min(1.0, max(0.0, share))


def is_lagging(status: str, physical_progress: float | Decimal, time_share: float) -> bool:
    """滞后: not finished and 形象进度 (percent) below 序时进度 (as a percentage)."""
    return status not in FINISHED and float(physical_progress) < time_share * 100


def days_overdue(status: str, due: dt.date, today: dt.date) -> int:
    """Days past the due date for an unfinished task; 0 otherwise."""
    if status in FINISHED:
        return 0
    return max(0, (today - due).days)


@dataclass(frozen=True)
class Child:
    progress: Decimal  # percent, 0–100
    weight: Decimal | None  # explicit weight, else None
    planned_investment: Decimal = Decimal(0)


def rollup(children: Sequence[Child]) -> Decimal:
    """A parent's 形象进度 from its children, weighted.

    Each child's weight is its explicit weight, else its planned total investment. When the
    weights add up to zero (e.g. no investment planned anywhere), children count equally.
    """
    if not children:
        raise ValueError("a roll-up needs at least one child task")
    weights = [c.weight if c.weight is not None else c.planned_investment for c in children]
    total = sum(weights, Decimal(0))
    if total <= 0:
        return sum((c.progress for c in children), Decimal(0)) / len(children)
    return sum((c.progress * w for c, w in zip(children, weights, strict=True)), Decimal(0)) / total


# ---- reporting periods -------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_DEKAD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])-D([1-3])$")
DEKAD_NAMES = ("上旬", "中旬", "下旬")


@dataclass(frozen=True)
class Period:
    """A reporting period: ``2026-05`` (monthly), ``2026-Q2`` (quarterly) or ``2026-05-D2``
    (a 旬: D1 = days 1–10, D2 = 11–20, D3 = 21 to the month's end)."""

    key: str
    first_day: dt.date
    last_day: dt.date

    @property
    def year(self) -> int:
        return self.first_day.year


def parse_period(key: str) -> Period:
    """The reporting period (报送期) named ``2026-05``, ``2026-Q2`` or ``2026-05-D1``;
    ValueError otherwise."""
    if not isinstance(key, str):
        raise ValueError(f"报送期 {key!r} 应写作 2026-05（按月）、2026-Q2（按季度）或 2026-05-D1（按旬）")
    key = key.strip().upper()
    if key[:4] == "0000":
        raise ValueError(f"报送期 {key!r} 的年份无效")
    if m := _MONTH.match(key):
        y, mo = int(m[1]), int(m[2])
        return Period(key, dt.date(y, mo, 1), dt.date(y, mo, calendar.monthrange(y, mo)[1]))
    if m := _QUARTER.match(key):
        y, q = int(m[1]), int(m[2])
        last_month = q * 3
        return Period(
            key,
            dt.date(y, last_month - 2, 1),
            dt.date(y, last_month, calendar.monthrange(y, last_month)[1]),
        )
    if m := _DEKAD.match(key):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
        last = calendar.monthrange(y, mo)[1] if d == 3 else d * 10
        return Period(key, dt.date(y, mo, d * 10 - 9), dt.date(y, mo, last))
    raise ValueError(f"报送期 {key!r} 应写作 2026-05（按月）、2026-Q2（按季度）或 2026-05-D1（按旬）")


def period_of(day: dt.date, cycle: str) -> Period:
    """The period of ``cycle`` ("monthly", "quarterly" or "dekad") containing ``day``."""
    if cycle == "monthly":
        return parse_period(f"{day.year}-{day.month:02d}")
    if cycle == "quarterly":
        return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    if cycle == "dekad":
        return parse_period(f"{day.year}-{day.month:02d}-D{min(3, (day.day - 1) // 10 + 1)}")
    raise ValueError(f"unknown reporting cycle {cycle!r}")


def cycle_of(period: Period) -> str:
    """The reporting cycle a period key belongs to: "monthly", "quarterly" or "dekad"."""
    if "Q" in period.key:
        return "quarterly"
    return "dekad" if len(period.key) == 10 else "monthly"


EXAMPLES = {"monthly": "2026-05", "quarterly": "2026-Q2", "dekad": "2026-05-D1"}


def previous_period(period: Period, cycle: str) -> Period:
    """The period of ``cycle`` just before ``period``."""
    return period_of(period.first_day - dt.timedelta(days=1), cycle)


def reporting_deadline(period: Period, reporting_day: int) -> dt.date:
    """The period's reporting day, in its last month; a day past the month's end is its last.
    A 旬's reporting day is its last day."""
    last = period.last_day
    if cycle_of(period) == "dekad":
        return last
    return last.replace(day=min(reporting_day, last.day))


def is_late(period: Period, reporting_day: int, submitted_on: dt.date) -> bool:
    """A report is late once its period's reporting day has passed."""
    return submitted_on > reporting_deadline(period, reporting_day)
