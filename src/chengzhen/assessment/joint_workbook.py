"""The merged target list of joint campaigns (六城联创指标合并表) as a workbook, in the customary
layout of the shared builder. Pure: no Django.

Sheet 合并矩阵: one row per merged indicator — 序号, 规范指标, 单位, 方向, one column per campaign
with its threshold (per class on separate lines when there is no subject), the binding threshold
(约束门槛), the campaigns setting it, 牵头单位, 配合单位, 冲突.
Sheet 门槛明细: the long form — one row per indicator, campaign, class and bound (a band is two
rows, ≥ low and ≤ high), the value as a number; the binding threshold as campaign 约束门槛.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from chengzhen.documents.spreadsheet import Column, write_table

from .joint import (
    DIRECTION_NAMES,
    OP_SYMBOL,
    Merged,
    MergedIndicator,
    Threshold,
    binding_text,
    campaign_threshold_text,
)

MATRIX_SHEET = "合并矩阵"
LONG_SHEET = "门槛明细"
BINDING = "约束门槛"
TITLE = "六城联创指标合并表（就高不就低）"


def write_merged_xlsx(merged: Merged, path: Path | str, date: dt.date | None = None) -> Path:
    """Write the merged list as .xlsx (sheets 合并矩阵 and 门槛明细); returns the path."""
    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = MATRIX_SHEET
    line = _date_line(merged, date)
    campaign_columns = [
        Column(f"{c.label}\n{c.name}" + (f"\n完成时限 {c.deadline.isoformat()}" if c.deadline else ""),
               group="各创建要求", width=22, kind="multiline")
        for c in merged.campaigns
    ]
    columns = [
        Column("规范指标", width=24, kind="multiline"),
        Column("单位", width=10),
        Column("方向", width=9),
        *campaign_columns,
        Column(BINDING, width=24, kind="multiline"),
        Column("约束来源", width=20, kind="multiline"),
        Column("牵头单位", width=16),
        Column("配合单位", width=20, kind="multiline"),
        Column("冲突", width=30, kind="multiline"),
    ]
    ws.cell(4, 1)  # see workbook._table: row 4 must exist before the builder appends below it
    write_table(ws, TITLE, line, columns, (_matrix_row(merged, r) for r in merged.rows))
    long = wb.create_sheet(LONG_SHEET)
    long_columns = [
        Column("指标代码", width=22),
        Column("规范指标", width=24),
        Column("创建", width=22),
        Column("体系指标", width=26),
        Column("类别", width=18),
        Column("门槛", width=18),
        Column("比较", width=6),
        Column("数值", width=10, kind="decimal"),
        Column("单位", width=10),
    ]
    long.cell(4, 1)
    write_table(long, f"{TITLE}·{LONG_SHEET}", line, long_columns, _long_rows(merged))
    wb.save(str(path))
    return path


def _date_line(merged: Merged, date: dt.date | None) -> str:
    date = date or dt.date.today()
    parts = [f"合并日期：{date.isoformat()}", f"创建 {len(merged.campaigns)} 个"]
    if merged.subject:
        parts.append(f"对象：{merged.subject}")
    else:
        parts.append("未指定对象：按类别取值的门槛分类别列出")
    rule = merged.lead_rule
    parts.append("牵头单位：" + ("按优先顺序 " + "、".join(rule.precedence) if rule.kind == "precedence"
                                 else "约束门槛所属创建的责任部门"))
    return "；".join(parts)


def _matrix_row(merged: Merged, row: MergedIndicator) -> list[Any]:
    return [
        row.name,
        row.unit,
        DIRECTION_NAMES.get(row.direction, row.direction),
        *(campaign_threshold_text(row, c.label) for c in merged.campaigns),
        binding_text(row),
        "、".join(row.binding_campaigns),
        row.lead,
        "、".join(row.cooperating),
        "\n".join(c.text for c in row.conflicts),
    ]


def _bounds(t: Threshold) -> list[tuple[str, Any]]:
    """(op symbol, value) per bound; a qualitative requirement is one row without a value."""
    if t.qualitative:
        return [("定性", None)]
    out = []
    if t.low is not None:
        out.append((OP_SYMBOL[">" if t.low_strict else ">="], t.low))
    if t.high is not None:
        out.append((OP_SYMBOL["<" if t.high_strict else "<="], t.high))
    return out


def _long_rows(merged: Merged) -> Iterable[list[Any]]:
    for row in merged.rows:
        for s in row.sources:
            node = f"{s.framework} {s.node} {s.name}"
            per_class = [(ct.label, ct.threshold) for ct in s.by_class] or [(s.class_label, s.threshold)]
            for label, t in per_class:
                if t is None:
                    continue
                for op, value in _bounds(t):
                    yield [row.key, row.name, s.campaign, node, label, t.text(row.unit), op, value, row.unit]
        bindings = [("", row.binding)] if row.binding is not None else [(cb.label, cb.binding) for cb in row.by_class]
        for label, b in bindings:
            if b is None:
                continue
            for op, value in _bounds(b.threshold):
                yield [row.key, row.name, BINDING, "、".join(b.campaigns), label, b.threshold.text(row.unit), op,
                       value, row.unit]
