"""Reading the tables the weighting methods take (赋权输入表), from CSV or .xlsx. Pure: no Django.

CSV is read as UTF-8 with or without a BOM (Excel writes one), else GB18030 (a superset of GBK,
what Excel on Chinese Windows writes); comma- or tab-separated (decided by the first line).
The first row holds names when any of its cells past the first is not a number; the first
column holds names when any of its cells below the header is not a number. A matrix cell may be
written as a fraction (``1/3``). A row whose first cell is ``direction`` or ``方向`` gives each
column's direction (``+``, ``-``/``−``, or a target value). Every bad cell is refused naming the
file, its row and its column.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from chengzhen.documents.spreadsheet import read_csv, read_sheet
from chengzhen.problems import Problem, Refused

from .weighting import LabelledTable, parse_direction

MAX_BYTES = 20 * 1024 * 1024
DIRECTION_LABELS = {"direction", "方向", "指标方向"}


def parse_number(value: Any) -> float | None:
    """A number from a cell: 3, 0.25, "1/3", "1 / 3"; None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    s = str(value).strip().replace("，", ",")
    if not s:
        return None
    try:
        if "/" in s:
            top, _, bottom = s.partition("/")
            b = float(bottom)
            return float(top) / b if b else None
        x = float(s)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def read_rows(path: str | Path, display_name: str = "") -> list[list[Any]]:
    """The cells of a CSV/TSV or .xlsx file, row by row, trailing empty rows and columns cut."""
    path = Path(path)
    name = display_name or path.name
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = [list(r) for r in read_sheet(path, name, MAX_BYTES).rows]
    else:
        rows = [[None if v is None or not v.strip() else v.strip() for v in r]
                for r in read_csv(path, name, MAX_BYTES, delimiter="auto").rows]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    width = max((max((k + 1 for k, v in enumerate(r) if v is not None), default=0) for r in rows), default=0)
    return [list(r[:width]) + [None] * (width - len(r)) for r in rows]


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v).strip()


def read_table(path: str | Path, display_name: str = "", *, kind: str = "table") -> LabelledTable:
    """A numeric table with optional names row and column (``kind``: ``table`` or ``matrix``)."""
    name = display_name or Path(path).name
    rows = read_rows(path, name)
    if not rows:
        raise Refused([Problem(file=name, reason="文件中没有数据")])
    direction_rows = [k for k, r in enumerate(rows) if _text(r[0]).lower() in DIRECTION_LABELS]
    if kind == "matrix" and direction_rows:
        raise Refused([Problem(file=name, row=direction_rows[0] + 1, reason="判断矩阵不应有方向行")])
    if len(direction_rows) > 1:
        raise Refused([Problem(file=name, row=direction_rows[1] + 1, reason="方向行只能有一行")])
    direction_row = rows[direction_rows[0]] if direction_rows else None
    body_index = [k for k in range(len(rows)) if k not in direction_rows]
    header = any(parse_number(v) is None for v in rows[body_index[0]][1:]) if body_index else False
    data_index = body_index[1:] if header else body_index
    names_column = any(parse_number(rows[k][0]) is None for k in data_index) or direction_row is not None
    c0 = 1 if names_column else 0
    width = len(rows[0])
    column_names = tuple(_text(v) for v in rows[body_index[0]][c0:]) if header else tuple(
        f"X{k + 1}" for k in range(width - c0))
    problems: list[Problem] = []
    if header:
        seen: set[str] = set()
        for k, cname in enumerate(column_names):
            if not cname:
                problems.append(Problem(file=name, row=body_index[0] + 1, column=f"第 {k + c0 + 1} 列",
                                        reason="缺少指标名称"))
            elif cname in seen:
                problems.append(Problem(file=name, row=body_index[0] + 1, column=cname, reason="指标名称重复"))
            seen.add(cname)
    row_names = tuple(_text(rows[k][0]) for k in data_index) if names_column else tuple(
        f"A{k + 1}" for k in range(len(data_index)))
    if names_column:
        seen = set()
        for k, rname in zip(data_index, row_names, strict=True):
            if not rname:
                problems.append(Problem(file=name, row=k + 1, column="名称", reason="缺少名称"))
            elif rname in seen:
                problems.append(Problem(file=name, row=k + 1, column="名称", reason=f"名称“{rname}”重复"))
            seen.add(rname)
    values = np.full((len(data_index), len(column_names)), np.nan)
    for a, k in enumerate(data_index):
        for j in range(len(column_names)):
            cell = rows[k][j + c0]
            x = parse_number(cell)
            if x is None:
                reason = "缺少数值" if cell is None else f"不是数：{_text(cell)!r}"
                problems.append(Problem(file=name, row=k + 1, column=column_names[j], reason=reason))
            else:
                values[a, j] = x
    directions = None
    if direction_row is not None:
        directions = []
        for j in range(len(column_names)):
            try:
                directions.append(parse_direction(direction_row[j + c0], column_names[j]))
            except Refused as exc:
                problems += [Problem(file=name, row=direction_rows[0] + 1, column=p.column, reason=p.reason)
                             for p in exc.problems]
        directions = tuple(directions)
    if kind == "matrix" and header and names_column and row_names != column_names and not problems:
        problems.append(Problem(file=name, row=data_index[0] + 1 if data_index else None,
                                reason="判断矩阵首行与首列的指标名称应一致且顺序相同"))
    if problems:
        raise Refused(problems)
    if kind == "matrix" and not header and names_column:
        column_names = row_names
    if kind == "matrix" and header and not names_column:
        row_names = column_names
    return LabelledTable(name, row_names, column_names, values, directions,
                         first_row=(data_index[0] + 1) if data_index else 1, first_column=c0 + 1)


def read_weights(path: str | Path, display_name: str = "") -> dict[str, float]:
    """``name,weight`` rows (a header row optional) as an ordered mapping."""
    name = display_name or Path(path).name
    rows = read_rows(path, name)
    problems: list[Problem] = []
    weights: dict[str, float] = {}
    for k, r in enumerate(rows):
        if len(r) < 2:
            problems.append(Problem(file=name, row=k + 1, reason="每行应为 名称,权重"))
            continue
        label, x = _text(r[0]), parse_number(r[1])
        if x is None:
            if k == 0:
                continue  # the header
            problems.append(Problem(file=name, row=k + 1, column="权重", reason=f"不是数：{_text(r[1])!r}"))
        elif not label:
            problems.append(Problem(file=name, row=k + 1, column="名称", reason="缺少名称"))
        elif label in weights:
            problems.append(Problem(file=name, row=k + 1, column="名称", reason=f"名称“{label}”重复"))
        elif x < 0:
            problems.append(Problem(file=name, row=k + 1, column="权重", reason="权重不应为负"))
        else:
            weights[label] = x
    if not weights and not problems:
        problems.append(Problem(file=name, reason="文件中没有权重"))
    if problems:
        raise Refused(problems)
    return weights
