"""The light engine (亮灯): a rule set applied to the facts of many tasks at once. Pure: no Django.

Inputs are columns (NumPy arrays, one entry per task) loaded by ``recompute``; every fact a
rule may test is computed from them as a column too, so 50,000 tasks take a few array
operations per rule rather than a Python loop per task. Only reason texts are built per task,
and only for the tasks a rule matched.

A task's light: the most severe level among the rules it matches (the first rule's level on a
tie), else the rule set's default level. Then time-based rises: a task whose computed level
has stood since ``raw_since`` rises along its level's ``escalate`` chain (蓝 → 橙 after N days
→ 红 after M more), and ``deadline`` is when it would rise next (the 限期 of a 橙 warning).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from chengzhen.ledger import progress

from .rules import DAY_FACTS, RuleSet
from .workdays import CALENDAR, Window, add_days, count_days

NAT = np.datetime64("NaT", "D")
FINISHED = ("completed", "closed")


@dataclass
class TaskInputs:
    """What the engine needs about each task, as equal-length columns."""

    task_id: np.ndarray  # int64
    status: np.ndarray  # str: not_started | in_progress | completed | closed
    start: np.ndarray  # datetime64[D]
    due: np.ndarray  # datetime64[D]
    time_progress: np.ndarray  # float, 0–1 (序时进度)
    physical_progress: np.ndarray  # float, percent (形象进度, a parent's rolled up)
    year_investment: np.ndarray  # float yuan, completed this year
    year_plan: np.ndarray  # float yuan, this year's plan (0: none)
    first_missed_node: np.ndarray  # datetime64[D]: earliest undone node past its date, NaT: none
    nodes_missed: np.ndarray  # int
    reported: np.ndarray  # bool: the lead unit reported for the last period due
    reported_current: np.ndarray  # bool: … for the period that contains today
    prev_level: np.ndarray  # str, "" when the task has no light yet
    prev_raw: np.ndarray  # str, the rules' level before rises
    prev_raw_since: np.ndarray  # datetime64[D]

    def __len__(self) -> int:
        return len(self.task_id)


@dataclass(frozen=True)
class Context:
    """The day and the programme's reporting periods the lights are computed for."""

    today: dt.date
    report_period: str | None = None  # the last period whose reporting day has passed
    report_deadline: dt.date | None = None
    report_period_end: dt.date | None = None  # tasks starting after it owe no report for it
    current_period: str | None = None  # the period containing today
    current_deadline: dt.date | None = None
    window: Window | None = None  # working-day counting, when a rule needs it


def reporting_context(cycle: str, reporting_day: int, programme_start: dt.date, today: dt.date,
                      window: Window | None = None) -> Context:
    """The context on ``today`` for a programme reporting ``cycle``-ly by ``reporting_day``: the
    last period whose reporting day has passed (none before the programme's first) and the
    period containing today. A report on the reporting day itself is on time."""
    current = progress.period_of(today, cycle)
    current_deadline = progress.reporting_deadline(current, reporting_day)
    due = current if current_deadline < today else progress.previous_period(current, cycle)
    if due.last_day < programme_start:
        due = None
    return Context(
        today=today, report_period=due.key if due else None,
        report_deadline=progress.reporting_deadline(due, reporting_day) if due else None,
        report_period_end=due.last_day if due else None,
        current_period=current.key, current_deadline=current_deadline, window=window)


@dataclass
class Lights:
    level: np.ndarray  # str, the light
    raw: np.ndarray  # str, the rules' level before time-based rises
    raw_since: np.ndarray  # datetime64[D]
    deadline: np.ndarray  # datetime64[D]: when the light rises next; NaT: never
    reasons: list[tuple[str, ...]] = field(default_factory=list)


def _day(d: dt.date | None) -> np.datetime64:
    return np.datetime64(d, "D") if d is not None else NAT


