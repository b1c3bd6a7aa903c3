"""Scoring rules: each rule at its boundaries (threshold exactly, float noise, strict ops, caps, vetoes, missing
values, zero denominators), the registry contract, parameter checks, describe(), and finiteness on random input."""

from __future__ import annotations

import numpy as np
import pytest

from chengzhen.assessment.rules import (
    CASES,
    RULES,
    Param,
    RuleOutput,
    describe,
    fmt_number,
    fmt_value,
    ratio,
)

NAN = np.nan
EPS = 1e-12  # float noise that must not change a verdict


def run(code: str, inputs: dict, params: dict, points: float = 10.0, direction: str = "higher") -> RuleOutput:
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
    out = RULES[code].fn(arrays, params, points, direction)
    n = len(next(iter(arrays.values())))
    assert out.score.shape == (n,) and out.score.dtype == np.float64
    assert out.case.shape == (n,) and out.case.dtype == np.int8
    assert np.all(np.isfinite(out.score)) and np.all(out.score >= 0) and np.all(out.score <= max(points, 0))
    assert np.all((out.case >= 0) & (out.case < len(CASES[code])))
    for arr in out.extra.values():
        assert arr.shape == (n,) and np.all(np.isfinite(arr))
    return out


def cases(code: str, out: RuleOutput) -> list[str]:
    return [CASES[code][i] for i in out.case]


# ---------------------------------------------------------------- registry


def test_registry_codes_and_cases():
    assert (
        set(RULES)
        == set(CASES)
        == {
            "threshold",
            "linear",
            "steps",
            "deduction",
            "proportional",
            "bonus",
            "veto",
            "prerequisite",
            "satisfaction",
            "composite",
        }
    )
    for code, rule in RULES.items():
        assert rule.code == code
        assert CASES[code][0] == "missing"
        assert len(set(CASES[code])) == len(CASES[code])
        names = [p.name for p in rule.params]
        assert len(set(names)) == len(names)
        for p in rule.params:
            assert isinstance(p, Param)
            assert p.kind in {"number", "count", "op", "steps", "options", "years", "choice", "bool"}
            assert p.help
        assert rule.check is not None


def test_registry_flags():
    assert [c for c, r in RULES.items() if not r.awards_points] == ["veto", "prerequisite"]
    assert [c for c, r in RULES.items() if r.bonus] == ["bonus"]
    assert CASES["veto"] == ("missing", "clear", "vetoed")


def test_registry_class_dependent_params():
    by_class = {c: {p.name for p in r.params if p.by_class} for c, r in RULES.items()}
    assert by_class["threshold"] == {"target", "low", "high"}
    assert by_class["linear"] == {"floor", "target", "low", "high"}
    assert by_class["prerequisite"] == {"target", "low", "high"}
    assert by_class["satisfaction"] == {"floor", "target"}
    assert by_class["deduction"] == set()


def test_registry_inputs():
    assert RULES["threshold"].inputs({"target": 35}) == (("value", "数值"),)
    assert RULES["linear"].inputs({}) == (("value", "数值"),)
    assert [c for c, _l in RULES["deduction"].inputs({"per": 2})] == ["count"]
    assert [c for c, _l in RULES["veto"].inputs({})] == ["count"]
    assert [c for c, _l in RULES["bonus"].inputs({"per": 1, "cap": 5})] == ["count"]
    assert RULES["satisfaction"].inputs({}) == (("value", "满意度"),)
    opts = {"options": {"满意": 100, "基本满意": 60, "不满意": 0}}
    assert [c for c, _l in RULES["satisfaction"].inputs(opts)] == ["满意", "基本满意", "不满意"]
    years = {"years": [{"label": "2021年", "weight": 0.15}, {"label": "2022年", "weight": 0.25}]}
    assert RULES["composite"].inputs(years) == (("2021年", "2021年得分"), ("2022年", "2022年得分"))
    assert RULES["composite"].inputs({"years": "garbage"}) == ()  # never crashes on an invalid framework


def test_empty_subjects():
    for code, params in VALID.items():
        out = RULES[code].fn({c: np.zeros(0) for c, _l in RULES[code].inputs(params)}, params, 10.0, "higher")
        assert out.score.shape == (0,)


# ---------------------------------------------------------------- threshold


def test_threshold_exactly_at_target_and_noise():
    out = run("threshold", {"value": [35, 35 - EPS, 35 + EPS, 35 - 1e-6, 36]}, {"target": 35.0}, 5)
    assert cases("threshold", out) == ["met", "met", "met", "not_met", "met"]
    assert out.score.tolist() == [5, 5, 5, 0, 5]


