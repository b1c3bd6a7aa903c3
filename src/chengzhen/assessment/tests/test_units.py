"""The unit table on its own (no database): every spelling in the shipped table, the
normalisation, every dimension's conversions, refusals, quantities and the 10000-fold hints."""

from __future__ import annotations

import math
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
import yaml

from chengzhen.assessment import units
from chengzhen.assessment.units import (
    Unit,
    UnitError,
    convert,
    describe,
    factor,
    known,
    parse_quantity,
    same_dimension,
    suspicious_factor,
    table,
    unit,
)

D = Decimal
SHIPPED = yaml.safe_load(units.TABLE_FILE.read_text(encoding="utf-8"))
SPELLINGS = [
    (spec["code"], spelling) for spec in SHIPPED["units"] for spelling in (spec["code"], *spec.get("aliases", []))
]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# --- spellings and normalisation ---------------------------------------------------------------


@pytest.mark.parametrize(("code", "spelling"), SPELLINGS)
def test_every_spelling_in_the_table_names_its_unit(code, spelling):
    assert unit(spelling).code == code
    assert known(spelling)


@pytest.mark.parametrize(("code", "spelling"), SPELLINGS)
def test_spellings_survive_full_width_case_and_spaces(code, spelling):
    assert unit(full_width(spelling)).code == code
    assert unit(spelling.upper()).code == code
    assert unit(spelling.lower()).code == code
    assert unit(f"  {' '.join(spelling)}\u3000").code == code


@pytest.mark.parametrize(
    "text",
    ["m²/人", "m2/人", "㎡/人", "M2/人", "m^2/人", "ｍ²／人", "平方米 / 人", "平方米每人", "平米/人", "平方米/人"],
)
def test_square_metres_per_person_in_any_spelling(text):
    assert unit(text).code == "平方米/人"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("m²", "平方米"),
        ("m2", "平方米"),
        ("㎡", "平方米"),
        ("km²", "平方公里"),
        ("㎢", "平方公里"),
        ("KM2", "平方公里"),
        ("m³", "立方米"),
        ("㎥", "立方米"),
        ("μg/m³", "μg/m³"),
        ("µg/m³", "μg/m³"),
        ("ug/m3", "μg/m³"),
        ("㎍/㎥", "μg/m³"),
        ("UG/M3", "μg/m³"),
        ("mg/l", "mg/L"),
        ("㎎/L", "mg/L"),
        ("km/km²", "公里/平方公里"),
        ("千米/平方千米", "公里/平方公里"),
        ("KWH", "千瓦时"),
        ("kW·h", "千瓦时"),
        ("dB（A）", "分贝"),
        ("㏈", "分贝"),
        ("％", "%"),
        ("﹪", "%"),
        ("hm²", "公顷"),
        ("㏊", "公顷"),
        ("座每万人", "座/万人"),
        ("座 / 每万人", "座/万人"),
        ("张每千人", "张/千人"),
        ("吨标煤每万元", "吨标煤/万元"),
        ("Min", "分钟"),
        ("H", "小时"),
        ("T", "吨"),
        ("ｋｍ", "公里"),
        ("日", "天"),
        ("￥", "元"),
    ],
)
def test_normalisation(text, code):
    assert unit(text).code == code


@pytest.mark.parametrize("text", [None, "", "   ", "\u3000", "无", " 无 ", "-", "－", "—", "——", "/", "无单位"])
def test_blank_and_none_are_dimensionless(text):
    got = unit(text)
    assert got.code == units.DIMENSIONLESS == ""
    assert got.dimension == "none"
    assert describe(text) == "无单位"
    assert factor(text, "") == 1


@pytest.mark.parametrize("text", ["平方米每平方米", "万", "kg/m3", "元/平方米", "度", "3", "人口", "m²/户"])
def test_unknown_units_are_refused_in_chinese(text):
    assert not known(text)
    with pytest.raises(UnitError) as err:
        unit(f" {text} ")
    assert str(err.value) == f"未知单位“{text}”"


def test_non_text_is_refused():
    assert not known(3)  # type: ignore[arg-type]
    with pytest.raises(UnitError, match="未知单位“3”"):
        unit(3)  # type: ignore[arg-type]


def test_describe_gives_the_chinese_name():
    assert describe("平方米/人") == "平方米每人"
    assert describe("m2/人") == "平方米每人"
    assert describe("ug/m3") == "微克每立方米"
    assert describe("%") == "百分比"
    assert describe("‰") == "千分比"
    assert describe("万元") == "万元"
    assert describe("分") == "分（分值）"
    with pytest.raises(UnitError):
        describe("平方尺")


