"""Importing a period's progress-report sheet (进度报送表导入).

Same rules as the ledger import: every row is checked first (task, reporting unit, the
person's right to report for that unit, 形象进度, money, duplicates) and any problem refuses
the whole file. Then each row becomes a report through ``services.submit_report``, in one
transaction; a row for which a current report exists supersedes it (the old one stays in
history). A blank 报送单位 means the task's lead unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from chengzhen.audit.context import acting_for
from chengzhen.documents.spreadsheet import read_sheet
from chengzhen.org.permissions import Action, can
from chengzhen.problems import Problem, Refused

from . import services
from . import sheet as S
from .importer import UnitIndex
from .models import Cooperation, ProgressReport, Task
from .progress import parse_period


@dataclass
class ReportImportResult:
    created: int = 0
    superseded: int = 0


def import_reports(user, programme, path: str | Path, *, period: str,
                   display_name: str | None = None, dry_run: bool = False) -> ReportImportResult:
    """Check a report sheet for ``period`` and, unless ``dry_run``, submit every row."""
    if not can(user, Action.READ, programme):
        raise PermissionDenied(f"{user} 无权向“{programme.name}”报送进度")
    path = Path(path)
    data = read_sheet(path, display_name or path.name, settings.CHENGZHEN_MAX_UPLOAD_BYTES)
    fields = S.REPORT_FIELDS
    header = S.find_header(data.rows, data.file, data.sheet, programme.start_date.year,
                           fields=fields)
    if header.problems:
        raise Refused(header.problems)
    rows, problems = S.parse_rows(data.rows, header, data.file, data.sheet, data.epoch, fields)
    cols = {c.key: c.header for c in header.columns}
    label = {f.key: f.label for f in fields}

    def problem(row: int, key: str, reason: str) -> None:
        problems.append(Problem(data.file, data.sheet, row, cols.get(key, label[key]), reason))

    try:
        period_key = parse_period(period).key
    except ValueError as exc:
        raise Refused([Problem(data.file, reason=str(exc))]) from None
    tasks = {t.code: t for t in Task.objects.filter(programme=programme)
             .select_related("programme", "lead_unit")}
    units = UnitIndex()
    cooperating = set(Cooperation.objects.filter(task__programme=programme).values_list(
        "task_id", "unit_id"))
    current = set(ProgressReport.objects.filter(
        task__programme=programme, period=period_key, is_current=True,
    ).values_list("task_id", "reporting_unit_id"))
    todo: list[tuple[Task, object, dict, int]] = []
    seen: dict[tuple[int, int], int] = {}
    for r in rows:
        v = r.values
        task = tasks.get(v.get("code", ""))
        if task is None:
            if v.get("code"):
                problem(r.row, "code", f"任务编号 {v['code']} 不在“{programme.name}”中")
            continue
        try:
            unit = units.find(v["unit"]) if v.get("unit") else task.lead_unit
        except S.CellError as exc:
            problem(r.row, "unit", str(exc))
            continue
        if (task.pk, unit.pk) in seen:
            problem(r.row, "code", f"{task.code} 的 {unit.name} 报送在第 {seen[task.pk, unit.pk]} 行已有")
            continue
        seen[task.pk, unit.pk] = r.row
        if unit.pk != task.lead_unit_id and (task.pk, unit.pk) not in cooperating:
            problem(r.row, "unit", f"{unit.name} 不是任务 {task.code} 的牵头单位或配合单位")
            continue
        if not can(user, Action.REPORT, task, unit=unit):
            problem(r.row, "unit", f"{user} 无权以 {unit.name} 名义报送 {task.code}")
            continue
        for p in services.validate_report(task, period_key, v.get("physical_progress") or 0,
                                          v.get("investment") or 0):
            key = {"报送期": "code", "形象进度": "physical_progress"}.get(p.column, "investment")
            problem(r.row, key, p.reason)
        todo.append((task, unit, v, r.row))
    if problems:
        raise Refused(sorted(problems, key=lambda p: (p.row or 0, p.column)))
    result = ReportImportResult()
    for task, unit, _, _ in todo:
        if (task.pk, unit.pk) in current:
            result.superseded += 1
        else:
            result.created += 1
    if dry_run:
        return result
    with acting_for(user, "import_reports"), transaction.atomic():
        for task, unit, v, row in todo:
            try:
                services.submit_report(
                    user, task, period=period_key, unit=unit,
                    physical_progress=v["physical_progress"],
                    investment=v.get("investment") or Decimal(0),
                    progress_text=v.get("progress_text", ""), problems=v.get("problems", ""),
                    next_steps=v.get("next_steps", ""), coordination=v.get("coordination", ""),
                    supersede=(task.pk, unit.pk) in current,
                )
            except Refused as exc:  # changed since the check (e.g. a report arrived meanwhile)
                raise Refused([Problem(data.file, data.sheet, row, cols.get("code", "任务编号"),
                                       f"{task.code}: {p.reason}") for p in exc.problems]) from None
    return result