def test_threshold_strict_op():
    out = run("threshold", {"value": [35, 35 + EPS, 35 - EPS, 35.001]}, {"target": 35.0, "op": ">"}, 5)
    assert cases("threshold", out) == ["not_met", "not_met", "not_met", "met"]


def test_threshold_lower_default_and_strict():
    out = run("threshold", {"value": [35, 35 + EPS, 36, 30]}, {"target": 35.0}, 5, "lower")
    assert cases("threshold", out) == ["met", "met", "not_met", "met"]
    out = run("threshold", {"value": [35, 35 - EPS, 34.9]}, {"target": 35.0, "op": "<"}, 5, "lower")
    assert cases("threshold", out) == ["not_met", "not_met", "met"]


def test_threshold_op_overrides_direction_default():
    out = run("threshold", {"value": [0.7, 0.8]}, {"target": 0.7, "op": "<="}, 5, "higher")
    assert cases("threshold", out) == ["met", "not_met"]


def test_threshold_zero_target_noise():
    out = run("threshold", {"value": [0, 1e-15, -1e-15, 1e-6]}, {"target": 0.0}, 5, "lower")
    assert cases("threshold", out) == ["met", "met", "met", "not_met"]


def test_threshold_relative_tolerance_on_large_numbers():
    out = run("threshold", {"value": [1e8 * (1 - 5e-10), 1e8 * (1 - 5e-9)]}, {"target": 1e8}, 5)
    assert cases("threshold", out) == ["met", "not_met"]


def test_threshold_partial_points():
    out = run("threshold", {"value": [30, 40]}, {"target": 35.0, "partial": 2.0}, 5)
    assert out.score.tolist() == [2, 5]
    out = run("threshold", {"value": [30]}, {"target": 35.0, "partial": 9.0}, 5)  # partial above points is clipped
    assert out.score.tolist() == [5]


def test_threshold_missing():
    out = run("threshold", {"value": [NAN, np.inf, 40]}, {"target": 35.0}, 5)
    assert cases("threshold", out) == ["missing", "missing", "met"]
    assert out.score.tolist() == [0, 0, 5]


def test_threshold_class_dependent_target():
    target = np.array([7.5, 8.0, 9.0, 8.0])
    out = run("threshold", {"value": [7.6, 7.6, 9.0, 8.0 - EPS]}, {"target": target}, 10)
    assert cases("threshold", out) == ["met", "not_met", "met", "met"]


def test_threshold_class_without_value_is_missing():
    out = run("threshold", {"value": [9.0, 9.0]}, {"target": np.array([8.0, NAN])}, 10)
    assert cases("threshold", out) == ["met", "missing"]
    assert out.score.tolist() == [10, 0]


def test_threshold_band_inclusive():
    values = [35, 40, 35 - EPS, 40 + EPS, 34.9, 40.1, 37]
    out = run("threshold", {"value": values}, {"low": 35.0, "high": 40.0}, 5, "band")
    assert cases("threshold", out) == ["met", "met", "met", "met", "not_met", "not_met", "met"]


def test_threshold_band_by_class():
    params = {"low": np.array([30.0, 35.0]), "high": np.array([40.0, 45.0])}
    out = run("threshold", {"value": [32, 32]}, params, 5, "band")
    assert cases("threshold", out) == ["met", "not_met"]


# ---------------------------------------------------------------- linear


def test_linear_higher():
    values = [33.1, 35, 35 - EPS, 36, 30, 30 + EPS, 28, 32.5]
    out = run("linear", {"value": values}, {"floor": 30.0, "target": 35.0}, 10)
    assert cases("linear", out) == ["partial", "full", "full", "full", "zero", "zero", "zero", "partial"]
    assert out.score == pytest.approx([6.2, 10, 10, 10, 0, 0, 0, 5])
    assert out.extra["ratio"] == pytest.approx([0.62, 1, 1, 1, 0, 0, 0, 0.5])


def test_linear_lower():
    values = [0.8, 0.7, 0.7 + EPS, 0.6, 0.9, 1.0]
    out = run("linear", {"value": values}, {"floor": 0.9, "target": 0.7}, 4, "lower")
    assert cases("linear", out) == ["partial", "full", "full", "full", "zero", "zero"]
    assert out.score == pytest.approx([2, 4, 4, 4, 0, 0])


def test_linear_band():
    params = {"low": 35.0, "high": 40.0, "margin": 5.0}
    values = [37, 35, 40, 32.5, 30, 29, 42, 45, 50, 35 - EPS]
    out = run("linear", {"value": values}, params, 10, "band")
    assert cases("linear", out) == [
        "full",
        "full",
        "full",
        "partial",
        "zero",
        "zero",
        "partial",
        "zero",
        "zero",
        "full",
    ]
    assert out.score == pytest.approx([10, 10, 10, 5, 0, 0, 6, 0, 0, 10])
    assert out.extra["deviation"] == pytest.approx([0, 0, 0, 2.5, 5, 6, 2, 5, 10, 0], abs=1e-9)