def test_unit_carries_code_name_dimension_factor():
    assert unit("万元") == Unit("万元", "万元", "money", D(10000))
    assert unit("㎡/人").aliases == ("m²/人", "㎡/人", "平米/人")
    assert unit("亩").factor == D("666.6666666666666666666666667")
    assert unit("分钟").factor == D(1) / D(60)


# --- every dimension --------------------------------------------------------------------------


def dimension_units(dim: str) -> list[Unit]:
    return [u for u in table() if u.dimension == dim]


@pytest.mark.parametrize("dim", list(SHIPPED["dimensions"]))
def test_every_dimension_has_its_base_and_converts_within_itself(dim):
    base = SHIPPED["dimensions"][dim]["base"]
    members = dimension_units(dim)
    assert members, dim
    assert unit(base).dimension == dim and unit(base).factor == 1
    assert units.dimensions()[dim] == SHIPPED["dimensions"][dim]["name"]
    convertible = SHIPPED["dimensions"][dim].get("convertible", True)
    for a in members:
        assert factor(a.code, a.code) == 1
        assert convert(D("12.5"), a.code, a.code) == D("12.5")
        for b in members:
            assert same_dimension(a.code, b.code)
            if a.code != b.code and not convertible:
                with pytest.raises(UnitError):
                    factor(a.code, b.code)
                continue
            assert factor(a.code, b.code) == units._decimal(units._table().exact[a.code] / units._table().exact[b.code])
            there = convert(D("12.5"), a.code, b.code)
            assert abs(convert(there, b.code, a.code) - D("12.5")) < D("1e-24")
            assert math.isclose(convert(convert(12.5, a.code, b.code), b.code, a.code), 12.5, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("a", "b", "f"),
    [
        ("万元", "元", "10000"),
        ("亿元", "万元", "10000"),
        ("元", "万元", "0.0001"),
        ("千元", "万元", "0.1"),
        ("‰", "%", "0.1"),
        ("%", "‰", "10"),
        ("‱", "%", "0.01"),
        ("平方公里", "公顷", "100"),
        ("公顷", "平方米", "10000"),
        ("万平方米", "公顷", "1"),
        ("公里", "米", "1000"),
        ("座/千人", "座/万人", "10"),
        ("座/万人", "座/千人", "0.1"),
        ("张/万人", "张/千人", "0.1"),
        ("张/千人", "张/万人", "10"),
        ("人/万人", "人/千人", "0.1"),
        ("个/千人", "个/万人", "10"),
        ("万人/平方公里", "人/平方公里", "10000"),
        ("万人", "人", "10000"),
        ("万户", "户", "10000"),
        ("万人次", "人次", "10000"),
        ("mg/m³", "μg/m³", "1000"),
        ("μg/L", "mg/L", "0.001"),
        ("万吨", "吨", "10000"),
        ("千克", "吨", "0.001"),
        ("万立方米", "立方米", "10000"),
        ("亿立方米", "万立方米", "10000"),
        ("升", "立方米", "0.001"),
        ("万千瓦时", "千瓦时", "10000"),
        ("万辆", "辆", "10000"),
        ("万元/人", "元/人", "10000"),
        ("千克标煤/万元", "吨标煤/万元", "0.001"),
        ("天", "小时", "24"),
        ("周", "天", "7"),
        ("小时", "分钟", "60"),
        ("分钟", "秒", "60"),
        ("年", "月", "12"),
        ("年", "季度", "4"),
        ("倍", "倍", "1"),
        ("分", "分", "1"),
        ("级", "级", "1"),
    ],
)
def test_factors(a, b, f):
    assert factor(a, b) == D(f)
    assert isinstance(factor(a, b), Decimal)


def test_mu_and_hectare_exactly():
    # 1 亩 = 10000/15 平方米: 15 亩 is one 公顷, both ways, in Decimal and in float
    assert convert(D(15), "亩", "公顷") == D(1)
    assert convert(D(1), "公顷", "亩") == D(15)
    assert convert(D(1500), "亩", "平方公里") == D(1)
    assert convert(D(3), "亩", "平方米") == D(2000)
    assert convert(15.0, "亩", "公顷") == 1.0
    assert convert(1.0, "公顷", "亩") == 15.0
    assert convert(D(1), "亩", "平方米") == D("666.6666666666666666666666667")
    assert factor("亩", "平方米") == D("666.6666666666666666666666667")
    assert factor("公顷", "亩") == D(15)


