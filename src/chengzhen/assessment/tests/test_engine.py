"""The engine: leaves scored for all subjects at once, blocks zeroed by key items, vetoes and
prerequisites, class-dependent thresholds, ratio formulas, bonuses on top, never NaN."""

from __future__ import annotations

import numpy as np
import pytest

from chengzhen.assessment.engine import EngineInputError, Values, score
from chengzhen.assessment.explain import sentence
from chengzhen.assessment.framework import load_framework

FW = load_framework("""\
code: ENG
version: "1"
name: 引擎测试
status: sample
sources: [测试]
profile:
  band: {name: 人口规模, values: {big: 50–100万, small: 50万以下}}
  climate: {name: 南北方, values: {south: 南方, north: 北方}}
nodes:
  - code: A
    name: 环境
    points: 30
    children:
      - {code: A1, name: 建成区绿地率, points: 10, unit: "%", rule: {type: linear, floor: 30, target: 35}}
      - code: A2
        name: 人均公园绿地
        points: 10
        unit: 平方米/人
        rule:
          type: threshold
          target: {by: [band, climate], values: {big/south: 8, big/north: 7.5, small/south: 9, small/north: 8.5}}
      - code: A3
        name: 生活垃圾无害化处理率
        points: 10
        unit: "%"
        key: true
        formula: {numerator: {name: 无害化处理量, unit: 万吨}, denominator: {name: 产生量, unit: 万吨}, scale: 100}
        rule: {type: threshold, target: 80}
  - code: B
    name: 管理
    points: 70
    children:
      - {code: B1, name: 市容问题, points: 20, unit: 处, rule: {type: deduction, per: 2}}
      - {code: B2, name: 任务完成率, points: 50, unit: "%", rule: {type: proportional}}
      - {code: B3, name: 重大安全事故, unit: 起, rule: {type: veto}}
      - {code: B4, name: 国家级荣誉, points: 5, unit: 项, rule: {type: bonus, per: 2, cap: 5}}
  - code: C
    name: 前置
    children:
      - {code: C1, name: 未成年人思想道德建设测评, unit: 分, rule: {type: prerequisite, target: 85}}
""")

SUBJECTS = ["t1", "t2", "t3"]
PROFILES = {
    "t1": {"band": "big", "climate": "south"},
    "t2": {"band": "small", "climate": "北方"},
    "t3": {"band": "small", "climate": "south"},
}


def values(**over) -> Values:
    base = {
        ("A1", "value"): [33.1, 36, 28],
        ("A2", "value"): [8, 8.4, 8.5],
        ("A3", "numerator"): [95, 70, 10],
        ("A3", "denominator"): [100, 100, 0],
        ("B1", "count"): [3, 12, 0],
        ("B2", "value"): [80, 100, 100],
        ("B3", "count"): [0, 1, 0],
        ("B4", "count"): [1, 3, 0],
        ("C1", "value"): [90, 90, 82],
    }
    base.update(over)
    return Values(SUBJECTS, {k: np.array(v, dtype=float) for k, v in base.items()})


def test_scores_explanations_and_totals():
    r = score(FW, SUBJECTS, PROFILES, values())
    assert r.leaves["A1"].score.tolist() == pytest.approx([6.2, 10, 0])
    assert r.leaves["A2"].score.tolist() == [10, 0, 0]  # 8 ≥ 8 (big/south); 8.4 < 8.5 (small/north); 8.5 < 9
    # t1: A 6.2+10+10 = 26.2; B 14 + 40 + bonus 2 = 56 → 82.2
    assert r.total[0] == pytest.approx(82.2)
    ex = r.explanation(0, "A1")
    assert ex["rule"] == "linear" and ex["case"] == "partial" and ex["inputs"] == {"value": 33.1}
    assert sentence(ex) == "建成区绿地率 33.1%，低于目标 35%，按线性规则得 6.2 分（满分 10 分）"
    assert r.explanation(1, "A2")["class"] == "50万以下、北方"
    assert r.explanation(0, "A2")["params"]["target"] == 8.0


def test_a_failed_key_item_zeroes_its_block():
    r = score(FW, SUBJECTS, PROFILES, values())
    # t2: A3 70% < 80 → key item fails → block A scores 0 although A1 scored 10
    assert r.leaves["A1"].score[1] == 10 and r.leaves["A1"].counted[1] == 0
    assert r.node_scores["A"][1] == 0
    assert r.explanation(1, "A1")["zeroed_by"] == "A3 生活垃圾无害化处理率"
    assert "关键项" in sentence(r.explanation(1, "A1"))


def test_a_zero_denominator_scores_zero_and_says_so():
    r = score(FW, SUBJECTS, PROFILES, values())
    ex = r.explanation(2, "A3")
    assert ex["formula"]["zero_denominator"] is True and ex["score"] == 0
    assert "分母" in sentence(ex) and "为 0" in sentence(ex)


def test_veto_with_a_high_score_and_a_failed_prerequisite():
    r = score(FW, SUBJECTS, PROFILES, values())
    assert r.vetoed.tolist() == [False, True, False]
    assert r.prerequisite_failed.tolist() == [False, False, True]
    assert r.total[1] > 0  # the score stays; the grade says 不合格 (grading)


def test_bonus_adds_on_top_capped():
    r = score(FW, SUBJECTS, PROFILES, values())
    assert r.leaves["B4"].score.tolist() == [2, 5, 0]
    assert r.node_scores["B"][1] == pytest.approx(20 - 20 + 50 + 5)  # 12 finds × 2 capped at 20


def test_missing_values_score_zero_never_nan():
    r = score(FW, SUBJECTS, PROFILES, Values(SUBJECTS, {}))
    assert np.isfinite(r.total).all() and r.total.tolist() == [0, 0, 0]
    assert sentence(r.explanation(0, "B2")) == "任务完成率 未提供数值，得 0 分（满分 50 分）"
    # a key item without a value has not been met: its block counts 0
    assert r.explanation(0, "A1")["zeroed_by"] == "A3 生活垃圾无害化处理率"


def test_a_subject_without_its_class_is_refused_by_name():
    with pytest.raises(EngineInputError) as info:
        score(FW, SUBJECTS, {"t1": PROFILES["t1"], "t2": {"band": "small"}}, values())
    text = str(info.value)
    assert "对象 t2 的属性 climate（南北方）未填写" in text and "对象 t3" in text


def test_large_inputs_are_vectorised_and_finite():
    n = 5000
    rng = np.random.default_rng(1)
    subjects = [f"s{i}" for i in range(n)]
    profiles = {s: {"band": "big" if i % 2 else "small", "climate": "south"} for i, s in enumerate(subjects)}
    arrays = {
        ("A1", "value"): rng.uniform(0, 100, n),
        ("A2", "value"): rng.uniform(0, 20, n),
        ("A3", "numerator"): rng.uniform(0, 10, n),
        ("A3", "denominator"): rng.integers(0, 3, n) * 5.0,
        ("B1", "count"): rng.integers(0, 20, n).astype(float),
        ("B2", "value"): rng.uniform(0, 120, n),
    }
    r = score(FW, subjects, profiles, Values(subjects, arrays))
    assert np.isfinite(r.total).all() and (r.total >= 0).all() and (r.total <= 105).all()


def test_column_wise_explanations_equal_the_single_ones():
    r = score(FW, SUBJECTS, PROFILES, values())
    for code in r.leaves:
        assert r.leaf_explanations(code) == [r.explanation(i, code) for i in range(len(SUBJECTS))]
