"""Exporting a programme's ledger to Excel (台账导出) in the customary layout.

The entered columns carry the importer's names, so an exported sheet imports back exactly;
the computed columns (累计完成投资, 序时进度, 形象进度, 滞后 …) are written for reading and
ignored on import.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.utils.translation import gettext_noop
from openpyxl import Workbook

from chengzhen.audit.chain import record_event
from chengzhen.audit.context import acting_for
from chengzhen.documents.spreadsheet import Column, Lamp, write_table
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, require, restrict

from . import sheet as S
from .models import AnnualPlan, Cooperation, Task
from .queries import today_local, with_progress


def ledger_columns(years: list[int], this_year: int) -> list[Column]:
    f = S.BY_KEY
    money = "投资（万元）"
    cols = [
        Column(f["seq"].label, width=6),
        Column(f["code"].label, width=12),
        Column(f["name"].label, width=28, kind="multiline"),
        Column(f["category"].label, width=10),
        Column(f["requirement"].label, width=36, kind="multiline"),
        Column(f["responsible_leader"].label, width=12),
        Column(f["lead_unit"].label, width=18),
        Column(f["cooperating_units"].label, width=22, kind="multiline"),
        Column(f["responsible_person"].label, width=10),
        Column(f["responsible_phone"].label, width=14),
        Column(f["responsible_user"].label, width=12),
        Column(f["start_date"].label, width=12, kind="date"),
        Column(f["due_date"].label, width=12, kind="date"),
        Column(f["time_nodes"].label, width=34, kind="multiline"),
        Column(f["planned_total_investment"].label, money, 14, "money"),
        *[Column(f"{y}年计划投资", money, 14, "money") for y in years],
        Column(f["opening_completed_investment"].label, money, 14, "money"),
        Column("累计完成投资", money, 14, "money"),
        Column("本年完成投资", money, 14, "money"),
        Column("投资完成率", money, 10, "percent"),
        Column("序时进度", "进度", 10, "percent"),
        Column("形象进度", "进度", 10, "percent"),
        Column("滞后", "进度", 6),
        Column("超期天数", "进度", 8),
        Column("亮灯状态", "亮灯", 10),
        Column("亮灯原因", "亮灯", 30, "multiline"),
        Column(f["status"].label, width=10),
        Column(f["weight"].label, width=8, kind="number"),
        Column(f["parent"].label, width=12),
        Column(f["notes"].label, width=20, kind="multiline"),
    ]
    return cols


PROGRESS_EVERY = 200  # rows between progress reports


def export_ledger(user, programme, path: str | Path, *, queryset=None,
                  today: dt.date | None = None, progress=None) -> int:
    """Write the tasks that ``user`` may export — of ``programme``, or of every programme
    when it is None (a filtered list) — narrowed by ``queryset``; returns the row count.

    ``progress(stage, done, total)``, if given, hears how many rows are written so far.
    """
    report = progress or (lambda *args, **kwargs: None)
    if programme is not None:
        require(user, Action.EXPORT, programme)
    today = today or today_local()
    tasks = restrict(queryset if queryset is not None else Task.objects.all(), user,
                     Action.EXPORT)
    if programme is not None:
        tasks = tasks.filter(programme=programme)
    tasks = with_progress(tasks, today=today).select_related(
        "lead_unit", "parent", "responsible_user", "light").prefetch_related(
        Prefetch("cooperations", Cooperation.objects.select_related("unit").order_by("seq")),
        "time_nodes", Prefetch("annual_plans", AnnualPlan.objects.order_by("year")),
    ).order_by("programme__code", "seq", "code")
    report(gettext_noop("读取任务"), 0, 0)  # stages are msgids: the job page translates them
    tasks = list(tasks)
    years = sorted({p.year for t in tasks for p in t.annual_plans.all()})
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    label = _unit_label()

    def rows():
        for i, t in enumerate(tasks):
            if i % PROGRESS_EVERY == 0:
                report(gettext_noop("写入"), i, len(tasks))
            yield _row(t, years, label)

    title = f"{programme.name}工作台账" if programme is not None else "重点工作台账"
    n = write_table(ws, title, f"截至 {today.year}年{today.month}月{today.day}日",
                    ledger_columns(years, today.year), rows(), numbered=False)
    report(gettext_noop("保存文件"), len(tasks), len(tasks))
    path = Path(path)
    wb.save(path)
    with acting_for(user, "export_ledger"):
        record_event("export", "programmes.programme" if programme else "",
                     str(programme.pk) if programme else "", file=path.name, rows=n)
    return n


def _unit_label():
    """A unit as the importer finds it again: its name, or its code when another unit has the
    same name, code or short name (the importer would refuse the name as ambiguous)."""
    counts: Counter[str] = Counter()
    for code, name, short in Unit.objects.values_list("code", "name", "short_name"):
        counts.update({code, name, short} - {""})
    return lambda unit: unit.name if counts[unit.name] == 1 else unit.code


def _light(t: Task) -> tuple:
    """The task's light (computed by the supervision room) on its colour, and its reasons."""
    try:
        light = t.light
    except ObjectDoesNotExist:
        return "", ""
    return Lamp(light.name, light.colour), "\n".join(light.reasons)


def _row(t: Task, years: list[int], unit_label) -> list:
    plans = {p.year: p.amount for p in t.annual_plans.all()}
    nodes = [S.NodeSpec(n.name, n.planned_date, n.done_on)
             for n in sorted(t.time_nodes.all(), key=lambda n: (n.seq, n.planned_date))]
    return [
        t.seq, t.code, t.name, t.category, t.requirement, t.responsible_leader,
        unit_label(t.lead_unit), "、".join(unit_label(c.unit) for c in t.cooperations.all()),
        t.responsible_person, t.responsible_phone,
        t.responsible_user.username if t.responsible_user_id else "", t.start_date, t.due_date,
        S.format_nodes(nodes), t.planned_total_investment,
        *[plans.get(y) for y in years],
        t.opening_completed_investment, t.cumulative_investment, t.year_investment,
        t.investment_rate, t.time_progress, t.physical_progress / 100,
        "是" if t.lagging else "", t.days_overdue or "", *_light(t),
        S.STATUS_NAMES[t.status], t.weight, t.parent.code if t.parent_id else "", t.notes,
    ]
