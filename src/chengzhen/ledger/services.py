"""Ledger actions (台账操作): one function per thing a person does to the ledger.

Every action follows one convention:

1. **Actor.** The first argument is the acting user. The action runs inside
   ``audit.context.acting_for(user, action)``: when the caller already set an audit context
   for that same user (a request through the middleware, a command through ``--as``), its
   source (``request:…``, ``command:…``) is kept; otherwise the block runs as ``user`` with the
   source ``service:<action>``. Every audit record the action writes therefore names the user.
2. **Permission.** The action asks the permission function (``org.permissions.require``) on
   the row as it stands, locked, inside the transaction — and again on the row as it will be
   saved when the change could move it out of reach (a new lead unit).
3. **One transaction.** Permission check, validation and every write (through the tracked
   models, which append their audit records in the same transaction) are one
   ``transaction.atomic()`` block: a refusal writes nothing, not even an audit record.
4. **Refusals.** ``PermissionDenied`` (no right), ``StaleEdit`` (the record's version moved on
   since the editor read it: never overwritten silently) or ``Refused`` (bad input, every
   problem listed as a ``Problem`` with the Chinese column name and reason).

The column names stay Chinese (they are the ledger sheet's; ``report_import`` reads them back),
marked with ``gettext_noop`` so pages can show them translated (``gettext(problem.column)``); the reasons
are in the active language (Chinese unless the person chose English; commands: Chinese).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from chengzhen.audit.context import acting_for
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, can, require
from chengzhen.problems import Problem, Refused
from chengzhen.programmes.models import Programme

from . import progress
from .choices import TaskStatus
from .models import Cooperation, Evidence, ProgressReport, Task, TimeNode

FEN = Decimal("0.01")
MAX_MONEY = Decimal("1e14")  # the money columns hold 14 digits before the point
TASK_FIELDS = {
    "code", "seq", "name", "category", "requirement", "responsible_leader", "lead_unit",
    "responsible_person", "responsible_phone", "responsible_user", "start_date", "due_date",
    "weight", "planned_total_investment", "opening_completed_investment", "status", "notes",
    "parent",
}
MONEY_FIELDS = {"planned_total_investment": gettext_noop("计划总投资"),
                "opening_completed_investment": gettext_noop("期初已完成投资")}


class StaleEdit(Exception):
    """The record changed since the editor read it (its version moved on): 已被他人修改."""

    def __init__(self, obj, expected: int, actual: int):
        self.expected, self.actual = expected, actual
        super().__init__(_("%(record)s 已被他人修改（读取时为第 %(expected)s 版，现为第 %(actual)s 版），请刷新后再改")
                         % {"record": obj, "expected": expected, "actual": actual})


def _decimal(value) -> Decimal | None:
    """``value`` as a finite Decimal, or None when it is not a number."""
    if isinstance(value, float):
        value = str(value)
    try:
        d = Decimal(value if isinstance(value, (Decimal, int)) else str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        return None
    return d if d.is_finite() else None


def money(value, column: str) -> Decimal:
    """Yuan (元) as a Decimal quantised to the fen; refuses negatives, non-numbers and sums
    too large for the money columns."""
    amount = _decimal(value)
    if amount is None:
        raise Refused([Problem(column=column, reason=_("金额 %(value)r 不是数字") % {"value": value})])
    amount = amount.quantize(FEN, rounding=ROUND_HALF_UP)
    if amount < 0:
        raise Refused([Problem(column=column, reason=_("金额不能为负数：%(value)s") % {"value": value})])
    if amount >= MAX_MONEY:
        raise Refused([Problem(column=column, reason=_("金额过大：%(value)s") % {"value": value})])
    return amount


def _required_problems(task: Task) -> list[Problem]:
    problems = []
    for name, label in (("code", gettext_noop("任务编号")), ("name", gettext_noop("任务名称"))):
        if not str(getattr(task, name) or "").strip():
            problems.append(Problem(column=label, reason=_("不能为空")))
    for name, label in (("lead_unit_id", gettext_noop("牵头单位")), ("start_date", gettext_noop("开始时间")),
                        ("due_date", gettext_noop("完成时限"))):
        if getattr(task, name) is None:
            problems.append(Problem(column=label, reason=_("不能为空")))
    return problems


def validate_task(task: Task) -> list[Problem]:
    """Problems with a task's own fields (任务校验), not permissions: required fields, due ≥
    start, money ≥ 0, status among the choices, a top-level parent in the same programme
    (the ledger is two levels deep), code unique in the programme."""
    problems = _required_problems(task)
    if isinstance(task.start_date, dt.date) and isinstance(task.due_date, dt.date) and (
            task.due_date < task.start_date):
        problems.append(Problem(column=gettext_noop("完成时限"), reason=_("完成时限 %(due)s 早于开始时间 %(start)s") % {
            "due": task.due_date, "start": task.start_date}))
    if task.status not in TaskStatus.values:
        problems.append(Problem(column=gettext_noop("完成状态"),
                                reason=_("未知状态 %(status)r") % {"status": task.status}))
    for name, label in MONEY_FIELDS.items():
        value = getattr(task, name)
        if value is None:
            problems.append(Problem(column=label, reason=_("不能为空")))
            continue
        try:
            setattr(task, name, money(value, label))
        except Refused as exc:
            problems.extend(exc.problems)
    if task.weight is not None:
        weight = _decimal(task.weight)
        if weight is None or weight < 0:
            problems.append(Problem(column=gettext_noop("权重"), reason=_("权重应为非负数：%(weight)s") % {
                "weight": task.weight}))
    if task.parent_id:
        parent = task.parent
        if task.pk and parent.pk == task.pk:
            problems.append(Problem(column=gettext_noop("上级任务"), reason=_("任务不能是自己的上级")))
        elif parent.programme_id != task.programme_id:
            problems.append(Problem(column=gettext_noop("上级任务"), reason=_("上级任务不在同一工作计划中")))
        elif parent.parent_id:
            problems.append(Problem(column=gettext_noop("上级任务"), reason=_(
                "上级任务 %(code)s 本身是子任务（台账只有两级）") % {"code": parent.code}))
    if task.pk and task.parent_id and Task.objects.filter(parent_id=task.pk).exists():
        problems.append(Problem(column=gettext_noop("上级任务"), reason=_("已有子任务的任务不能再挂到上级任务下")))
    if task.code:
        clash = Task.objects.filter(programme_id=task.programme_id, code=task.code)
        if task.pk:
            clash = clash.exclude(pk=task.pk)
        if clash.exists():
            problems.append(Problem(column=gettext_noop("任务编号"), reason=_("编号 %(code)s 在本计划中已存在") % {
                "code": task.code}))
    return problems


def _check_fields(names) -> None:
    unknown = set(names) - TASK_FIELDS
    if unknown:
        raise TypeError(f"unknown task fields: {sorted(unknown)}")


def _lock_task(task: Task) -> Task:
    """The task's row as stored, locked until the transaction ends."""
    return Task.objects.select_for_update(of=("self",)).select_related(
        "programme", "lead_unit").get(pk=task.pk)