class Facts:
    """The facts of every task (see ``rules.FACTS``), computed once per day count."""

    def __init__(self, inp: TaskInputs, ctx: Context):
        self.inp, self.ctx = inp, ctx
        self.today = _day(ctx.today)
        self.unfinished = ~np.isin(inp.status, FINISHED)
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def count(self, a: np.ndarray, b: np.ndarray, day_count: str) -> np.ndarray:
        a = np.where(np.isnat(a), self.today, a)
        b = np.where(np.isnat(b), self.today, b)
        return count_days(a, b, day_count, self.ctx.window)

    def get(self, name: str, day_count: str = CALENDAR) -> np.ndarray:
        key = (name, day_count if name in DAY_FACTS else CALENDAR)
        if key not in self._cache:
            self._cache[key] = self._compute(name, key[1])
        return self._cache[key]

    def _compute(self, name: str, day_count: str) -> np.ndarray:
        inp, today, open_ = self.inp, self.today, self.unfinished
        n = len(inp)
        zeros = np.zeros(n, dtype="int64")
        if name == "status":
            return inp.status
        if name == "behind_schedule_points":
            return np.where(open_, inp.time_progress * 100 - inp.physical_progress, 0.0)
        if name == "days_overdue":
            late = open_ & (inp.due < today)
            return np.where(late, self.count(inp.due, np.full(n, today), day_count), 0)
        if name == "days_to_due":
            return self.count(np.full(n, today), inp.due, day_count)
        if name == "days_since_start":
            return self.count(inp.start, np.full(n, today), day_count)
        if name == "node_days_late":
            missed = open_ & ~np.isnat(inp.first_missed_node)
            return np.where(missed, self.count(inp.first_missed_node, np.full(n, today),
                                               day_count), 0)
        if name == "nodes_missed":
            return np.where(open_, inp.nodes_missed, 0)
        if name == "report_days_late":
            ctx = self.ctx
            if ctx.report_deadline is None or not ctx.report_deadline < ctx.today:
                return zeros
            owing = open_ & ~inp.reported & (inp.start <= _day(ctx.report_period_end))
            deadline = np.full(n, _day(ctx.report_deadline))
            return np.where(owing, self.count(deadline, np.full(n, today), day_count), 0)
        if name == "investment_behind_points":
            return self._investment_behind()
        raise KeyError(name)

    def _investment_behind(self) -> np.ndarray:
        """The elapsed share of the task's part of this year (from the later of 1 January and
        its start to the earlier of 31 December and its due date) minus the share of the
        year's plan completed, in points; 0 without a plan or for a finished task."""
        inp, today = self.inp, self.today
        year = self.ctx.today.year
        first = np.maximum(inp.start, np.datetime64(dt.date(year, 1, 1), "D"))
        last = np.minimum(inp.due, np.datetime64(dt.date(year, 12, 31), "D"))
        span = (last - first).astype("int64") + 1
        elapsed = (today - first).astype("int64") + 1
        share = np.where(span > 0, np.clip(elapsed / np.maximum(span, 1), 0.0, 1.0), 1.0)
        plan = inp.year_plan
        done = np.divide(inp.year_investment, plan, out=np.zeros_like(plan), where=plan > 0)
        return np.where(self.unfinished & (plan > 0), (share - done) * 100, 0.0)

    def text(self, name: str, i: int, day_count: str) -> str:
        """One task's value for a reason text."""
        ctx = self.ctx
        if name == "due_date":
            return str(self.inp.due[i])
        if name == "first_missed_node":
            return "" if np.isnat(self.inp.first_missed_node[i]) else str(self.inp.first_missed_node[i])
        if name == "report_period":
            return ctx.report_period or ""
        if name == "report_deadline":
            return str(ctx.report_deadline or "")
        value = self.get(name, day_count)[i]
        if isinstance(value, (float, np.floating)):
            return f"{float(value):.1f}"
        return str(value)


