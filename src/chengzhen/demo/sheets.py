"""Large sample ledger sheets in the customary layout, for the 10,000-row test and benchmark."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from chengzhen.documents.spreadsheet import Column, write_table

COLUMNS = [
    Column("序号", width=6), Column("任务编号"), Column("任务名称", width=28),
    Column("任务类别"), Column("目标任务/工作要求", width=36), Column("牵头单位", width=18),
    Column("配合单位", width=22), Column("具体责任人"), Column("联系电话"),
    Column("开始时间", kind="date"), Column("完成时限", kind="date"),
    Column("时间节点", width=34, kind="multiline"),
    Column("计划总投资", "投资（万元）", kind="money"),
    Column("2026年计划投资", "投资（万元）", kind="money"),
    Column("累计完成投资", "投资（万元）", kind="money"),
    Column("完成状态"), Column("上级任务编号"), Column("备注"),
]


def write_ledger_sheet(path: Path, n: int, lead_units: list[str], coop_units: list[str],
                       seed: int = 7) -> Path:
    """Write ``n`` tasks (every tenth a sub-task of the one before) naming the given units."""
    rng = random.Random(seed)
    rows = []
    for i in range(1, n + 1):
        start = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 150))
        due = start + dt.timedelta(days=rng.randint(30, 400))
        total = Decimal(rng.randint(10000, 500000000)) / 100
        parent = f"T{i - 1:05d}" if i % 10 == 0 else ""
        node = start + dt.timedelta(days=(due - start).days // 2)
        rows.append([
            i, f"T{i:05d}", f"第{i}项重点工作", "基础设施", "按期完成建设任务，形成实物工作量",
            rng.choice(lead_units), "、".join(rng.sample(coop_units, 2)), "张三", "13800000000",
            start, due, f"开工：{start.isoformat()}\n过半：{node.isoformat()}", total,
            (total * Decimal("0.6")).quantize(Decimal("0.01")), None,
            rng.choice(["未启动", "推进中", "推进中", "已完成"]), parent, "",
        ])
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    write_table(ws, "2026年重点工作台账", "填报日期：2026年11月24日", COLUMNS, rows,
                numbered=False)
    wb.save(path)
    return path
