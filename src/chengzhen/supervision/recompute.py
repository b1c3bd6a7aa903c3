"""Recompute lights (亮灯重算): load the facts of a programme's tasks in a handful of queries,
run the engine, store what changed, then what follows from the changes — history, deduction
candidates, escalations (督办函, 约谈) and notifications (催办). One transaction and one audit
record per run; the lights themselves are computed data, not audited one by one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, F, Min
from django.utils import timezone

from chengzhen.audit.chain import record_event
from chengzhen.audit.fastinsert import RowWriter, reserve_ids
from chengzhen.ledger import progress
from chengzhen.ledger.models import ProgressReport, Task, TimeNode
from chengzhen.ledger.queries import today_local, with_progress
from chengzhen.org.models import Unit
from chengzhen.problems import Refused
from chengzhen.programmes.models import Programme

from . import engine, notify
from .models import DeductionCandidate, Escalation, Light, LightChange, RuleSetVersion
from .rules import RuleSet
from .services import DEFAULT_RULE_SET, resolve, rule_set_of, work_calendar
from .tasks import send_notification_emails, write_letters

NAT = np.datetime64("NaT", "D")
CHUNK = 900  # ids per IN (…): under SQLite's variable limit


@dataclass
class RunResult:
    tasks: int = 0
    changed: int = 0
    escalations: int = 0
    deductions: int = 0
    notifications: int = 0
    programmes: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"重算 {len(self.programmes)} 个计划 {self.tasks} 项任务的亮灯：变化 {self.changed} 项，"
                f"新增督办/约谈 {self.escalations} 件，扣分候选 {self.deductions} 条，通知 {self.notifications} 条"
                f"（{self.seconds:.2f} 秒）")


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _rule_version(programme: Programme, result: RunResult) -> RuleSetVersion:
    try:
        return resolve(programme.light_rules or DEFAULT_RULE_SET)
    except Refused:
        result.warnings.append(f"{programme.code}: 规则集 {programme.light_rules} 不存在，按 {DEFAULT_RULE_SET} 计算")
        return resolve(DEFAULT_RULE_SET)


def context_for(programme: Programme, today: dt.date) -> engine.Context:
    """The reporting periods the lights of ``programme`` look at on ``today``."""
    return engine.reporting_context(programme.reporting_cycle, programme.reporting_day,
                                    programme.start_date, today)


def recompute(*, programme: Programme | None = None, task_ids: Iterable[int] | None = None,
              today: dt.date | None = None, trigger: str = "command") -> RunResult:
    """Recompute the lights of every programme running on ``today`` (or of one programme,
    or of some tasks, whatever their programme's dates) for ``today``. A programme that has
    ended gets no more lights, reminders or letters."""
    started = time.perf_counter()
    today = today or today_local()
    result = RunResult()
    programmes = Programme.objects.select_related("owner_unit").order_by("pk")
    ids = None
    if task_ids is not None:
        ids = sorted(set(task_ids))
        programmes = programmes.filter(pk__in=Task.objects.filter(pk__in=ids).values("programme_id"))
    elif programme is not None:
        programmes = programmes.filter(pk=programme.pk)
    else:
        programmes = programmes.filter(start_date__lte=today, end_date__gte=today)
    calendar = None
    with transaction.atomic():
        # serialise runs on a programme (PostgreSQL; SQLite's writers are serial anyway); "no
        # key" so the rows that name the programme (a task saved meanwhile) do not wait on it
        for p in programmes.select_for_update(of=("self",), no_key=True):
            version = _rule_version(p, result)
            rule_set = rule_set_of(version)
            if rule_set.uses_working_days() and calendar is None:
                calendar = work_calendar()
                if today.year not in calendar.years():
                    result.warnings.append(f"节假日与调休日历没有 {today.year} 年的数据，工作日只扣除周末")
            _run_programme(p, version, rule_set, today, ids, calendar, result)
        result.seconds = time.perf_counter() - started
        record_event("lights_recompute", model="supervision.light", trigger=trigger,
                     today=today.isoformat(), programmes=result.programmes, versions=result.versions,
                     tasks=result.tasks, changed=result.changed, escalations=result.escalations,
                     deductions=result.deductions, notifications=result.notifications,
                     warnings=result.warnings)
    if result.notifications:
        transaction.on_commit(lambda: send_notification_emails.enqueue())
    return result


@dataclass
class _Loaded:
    inputs: engine.TaskInputs
    lead_unit: np.ndarray
    responsible: list[int | None]
    names: list[str]
    nodes: list[engine.Node]
    existing: dict[int, tuple]


def _load(p: Programme, today: dt.date, ctx: engine.Context, ids: list[int] | None,
          rule_set: RuleSet) -> _Loaded:
    tasks = Task.objects.filter(programme=p)
    nodes_q = TimeNode.objects.filter(task__programme=p, done_on__isnull=True)
    reports_q = ProgressReport.objects.filter(task__programme=p, is_current=True,
                                              reporting_unit_id=F("task__lead_unit_id"))
    lights_q = Light.objects.filter(task__programme=p)
    if ids is not None:
        tasks = tasks.filter(pk__in=ids)
        nodes_q = nodes_q.filter(task_id__in=ids)
        reports_q = reports_q.filter(task_id__in=ids)
        lights_q = lights_q.filter(task_id__in=ids)
    rows = list(with_progress(tasks, today, columns=("time_progress", "physical_progress",
                                                     "year_investment", "year_plan"))
                .order_by().values_list("pk", "status", "start_date", "due_date", "lead_unit_id",
                                        "responsible_user_id", "code", "name", "time_progress",
                                        "physical_progress", "year_investment", "year_plan"))
    n = len(rows)
    col = list(zip(*rows, strict=True)) if rows else [()] * 12
    task_id = np.array(col[0], dtype="int64")
    index = {int(t): i for i, t in enumerate(task_id)}

    missed = {t: (d, c) for t, d, c in nodes_q.filter(planned_date__lt=today).order_by()
              .values("task_id").annotate(first=Min("planned_date"), n=Count("pk"))
              .values_list("task_id", "first", "n")}
    first_missed = np.full(n, NAT)
    nodes_missed = np.zeros(n, dtype="int64")
    for t, (d, c) in missed.items():
        if t in index:
            first_missed[index[t]] = np.datetime64(d, "D")
            nodes_missed[index[t]] = c
    upcoming = []
    if rule_set.reminders.time_node is not None:
        horizon = today + dt.timedelta(days=rule_set.reminders.time_node * 2 + 14)
        for node_id, t, name, planned in nodes_q.filter(
                planned_date__gte=today, planned_date__lte=horizon).values_list(
                "pk", "task_id", "name", "planned_date"):
            if t in index:
                upcoming.append(engine.Node(index[t], node_id, name, planned))

    periods = [k for k in (ctx.report_period, ctx.current_period) if k]
    reported = np.zeros(n, dtype=bool)
    reported_current = np.zeros(n, dtype=bool)
    for t, period in reports_q.filter(period__in=periods).values_list("task_id", "period"):
        if t in index:
            if period == ctx.report_period:
                reported[index[t]] = True
            if period == ctx.current_period:
                reported_current[index[t]] = True

    existing = {row[0]: row[1:] for row in lights_q.values_list(
        "task_id", "level", "raw_level", "raw_since", "since", "deadline", "reasons",
        "rule_version_id")}
    prev_level = np.array([existing[int(t)][0] if int(t) in existing else "" for t in task_id],
                          dtype=object)
    prev_raw = np.array([existing[int(t)][1] if int(t) in existing else "" for t in task_id],
                        dtype=object)
    prev_since = np.array([np.datetime64(existing[int(t)][2], "D") if int(t) in existing else NAT
                           for t in task_id], dtype="datetime64[D]")

    def days(values) -> np.ndarray:
        return np.array(values, dtype="datetime64[D]") if n else np.array([], dtype="datetime64[D]")

    def floats(values) -> np.ndarray:
        return np.array([float(v or 0) for v in values], dtype="float64")

    inputs = engine.TaskInputs(
        task_id=task_id, status=np.array(col[1], dtype=object), start=days(col[2]), due=days(col[3]),
        time_progress=floats(col[8]), physical_progress=floats(col[9]),
        year_investment=floats(col[10]), year_plan=floats(col[11]),
        first_missed_node=first_missed, nodes_missed=nodes_missed, reported=reported,
        reported_current=reported_current, prev_level=prev_level, prev_raw=prev_raw,
        prev_raw_since=prev_since)
    return _Loaded(inputs, np.array(col[4], dtype="int64"), list(col[5]), list(col[7]),
                   upcoming, existing)


def _window(calendar, loaded: _Loaded, today: dt.date):
    if calendar is None:
        return None
    inp = loaded.inputs
    dates = [today]
    for arr in (inp.start, inp.due, inp.first_missed_node):
        valid = arr[~np.isnat(arr)]
        if len(valid):
            dates += [valid.min().item(), valid.max().item()]
    return calendar.window(min(dates), max(dates))


def _run_programme(p: Programme, version: RuleSetVersion, rule_set: RuleSet, today: dt.date,
                   ids: list[int] | None, calendar, result: RunResult) -> None:
    ctx = context_for(p, today)
    loaded = _load(p, today, ctx, ids, rule_set)
    if calendar is not None:  # the working-day window spans the dates just loaded
        ctx = dataclasses.replace(ctx, window=_window(calendar, loaded, today))
    inp = loaded.inputs
    lights = engine.evaluate(rule_set, inp, ctx)
    result.programmes.append(p.code)
    result.versions[p.code] = str(version)
    result.tasks += len(inp)

    now = timezone.now()
    period = progress.period_of(today, p.reporting_cycle).key
    levels = {lv.code: lv for lv in rule_set.levels}
    # plain Python values once: indexing NumPy arrays per element costs more than the loop
    task_ids, lead_units = inp.task_id.tolist(), loaded.lead_unit.tolist()
    level_of, raw_of = lights.level.tolist(), lights.raw.tolist()
    raw_since_of, deadline_of = lights.raw_since.tolist(), lights.deadline.tolist()  # NaT → None
    existing = loaded.existing
    replace, written, changes = [], [], []
    for i, t in enumerate(task_ids):
        level, reasons = level_of[i], list(lights.reasons[i])
        deadline, raw_since = deadline_of[i], raw_since_of[i]
        old = existing.get(t)
        changed = old is None or old[0] != level
        if not changed and (old[1], old[2], old[4], old[5], old[6]) == (
                raw_of[i], raw_since, deadline, reasons, version.pk):
            continue
        if old is not None:
            replace.append(t)
        written.append((t, level, raw_of[i], raw_since, today if changed else old[3], deadline,
                        reasons))
        if changed:
            changes.append(Change(0, t, lead_units[i], period, old[0] if old else "", level,
                                  levels[level].counts, reasons))
    changes = [c._replace(pk=pk) for c, pk in
               zip(changes, reserve_ids(LightChange, len(changes)), strict=True)]
    delete_lights(replace)
    _write(p, written, changes, version, levels, now, today)
    result.changed += len(changes)

    transitions = [engine.Transition(c.pk, c.task_id, c.unit_id, p.pk, c.period, c.to_level)
                   for c in changes]
    result.deductions += _deductions(rule_set, transitions, p, today)
    escalations = _escalate(p, version, rule_set, transitions, today, now)
    result.escalations += len(escalations)
    by_task = {int(t): i for i, t in enumerate(inp.task_id)}
    result.notifications += notify.for_changes(p, changes, levels, loaded.names, by_task, now)
    result.notifications += notify.for_escalations(p, escalations, now)
    reminders = engine.reminders_due(rule_set, inp, ctx, loaded.nodes)
    result.notifications += notify.for_reminders(p, reminders, loaded, now)


class Change(NamedTuple):
    """A change of light just made (a ``LightChange`` row), as the rest of the run uses it."""

    pk: int
    task_id: int
    unit_id: int
    period: str
    from_level: str
    to_level: str
    counts: bool
    reasons: list[str]


LIGHT_COLUMNS = ("task_id", "level", "name", "colour", "raw_level", "raw_since", "since",
                 "deadline", "reasons", "rule_version_id", "computed_at")
CHANGE_COLUMNS = ("id", "task_id", "programme_id", "unit_id", "period", "from_level", "to_level",
                  "counts", "reasons", "rule_version_id", "on", "at")


def _write(p: Programme, written: list[tuple], changes: list[Change], version: RuleSetVersion,
           levels: dict, now, today: dt.date) -> None:
    """Insert the new lights and the changes, as tuples (50,000 model instances would cost
    more than the database's work)."""
    lights = RowWriter(Light, LIGHT_COLUMNS)
    at = lights.adapt_datetime(now)
    for t, level, raw, raw_since, since, deadline, reasons in written:
        lv = levels[level]
        lights.add(t, level, lv.name, lv.colour, raw, raw_since, since, deadline, reasons,
                   version.pk, at)
    lights.write()
    history = RowWriter(LightChange, CHANGE_COLUMNS)
    for c in changes:
        history.add(c.pk, c.task_id, p.pk, c.unit_id, c.period, c.from_level, c.to_level, c.counts,
                    c.reasons, version.pk, today, at)
    history.write()


def delete_lights(task_ids: list[int]) -> None:
    """Delete the stored lights of ``task_ids`` in a few statements. Lights have nothing
    depending on them and are not audited one by one, so the ORM's per-row delete (collecting
    each row for the delete signal) is not needed."""
    if not task_ids:
        return
    table = connection.ops.quote_name(Light._meta.db_table)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"DELETE FROM {table} WHERE task_id = ANY(%s)", [task_ids])
            return
        for i in range(0, len(task_ids), 10_000):  # SQLite's limit on parameters is 32,766
            chunk = task_ids[i:i + 10_000]
            cur.execute(f"DELETE FROM {table} WHERE task_id IN ({', '.join(['%s'] * len(chunk))})", chunk)


def _deductions(rule_set: RuleSet, transitions: list[engine.Transition], p: Programme,
                today: dt.date) -> int:
    deducting = [t for t in transitions if rule_set.level(t.level).deduction > 0]
    if not deducting:
        return 0
    existing = set()
    task_ids = sorted({t.task_id for t in deducting})
    for chunk in _chunks(task_ids):
        existing.update(DeductionCandidate.objects.filter(task_id__in=chunk).values_list(
            "task_id", "period", "level"))
    chosen = engine.deductions(rule_set, deducting, existing)
    rows = RowWriter(DeductionCandidate, ("task_id", "programme_id", "unit_id", "period", "level",
                                          "points", "change_id", "on"))
    for t in chosen:
        rows.add(t.task_id, p.pk, t.unit_id, t.period, t.level, rule_set.level(t.level).deduction,
                 t.id, today)
    rows.write()
    return len(chosen)


def _escalate(p: Programme, version: RuleSetVersion, rule_set: RuleSet,
              transitions: list[engine.Transition], today: dt.date, now) -> list[Escalation]:
    counting = {s.level for s in rule_set.escalation}
    groups = {(t.unit_id, t.period) for t in transitions if t.level in counting}
    if not groups:
        return []
    every, covered = [], set()
    for unit_id, period in sorted(groups):
        rows = LightChange.objects.filter(programme=p, unit_id=unit_id, period=period,
                                          to_level__in=counting).values_list("pk", "task_id", "to_level")
        every += [engine.Transition(pk, task, unit_id, p.pk, period, level) for pk, task, level in rows]
        for esc_step, change in Escalation.changes.through.objects.filter(
                escalation__programme=p, escalation__unit_id=unit_id, escalation__period=period,
                escalation__rule_version__rule_set=version.rule_set).values_list(
                "escalation__step", "lightchange_id"):
            covered.add((esc_step, change))
    due = engine.ladder(rule_set, every, covered)
    if not due:
        return []
    from .letters import reference

    heads = dict(Unit.objects.filter(pk__in={e.unit_id for e in due}).values_list("pk", "head_name"))
    created = []
    for e in due:
        step = rule_set.escalation[e.step]
        last = (Escalation.objects.filter(kind=e.action, programme=p, year=today.year)
                .order_by("-number").values_list("number", flat=True).first()) or 0
        esc = Escalation.objects.create(
            kind=e.action, programme=p, unit_id=e.unit_id, period=e.period, step=e.step,
            level=step.level, rule_version=version, year=today.year, number=last + 1,
            reference=reference(p, e.action, today.year, last + 1), created_at=now,
            head=heads.get(e.unit_id, "") if e.action == "interview" else "")
        esc.changes.set(e.transitions)
        created.append(esc)
    letters = [esc.pk for esc in created if esc.kind == "letter"]
    if letters:  # the .docx files are the worker's (or the first download's) to write
        transaction.on_commit(lambda: write_letters.enqueue(escalation_ids=letters))
    return created
