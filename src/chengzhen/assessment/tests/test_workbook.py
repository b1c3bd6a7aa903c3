"""workbook.py: frameworks, values, profiles and results as real .xlsx/.csv files in tmp_path, read back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from chengzhen.assessment import workbook as W
from chengzhen.assessment.framework import from_dict, load_framework
from chengzhen.problems import Refused

FRAMEWORKS = sorted((Path(W.__file__).parent / "data" / "frameworks").glob("*.yaml"))
DAY = dt.date(2024, 5, 6)

# A hand-made framework using every column: weights, a formula, class-dependent parameters with a
# default, a band, an open range, a key item, every rule type, multi-line and formula-looking text.
HAND = """
code: TEST-1
version: "2024.1"
name: 测试体系
status: sample
sources:
  - 测试来源一; example.org/a
  - 测试来源二
description: "第一段说明\\n第二段说明"
levels: [类别, 指标]
total: 100
profile:
  band: {name: 人口规模, values: {big: 大城市, small: 小城市}}
  climate: {name: 南北, values: {south: 南方, north: 北方}}
grades:
  bands: [{name: 优, min: 85}, {name: 中, min: 60.5}, {name: 差}]
  quota: {优: 0.3}
  quota_ties: include
  unverified: true
nodes:
  - code: A
    name: 环境
    points: 40
    unverified: true
    children:
      - code: A01
        name: 绿地率
        weight: 0.75
        unit: "%"
        direction: higher
        range: [0, 100]
        key: true
        key_pass: 3.5
        formula: {numerator: {name: 绿地面积, unit: 公顷}, denominator: {name: 建成区面积, unit: 公顷}, scale: 100}
        rule:
          type: linear
          floor: {by: [band, climate], values: {big/south: 30, big/north: 29.5}, default: 28}
          target: "35 %"
        data_source: 统计年鉴
        department: 园林局
        evidence: "=台账"
        method: 材料审核
        note: "第一行\\n第二行"
        unverified: true
      - code: A02
        name: 噪声
        weight: 0.25
        unit: 分贝
        direction: band
        range: [null, 120]
        rule: {type: threshold, low: 40, high: 55}
  - code: B
    name: 服务
    points: 60
    children:
      - {code: B01, name: 脏乱差问题, points: 10, unit: 处, direction: lower, rule: {type: deduction, per: 2, cap: 10}}
      - code: B02
        name: 群众满意度
        points: 10
        rule: {type: satisfaction, options: {满意: 100, 一般: 60, 不满意: 0}, min_responses: 30}
      - code: B03
        name: 三年综合
        points: 10
        rule: {type: composite, years: [{label: 第一年, weight: 0.2}, {label: 第二年, weight: 0.8}]}
      - {code: B04, name: 覆盖率, points: 10, unit: "%", rule: {type: steps, steps: [[90, 10], [80, 6]], else: 1}}
      - {code: B05, name: 完成率, points: 10, unit: "%", rule: {type: proportional, full_at: 95}}
      - {code: B06, name: 财政投入, points: 10, unit: 万元, range: [0, 1000], rule: {type: threshold, target: 500}}
      - {code: B07, name: 重大事故, unit: 起, rule: {type: veto, missing: veto}}
      - {code: B08, name: 基础测评, unit: 分, rule: {type: prerequisite, target: 60, op: ">"}}
  - code: C
    name: 加分
    children:
      - {code: C.01, name: 创新举措, points: 10, unit: 项, rule: {type: bonus, per: 1, cap: 10}}
"""
# rows of the 测评体系 sheet (header on rows 3–4, data from row 5)
ROW = {
    code: 5 + i
    for i, code in enumerate(
        ["A", "A01", "A02", "B", "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "C", "C.01"]
    )
}


@pytest.fixture
def fw():
    return load_framework(HAND, "hand.yaml")


def framework_file(fw, tmp_path: Path, name: str = "体系.xlsx") -> Path:
    path = tmp_path / name
    W.write_framework(fw, path, date=DAY)
    return path


def edit(path: Path, sheet: str, changes: dict[tuple[int, str], object], header_row: int = 3) -> None:
    """Change cells given as (Excel row, header text) → value, as someone editing the file would."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    headers = {}
    for r in (header_row, header_row + 1):
        for c in range(1, ws.max_column + 1):
            if ws.cell(r, c).value:
                headers[ws.cell(r, c).value] = c
    for (row, header), value in changes.items():
        ws.cell(row, headers[header]).value = value
    wb.save(path)


