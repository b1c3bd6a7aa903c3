"""The one spreadsheet builder and safe reader every room uses (openpyxl).

Writing: the customary layout of Chinese government ledgers — a merged title row, a date
line, a two-row header (group headers merged over their sub-columns, single headers merged
down both rows), 序号 first, panes frozen under the header, set widths, real Excel dates,
money in 万元 with up to six decimals (a round trip is exact to the fen). Text that starts
with ``= + - @`` is stored as text with Excel's quote prefix, never as a formula.

Reading: refuses macro-enabled workbooks, files that are not .xlsx, oversized files and
zip bombs; never evaluates formulas (cached values only) and never follows external links.
Reading uses python-calamine (Rust; pandas' fastest Excel engine): a 10,000-row ledger reads
in about 0.15 s against 1.4 s with openpyxl's read-only mode, which matters for the import
budget. Writing stays with openpyxl, which calamine cannot do.

CSV: written in UTF-8 with a BOM (Excel on Chinese Windows then opens it correctly), formula-
looking text behind an apostrophe; read as UTF-8 (with or without BOM), else GB18030.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from chengzhen.problems import Problem, Refused

FORMULA_LEADS = ("=", "+", "-", "@")
MONEY_FORMAT = "#,##0.00####"  # 万元: two decimals shown, up to six kept (six = the fen)
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0.0%"
_thin = Side(style="thin", color="999999")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
# Zip bombs: at most this many times the upload limit once inflated (a genuine ledger inflates
# about tenfold), counted by actually inflating, since a zip's declared sizes can lie.
MAX_UNZIPPED_FACTOR = 10
EPOCH_1900 = dt.datetime(1899, 12, 30)
EPOCH_1904 = dt.datetime(1904, 1, 1)


@dataclass(frozen=True)
class Column:
    """One column: its header, the group header above it (if any), width and kind.

    kind: ``text``, ``multiline``, ``date``, ``money`` (Decimal yuan written as 万元),
    ``int``, ``decimal``, ``percent`` (a 0–1 share) or ``number``.
    """

    header: str
    group: str | None = None
    width: float = 12
    kind: str = "text"


@dataclass(frozen=True)
class Lamp:
    """A light (亮灯) in a cell: its name, on its colour (``#RRGGBB``), as clerks colour the
    ledger by hand."""

    name: str
    colour: str

    def text_colour(self) -> str:
        """Black or white, whichever reads better on the colour (by its luminance)."""
        r, g, b = (int(self.colour[i:i + 2], 16) for i in (1, 3, 5))
        return "000000" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "FFFFFF"


def text_cell_value(value: str) -> tuple[str, bool]:
    """The text to write and whether it needs Excel's quote prefix (formula-looking)."""
    return value, value.startswith(FORMULA_LEADS)


def write_table(ws: Worksheet, title: str, date_line: str, columns: Sequence[Column],
                rows: Iterable[Sequence[Any]], numbered: bool = True) -> int:
    """Write a titled table in the customary layout. Returns the number of rows written.

    With ``numbered`` the builder adds 序号 (1, 2, 3 …) as the first column; without it the
    caller's first column is 序号.
    """
    cols = [Column("序号", width=6, kind="int"), *columns] if numbered else list(columns)
    n = len(cols)
    ws.cell(1, 1, title).font = Font(name="宋体", size=16, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    ws.row_dimensions[1].height = 30
    ws.cell(2, 1, date_line).alignment = Alignment(horizontal="right")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=n)
    # header: rows 3 and 4
    i = 0
    while i < n:
        col = cols[i]
        c = i + 1
        if col.group is None:
            ws.cell(3, c, col.header)
            ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
            i += 1
            continue
        j = i
        while j < n and cols[j].group == col.group:
            ws.cell(4, j + 1, cols[j].header)
            j += 1
        ws.cell(3, c, col.group)
        if j - i > 1:
            ws.merge_cells(start_row=3, start_column=c, end_row=3, end_column=j)
        i = j
    for r in (3, 4):
        for c in range(1, n + 1):
            cell = ws.cell(r, c)
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.border = BORDER
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for c, col in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(c)].width = col.width
    ws.freeze_panes = "C5"
    # printed as offices print ledgers: landscape A3, one page wide, header on every page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "3:4"
    ws.print_options.horizontalCentered = True
    # ``append`` goes below the last row openpyxl counted; merging replaced the row-4 cells
    # without counting them, so without this a sheet with no grouped column lost its first row
    # under the header (openpyxl has no public setter)
    ws._current_row = max(ws._current_row, 4)
    count = 0
    styles: list[dict] = [{} for _ in cols]  # per column: each style key's finished style
    wrapped = [(i, col.width) for i, col in enumerate(cols) if col.kind == "multiline"]
    for count, values in enumerate(rows, start=1):
        values = (count, *values) if numbered else values
        cells = []
        for c, (col, value) in enumerate(zip(cols, values, strict=True), start=1):
            cell = Cell(ws)  # ``append`` places it; cheaper than looking each cell up
            _write(cell, col, value, styles[c - 1])
            cells.append(cell)
        ws.append(cells)
        lines = max((_lines(values[i], width) for i, width in wrapped), default=1)
        if lines > 1:
            ws.row_dimensions[count + 4].height = min(409, ROW_HEIGHT * lines)
    return count


