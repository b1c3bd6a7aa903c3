"""Coverage by type × circle × area under the GB 50180 preset: reach by the type's service radius,
population-weighted rates equal to a direct count, uncovered homes, supply against a norm."""

from __future__ import annotations

import numpy as np
import pytest

from chengzhen.lifecircle.coverage import ALL, coverage, covered, supply, uncovered
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


def test_supply_against_a_norm():
    s = supply({"kindergarten": 3}, 12000, {"kindergarten": 0.2})
    assert s[0].per_1000 == pytest.approx(0.25) and s[0].meets is True
    assert supply({"x": 1}, 1000, {})[0].meets is None
