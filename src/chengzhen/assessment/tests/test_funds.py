"""Incentive funds (以奖代补), the pure allocation: shares that add up to the pool to the fen for
awkward pools, the odd fen by the stated tie rule (larger remainder, then higher score, then lower
code), floors and caps, 结余 and 缺口 lines, scaled tiers, refused parameters, and a property loop
over many random pools and scores."""

from __future__ import annotations

import random
from decimal import Decimal as D
from fractions import Fraction

import pytest

from chengzhen.assessment import funds
from chengzhen.assessment.funds import Standing
from chengzhen.problems import Refused

TEN_MILLION = D("10000000.00")
GRADES = ["优秀", "良好", "合格", "不合格"]


def _amounts(allocation) -> dict[str, D]:
    return {s.standing.code: s.amount for s in allocation.shares}


def _seven() -> list[Standing]:
    rows = [("T1", "95", "优秀"), ("T2", "91.5", "优秀"), ("T3", "88", "良好"), ("T4", "82.25", "良好"),
            ("T5", "76", "合格"), ("T6", "60", "合格"), ("T7", "45.5", "不合格")]
    return [Standing(code, f"镇{code}", D(total), grade, rank) for rank, (code, total, grade) in enumerate(rows, 1)]


def test_ten_million_among_three_equal_scores_gives_the_odd_fen_to_the_lowest_code():
    standings = [Standing(c, c, D("88.00"), "良好", 1) for c in ("411300103000", "411300101000", "411300102000")]
    a = funds.proportional(TEN_MILLION, standings)
    assert _amounts(a) == {"411300101000": D("3333333.34"), "411300102000": D("3333333.33"),
                           "411300103000": D("3333333.33")}
    assert a.allocated == TEN_MILLION and a.remainder == 0 and a.remainder_label == "结余"
    assert "含尾差 0.01 元" in next(s.basis for s in a.shares if s.standing.code == "411300101000")


def test_ten_million_among_three_unequal_scores_gives_the_odd_fen_to_the_largest_remainder():
    a = funds.proportional(TEN_MILLION, [Standing("A", "甲", D("90")), Standing("B", "乙", D("80")),
                                         Standing("C", "丙", D("70"))])
    # exact: 3,750,000 | 3,333,333.33⅓ | 2,916,666.66⅔ → the ⅔ fen rounds up
    assert _amounts(a) == {"A": D("3750000.00"), "B": D("3333333.33"), "C": D("2916666.67")}
    assert sum(_amounts(a).values()) == TEN_MILLION


def test_equal_remainders_go_to_the_higher_score_before_the_lower_code():
    # 10⁹ fen ÷ 14 points leaves 3/7 fen on 1 point and on 8 points alike; 8 points wins over code A… C
    a = funds.proportional(TEN_MILLION, [Standing("C", "丙", D("1")), Standing("B", "乙", D("8")),
                                         Standing("A", "甲", D("5"))])
    exact = {c: Fraction(10**9 * s, 14) for c, s in (("C", 1), ("B", 8), ("A", 5))}
    assert exact["C"] - int(exact["C"]) == exact["B"] - int(exact["B"]) == Fraction(3, 7)
    assert _amounts(a) == {"C": D("714285.71"), "B": D("5714285.72"), "A": D("3571428.57")}


def test_seven_subjects_with_floors_and_caps_sum_exactly():
    a = funds.proportional(TEN_MILLION, _seven(), floor=D("1000000"), cap=D("2000000"))
    got = _amounts(a)
    assert sum(got.values()) == TEN_MILLION and a.remainder == 0
    assert got["T7"] == D("1000000.00")  # 45.5 points would get less than the floor
    assert "保底 1,000,000.00 元" in a.shares[6].basis
    assert all(D("1000000") <= v <= D("2000000") for v in got.values())
    # the others stay in proportion to their scores: the same yuan per point, within a fen
    free = [s for s in a.shares if s.standing.code != "T7"]
    rate = Fraction(TEN_MILLION - D("1000000")) / sum(Fraction(s.standing.total) for s in free)
    for s in free:
        assert abs(Fraction(s.amount) - rate * Fraction(s.standing.total)) < Fraction(1, 100)
    assert got == {"T1": D("1735159.82"), "T2": D("1671232.88"), "T3": D("1607305.94"), "T4": D("1502283.10"),
                   "T5": D("1388127.85"), "T6": D("1095890.41"), "T7": D("1000000.00")}


def test_seven_subjects_where_caps_bind_and_floors_bind_together():
    a = funds.proportional(D("10000000.01"), _seven(), floor=D("1200000"), cap=D("1500000"))
    got = _amounts(a)
    assert sum(got.values()) == D("10000000.01")
    assert got["T1"] == got["T2"] == got["T3"] == D("1500000.00")
    assert got["T7"] == D("1200000.00")
    assert "封顶 1,500,000.00 元" in a.shares[0].basis