def _mask(facts: Facts, rule) -> np.ndarray:
    n = len(facts.inp)
    mask = np.ones(n, dtype=bool)
    for c in rule.conditions:
        col = facts.get(c.fact, rule.day_count)
        if c.op == "eq":
            mask &= col == c.value
        elif c.op == "ne":
            mask &= col != c.value
        elif c.op == "gt":
            mask &= col > c.value
        elif c.op == "gte":
            mask &= col >= c.value
        elif c.op == "lt":
            mask &= col < c.value
        elif c.op == "lte":
            mask &= col <= c.value
        elif c.op == "in":
            mask &= np.isin(col, list(c.value))
        elif c.op == "not_in":
            mask &= ~np.isin(col, list(c.value))
    return mask


class _Template:
    def __init__(self, text: str):
        self.text = text
        self.names = [p.split(":")[0] for p in _names(text)]

    def render(self, values: dict[str, str]) -> str:
        out = self.text
        for name in self.names:
            out = out.replace("{" + name + "}", values.get(name, ""))
        return out


def _names(text: str) -> list[str]:
    return re.findall(r"\{([^{}]*)\}", text)


def evaluate(rule_set: RuleSet, inp: TaskInputs, ctx: Context) -> Lights:
    """The light of every task in ``inp`` on ``ctx.today`` under ``rule_set``."""
    n = len(inp)
    facts = Facts(inp, ctx)
    levels = {lv.code: lv for lv in rule_set.levels}
    best = np.full(n, np.iinfo(np.int64).min, dtype="int64")
    raw = np.full(n, rule_set.default_level, dtype=object)
    masks = []
    for rule in rule_set.rules:
        mask = _mask(facts, rule)
        masks.append(mask)
        severity = levels[rule.level].severity
        better = mask & (severity > best)
        best[better] = severity
        raw[better] = rule.level

    reasons: list[list[str]] = [[] for _ in range(n)]
    for rule, mask in zip(rule_set.rules, masks, strict=True):
        hit = np.flatnonzero(mask & (raw == rule.level))
        if not len(hit):
            continue
        tpl = _Template(rule.reason)
        if not tpl.names:
            for i in hit:
                reasons[i].append(rule.reason)
            continue
        for i in hit:
            reasons[i].append(tpl.render({k: facts.text(k, i, rule.day_count) for k in tpl.names}))

    # time-based rises, from the day the rules' level last changed
    today = facts.today
    # (a stored day after today: recomputing an earlier day, which starts afresh)
    prev_since = np.where(np.isnat(inp.prev_raw_since) | (inp.prev_raw_since > today), today,
                          inp.prev_raw_since)
    raw_since = np.where(inp.prev_raw == raw, prev_since, today).astype("datetime64[D]")
    level = raw.copy()
    since = raw_since.copy()
    deadline = np.full(n, NAT)
    for _ in range(len(rule_set.levels)):
        moved = False
        for lv in rule_set.levels:
            if lv.rise is None:
                continue
            at = np.flatnonzero(level == lv.code)
            if not len(at):
                continue
            when = add_days(since[at], lv.rise.after_days, lv.rise.day_count, ctx.window)
            rising = when <= today
            up = at[rising]
            if len(up):
                moved = True
                level[up] = lv.rise.to
                since[up] = when[rising]
                text = lv.rise.reason or f"{lv.name}持续{lv.rise.after_days}天未消除，升为{levels[lv.rise.to].name}"
                text = text.replace("{escalate_days}", str(lv.rise.after_days))
                for i in up:
                    reasons[i].append(text)
            stay = at[~rising]
            deadline[stay] = when[~rising]
        if not moved:
            break
    for i in np.flatnonzero(~np.isnat(deadline)):  # the 限期 a reason may name
        reasons[i] = [r.replace("{deadline}", str(deadline[i])) for r in reasons[i]]
    return Lights(level=level, raw=raw, raw_since=raw_since, deadline=deadline,
                  reasons=[tuple(r) for r in reasons])


# ---- reminders (催办) ------------------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    index: int  # the task's position in the inputs
    node_id: int
    name: str
    planned: dt.date


@dataclass(frozen=True)
class Reminder:
    kind: str  # time_node | due_date | reporting_day
    index: int
    ref: str  # what it is about: a node id, the task, a period
    on: dt.date  # the date it reminds of
    days_left: int