def test_linear_class_dependent():
    params = {"floor": np.array([5.0, 6.0]), "target": np.array([7.5, 8.0])}
    out = run("linear", {"value": [7.0, 7.0]}, params, 10)
    assert out.score == pytest.approx([8.0, 5.0])


def test_linear_degenerate_class_params_do_not_divide_by_zero():
    params = {"floor": np.array([8.0, 8.0]), "target": np.array([8.0, 8.0])}
    out = run("linear", {"value": [8.0, 7.9]}, params, 10)
    assert out.score.tolist() == [10, 0]


def test_linear_missing():
    out = run("linear", {"value": [NAN, -np.inf]}, {"floor": 30.0, "target": 35.0}, 10)
    assert cases("linear", out) == ["missing", "missing"]
    assert out.score.tolist() == [0, 0]


def test_linear_huge_values():
    out = run("linear", {"value": [1e308, -1e308, 1e300]}, {"floor": 30.0, "target": 35.0}, 10)
    assert out.score.tolist() == [10, 0, 10]


# ---------------------------------------------------------------- steps


def test_steps_higher():
    params = {"steps": [[90, 10], [80, 8], [60, 5]], "else": 0}
    values = [95, 90, 90 - EPS, 89.99, 80, 60, 59.9, NAN]
    out = run("steps", {"value": values}, params, 10)
    assert cases("steps", out) == ["step", "step", "step", "step", "step", "step", "none", "missing"]
    assert out.score.tolist() == [10, 10, 10, 8, 8, 5, 0, 0]
    assert out.extra["step"].tolist() == [0, 0, 0, 1, 1, 2, -1, -1]
    assert out.extra["bound"].tolist() == [90, 90, 90, 80, 80, 60, 0, 0]


def test_steps_lower():
    params = {"steps": [[15, 3], [30, 1.8]], "else": 0}
    out = run("steps", {"value": [10, 15, 15 + EPS, 20, 30, 31]}, params, 3, "lower")
    assert cases("steps", out) == ["step", "step", "step", "step", "step", "none"]
    assert out.score == pytest.approx([3, 3, 3, 1.8, 1.8, 0])


def test_steps_else_points_and_unsorted_listing():
    params = {"steps": [[60, 5], [90, 10], [80, 8]], "else": 2}
    out = run("steps", {"value": [85, 50]}, params, 10)
    assert out.score.tolist() == [8, 2]
    assert out.extra["step"].tolist() == [2, -1]  # index into the list as written


def test_steps_points_above_node_points_are_clipped():
    out = run("steps", {"value": [95]}, {"steps": [[90, 12]]}, 10)
    assert out.score.tolist() == [10]


# ---------------------------------------------------------------- deduction


def test_deduction_cases():
    out = run("deduction", {"count": [0, 3, 5, 8, 100]}, {"per": 2.0}, 10)
    assert cases("deduction", out) == ["none", "deducted", "deducted", "capped", "capped"]
    assert out.score.tolist() == [10, 4, 0, 0, 0]
    assert out.extra["deducted"].tolist() == [0, 6, 10, 10, 10]


def test_deduction_with_cap():
    out = run("deduction", {"count": [2, 3, 4]}, {"per": 2.0, "cap": 6.0}, 10)
    assert cases("deduction", out) == ["deducted", "deducted", "capped"]  # 3 × 2 = 6: cap reached exactly
    assert out.score.tolist() == [6, 4, 4]


def test_deduction_cap_above_points():
    out = run("deduction", {"count": [8]}, {"per": 2.0, "cap": 20.0}, 10)
    assert cases("deduction", out) == ["capped"]
    assert out.score.tolist() == [0]


def test_deduction_float_noise_at_cap():
    out = run("deduction", {"count": [3]}, {"per": 0.1, "cap": 0.3}, 1)  # 3 × 0.1 = 0.30000000000000004
    assert cases("deduction", out) == ["deducted"]
    assert out.score == pytest.approx([0.7])


def test_deduction_missing_and_negative():
    out = run("deduction", {"count": [NAN, -1, 1e308]}, {"per": 2.0}, 10)
    assert cases("deduction", out) == ["missing", "missing", "capped"]
    assert out.score.tolist() == [0, 0, 0]


# ---------------------------------------------------------------- proportional


