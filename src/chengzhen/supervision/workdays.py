"""Working days (工作日) from the holiday and make-up-day calendar (节假日/调休). Pure: no Django.

A day is a working day when it is a weekday that is not a holiday, or a weekend day declared a
make-up working day (调休上班). Counting works over a window of days as one cumulative array,
so counting and adding working days for 50,000 tasks are a couple of NumPy index operations.
NumPy's own ``busday_count`` has holidays but no make-up days, which Chinese calendars need.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

CALENDAR, WORKING = "calendar", "working"
DAY_COUNTS = (CALENDAR, WORKING)


@dataclass(frozen=True)
class WorkCalendar:
    """Holidays (放假) and make-up working days (调休上班), each a date with its name."""

    holidays: dict[dt.date, str] = field(default_factory=dict)
    workdays: dict[dt.date, str] = field(default_factory=dict)

    def __post_init__(self):
        both = set(self.holidays) & set(self.workdays)
        if both:
            raise ValueError(f"{min(both)} is both a holiday and a make-up working day")

    def years(self) -> set[int]:
        """The years the calendar has any entry for."""
        return {d.year for d in (*self.holidays, *self.workdays)}

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5

    def window(self, first: dt.date, last: dt.date) -> Window:
        """A counting window covering ``first``..``last`` (padded; dates outside are clipped
        to its ends, which only matters for dates decades away)."""
        return Window(self, first - dt.timedelta(days=1), last + dt.timedelta(days=400))


class Window:
    """Cumulative working days over a span of dates: ``cum[i]`` = working days in
    [start, start + i]."""

    def __init__(self, calendar: WorkCalendar, start: dt.date, end: dt.date):
        self.start = np.datetime64(start, "D")
        n = (end - start).days + 1
        days = self.start + np.arange(n)
        weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (3)
        working = weekday < 5
        for d in calendar.holidays:
            i = (d - start).days
            if 0 <= i < n:
                working[i] = False
        for d in calendar.workdays:
            i = (d - start).days
            if 0 <= i < n:
                working[i] = True
        self.working = working
        self.cum = np.cumsum(working)

    def _index(self, days: np.ndarray) -> np.ndarray:
        i = (days - self.start).astype("int64")
        return np.clip(i, 0, len(self.cum) - 1)

    def between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Working days in (a, b] — negative when b is before a."""
        return self.cum[self._index(b)] - self.cum[self._index(a)]

    def add(self, a: np.ndarray, n: np.ndarray | int) -> np.ndarray:
        """The day on which the n-th working day after ``a`` falls (n ≥ 0; n = 0 gives a)."""
        target = self.cum[self._index(a)] + n
        i = np.searchsorted(self.cum, target, side="left")
        out = self.start + np.minimum(i, len(self.cum) - 1)
        return np.where(np.asarray(n) == 0, a, out)


def count_days(a: np.ndarray, b: np.ndarray, day_count: str, window: Window | None) -> np.ndarray:
    """Days from ``a`` to ``b`` (b − a) in calendar days, or working days in (a, b]."""
    if day_count == WORKING:
        if window is None:
            raise ValueError("working days need a calendar window")
        return window.between(a, b)
    return (b - a).astype("int64")


def add_days(a: np.ndarray, n, day_count: str, window: Window | None) -> np.ndarray:
    """``a`` plus ``n`` calendar days, or the n-th working day after ``a``."""
    if day_count == WORKING:
        if window is None:
            raise ValueError("working days need a calendar window")
        return window.add(a, n)
    return a + np.asarray(n).astype("timedelta64[D]")


def load_calendar(entries: Iterable[tuple[dt.date, str, str]]) -> WorkCalendar:
    """A calendar from (date, kind, name) rows; kind is "holiday" or "workday"."""
    holidays, workdays = {}, {}
    for day, kind, name in entries:
        (holidays if kind == "holiday" else workdays)[day] = name
    return WorkCalendar(holidays, workdays)