def test_permille_and_percent():
    assert convert(D("3.5"), "‰", "%") == D("0.35")
    assert convert(D("0.35"), "%", "‰") == D("3.5")
    assert convert(3.5, "‰", "%") == 0.35  # divided, not multiplied by 0.1 (which gives 0.35000000000000003)
    assert convert(0.35, "百分比", "千分之") == 3.5


def test_convert_keeps_the_type():
    assert convert(D("1.25"), "万元", "元") == D("12500.00")
    assert type(convert(D("1.25"), "万元", "元")) is Decimal
    assert type(convert(1.25, "万元", "元")) is float
    assert convert(1.25, "万元", "元") == 12500.0
    same = D("8.0")
    assert convert(same, "m2/人", "平方米/人") is same
    assert str(convert(same, "m2/人", "平方米/人")) == "8.0"
    array = np.array([1.0, 2.5, np.nan])
    got = convert(array, "万元", "元")
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [10000.0, 25000.0, np.nan])
    assert convert(D("NaN"), "万元", "元").is_nan()


def test_convert_decimal_is_exact_with_many_digits():
    assert convert(D("123456789.123456"), "万元", "元") == D("1234567891234.56")
    assert convert(D("0.000001"), "元", "亿元") == D("1E-14")
    assert convert(D(1), "分钟", "小时") == D(1) / D(60)


def test_decimal_results_do_not_depend_on_the_callers_context():
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 3
        assert convert(D("123456.789"), "万元", "元") == D("1234567890")
        assert factor("亩", "平方米") == D("666.6666666666666666666666667")


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ("万元", "%", "单位“万元”与“%”不可换算"),
        ("个", "处", "单位“个”与“处”不可换算"),
        ("处", "项", "单位“处”与“项”不可换算"),
        ("起", "次", "单位“起”与“次”不可换算"),
        ("座", "座/万人", "单位“座”与“座/万人”不可换算"),
        ("天", "月", "单位“天”与“月”不可换算"),
        ("工作日", "天", "单位“工作日”与“天”不可换算"),
        ("百分点", "%", "单位“百分点”与“%”不可换算"),
        ("倍", "%", "单位“倍”与“%”不可换算"),
        ("μg/m³", "mg/L", "单位“μg/m³”与“mg/L”不可换算"),
        ("人", "人次", "单位“人”与“人次”不可换算"),
        ("", "%", "单位“无”与“%”不可换算"),
        ("%", "无", "单位“%”与“无”不可换算"),
        ("ug/m3", "m2", "单位“μg/m³”与“平方米”不可换算"),
    ],
)
def test_incompatible_units_are_refused(a, b, message):
    assert not same_dimension(a, b)
    for call in (lambda: factor(a, b), lambda: convert(1.0, a, b), lambda: convert(D(1), a, b)):
        with pytest.raises(UnitError) as err:
            call()
        assert str(err.value) == message


def test_unknown_units_are_refused_everywhere():
    for call in (
        lambda: factor("平米每平米", "%"),
        lambda: convert(1.0, "%", "平米每平米"),
        lambda: same_dimension("平米每平米", "%"),
        lambda: suspicious_factor(1.0, "平米每平米", 0, 1),
    ):
        with pytest.raises(UnitError, match="未知单位“平米每平米”"):
            call()


def test_count_words_are_each_their_own_dimension():
    counts = ["个", "处", "项", "次", "起", "座", "部", "张", "家", "条", "所", "件", "栋", "台", "辆", "人", "户"]
    assert len({unit(c).dimension for c in counts}) == len(counts)
    for c in counts:
        assert factor(c, c) == 1


def test_a_non_convertible_dimension_refuses_between_its_units(monkeypatch):
    data = {
        "dimensions": {
            "none": {"name": "无量纲", "base": ""},
            "grade": {"name": "等级", "base": "级", "convertible": False},
        },
        "units": [
            {"code": "", "dimension": "none", "factor": 1},
            {"code": "级", "dimension": "grade", "factor": 1},
            {"code": "星", "dimension": "grade", "factor": 2},
        ],
    }
    assert not units._table().dimensions["grade"].convertible  # shipped: 级 alone
    monkeypatch.setattr(units, "_table", lambda: units._build(data))
    assert same_dimension("级", "星")
    assert factor("星", "星") == 1
    with pytest.raises(UnitError, match="单位“级”与“星”不可换算"):
        factor("级", "星")