def test_proportional():
    out = run("proportional", {"value": [80, 100, 100 - EPS, 120, 0, -5, NAN]}, {"full_at": 100}, 10)
    assert cases("proportional", out) == ["partial", "full", "full", "full", "zero", "zero", "missing"]
    assert out.score == pytest.approx([8, 10, 10, 10, 0, 0, 0])
    assert out.extra["unfinished"] == pytest.approx([20, 0, 0, 0, 100, 100, 0])
    assert out.extra["deducted"] == pytest.approx([2, 0, 0, 0, 10, 10, 0])


def test_proportional_default_and_other_full_at():
    assert run("proportional", {"value": [50]}, {}, 10).score.tolist() == [5]
    assert run("proportional", {"value": [4]}, {"full_at": 5.0}, 10).score == pytest.approx([8])


def test_proportional_zero_full_at_is_not_a_division():
    out = run("proportional", {"value": [4]}, {"full_at": 0.0}, 10)
    assert cases("proportional", out) == ["missing"]


# ---------------------------------------------------------------- bonus


def test_bonus():
    out = run("bonus", {"count": [0, 1, 2, 3, NAN, -2]}, {"per": 5.0, "cap": 10.0}, 10)
    assert cases("bonus", out) == ["none", "added", "added", "capped", "missing", "missing"]
    assert out.score.tolist() == [0, 5, 10, 10, 0, 0]
    assert out.extra["added"].tolist() == [0, 5, 10, 10, 0, 0]


def test_bonus_never_above_points():
    out = run("bonus", {"count": [4]}, {"per": 5.0, "cap": 20.0}, 10)
    assert out.score.tolist() == [10]


# ---------------------------------------------------------------- veto


def test_veto_default_limit():
    out = run("veto", {"count": [0, 1, 1e-13, 2]}, {}, 0)
    assert cases("veto", out) == ["clear", "vetoed", "clear", "vetoed"]
    assert out.flag.tolist() == [False, True, False, True]
    assert out.score.tolist() == [0, 0, 0, 0]


def test_veto_limit():
    out = run("veto", {"count": [2, 3]}, {"limit": 2.0}, 0)
    assert cases("veto", out) == ["clear", "vetoed"]
    assert out.flag.tolist() == [False, True]


def test_veto_missing_policy():
    out = run("veto", {"count": [NAN, 0]}, {"missing": "clear"}, 0)
    assert cases("veto", out) == ["missing", "clear"]
    assert out.flag.tolist() == [False, False]
    assert out.extra["missing_policy"].tolist() == [0, 0]
    out = run("veto", {"count": [NAN, 0]}, {"missing": "veto"}, 0)
    assert cases("veto", out) == ["missing", "clear"]
    assert out.flag.tolist() == [True, False]
    assert out.extra["missing_policy"].tolist() == [1, 1]


def test_veto_flag_whatever_the_points():
    # a subject scoring high elsewhere: the rule awards nothing itself, the flag carries the verdict
    out = run("veto", {"count": [1, 0]}, {}, 10)
    assert out.flag.tolist() == [True, False]
    assert out.score.tolist() == [0, 0]


# ---------------------------------------------------------------- prerequisite


def test_prerequisite():
    out = run("prerequisite", {"value": [82, 85, 85 - EPS, 90, NAN]}, {"target": 85.0}, 0)
    assert cases("prerequisite", out) == ["not_met", "met", "met", "met", "missing"]
    assert out.flag.tolist() == [True, False, False, False, True]
    assert out.score.tolist() == [0] * 5


def test_prerequisite_strict_band_and_class():
    out = run("prerequisite", {"value": [85, 86]}, {"target": 85.0, "op": ">"}, 0)
    assert out.flag.tolist() == [True, False]
    out = run("prerequisite", {"value": [5, 11]}, {"low": 0.0, "high": 10.0}, 0, "band")
    assert out.flag.tolist() == [False, True]
    out = run("prerequisite", {"value": [80, 80]}, {"target": np.array([80.0, 85.0])}, 0)
    assert out.flag.tolist() == [False, True]


# ---------------------------------------------------------------- satisfaction

OPTIONS = {"满意": 100, "基本满意": 60, "不满意": 0}


def test_satisfaction_direct_value():
    out = run("satisfaction", {"value": [92.5, 100, 120, 0, NAN]}, {}, 10)
    assert cases("satisfaction", out) == ["scored", "scored", "scored", "scored", "missing"]
    assert out.score == pytest.approx([9.25, 10, 10, 0, 0])


def test_satisfaction_options():
    inputs = {"满意": [150, 0, 10, 0], "基本满意": [40, 0, 0, 50], "不满意": [10, 0, 0, NAN]}
    out = run("satisfaction", inputs, {"options": OPTIONS}, 10)
    assert cases("satisfaction", out) == ["scored", "no_responses", "scored", "missing"]
    assert out.score == pytest.approx([8.7, 0, 10, 0])
    assert out.extra["index"] == pytest.approx([87, 0, 100, 0])
    assert out.extra["responses"].tolist() == [200, 0, 10, 0]


