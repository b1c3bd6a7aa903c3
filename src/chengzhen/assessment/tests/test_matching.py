"""The canonical-measure dictionary and the indicator matcher (指标匹配), and the matcher's quality
on the frozen labelled set ``data/match_pairs.csv`` (pinned by its SHA-256)."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from chengzhen.assessment import matching
from chengzhen.assessment.matching import (
    DEFAULT_THRESHOLD,
    Dictionary,
    Measure,
    Proposal,
    normalise_name,
    propose,
    similarity,
)

DATA = Path(__file__).parent / "data"
FROZEN = DATA / "match_pairs.csv"
DEV = DATA / "match_pairs_dev.csv"
DEV2 = DATA / "match_pairs_dev2.csv"
DEV3 = DATA / "match_pairs_dev3.csv"
DEV4 = DATA / "match_pairs_dev4.csv"
DEV5 = DATA / "match_pairs_dev5.csv"
DEV6 = DATA / "match_pairs_dev6.csv"
DEVS = (DEV, DEV2, DEV3, DEV4, DEV5, DEV6)
# The frozen evaluation set. Never edit it to meet the goal: a change here is a new set, and the
# figures reported for the old one no longer apply.
FROZEN_SHA256 = "3c5886a08240569a5f1508955aa15227a22bdcbbddf3287e2d60c16bed6ba7ca"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def evaluate(path: Path, threshold: float = DEFAULT_THRESHOLD) -> matching.Evaluation:
    """The matcher alone on a labelled set, the dictionary switched off: ``without_names()``
    has no names to look up, and the matcher compares each pair's two names directly."""
    off = Dictionary.shipped().without_names()
    assert off.by_name == {} and off.lookup("建成区绿化覆盖率", "%", "higher") is None
    return matching.evaluate(_rows(path), threshold)


# --- the dictionary -------------------------------------------------------------------------


def test_shipped_dictionary_loads_with_known_units_and_directions():
    d = Dictionary.shipped()
    assert 40 <= len(d.measures) <= 70
    for m in d.measures.values():
        assert m.direction in matching.DIRECTIONS
        assert matching.units_compatible(m.unit, m.unit), m.code
    # no name of one measure is the name of another
    assert all(len(codes) == 1 for codes in d.by_name.values())


def test_lookup_by_synonym_older_name_full_width_and_spaces():
    d = Dictionary.shipped()
    assert d.lookup("人均公共绿地", "平方米/人", "higher").code == "park_green_per_capita"  # older name
    assert d.lookup("城市生活污水集中处理率", "%", "higher").code == "sewage_treatment_rate"
    assert d.lookup("建成区 绿化覆盖率", "％", "higher").code == "green_coverage_rate"  # space, full-width %
    assert d.lookup("（城市）绿化覆盖率", "%", "higher").code == "green_coverage_rate"  # brackets dropped
    assert d.lookup("每万人拥有公厕", "座/千人", "higher").code == "public_toilets_per_10k"  # convertible unit
    assert d.lookup("ＰＭ２．５年均浓度", "μg/m³", "lower") is None  # not a shipped measure
    assert normalise_name("ＧＤＰ　能耗") == "gdp能耗"


def test_lookup_refuses_incompatible_unit_or_direction():
    d = Dictionary.shipped()
    assert d.lookup("建成区绿化覆盖率", "公顷", "higher") is None  # an area is not a share
    assert d.lookup("建成区绿化覆盖率", "平方米每公顷", "higher") is None  # unknown unit
    assert d.lookup("每万人拥有公厕", "座", "higher") is None  # a count is not a count per population
    assert d.lookup("公共供水管网漏损率", "%", "higher") is None  # 漏损率 is lower-is-better


def test_extended_with_confirmed_matches():
    d = Dictionary.shipped()
    assert d.lookup("公园绿地人均面积", "平方米/人", "higher") is None
    e = d.extended([("公园绿地人均面积", "平方米/人", "park_green_per_capita")])
    assert e.lookup("公园绿地人均面积", "平方米/人", "higher").code == "park_green_per_capita"
    assert e.confirmed == (("公园绿地人均面积", "平方米/人", "park_green_per_capita"),)
    assert d.lookup("公园绿地人均面积", "平方米/人", "higher") is None  # the shipped one is unchanged
    e2 = e.extended([("创卫群众满意率", "%", "resident_satisfaction")])
    assert len(e2.confirmed) == 2 and e2.lookup("创卫群众满意率", "%", "higher").code == "resident_satisfaction"
    with pytest.raises(ValueError, match="不存在"):
        d.extended([("某指标", "%", "no_such_measure")])


