"""Sentences: one exact Chinese sentence per case per rule, computed through the rule itself (so the sentence and
the score cannot drift apart), plus the class label, key-item zeroing, formulas and zero denominators."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from chengzhen.assessment.explain import fmt_number, fmt_score, sentence
from chengzhen.assessment.rules import CASES, RULES

NAN = float("nan")


def build(
    rule: str,
    inputs: dict,
    params: dict,
    points: float,
    *,
    name: str,
    unit: str = "",
    direction: str = "higher",
    **more,
) -> dict:
    """The ex dict as the engine builds it, with score, case and extra from the rule for one subject."""
    arrays = {k: np.array([NAN if v is None else v], dtype=np.float64) for k, v in inputs.items()}
    out = RULES[rule].fn(arrays, params, points, direction)
    ex = {
        "code": "X01",
        "name": name,
        "unit": unit,
        "points": points,
        "rule": rule,
        "case": CASES[rule][int(out.case[0])],
        "inputs": inputs,
        "params": params,
        "score": float(out.score[0]),
        "extra": {k: float(v[0]) for k, v in out.extra.items()},
        "direction": direction,
        "class": None,
        "formula": None,
        "zeroed_by": None,
        "input_labels": dict(RULES[rule].inputs(params)),
    }
    ex.update(more)
    return ex


def say(*args, **kwargs) -> str:
    return sentence(build(*args, **kwargs))


def case_of(*args, **kwargs) -> str:
    return build(*args, **kwargs)["case"]


# ---------------------------------------------------------------- the spec's examples, character for character

GREEN = {"name": "建成区绿地率", "unit": "%"}
LIN = {"floor": 30.0, "target": 35.0}


def test_spec_linear_partial_exact():
    ex = {
        "code": "HJM01",
        "name": "建成区绿地率",
        "unit": "%",
        "points": 10.0,
        "rule": "linear",
        "case": "partial",
        "inputs": {"value": 33.1},
        "params": {"floor": 30.0, "target": 35.0},
        "score": 6.2,
        "extra": {},
        "direction": "higher",
        "class": None,
        "formula": None,
        "zeroed_by": None,
        "input_labels": {"value": "数值"},
    }
    assert sentence(ex) == "建成区绿地率 33.1%，低于目标 35%，按线性规则得 6.2 分（满分 10 分）"
    assert say("linear", {"value": 33.1}, LIN, 10.0, **GREEN) == sentence(ex)


def test_linear_full():
    assert say("linear", {"value": 36}, LIN, 10.0, **GREEN) == "建成区绿地率 36%，达到目标 35%，得满分 10 分"
    assert say("linear", {"value": 35 - 1e-12}, LIN, 10.0, **GREEN) == "建成区绿地率 35%，达到目标 35%，得满分 10 分"


def test_linear_zero():
    assert say("linear", {"value": 28}, LIN, 10.0, **GREEN) == "建成区绿地率 28%，低于下限 30%，得 0 分（满分 10 分）"
    assert say("linear", {"value": 30}, LIN, 10.0, **GREEN) == "建成区绿地率 30%，等于下限 30%，得 0 分（满分 10 分）"


def test_linear_missing():
    assert say("linear", {"value": None}, LIN, 10.0, **GREEN) == "建成区绿地率 未提供数值，得 0 分（满分 10 分）"


def test_linear_lower():
    energy = {"name": "单位GDP能耗", "unit": "吨标煤/万元", "direction": "lower"}
    params = {"floor": 0.9, "target": 0.7}
    assert say("linear", {"value": 0.8}, params, 4.0, **energy) == (
        "单位GDP能耗 0.8吨标煤/万元，高于目标 0.7吨标煤/万元，按线性规则得 2 分（满分 4 分）"
    )
    assert say("linear", {"value": 0.65}, params, 4.0, **energy) == (
        "单位GDP能耗 0.65吨标煤/万元，达到目标 0.7吨标煤/万元，得满分 4 分"
    )
    assert say("linear", {"value": 1}, params, 4.0, **energy) == (
        "单位GDP能耗 1吨标煤/万元，高于上限 0.9吨标煤/万元，得 0 分（满分 4 分）"
    )


def test_linear_band():
    band = {"name": "水体pH", "unit": "%", "direction": "band"}
    params = {"low": 35.0, "high": 40.0, "margin": 5.0}
    assert say("linear", {"value": 37}, params, 10.0, **band) == "水体pH 37%，在 35%–40% 的区间内，得满分 10 分"
    assert say("linear", {"value": 32.5}, params, 10.0, **band) == (
        "水体pH 32.5%，偏离 35%–40% 的区间 2.5%，按线性规则得 5 分（满分 10 分）"
    )
    assert say("linear", {"value": 29}, params, 10.0, **band) == (
        "水体pH 29%，偏离 35%–40% 的区间 6%，已达 5%，得 0 分（满分 10 分）"
    )


def test_class_label_after_target():
    ex = build(
        "linear",
        {"value": 7.0},
        {"floor": 5.0, "target": 8.0},
        10.0,
        name="人均公园绿地",
        unit="平方米/人",
        **{"class": "人口50–100万、南方"},
    )
    assert sentence(ex) == (
        "人均公园绿地 7平方米/人，低于目标 8平方米/人（人口50–100万、南方标准），按线性规则得 6.67 分（满分 10 分）"
    )


def test_zeroed_by_key_item():
    ex = build("linear", {"value": 33.1}, LIN, 10.0, zeroed_by="HJM03 生活垃圾分类", **GREEN)
    assert sentence(ex) == (
        "建成区绿地率 33.1%，低于目标 35%，按线性规则得 6.2 分；因关键项“HJM03 生活垃圾分类”未达标，本项所在大项计 0 分"
    )
    ex = build("linear", {"value": 36}, LIN, 10.0, zeroed_by="HJM03 生活垃圾分类", **GREEN)
    assert (
        sentence(ex)
        == "建成区绿地率 36%，达到目标 35%，得满分 10 分；因关键项“HJM03 生活垃圾分类”未达标，本项所在大项计 0 分"
    )


WASTE = {"name": "生活垃圾无害化处理率", "unit": "%"}


def formula(num: float, den: float, zero: bool = False) -> dict:
    return {
        "numerator": num,
        "denominator": den,
        "scale": 100,
        "numerator_label": "无害化处理量",
        "denominator_label": "产生量",
        "numerator_unit": "万吨",
        "denominator_unit": "万吨",
        "zero_denominator": zero,
    }


def test_formula_value():
    ex = build("linear", {"value": 95.0}, {"floor": 60.0, "target": 100.0}, 5.0, formula=formula(95, 100), **WASTE)
    assert sentence(ex) == (
        "生活垃圾无害化处理率 95%（无害化处理量 95 ÷ 产生量 100），低于目标 100%，按线性规则得 4.38 分（满分 5 分）"
    )
    ex = build("threshold", {"value": 95.0}, {"target": 80.0}, 5.0, formula=formula(95, 100), **WASTE)
    assert (
        sentence(ex)
        == "生活垃圾无害化处理率 95%（无害化处理量 95 ÷ 产生量 100），达到 ≥80% 的要求，得 5 分（满分 5 分）"
    )


def test_formula_value_from_numerator_and_denominator():
    ex = build("threshold", {"value": 95.0}, {"target": 80.0}, 5.0, formula=formula(19, 20), **WASTE)
    ex["inputs"] = {"numerator": 19, "denominator": 20}
    assert sentence(ex).startswith("生活垃圾无害化处理率 95%（无害化处理量 19 ÷ 产生量 20），达到")


def test_formula_zero_denominator():
    ex = build("linear", {"value": None}, {"floor": 60.0, "target": 100.0}, 5.0, formula=formula(0, 0, True), **WASTE)
    assert sentence(ex) == "生活垃圾无害化处理率 分母“产生量”为 0，无法计算，得 0 分（满分 5 分）"
    ex["formula"]["denominator_label"] = None
    assert sentence(ex) == "生活垃圾无害化处理率 分母为 0，无法计算，得 0 分（满分 5 分）"
    ex = build("prerequisite", {"value": None}, {"target": 80.0}, 0, formula=formula(0, 0, True), **WASTE)
    assert sentence(ex) == "生活垃圾无害化处理率 分母“产生量”为 0，无法计算，视为未达到前置条件，不具备参评资格"


# ---------------------------------------------------------------- threshold

COVER = {"name": "建成区绿化覆盖率", "unit": "%"}


def test_threshold_met_and_not_met():
    assert say("threshold", {"value": 36}, {"target": 35.0}, 5.0, **COVER) == (
        "建成区绿化覆盖率 36%，达到 ≥35% 的要求，得 5 分（满分 5 分）"
    )
    assert say("threshold", {"value": 34}, {"target": 35.0}, 5.0, **COVER) == (
        "建成区绿化覆盖率 34%，未达到 ≥35% 的要求，得 0 分（满分 5 分）"
    )
    assert say("threshold", {"value": 34}, {"target": 35.0, "partial": 2.0}, 5.0, **COVER) == (
        "建成区绿化覆盖率 34%，未达到 ≥35% 的要求，得 2 分（满分 5 分）"
    )


def test_threshold_ops_and_band():
    assert say("threshold", {"value": 35}, {"target": 35.0, "op": ">"}, 5.0, **COVER) == (
        "建成区绿化覆盖率 35%，未达到 >35% 的要求，得 0 分（满分 5 分）"
    )
    pm = {"name": "PM2.5年均浓度", "unit": "μg/m³", "direction": "lower"}
    assert say("threshold", {"value": 30}, {"target": 35.0}, 5.0, **pm) == (
        "PM2.5年均浓度 30μg/m³，达到 ≤35μg/m³ 的要求，得 5 分（满分 5 分）"
    )
    assert say("threshold", {"value": 35}, {"target": 35.0, "op": "<"}, 5.0, **pm) == (
        "PM2.5年均浓度 35μg/m³，未达到 <35μg/m³ 的要求，得 0 分（满分 5 分）"
    )
    band = {"name": "水体pH", "unit": "", "direction": "band"}
    assert say("threshold", {"value": 7.2}, {"low": 6.5, "high": 8.5}, 2.0, **band) == (
        "水体pH 7.2，达到 6.5–8.5 的要求，得 2 分（满分 2 分）"
    )


def test_threshold_class():
    ex = build(
        "threshold",
        {"value": 7.8},
        {"target": 8.0},
        10.0,
        name="人均公共绿地",
        unit="平方米/人",
        **{"class": "人口50–100万、南方"},
    )
    assert sentence(ex) == (
        "人均公共绿地 7.8平方米/人，未达到 ≥8平方米/人（人口50–100万、南方标准）的要求，得 0 分（满分 10 分）"
    )


def test_threshold_missing():
    assert say("threshold", {"value": None}, {"target": 35.0}, 5.0, **COVER) == (
        "建成区绿化覆盖率 未提供数值，得 0 分（满分 5 分）"
    )


# ---------------------------------------------------------------- steps

TRIP = {"name": "镇区至高速公路出入口或高铁站车程", "unit": "分钟", "direction": "lower"}
TRIP_STEPS = {"steps": [[15, 3], [30, 1.8]], "else": 0}


def test_steps_lower():
    assert say("steps", {"value": 20}, TRIP_STEPS, 3.0, **TRIP) == (
        "镇区至高速公路出入口或高铁站车程 20分钟，达到 ≤30分钟 档，得 1.8 分（满分 3 分）"
    )
    assert say("steps", {"value": 15}, TRIP_STEPS, 3.0, **TRIP) == (
        "镇区至高速公路出入口或高铁站车程 15分钟，达到 ≤15分钟 档，得 3 分（满分 3 分）"
    )
    assert say("steps", {"value": 45}, TRIP_STEPS, 3.0, **TRIP) == (
        "镇区至高速公路出入口或高铁站车程 45分钟，未达到最低一档 ≤30分钟，得 0 分（满分 3 分）"
    )
    assert say("steps", {"value": None}, TRIP_STEPS, 3.0, **TRIP) == (
        "镇区至高速公路出入口或高铁站车程 未提供数值，得 0 分（满分 3 分）"
    )


def test_steps_higher():
    air = {"name": "空气质量优良天数比例", "unit": "%"}
    params = {"steps": [[90, 10], [80, 8]], "else": 2}
    assert (
        say("steps", {"value": 92}, params, 10.0, **air)
        == "空气质量优良天数比例 92%，达到 ≥90% 档，得 10 分（满分 10 分）"
    )
    assert say("steps", {"value": 79}, params, 10.0, **air) == (
        "空气质量优良天数比例 79%，未达到最低一档 ≥80%，得 2 分（满分 10 分）"
    )


# ---------------------------------------------------------------- deduction

STREET = {"name": "市容问题", "unit": "处"}


def test_deduction_cases():
    assert say("deduction", {"count": 3}, {"per": 2.0}, 10.0, **STREET) == (
        "市容问题 发现 3 处，每处扣 2 分，扣 6 分，得 4 分（满分 10 分）"
    )
    assert say("deduction", {"count": 8}, {"per": 2.0}, 10.0, **STREET) == (
        "市容问题 发现 8 处，每处扣 2 分，扣满 10 分为止，得 0 分（满分 10 分）"
    )
    assert say("deduction", {"count": 0}, {"per": 2.0}, 10.0, **STREET) == "市容问题 未发现，不扣分，得满分 10 分"
    assert say("deduction", {"count": None}, {"per": 2.0}, 10.0, **STREET) == (
        "市容问题 未提供数值，得 0 分（满分 10 分）"
    )


def test_deduction_cap_and_default_unit():
    assert say("deduction", {"count": 10}, {"per": 0.5, "cap": 4.0}, 5.0, name="督查问题", unit="次") == (
        "督查问题 发现 10 次，每次扣 0.5 分，扣满 4 分为止，得 1 分（满分 5 分）"
    )
    assert say("deduction", {"count": 2}, {"per": 0.5}, 5.0, name="督查问题") == (
        "督查问题 发现 2 处，每处扣 0.5 分，扣 1 分，得 4 分（满分 5 分）"
    )


# ---------------------------------------------------------------- proportional

TASKS = {"name": "年度任务完成率", "unit": "%"}


def test_proportional_cases():
    assert say("proportional", {"value": 80}, {}, 10.0, **TASKS) == (
        "年度任务完成率 80%，未完成 20%，按未完成比例扣 2 分，得 8 分（满分 10 分）"
    )
    assert say("proportional", {"value": 100}, {}, 10.0, **TASKS) == "年度任务完成率 100%，已全部完成，得满分 10 分"
    assert (
        say("proportional", {"value": 0}, {}, 10.0, **TASKS) == "年度任务完成率 0%，未完成 100%，得 0 分（满分 10 分）"
    )
    assert say("proportional", {"value": None}, {}, 10.0, **TASKS) == "年度任务完成率 未提供数值，得 0 分（满分 10 分）"


def test_proportional_other_full_at():
    assert say("proportional", {"value": 4}, {"full_at": 5.0}, 10.0, name="新建绿道", unit="公里") == (
        "新建绿道 4公里（5公里为全部完成），未完成 20%，按未完成比例扣 2 分，得 8 分（满分 10 分）"
    )


# ---------------------------------------------------------------- bonus

TOILETS = {"name": "新增公厕", "unit": "座"}
BONUS = {"per": 5.0, "cap": 10.0}


def test_bonus_cases():
    assert say("bonus", {"count": 1}, BONUS, 10.0, **TOILETS) == "新增公厕 1 座，每座加 5 分，加 5 分（加分上限 10 分）"
    assert (
        say("bonus", {"count": 2}, BONUS, 10.0, **TOILETS) == "新增公厕 2 座，每座加 5 分，加 10 分（加分上限 10 分）"
    )
    assert say("bonus", {"count": 3}, BONUS, 10.0, **TOILETS) == "新增公厕 3 座，每座加 5 分，加满上限 10 分"
    assert say("bonus", {"count": 0}, BONUS, 10.0, **TOILETS) == "新增公厕 0 座，不加分"
    assert say("bonus", {"count": None}, BONUS, 10.0, **TOILETS) == "新增公厕 未提供数值，不加分"
    assert say("bonus", {"count": 2}, {"per": 2.0, "cap": 5.0}, 5.0, name="国家级荣誉") == (
        "国家级荣誉 2 项，每项加 2 分，加 4 分（加分上限 5 分）"
    )


# ---------------------------------------------------------------- veto

ACCIDENT = {"name": "重大安全事故", "unit": "起"}


def test_veto_cases():
    assert say("veto", {"count": 1}, {}, 0, **ACCIDENT) == "重大安全事故 发生 1 起，一票否决，评定为不合格"
    assert say("veto", {"count": 0}, {}, 0, **ACCIDENT) == "重大安全事故 未发生，不触发一票否决"
    assert (
        say("veto", {"count": 1}, {"limit": 2.0}, 0, **ACCIDENT)
        == "重大安全事故 发生 1 起，未超过 2 起，不触发一票否决"
    )
    assert say("veto", {"count": 3}, {"limit": 2.0}, 0, **ACCIDENT) == (
        "重大安全事故 发生 3 起，超过 2 起，一票否决，评定为不合格"
    )


def test_veto_missing_policies():
    assert say("veto", {"count": None}, {}, 0, **ACCIDENT) == "重大安全事故 未提供数值，视为未发生，不触发一票否决"
    assert say("veto", {"count": None}, {"missing": "veto"}, 0, **ACCIDENT) == (
        "重大安全事故 未提供数值，视同发生，一票否决，评定为不合格"
    )
    # the policy is also readable from extra when the engine passes params without defaults
    ex = build("veto", {"count": None}, {"missing": "veto"}, 0, **ACCIDENT)
    ex["params"] = {}
    assert sentence(ex).endswith("视同发生，一票否决，评定为不合格")


def test_veto_default_unit():
    assert say("veto", {"count": 2}, {}, 0, name="群体性事件") == "群体性事件 发生 2 起，一票否决，评定为不合格"


# ---------------------------------------------------------------- prerequisite

MINORS = {"name": "未成年人思想道德建设测评", "unit": "分"}


def test_prerequisite_cases():
    assert say("prerequisite", {"value": 82}, {"target": 85.0}, 0, **MINORS) == (
        "未成年人思想道德建设测评 82 分，未达到 ≥85 分 的前置条件，不具备参评资格"
    )
    assert say("prerequisite", {"value": 86}, {"target": 85.0}, 0, **MINORS) == (
        "未成年人思想道德建设测评 86 分，达到 ≥85 分 的前置条件，具备参评资格"
    )
    assert say("prerequisite", {"value": None}, {"target": 85.0}, 0, **MINORS) == (
        "未成年人思想道德建设测评 未提供数值，视为未达到前置条件，不具备参评资格"
    )


# ---------------------------------------------------------------- satisfaction

PUBLIC = {"name": "群众满意度", "unit": "%"}
OPTIONS = {"满意": 100, "基本满意": 60, "不满意": 0}


def test_satisfaction_direct():
    assert (
        say("satisfaction", {"value": 92.5}, {}, 10.0, **PUBLIC)
        == "群众满意度 92.5%，按满意度折算得 9.25 分（满分 10 分）"
    )
    assert say("satisfaction", {"value": 90}, {"floor": 80.0, "target": 95.0}, 10.0, **PUBLIC) == (
        "群众满意度 90%，按 80%–95% 线性计分，得 6.67 分（满分 10 分）"
    )
    assert say("satisfaction", {"value": None}, {}, 10.0, **PUBLIC) == "群众满意度 未提供数值，得 0 分（满分 10 分）"


def test_satisfaction_options():
    counts = {"满意": 150, "基本满意": 40, "不满意": 10}
    assert say("satisfaction", counts, {"options": OPTIONS}, 10.0, **PUBLIC) == (
        "群众满意度 有效问卷 200 份，满意度指数 87，按满意度折算得 8.7 分（满分 10 分）"
    )
    params = {"options": OPTIONS, "floor": 80.0, "target": 95.0}
    assert say("satisfaction", counts, params, 10.0, **PUBLIC) == (
        "群众满意度 有效问卷 200 份，满意度指数 87，按 80–95 线性计分，得 4.67 分（满分 10 分）"
    )
    zero = {"满意": 0, "基本满意": 0, "不满意": 0}
    assert say("satisfaction", zero, {"options": OPTIONS}, 10.0, **PUBLIC) == (
        "群众满意度 有效问卷 0 份，无法计算满意度，得 0 分（满分 10 分）"
    )
    few = {"满意": 30, "基本满意": 15, "不满意": 5}
    assert say("satisfaction", few, {"options": OPTIONS, "min_responses": 100}, 10.0, **PUBLIC) == (
        "群众满意度 有效问卷 50 份，少于最低要求 100 份，得 0 分（满分 10 分）"
    )
    gap = {"满意": 30, "基本满意": None, "不满意": 5}
    assert (
        say("satisfaction", gap, {"options": OPTIONS}, 10.0, **PUBLIC) == "群众满意度 未提供数值，得 0 分（满分 10 分）"
    )


# ---------------------------------------------------------------- composite

CIVIL = {"name": "全国文明城市测评"}
YEARS = {
    "years": [
        {"label": "2021年", "weight": 0.15},
        {"label": "2022年", "weight": 0.25},
        {"label": "2023年", "weight": 0.6},
    ]
}


def test_composite_cases():
    scores = {"2021年": 80, "2022年": 90, "2023年": 95}
    assert say("composite", scores, YEARS, 100.0, **CIVIL) == (
        "全国文明城市测评 2021年 80 分、2022年 90 分、2023年 95 分，按 15%、25%、60% 加权，得 91.5 分（满分 100 分）"
    )
    assert say("composite", scores, YEARS, 20.0, **CIVIL) == (
        "全国文明城市测评 2021年 80 分、2022年 90 分、2023年 95 分，按 15%、25%、60% 加权为 91.5 分（满分 100 分），"
        "折合得 18.3 分（满分 20 分）"
    )
    gap = {"2021年": None, "2022年": 90, "2023年": 95}
    assert say("composite", gap, YEARS, 100.0, **CIVIL) == (
        "全国文明城市测评 2021年 未提供、2022年 90 分、2023年 95 分，缺少的年份计 0 分，按 15%、25%、60% 加权，"
        "得 79.5 分（满分 100 分）"
    )
    none = {"2021年": None, "2022年": None, "2023年": None}
    assert say("composite", none, YEARS, 100.0, **CIVIL) == "全国文明城市测评 未提供数值，得 0 分（满分 100 分）"


# ---------------------------------------------------------------- every case of every rule has a sentence

EVERY_CASE = [
    ("threshold", {"target": 35.0}, "higher", [{"value": None}, {"value": 40}, {"value": 30}]),
    (
        "linear",
        {"floor": 30.0, "target": 35.0},
        "higher",
        [{"value": None}, {"value": 40}, {"value": 33}, {"value": 1}],
    ),
    ("steps", {"steps": [[90, 10]]}, "higher", [{"value": None}, {"value": 95}, {"value": 50}]),
    ("deduction", {"per": 2.0}, "higher", [{"count": None}, {"count": 0}, {"count": 2}, {"count": 9}]),
    ("proportional", {}, "higher", [{"value": None}, {"value": 100}, {"value": 50}, {"value": 0}]),
    ("bonus", {"per": 5.0, "cap": 10.0}, "higher", [{"count": None}, {"count": 0}, {"count": 1}, {"count": 5}]),
    ("veto", {}, "higher", [{"count": None}, {"count": 0}, {"count": 1}]),
    ("prerequisite", {"target": 85.0}, "higher", [{"value": None}, {"value": 90}, {"value": 80}]),
    (
        "satisfaction",
        {"options": {"满意": 100, "不满意": 0}, "min_responses": 10},
        "higher",
        [{"满意": None, "不满意": 1}, {"满意": 9, "不满意": 1}, {"满意": 0, "不满意": 0}, {"满意": 1, "不满意": 1}],
    ),
    ("composite", {"years": [["a", 0.5], ["b", 0.5]]}, "higher", [{"a": None, "b": None}, {"a": 1, "b": 2}, {"a": 1}]),
]


@pytest.mark.parametrize("rule,params,direction,inputs_per_case", EVERY_CASE)
def test_every_case_has_a_sentence(rule, params, direction, inputs_per_case):
    seen = []
    for inputs in inputs_per_case:
        inputs = {c: inputs.get(c) for c, _l in RULES[rule].inputs(params)}
        ex = build(rule, inputs, params, 10.0, name="指标", unit="", direction=direction)
        text = sentence(ex)
        seen.append(ex["case"])
        assert text.startswith("指标 ")
        assert not text.endswith("。") and "nan" not in text and "inf" not in text and "None" not in text
    assert seen == list(CASES[rule])


def test_case_given_as_index():
    ex = build("linear", {"value": 33.1}, LIN, 10.0, **GREEN)
    ex["case"] = CASES["linear"].index("partial")
    assert sentence(ex) == "建成区绿地率 33.1%，低于目标 35%，按线性规则得 6.2 分（满分 10 分）"


def test_random_sentences_never_show_nan_or_inf():
    rng = np.random.default_rng(7)
    pool = [None, 0.0, 1e308, -1e308, 1e-300, 35.0, 100.0, -3.0]
    for rule, params, direction, _ in EVERY_CASE:
        for _i in range(50):
            inputs = {
                c: (pool[rng.integers(len(pool))] if rng.random() < 0.5 else float(rng.uniform(-50, 150)))
                for c, _l in RULES[rule].inputs(params)
            }
            text = say(rule, inputs, params, 10.0, name="指标", unit="%", direction=direction)
            assert "nan" not in text.lower() and "inf" not in text.lower() and "e+" not in text


# ---------------------------------------------------------------- numbers


def test_fmt_score():
    assert fmt_score(6.2) == "6.2"
    assert fmt_score(6.20000000001) == "6.2"
    assert fmt_score(10.0) == "10"
    assert fmt_score(4.375) == "4.38"
    assert fmt_score(2.675) == "2.68"  # half-up on the decimal repr, not on the binary float
    assert fmt_score(0.005) == "0.01"
    assert fmt_score(-0.001) == "0"
    assert fmt_score(-0.0) == "0"
    assert fmt_score(np.float64(91.5)) == "91.5"
    assert fmt_score(Decimal("6.20")) == "6.2"
    assert fmt_score(1e20) == "100000000000000000000"
    assert fmt_score(NAN) == "—"


def test_fmt_number():
    assert fmt_number(33.1) == "33.1"
    assert fmt_number(0.123456) == "0.1235"
    assert fmt_number(100.0) == "100"
    assert fmt_number(-0.0) == "0"
    assert fmt_number(1e-9) == "0"
    assert fmt_number(123456789012.5) == "123456789012.5"
    assert fmt_number(Decimal("8.0")) == "8"