def test_satisfaction_options_as_pairs():
    params = {"options": [["满意", 100], ["不满意", 0]]}
    out = run("satisfaction", {"满意": [3], "不满意": [1]}, params, 10)
    assert out.score == pytest.approx([7.5])


def test_satisfaction_min_responses():
    inputs = {"满意": [50, 100, 0], "基本满意": [0, 0, 0], "不满意": [0, 0, 0]}
    out = run("satisfaction", inputs, {"options": OPTIONS, "min_responses": 100}, 10)
    assert cases("satisfaction", out) == ["too_few", "scored", "no_responses"]
    assert out.score.tolist() == [0, 10, 0]


def test_satisfaction_linear_on_index():
    inputs = {"满意": [150, 80, 95], "基本满意": [40, 0, 0], "不满意": [10, 20, 5]}
    out = run("satisfaction", inputs, {"options": OPTIONS, "floor": 80, "target": 95}, 10)
    assert out.extra["index"] == pytest.approx([87, 80, 95])
    assert out.score == pytest.approx([10 * 7 / 15, 0, 10])
    out = run("satisfaction", {"value": [90, 90]}, {"floor": np.array([80.0, 85.0]), "target": 95.0}, 10)
    assert out.score == pytest.approx([10 * 10 / 15, 5])


def test_satisfaction_huge_counts():
    inputs = {"满意": [1e308], "基本满意": [1e308], "不满意": [0]}
    out = run("satisfaction", inputs, {"options": OPTIONS}, 10)
    assert out.extra["index"] == pytest.approx([80])


# ---------------------------------------------------------------- composite

YEARS = {
    "years": [{"label": "2021", "weight": 0.15}, {"label": "2022", "weight": 0.25}, {"label": "2023", "weight": 0.6}]
}


def test_composite_15_25_60():
    out = run("composite", {"2021": [80], "2022": [90], "2023": [95]}, YEARS, 100)
    assert cases("composite", out) == ["scored"]
    assert out.score == pytest.approx([91.5])
    assert out.extra["weighted"] == pytest.approx([91.5])
    assert run("composite", {"2021": [80], "2022": [90], "2023": [95]}, YEARS, 20).score == pytest.approx([18.3])


def test_composite_missing_years():
    inputs = {"2021": [NAN, NAN, 100], "2022": [90, NAN, 100], "2023": [95, NAN, 100]}
    out = run("composite", inputs, YEARS, 100)
    assert cases("composite", out) == ["partial_missing", "missing", "scored"]
    assert out.score == pytest.approx([79.5, 0, 100])


def test_composite_scale_and_out_of_range_years():
    out = run("composite", {"2021": [8], "2022": [9], "2023": [9.5]}, {**YEARS, "scale": 10}, 100)
    assert out.score == pytest.approx([91.5])
    out = run("composite", {"2021": [150], "2022": [-20], "2023": [100]}, YEARS, 100)
    assert out.score == pytest.approx([75])  # 150 → 100, −20 → 0


def test_composite_pairs():
    params = {"years": [["第一年", 0.5], ["第二年", 0.5]]}
    assert run("composite", {"第一年": [60], "第二年": [80]}, params, 10).score == pytest.approx([7])


# ---------------------------------------------------------------- ratio


def test_ratio():
    num = np.array([95.0, 5.0, NAN, 5.0, NAN, 1e308, 0.0])
    den = np.array([100.0, 0.0, 100.0, NAN, 0.0, 1e-10, 5.0])
    value, zero = ratio(num, den, 100)
    assert value[0] == pytest.approx(95)
    assert value[1] == 0 and zero[1]
    assert np.isnan(value[2]) and np.isnan(value[3]) and not zero[2] and not zero[3]
    assert np.isnan(value[4]) and zero[4]  # a zero denominator is reported even without a numerator
    assert np.isnan(value[5])  # overflow → missing, never inf
    assert value[6] == 0 and not zero[6]
    assert not np.any(np.isinf(value))


def test_ratio_default_scale():
    value, zero = ratio(np.array([1.0]), np.array([4.0]))
    assert value.tolist() == [0.25] and zero.tolist() == [False]


# ---------------------------------------------------------------- parameter checks

VALID = {
    "threshold": {"target": 35.0},
    "linear": {"floor": 30.0, "target": 35.0},
    "steps": {"steps": [[90, 10], [80, 8]], "else": 0},
    "deduction": {"per": 2.0},
    "proportional": {"full_at": 100},
    "bonus": {"per": 5.0, "cap": 10.0},
    "veto": {},
    "prerequisite": {"target": 85.0},
    "satisfaction": {"options": OPTIONS, "min_responses": 10},
    "composite": YEARS,
}