# --- quantities -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number", "code"),
    [
        ("8.0 平方米/人", "8.0", "平方米/人"),
        ("35%", "35", "%"),
        ("35 %", "35", "%"),
        ("３５％", "35", "%"),
        ("8", "8", None),
        (" 8.50 ", "8.50", None),
        ("-2.5‰", "-2.5", "‰"),
        ("+3 个", "3", "个"),
        ("−1 分", "-1", "分"),
        ("1,200 万元", "1200", "万元"),
        ("1，200万元", "1200", "万元"),
        (".5 公顷", "0.5", "公顷"),
        ("5. 亩", "5", "亩"),
        ("7.5m²/人", "7.5", "平方米/人"),
        ("2 座每万人", "2", "座/万人"),
        ("35 ug/m3", "35", "μg/m³"),
        ("0", "0", None),
        ("100 无", "100", ""),
    ],
)
def test_parse_quantity(text, number, code):
    got = parse_quantity(text)
    assert got == (D(number), code)
    assert type(got[0]) is Decimal
    assert str(got[0]) == str(D(number))


@pytest.mark.parametrize(
    "text",
    [
        "> 8",
        "≥35%",
        "<=8 平方米/人",
        "",
        "  ",
        "abc",
        "约 8",
        "8-10",
        "8~10",
        "8,0",
        "1,20",
        "8.0.1",
        "1e5",
        "nan",
        "inf",
        "八",
    ],
)
def test_parse_quantity_refuses_what_is_not_a_number_with_a_unit(text):
    with pytest.raises(UnitError) as err:
        parse_quantity(text)
    assert str(err.value).startswith(f"无法识别数量“{text.strip()}”")


def test_parse_quantity_names_an_unknown_unit():
    with pytest.raises(UnitError) as err:
        parse_quantity("3.5 万")
    assert str(err.value) == "无法识别数量“3.5 万”：未知单位“万”"


# --- the 10000-fold hint ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code", "low", "high", "hint"),
    [
        (35000, "万元", 0, 1000, "数值可能以“元”填写而指标单位为“万元”（相差 10000 倍），请确认"),
        (0.05, "元", 100, 10000, "数值可能以“万元”填写而指标单位为“元”（相差 10000 倍），请确认"),
        (35000, "亿元", 0, 10, "数值可能以“万元”填写而指标单位为“亿元”（相差 10000 倍），请确认"),
        (0.0003, "万元", 1, None, "数值可能以“亿元”填写而指标单位为“万元”（相差 10000 倍），请确认"),
        (1_200_000, "万人", None, 500, "数值可能以“人”填写而指标单位为“万人”（相差 10000 倍），请确认"),
        (12.5, "人", 1000, None, "数值可能以“万人”填写而指标单位为“人”（相差 10000 倍），请确认"),
        (3_000_000, "万户", 0, 1000, "数值可能以“户”填写而指标单位为“万户”（相差 10000 倍），请确认"),
        (0.3, "户", 100, 100000, "数值可能以“万户”填写而指标单位为“户”（相差 10000 倍），请确认"),
        (80_000, "万元/人", 0, 100, "数值可能以“元/人”填写而指标单位为“万元/人”（相差 10000 倍），请确认"),
        (5_000_000, "平方公里", 0, 10000, "数值可能相差 10000 倍（指标单位为“平方公里”），请确认"),
        (35000, "万元人民币", 0, 1000, "数值可能以“元”填写而指标单位为“万元”（相差 10000 倍），请确认"),
    ],
)
def test_suspicious_factor_hints(value, code, low, high, hint):
    assert suspicious_factor(value, code, low, high) == hint


@pytest.mark.parametrize(
    ("value", "code", "low", "high"),
    [
        (500, "万元", 0, 1000),  # inside
        (0, "万元", 0, 1000),
        (1000, "万元", 0, 1000),  # bounds are inclusive
        (35000, "万元", None, None),  # no range: nothing to compare with
        (5e9, "万元", 0, 1000),  # off, but not by 10000
        (35000, "%", 0, 100),  # not a dimension checked for 10000
        (350, "μg/m³", 0, 100),
        (2e5, "个", 0, 100),
        (math.nan, "万元", 0, 1000),
    ],
)
def test_suspicious_factor_stays_quiet(value, code, low, high):
    assert suspicious_factor(value, code, low, high) is None


# --- the table --------------------------------------------------------------------------------


def test_table_lists_every_unit_once_dimensionless_first():
    rows = table()
    assert rows[0].code == ""
    assert [u.code for u in rows] == [spec["code"] for spec in SHIPPED["units"]]
    assert len({u.code for u in rows}) == len(rows)
    rows.clear()
    assert table(), "table() returns a copy"


