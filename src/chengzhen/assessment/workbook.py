"""Assessment workbooks (测评工作簿): frameworks, values and profiles in and out of Excel. Pure: no Django.

Offices keep indicator tables and collect figures in Excel, so every exchange here is a sheet in
the customary ledger layout (``chengzhen.documents.spreadsheet``: title, date line, two-row
header, 序号 first) and every refusal is a ``FILE:SHEET:ROW:COLUMN: reason`` line
(``chengzhen.problems``), all problems of a file at once, nothing taken from a refused file.

* A framework (测评体系) is two sheets: 测评体系, one row per node in tree order (the tree is
  rebuilt from 上级代码; structured fields — rule parameters, formula — are one-line YAML flow
  mappings), and 体系信息 (项目 | 内容). Reading gives back exactly ``Framework.as_dict()`` of a
  framework this module wrote; ``load_framework_xlsx`` then checks it with ``framework.from_dict``
  and names the row and column of each problem.
* Values (数值填报) are a long table, one row per subject × indicator input (数值, 分子/分母, a
  questionnaire option, a year); units are converted to the indicator's with ``units.convert``
  and a value outside the indicator's range is refused, with the 元/万元 hint when it looks
  10,000 times off.
* Profiles (对象属性) give each subject's class (population band, south/north …) for
  class-dependent thresholds.
* Results: the ranking (排名, with 一票否决 — the veto — and 前置条件 marks) and the per-indicator
  scorecards (评分明细) with the sentence explaining each score.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from chengzhen.documents.spreadsheet import Column, SheetData, read_csv, read_sheet, write_table
from chengzhen.problems import Problem, Refused
from chengzhen.supervision.rules import load_yaml  # duplicate-refusing YAML, as framework.py uses

from . import units as unit_table
from .framework import DIRECTIONS, SEP, STATUSES, Framework, FrameworkError, Node, from_dict
from .rules import RULES

MAX_BYTES = 20 * 1024 * 1024
HEADER_SCAN = 10  # the header row is looked for among this many rows

FRAMEWORK_SHEET = "测评体系"
INFO_SHEET = "体系信息"
VALUES_SHEET = "数值填报"
PROFILES_SHEET = "对象属性"
RANKING_SHEET = "排名"
SCORECARD_SHEET = "评分明细"

YES = "是"
TRUE_TEXTS = {"是", "true", "True", "TRUE", "Y", "y", "√", "✓"}
FALSE_TEXTS = {"否", "false", "False", "FALSE", "N", "n"}
SCORE_FORMAT = "0.00"
CENT = Decimal("0.01")

# ---- the framework sheet -----------------------------------------------------------------------

# header → node key (None: written for people, ignored on reading)
NODE_COLUMNS: tuple[tuple[Column, str | None], ...] = (
    (Column("代码", width=10), "code"),
    (Column("上级代码", width=10), "parent"),
    (Column("层级", width=6, kind="int"), None),
    (Column("名称", width=28, kind="multiline"), "name"),
    (Column("分值", width=8, kind="number"), "points"),
    (Column("权重", width=8, kind="number"), "weight"),
    (Column("单位", width=10), "unit"),
    (Column("方向", width=10), "direction"),
    (Column("取值范围", width=12), "range"),
    (Column("评分规则", width=12), "rule_type"),
    (Column("规则参数", width=40, kind="multiline"), "rule"),
    (Column("计算公式", width=40, kind="multiline"), "formula"),
    (Column("关键项", width=8), "key"),
    (Column("关键项及格分", width=10, kind="number"), "key_pass"),
    (Column("数据来源", width=20, kind="multiline"), "data_source"),
    (Column("责任部门", width=16, kind="multiline"), "department"),
    (Column("佐证材料要求", width=24, kind="multiline"), "evidence"),
    (Column("采集方式", width=10), "method"),
    (Column("平台取数", width=16), "measure"),
    (Column("待核实", width=8), "unverified"),
    (Column("备注", width=30, kind="multiline"), "note"),
)
NODE_HEADER = {key: col.header for col, key in NODE_COLUMNS if key}
NODE_HEADER["layer"] = "层级"
TEXT_KEYS = ("data_source", "department", "evidence", "method", "measure", "note")
DIRECTION_BY_TEXT = {**{v: k for k, v in DIRECTIONS.items()}, **{k: k for k in DIRECTIONS}}
# a FrameworkError path's field (after the node) → the column holding it
FIELD_COLUMN = {
    "code": "代码",
    "name": "名称",
    "points": "分值",
    "weight": "权重",
    "unit": "单位",
    "direction": "方向",
    "range": "取值范围",
    "rule.type": "评分规则",
    "rule": "规则参数",
    "formula": "计算公式",
    "key": "关键项",
    "key_pass": "关键项及格分",
    "data_source": "数据来源",
    "department": "责任部门",
    "evidence": "佐证材料要求",
    "method": "采集方式",
    "measure": "平台取数",
    "unverified": "待核实",
    "note": "备注",
    "children": "上级代码",
}
# a problem that names no field: the column its wording points at
REASON_COLUMN = (
    ("评分规则", "评分规则"),
    ("计算公式", "计算公式"),
    ("关键项", "关键项"),
    ("权重", "权重"),
    ("分值", "分值"),
    ("单位", "单位"),
    ("指标代码", "代码"),
)

# ---- the 体系信息 sheet: 项目 → top-level key
INFO_ITEMS = (
    ("代码", "code"),
    ("版本", "version"),
    ("名称", "name"),
    ("完整性", "status"),
    ("来源", "sources"),
    ("说明", "description"),
    ("层级名称", "levels"),
    ("总分", "total"),
    ("对象属性", "profile"),
    ("等次", "grades"),
)
INFO_KEY = dict(INFO_ITEMS)
INFO_LABEL = {k: label for label, k in INFO_ITEMS}
STATUS_BY_TEXT = {**{v: k for k, v in STATUSES.items()}, **{k: k for k in STATUSES}}

# ---- values
V_SUBJECT, V_NAME, V_CODE, V_INDICATOR, V_INPUT, V_VALUE, V_UNIT, V_PREVIOUS, V_EVIDENCE = (
    "对象代码",
    "对象名称",
    "指标代码",
    "指标名称",
    "取值项",
    "数值",
    "单位",
    "上期数值",
    "佐证材料",
)
SINGLE_INPUT_TEXTS = {"", "数值", "value"}
FORMULA_PARTS = {"numerator": "分子", "denominator": "分母"}
COUNT_INPUTS = {"count"}  # plus a questionnaire's option counts


# ---- small helpers -------------------------------------------------------------------------------


def _today(date: dt.date | None) -> str:
    return (date or dt.date.today()).isoformat()


def _status_line(fw: Framework | dict, date: dt.date | None) -> str:
    status = fw.status if isinstance(fw, Framework) else fw.get("status", "")
    return f"完整性：{STATUSES.get(status, status)}；导出日期 {_today(date)}"


def _title(fw: Framework, what: str = "") -> str:
    return f"{fw.name}（{fw.full_name}）{what}"


def _flow(value: Any) -> str:
    """One-line YAML flow form (``{target: 35, op: '>='}``); loads back to the same value."""
    text = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=True, width=1 << 30)
    return text.strip().removesuffix("...").strip()


def _block(value: Any) -> str:
    """Readable multi-line YAML (mappings as blocks, innermost collections in flow) for one cell."""
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1 << 30).strip()


def _plain_yaml(x: Any) -> Any:
    """The line-keeping mappings and lists of ``load_yaml`` as plain dicts and lists."""
    if isinstance(x, dict):
        return {str(k): _plain_yaml(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain_yaml(v) for v in x]
    return x


def _plain_number(x: Any) -> int | float:
    """As framework.py keeps numbers: int when whole, else float."""
    f = float(x)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) and math.isfinite(float(v))


def _text(v: Any) -> str:
    """A cell as stripped text; whole numbers without the ``.0`` a spreadsheet adds."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return YES if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    return str(v).strip()