def check(code: str, params: dict, direction: str = "higher") -> list[str]:
    return RULES[code].check(params, direction)


def test_check_valid_params():
    for code, params in VALID.items():
        assert check(code, params) == [], code
    assert check("threshold", {"target": 0.7}, "lower") == []
    assert check("threshold", {"low": 35, "high": 40}, "band") == []
    assert check("linear", {"floor": 0.9, "target": 0.7}, "lower") == []
    assert check("linear", {"low": 35, "high": 40, "margin": 5}, "band") == []
    assert check("steps", {"steps": [[15, 3], [30, 1.8]], "else": 0}, "lower") == []
    assert check("satisfaction", {}) == []
    assert check("satisfaction", {"floor": 80, "target": 95}) == []


def test_check_threshold():
    assert any("target" in r for r in check("threshold", {}))
    assert any("low" in r for r in check("threshold", {"high": 40}, "band"))
    assert any("target" in r for r in check("threshold", {"target": 3, "low": 1, "high": 5}, "band"))
    assert any("low 不应大于 high" in r for r in check("threshold", {"low": 5, "high": 1}, "band"))
    assert check("threshold", {"low": 5, "high": 5}, "band") == []
    assert any("方向" in r for r in check("threshold", {"target": 3, "op": "<="}, "higher"))
    assert any("方向" in r for r in check("threshold", {"target": 3, "op": ">"}, "lower"))
    assert any("partial" in r for r in check("threshold", {"target": 3, "partial": -1}))


def test_check_linear():
    assert any("floor" in r for r in check("linear", {"floor": 35, "target": 30}))
    assert any("floor" in r for r in check("linear", {"floor": 35, "target": 35}))
    assert any("floor" in r for r in check("linear", {"floor": 0.7, "target": 0.9}, "lower"))
    assert any("margin" in r for r in check("linear", {"low": 1, "high": 2, "margin": 0}, "band"))
    assert any("margin" in r for r in check("linear", {"low": 1, "high": 2}, "band"))
    assert any("target" in r for r in check("linear", {"floor": 1}))


def test_check_linear_class_tables():
    target = {"by": "climate", "values": {"south": 8, "north": 7.5}}
    assert check("linear", {"floor": 5, "target": target}) == []
    assert check("linear", {"floor": 7.6, "target": target}) != []
    floor = {"by": "climate", "values": {"south": 6, "north": 7.5}}
    assert check("linear", {"floor": floor, "target": target}) != []  # north: 7.5 is not below 7.5
    floor = {"by": "climate", "values": {"south": 6, "north": 7}}
    assert check("linear", {"floor": floor, "target": target}) == []
    assert check("linear", {"floor": "30 %", "target": "0.35"}) == []  # NUMBER UNIT strings are checked later


def test_check_steps():
    assert check("steps", {"steps": []}) != []
    assert check("steps", {"steps": [[80, 8], [80, 5]]}) != []
    assert check("steps", {"steps": [[80, 8], [90, 10]]}) != []  # higher: list from the top
    assert check("steps", {"steps": [[30, 1.8], [15, 3]]}, "lower") != []
    assert check("steps", {"steps": [[90, 5], [80, 8]]}) != []  # a better step scores less
    assert check("steps", {"steps": [[90, 10]], "else": 12}) != []
    assert check("steps", {"steps": [[90, 10]]}, "band") != []
    assert check("steps", {"steps": [[90]]}) != []
    assert check("steps", {"steps": [[90, -1]]}) != []


def test_check_counts_and_caps():
    assert check("deduction", {"per": 0}) != []
    assert check("deduction", {"per": 2, "cap": 0}) != []
    assert check("bonus", {"per": 1, "cap": 0}) != []
    assert check("bonus", {"per": -1, "cap": 5}) != []
    assert check("veto", {"limit": -1}) != []
    assert check("veto", {"limit": 0}) == []
    assert check("proportional", {"full_at": 0}) != []
    assert check("proportional", {}, "lower") != []


def test_check_satisfaction():
    assert check("satisfaction", {"options": {"满意": 120}}) != []
    assert check("satisfaction", {"options": {"满意": 100}, "floor": 80}) != []
    assert check("satisfaction", {"floor": 95, "target": 80}) != []
    assert check("satisfaction", {"floor": 80, "target": 120}) != []
    assert check("satisfaction", {"min_responses": 30}) != []  # counts of responses need options
    assert check("satisfaction", {"options": "满意"}) != []


