"""Population-weighted coverage (生活圈覆盖率) per facility type × circle × area, complete-circle
coverage, the homes left uncovered, and supply against per-1,000-people provision norms (千人指标).
Pure: NumPy only.

A home counts as covered by a type in a circle when its network distance to the nearest facility
of that type is within the preset's reach for that type and circle (the type's service radius when
the preset gives one, else the circle's minutes × speed). Coverage of an area is the population of
its covered homes over its population — ``np.bincount`` over the area index, so any number of areas
costs one pass. Every home counts in 全部 (``ALL``), always reported; the caller names the area of
homes outside every polygon (the run calls it 区域外, ``OUTSIDE``).

Complete-circle coverage (全部必配, type code ``all_required``, ``ALL_REQUIRED``): the share of the
population whose home reaches EVERY facility type the preset requires in that circle, each within
its own reach — the figure an assessment calls “15分钟生活圈覆盖率”. A required type with no
distances at all (absent from the facility file, so nobody reaches it) makes the complete coverage
of that circle zero: the definition asks for every type, and leaving the type out would overstate it.

Supply (``supply``): per circle × required type × area, the facilities of the type in the area
against the preset's norm for that type in that circle. A norm counted in facilities (unit 处、个、
所 …) is compared with the count; a norm in another unit (GB 50180's park norm is m² of 公园绿地面积
per 1,000 people) is compared with the sum of that measure over the area's facilities when the
caller has it (``amounts``), and otherwise not compared at all (``meets`` None, with a note) —
comparing a count of parks with square metres would mean nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .presets import Circle, Norm, Preset

ALL = "全部"
OUTSIDE = "区域外"
ALL_REQUIRED = "all_required"
ALL_REQUIRED_LABEL = "全部必配"
COUNT_UNITS = frozenset({"处", "个", "所", "座", "家", "站", "间"})


@dataclass(frozen=True)
class CoverageRow:
    """One area × type × circle. ``reach_m`` is NaN for the complete-circle row (each type has its own)."""

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


def complete(distances: Mapping[str, np.ndarray], preset: Preset, circle: int | Circle, n_homes: int) -> np.ndarray:
    """The homes reaching every type ``circle`` requires, each within its reach (module docstring); a
    required type missing from ``distances`` is reached by nobody. A circle requiring nothing: all False."""
    c = preset.circle(circle)
    if not c.requirements:
        return np.zeros(n_homes, dtype=bool)
    mask = np.ones(n_homes, dtype=bool)
    for t in c.requirements:
        if t not in distances:
            return np.zeros(n_homes, dtype=bool)
        mask &= covered(distances[t], preset.reach(t, c))
    return mask


def _sorted(names: set[str]) -> list[str]:
    """Area names in order, 区域外 last."""
    return sorted(names, key=lambda a: (a == OUTSIDE, a))


def _index(areas: Sequence[str] | None, n: int) -> tuple[list[str], np.ndarray | None]:
    if areas is None:
        return [], None
    if len(areas) != n:
        raise ValueError("areas and population differ in length")
    seen: dict[str, int] = {}
    first = np.fromiter((seen.setdefault(str(a), len(seen)) for a in areas), dtype=np.int64, count=n)
    names = _sorted(set(seen))
    where = {a: i for i, a in enumerate(names)}
    position = np.array([where[a] for a in seen], dtype=np.int64)  # seen keeps first-seen order
    return names, position[first]


def coverage(distances: Mapping[str, np.ndarray], population: np.ndarray, preset: Preset, *,
             areas: Sequence[str] | None = None, types: Sequence[str] | None = None,
             complete_circle: bool = True) -> list[CoverageRow]:
    """Coverage rows for every type the preset requires in a circle (or ``types``) × that circle ×
    全部 and each area (sorted), in the preset's order; after each circle's types, with
    ``complete_circle``, its 全部必配 rows (``ALL_REQUIRED``, every type the circle requires, whatever
    ``types`` says). ``distances`` maps a type code to the homes' network distances; ``areas`` gives
    each home's area name (None: 全部 only; 区域外 is sorted last)."""
    pop = np.asarray(population, dtype=float)
    n = len(pop)
    names, area_ix = _index(areas, n)
    homes = np.bincount(area_ix, minlength=len(names)) if area_ix is not None else None
    total = np.bincount(area_ix, weights=pop, minlength=len(names)) if area_ix is not None else None
    homes_list = homes.tolist() if homes is not None else []
    total_list = total.tolist() if total is not None else []
    rows: list[CoverageRow] = []

    def add(t: str, minutes: int, reach: float, mask: np.ndarray) -> None:
        rows.append(CoverageRow(ALL, t, minutes, reach, n, int(mask.sum()), float(pop.sum()), float(pop[mask].sum())))
        if area_ix is None:
            return
        hit = np.rint(np.bincount(area_ix, weights=mask.astype(float), minlength=len(names))).astype(np.int64)
        got = np.bincount(area_ix, weights=pop * mask, minlength=len(names))
        # plain Python numbers in one conversion each: at 19,200 areas × 84 rows, per-element
        # NumPy scalars cost seconds
        rows.extend(CoverageRow(name, t, minutes, reach, h, c, p, g) for name, h, c, p, g in
                    zip(names, homes_list, hit.tolist(), total_list, got.tolist(), strict=True))

    for circle in preset.circles:
        for t in [t for t in (types or circle.requirements) if t in distances]:
            reach = preset.reach(t, circle)
            add(t, circle.minutes, reach, covered(distances[t], reach))
        if complete_circle and circle.requirements:
            add(ALL_REQUIRED, circle.minutes, math.nan, complete(distances, preset, circle, n))
    return rows


