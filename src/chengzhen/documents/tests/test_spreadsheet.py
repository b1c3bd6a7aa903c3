"""The shared spreadsheet builder and safe reader: real files written and read back."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from chengzhen.documents.spreadsheet import (
    EPOCH_1900,
    EPOCH_1904,
    Column,
    check_xlsx,
    read_csv,
    read_sheet,
    write_csv,
    write_table,
)
from chengzhen.problems import Refused

MB = 1 << 20
COLUMNS = [
    Column("任务名称", width=28, kind="multiline"),
    Column("开始时间", "时间节点", 12, "date"),
    Column("完成时限", "时间节点", 12, "date"),
    Column("计划总投资", "投资（万元）", 14, "money"),
    Column("年度计划投资", "投资（万元）", 14, "money"),
    Column("累计完成投资", "投资（万元）", 14, "money"),
    Column("备注", width=20),
]
ROWS = [
    ["镇区道路改造\n（一期）", dt.date(2026, 1, 1), dt.date(2026, 12, 31), Decimal("123456789.01"),
     Decimal("0.01"), Decimal("1500000.50"), "=SUM(A1:A3)"],
    ["污水管网", dt.date(2026, 3, 1), dt.date(2027, 6, 30), Decimal("98765.43"), None,
     Decimal("0"), "+86 138"],
    ["公厕改造", dt.date(2026, 5, 1), dt.date(2026, 9, 30), Decimal("1.00"), Decimal("100"),
     None, "-0371-1234"],
    ["停车场", dt.date(2026, 5, 1), dt.date(2026, 9, 30), None, None, None, "@张三"],
]


def build(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    n = write_table(ws, "2026年重点镇建设工作台账", "填报日期：2026年11月24日", COLUMNS, ROWS)
    assert n == 4
    wb.save(path)
    return path


def test_customary_layout(tmp_path):
    ws = load_workbook(build(tmp_path / "t.xlsx"))["台账"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert ws["A1"].value == "2026年重点镇建设工作台账" and "A1:H1" in merged
    assert ws["A2"].value == "填报日期：2026年11月24日" and "A2:H2" in merged
    # two-row header: singles merged down, groups merged across their sub-columns
    assert [ws.cell(3, c).value for c in range(1, 9)] == [
        "序号", "任务名称", "时间节点", None, "投资（万元）", None, None, "备注"]
    assert [ws.cell(4, c).value for c in range(1, 9)] == [
        None, None, "开始时间", "完成时限", "计划总投资", "年度计划投资", "累计完成投资", None]
    assert {"A3:A4", "B3:B4", "C3:D3", "E3:G3", "H3:H4"} <= merged
    assert ws.freeze_panes == "C5"
    assert ws.column_dimensions["B"].width == 28 and ws.column_dimensions["A"].width == 6
    assert [ws.cell(r, 1).value for r in range(5, 9)] == [1, 2, 3, 4]


def test_a_table_without_grouped_columns_keeps_its_first_row(tmp_path):
    # every header cell is merged down over row 4; the first data row must still land on row 5,
    # where Excel (and openpyxl, which honours merges) shows it
    wb = Workbook()
    write_table(wb.active, "标题", "日期", [Column("甲"), Column("乙")], [("a1", "b1"), ("a2", "b2")])
    path = tmp_path / "flat.xlsx"
    wb.save(path)
    ws = load_workbook(path).active
    assert [c.value for c in ws[5]] == [1, "a1", "b1"]
    assert [c.value for c in ws[6]] == [2, "a2", "b2"]
    assert all(c.value is None for c in ws[4])


def test_rows_of_wrapped_text_get_the_height_of_their_lines(tmp_path):
    wb = Workbook()
    cols = [Column("说明", width=11, kind="multiline"), Column("备注")]
    write_table(wb.active, "标题", "日期", cols, [("短", "x"), ("一二三四五六七八九十", "y"), ("甲\n乙\n丙", "z")])
    path = tmp_path / "wrapped.xlsx"
    wb.save(path)
    ws = load_workbook(path).active
    assert ws.row_dimensions[5].height is None  # one line: left to the default
    assert ws.row_dimensions[6].height == 30  # 20 narrow widths in a 10-wide column: two lines
    assert ws.row_dimensions[7].height == 45


def test_dates_money_and_wrapping(tmp_path):
    ws = load_workbook(build(tmp_path / "t.xlsx"))["台账"]
    start = ws["C5"]
    assert start.is_date and start.value == dt.datetime(2026, 1, 1)
    assert start.number_format == "yyyy-mm-dd"
    total = ws["E5"]
    assert total.data_type == "n" and total.number_format == "#,##0.00####"
    # 万元 with six decimals is the fen: the float Excel stores reads back to the same yuan
    for cell, yuan in (("E5", "123456789.01"), ("F5", "0.01"), ("G5", "1500000.50"),
                       ("E6", "98765.43"), ("G6", "0"), ("F7", "100"), ("E7", "1.00")):
        assert (Decimal(repr(ws[cell].value)) * 10000).quantize(Decimal("0.01")) == Decimal(yuan)
    assert ws["F6"].value is None
    assert ws["B5"].value == "镇区道路改造\n（一期）" and ws["B5"].alignment.wrap_text


@pytest.mark.parametrize("cell,text", [("H5", "=SUM(A1:A3)"), ("H6", "+86 138"),
                                       ("H7", "-0371-1234"), ("H8", "@张三")])
def test_formula_looking_text_is_text(tmp_path, cell, text):
    path = build(tmp_path / "t.xlsx")
    ws = load_workbook(path)["台账"]
    assert ws[cell].data_type == "s" and ws[cell].value == text and ws[cell].quotePrefix
    with zipfile.ZipFile(path) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()
    data = read_sheet(path, "t.xlsx", MB)
    row, col = int(cell[1:]), ord(cell[0]) - ord("A")
    assert data.rows[row - 1][col] == text


def test_reader_gives_values_rows_and_epoch(tmp_path):
    data = read_sheet(build(tmp_path / "t.xlsx"), "上传的台账.xlsx", MB)
    assert (data.file, data.sheet, data.epoch) == ("上传的台账.xlsx", "台账", EPOCH_1900)
    assert data.rows[0][0] == "2026年重点镇建设工作台账"
    assert data.rows[4][1] == "镇区道路改造\n（一期）"
    assert data.rows[4][2] in (dt.datetime(2026, 1, 1), dt.date(2026, 1, 1))
    assert data.rows[4][4] == pytest.approx(12345.678901)


def test_reader_knows_the_1904_date_system(tmp_path):
    wb = Workbook()
    wb.epoch = CALENDAR_MAC_1904
    wb.active["A1"] = dt.date(2026, 3, 31)
    wb.active["A2"] = 44650  # a bare serial number: 2026-03-31 in the 1904 system
    wb.save(tmp_path / "mac.xlsx")
    data = read_sheet(tmp_path / "mac.xlsx", "mac.xlsx", MB)
    assert data.epoch == EPOCH_1904
    assert data.rows[0][0] in (dt.datetime(2026, 3, 31), dt.date(2026, 3, 31))
    assert EPOCH_1904 + dt.timedelta(days=data.rows[1][0]) == dt.datetime(2026, 3, 31)


def test_formulas_are_never_evaluated(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["A3"] = 5, "=A1*2", '=HYPERLINK("http://example.invalid","x")'
    wb.save(tmp_path / "f.xlsx")
    rows = read_sheet(tmp_path / "f.xlsx", "f.xlsx", MB).rows
    values = [v for r in rows for v in r]
    assert values[0] == 5 and all(v is None for v in values[1:])  # no cached value, no result


def refusal(path: Path, max_bytes: int = MB, name: str | None = None) -> str:
    with pytest.raises(Refused) as exc:
        read_sheet(path, name or path.name, max_bytes)
    [problem] = exc.value.problems
    return str(problem)


def test_refuses_macro_enabled(tmp_path):
    path = build(tmp_path / "m.xlsx")
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/vbaProject.bin", b"\x00macro")
    assert refusal(path) == "m.xlsx: 工作簿含有宏，不予接受，请另存为不含宏的 .xlsx"
    assert refusal(build(tmp_path / "m.xlsm")) == "m.xlsm: 不接受含宏的工作簿（.xlsm 等），请另存为 .xlsx"


def test_refuses_macro_content_type(tmp_path):
    src = build(tmp_path / "a.xlsx")
    path = tmp_path / "b.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"spreadsheetml.sheet.main+xml",
                                    b"ms-excel.sheet.macroEnabled.main+xml")
            zout.writestr(info, data)
    assert refusal(path) == "b.xlsx: 工作簿含有宏，不予接受，请另存为不含宏的 .xlsx"


@pytest.mark.parametrize("content", [
    "任务编号,任务名称\nA1,修路\n".encode(),  # a renamed CSV
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,  # an old .xls (OLE2)
])
def test_refuses_files_that_are_not_xlsx(tmp_path, content):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(content)
    assert refusal(path) == (
        "ledger.xlsx: 不是 .xlsx 工作簿（旧版 .xls、CSV 或其他文件请在 Excel 中另存为 .xlsx）")


def test_refuses_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    assert refusal(path) == "a.xlsx: 不是 .xlsx 工作簿（缺少 xl/workbook.xml）"


def test_refuses_oversized(tmp_path):
    path = build(tmp_path / "big.xlsx")
    size = path.stat().st_size
    assert refusal(path, max_bytes=1024) == f"big.xlsx: 文件过大（{size / 1024:.1f} KB），上限 1 KB"


def test_refuses_zip_bomb(tmp_path):
    path = build(tmp_path / "bomb.xlsx")
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/padding.bin", b"\x00" * (12 * MB))  # inflates 1000-fold
    assert path.stat().st_size < MB
    assert refusal(path, max_bytes=MB) == "bomb.xlsx: 文件解压后超过 10 MB，疑似压缩炸弹，不予接受"


def test_external_links_are_not_followed(tmp_path):
    """A workbook with an external link reads its cached values only (nothing is fetched)."""
    path = build(tmp_path / "x.xlsx")
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/externalLinks/externalLink1.xml",
                   '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                   '<externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships"/></externalLink>')
        z.writestr("xl/externalLinks/_rels/externalLink1.xml.rels",
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.'
                   'org/officeDocument/2006/relationships/externalLinkPath" '
                   'Target="http://example.invalid/other.xlsx" TargetMode="External"/>'
                   '</Relationships>')
    assert read_sheet(path, "x.xlsx", MB).rows[4][1] == "镇区道路改造\n（一期）"


def test_check_xlsx_missing_file(tmp_path):
    with pytest.raises(Refused) as exc:
        check_xlsx(tmp_path / "nope.xlsx", "nope.xlsx", MB)
    assert str(exc.value.problems[0]) == "nope.xlsx: 文件不存在"


def test_csv_has_a_bom_and_reads_back(tmp_path):
    path = tmp_path / "t.csv"
    assert write_csv(path, COLUMNS, ROWS) == 4
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "序号,任务名称,时间节点/开始时间,时间节点/完成时限,投资（万元）/计划总投资," \
        "投资（万元）/年度计划投资,投资（万元）/累计完成投资,备注"
    data = read_csv(path, "t.csv", MB)
    first = data.rows[1]
    assert first[2:7] == ("2026-01-01", "2026-12-31", "12345.678901", "0.000001", "150.00005")
    assert [r[7] for r in data.rows[1:]] == ["=SUM(A1:A3)", "+86 138", "-0371-1234", "@张三"]
    assert "'=SUM(A1:A3)" in raw.decode("utf-8-sig")  # Excel shows it as text


def test_csv_reads_gb18030(tmp_path):
    path = tmp_path / "g.csv"
    path.write_bytes("任务编号,牵头单位\nA1,青山镇人民政府\n".encode("gb18030"))
    assert read_csv(path, "g.csv", MB).rows == [("任务编号", "牵头单位"), ("A1", "青山镇人民政府")]