def test_caps_adding_up_to_less_than_the_pool_leave_an_explicit_surplus():
    standings = [Standing(c, c, D(t)) for c, t in (("A", "90"), ("B", "70"), ("C", "50"))]
    a = funds.proportional(TEN_MILLION, standings, cap=D("3000000"))
    assert set(_amounts(a).values()) == {D("3000000.00")}
    assert a.allocated == D("9000000.00") and a.remainder == D("1000000.00") and a.remainder_label == "结余"


def test_floors_adding_up_to_more_than_the_pool_are_refused_naming_both():
    with pytest.raises(Refused) as info:
        funds.proportional(TEN_MILLION, _seven(), floor=D("1500000"))
    text = str(info.value)
    assert "floor" in text and "10,500,000.00" in text and "10,000,000.00" in text and "7 个对象" in text


def test_zero_scores_are_refused_and_a_floor_above_the_cap_too():
    with pytest.raises(Refused, match="总分均为 0"):
        funds.proportional(TEN_MILLION, [Standing("A", "甲", D("0")), Standing("B", "乙", D("0"))])
    with pytest.raises(Refused, match="保底 .* 元高于封顶"):
        funds.proportional(TEN_MILLION, _seven(), floor=D("2"), cap=D("1"))


def test_eligibility_by_grade_by_minimum_and_vetoes():
    standings = _seven()[:3] + [Standing("V", "否决镇", D("99"), "不合格", 8, vetoed=True)]
    a = funds.proportional(TEN_MILLION, standings, eligible_grades=["优秀"])
    got = _amounts(a)
    assert got["T3"] == 0 and "不在参与分配的等次" in a.shares[2].basis
    assert got["V"] == 0 and a.shares[3].basis == "一票否决，不予奖补"
    assert got["T1"] + got["T2"] == TEN_MILLION
    b = funds.proportional(TEN_MILLION, standings, min_total=D("90"))
    assert _amounts(b)["T3"] == 0 and "总分低于 90 分" in b.shares[2].basis
    c = funds.proportional(TEN_MILLION, standings, exclude_flagged=False)
    assert _amounts(c)["V"] > 0


def test_tiers_with_a_surplus_and_with_a_shortfall():
    tiers = {"优秀": D("10000000"), "良好": D("7000000")}
    a = funds.by_tiers(D("68000000"), _seven(), tiers)
    got = _amounts(a)
    assert got["T1"] == got["T2"] == D("10000000.00") and got["T3"] == got["T4"] == D("7000000.00")
    assert got["T5"] == 0 and a.shares[4].basis == "未获奖补（合格无定额）"
    assert a.shares[0].basis == "优秀定额"
    assert a.allocated == D("34000000.00") and a.remainder == D("34000000.00") and a.remainder_label == "结余"
    b = funds.by_tiers(D("30000000"), _seven(), tiers)
    assert b.remainder == D("-4000000.00") and b.remainder_label == "缺口"
    c = funds.by_tiers(D("34000000"), _seven(), tiers)
    assert c.remainder == 0 and c.remainder_label == "结余"  # shown as 结余 0.00, never hidden


def test_scaled_tiers_sum_exactly_to_an_awkward_pool():
    tiers = {"优秀": D("10000000"), "良好": D("7000000"), "合格": D("3000000")}
    a = funds.scaled_tiers(TEN_MILLION, _seven(), tiers)
    got = _amounts(a)
    assert sum(got.values()) == TEN_MILLION and a.remainder == 0
    # 10,000,000 ÷ 40,000,000 = 0.25; the grades keep their ratio 10 : 7 : 3
    assert got["T1"] == got["T2"] == D("2500000.00") and got["T3"] == D("1750000.00") and got["T5"] == D("750000.00")
    b = funds.scaled_tiers(TEN_MILLION, _seven()[:3], {"优秀": D("10000000"), "良好": D("7000000")})
    got = _amounts(b)  # ×10/27: 3,703,703.7037… twice and 2,592,592.5925…
    assert got == {"T1": D("3703703.71"), "T2": D("3703703.70"), "T3": D("2592592.59")}
    assert "× 0.370370" in b.shares[0].basis
    with pytest.raises(Refused, match="没有对象获得等次定额"):
        funds.scaled_tiers(TEN_MILLION, _seven()[4:], {"优秀": D("1")})