def refused(fn, *args, **kwargs) -> list[str]:
    with pytest.raises(Refused) as exc:
        fn(*args, **kwargs)
    return [str(p) for p in exc.value.problems]


# ---- framework round trip --------------------------------------------------------------------------


def test_shipped_frameworks_exist():
    assert FRAMEWORKS, "data/frameworks/*.yaml should hold the shipped frameworks"


@pytest.mark.parametrize("source", FRAMEWORKS, ids=lambda p: p.name)
def test_shipped_framework_round_trip(source: Path, tmp_path: Path):
    fw = load_framework(source.read_text(encoding="utf-8"), source.name)
    path = framework_file(fw, tmp_path)
    assert W.read_framework(path, "体系.xlsx") == fw.as_dict()
    again = W.load_framework_xlsx(path, "体系.xlsx")
    assert again.as_dict() == fw.as_dict()
    assert [n.code for n in again.walk()] == [n.code for n in fw.walk()]


def test_hand_made_round_trip(fw, tmp_path: Path):
    path = framework_file(fw, tmp_path)
    data = W.read_framework(path, "体系.xlsx")
    assert data == fw.as_dict()
    back = W.load_framework_xlsx(path, "体系.xlsx")
    assert back.as_dict() == fw.as_dict()
    assert back.node("A01").points == 30 and back.node("A01").evidence == "=台账"
    assert back.node("A01").note == "第一行\n第二行"
    assert back.description == "第一段说明\n第二段说明"


def test_minimal_framework_round_trip(tmp_path: Path):
    # no levels, total, profile, grades or description: none of them appear after the round trip
    data = {
        "code": "MIN",
        "version": "1",
        "name": "最小体系",
        "status": "complete",
        "sources": ["某文件"],
        "nodes": [
            {"code": "1", "name": "唯一指标", "points": 100, "unit": "%", "rule": {"type": "threshold", "target": 50}}
        ],
    }
    fw = from_dict(data)
    path = framework_file(fw, tmp_path)
    assert W.read_framework(path) == fw.as_dict() == data


def test_framework_sheet_layout(fw, tmp_path: Path):
    wb = openpyxl.load_workbook(framework_file(fw, tmp_path))
    assert wb.sheetnames == ["测评体系", "体系信息"]
    ws = wb["测评体系"]
    assert ws.cell(1, 1).value == "测试体系（TEST-1@2024.1）"
    assert ws.cell(2, 1).value == "完整性：示例；导出日期 2024-05-06"
    assert [ws.cell(3, c).value for c in range(1, 23)] == [
        "序号",
        "代码",
        "上级代码",
        "层级",
        "名称",
        "分值",
        "权重",
        "单位",
        "方向",
        "取值范围",
        "评分规则",
        "规则参数",
        "计算公式",
        "关键项",
        "关键项及格分",
        "数据来源",
        "责任部门",
        "佐证材料要求",
        "采集方式",
        "平台取数",
        "待核实",
        "备注",
    ]
    row = [ws.cell(ROW["A01"], c).value for c in range(1, 23)]
    assert row == [
        2,
        "A01",
        "A",
        2,
        "绿地率",
        None,
        0.75,
        "%",
        "越高越好",
        "[0, 100]",
        "linear",
        "{floor: {by: [band, climate], values: {big/south: 30, big/north: 29.5}, default: 28}, target: 35 %}",
        "{numerator: {name: 绿地面积, unit: 公顷}, denominator: {name: 建成区面积, unit: 公顷}, scale: 100}",
        "是",
        3.5,
        "统计年鉴",
        "园林局",
        "=台账",
        "材料审核",
        None,
        "是",
        "第一行\n第二行",
    ]
    assert ws.cell(ROW["A01"], 18).quotePrefix  # formula-looking text stays text
    assert [ws.cell(ROW["A02"], c).value for c in (9, 10, 11, 12)] == [
        "目标区间",
        "[null, 120]",
        "threshold",
        "{low: 40, high: 55}",
    ]
    assert [ws.cell(ROW["B07"], c).value for c in (2, 3, 4, 6, 11, 12)] == [
        "B07",
        "B",
        2,
        None,
        "veto",
        "{missing: veto}",
    ]
    assert ws.cell(ROW["C"], 6).value is None  # C's points are not written in the definition
    assert ws.max_row == ROW["C.01"]
    info = wb["体系信息"]
    assert info.cell(1, 1).value == "测试体系（TEST-1@2024.1）体系信息"
    items = {info.cell(r, 2).value: info.cell(r, 3).value for r in range(5, info.max_row + 1)}
    assert list(items) == ["代码", "版本", "名称", "完整性", "来源", "说明", "层级名称", "总分", "对象属性", "等次"]
    assert items["版本"] == "2024.1" and info.cell(6, 3).data_type == "s"
    assert items["完整性"] == "示例"
    assert items["来源"] == "测试来源一; example.org/a\n测试来源二"
    assert items["层级名称"] == "类别、指标"
    assert items["总分"] == 100
    assert items["对象属性"] == (
        "band:\n  name: 人口规模\n  values: {big: 大城市, small: 小城市}\n"
        "climate:\n  name: 南北\n  values: {south: 南方, north: 北方}"
    )
    assert items["等次"].startswith("bands:\n- {name: 优, min: 85}")