def test_the_spec_minimum_is_shipped():
    needed = [
        "%",
        "‰",
        "平方米/人",
        "公里/平方公里",
        "元",
        "万元",
        "亿元",
        "座/万人",
        "座/千人",
        "张/千人",
        "张/万人",
        "人/平方公里",
        "万人/平方公里",
        "μg/m³",
        "mg/L",
        "平方米",
        "公顷",
        "平方公里",
        "亩",
        "米",
        "公里",
        "人",
        "万人",
        "户",
        "万户",
        "个",
        "处",
        "项",
        "次",
        "起",
        "座",
        "部",
        "张",
        "家",
        "条",
        "所",
        "天",
        "月",
        "年",
        "分",
        "小时",
        "分钟",
        "吨",
        "万吨",
        "吨标煤/万元",
        "立方米",
        "万立方米",
        "千瓦时",
        "分贝",
        "辆",
        "万辆",
        "倍",
        "级",
        "",
    ]
    codes = {u.code for u in table()}
    assert not [c for c in needed if c not in codes]
    for alias, code in [
        ("m²/人", "平方米/人"),
        ("km/km²", "公里/平方公里"),
        ("千米/平方千米", "公里/平方公里"),
        ("微克/立方米", "μg/m³"),
        ("hm²", "公顷"),
        ("km²", "平方公里"),
        ("m", "米"),
        ("km", "公里"),
        ("日", "天"),
        ("h", "小时"),
        ("min", "分钟"),
        ("t", "吨"),
        ("m³", "立方米"),
        ("kWh", "千瓦时"),
        ("dB(A)", "分贝"),
        ("百分之", "%"),
        ("pct", "%"),
        ("千分比", "‰"),
    ]:
        assert unit(alias).code == code


def test_every_unit_has_a_chinese_or_given_name():
    for u in table():
        assert u.name
        assert describe(u.code) == u.name


def test_the_table_is_parsed_once():
    assert units._table() is units._table()
    assert units._table.cache_info().hits >= 1


def good_table() -> dict:
    return {
        "dimensions": {"none": {"name": "无量纲", "base": ""}, "money": {"name": "金额", "base": "元"}},
        "units": [
            {"code": "", "dimension": "none", "factor": 1},
            {"code": "元", "dimension": "money", "factor": 1, "aliases": ["CNY"]},
            {"code": "万元", "dimension": "money", "factor": "1e4"},
        ],
    }


def test_build_accepts_a_small_table_and_fractions():
    built = units._build(good_table())
    assert built.exact["万元"] == 10000
    data = good_table()
    data["units"][2]["factor"] = "10000/15"
    assert units._build(data).exact["万元"] == Fraction(2000, 3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["units"].append({"code": "元", "dimension": "money", "factor": 1}), "单位“元”重复"),
        (
            lambda d: d["units"].append({"code": "圆", "dimension": "money", "factor": 1, "aliases": ["cny"]}),
            "写法“cny”已用于单位“元”",
        ),
        (lambda d: d["units"].append({"code": "米", "dimension": "length", "factor": 1}), "未知量纲 length"),
        (lambda d: d["units"][1].update(factor=2), "基准单位“元”的 factor 应为 1"),
        (lambda d: d["units"][2].update(factor=0), "factor 应大于 0"),
        (lambda d: d["units"][2].update(factor="许多"), "不是数"),
        (lambda d: d["units"][2].update(factor="1/0"), "不是数"),
        (lambda d: d["units"][2].update(factor=True), "factor 应为正数或分数"),
        (lambda d: d["units"][2].update(colour="red"), "应有 code、dimension、factor"),
        (lambda d: d["units"][2].update(aliases="万"), "aliases 应为列表"),
        (lambda d: d["dimensions"]["money"].update(base="万万元"), "基准单位“万万元”不在该量纲的单位中"),
        (lambda d: d["dimensions"]["money"].update(colour="red"), "应有 name、base"),
        (lambda d: d.update(extra=1), "只有 dimensions 和 units"),
        (lambda d: d["units"].pop(0), "无单位"),
    ],
)
def test_build_refuses_a_broken_table(change, message):
    data = good_table()
    change(data)
    with pytest.raises(UnitError, match=message):
        units._build(data)


def test_the_module_imports_no_django():
    code = (
        "import sys, chengzhen.assessment.units as u; u.table(); "
        "print(any(m.startswith('django') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
