"""Pure parsing of ledger sheets: dates, money, headers, multi-valued cells."""

import datetime as dt
from decimal import Decimal

import pytest

from chengzhen.ledger import sheet as S

EPOCH_1900 = dt.datetime(1899, 12, 30)
EPOCH_1904 = dt.datetime(1904, 1, 1)


@pytest.mark.parametrize("value,expected", [
    ("2026-03-31", dt.date(2026, 3, 31)), ("2026/3/31", dt.date(2026, 3, 31)),
    ("2026.3.31", dt.date(2026, 3, 31)), ("2026年3月31日", dt.date(2026, 3, 31)),
    ("2026年3月31", dt.date(2026, 3, 31)), ("20260331", dt.date(2026, 3, 31)),
    (dt.datetime(2026, 3, 31, 0, 0), dt.date(2026, 3, 31)), (dt.date(2026, 3, 31), dt.date(2026, 3, 31)),
    (46112, dt.date(2026, 3, 31)), (None, None), ("  ", None),
])
def test_dates(value, expected):
    assert S.parse_date(value, EPOCH_1900) == expected


def test_serial_dates_in_both_date_systems():
    assert S.parse_date(46112, EPOCH_1900) == dt.date(2026, 3, 31)
    assert S.parse_date(46112 - 1462, EPOCH_1904) == dt.date(2026, 3, 31)


@pytest.mark.parametrize("value", ["下个月底", "2026-02-30", "3月底", "2026-13-01"])
def test_unreadable_dates(value):
    with pytest.raises(S.CellError):
        S.parse_date(value, EPOCH_1900)


@pytest.mark.parametrize("value,factor,yuan", [
    (12, Decimal(10000), "120000.00"), ("12万", Decimal(10000), "120000.00"),
    ("12万元", Decimal(1), "120000.00"), ("120000元", Decimal(10000), "120000.00"),
    ("1.2亿", Decimal(10000), "120000000.00"), ("1,234.5", Decimal(10000), "12345000.00"),
    (123.456789, Decimal(10000), "1234567.89"), (5, Decimal(1), "5.00"), (None, Decimal(1), None),
])
def test_money(value, factor, yuan):
    result = S.parse_money(value, factor)
    assert (str(result) if result is not None else None) == yuan


@pytest.mark.parametrize("value", ["-5", -3, "十万", "12美元"])
def test_bad_money(value):
    with pytest.raises(S.CellError):
        S.parse_money(value)


def test_yuan_to_wan_is_exact_to_the_fen():
    for yuan in ("0.01", "1234567.89", "100000000.00", "0.00"):
        wan = S.yuan_to_wan(Decimal(yuan))
        assert S.parse_money(float(wan)) == Decimal(yuan)


@pytest.mark.parametrize("header,key,year,factor", [
    ("任务编号", "code", None, 10000), ("code", "code", None, 10000),
    ("牵头单位", "lead_unit", None, 10000), ("Lead_Unit", "lead_unit", None, 10000),
    ("责任单位", "lead_unit", None, 10000), ("计划总投资（元）", "planned_total_investment", None, 1),
    ("计划总投资\n（万元）", "planned_total_investment", None, 10000),
    ("2026年计划投资", "annual_plan", 2026, 10000), ("年度计划投资", "annual_plan", 2025, 10000),
    ("年度计划投资（2027年）", "annual_plan", 2027, 10000), ("累计完成投资", "", None, 10000),
    ("亮灯状态", "", None, 10000),
])
def test_header_matching(header, key, year, factor):
    assert S.match_header(header, 2025) == (key, year, Decimal(factor))


def test_unknown_header():
    assert S.match_header("甲方意见", 2026) is None


def test_find_header_two_rows_any_order_unknown_and_computed():
    rows = [
        ("2026年台账", None, None, None, None, None, None, None),
        ("填报日期：2026年11月24日",),
        ("完成时限", "开始时间", "牵头单位", "任务名称", "任务编号", "投资（元）", None, "甲方意见"),
        (None, None, None, None, None, "计划总投资", "累计完成投资", None),
        ("2026-05-01", "2026-01-01", "青山镇", "修路", "A1", 5, 1, "x"),
    ]
    h = S.find_header(rows, "f.xlsx", "台账", 2026)
    assert not h.problems
    assert h.data_start == 4
    keys = {c.key: c.index for c in h.columns}
    assert keys == {"due_date": 0, "start_date": 1, "lead_unit": 2, "name": 3, "code": 4,
                    "planned_total_investment": 5}
    invest = next(c for c in h.columns if c.key == "planned_total_investment")
    assert invest.money_factor == 1  # the group header says 元
    assert h.ignored == ["甲方意见"] and h.computed == ["累计完成投资"]


def test_missing_required_column():
    h = S.find_header([("任务编号", "任务名称", "开始时间")], "f.xlsx", "s", 2026)
    assert [str(p) for p in h.problems] == [
        "f.xlsx:s:1:牵头单位: 缺少必填列", "f.xlsx:s:1:完成时限: 缺少必填列",
    ]


def test_units_and_nodes():
    assert S.split_units("县住建局、县财政局，县交通局;县住建局\n县水利局") == [
        "县住建局", "县财政局", "县交通局", "县水利局"]
    nodes = S.parse_nodes("开工建设：2026-03-01（完成于2026-03-05）\n主体完工:2026/9/30\n")
    assert nodes == [S.NodeSpec("开工建设", dt.date(2026, 3, 1), dt.date(2026, 3, 5)),
                     S.NodeSpec("主体完工", dt.date(2026, 9, 30))]
    assert S.parse_nodes(S.format_nodes(nodes)) == nodes
    with pytest.raises(S.CellError):
        S.parse_nodes("开工建设 三月")


def test_node_names_keep_leading_digits_and_list_numbering_is_dropped():
    assert [n.name for n in S.parse_nodes("3号楼封顶：2026-05-01\n-5m基坑：2026-06-01")] == [
        "3号楼封顶", "-5m基坑"]
    numbered = "1. 施工图：2026-01-01\n2、开工：2026/2/1\n(3) 完工：2026年3月1日（完成于2026-03-02）"
    assert S.parse_nodes(numbered) == [
        S.NodeSpec("施工图", dt.date(2026, 1, 1)), S.NodeSpec("开工", dt.date(2026, 2, 1)),
        S.NodeSpec("完工", dt.date(2026, 3, 1), dt.date(2026, 3, 2))]
    assert [n.name for n in S.parse_nodes("• 立项：2026-01-01\n· 开工：2026-02-01")] == [
        "立项", "开工"]


def test_status():
    assert S.parse_status("推进中") == ("in_progress", None)
    status, warning = S.parse_status("滞后")
    assert status == "in_progress" and "推进中" in warning
    with pytest.raises(S.CellError):
        S.parse_status("差不多了")