def uncovered(distances: Mapping[str, np.ndarray], preset: Preset, type_code: str, circle: int) -> np.ndarray:
    """Indexes of the homes a type does not cover in a circle (the gaps to mark on a map)."""
    return np.flatnonzero(~covered(distances[type_code], preset.reach(type_code, circle)))


def gaps(distances: Mapping[str, np.ndarray], preset: Preset, n_homes: int) -> list[tuple[int, str, np.ndarray]]:
    """Every circle × type it requires with the indexes of the homes that type leaves uncovered in
    that circle, as (minutes, type, indexes), in the preset's order; a required type missing from
    ``distances`` leaves every home uncovered (as in the complete-circle coverage)."""
    out = []
    for c in preset.circles:
        for t in c.requirements:
            idx = uncovered(distances, preset, t, c.minutes) if t in distances else np.arange(n_homes)
            out.append((c.minutes, t, idx))
    return out


@dataclass(frozen=True)
class Supply:
    """One circle × required type × area: ``facilities`` of the type in the area, its ``population``,
    the preset's ``norm`` (per 1,000 people, in ``unit`` of ``measure``; None where the preset gives
    none) and ``provided``, the amount in that unit (the count for a count unit or no norm, else the
    sum of ``measure`` over the facilities; None when not known, ``note`` says why)."""

    area: str
    circle: int
    type: str
    facilities: int
    population: float
    norm: float | None
    unit: str
    measure: str
    provided: float | None
    note: str = ""

    @property
    def per_1000(self) -> float | None:
        """What the area has per 1,000 residents, in ``unit`` (None with no population or no amount)."""
        if self.provided is None or self.population <= 0:
            return None
        return self.provided * 1000 / self.population

    @property
    def required(self) -> float | None:
        """What the norm asks for the area's population, in ``unit``."""
        return None if self.norm is None else self.norm * self.population / 1000

    @property
    def meets(self) -> bool | None:
        """Whether the area meets the norm (None: no norm, no population or no amount to compare)."""
        per = self.per_1000
        return None if self.norm is None or per is None else per >= self.norm


def amount_key(norm: Norm) -> str:
    """The name ``supply`` looks up in ``amounts`` for a norm not counted in facilities."""
    return norm.measure or norm.unit