def test_shipped_measures_are_not_proposed_for_each_other():
    d = Dictionary.shipped()
    for m in d.measures.values():
        others = [o for o in d.measures.values() if o.code != m.code]
        for name in m.names:
            assert propose(name, m.unit, m.direction, others) == [], (m.code, name)


# --- the matcher ----------------------------------------------------------------------------


def test_similarity_gives_evidence_in_words_an_office_reads():
    m = similarity("城市绿化覆盖率", "%", "higher", "建成区绿化覆盖率", "％", "higher")
    assert m.compatible and m.score == 1.0
    assert m.evidence[0] == "共同部分：绿化覆盖、率"
    assert "不计差别：城市、建成区" in m.evidence
    assert "单位同为 %" in m.evidence and "方向同为越高越好" in m.evidence
    m = similarity("生活垃圾无害化处理率", "%", "higher", "餐厨垃圾无害化处理率", "%", "higher")
    assert m.only_a == ("生活",) and m.only_b == ("餐厨",) and m.score < DEFAULT_THRESHOLD
    assert any("得分减半" in e for e in m.evidence)
    m = similarity("每万人公厕数", "座/万人", "higher", "每千人公厕数", "座/千人", "higher")
    assert m.score == 1.0 and "单位 座/万人 与 座/千人 同量纲，可换算" in m.evidence


@pytest.mark.parametrize(
    ("a", "ua", "da", "b", "ub", "db", "why"),
    [
        ("公交站点500米覆盖率", "%", "higher", "公交线网密度", "公里/平方公里", "higher", "单位不相容"),
        ("公厕设置密度", "座/平方公里", "higher", "公厕设置密度", "座每公顷", "higher", "单位表不认识"),
        ("万人拥有绿道长度", "公里/万人", "higher", "绿道密度", "公里/平方公里", "higher", "单位不相容"),
        ("公共供水管网漏损率", "%", "lower", "公共供水管网漏损率", "%", "higher", "方向不相容"),
        ("公交站点500米覆盖率", "%", "higher", "公交站点300米覆盖率", "%", "higher", "数字不同"),
        ("PM2.5年均浓度", "μg/m³", "lower", "PM10年均浓度", "μg/m³", "lower", "数字不同"),
        ("地表水Ⅲ类水体比例", "%", "higher", "地表水Ⅴ类水体比例", "%", "higher", "数字不同"),
        ("群众满意度", "%", "higher", "群众知晓率", "%", "higher", "量的类别不同"),
    ],
)
def test_incompatible_pairs_score_zero_and_say_why(a, ua, da, b, ub, db, why):
    m = similarity(a, ua, da, b, ub, db)
    assert m.score == 0 and not m.compatible and why in m.evidence[0] and "不提议" in m.evidence[0]
    assert propose(a, ua, da, [Measure("x", b, ub, db)], threshold=0.0) == []


def test_never_proposes_an_incompatible_unit_or_direction_at_any_threshold():
    d = Dictionary.shipped()
    for m in d.measures.values():
        for unit, direction in (("个", m.direction), (m.unit, "lower" if m.direction == "higher" else "higher")):
            for p in propose(m.name, unit, direction, d.measures.values(), threshold=0.0, limit=100):
                target = d.measures[p.code]
                assert matching.units_compatible(target.unit, unit)
                assert matching.directions_compatible(target.direction, direction)


def test_the_issues_hard_negatives_are_not_proposed():
    for a, ua, b, ub in [("人均住房建筑面积", "m2/人", "人均居住用地面积", "m2/人"),
                         ("公交站点500米覆盖率", "%", "公交线网密度", "公里/平方公里"),
                         ("绿色建筑占比", "%", "装配式建筑占比", "%")]:
        assert propose(a, ua, "higher", [Measure("b", b, ub, "higher")]) == []


