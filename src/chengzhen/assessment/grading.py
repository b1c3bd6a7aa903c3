"""Scores as stored, grades (等次) and ranks. Pure: no Django.

Scores are stored as Decimal to two places, rounded half up (四舍五入) from the engine's float64
through its shortest repr, so the same inputs always give the same stored score, on any machine
and on re-scoring. Grades and ranks are computed from those Decimals, never from floats.

Grades: half-open bands ``[min, next min)``, the last band below everything else. A vetoed
subject (一票否决) or one that failed a prerequisite (前置条件) takes the last grade whatever its
score. A quota (e.g. 优秀 ≤ 30%) admits ``floor(share × subjects)`` subjects to the grade, best
first; when subjects tied on the score at the cut would exceed it, ``quota_ties`` decides:
``exclude`` (the default) moves every subject tied at the cut down one grade — the quota is never
exceeded; ``include`` keeps them all. Subjects moved down join the next grade (and its quota).

Ranks: standard competition ranking on the stored total (1, 2, 2, 4 — 并列 share a rank, the next
rank skips); vetoed and prerequisite-failed subjects are ranked after all others, among
themselves by total.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from .framework import GradeScheme

CENT = Decimal("0.01")


def stored(x: float) -> Decimal:
    """A score as stored: two places, half up, from the float's shortest repr."""
    f = float(x)
    if not math.isfinite(f):
        f = 0.0
    d = Decimal(repr(f)).quantize(CENT, rounding=ROUND_HALF_UP)
    return d + 0 if d else Decimal("0.00")  # no negative zero


def band_of(total: Decimal, scheme: GradeScheme) -> int:
    for i, band in enumerate(scheme.bands):
        if band.min is None or total >= band.min:
            return i
    return len(scheme.bands) - 1


def grades(totals: Sequence[Decimal], scheme: GradeScheme, excluded: Sequence[bool] | None = None) -> list[str]:
    """The grade of each subject (see the module docstring for quotas and ties)."""
    n = len(totals)
    excluded = list(excluded) if excluded is not None else [False] * n
    last = len(scheme.bands) - 1
    band = [last if excluded[i] else band_of(totals[i], scheme) for i in range(n)]
    for b, spec in enumerate(scheme.bands[:-1]):
        share = scheme.quota.get(spec.name)
        if share is None:
            continue
        members = sorted((i for i in range(n) if band[i] == b), key=lambda i: -totals[i])
        allowed = math.floor(share * n + 1e-9)
        if len(members) <= allowed:
            continue
        cut = totals[members[allowed]]  # the best total that does not fit
        if scheme.quota_ties == "include" and allowed > 0 and totals[members[allowed - 1]] == cut:
            keep = {i for i in members if totals[i] >= cut}
        else:
            keep = {i for i in members[:allowed] if totals[i] > cut}
        for i in members:
            if i not in keep:
                band[i] = b + 1
    return [scheme.bands[b].name for b in band]


def ranks(totals: Sequence[Decimal], excluded: Sequence[bool] | None = None) -> list[int]:
    """Competition ranks (1, 2, 2, 4); excluded subjects after all others."""
    n = len(totals)
    excluded = list(excluded) if excluded is not None else [False] * n
    order = sorted(range(n), key=lambda i: (excluded[i], -totals[i]))
    out = [0] * n
    for pos, i in enumerate(order):
        prev = order[pos - 1] if pos else None
        if prev is not None and excluded[prev] == excluded[i] and totals[prev] == totals[i]:
            out[i] = out[prev]
        else:
            out[i] = pos + 1
    return out