def test_check_composite():
    assert check("composite", {"years": []}) != []
    bad = {"years": [{"label": "a", "weight": 0.5}, {"label": "b", "weight": 0.4}]}
    assert any("1" in r for r in check("composite", bad))
    hundred = {"years": [{"label": "a", "weight": 15}, {"label": "b", "weight": 25}, {"label": "c", "weight": 60}]}
    assert check("composite", hundred) != []  # weights sum to 1, not 100
    noisy = {"years": [{"label": "a", "weight": 0.1}, {"label": "b", "weight": 0.2}, {"label": "c", "weight": 0.7}]}
    assert check("composite", noisy) == []
    dup = {"years": [{"label": "a", "weight": 0.5}, {"label": "a", "weight": 0.5}]}
    assert check("composite", dup) != []
    assert check("composite", {"years": [{"label": "a", "weight": 0}, {"label": "b", "weight": 1}]}) != []
    assert check("composite", {**YEARS, "scale": 0}) != []
    assert check("composite", {"years": [{"weight": 1}]}) != []


# ---------------------------------------------------------------- describe


def test_describe_linear():
    assert describe({"type": "linear", "floor": 30, "target": 35}, "%") == "线性得分：30% 得 0 分，35% 及以上得满分"
    assert describe({"type": "linear", "floor": 0.9, "target": 0.7}, "吨标煤/万元", "lower") == (
        "线性得分：0.9吨标煤/万元 得 0 分，0.7吨标煤/万元 及以下得满分"
    )
    # direction inferred from floor > target when not given
    assert "及以下" in describe({"type": "linear", "floor": 0.9, "target": 0.7}, "吨标煤/万元")
    assert describe({"type": "linear", "low": 35, "high": 40, "margin": 5}, "%", "band") == (
        "线性得分：35%–40% 得满分，偏离区间 5% 及以上得 0 分，其间按线性计分"
    )


def test_describe_class_dependent():
    rule = {"type": "threshold", "target": {"by": ["population_band", "climate"], "values": {"a/b": 8}}}
    assert describe(rule, "平方米/人") == "达标得分：≥目标值（按对象类别取值）得满分，否则得 0 分"
    rule = {"type": "linear", "floor": 5, "target": {"by": "climate", "values": {"south": 8, "north": 7.5}}}
    assert describe(rule, "平方米/人") == "线性得分：5平方米/人 得 0 分，目标值（按对象类别取值）及以上得满分"


def test_describe_other_rules():
    assert describe({"type": "threshold", "target": 35}, "%") == "达标得分：≥35% 得满分，否则得 0 分"
    assert describe({"type": "threshold", "target": 35, "partial": 2}, "%", "lower") == (
        "达标得分：≤35% 得满分，否则得 2 分"
    )
    assert (
        describe({"type": "threshold", "low": 6.5, "high": 8.5}, "", "band") == "达标得分：6.5–8.5 得满分，否则得 0 分"
    )
    assert describe({"type": "steps", "steps": [[90, 10], [80, 8]]}, "%") == (
        "分档得分：≥90% 得 10 分，≥80% 得 8 分，其余得 0 分"
    )
    assert describe({"type": "steps", "steps": [[15, 3], [30, 1.8]]}, "分钟", "lower") == (
        "分档得分：≤15分钟 得 3 分，≤30分钟 得 1.8 分，其余得 0 分"
    )
    assert describe({"type": "deduction", "per": 2}, "处") == "扣分：每处扣 2 分，扣完为止"
    assert describe({"type": "deduction", "per": 0.5, "cap": 4}, "") == "扣分：每处扣 0.5 分，最多扣 4 分"
    assert (
        describe({"type": "proportional"}, "%")
        == "按完成比例得分（按未完成比例扣分）：达到 100% 得满分，按未完成比例扣分"
    )
    assert describe({"type": "bonus", "per": 5, "cap": 10}, "座") == "加分：每座加 5 分，最多加 10 分"
    assert describe({"type": "veto"}, "起") == "一票否决：发生即否决"
    assert (
        describe({"type": "veto", "limit": 2, "missing": "veto"}, "起")
        == "一票否决：超过 2 起即否决；未提供数值视同否决"
    )
    assert describe({"type": "prerequisite", "target": 85}, "分") == "前置条件：须达到 ≥85 分，否则不具备参评资格"
    assert describe({"type": "satisfaction"}, "%") == "满意度（问卷）：按满意度折算得分"
    assert describe({"type": "satisfaction", "options": {"满意": 100, "不满意": 0}, "min_responses": 100}, "") == (
        "满意度（问卷）：满意 100、不满意 0 加权计算满意度指数，按指数折算得分；有效问卷少于 100 份得 0 分"
    )
    assert describe({"type": "satisfaction", "floor": 80, "target": 95}, "%") == (
        "满意度（问卷）：满意度 80% 得 0 分，95% 及以上得满分"
    )
    assert describe({"type": "composite", **YEARS}, "分") == "多年综合：2021 15%、2022 25%、2023 60% 加权"
    assert describe({"type": "nonsense"}, "%") == "nonsense（未知规则）"