def _number_cell(v: Any) -> int | float:
    """A numeric cell (or text holding a number); raises ValueError with the Chinese reason."""
    if _is_number(v):
        return _plain_number(v)
    if isinstance(v, str):
        try:
            d = Decimal(v.strip().replace(",", ""))
        except InvalidOperation:
            d = None
        if d is not None and d.is_finite():
            return _plain_number(d)
    raise ValueError(f"应为数值，不是“{_text(v)}”")


def _fmt(x: float) -> str:
    f = float(x)
    return str(int(f)) if f.is_integer() else f"{f:.10g}"


def _range_text(low: float | None, high: float | None, unit: str) -> str:
    """``0–1000万元``, ``不高于 120分贝``, ``不低于 0%`` (units glued to numbers, as explain.py does)."""
    if low is not None and high is not None:
        return f"{_fmt(low)}–{_fmt(high)}{unit}"
    return f"不高于 {_fmt(high)}{unit}" if low is None else f"不低于 {_fmt(low)}{unit}"


def _blank_row(row: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _cell(row: Sequence[Any], col: int | None) -> Any:
    if col is None or col >= len(row):
        return None
    return row[col]


def _header_key(v: Any) -> str:
    return re.sub(r"\s+", "", _text(v))


def _find_header(
    data: SheetData, known: Iterable[str], required: Sequence[str], scan: int = HEADER_SCAN
) -> tuple[int, dict[str, int], list[tuple[int, str]]]:
    """The header row among the first ``scan`` rows: the one naming most of ``known``. Returns its
    index, known header → column index, and the other non-blank headers (column, text).
    Raises Refused when there is none or a required column is missing."""
    known = set(known)
    best, best_hits = None, 0
    for i, row in enumerate(data.rows[:scan]):
        hits = sum(1 for v in row if _header_key(v) in known)
        if hits > best_hits:
            best, best_hits = i, hits
    if best is None:
        names = "”“".join(required)
        raise Refused([Problem(data.file, data.sheet, None, "", f"找不到表头：前 {scan} 行中没有“{names}”等列名")])
    columns: dict[str, int] = {}
    others: list[tuple[int, str]] = []
    problems = []
    for c, v in enumerate(data.rows[best]):
        key = _header_key(v)
        if not key:
            continue
        if key in known:
            if key in columns:
                problems.append(Problem(data.file, data.sheet, best + 1, key, "列重复"))
                continue
            columns[key] = c
        else:
            others.append((c, key))
    for name in required:
        if name not in columns:
            problems.append(Problem(data.file, data.sheet, best + 1, name, "缺少必填列"))
    if problems:
        raise Refused(problems)
    return best, columns, others


def _data_rows(data: SheetData, header: int) -> Iterable[tuple[int, Sequence[Any]]]:
    """(Excel row number, cells) of the non-blank rows under the header."""
    for i in range(header + 1, len(data.rows)):
        if not _blank_row(data.rows[i]):
            yield i + 1, data.rows[i]


def _read(path: Path | str, display_name: str, max_bytes: int, sheet: str | None) -> SheetData:
    """A .csv or .xlsx table; for .xlsx the named sheet when there is one, else the first."""
    path = Path(path)
    name = display_name or path.name
    if ".csv" in (Path(name).suffix.lower(), path.suffix.lower()):
        return read_csv(path, name, max_bytes)
    if sheet is None:
        return read_sheet(path, name, max_bytes)
    try:
        return read_sheet(path, name, max_bytes, sheet=sheet)
    except Refused as exc:
        if any(p.reason.startswith("没有名为") for p in exc.problems):
            return read_sheet(path, name, max_bytes)
        raise


def _yaml_cell(text: str, braces: bool = False) -> tuple[Any, str | None]:
    """Parse a cell's YAML; ``braces``: a mapping may be written without its ``{}``. Returns
    (value, None) or (None, reason)."""
    tries = [f"{{{text}}}", text] if braces and not text.lstrip().startswith("{") else [text]
    reason = None
    for attempt in tries:
        data, problems = load_yaml(attempt)
        if not problems:
            return _plain_yaml(data), None
        reason = problems[0][1] if reason is None else reason
    return None, reason


def _score(x: Any) -> Decimal | None:
    if x is None or x == "":
        return None
    return Decimal(str(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def _table(ws, title: str, date_line: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]],
            numbered: bool = True) -> int:
    """``write_table``, first touching row 4: with no grouped column every header cell of row 4 is a
    merged cell, which does not move openpyxl's append row, so the first data row would land inside
    the merged header (hidden in Excel). Harmless once ``write_table`` sets the row itself."""
    ws.cell(4, 1)
    return write_table(ws, title, date_line, columns, rows, numbered=numbered)


def _format_columns(ws, first_row: int, columns: Iterable[int], number_format: str) -> None:
    for c in columns:
        for (cell,) in ws.iter_rows(min_row=first_row, min_col=c, max_col=c):
            if cell.value is not None:
                cell.number_format = number_format


# ---- framework ⇄ workbook ------------------------------------------------------------------------


def _node_rows(nodes: list[dict], parent: str, depth: int) -> Iterable[list[Any]]:
    for n in nodes:
        rule = dict(n.get("rule") or {})
        rule_type = rule.pop("type", "")
        rng = n.get("range")
        yield [
            n["code"],
            parent,
            depth,
            n.get("name", ""),
            n.get("points"),
            n.get("weight"),
            n.get("unit", ""),
            DIRECTIONS.get(n["direction"], n["direction"]) if "direction" in n else "",
            _flow(rng) if rng is not None else "",
            rule_type,
            _flow(rule) if rule else "",
            _flow(n["formula"]) if "formula" in n else "",
            YES if n.get("key") else "",
            n.get("key_pass"),
            *(n.get(k, "") for k in TEXT_KEYS[:5]),
            YES if n.get("unverified") else "",
            n.get("note", ""),
        ]
        yield from _node_rows(n.get("children") or [], n["code"], depth + 1)


def write_framework(fw: Framework, path: Path | str, date: dt.date | None = None) -> None:
    """Write ``fw`` as a workbook: sheets 测评体系 (one row per node) and 体系信息."""
    d = fw.as_dict()
    wb = Workbook()
    ws = wb.active
    ws.title = FRAMEWORK_SHEET
    _table(ws, _title(fw), _status_line(fw, date), [c for c, _ in NODE_COLUMNS], _node_rows(d["nodes"], "", 1))
    info = wb.create_sheet(INFO_SHEET)
    values = {
        "code": d["code"],
        "version": d["version"],
        "name": d["name"],
        "status": STATUSES.get(d["status"], d["status"]),
        "sources": "\n".join(d.get("sources") or []),
        "description": d.get("description", ""),
        "levels": "、".join(d["levels"]) if d.get("levels") else "",
        "total": d.get("total"),
        "profile": _block(d["profile"]) if d.get("profile") else "",
        "grades": _block(d["grades"]) if d.get("grades") else "",
    }
    # 总分 is the only number; other items as text (a version like 2005 must stay text)
    _table(
        info,
        _title(fw, "体系信息"),
        _status_line(fw, date),
        [Column("项目", width=12), Column("内容", width=80, kind="multiline")],
        [(label, values[key]) for label, key in INFO_ITEMS],
    )
    wb.save(str(path))


def read_framework(path: Path | str, display_name: str = "", max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """A framework workbook as plain data (``framework.from_dict`` checks it). Refuses, with row and
    column, what the sheet itself gets wrong: a duplicate or blank 代码, an unknown 上级代码, a
    cycle, a number or YAML cell that does not parse."""
    return _read_framework(path, display_name, max_bytes)[0]


@dataclass
class _Rows:
    """Where each node and each 体系信息 item was read from, to place from_dict's problems."""

    file: str
    nodes: dict[str, int] = field(default_factory=dict)  # node code → Excel row
    labels: dict[str, str] = field(default_factory=dict)  # "CODE name" → code
    info: dict[str, int] = field(default_factory=dict)  # top-level key → Excel row
    columns: set[str] = field(default_factory=set)  # headers present in 测评体系


def _read_framework(path: Path | str, display_name: str, max_bytes: int) -> tuple[dict[str, Any], _Rows]:
    path = Path(path)
    name = display_name or path.name
    nodes_data = read_sheet(path, name, max_bytes, sheet=FRAMEWORK_SHEET)
    info_data = read_sheet(path, name, max_bytes, sheet=INFO_SHEET)
    where = _Rows(name)
    problems: list[Problem] = []
    top = _read_info(info_data, where, problems)
    top["nodes"] = _read_nodes(nodes_data, where, problems)
    if problems:
        raise Refused(problems)
    return top, where


def _read_info(data: SheetData, where: _Rows, problems: list[Problem]) -> dict[str, Any]:
    header, cols, _ = _find_header(data, ("项目", "内容"), ("项目", "内容"))
    out: dict[str, Any] = {}
    seen: dict[str, int] = {}

    def refuse(row: int, reason: str) -> None:
        problems.append(Problem(data.file, data.sheet, row, "内容", reason))

    for row, cells in _data_rows(data, header):
        label = _header_key(_cell(cells, cols["项目"]))
        raw = _cell(cells, cols["内容"])
        text = _text(raw)
        key = INFO_KEY.get(label)
        if key is None:
            problems.append(
                Problem(data.file, data.sheet, row, "项目", f"未知的项目“{label}”（可用：{'、'.join(INFO_KEY)}）")
            )
            continue
        if key in seen:
            problems.append(
                Problem(data.file, data.sheet, row, "项目", f"项目“{label}”重复（已见于第 {seen[key]} 行）")
            )
            continue
        seen[key] = row
        where.info[key] = row
        if not text:
            continue
        if key == "status":
            out[key] = STATUS_BY_TEXT.get(text, text)  # anything else: from_dict says what is allowed
        elif key == "sources":
            out[key] = [s.strip() for s in str(raw).splitlines() if s.strip()]
        elif key == "levels":
            out[key] = [s.strip() for s in re.split(r"[、,，]", text) if s.strip()]
        elif key == "total":
            try:
                out[key] = _number_cell(raw)
            except ValueError as exc:
                refuse(row, f"总分{exc}")
        elif key in ("profile", "grades"):
            value, reason = _yaml_cell(str(raw))
            if reason:
                refuse(row, f"{label}：{reason}")
            elif not isinstance(value, dict):
                refuse(row, f"{label}应为 YAML 映射")
            else:
                out[key] = value
        elif key == "description":
            out[key] = str(raw).strip()
        else:
            out[key] = text
    # the canonical order of framework.py's as_dict
    order = [k for _, k in INFO_ITEMS]
    return {k: out[k] for k in order if k in out}


def _read_nodes(data: SheetData, where: _Rows, problems: list[Problem]) -> list[dict]:
    known = [c.header for c, _ in NODE_COLUMNS]
    header, cols, _ = _find_header(data, known, ("代码", "上级代码", "名称"))
    where.columns = set(cols)
    entries: list[tuple[int, str, str, dict]] = []  # (row, code, parent, node)
    file, sheet = data.file, data.sheet
    rule_names = _rule_names()

    for row, cells in _data_rows(data, header):

        def get(key: str, cells: Sequence[Any] = cells) -> Any:
            return _cell(cells, cols.get(NODE_HEADER[key]))

        def refuse(key: str, reason: str, row: int = row) -> None:
            problems.append(Problem(file, sheet, row, NODE_HEADER[key], reason))

        code = _text(get("code"))
        if not code:
            refuse("code", "缺少代码")
            continue
        parent = _text(get("parent"))
        node: dict[str, Any] = {"code": code}
        name = _text(get("name"))
        if name:
            node["name"] = name
        for key in ("points", "weight"):
            v = get(key)
            if _text(v):
                try:
                    node[key] = _number_cell(v)
                except ValueError as exc:
                    refuse(key, str(exc))
        unit = _text(get("unit"))
        if unit:
            node["unit"] = unit
        direction = _text(get("direction"))
        if direction:
            if direction in DIRECTION_BY_TEXT:
                node["direction"] = DIRECTION_BY_TEXT[direction]
            else:
                refuse("direction", f"方向应为 越高越好、越低越好 或 目标区间，不是“{direction}”")
        rng = _text(get("range"))
        if rng:
            value = _range(rng)
            if value is None:
                refuse("range", f"取值范围应写作 [下限, 上限]（如 [0, 100]，无限制写 null），不是“{rng}”")
            else:
                node["range"] = value
        for key in TEXT_KEYS:
            v = get(key)
            if _text(v):
                node[key] = str(v).strip() if isinstance(v, str) else _text(v)
        for key in ("unverified", "key"):
            flag = _text(get(key))
            if flag in TRUE_TEXTS:
                node[key] = True
            elif flag and flag not in FALSE_TEXTS:
                refuse(key, f"应填“是”或留空，不是“{flag}”")
        v = get("key_pass")
        if _text(v):
            try:
                node["key_pass"] = _number_cell(v)
            except ValueError as exc:
                refuse("key_pass", str(exc))
        rule_type = _text(get("rule_type"))
        params_text = _text(get("rule"))
        if params_text and not rule_type:
            refuse("rule_type", "填写了规则参数，但缺少评分规则")
        if rule_type:
            rule: dict[str, Any] = {"type": rule_names.get(rule_type, rule_type)}
            if params_text:
                params, reason = _yaml_cell(params_text, braces=True)
                if reason:
                    refuse("rule", reason)
                elif not isinstance(params, dict):
                    refuse("rule", "规则参数应为 YAML 映射，如 {target: 35}")
                elif "type" in params:
                    refuse("rule", "规则参数中不写 type：规则类型填在“评分规则”列")
                else:
                    rule.update(params)
            node["rule"] = rule
        formula_text = _text(get("formula"))
        if formula_text:
            formula, reason = _yaml_cell(formula_text, braces=True)
            if reason:
                refuse("formula", reason)
            elif not isinstance(formula, dict):
                refuse("formula", "计算公式应为 YAML 映射，如 {numerator: …, denominator: …, scale: 100}")
            else:
                node["formula"] = formula
        entries.append((row, code, parent, node))

    # the tree, from 上级代码; children in row order
    rows: dict[str, int] = {}
    for row, code, _, node in entries:
        if code in rows:
            problems.append(Problem(file, sheet, row, "代码", f"代码“{code}”重复（已用于第 {rows[code]} 行）"))
            continue
        rows[code] = row
        where.nodes[code] = row
        where.labels[f"{code} {node.get('name', '')}".rstrip()] = code
    parent_of = {code: parent for row, code, parent, _ in entries if rows.get(code) == row}
    for row, code, parent, _ in entries:
        if rows.get(code) != row or not parent:
            continue
        if parent not in rows:
            problems.append(Problem(file, sheet, row, "上级代码", f"上级代码“{parent}”不是本表中的指标代码"))
            continue
        chain, seen = [code], {code}
        at = parent
        while at and at in parent_of and at not in seen:
            chain.append(at)
            seen.add(at)
            at = parent_of[at]
        if at == code:
            problems.append(Problem(file, sheet, row, "上级代码", f"上级代码形成循环：{' → '.join([*chain, code])}"))
    if problems:
        return []
    by_code = {code: node for row, code, _, node in entries}
    roots: list[dict] = []
    for _, _code, parent, node in entries:
        if parent:
            by_code[parent].setdefault("children", []).append(node)
        else:
            roots.append(node)
    return roots


def _range(text: str) -> list | None:
    """``[0, 100]`` (YAML, null for an open side) or ``0~100`` / ``0–100`` / ``0至100``."""
    value, reason = _yaml_cell(text)
    if (
        reason is None
        and isinstance(value, list)
        and len(value) == 2
        and all(v is None or _is_number(v) for v in value)
    ):
        return [None if v is None else _plain_number(v) for v in value]
    m = re.fullmatch(r"\s*([-+]?[\d.]+)?\s*[~～–—至]\s*([-+]?[\d.]+)?\s*", text)
    if m and (m.group(1) or m.group(2)):
        try:
            return [None if g is None else _number_cell(g) for g in m.groups()]
        except ValueError:
            return None
    return None


def _rule_names() -> dict[str, str]:
    """Chinese rule names (达标得分; 扣分（每处扣 X 分，扣完为止） and its short form 扣分) → code."""
    out: dict[str, str] = {}
    short: dict[str, list[str]] = {}
    for code, spec in RULES.items():
        out[spec.name] = code
        short.setdefault(re.split(r"[（(]", spec.name)[0].strip(), []).append(code)
    for name, codes in short.items():
        if len(codes) == 1:
            out.setdefault(name, codes[0])
    return out


def load_framework_xlsx(path: Path | str, display_name: str = "", max_bytes: int = MAX_BYTES) -> Framework:
    """Read and check a framework workbook; every problem as ``FILE:SHEET:ROW:COLUMN: reason``."""
    data, where = _read_framework(path, display_name, max_bytes)
    try:
        return from_dict(data, where.file)
    except FrameworkError as exc:
        raise Refused(_placed(exc.problems, where, data)) from None


def _placed(problems: Iterable, where: _Rows, data: dict) -> list[Problem]:
    """from_dict's problems (path, reason, line, node) placed on their sheet row and column."""
    name = f"{data.get('code', '')}@{data.get('version', '')}"
    out = []
    for p in problems:
        segments = p.path.split(SEP) if p.path else []
        code = p.node
        index = None
        if code is not None:
            index = next(
                (
                    i
                    for i in range(len(segments) - 1, -1, -1)
                    if segments[i] == code or segments[i].startswith(code + " ")
                ),
                None,
            )
        else:  # problems about a node's children name the parent, or the child by its code alone
            for i in range(len(segments) - 1, 0, -1):
                found = where.labels.get(segments[i]) or (segments[i] if segments[i] in where.nodes else None)
                if found:
                    code, index = found, i
                    break
        if code is not None and code in where.nodes:
            tail = SEP.join(segments[index + 1 :]) if index is not None else ""
            column, reason = _node_column(tail, p.reason)
            out.append(Problem(where.file, FRAMEWORK_SHEET, where.nodes[code], column, reason))
            continue
        key = segments[1] if len(segments) > 1 and segments[0] == name else (segments[0] if segments else "")
        if key not in INFO_LABEL:
            m = re.match(r"缺少 (\w+)", p.reason)
            key = m.group(1) if m else key
        if key in INFO_LABEL:
            rest = SEP.join(segments[2:]) if len(segments) > 2 and segments[0] == name else ""
            reason = f"{rest}：{p.reason}" if rest else p.reason
            out.append(Problem(where.file, INFO_SHEET, where.info.get(key), "内容", reason))
        elif key == "nodes" or segments[:1] == [name]:
            column = next((col for word, col in REASON_COLUMN if word in p.reason), "")
            out.append(Problem(where.file, FRAMEWORK_SHEET, None, column, p.reason))
        else:
            out.append(Problem(where.file, "", None, "", f"{p.path}: {p.reason}" if p.path else p.reason))
    return out


def _node_column(tail: str, reason: str) -> tuple[str, str]:
    """The column a node problem's field lives in, and the reason (naming the rule parameter or
    formula part, which share one cell)."""
    if not tail:
        return next((col for word, col in REASON_COLUMN if word in reason), ""), reason
    if tail in FIELD_COLUMN:
        return FIELD_COLUMN[tail], reason
    head, _, sub = tail.partition(".")
    if head in ("rule", "formula") and sub:
        return FIELD_COLUMN[head], f"{sub}：{reason}"
    return FIELD_COLUMN.get(head, ""), reason


# ---- values ----------------------------------------------------------------------------------


@dataclass
class ValueSheet:
    """A values sheet read: subjects in first-appearance order, their names, the values (converted
    to each input's unit) and the evidence (佐证材料) noted per subject and indicator."""

    subjects: list[str]
    names: dict[str, str]
    records: list[tuple[str, str, str, float]]
    evidence: dict[tuple[str, str], str]


def _input_label(node: Node, inp) -> str:
    """What the 取值项 cell says: 数值, 分子：无害化处理量, an option's 满意人数, 第一年得分."""
    if node.formula is not None and inp.code in FORMULA_PARTS:
        return f"{FORMULA_PARTS[inp.code]}：{inp.label}"
    return inp.label


def _names_path(fw: Framework, node: Node) -> str:
    return SEP.join(fw.node(c).name for c in node.path)


def write_values_template(
    fw: Framework,
    subjects: list[tuple[str, str]],
    path: Path | str,
    previous: dict[tuple[str, str, str], float] | None = None,
    date: dt.date | None = None,
    skip=None,
) -> None:
    """The values sheet (数值填报) to fill in: one row per subject × leaf input, with the input's
    unit; with ``previous`` a 上期数值 column after 单位; ``skip(node)`` leaves leaves out (those the
    platform fills in)."""
    cols = [
        Column(V_SUBJECT, width=12),
        Column(V_NAME, width=16),
        Column(V_CODE, width=10),
        Column(V_INDICATOR, width=40, kind="multiline"),
        Column(V_INPUT, width=24, kind="multiline"),
        Column(V_VALUE, width=12, kind="number"),
        Column(V_UNIT, width=10),
    ]
    if previous is not None:
        cols.append(Column(V_PREVIOUS, width=12, kind="number"))
    cols.append(Column(V_EVIDENCE, width=30, kind="multiline"))

    def rows() -> Iterable[list[Any]]:
        for subject, name in subjects:
            for node in fw.leaves():
                if skip is not None and skip(node):
                    continue
                for inp in node.inputs:
                    row = [subject, name, node.code, _names_path(fw, node), _input_label(node, inp), None, inp.unit]
                    if previous is not None:
                        row.append(previous.get((subject, node.code, inp.code)))
                    row.append("")
                    yield row

    wb = Workbook()
    ws = wb.active
    ws.title = VALUES_SHEET
    _table(ws, _title(fw, "数值填报表"), _status_line(fw, date), cols, rows())
    wb.save(str(path))


def _match_input(node: Node, text: str):
    """The input a 取值项 cell names (its code, label or written label; 分子/分母), or None."""
    if text in SINGLE_INPUT_TEXTS and len(node.inputs) == 1:
        return node.inputs[0]
    for inp in node.inputs:
        if text in (inp.code, inp.label, _input_label(node, inp)):
            return inp
        if node.formula is not None and text == FORMULA_PARTS.get(inp.code):
            return inp
    return None


def _value(raw: Any) -> tuple[float, str | None]:
    """A 数值 cell as (number, unit written with it or None); raises ValueError (Chinese)."""
    if _is_number(raw):
        return float(raw), None
    if isinstance(raw, str):
        try:
            number, unit = unit_table.parse_quantity(raw)
            return float(number), unit
        except unit_table.UnitError:
            pass
    raise ValueError(f"“{_text(raw)}”不是数值")


def read_values(fw: Framework, path: Path | str, display_name: str = "", max_bytes: int = MAX_BYTES) -> ValueSheet:
    """Read a values sheet (.xlsx or .csv). Every problem is collected, then the file is refused:
    blank 对象代码, unknown indicator or 取值项, a non-number, an unknown or inconvertible unit, a
    value outside the indicator's range (with the 元/万元 hint), a repeated subject × indicator × input.
    A blank 数值 is a value not given (skipped)."""
    data = _read(path, display_name, max_bytes, VALUES_SHEET)
    known = (V_SUBJECT, V_NAME, V_CODE, V_INDICATOR, V_INPUT, V_VALUE, V_UNIT, V_PREVIOUS, V_EVIDENCE)
    header, cols, _ = _find_header(data, known, (V_SUBJECT, V_CODE, V_VALUE))
    problems: list[Problem] = []
    subjects: list[str] = []
    names: dict[str, str] = {}
    records: list[tuple[str, str, str, float]] = []
    evidence: dict[tuple[str, str], list[str]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    index = {n.code: n for n in fw.walk()}

    for row, cells in _data_rows(data, header):

        def refuse(column: str, reason: str, row: int = row) -> None:
            problems.append(Problem(data.file, data.sheet, row, column, reason))

        def get(column: str, cells: Sequence[Any] = cells) -> Any:
            return _cell(cells, cols.get(column))

        subject = _text(get(V_SUBJECT))
        if not subject:
            refuse(V_SUBJECT, "缺少对象代码")
            continue
        if subject not in names:
            subjects.append(subject)
            names[subject] = ""
        if not names[subject]:
            names[subject] = _text(get(V_NAME))
        code = _text(get(V_CODE))
        node = index.get(code)
        if not code:
            refuse(V_CODE, "缺少指标代码")
            continue
        if node is None:
            refuse(V_CODE, f"未知的指标代码“{code}”（{fw.full_name} 中没有）")
            continue
        label = fw.path_label(code)
        if not node.is_leaf:
            refuse(V_CODE, f"{label}：有下级指标，请按末级指标填报")
            continue
        note = _text(get(V_EVIDENCE))
        if note and note not in evidence.setdefault((subject, code), []):
            evidence[(subject, code)].append(note)
        input_text = _text(get(V_INPUT))
        inp = _match_input(node, input_text)
        if inp is None:
            choices = "、".join(_input_label(node, i) for i in node.inputs)
            if not input_text:
                refuse(V_INPUT, f"{label}：有多个取值项（{choices}），请填写取值项")
            else:
                refuse(V_INPUT, f"{label}：没有取值项“{input_text}”（可填：{choices}）")
            continue
        raw = get(V_VALUE)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue  # not given: the engine treats it as missing
        key = (subject, code, inp.code)
        if key in seen:
            refuse(V_VALUE, f"与第 {seen[key]} 行重复（对象 {subject}、指标 {code}、取值项 {_input_label(node, inp)}）")
            continue
        seen[key] = row
        try:
            value, written_unit = _value(raw)
        except ValueError as exc:
            refuse(V_VALUE, str(exc))
            continue
        unit_text = _text(get(V_UNIT))
        try:
            given = unit_table.unit(unit_text).code if unit_text else None
        except unit_table.UnitError as exc:
            refuse(V_UNIT, f"{label}：{exc}")
            continue
        if written_unit is not None and given is not None and written_unit != given:
            refuse(V_VALUE, f"{label}：数值自带的单位“{written_unit}”与单位列“{given}”不一致")
            continue
        given = given or written_unit
        if given is not None:
            try:
                value = float(unit_table.convert(value, given, inp.unit))
            except unit_table.UnitError as exc:
                refuse(V_UNIT, f"{label}：{exc}")
                continue
        if (inp.code in COUNT_INPUTS or (node.rule_type == "satisfaction" and inp.code != "value")) and value < 0:
            refuse(V_VALUE, f"{label}：数量应不小于 0，不是 {_fmt(value)}")
            continue
        if node.range is not None and node.formula is None and inp.unit == node.unit and inp.code in ("value", "count"):
            low, high = node.range
            if (low is not None and value < low) or (high is not None and value > high):
                reason = f"{label}：数值 {_fmt(value)} 超出取值范围（{_range_text(low, high, node.unit)}）"
                hint = unit_table.suspicious_factor(value, node.unit, low, high)
                refuse(V_VALUE, f"{reason}；{hint}" if hint else reason)
                continue
        records.append((subject, code, inp.code, value))
    if problems:
        raise Refused(problems)
    return ValueSheet(subjects, names, records, {k: "；".join(v) for k, v in evidence.items()})


# ---- profiles --------------------------------------------------------------------------------


def write_profiles_template(
    fw: Framework,
    subjects: list[tuple[str, str]],
    path: Path | str,
    profiles: dict[str, dict[str, str]] | None = None,
    date: dt.date | None = None,
) -> None:
    """The profiles sheet (对象属性): 对象代码, 对象名称, then one column per attribute headed by its
    Chinese name, filled with value names (a drop-down lists them); ``profiles`` prefills it."""
    attrs = list(fw.profile.values())
    cols = [
        Column(V_SUBJECT, width=12),
        Column(V_NAME, width=16),
        *(Column(a.name, width=max(12, len(a.name) * 2 + 2)) for a in attrs),
    ]
    profiles = profiles or {}
    rows = [
        [code, name, *(a.values.get(profiles.get(code, {}).get(a.code, ""), "") for a in attrs)]
        for code, name in subjects
    ]
    wb = Workbook()
    ws = wb.active
    ws.title = PROFILES_SHEET
    _table(ws, _title(fw, "对象属性表"), _status_line(fw, date), cols, rows)
    first, last = 5, 4 + max(len(rows), 1)
    for i, a in enumerate(attrs):
        choices = ",".join(a.values.values())
        if any("," in v or '"' in v for v in a.values.values()) or len(choices) > 255:
            continue  # Excel's list validation cannot hold these
        letter = get_column_letter(4 + i)  # 序号, 对象代码, 对象名称, then the attributes
        dv = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
        dv.add(f"{letter}{first}:{letter}{last}")
        ws.add_data_validation(dv)
    wb.save(str(path))


def read_profiles(
    fw: Framework, path: Path | str, display_name: str = "", max_bytes: int = MAX_BYTES
) -> dict[str, dict[str, str]]:
    """Each subject's attributes (value codes) from a profiles sheet (.xlsx or .csv). Headers may be
    attribute codes or names, cells value codes or names; a blank cell leaves the attribute unset."""
    data = _read(path, display_name, max_bytes, PROFILES_SHEET)
    by_header: dict[str, str] = {}
    for a in fw.profile.values():
        by_header[_header_key(a.name)] = a.code
        by_header[a.code] = a.code
    header, cols, others = _find_header(data, (V_SUBJECT, V_NAME, "序号", *by_header), (V_SUBJECT,))
    problems: list[Problem] = []
    names = "、".join(f"{a.name}（{a.code}）" for a in fw.profile.values()) or "无"
    for _c, text in others:
        problems.append(
            Problem(data.file, data.sheet, header + 1, text, f"未知的对象属性列（{fw.full_name} 的对象属性：{names}）")
        )
    attr_cols: dict[str, tuple[int, str]] = {}
    for text, c in cols.items():
        code = by_header.get(text)
        if code is None:
            continue
        if code in attr_cols:
            problems.append(Problem(data.file, data.sheet, header + 1, text, f"与“{attr_cols[code][1]}”是同一对象属性"))
            continue
        attr_cols[code] = (c, text)
    out: dict[str, dict[str, str]] = {}
    rows: dict[str, int] = {}
    for row, cells in _data_rows(data, header):
        subject = _text(_cell(cells, cols[V_SUBJECT]))
        if not subject:
            problems.append(Problem(data.file, data.sheet, row, V_SUBJECT, "缺少对象代码"))
            continue
        if subject in rows:
            problems.append(
                Problem(
                    data.file, data.sheet, row, V_SUBJECT, f"对象代码“{subject}”重复（已见于第 {rows[subject]} 行）"
                )
            )
            continue
        rows[subject] = row
        profile: dict[str, str] = {}
        for code, (c, text) in attr_cols.items():
            value = _text(_cell(cells, c))
            if not value:
                continue
            attr = fw.profile[code]
            by_name = {v: k for k, v in attr.values.items()}
            if value in attr.values:
                profile[code] = value
            elif value in by_name:
                profile[code] = by_name[value]
            else:
                problems.append(
                    Problem(
                        data.file,
                        data.sheet,
                        row,
                        text,
                        f"“{value}”不是“{attr.name}”的取值（可填：{'、'.join(attr.values.values())}）",
                    )
                )
        out[subject] = profile
    if problems:
        raise Refused(problems)
    return out


# ---- results ---------------------------------------------------------------------------------


def write_ranking(path: Path | str, fw: Framework, rows: Sequence[dict[str, Any]], date: dt.date | None = None) -> None:
    """The ranking (排名): 排名, 对象代码, 对象名称, 总分, 等次, 一票否决, 前置条件, then each top-level
    node's score under 各维度得分. Scores are numbers shown with two decimals."""
    tops = list(fw.nodes)
    cols = [
        Column("排名", width=6, kind="int"),
        Column(V_SUBJECT, width=12),
        Column(V_NAME, width=18),
        Column("总分", width=10, kind="number"),
        Column("等次", width=12),
        Column("一票否决", width=8),
        Column("前置条件", width=8),
        *(Column(n.name, group="各维度得分", width=max(10, len(n.name) * 2)) for n in tops),
    ]
    body = [
        [
            r.get("rank"),
            r["subject"],
            r.get("name", ""),
            _score(r.get("total")),
            r.get("grade", ""),
            YES if r.get("vetoed") else "",
            "未达" if r.get("prerequisite_failed") else "",
            *(_score((r.get("nodes") or {}).get(n.code)) for n in tops),
        ]
        for r in rows
    ]
    wb = Workbook()
    ws = wb.active
    ws.title = RANKING_SHEET
    _table(ws, _title(fw, "测评排名"), _status_line(fw, date), cols, body, numbered=False)
    _format_columns(ws, 5, [4, *range(8, 8 + len(tops))], SCORE_FORMAT)
    wb.save(str(path))


def write_scorecards(
    path: Path | str, fw: Framework, rows: Sequence[dict[str, Any]], date: dt.date | None = None
) -> None:
    """The scorecards (评分明细): one row per subject × indicator with the sentence explaining it."""
    cols = [
        Column(V_SUBJECT, width=12),
        Column(V_NAME, width=16),
        Column("指标代码", width=10),
        Column("指标", width=40, kind="multiline"),
        Column("满分", width=8, kind="number"),
        Column("得分", width=8, kind="number"),
        Column("评分规则", width=16),
        Column("得分说明", width=60, kind="multiline"),
    ]
    body = [
        [
            r["subject"],
            r.get("name", ""),
            r["code"],
            r.get("path", ""),
            None if r.get("points") is None else float(r["points"]),
            _score(r.get("score")),
            r.get("rule_name", ""),
            r.get("sentence", ""),
        ]
        for r in rows
    ]
    wb = Workbook()
    ws = wb.active
    ws.title = SCORECARD_SHEET
    _table(ws, _title(fw, "评分明细"), _status_line(fw, date), cols, body)
    _format_columns(ws, 5, [7], SCORE_FORMAT)  # 序号 comes first: 得分 is the 7th column
    wb.save(str(path))