def _check_version(current, expected_version: int) -> None:
    if current.version != expected_version:
        raise StaleEdit(current, expected_version, current.version)


def create_task(user, programme: Programme, **fields) -> Task:
    """Create a task (新增任务) in ``programme``; the user must be allowed to edit it."""
    _check_fields(fields)
    task = Task(programme=programme, **fields)
    with acting_for(user, "create_task"), transaction.atomic():
        missing = _required_problems(task)
        if task.lead_unit_id is None:  # the permission depends on the lead unit
            raise Refused(missing)
        require(user, Action.EDIT, task)
        problems = validate_task(task)
        if problems:
            raise Refused(problems)
        task.save()
    return task


def update_task(user, task: Task, *, expected_version: int, **changes) -> Task:
    """Change a task's fields (修改任务), refusing a stale edit (``StaleEdit``)."""
    _check_fields(changes)
    with acting_for(user, "update_task"), transaction.atomic():
        current = _lock_task(task)
        require(user, Action.EDIT, current)
        _check_version(current, expected_version)
        for name, value in changes.items():
            setattr(current, name, value)
        problems = validate_task(current)
        if problems:
            raise Refused(problems)
        require(user, Action.EDIT, current)  # still within reach after e.g. a new lead unit
        current.save()
    return current


def set_cooperating_units(user, task: Task, units: Iterable[Unit], *,
                          expected_version: int) -> Task:
    """Replace the cooperating units (配合单位) of a task, keeping their order.

    The task's version moves on with its units, so a stale list is refused like a stale edit.
    """
    units = list(dict.fromkeys(units))
    with acting_for(user, "set_cooperating_units"), transaction.atomic():
        current = _lock_task(task)
        require(user, Action.EDIT, current)
        _check_version(current, expected_version)
        if current.lead_unit_id in {u.pk for u in units}:
            raise Refused([Problem(column=gettext_noop("配合单位"), reason=_("牵头单位不能同时是配合单位"))])
        existing = {c.unit_id: c for c in current.cooperations.all()}
        Cooperation.objects.filter(task=current).exclude(
            unit_id__in=[u.pk for u in units]).delete()
        for i, unit in enumerate(units):
            link = existing.get(unit.pk)
            if link is None:
                Cooperation.objects.create(task=current, unit=unit, seq=i)
            elif link.seq != i:
                link.seq = i
                link.save()
        current.save(update_fields=[])  # the task's version moves on with its units
    return current


