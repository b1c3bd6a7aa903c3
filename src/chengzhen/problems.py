"""Refused input, reported the same way everywhere (pure: no Django).

Each problem is one line ``FILE:SHEET:ROW:COLUMN: reason``, parts that do not apply left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str = ""
    sheet: str = ""
    row: int | None = None
    column: str = ""
    reason: str = ""

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.sheet, "" if self.row is None else str(self.row),
                             self.column) if p]
        return ":".join(parts) + (": " if parts else "") + self.reason


class Refused(Exception):
    """Input refused as a whole; nothing was written. Carries every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