def reminders_due(rule_set: RuleSet, inp: TaskInputs, ctx: Context,
                  nodes: Sequence[Node] = ()) -> list[Reminder]:
    """Reminders to send today: a time node, a due date or a reporting day within the rule
    set's days before it (0 = on the day), for tasks not finished."""
    cfg = rule_set.reminders
    facts = Facts(inp, ctx)
    today = facts.today
    out: list[Reminder] = []

    def left(dates: np.ndarray) -> np.ndarray:
        return count_days(np.full(len(dates), today), dates, cfg.day_count, ctx.window)

    if cfg.time_node is not None and nodes:
        planned = np.array([np.datetime64(nd.planned, "D") for nd in nodes])
        days = left(planned)
        for nd, d, p in zip(nodes, days, planned, strict=True):
            if facts.unfinished[nd.index] and p >= today and d <= cfg.time_node:
                out.append(Reminder("time_node", nd.index, str(nd.node_id), nd.planned, int(d)))
    if cfg.due_date is not None:
        days = left(inp.due)
        hit = np.flatnonzero(facts.unfinished & (inp.due >= today) & (days <= cfg.due_date))
        out.extend(Reminder("due_date", int(i), "", inp.due[i].item(), int(days[i])) for i in hit)
    if cfg.reporting_day is not None and ctx.current_deadline is not None and ctx.current_period:
        deadline = _day(ctx.current_deadline)
        if deadline >= today:
            d = int(left(np.array([deadline]))[0])
            if d <= cfg.reporting_day:
                owing = facts.unfinished & ~inp.reported_current & (inp.start <= deadline)
                out.extend(Reminder("reporting_day", int(i), ctx.current_period,
                                    ctx.current_deadline, d) for i in np.flatnonzero(owing))
    return out


# ---- escalation ladder and deduction candidates ----------------------------------------------

@dataclass(frozen=True)
class Transition:
    """A change of light into a level, for one task, attributed to its lead unit and to the
    programme's reporting period the change happened in."""

    id: int
    task_id: int
    unit_id: int
    programme_id: int
    period: str
    level: str


@dataclass(frozen=True)
class Escalation:
    step: int  # index into the rule set's ladder
    action: str
    unit_id: int
    programme_id: int
    period: str
    transitions: tuple[int, ...]


def ladder(rule_set: RuleSet, transitions: Iterable[Transition],
           covered: set[tuple[int, int]]) -> list[Escalation]:
    """The escalations due: for each ladder step, once ``count`` transitions into its level
    for one (unit, programme, period) are not yet covered by an escalation of that step, one
    escalation covering all of them (two yellows → a 督办函 naming both; a unit with seven new
    yellows gets one letter naming seven, not three). ``covered``: (step, transition id)."""
    groups: dict[tuple[int, int, str], list[Transition]] = {}
    for t in sorted(transitions, key=lambda t: t.id):
        groups.setdefault((t.unit_id, t.programme_id, t.period), []).append(t)
    out = []
    for (unit, programme, period), ts in groups.items():
        for s, step in enumerate(rule_set.escalation):
            free = [t.id for t in ts if t.level == step.level and (s, t.id) not in covered]
            if len(free) >= step.count:
                out.append(Escalation(s, step.action, unit, programme, period, tuple(free)))
    return out


def deductions(rule_set: RuleSet, transitions: Iterable[Transition],
               existing: set[tuple[int, str, str]]) -> list[Transition]:
    """Each task's first transition into a deducting level in a period (−1 yellow, −2 red by
    default), skipping (task, period, level) already taken in ``existing``."""
    levels = {lv.code: lv for lv in rule_set.levels}
    seen = set(existing)
    out = []
    for t in sorted(transitions, key=lambda t: t.id):
        key = (t.task_id, t.period, t.level)
        lv = levels.get(t.level)
        if lv is None or lv.deduction <= 0 or key in seen:
            continue
        seen.add(key)
        out.append(t)
    return out
