"""Framework parsing and checking: every refusal names the node's path; nothing half-loads."""

from __future__ import annotations

import pytest

from chengzhen.assessment.framework import FrameworkError, dump_framework, load_framework

HEAD = """\
code: TEST
version: "1"
name: 测试体系
status: sample
sources: [测试]
"""

GOOD = (
    HEAD
    + """\
profile:
  band: {name: 人口规模, values: {big: 大城市, small: 小城市}}
nodes:
  - code: A
    name: 环境
    points: 20
    children:
      - {code: A1, name: 绿地率, points: 10, unit: "%", rule: {type: linear, floor: 30, target: 35}}
      - code: A2
        name: 人均公园绿地
        points: 10
        unit: m²/人
        rule: {type: threshold, target: {by: band, values: {big: 8, small: "9 平方米/人"}}}
  - code: B
    name: 安全
    children:
      - {code: B1, name: 重大安全事故, unit: 起, rule: {type: veto}}
"""
)


def refused(text: str) -> list[str]:
    with pytest.raises(FrameworkError) as info:
        load_framework(text, "t.yaml")
    return info.value.lines()


def test_a_good_framework_loads_and_round_trips():
    fw = load_framework(GOOD)
    assert fw.full_name == "TEST@1"
    assert fw.total == 20
    assert [n.code for n in fw.leaves()] == ["A1", "A2", "B1"]
    a2 = fw.node("A2")
    assert a2.unit == "平方米/人"  # the alias is normalised
    assert a2.params["target"].values == {"big": 8.0, "small": 9.0}
    assert fw.node("B1").awards_points is False and fw.node("B").points == 0
    again = load_framework(dump_framework(fw))
    assert again.as_dict() == fw.as_dict()
    assert fw.path_label("A2") == "TEST@1 › A 环境 › A2 人均公园绿地"


def test_points_that_do_not_add_up_are_refused_with_the_path():
    lines = refused(GOOD.replace("points: 20", "points: 25"))
    assert any("A 环境 › points" in line and "合计 20" in line and "25" in line for line in lines), lines


def test_weights_must_add_up_to_one_or_a_hundred():
    text = (
        HEAD
        + """\
nodes:
  - {code: A, name: 甲, weight: 0.5, unit: "%", rule: {type: proportional}}
  - {code: B, name: 乙, weight: 0.4, unit: "%", rule: {type: proportional}}
"""
    )
    assert any("权重合计 0.9" in line for line in refused(text))
    fw = load_framework(text.replace("0.4", "0.5"))
    assert [n.points for n in fw.nodes] == [50.0, 50.0]


@pytest.mark.parametrize(
    "change, expected",
    [
        ("floor: 30, target: 35", "缺少参数 floor"),
        ("type: linear", "未知的评分规则 'curvy'"),
        ('unit: "%"', "未知单位"),
        ("floor: 30", "没有参数 'slope'"),
    ],
)
def test_rule_problems_are_named_with_the_indicator_path(change, expected):
    replacement = {
        "floor: 30, target: 35": "target: 35",
        "type: linear": "type: curvy",
        'unit: "%"': "unit: 平米米",
        "floor: 30": "floor: 30, slope: 2",
    }[change]
    text = GOOD.replace(change, replacement, 1)
    lines = refused(text)
    assert any("TEST@1 › A 环境 › A1 绿地率" in line and expected in line for line in lines), lines


def test_a_duplicate_code_is_refused():
    lines = refused(GOOD.replace("code: A2", "code: A1"))
    assert any("指标代码 A1 重复" in line for line in lines), lines


def test_a_class_table_missing_a_combination_is_refused():
    lines = refused(GOOD.replace(', small: "9 平方米/人"', ""))
    assert any("缺少类别 small" in line for line in lines), lines


def test_a_class_table_on_an_undeclared_attribute_is_refused():
    lines = refused(GOOD.replace("by: band", "by: region"))
    assert any("未在 profile 中声明的对象属性：region" in line for line in lines), lines


def test_incompatible_parameter_units_are_refused():
    lines = refused(GOOD.replace('"9 平方米/人"', '"9 万元"'))
    assert any("A2 人均公园绿地 › rule.target.small" in line and "不可换算" in line for line in lines), lines


def test_points_on_a_veto_and_a_leaf_without_rule_are_refused():
    text = GOOD.replace(
        "{code: B1, name: 重大安全事故, unit: 起, rule: {type: veto}}",
        "{code: B1, name: 重大安全事故, points: 5, unit: 起, rule: {type: veto}}",
    )
    assert any("不计分" in line for line in refused(text))
    text = GOOD.replace(", rule: {type: veto}}", "}")
    assert any("缺少评分规则" in line for line in refused(text))


def test_yaml_problems_carry_their_line():
    lines = refused(GOOD + "  - code: C\n    code: D\n")
    assert any(line.startswith("t.yaml:") and "重复的键" in line for line in lines), lines


def test_unknown_keys_are_refused():
    lines = refused(GOOD.replace("    points: 20\n", "    points: 20\n    colour: red\n", 1))
    assert any("未知的字段 'colour'" in line for line in lines), lines


def test_bonus_points_must_equal_the_cap():
    text = GOOD.replace(
        "  - code: B\n",
        """\
  - code: P
    name: 加分
    children:
      - {code: P1, name: 国家级荣誉, points: 4, unit: 项, rule: {type: bonus, per: 2, cap: 5}}
  - code: B
""",
    )
    assert any("加分项的分值应等于加分上限 5" in line for line in refused(text))
    fw = load_framework(text.replace("points: 4, unit: 项", "points: 5, unit: 项"))
    assert fw.node("P").bonus and fw.total == 20  # bonus outside the declared total


def test_a_platform_measure_must_be_known_and_of_a_compatible_unit():
    text = GOOD.replace('rule: {type: linear, floor: 30, target: 35}}',
                        'measure: ledger.completion_rate, rule: {type: linear, floor: 30, target: 35}}')
    assert load_framework(text).node("A1").measure == "ledger.completion_rate"
    assert any("未知的平台取数 'ledger.nope'" in line for line in refused(text.replace("ledger.completion_rate",
                                                                                       "ledger.nope")))
    lines = refused(text.replace("ledger.completion_rate", "supervision.deductions"))
    assert any("以“处”计，与指标单位“%”不可换算" in line for line in lines), lines