def complete_time_node(user, node: TimeNode, done_on: dt.date | None) -> TimeNode:
    """Mark a time node (时间节点) done on ``done_on``, or reopen it with None.

    Needs the right to edit the node's task; a completion date after today is refused.
    """
    with acting_for(user, "complete_time_node"), transaction.atomic():
        node = TimeNode.objects.select_for_update(of=("self",)).select_related(
            "task", "task__lead_unit").get(pk=node.pk)
        require(user, Action.EDIT, node.task)
        if done_on is not None and done_on > timezone.localdate():
            raise Refused([Problem(column=gettext_noop("完成日期"),
                                   reason=_("完成日期 %(day)s 晚于今天") % {"day": done_on})])
        if node.done_on != done_on:
            node.done_on = done_on
            node.save()
    return node


def submit_report(user, task: Task, *, period: str, unit: Unit,
                  physical_progress: Decimal | int | float | str,
                  investment: Decimal | int | str = Decimal(0), progress_text: str = "",
                  problems: str = "", next_steps: str = "", coordination: str = "",
                  supersede: bool = False) -> ProgressReport:
    """Submit a progress report (进度报送) for ``unit`` on ``task`` for ``period``.

    ``unit`` must be the task's lead or a cooperating unit that ``user`` may report for. The
    reporter is ``user`` and ``submitted_at`` is the server's clock, never an input. A second
    current report for the same (task, period, unit) is refused unless ``supersede`` is true;
    then the current one stays in history (``is_current`` false) and the new one names it in
    ``supersedes`` — both in this one transaction.
    """
    with acting_for(user, "submit_report"), transaction.atomic():
        # the task row is locked first, so two submissions for one task run one after the
        # other and the second sees the first's report as the current one
        task = _lock_task(task)
        require(user, Action.REPORT, task)  # someone who may not report here learns nothing more
        if unit.pk != task.lead_unit_id and not task.cooperations.filter(unit=unit).exists():
            raise Refused([Problem(column=gettext_noop("报送单位"), reason=_(
                "%(unit)s 不是任务 %(code)s 的牵头单位或配合单位") % {"unit": unit, "code": task.code})])
        require(user, Action.REPORT, task, unit=unit)
        found = validate_report(task, period, physical_progress, investment)
        if found:
            raise Refused(found)
        key = progress.parse_period(period).key
        current = (ProgressReport.objects.select_for_update(of=("self",))
                   .filter(task=task, period=key, reporting_unit=unit, is_current=True)
                   .order_by("pk").first())
        if current is not None and not supersede:
            raise Refused([Problem(column=gettext_noop("报送期"), reason=_(
                "%(unit)s 已报送 %(period)s 的进度；如需更正请选择“更正”") % {"unit": unit, "period": key})])
        if current is not None:
            current.is_current = False
            current.save(update_fields=["is_current"])
        return ProgressReport.objects.create(
            task=task, period=key, reporting_unit=unit,
            physical_progress=_decimal(physical_progress).quantize(FEN, rounding=ROUND_HALF_UP),
            investment=money(investment, gettext_noop("本期完成投资")), progress_text=progress_text,
            problems=problems, next_steps=next_steps, coordination=coordination,
            reporter=user, reporter_name=(getattr(user, "full_name", "") or str(user))[:50],
            submitted_at=timezone.now(), supersedes=current,
        )