def counted(norm: Norm | None) -> bool:
    """A norm compared with the number of facilities (or no norm: the count is what there is)."""
    return norm is None or norm.unit.strip() in COUNT_UNITS


def supply(preset: Preset, population: np.ndarray, facility_types: Sequence[str], *,
           home_areas: Sequence[str] | None = None, facility_areas: Sequence[str] | None = None,
           amounts: Mapping[str, np.ndarray] | None = None) -> list[Supply]:
    """Supply rows (module docstring) for every circle × type it requires × 全部 and each area named
    by ``home_areas`` (each home's) or ``facility_areas`` (each facility's), sorted; both or neither.
    ``amounts`` maps ``amount_key(norm)`` to one value per facility (NaN where the facility has none)."""
    pop = np.asarray(population, dtype=float)
    kinds = np.asarray(list(facility_types), dtype=object)
    if (home_areas is None) != (facility_areas is None):
        raise ValueError("give both home_areas and facility_areas, or neither")
    if home_areas is not None and (len(home_areas) != len(pop) or len(facility_areas) != len(kinds)):
        raise ValueError("areas differ in length from the homes or the facilities")
    names = _sorted({str(a) for a in home_areas} | {str(a) for a in facility_areas}) if home_areas is not None else []
    index = {a: i + 1 for i, a in enumerate(names)}  # 0 is 全部
    home_ix = np.array([index[str(a)] for a in home_areas], dtype=np.int64) if home_areas is not None else None
    fac_ix = np.array([index[str(a)] for a in facility_areas], dtype=np.int64) if facility_areas is not None else None
    m = len(names) + 1
    people = np.zeros(m)
    people[0] = pop.sum()
    if home_ix is not None:
        people += np.bincount(home_ix, weights=pop, minlength=m)
    rows: list[Supply] = []
    for circle in preset.circles:
        for t, req in circle.requirements.items():
            of_type = kinds == t
            count = np.zeros(m, dtype=np.int64)
            count[0] = int(of_type.sum())
            if fac_ix is not None:
                count += np.bincount(fac_ix[of_type], minlength=m)
            provided, notes = _provided(req.norm, of_type, fac_ix, m, count, amounts or {})
            norm = req.norm
            for a, name in enumerate([ALL, *names]):
                rows.append(Supply(name, circle.minutes, t, int(count[a]), float(people[a]),
                                   None if norm is None else norm.per_1000, "处" if norm is None else norm.unit,
                                   "" if norm is None else norm.measure, provided[a], notes[a]))
    return rows


def _provided(norm: Norm | None, of_type: np.ndarray, fac_ix: np.ndarray | None, m: int, count: np.ndarray,
              amounts: Mapping[str, np.ndarray]) -> tuple[list[float | None], list[str]]:
    """Per area (全部 first): the amount to compare with the norm, and a note where there is none."""
    if counted(norm):
        return [float(k) for k in count], [""] * m
    key = amount_key(norm)
    values = amounts.get(key)
    if values is None:
        return [None] * m, [f"设施数据没有“{key}”，未与以 {norm.unit} 计的指标比较"] * m
    v = np.asarray(values, dtype=float)[of_type]
    ix = np.zeros(len(v), dtype=np.int64) if fac_ix is None else fac_ix[of_type]
    missing = ~np.isfinite(v)
    total = np.zeros(m)
    total[0] = v[~missing].sum()
    lacking = np.zeros(m, dtype=np.int64)
    lacking[0] = int(missing.sum())
    if fac_ix is not None:
        total += np.bincount(ix[~missing], weights=v[~missing], minlength=m)
        lacking += np.bincount(ix[missing], minlength=m)
    provided: list[float | None] = [None if lacking[a] else float(total[a]) for a in range(m)]
    notes = [f"{int(lacking[a])} 处设施缺少“{key}”，未比较" if lacking[a] else "" for a in range(m)]
    return provided, notes