def test_amounts_in_yuan_or_wan_and_bad_parameters_named_by_field():
    assert funds.parse_yuan("6800万", "amount") == D("68000000.00")
    assert funds.parse_yuan("68,000,000.00元", "amount") == D("68000000.00")
    assert funds.parse_yuan("0.68亿元", "amount") == D("68000000.00")
    assert funds.parse_yuan(68000000, "amount") == D("68000000.00")
    for bad, reason in (("-5", "不能为负"), ("abc", "不是金额"), ("1.005", "精确到分"), ("", "不是金额")):
        with pytest.raises(Refused, match=reason) as info:
            funds.parse_yuan(bad, "floor")
        assert info.value.problems[0].column == "floor"
    p = funds.parse_params("tiers", {"tiers": {"良好": "700万", "优秀": "1000万"}}, GRADES)
    assert p.tiers == (("优秀", D("10000000.00")), ("良好", D("7000000.00")))
    assert p.to_json() == {"tiers": {"优秀": "10000000.00", "良好": "7000000.00"}, "exclude_flagged": True}
    with pytest.raises(Refused) as info:
        funds.parse_params("tiers", {"tiers": {"特等": "1", "优秀": "-1", "良好": "七百万"}, "bonus": 1}, GRADES)
    columns = {p.column for p in info.value.problems}
    assert columns == {"tiers.特等", "tiers.优秀", "tiers.良好", "bonus"}
    assert "可用：优秀、良好、合格、不合格" in str(info.value)
    with pytest.raises(Refused, match="须给出至少一个等次的定额"):
        funds.parse_params("scaled_tiers", {}, GRADES)
    with pytest.raises(Refused) as info:
        funds.parse_params("proportional", {"floor": "x", "cap": "0", "eligible_grades": ["甲等"],
                                            "min_total": "九十"}, GRADES)
    assert {p.column for p in info.value.problems} == {"floor", "cap", "eligible_grades", "min_total"}
    with pytest.raises(Refused, match="不用此参数"):
        funds.parse_params("tiers", {"tiers": {"优秀": "1"}, "floor": "1"}, GRADES)
    with pytest.raises(Refused, match="未知"):
        funds.parse_params("lottery", {}, GRADES)


def _oracle(pool: D, scores: list[D], floor: D, cap: D | None) -> list[float]:
    """Exact shares by bisection on λ in floats — independent of the module's exact solver."""
    def total(lam):
        return sum(min(max(lam * float(s), float(floor)), float(cap) if cap is not None else float("inf"))
                   for s in scores)
    low, high = 0.0, 1.0
    while total(high) < float(pool):
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if total(mid) < float(pool) else (low, mid)
    lam = (low + high) / 2
    return [min(max(lam * float(s), float(floor)), float(cap) if cap is not None else float("inf")) for s in scores]


def test_many_random_pools_add_up_exactly_and_keep_their_bounds():
    rng = random.Random(20260820)
    for case in range(600):
        n = rng.randint(1, 25)
        pool = D(rng.randint(1, 10**11)) / 100
        scores = [D(rng.randint(0, 10000)) / 100 for _ in range(n)]
        if not any(scores):
            scores[0] = D("1.00")
        standings = [Standing(f"S{i:03d}", f"对象{i}", s) for i, s in enumerate(scores)]
        fair = pool / n
        floor = (fair * D(rng.random())).quantize(D("0.01"), rounding="ROUND_DOWN") if rng.random() < 0.5 else None
        cap = (fair * D(1 + 2 * rng.random())).quantize(D("0.01"), rounding="ROUND_UP") if rng.random() < 0.5 else None
        if floor is not None and cap is not None and floor > cap:
            floor, cap = cap, floor
        a = funds.proportional(pool, standings, floor=floor, cap=cap)
        amounts = [s.amount for s in a.shares]
        assert all(x == x.quantize(D("0.01")) for x in amounts), case
        assert a.allocated == sum(amounts) and a.allocated + a.remainder == pool, case
        zero = sum(1 for s in scores if s == 0)
        most = None if cap is None else zero * (floor or 0) + (n - zero) * cap  # every share at its limit
        assert a.remainder == (max(D(0), pool - most) if most is not None else 0), (case, pool, floor, cap)
        assert all(x >= (floor or 0) for x in amounts) and (cap is None or all(x <= cap for x in amounts)), case
        if a.remainder:
            continue
        for got, exact in zip(amounts, _oracle(pool, scores, floor or D(0), cap), strict=True):
            assert abs(float(got) - exact) < 0.01 + 1e-6 * max(1.0, exact), (case, got, exact)
        # tiers scaled to the same pool: exact too
        grades = [rng.choice(GRADES) for _ in range(n)]
        tiered = [Standing(s.code, s.name, s.total, g) for s, g in zip(standings, grades, strict=True)]
        tiers = {"优秀": D(rng.randint(1, 10**9)) / 100, "良好": D(rng.randint(1, 10**9)) / 100}
        if any(g in tiers for g in grades):
            b = funds.scaled_tiers(pool, tiered, tiers)
            assert b.allocated == pool and b.remainder == 0, case