def test_propose_sorted_by_score_then_code_limited_and_deterministic():
    d = Dictionary.shipped()
    got = propose("城区绿化覆盖率", "%", "higher", d.measures.values())
    assert got == [Proposal("green_coverage_rate", "建成区绿化覆盖率", 1.0, got[0].evidence)]
    twins = [Measure("b2", "建成区污水处理率", "%", "higher"), Measure("a1", "污水处理率", "%", "higher"),
             Measure("c3", "生活污水处理率", "%", "higher"), Measure("d4", "污水处理率", "%", "lower"),
             Measure("e5", "城市污水处理率", "%", "higher")]
    first = propose("镇区污水处理率", "%", "higher", twins, limit=2)
    assert [p.code for p in first] == ["a1", "b2"] and all(p.score == 1.0 for p in first)
    assert propose("镇区污水处理率", "%", "higher", list(reversed(twins)), limit=2) == first
    # a town's area against a city's is two places: 城市污水处理率 is not proposed
    assert [p.code for p in propose("镇区污水处理率", "%", "higher", twins, limit=10)] == ["a1", "b2", "c3"]


def test_propose_matches_on_a_measures_synonyms_and_says_which():
    d = Dictionary.shipped()
    got = propose("城区漏损率", "%", "lower", d.measures.values())
    assert [p.code for p in got] == ["water_network_leakage"]
    assert got[0].evidence[0] == "按别名“漏损率”比对"


def test_older_names_and_abbreviations_are_read_as_one_spelling_and_said():
    m = similarity("城市人均公共绿地", "平方米/人", "higher", "人均公园绿地面积", "平方米/人", "higher")
    assert m.score == 1.0 and "写法统一：公共绿地→公园绿地" in m.evidence
    assert similarity("城市用气普及率", "%", "higher", "燃气普及率", "%", "higher").score == 1.0
    assert similarity("执法案件按时办结率", "%", "higher", "执法案件按期办结率", "%", "higher").score == 1.0
    assert similarity("细颗粒物年均浓度", "μg/m³", "lower", "PM2.5年均浓度", "μg/m³", "lower").score == 1.0
    # the glossary keeps pollutants apart: 细颗粒物 is PM2.5, 可吸入颗粒物 is PM10
    assert not similarity("细颗粒物年均浓度", "μg/m³", "lower", "可吸入颗粒物年均浓度", "μg/m³", "lower").compatible


def test_a_qualifier_that_only_localises_or_wraps_is_compared_by_containment():
    for a, b, excused in [("住宅小区物业管理覆盖率", "物业管理覆盖率", "住宅小区"),
                          ("政务服务事项网上可办率", "政务服务网上可办率", "事项"),
                          ("游客综合满意度", "游客满意度", "综合"),
                          ("新建建筑中绿色建筑占比", "新建绿色建筑占比", "中")]:
        m = similarity(a, "%", "higher", b, "%", "higher")
        assert m.score == 1.0 and m.only_a == m.only_b == () and any(excused in e for e in m.evidence), (a, m)
    # the share written from either end, and a qualifier bracketed after the head
    assert similarity("装配式建筑占新建建筑比例", "%", "higher", "新建建筑中装配式建筑占比", "%", "higher").score == 1.0
    assert similarity("绿化覆盖率（建成区）", "%", "higher", "建成区绿化覆盖率", "%", "higher").score == 1.0


