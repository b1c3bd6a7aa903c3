"""Population-weighted coverage (生活圈覆盖率) per facility type × circle × area, the homes left
uncovered, and supply against per-1,000-people provision norms. Pure: NumPy only.

A home counts as covered by a type in a circle when its network distance to the nearest facility
of that type is within the preset's reach for that type and circle (the type's service radius when
the preset gives one, else the circle's minutes × speed). Coverage of an area is the population of
its covered homes over its population — ``np.bincount`` over the area index, so any number of areas
costs one pass. Homes outside every area count in the area ``""`` (全部 is always reported too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .presets import Preset

ALL = "全部"


@dataclass(frozen=True)
class CoverageRow:
    area: str
    type: str
    circle: int
    reach_m: float
    homes: int
    covered_homes: int
    population: float
    covered_population: float

    @property
    def rate(self) -> float | None:
        """Covered share of the population (0–1); None for an area with no population."""
        return self.covered_population / self.population if self.population > 0 else None


def covered(distance_m: np.ndarray, reach_m: float) -> np.ndarray:
    """The homes within ``reach_m`` (an unreachable home, ``inf`` or NaN, never is)."""
    d = np.asarray(distance_m, dtype=float)
    return np.isfinite(d) & (d <= reach_m)


def coverage(distances: Mapping[str, np.ndarray], population: np.ndarray, preset: Preset, *,
             areas: Sequence[str] | None = None, types: Sequence[str] | None = None) -> list[CoverageRow]:
    """Coverage rows for every type the preset requires in a circle (or ``types``) × that circle ×
    each area and 全部, in the preset's order, then areas sorted. ``distances`` maps a type code to
    the homes' network distances; ``areas`` gives each home's area name (None: 全部 only)."""
    pop = np.asarray(population, dtype=float)
    n = len(pop)
    if areas is not None and len(areas) != n:
        raise ValueError("areas and population differ in length")
    names = sorted({str(a) for a in areas}) if areas is not None else []
    index = {a: i for i, a in enumerate(names)}
    area_ix = np.array([index[str(a)] for a in areas], dtype=np.int64) if areas is not None else None
    rows: list[CoverageRow] = []
    for circle in preset.circles:
        wanted = [t for t in (types or circle.requirements) if t in distances]
        for t in wanted:
            reach = preset.reach(t, circle)
            mask = covered(distances[t], reach)
            rows.append(CoverageRow(ALL, t, circle.minutes, reach, n, int(mask.sum()), float(pop.sum()),
                                    float(pop[mask].sum())))
            if area_ix is None:
                continue
            homes = np.bincount(area_ix, minlength=len(names))
            hit = np.bincount(area_ix, weights=mask.astype(float), minlength=len(names))
            total = np.bincount(area_ix, weights=pop, minlength=len(names))
            got = np.bincount(area_ix, weights=pop * mask, minlength=len(names))
            for a, name in enumerate(names):
                rows.append(CoverageRow(name, t, circle.minutes, reach, int(homes[a]), int(hit[a]),
                                        float(total[a]), float(got[a])))
    return rows


def uncovered(distances: Mapping[str, np.ndarray], preset: Preset, type_code: str, circle: int) -> np.ndarray:
    """Indexes of the homes a type does not cover in a circle (the gaps to mark on a map)."""
    return np.flatnonzero(~covered(distances[type_code], preset.reach(type_code, circle)))


@dataclass(frozen=True)
class Supply:
    type: str
    facilities: int
    population: float
    per_1000: float  # facilities per 1,000 people
    norm: float | None  # the preset's norm per 1,000 people, when it gives one
    meets: bool | None


def supply(counts: Mapping[str, int], population: float, norms: Mapping[str, float | None]) -> list[Supply]:
    """Facilities per 1,000 people against the provision norms (None where no norm is given)."""
    out = []
    for t, k in counts.items():
        per = k * 1000 / population if population > 0 else float("nan")
        norm = norms.get(t)
        out.append(Supply(t, int(k), float(population), per, norm, None if norm is None else per >= norm))
    return out
