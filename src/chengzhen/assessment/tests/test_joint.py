"""The merge of joint campaigns (就高不就低), pure: strictest one-sided thresholds (strict bounds kept
strict), band intersections and the empty-intersection conflict, units normalised, class-dependent
thresholds with and without a profile, qualitative requirements by level, the lead rule both ways,
refusals naming the indicator, and a deterministic result whatever the campaigns' order."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import pytest

from chengzhen.assessment.framework import load_framework
from chengzhen.assessment.joint import (
    Campaign,
    LeadRule,
    Threshold,
    binding_text,
    campaign_threshold_text,
    merge,
    split_departments,
)
from chengzhen.assessment.matching import Dictionary, Measure, propose
from chengzhen.problems import Refused

GA = """\
code: GA
version: "1"
name: 甲创建
status: sample
sources: [测试]
profile:
  climate:
    name: 南方/北方
    values: {south: 南方, north: 北方}
nodes:
  - code: A
    name: 环境
    points: 100
    children:
      - {code: A1, name: 建成区绿化覆盖率, points: 10, unit: "%", rule: {type: threshold, target: 36},
         department: 市园林局}
      - {code: A2, name: 人均公园绿地面积, points: 10, unit: 平方米/人,
         rule: {type: threshold, op: ">", target: "8.0 平方米/人"}, department: 市园林局}
      - {code: A3, name: 鼠类粉块阳性率, points: 10, unit: "%", direction: lower,
         rule: {type: threshold, target: 3}, department: 疾控中心}
      - {code: A4, name: 噪声达标区间, points: 10, unit: 分, direction: band,
         rule: {type: threshold, low: 30, high: 40}, department: 市生态环境局}
      - {code: A5, name: 冲突区间, points: 10, unit: 分, direction: band,
         rule: {type: threshold, low: 10, high: 20}, department: 市生态环境局}
      - {code: A6, name: 长效管理机制, points: 10, unit: 处, direction: lower,
         rule: {type: deduction, per: 1}, department: 市城管局}
      - code: A7
        name: 建成区绿地率
        points: 10
        unit: "%"
        rule:
          type: threshold
          target: {by: climate, values: {south: 35, north: 31}}
        department: 市园林局
      - {code: A8, name: 甲自有指标, points: 30, unit: "%", rule: {type: linear, floor: 50, target: 90},
         department: 市住建局}
"""

GB = """\
code: GB
version: "2"
name: 乙创建
status: sample
sources: [测试]
nodes:
  - code: B
    name: 生态
    points: 100
    children:
      - {code: B1, name: 绿化覆盖率, points: 10, unit: 百分比, rule: {type: linear, floor: 30, target: 40},
         department: 市城管局（园林）}
      - {code: B2, name: 人均公共绿地, points: 10, unit: m²/人, rule: {type: threshold, target: 8},
         department: 市园林局}
      - {code: B3, name: 粉块阳性率, points: 10, unit: "‰", direction: lower, rule: {type: threshold, target: 20},
         department: 市爱卫办、疾控中心}
      - {code: B4, name: 噪声达标区间, points: 10, unit: 分, direction: band,
         rule: {type: threshold, low: 35, high: 50}, department: 市生态环境局}
      - {code: B5, name: 冲突区间, points: 10, unit: 分, direction: band,
         rule: {type: linear, low: 25, high: 30, margin: 5}, department: 市生态环境局}
      - {code: B6, name: 长效管理机制, points: 10, unit: 处, direction: lower, key: true,
         rule: {type: deduction, per: 2}, department: 市城管局}
      - {code: B7, name: 绿地率, points: 40, unit: "%", rule: {type: threshold, target: 33},
         department: 市园林局}