def validate_report(task: Task, period: str, physical_progress, investment) -> list[Problem]:
    """Problems with a report's values for ``task``: the period (报送期) in the programme's
    reporting cycle and dates and already begun, 形象进度 in 0–100, money ≥ 0."""
    found = []
    try:
        p = progress.parse_period(str(period))
    except ValueError as exc:
        return [Problem(column=gettext_noop("报送期"), reason=str(exc))]
    programme = task.programme
    if progress.cycle_of(p) != programme.reporting_cycle:
        example = progress.EXAMPLES.get(programme.reporting_cycle, "2026-05")
        found.append(Problem(column=gettext_noop("报送期"), reason=_(
            "%(programme)s %(cycle)s报送，报送期 %(period)s 不符（应写作如 %(example)s）") % {
            "programme": programme.name, "cycle": programme.get_reporting_cycle_display(),
            "period": period, "example": example}))
    if p.last_day < programme.start_date or p.first_day > programme.end_date:
        found.append(Problem(column=gettext_noop("报送期"), reason=_("报送期 %(period)s 不在计划期内") % {
            "period": period}))
    if p.first_day > timezone.localdate():
        found.append(Problem(column=gettext_noop("报送期"), reason=_("报送期 %(period)s 尚未开始") % {
            "period": period}))
    pct = _decimal(physical_progress)
    if pct is None:
        found.append(Problem(column=gettext_noop("形象进度"), reason=_("形象进度 %(value)r 不是数字") % {
            "value": physical_progress}))
    elif not 0 <= pct.quantize(FEN, rounding=ROUND_HALF_UP) <= 100:
        found.append(Problem(column=gettext_noop("形象进度"), reason=_("形象进度应在 0–100 之间：%(value)s") % {
            "value": pct}))
    try:
        money(investment, gettext_noop("本期完成投资"))
    except Refused as exc:
        found.extend(exc.problems)
    return found


def report_is_late(report: ProgressReport) -> bool:
    """A report is late (迟报) once its period's reporting day has passed."""
    period = progress.parse_period(report.period)
    submitted_on = timezone.localtime(report.submitted_at).date()
    return progress.is_late(period, report.task.programme.reporting_day, submitted_on)


def may_report_units(user, task: Task) -> list[Unit]:
    """The units ``user`` may report for on ``task`` (lead first, then cooperating units)."""
    units = [task.lead_unit, *[c.unit for c in task.cooperations.select_related("unit")]]
    return [u for u in units if can(user, Action.REPORT, task, unit=u)]


def attach_evidence(user, report: ProgressReport, data: bytes, name: str) -> Evidence:
    """Attach an evidence file (上传佐证材料) to a report: same right as reporting for its unit.

    The file is checked by content (``evidence.check``); refusals raise ``Refused``.
    """
    from django.conf import settings

    from . import evidence

    with acting_for(user, "attach_evidence"), transaction.atomic():
        report = ProgressReport.objects.select_related("task", "reporting_unit").get(pk=report.pk)
        require(user, Action.REPORT, report.task, unit=report.reporting_unit)
        try:
            checked = evidence.check(data, name, settings.CHENGZHEN_MAX_EVIDENCE_BYTES)
        except evidence.EvidenceRefused as exc:
            raise Refused([Problem(file=name, column=gettext_noop("佐证材料"), reason=str(exc))]) from None
        now = timezone.now()
        stored = f"{now:%Y}/{uuid.uuid4().hex}.{checked.extension}"
        path = evidence_path(stored)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(checked.data)
        try:
            return Evidence.objects.create(
                report=report, stored_name=stored, original_name=name[:255],
                content_type=checked.content_type, size=len(checked.data),
                sha256=checked.sha256,
                taken_at=timezone.make_aware(checked.taken_at) if checked.taken_at else None,
                longitude=checked.longitude, latitude=checked.latitude, uploaded_by=user,
                uploaded_at=now)
        except Exception:
            path.unlink(missing_ok=True)
            raise


def evidence_path(stored_name: str):
    """Where an evidence file lives under the data folder."""
    from pathlib import Path

    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / "evidence" / stored_name