@pytest.mark.parametrize(
    ("a", "ua", "b", "ub", "same"),
    [
        ("公交站点五百米覆盖率", "%", "公交站点500米覆盖率", "%", True),  # Chinese numbers with 百
        ("每万人口全科医生数", "人/万人", "每万居民拥有全科医生数", "名/万人", True),  # 名 counts persons
        ("每千名老年人拥有养老床位数", "张/千名老年人", "千名老人养老床位数", "张/千名老人", True),
        ("公共厕所设置密度", "座/平方公里", "每平方公里公厕数", "座/平方公里", True),  # a density per area
        ("人口密度", "人/平方公里", "人口", "万人", False),  # only a density in a unit per area is a count
        ("年接待游客人次", "万人次", "年游客接待量", "万人次", True),  # word order, measure heads
        ("城镇新建建筑中绿色建筑面积占比", "%", "城镇新建绿色建筑比例", "%", True),
        ("生活垃圾焚烧处理能力占比", "%", "生活垃圾焚烧处理量占比", "%", False),  # 量 is not dropped in a share
        ("按户籍人口计算的城镇化率", "%", "户籍人口城镇化率", "%", True),
        ("城镇化率（常住人口口径）", "%", "常住人口城镇化率", "%", True),
        ("城镇化率（常住人口口径）", "%", "户籍人口城镇化率", "%", False),
        ("建成区达到海绵城市建设要求的面积比例", "%", "海绵城市建设达标面积比例", "%", True),
        ("空气质量达到二级标准的天数占全年比例", "%", "环境空气质量优良天数比例", "%", True),
        ("地表水达到或好于Ⅲ类水体比例", "%", "地表水优良水体比例", "%", True),
        ("地表水达到或好于Ⅲ类水体比例", "%", "地表水达到或好于Ⅱ类水体比例", "%", False),
        ("重大项目年度计划投资完成率", "%", "重大项目年度投资完成率", "%", True),
        ("城镇居民人均住房建筑面积", "平方米/人", "人均住房建筑面积", "平方米/人", False),  # 城镇居民 still narrows
        ("近3年发生重大环境污染事故", "起", "近三年重大环境污染事故起数", "起", True),  # the unit's word, 发生
        ("未成年人思想道德建设测评", "分", "未成年人思想道德建设工作测评得分", "分", True),  # a score in 分
        ("常住人口城镇化水平", "%", "常住人口城镇化率", "%", True),  # a level in % is a share
        ("每千人口食品抽检批次", "批次/千人", "食品抽检量", "批次/千人", True),
        ("新增养老、托育等社区服务设施", "个", "新增社区养老托育服务设施", "个", True),
        ("单位地区生产总值能耗", "吨标煤/万元", "单位国内生产总值能源消耗", "吨标准煤/万元", True),
        ("生活垃圾分类收集处理覆盖率", "%", "餐厨垃圾分类收集处理覆盖率", "%", False),
    ],
)
def test_general_rules_from_the_development_sets(a, ua, b, ub, same):
    m = similarity(a, ua, "higher", b, ub, "higher")
    assert (m.score >= DEFAULT_THRESHOLD) is same, m


@pytest.mark.parametrize(
    ("a", "b", "unit", "why"),
    [
        ("农村生活垃圾分类收集处理覆盖率", "生活垃圾分类收集处理覆盖率", "%", "“农村”改变了所计的对象或量"),
        ("城镇居民人均可支配收入", "居民人均可支配收入", "元", "“城镇”改变了所计的对象或量"),
        ("人均地区生产总值", "地区生产总值", "元", "“人均”改变了所计的对象或量"),
        ("一般工业固体废物综合利用率", "工业固体废物综合利用率", "%", "“一般”改变了所计的对象或量"),
        ("县城常住人口", "县域常住人口", "万人", "城区与全域范围不同"),
    ],
)
def test_a_qualifier_that_changes_the_quantity_halves_the_score(a, b, unit, why):
    m = similarity(a, unit, "higher", b, unit, "higher")
    assert m.compatible and m.score < DEFAULT_THRESHOLD and any(why in e and "得分减半" in e for e in m.evidence), m
    assert propose(a, unit, "higher", [Measure("b", b, unit, "higher")]) == []


# --- the labelled sets ----------------------------------------------------------------------


def test_frozen_set_is_unchanged_and_as_specified():
    assert hashlib.sha256(FROZEN.read_bytes()).hexdigest() == FROZEN_SHA256
    rows = _rows(FROZEN)
    assert list(rows[0]) == ["a", "a_unit", "a_direction", "b", "b_unit", "b_direction", "same", "hard"]
    assert len(rows) >= 300
    hard = [r for r in rows if r["hard"] == "1"]
    assert all(r["same"] == "0" for r in hard)
    assert len(hard) / len(rows) >= 0.30
    pairs = {frozenset([(r["a"], r["a_unit"]), (r["b"], r["b_unit"])]) for r in rows}
    assert len(pairs) == len(rows)
    for a, b in [("人均住房建筑面积", "人均居住用地面积"), ("公交站点500米覆盖率", "公交线网密度"),
                 ("绿色建筑占比", "装配式建筑占比")]:
        assert any({r["a"], r["b"]} == {a, b} and r["hard"] == "1" for r in rows)
    for path in DEVS:
        dev = {frozenset([(r["a"], r["a_unit"]), (r["b"], r["b_unit"])]) for r in _rows(path)}
        assert not pairs & dev, path.name