"""

GA2 = GA.replace('version: "1"', 'version: "2"')

MEASURES = [
    Measure("green_coverage_rate", "建成区绿化覆盖率", "%", "higher", ("绿化覆盖率",)),
    Measure("green_space_rate", "建成区绿地率", "%", "higher", ("绿地率",)),
    Measure("park_green_per_capita", "人均公园绿地面积", "m2/人", "higher", ("人均公共绿地",)),
    Measure("rat_bait_rate", "鼠类粉块阳性率", "%", "lower", ("粉块阳性率",)),
    Measure("noise_band", "噪声达标区间", "分", "band"),
    Measure("conflict_band", "冲突区间", "分", "band"),
    Measure("long_term_management", "长效管理机制", "处", ""),
]


@pytest.fixture(scope="module")
def dictionary() -> Dictionary:
    return Dictionary.from_measures(MEASURES)


def campaign(text: str) -> Campaign:
    fw = load_framework(text)
    return Campaign(fw.name, fw.code, fw.version, fw)


def rows(merged):
    return {r.key: r for r in merged.rows}


def test_strictest_one_sided_thresholds_with_units_normalised(dictionary):
    m = merge([campaign(GA), campaign(GB)], dictionary, {"climate": "south"})
    r = rows(m)
    green = r["green_coverage_rate"]
    assert [s.unit for s in green.sources] == ["%", "%"]  # 百分比 read as %
    assert green.binding.threshold == Threshold(low=Decimal(40))  # linear: the full-score target
    assert green.binding.campaigns == ("乙创建",)
    assert campaign_threshold_text(green, "甲创建") == "≥ 36%" and binding_text(green) == "≥ 40%"
    # m²/人 and 平方米/人 are one unit; a strict "> 8.0" beats an equal "≥ 8"
    park = r["park_green_per_capita"]
    assert park.unit == "平方米/人" and {s.unit for s in park.sources} == {"平方米/人"}
    assert park.binding.threshold.op == ">" and park.binding.threshold.value == Decimal("8.0")
    assert binding_text(park) == "> 8.0 平方米/人" and park.binding.campaigns == ("甲创建",)
    # ≤: the minimum, 20‰ converted to 2%
    rat = r["rat_bait_rate"]
    assert campaign_threshold_text(rat, "乙创建") == "≤ 2%"
    assert rat.binding.threshold == Threshold(high=Decimal(2)) and rat.binding.campaigns == ("乙创建",)
    assert isinstance(rat.binding.threshold.high, Decimal)


def test_equal_thresholds_bind_together_and_the_strict_bound_stays_strict():
    a = Threshold.one_sided(">=", Decimal("8.0"))
    b = Threshold.one_sided(">", Decimal("8"))
    assert a.intersect(b) == b.intersect(a) == Threshold(low=Decimal(8), low_strict=True)
    c = Threshold.one_sided("<", Decimal(3))
    d = Threshold.one_sided("<=", Decimal(3))
    assert c.intersect(d).op == "<" and d.intersect(c).text("%") == "< 3%"
    assert Threshold(low=Decimal(5), high=Decimal(5), high_strict=True).empty
    assert not Threshold(low=Decimal(5), high=Decimal(5)).empty


def test_band_intersection_and_the_empty_intersection_is_a_conflict(dictionary):
    r = rows(merge([campaign(GA), campaign(GB)], dictionary, {"climate": "north"}))
    noise = r["noise_band"]
    assert noise.binding.threshold == Threshold(low=Decimal(35), high=Decimal(40))
    assert binding_text(noise) == "35–40 分" and noise.binding.campaigns == ("甲创建", "乙创建")
    assert noise.binding.low_by == ("乙创建",) and noise.binding.high_by == ("甲创建",)
    assert not noise.conflicts
    clash = r["conflict_band"]
    assert clash.binding.empty
    assert [c.kind for c in clash.conflicts] == ["empty"]
    assert "区间无交集" in clash.conflicts[0].text and "≥ 25 分（乙创建）" in clash.conflicts[0].text
    assert "≤ 20 分（甲创建）" in clash.conflicts[0].text


def test_class_dependent_thresholds_with_a_profile_and_per_class_without(dictionary):
    with_subject = rows(merge([campaign(GA), campaign(GB)], dictionary, {"climate": "南方"}, subject="411300101000"))
    space = with_subject["green_space_rate"]
    assert space.binding.threshold.value == 35 and space.binding.campaigns == ("甲创建",)
    assert campaign_threshold_text(space, "甲创建") == "≥ 35%（南方）"
    north = rows(merge([campaign(GA), campaign(GB)], dictionary, {"climate": "north"}))["green_space_rate"]
    assert north.binding.threshold.value == 33 and north.binding.campaigns == ("乙创建",)

    m = merge([campaign(GA), campaign(GB)], dictionary)
    space = rows(m)["green_space_rate"]
    assert space.binding is None
    assert [(cb.label, cb.binding.threshold.text("%"), cb.binding.campaigns) for cb in space.by_class] == [
        ("南方", "≥ 35%", ("甲创建",)),
        ("北方", "≥ 33%", ("乙创建",)),
    ]
    assert campaign_threshold_text(space, "甲创建") == "南方 ≥ 35%\n北方 ≥ 31%"
    assert binding_text(space) == "南方 ≥ 35%\n北方 ≥ 33%"
    assert space.numeric and m.binding_count == sum(1 for row in m.rows if row.numeric)


def test_qualitative_requirements_bind_by_the_declared_level(dictionary):
    r = rows(merge([campaign(GA), campaign(GB)], dictionary, {"climate": "south"}))
    mech = r["long_term_management"]
    assert mech.direction == ""
    levels = [s.threshold.level for s in mech.sources]
    assert levels == [1, 2]  # a scored item, and a key item (关键项) in 乙
    assert mech.binding.campaigns == ("乙创建",) and mech.binding.threshold.qualitative
    assert binding_text(mech).startswith("关键项：扣分：每处扣 2 分")
    assert not mech.numeric


def test_leaves_without_a_measure_are_rows_of_their_own_in_node_order(dictionary):
    m = merge([campaign(GA), campaign(GB)], dictionary, {"climate": "south"})
    keys = [r.key for r in m.rows]
    measure_keys = [k for k in keys if ":" not in k]
    assert measure_keys == [x.code for x in MEASURES]  # the dictionary's order
    assert keys[len(measure_keys):] == ["GA:A8"]
    own = rows(m)["GA:A8"]
    assert own.measure == "" and own.name == "甲自有指标" and binding_text(own) == "≥ 90%"
    assert own.lead == "市住建局" and own.binding.campaigns == ("甲创建",)
    assert own.proposals == ()  # asked for only


def test_rows_of_their_own_carry_the_matchers_proposals(dictionary):
    text = GA.replace("name: 甲自有指标", "name: 建成区绿化覆盖率（遥感解译）")
    m = merge([campaign(text)], dictionary, {"climate": "south"}, proposals=True)
    own = rows(m)["GA:A8"]
    assert own.proposals == tuple(propose(own.name, "%", "higher", list(dictionary.measures.values())))
    assert all(p.code in dictionary.measures for p in own.proposals)


def test_lead_rule_binding_by_default_and_by_precedence(dictionary):
    both = [campaign(GA), campaign(GB)]
    green = rows(merge(both, dictionary, {"climate": "south"}))["green_coverage_rate"]
    assert green.lead == "市城管局（园林）" and green.cooperating == ("市园林局",)
    assert [c.kind for c in green.conflicts] == ["departments"]
    assert "甲创建 市园林局" in green.conflicts[0].text and "乙创建 市城管局（园林）" in green.conflicts[0].text
    rule = LeadRule("precedence", ("市园林局", "市城管局"))
    green = rows(merge(both, dictionary, {"climate": "south"}, lead_rule=rule))["green_coverage_rate"]
    assert green.lead == "市园林局" and green.cooperating == ("市城管局（园林）",)
    # a precedence entry names the department without its section: 市城管局 for 市城管局（园林）
    rule = LeadRule("precedence", ("市城管局",))
    assert rows(merge(both, dictionary, {"climate": "south"}, lead_rule=rule))["green_coverage_rate"].lead == (
        "市城管局（园林）"
    )
    # none listed: the binding campaign's department
    rat = rows(merge(both, dictionary, {"climate": "south"}, lead_rule=rule))["rat_bait_rate"]
    assert rat.lead == "市爱卫办" and rat.cooperating == ("疾控中心",)
    with pytest.raises(ValueError):
        LeadRule("vote")


def test_departments_split_outside_brackets():
    assert split_departments("市文明办、市教育局、团市委") == ("市文明办", "市教育局", "团市委")
    assert split_departments("市城管局（环卫、园林）") == ("市城管局（环卫、园林）",)
    assert split_departments("") == ()


def test_two_versions_of_one_framework_are_refused(dictionary):
    with pytest.raises(Refused) as exc:
        merge([campaign(GA), campaign(GB), campaign(GA2)], dictionary, {"climate": "south"})
    text = str(exc.value)
    assert "同一测评体系 GA 列了两个版本（1 与 2）" in text


def test_a_subject_missing_the_class_is_refused_naming_the_indicator(dictionary):
    with pytest.raises(Refused) as exc:
        merge([campaign(GA), campaign(GB)], dictionary, {"region": "east"}, subject="411300101000")
    (problem,) = exc.value.problems
    assert problem.file == "GA@1" and problem.column == "A 环境 › A7 建成区绿地率"
    assert "对象 411300101000 的属性 climate（南方/北方）未填写" in problem.reason
    with pytest.raises(Refused) as exc:
        merge([campaign(GA)], dictionary, {"climate": "east"})
    assert "取值 'east' 无效，可选：south（南方）、north（北方）" in str(exc.value)


def test_a_unit_the_table_does_not_know_is_refused_naming_the_indicator(dictionary):
    # a framework parsed against an older unit table: the leaf's unit is no longer known
    good = campaign(GA)
    top = good.framework.nodes[0]
    leaf = replace(top.children[0], unit="furlongs")
    fw = replace(good.framework, nodes=(replace(top, children=(leaf, *top.children[1:])),))
    with pytest.raises(Refused) as exc:
        merge([replace(good, framework=fw), campaign(GB)], dictionary, {"climate": "south"})
    (problem,) = exc.value.problems
    assert (problem.file, problem.column) == ("GA@1", "A 环境 › A1 建成区绿化覆盖率")
    assert "未知单位“furlongs”" in problem.reason


def test_the_merge_is_deterministic_whatever_the_campaign_order(dictionary):
    cs = [campaign(GA), campaign(GB)]
    first = merge(cs, dictionary)
    assert merge(cs, dictionary) == first
    shuffled = cs[::-1]
    random.Random(7).shuffle(shuffled)
    again = merge(shuffled, dictionary)
    assert again.rows == first.rows and [c.code for c in again.campaigns] == ["GA", "GB"]
    assert merge(cs[::-1], dictionary, {"climate": "south"}).rows == merge(cs, dictionary, {"climate": "south"}).rows