# ---------------------------------------------------------------- formatting shared with explain.py


def test_fmt_number_and_value():
    assert fmt_number(33.1) == "33.1"
    assert fmt_number(35.0) == "35"
    assert fmt_number(-0.0) == "0"
    assert fmt_number(-0.00001) == "0"
    assert fmt_number(0.00005) == "0.0001"
    assert fmt_number(1 / 3) == "0.3333"
    assert fmt_number(1e20) == "100000000000000000000"
    assert fmt_number(1e-7) == "0"
    assert fmt_number(np.float64(6.25)) == "6.25"
    assert fmt_number(NAN) == "—"
    assert fmt_value(35, "%") == "35%"
    assert fmt_value(8, "平方米/人") == "8平方米/人"
    assert fmt_value(82, "分") == "82 分"
    assert fmt_value(3, "") == "3"
    assert fmt_value(3, "无") == "3"


# ---------------------------------------------------------------- never NaN or inf


def _fuzz_values(rng: np.random.Generator, n: int) -> np.ndarray:
    pool = np.array([NAN, 0.0, -0.0, 1e308, -1e308, np.inf, -np.inf, 1e-300, -1.0, 35.0, 100.0, 5e307])
    v = rng.uniform(-200, 200, n)
    pick = rng.random(n) < 0.5
    v[pick] = rng.choice(pool, pick.sum())
    return v


FUZZ = [
    ("threshold", {"target": 35.0}, "higher"),
    ("threshold", {"target": 35.0, "op": "<"}, "lower"),
    ("threshold", {"low": 10.0, "high": 20.0, "partial": 1.0}, "band"),
    ("linear", {"floor": 30.0, "target": 35.0}, "higher"),
    ("linear", {"floor": 0.9, "target": 0.7}, "lower"),
    ("linear", {"low": 35.0, "high": 40.0, "margin": 5.0}, "band"),
    ("steps", {"steps": [[90, 10], [80, 8]], "else": 1}, "higher"),
    ("steps", {"steps": [[15, 3], [30, 1.8]]}, "lower"),
    ("deduction", {"per": 2.0}, "higher"),
    ("deduction", {"per": 0.5, "cap": 4.0}, "lower"),
    ("proportional", {"full_at": 100.0}, "higher"),
    ("bonus", {"per": 5.0, "cap": 10.0}, "higher"),
    ("veto", {"limit": 1.0, "missing": "veto"}, "higher"),
    ("prerequisite", {"target": 85.0}, "higher"),
    ("satisfaction", {}, "higher"),
    ("satisfaction", {"options": OPTIONS, "floor": 60.0, "target": 90.0, "min_responses": 5}, "higher"),
    ("composite", YEARS, "higher"),
    ("composite", {**YEARS, "scale": 10.0}, "higher"),
]


@pytest.mark.parametrize("code,params,direction", FUZZ)
def test_outputs_always_finite(code, params, direction):
    rng = np.random.default_rng(20240601)
    n = 400
    inputs = {c: _fuzz_values(rng, n) for c, _l in RULES[code].inputs(params)}
    # class-dependent params given as arrays, with the occasional NaN / huge entry
    resolved = {}
    for p in RULES[code].params:
        if p.by_class and p.name in params:
            arr = np.full(n, float(params[p.name]))
            arr[rng.random(n) < 0.05] = NAN
            resolved[p.name] = arr
    out = run(code, inputs, {**params, **resolved}, 10.0, direction)
    if RULES[code].awards_points:
        assert out.flag is None
    else:
        assert out.flag is not None and out.flag.dtype == bool and out.flag.shape == (n,)
    missing_any = np.zeros(n, dtype=bool)
    for arr in inputs.values():
        missing_any |= np.isnan(arr)
    if code != "composite":  # composite scores the years present
        assert np.all(out.case[missing_any] == 0)
        assert np.all(out.score[missing_any] == 0)


def test_huge_points_and_bad_points():
    out = RULES["linear"].fn({"value": np.array([33.0])}, {"floor": 30.0, "target": 35.0}, float("nan"), "higher")
    assert out.score.tolist() == [0]
    out = RULES["linear"].fn({"value": np.array([33.0])}, {"floor": 30.0, "target": 35.0}, 1e308, "higher")
    assert np.isfinite(out.score).all()