def test_framework_read_accepts_chinese_names_and_codes(fw, tmp_path: Path):
    path = framework_file(fw, tmp_path)
    edit(
        path,
        "测评体系",
        {
            (ROW["A02"], "评分规则"): "达标得分",
            (ROW["B01"], "评分规则"): "扣分",
            (ROW["B01"], "方向"): "lower",
            (ROW["A01"], "取值范围"): "0~100",
            (ROW["A01"], "关键项"): "√",
            (ROW["A02"], "关键项"): "否",
            (ROW["B01"], "规则参数"): "per: 2, cap: 10",
        },
    )
    edit(path, "体系信息", {(8, "内容"): "sample"})
    assert W.read_framework(path) == fw.as_dict()


def test_framework_rows_in_any_order_and_blank_rows(fw, tmp_path: Path):
    # a parent may come after its children, blank rows are skipped; siblings keep their rows' order
    path = framework_file(fw, tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["测评体系"]
    ws.move_range(f"A{ROW['C']}:V{ROW['C']}", rows=3)  # C below its child, after two blank rows
    wb.save(path)
    assert W.read_framework(path) == fw.as_dict()
    ws.move_range(f"A{ROW['A01']}:V{ROW['A01']}", rows=ROW["C.01"] + 5 - ROW["A01"])  # A01 last of all
    wb.save(path)
    children = W.read_framework(path)["nodes"][0]["children"]
    assert [c["code"] for c in children] == ["A02", "A01"]


# ---- framework refusals ------------------------------------------------------------------------


def test_framework_structure_refused(fw, tmp_path: Path):
    path = framework_file(fw, tmp_path)
    edit(
        path,
        "测评体系",
        {
            (ROW["A02"], "代码"): "A01",  # duplicate
            (ROW["B01"], "上级代码"): "X",  # unknown parent
            (ROW["B02"], "代码"): None,  # blank code
            (ROW["B03"], "分值"): "十分",  # not a number
            (ROW["B04"], "规则参数"): "{steps: [[90, 10]",  # YAML broken
            (ROW["B05"], "评分规则"): None,  # parameters without a rule
            (ROW["B06"], "方向"): "越大越好",
            (ROW["B07"], "待核实"): "也许",
            (ROW["B08"], "取值范围"): "0到100",
            (ROW["C.01"], "规则参数"): "{type: bonus, per: 1}",
        },
    )
    edit(path, "体系信息", {(12, "内容"): "一百"})
    assert refused(W.read_framework, path, "体系.xlsx") == [
        "体系.xlsx:体系信息:12:内容: 总分应为数值，不是“一百”",
        "体系.xlsx:测评体系:10:代码: 缺少代码",
        "体系.xlsx:测评体系:11:分值: 应为数值，不是“十分”",
        "体系.xlsx:测评体系:12:规则参数: YAML 格式错误：did not find expected ',' or ']'",
        "体系.xlsx:测评体系:13:评分规则: 填写了规则参数，但缺少评分规则",
        "体系.xlsx:测评体系:14:方向: 方向应为 越高越好、越低越好 或 目标区间，不是“越大越好”",
        "体系.xlsx:测评体系:15:待核实: 应填“是”或留空，不是“也许”",
        "体系.xlsx:测评体系:16:取值范围: 取值范围应写作 [下限, 上限]（如 [0, 100]，无限制写 null），不是“0到100”",
        "体系.xlsx:测评体系:18:规则参数: 规则参数中不写 type：规则类型填在“评分规则”列",
        "体系.xlsx:测评体系:7:代码: 代码“A01”重复（已用于第 6 行）",
        "体系.xlsx:测评体系:9:上级代码: 上级代码“X”不是本表中的指标代码",
    ]


def test_framework_cycle_refused(fw, tmp_path: Path):
    path = framework_file(fw, tmp_path)
    edit(path, "测评体系", {(ROW["A"], "上级代码"): "A01"})
    assert refused(W.read_framework, path, "体系.xlsx") == [
        "体系.xlsx:测评体系:5:上级代码: 上级代码形成循环：A → A01 → A",
        "体系.xlsx:测评体系:6:上级代码: 上级代码形成循环：A01 → A → A01",
    ]


def test_framework_info_refused(fw, tmp_path: Path):
    path = framework_file(fw, tmp_path)
    edit(path, "体系信息", {(5, "项目"): "编号", (7, "项目"): "版本", (13, "内容"): "band: [1"})
    assert refused(W.read_framework, path, "体系.xlsx") == [
        "体系.xlsx:体系信息:5:项目: 未知的项目“编号”"
        "（可用：代码、版本、名称、完整性、来源、说明、层级名称、总分、对象属性、等次）",
        "体系.xlsx:体系信息:7:项目: 项目“版本”重复（已见于第 6 行）",
        "体系.xlsx:体系信息:13:内容: 对象属性：YAML 格式错误：did not find expected ',' or ']'",
    ]


def test_framework_sheets_required(tmp_path: Path):
    path = tmp_path / "空.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "测评体系"
    wb.save(path)
    assert refused(W.read_framework, path, "空.xlsx") == ["空.xlsx: 没有名为 '体系信息' 的工作表"]
    wb["测评体系"]["A1"] = "随便写的"
    wb.create_sheet("体系信息")
    wb.save(path)
    assert refused(W.read_framework, path, "空.xlsx") == [
        "空.xlsx:体系信息: 找不到表头：前 10 行中没有“项目”“内容”等列名"
    ]


def test_framework_check_problems_placed(fw, tmp_path: Path):
    # from_dict's problems come back on the row of their node, in the column of their field
    path = framework_file(fw, tmp_path)
    edit(
        path,
        "测评体系",
        {
            (ROW["A01"], "权重"): 0.7,  # weights of A's children no longer sum to 1
            (ROW["B"], "分值"): 70,  # children sum to 60; top level to 110
            (ROW["B01"], "规则参数"): "{per: 很多, cap: 10}",
            (ROW["B04"], "评分规则"): None,
            (ROW["B04"], "规则参数"): None,
            (ROW["B05"], "评分规则"): "打分",
            (ROW["B06"], "单位"): "平方尺",
            (ROW["A01"], "计算公式"): "{numerator: 绿地面积, denominator: 建成区面积, scale: 0}",
        },
    )
    lines = refused(W.load_framework_xlsx, path, "体系.xlsx")
    assert lines == [
        "体系.xlsx:测评体系:5:权重: 权重合计 0.95，应为 1 或 100",
        "体系.xlsx:测评体系:6:计算公式: scale：比例系数应为正数（百分比为 100）",
        "体系.xlsx:测评体系:9:规则参数: per：'很多' 不是数值：无法识别数量“很多”：应为数值加单位，如“8.0 平方米/人”",
        "体系.xlsx:测评体系:12:评分规则: 末级指标缺少评分规则（rule）",
        "体系.xlsx:测评体系:13:评分规则: 未知的评分规则 '打分'"
        "（可用：bonus、composite、deduction、linear、prerequisite、proportional、satisfaction、steps、threshold、veto）",
        "体系.xlsx:测评体系:14:单位: 未知单位“平方尺”",
        # B04 and B05 were dropped (no rule, unknown rule): B's children now add up to 40
        "体系.xlsx:测评体系:8:分值: 下级指标分值合计 40（加分项除外），与本项分值 70 不符",
        "体系.xlsx:体系信息:12:内容: 一级指标分值合计 110，与声明的总分 100 不符",
    ]


# ---- values ------------------------------------------------------------------------------------

SUBJECTS = [("S1", "甲镇"), ("S2", "乙镇")]


def values_file(fw, tmp_path: Path, previous=None) -> Path:
    path = tmp_path / "数值.xlsx"
    W.write_values_template(fw, SUBJECTS, path, previous=previous, date=DAY)
    return path


def template_rows(path: Path) -> dict[tuple[str, str, str], int]:
    """(subject, code, 取值项) → Excel row of a written template."""
    ws = openpyxl.load_workbook(path)["数值填报"]
    return {(ws.cell(r, 2).value, ws.cell(r, 4).value, ws.cell(r, 6).value): r for r in range(5, ws.max_row + 1)}


def test_values_template_layout(fw, tmp_path: Path):
    path = values_file(fw, tmp_path, previous={("S1", "B06", "value"): 321.5})
    ws = openpyxl.load_workbook(path)["数值填报"]
    assert ws.cell(1, 1).value == "测试体系（TEST-1@2024.1）数值填报表"
    assert [ws.cell(3, c).value for c in range(1, 11)] == [
        "序号",
        "对象代码",
        "对象名称",
        "指标代码",
        "指标名称",
        "取值项",
        "数值",
        "单位",
        "上期数值",
        "佐证材料",
    ]
    rows = [[ws.cell(r, c).value for c in range(2, 10)] for r in range(5, ws.max_row + 1)]
    assert len(rows) == 2 * 15
    assert rows[:3] == [
        ["S1", "甲镇", "A01", "环境 › 绿地率", "分子：绿地面积", None, "公顷", None],
        ["S1", "甲镇", "A01", "环境 › 绿地率", "分母：建成区面积", None, "公顷", None],
        ["S1", "甲镇", "A02", "环境 › 噪声", "数值", None, "分贝", None],
    ]
    by_code = {}
    for r in rows[:15]:
        by_code.setdefault(r[2], []).append((r[4], r[6]))
    assert by_code["B02"] == [("满意人数", None), ("一般人数", None), ("不满意人数", None)]
    assert by_code["B03"] == [("第一年得分", "分"), ("第二年得分", "分")]
    assert by_code["B01"] == [("发现数量", "处")]
    assert [r[7] for r in rows if r[2] == "B06"] == [321.5, None]
    assert rows[15][:2] == ["S2", "乙镇"]
    # without previous values there is no 上期数值 column
    W.write_values_template(fw, SUBJECTS, tmp_path / "无上期.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "无上期.xlsx")["数值填报"]
    assert [ws.cell(3, c).value for c in range(7, 11)] == ["数值", "单位", "佐证材料", None]


def test_read_values(fw, tmp_path: Path):
    path = values_file(fw, tmp_path)
    at = template_rows(path)
    edit(
        path,
        "数值填报",
        {
            (at["S1", "A01", "分子：绿地面积"], "数值"): 15,
            (at["S1", "A01", "分子：绿地面积"], "单位"): "亩",  # 15 亩 = 1 公顷
            (at["S1", "A01", "分母：建成区面积"], "数值"): "3",  # a number written as text
            (at["S1", "A01", "分母：建成区面积"], "佐证材料"): "统计表",
            (at["S1", "A02", "数值"], "数值"): 50,
            (at["S1", "A02", "数值"], "佐证材料"): "监测报告",
            (at["S1", "B02", "满意人数"], "数值"): 40,
            (at["S1", "B04", "数值"], "数值"): 925,
            (at["S1", "B04", "数值"], "单位"): "‰",  # 925‰ = 92.5%
            (at["S1", "B06", "数值"], "数值"): 3500000,
            (at["S1", "B06", "数值"], "单位"): "元",  # 350 万元
            (at["S2", "B05", "数值"], "数值"): "88.5%",  # the unit with the number
            (at["S2", "B05", "数值"], "单位"): None,
            (at["S2", "B07", "发生数量"], "数值"): 0,
        },
    )
    sheet = W.read_values(fw, path, "数值.xlsx")
    assert sheet.subjects == ["S1", "S2"]
    assert sheet.names == {"S1": "甲镇", "S2": "乙镇"}
    assert sheet.records == [
        ("S1", "A01", "numerator", pytest.approx(1.0)),
        ("S1", "A01", "denominator", 3.0),
        ("S1", "A02", "value", 50.0),
        ("S1", "B02", "满意", 40.0),
        ("S1", "B04", "value", 92.5),
        ("S1", "B06", "value", 350.0),
        ("S2", "B05", "value", 88.5),
        ("S2", "B07", "count", 0.0),
    ]
    assert sheet.evidence == {("S1", "A01"): "统计表", ("S1", "A02"): "监测报告"}


def test_read_values_csv_and_input_spellings(fw, tmp_path: Path):
    path = tmp_path / "数值.csv"
    path.write_text(
        "对象代码,指标代码,取值项,数值,单位,备注\n"
        "S9,A01,分子,2,公顷,\n"
        "S9,A01,denominator,4,,\n"
        "S9,B02,一般,12,,\n"
        "S9,B02,不满意人数,3,,\n"
        "S9,B03,第二年,80,分,\n"
        "S9,B06,value,12,,\n"
        "S9,B01,,2,处,\n"
        "S9,B08,数值,,,未填\n",
        encoding="utf-8-sig",
    )
    sheet = W.read_values(fw, path, "数值.csv")
    assert sheet.subjects == ["S9"] and sheet.names == {"S9": ""}
    assert sheet.records == [
        ("S9", "A01", "numerator", 2.0),
        ("S9", "A01", "denominator", 4.0),
        ("S9", "B02", "一般", 12.0),
        ("S9", "B02", "不满意", 3.0),
        ("S9", "B03", "第二年", 80.0),
        ("S9", "B06", "value", 12.0),
        ("S9", "B01", "count", 2.0),
    ]


def test_read_values_refused(fw, tmp_path: Path):
    path = values_file(fw, tmp_path)
    at = template_rows(path)
    edit(path, "数值填报", {
        (at["S1", "A02", "数值"], "对象代码"): None,  # blank subject
        (at["S1", "B01", "发现数量"], "指标代码"): "Z99",  # unknown indicator
        (at["S1", "B02", "满意人数"], "指标代码"): "A",  # not a leaf
        (at["S1", "B02", "一般人数"], "取值项"): "很满意",  # unknown input
        (at["S1", "B02", "一般人数"], "数值"): 5,
        (at["S1", "A01", "分子：绿地面积"], "取值项"): None,  # blank input, two inputs
        (at["S1", "A01", "分子：绿地面积"], "数值"): 5,
        (at["S1", "B03", "第一年得分"], "数值"): "良好",  # not a number
        (at["S1", "B04", "数值"], "数值"): 80,
        (at["S1", "B04", "数值"], "单位"): "平方尺",  # unknown unit
        (at["S1", "B05", "数值"], "数值"): 80,
        (at["S1", "B05", "数值"], "单位"): "万元",  # not convertible to %
        (at["S1", "B06", "数值"], "数值"): 35000,  # 元 written for 万元
        (at["S2", "A02", "数值"], "数值"): 130,  # above the range, no hint
        (at["S2", "B01", "发现数量"], "数值"): -1,  # a negative count
        (at["S2", "B04", "数值"], "数值"): "90‰",
        (at["S2", "B04", "数值"], "单位"): "%",  # two units disagree
        (at["S2", "B05", "数值"], "数值"): 70,
        (at["S2", "B06", "数值"], "数值"): 10,
        (at["S2", "B06", "数值"], "单位"): "万元",
        (at["S2", "B07", "发生数量"], "指标代码"): "B06",  # duplicate of S2 × B06
        (at["S2", "B07", "发生数量"], "取值项"): "数值",
        (at["S2", "B07", "发生数量"], "数值"): 11,
        (at["S2", "B08", "数值"], "指标代码"): None,  # blank indicator
    })

    def line(key: tuple[str, str, str], column: str, reason: str) -> str:
        return f"数值.xlsx:数值填报:{at[key]}:{column}: {reason}"

    a, b = "TEST-1@2024.1 › A 环境 › ", "TEST-1@2024.1 › B 服务 › "
    assert refused(W.read_values, fw, path, "数值.xlsx") == [
        line(("S1", "A01", "分子：绿地面积"), "取值项",
             f"{a}A01 绿地率：有多个取值项（分子：绿地面积、分母：建成区面积），请填写取值项"),
        line(("S1", "A02", "数值"), "对象代码", "缺少对象代码"),
        line(("S1", "B01", "发现数量"), "指标代码", "未知的指标代码“Z99”（TEST-1@2024.1 中没有）"),
        line(("S1", "B02", "满意人数"), "指标代码", "TEST-1@2024.1 › A 环境：有下级指标，请按末级指标填报"),
        line(("S1", "B02", "一般人数"), "取值项",
             f"{b}B02 群众满意度：没有取值项“很满意”（可填：满意人数、一般人数、不满意人数）"),
        line(("S1", "B03", "第一年得分"), "数值", "“良好”不是数值"),
        line(("S1", "B04", "数值"), "单位", f"{b}B04 覆盖率：未知单位“平方尺”"),
        line(("S1", "B05", "数值"), "单位", f"{b}B05 完成率：单位“万元”与“%”不可换算"),
        line(("S1", "B06", "数值"), "数值", f"{b}B06 财政投入：数值 35000 超出取值范围（0–1000万元）；"
             "数值可能以“元”填写而指标单位为“万元”（相差 10000 倍），请确认"),
        line(("S2", "A02", "数值"), "数值", f"{a}A02 噪声：数值 130 超出取值范围（不高于 120分贝）"),
        line(("S2", "B01", "发现数量"), "数值", f"{b}B01 脏乱差问题：数量应不小于 0，不是 -1"),
        line(("S2", "B04", "数值"), "数值", f"{b}B04 覆盖率：数值自带的单位“‰”与单位列“%”不一致"),
        line(("S2", "B07", "发生数量"), "数值",
             f"与第 {at['S2', 'B06', '数值']} 行重复（对象 S2、指标 B06、取值项 数值）"),
        line(("S2", "B08", "数值"), "指标代码", "缺少指标代码"),
    ]


def test_read_values_header_problems(fw, tmp_path: Path):
    path = tmp_path / "乱.csv"
    path.write_text("甲,乙\n1,2\n", encoding="utf-8")
    assert refused(W.read_values, fw, path, "乱.csv") == [
        "乱.csv:乱: 找不到表头：前 10 行中没有“对象代码”“指标代码”“数值”等列名"
    ]
    path.write_text("说明文字\n\n对象代码,取值项,数值,数值\nS1,数值,1,2\n", encoding="utf-8")
    assert refused(W.read_values, fw, path, "乱.csv") == [
        "乱.csv:乱:3:数值: 列重复",
        "乱.csv:乱:3:指标代码: 缺少必填列",
    ]


def test_read_values_refuses_non_xlsx(fw, tmp_path: Path):
    path = tmp_path / "数值.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0 not a zip")
    assert refused(W.read_values, fw, path, "数值.xls") == [
        "数值.xls: 不是 .xlsx 工作簿（旧版 .xls、CSV 或其他文件请在 Excel 中另存为 .xlsx）"
    ]
    assert refused(W.read_values, fw, values_file(fw, tmp_path), "数值.xlsx", max_bytes=100)[0].startswith(
        "数值.xlsx: 文件过大"
    )


# ---- profiles ----------------------------------------------------------------------------------


def test_profiles_template_and_read(fw, tmp_path: Path):
    path = tmp_path / "属性.xlsx"
    W.write_profiles_template(fw, SUBJECTS, path, profiles={"S1": {"band": "big"}}, date=DAY)
    wb = openpyxl.load_workbook(path)
    ws = wb["对象属性"]
    assert ws.cell(1, 1).value == "测试体系（TEST-1@2024.1）对象属性表"
    assert [ws.cell(3, c).value for c in range(1, 6)] == ["序号", "对象代码", "对象名称", "人口规模", "南北"]
    assert [ws.cell(5, c).value for c in range(2, 6)] == ["S1", "甲镇", "大城市", None]
    lists = sorted((dv.formula1, str(dv.sqref)) for dv in ws.data_validations.dataValidation)
    assert lists == [('"南方,北方"', "E5:E6"), ('"大城市,小城市"', "D5:D6")]
    assert W.read_profiles(fw, path, "属性.xlsx") == {"S1": {"band": "big"}, "S2": {}}
    edit(path, "对象属性", {(5, "南北"): "north", (6, "人口规模"): "小城市", (6, "南北"): "南方"})
    assert W.read_profiles(fw, path, "属性.xlsx") == {
        "S1": {"band": "big", "climate": "north"},
        "S2": {"band": "small", "climate": "south"},
    }


def test_profiles_csv_with_codes_as_headers(fw, tmp_path: Path):
    path = tmp_path / "属性.csv"
    path.write_text("对象代码,climate,band\nS1,北方,small\n", encoding="utf-8-sig")
    assert W.read_profiles(fw, path, "属性.csv") == {"S1": {"climate": "north", "band": "small"}}


def test_profiles_refused(fw, tmp_path: Path):
    path = tmp_path / "属性.csv"
    path.write_text(
        "对象代码,对象名称,人口规模,band,地形\nS1,甲镇,特大城市,,山区\n,乙镇,大城市,,\nS1,甲镇,,,\n",
        encoding="utf-8-sig",
    )
    assert refused(W.read_profiles, fw, path, "属性.csv") == [
        "属性.csv:属性:1:地形: 未知的对象属性列（TEST-1@2024.1 的对象属性：人口规模（band）、南北（climate））",
        "属性.csv:属性:1:band: 与“人口规模”是同一对象属性",
        "属性.csv:属性:2:人口规模: “特大城市”不是“人口规模”的取值（可填：大城市、小城市）",
        "属性.csv:属性:3:对象代码: 缺少对象代码",
        "属性.csv:属性:4:对象代码: 对象代码“S1”重复（已见于第 2 行）",
    ]


# ---- results -----------------------------------------------------------------------------------


def test_write_ranking(fw, tmp_path: Path):
    path = tmp_path / "排名.xlsx"
    rows = [
        {
            "subject": "S1",
            "name": "甲镇",
            "total": Decimal("91.255"),
            "grade": "优",
            "rank": 1,
            "vetoed": False,
            "prerequisite_failed": False,
            "nodes": {"A": Decimal("36.2"), "B": Decimal("55"), "C": Decimal("0")},
        },
        {
            "subject": "S2",
            "name": "乙镇",
            "total": Decimal("0.00"),
            "grade": "差",
            "rank": 2,
            "vetoed": True,
            "prerequisite_failed": True,
            "nodes": {"A": Decimal("30.1")},
        },
    ]
    W.write_ranking(path, fw, rows, date=DAY)
    ws = openpyxl.load_workbook(path)["排名"]
    assert ws.cell(1, 1).value == "测试体系（TEST-1@2024.1）测评排名"
    assert [ws.cell(3, c).value for c in range(1, 9)] == [
        "排名",
        "对象代码",
        "对象名称",
        "总分",
        "等次",
        "一票否决",
        "前置条件",
        "各维度得分",
    ]
    assert [ws.cell(4, c).value for c in range(8, 11)] == ["环境", "服务", "加分"]
    assert "H3:J3" in {str(m) for m in ws.merged_cells.ranges}
    assert [ws.cell(5, c).value for c in range(1, 11)] == [1, "S1", "甲镇", 91.26, "优", None, None, 36.2, 55, 0]
    assert [ws.cell(6, c).value for c in range(1, 11)] == [2, "S2", "乙镇", 0, "差", "是", "未达", 30.1, None, None]
    assert ws.cell(5, 4).number_format == ws.cell(5, 8).number_format == "0.00"


def test_write_scorecards(fw, tmp_path: Path):
    path = tmp_path / "明细.xlsx"
    rows = [
        {
            "subject": "S1",
            "name": "甲镇",
            "code": "A01",
            "path": "环境 › 绿地率",
            "points": 30.0,
            "score": Decimal("6.2"),
            "rule_name": "线性得分",
            "sentence": "绿地率 33.1%，低于目标 35%，按线性规则得 6.2 分（满分 30 分）",
        },
        {
            "subject": "S1",
            "name": "甲镇",
            "code": "B07",
            "path": "服务 › 重大事故",
            "points": 0.0,
            "score": Decimal("0"),
            "rule_name": "一票否决",
            "sentence": "重大事故 发生 1 起，一票否决，评定为不合格",
        },
    ]
    W.write_scorecards(path, fw, rows, date=DAY)
    ws = openpyxl.load_workbook(path)["评分明细"]
    assert ws.cell(1, 1).value == "测试体系（TEST-1@2024.1）评分明细"
    assert [ws.cell(3, c).value for c in range(1, 10)] == [
        "序号",
        "对象代码",
        "对象名称",
        "指标代码",
        "指标",
        "满分",
        "得分",
        "评分规则",
        "得分说明",
    ]
    assert [ws.cell(5, c).value for c in range(1, 10)] == [
        1,
        "S1",
        "甲镇",
        "A01",
        "环境 › 绿地率",
        30,
        6.2,
        "线性得分",
        "绿地率 33.1%，低于目标 35%，按线性规则得 6.2 分（满分 30 分）",
    ]
    assert ws.cell(5, 7).number_format == "0.00"
    assert ws.cell(5, 9).alignment.wrap_text
    assert ws.cell(6, 7).value == 0