ROW_HEIGHT = 15  # points per line of 11-point text
_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")


def _lines(value: Any, width: float) -> int:
    """Lines a wrapped text cell needs at ``width`` (Excel's width is in narrow characters; a
    CJK character takes two). Rows get this height written because LibreOffice shows rows of a
    generated file at one line whatever their wrapped text (Excel re-measures them on edit only)."""
    if not isinstance(value, str) or not value:
        return 1
    per_line = max(1.0, width - 1)
    if len(value) * 2 <= per_line and "\n" not in value:  # fits whatever it is written in
        return 1
    total = 0
    for part in value.split("\n"):
        chars = len(part) + len(_WIDE.findall(part))
        total += max(1, -(-int(chars) // int(per_line)))
    return total


def _style_key(col: Column, value: Any) -> tuple | None:
    """What decides a written cell's style: cells with the same key share one style."""
    if value is None or value == "":
        return ("empty",)
    if isinstance(value, Lamp):
        return ("lamp", value.colour)
    if col.kind in ("money", "date", "percent"):
        return (col.kind,)
    if isinstance(value, str):
        return ("text", value.startswith(FORMULA_LEADS), col.kind == "multiline" or "\n" in value)
    return ("plain",)


def _write(cell, col: Column, value: Any, styles: dict | None = None) -> None:
    """Write one cell. ``styles`` caches each style key's finished style: openpyxl hashes every
    style object assigned to a cell, which costs more than the rest of a large sheet, so a
    cell like one already written takes a copy of that cell's style array instead."""
    key = _style_key(col, value)
    cached = styles.get(key) if styles is not None else None
    if cached is not None:
        cell._style = copy(cached)
        _set_value(cell, col, value)
        return
    cell.border = BORDER
    if isinstance(value, Lamp):
        cell.fill = PatternFill("solid", fgColor=value.colour.lstrip("#").upper())
        cell.font = Font(color=value.text_colour(), bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center")
    elif value is None or value == "":
        pass
    elif col.kind == "money":
        cell.number_format = MONEY_FORMAT
    elif col.kind == "date":
        cell.number_format = DATE_FORMAT
    elif col.kind == "percent":
        cell.number_format = PERCENT_FORMAT
    elif isinstance(value, str):
        if key[1]:
            cell.quotePrefix = True
        if key[2]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    _set_value(cell, col, value)
    if styles is not None:
        styles[key] = copy(cell._style)


def _set_value(cell, col: Column, value: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, Lamp):
        cell.value = value.name
        cell.data_type = "s"
    elif col.kind == "money":
        cell.value = Decimal(value) / 10000
    elif col.kind in ("date", "percent"):
        cell.value = value
    elif isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # never a formula, whatever the text looks like
    else:
        cell.value = value


# ---- CSV ----------------------------------------------------------------------------------

def csv_text(col: Column, value: Any) -> str:
    """A cell as CSV text: money in 万元 (up to six decimals), dates ISO, percent as a share;
    formula-looking text gets a leading apostrophe so Excel shows it as text."""
    if value is None or value == "":
        return ""
    if isinstance(value, Lamp):
        return value.name
    if col.kind == "money":
        text = format((Decimal(value) / 10000).quantize(Decimal("0.000001")), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if col.kind == "date" else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def write_csv(path: Path, columns: Sequence[Column], rows: Iterable[Sequence[Any]],
              numbered: bool = True) -> int:
    """Write a CSV table (one header row, group names joined as 投资（万元）/计划总投资) in
    UTF-8 with a BOM, so Excel opens it with the Chinese intact. Returns the row count."""
    cols = [Column("序号", kind="int"), *columns] if numbered else list(columns)
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow([f"{c.group}/{c.header}" if c.group else c.header for c in cols])
        for count, values in enumerate(rows, start=1):
            values = (count, *values) if numbered else values
            out.writerow([csv_text(c, v) for c, v in zip(cols, values, strict=True)])
    return count


def read_csv(path: Path, display_name: str, max_bytes: int, delimiter: str = ",") -> SheetData:
    """Read a CSV table: UTF-8 (with or without a BOM), else GB18030 (what Excel on Chinese
    Windows writes). A leading apostrophe before ``= + - @`` is dropped (see ``csv_text``).
    ``delimiter="auto"`` takes a tab when the first line has tabs and no comma (a table pasted
    from Excel), else a comma."""
    name = display_name or path.name
    size = path.stat().st_size if path.exists() else -1
    if size < 0:
        raise Refused([Problem(file=name, reason="文件不存在")])
    if size > max_bytes:
        raise Refused([Problem(file=name, reason=f"文件过大（{_size(size)}），上限 {_size(max_bytes)}")])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise Refused([Problem(file=name, reason="无法识别的文字编码（应为 UTF-8 或 GB18030）")]
                          ) from None
    if delimiter == "auto":
        first = text.split("\n", 1)[0]
        delimiter = "\t" if "\t" in first and "," not in first else ","
    rows = []
    for values in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        rows.append(tuple(_csv_cell(v) for v in values))
    return SheetData(name, Path(name).stem, rows, EPOCH_1900)


def _csv_cell(value: str) -> str | None:
    if value == "":
        return None
    if value.startswith("'") and value[1:2] in FORMULA_LEADS and value[1:2]:
        return value[1:]
    return value


# ---- reading ------------------------------------------------------------------------------

@dataclass
class SheetData:
    """A worksheet's cell values, row by row, with the workbook's date system."""

    file: str
    sheet: str
    rows: list[tuple[Any, ...]]
    epoch: dt.datetime  # 1899-12-30 (1900 system) or 1904-01-01


def check_xlsx(path: Path, display_name: str, max_bytes: int) -> dt.datetime:
    """Refuse files that are not a plain .xlsx workbook, before any reader sees them.

    Returns the workbook's date epoch (1899-12-30, or 1904-01-01 for the Mac date system).
    """
    name = display_name or path.name
    refuse = lambda reason: Refused([Problem(file=name, reason=reason)])  # noqa: E731
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsm", ".xltm", ".xlam"):
        raise refuse("不接受含宏的工作簿（.xlsm 等），请另存为 .xlsx")
    if not path.exists():
        raise refuse("文件不存在")
    size = path.stat().st_size
    if size > max_bytes:
        raise refuse(f"文件过大（{_size(size)}），上限 {_size(max_bytes)}")
    if not zipfile.is_zipfile(path):
        raise refuse("不是 .xlsx 工作簿（旧版 .xls、CSV 或其他文件请在 Excel 中另存为 .xlsx）")
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            content_types = z.read("[Content_Types].xml").decode("utf-8", "replace") if (
                "[Content_Types].xml" in names) else ""
            workbook_xml = z.read("xl/workbook.xml")[:4096].decode("utf-8", "replace") if (
                "xl/workbook.xml" in names) else ""
            if "xl/workbook.xml" not in names:
                raise refuse("不是 .xlsx 工作簿（缺少 xl/workbook.xml）")
            if (any(n.lower().endswith("vbaproject.bin") for n in names)
                    or "macroEnabled" in content_types):
                raise refuse("工作簿含有宏，不予接受，请另存为不含宏的 .xlsx")
            cap = max(max_bytes, 1) * MAX_UNZIPPED_FACTOR
            if _inflated_size(z, cap) > cap:
                raise refuse(f"文件解压后超过 {_size(cap)}，疑似压缩炸弹，不予接受")
    except Refused:
        raise
    except (zipfile.BadZipFile, OSError, KeyError, EOFError, ValueError, NotImplementedError):
        raise refuse("文件已损坏，无法作为 .xlsx 打开") from None
    mac = re.search(r'date1904="(1|true)"', workbook_xml)
    return EPOCH_1904 if mac else EPOCH_1900


def _inflated_size(z: zipfile.ZipFile, cap: int) -> int:
    """Bytes the archive inflates to, counted by inflating; stops once over ``cap``."""
    total = 0
    for info in z.infolist():
        if info.file_size > cap:  # declared too large: no need to inflate
            return info.file_size
        with z.open(info) as member:
            while chunk := member.read(1 << 20):
                total += len(chunk)
                if total > cap:
                    return total
    return total


def _size(n: int) -> str:
    """A byte count for people: 812 KB, 20 MB."""
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f}".removesuffix(".0") + " MB"
    return f"{max(n, 1) / 1024:.1f}".removesuffix(".0") + " KB"


def read_sheet(path: Path, display_name: str, max_bytes: int,
               sheet: str | None = None) -> SheetData:
    """Read one worksheet's values (cached values of formulas, never evaluated)."""
    epoch = check_xlsx(path, display_name, max_bytes)
    name = display_name or path.name
    try:
        wb = CalamineWorkbook.from_path(str(path))
        if sheet is not None and sheet not in wb.sheet_names:
            raise Refused([Problem(file=name, reason=f"没有名为 {sheet!r} 的工作表")])
        title = sheet or wb.sheet_names[0]
        rows = [tuple(None if v == "" else v for v in r) for r in
                wb.get_sheet_by_name(title).to_python(skip_empty_area=False)]
    except Refused:
        raise
    except Exception as exc:  # a broken file can fail in many ways
        raise Refused([Problem(file=name, reason=f"无法读取工作簿：{exc}")]) from None
    return SheetData(name, title, rows, epoch)