def test_matcher_on_the_frozen_set_against_the_goal():
    """The goal is precision ≥ 0.95 and recall ≥ 0.80 at the default threshold, the dictionary
    switched off (``bench/joint_matcher.py`` prints the same figures with the counts).

    The recall goal is NOT met. The frozen set has been evaluated six times in all, never looked at
    pair by pair: by the first helper at 0.85 (precision 1.00, recall 0.60); after the rules were
    improved on the first development set (1.00, 0.7355: 114 of 155 same-measure pairs); twice after
    they were generalised on a second development set written apart by a helper that never saw the
    matcher (0.98, 0.7806: 121 of 155); and once after they were generalised again on a third one,
    written apart the same way, the threshold chosen by the rule on the three development sets
    (0.98, 0.7935: 123 of 155, 2 wrong matches) — 1 pair short of the goal; once more after a fourth
    such set, the same figures. The recall bar below is
    that figure rounded down, a guard against regressions, not the goal; raise it to 0.8 when the
    goal is met.
    """
    result = evaluate(FROZEN)
    assert result.precision >= 0.95, result
    assert result.recall >= 0.79, result


def test_matcher_on_the_development_sets():
    """The sets the rules were improved and the threshold chosen on, kept apart from the frozen set
    — optimistic, since the rules were written while looking at them; the frozen set's figure is
    the honest one. The first (315 pairs): precision 0.99, recall 0.99. The second and the third
    were written by helpers from the domain's frameworks without seeing the matcher, and the pairs
    they shared with the other sets were dropped unseen. The second (416 pairs): at first precision
    0.97, recall 0.51 — which showed the rules did not generalise — now 0.99 and 0.89. The third
    (356 pairs): at first 0.98 and 0.40 (0.43 with the rules the second set had shown), now 0.99 and
    0.63 — names from the wider field (health, transport, safety) are still often missed. The fourth
    (282 pairs, on the six campaigns' own chapters): at first 0.98 and 0.56 (0.51 with the rules of
    before the third), now 0.99 and 0.64. The fifth (398 pairs, the development programmes' own
    systems): at first 0.98 and 0.33, now 0.98 and 0.35. The sixth (332 pairs, cities' rewordings of
    the campaigns' items) was kept apart while the fifth's rules were written: 0.98 and 0.48 before
    them and after — rules from one set did not carry to the next."""
    for path, recall in ((DEV, 0.95), (DEV2, 0.85), (DEV3, 0.6), (DEV4, 0.6), (DEV5, 0.33), (DEV6, 0.45)):
        rows = _rows(path)
        assert len(rows) >= 250 and sum(r["hard"] == "1" for r in rows) / len(rows) >= 0.30
        result = evaluate(path)
        assert result.precision >= 0.97 and result.recall >= recall, (path.name, result)


def test_default_threshold_is_the_rule_applied_to_the_development_sets():
    """The rule: of the thresholds 0.50, 0.55 … 0.95, those with precision ≥ 0.97 on each of the
    development sets and on all of them together; of them the one with the highest F1 on all
    together; of a tie the lowest. (Pooled alone, 0.75 would pass at 0.97 — with 0.96 on the second
    set: a wrong merge costs more than a missed one, so each set must pass.)"""
    sets = [_rows(path) for path in DEVS]
    rows = [r for rs in sets for r in rs]
    eligible = []
    for t in (t / 100 for t in range(50, 100, 5)):
        pooled = matching.evaluate(rows, t)
        if pooled.precision >= 0.97 and all(matching.evaluate(rs, t).precision >= 0.97 for rs in sets):
            eligible.append((round(pooled.f1, 4), -t))
    assert -max(eligible)[1] == DEFAULT_THRESHOLD
