"""Coverage by type × circle × area under the GB 50180 preset: reach by the type's service radius,
population-weighted rates equal to a direct count, uncovered homes; complete-circle coverage
(全部必配) equal to a home-by-home check of every required type; supply against count and area
norms per area."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chengzhen.lifecircle.coverage import ALL, ALL_REQUIRED, complete, coverage, covered, gaps, supply, uncovered
from chengzhen.lifecircle.presets import Preset


@pytest.fixture(scope="module")
def gb():
    return Preset.load("gb50180-2018")


def _kindergarten(preset) -> str:
    return next(t for c in preset.circles for t, r in c.requirements.items() if r.radius_m == 300)


def test_coverage_equals_a_direct_count(gb):
    kg = _kindergarten(gb)
    circle = next(c for c in gb.circles if kg in c.requirements)
    rng = np.random.default_rng(7)
    d = rng.uniform(0, 900, 500)
    d[::50] = np.inf  # unreachable homes
    pop = rng.integers(1, 400, 500).astype(float)
    areas = rng.choice(["甲社区", "乙社区", "丙社区"], 500)
    rows = [r for r in coverage({kg: d}, pop, gb, areas=list(areas)) if r.type == kg and r.circle == circle.minutes]
    assert rows[0].area == ALL and rows[0].reach_m == 300
    inside = np.isfinite(d) & (d <= 300)
    assert rows[0].covered_population == pytest.approx(pop[inside].sum())
    for r in rows[1:]:
        m = areas == r.area
        assert r.rate == pytest.approx(pop[m & inside].sum() / pop[m].sum())
        assert r.homes == int(m.sum()) and r.covered_homes == int((m & inside).sum())
    gaps = uncovered({kg: d}, gb, kg, circle.minutes)
    assert set(gaps) == set(np.flatnonzero(~inside))
    assert not covered(np.array([np.nan, np.inf]), 300).any()


PRESET = """\
code: test
name: 测试标准
sources: [测试]
circles:
  - minutes: 5
    mode: walk
    speed_m_per_min: 60
    facilities:
      - {type: kindergarten, radius_m: 300, norm: {per_1000: 0.2, unit: 所}}
      - {type: community_park, norm: {per_1000: 1000, unit: m², measure: 公园绿地面积}}
  - minutes: 15
    mode: walk
    distance_m: 1000
    facilities: [kindergarten, primary_school]
"""


@pytest.fixture
def small(tmp_path):
    (tmp_path / "p.yaml").write_text(PRESET, encoding="utf-8")
    return Preset.load(tmp_path / "p.yaml")


def test_complete_circle_coverage_is_every_required_type_home_by_home(gb, small):
    rng = np.random.default_rng(11)
    n = 300
    d = {t: rng.uniform(0, 1500, n) for t in ("kindergarten", "community_park", "primary_school")}
    d["primary_school"][::7] = np.inf
    pop = rng.integers(1, 50, n).astype(float)
    areas = list(rng.choice(["甲", "乙"], n))
    rows = coverage(d, pop, small, areas=areas)
    for c in small.circles:
        ok = np.array([all(d[t][i] <= small.reach(t, c) for t in c.requirements) for i in range(n)])
        assert np.array_equal(complete(d, small, c.minutes, n), ok)
        got = {r.area: r for r in rows if r.type == ALL_REQUIRED and r.circle == c.minutes}
        assert set(got) == {ALL, "甲", "乙"} and math.isnan(got[ALL].reach_m)
        assert got[ALL].covered_population == pytest.approx(pop[ok].sum())
        m = np.array(areas) == "甲"
        assert got["甲"].rate == pytest.approx(pop[m & ok].sum() / pop[m].sum())
        assert got["乙"].covered_homes == int((~m & ok).sum())
    # the complete rows follow each circle's types
    assert [r.type for r in rows if r.area == ALL] == ["kindergarten", "community_park", ALL_REQUIRED,
                                                       "kindergarten", "primary_school", ALL_REQUIRED]
    # a required type the facilities lack: nobody reaches every type, and every home is its gap
    del d["community_park"]
    five = [r for r in coverage(d, pop, small) if r.circle == 5 and r.type == ALL_REQUIRED]
    assert five[0].covered_population == 0 and five[0].population == pytest.approx(pop.sum())
    found = {(minutes, t): idx for minutes, t, idx in gaps(d, small, n)}
    assert len(found[(5, "community_park")]) == n
    assert set(found[(15, "primary_school")]) == set(uncovered(d, small, "primary_school", 15))
    assert not complete({}, gb, 5, 3).any()


def test_supply_against_count_and_area_norms_per_area(small):
    pop = np.array([4000.0, 6000.0, 2000.0])
    home_areas = ["甲", "甲", "乙"]
    kinds = ["kindergarten", "kindergarten", "community_park", "community_park", "primary_school"]
    fac_areas = ["甲", "乙", "甲", "丙", "甲"]
    park = np.array([np.nan, np.nan, 12000.0, 500.0, np.nan])
    rows = supply(small, pop, kinds, home_areas=home_areas, facility_areas=fac_areas,
                  amounts={"公园绿地面积": park})
    by = {(s.circle, s.type, s.area): s for s in rows}
    kg = by[(5, "kindergarten", ALL)]
    assert (kg.facilities, kg.population, kg.unit, kg.provided) == (2, 12000.0, "所", 2.0)
    assert kg.per_1000 == pytest.approx(2 / 12) and kg.required == pytest.approx(2.4) and kg.meets is False
    assert by[(5, "kindergarten", "甲")].per_1000 == pytest.approx(0.1) and by[(5, "kindergarten", "甲")].meets is False
    assert by[(5, "kindergarten", "乙")].per_1000 == pytest.approx(0.5) and by[(5, "kindergarten", "乙")].meets is True
    assert by[(5, "kindergarten", "丙")].population == 0 and by[(5, "kindergarten", "丙")].meets is None
    p = by[(5, "community_park", "甲")]
    assert (p.facilities, p.provided, p.unit, p.measure) == (1, 12000.0, "m²", "公园绿地面积")
    assert p.per_1000 == pytest.approx(1200.0) and p.meets is True
    assert by[(5, "community_park", ALL)].provided == pytest.approx(12500.0)
    assert by[(15, "primary_school", "甲")].norm is None and by[(15, "primary_school", "甲")].meets is None
    assert by[(15, "primary_school", "甲")].provided == 1.0
    # no amounts: the m² norm is not compared with a count of parks
    bare = {(s.circle, s.type, s.area): s for s in supply(small, pop, kinds)}
    assert set(a for _c, _t, a in bare) == {ALL}
    assert bare[(5, "community_park", ALL)].meets is None and "公园绿地面积" in bare[(5, "community_park", ALL)].note
    # a park without its area: that area's figure is unknown, not understated
    park[2] = np.nan
    gap = {(s.type, s.area): s for s in supply(small, pop, kinds, home_areas=home_areas, facility_areas=fac_areas,
                                               amounts={"公园绿地面积": park}) if s.circle == 5}
    assert gap[("community_park", "甲")].provided is None and "1 处设施缺少" in gap[("community_park", "甲")].note
    assert gap[("community_park", "丙")].provided == 500.0
