"""The figures of a work bulletin (工作通报), as pure functions of the facts at its cutoff.

No Django, no file formats: ``bulletins.py`` gathers the inputs from the database,
``bulletin_files.py`` writes the figures as .docx and .xlsx. The definitions below are the
product; each is stated where it is computed.

Inputs (frozen dataclasses; money is Decimal yuan, percentages are Decimal 0–100):

- ``Weights``: the weights of the composite score (综合得分) of a unit.
- ``TaskFacts``: one leaf task as known at the cutoff (截至).
- ``ReportNote``: the 存在问题 / 需协调事项 of a report submitted in the bulletin's window.
- ``BulletinInputs``: everything ``compute`` needs.

Definitions (``as_of`` is the cutoff, 截至):

- Progress class (进展分类) of a task, exactly one of four, so the classes add up to the
  total: 已完成 (``completed``) when its status is completed or closed (已销号); 逾期
  (``overdue``) when not finished and ``due < as_of``; 滞后 (``lagging``) when not finished,
  not overdue and 形象进度 below 序时进度 × 100, 序时进度 being
  ``clamp(((as_of − start).days + 1) / ((due − start).days + 1), 0, 1)``
  (``ledger.progress.time_progress``); 正常推进 (``on_schedule``) otherwise. A task whose start
  is after ``as_of`` has a 序时进度 of 0 and so is on schedule.
- Overall (总体情况): the four counts, the sums of 计划总投资, 年度计划投资 and the year's
  completed investment; ``year_rate`` = year completed ÷ year plan × 100 (None without a
  plan); ``time_share`` = the year's 序时进度 at ``as_of`` = day of the year ÷ days in the
  year × 100; ``ahead_points`` = ``year_rate − time_share`` (positive: 超过序时进度,
  negative: 低于序时进度; None without a plan).
- Unit rows (各单位推进情况), one per lead unit (牵头单位): the four counts; ``lit`` = tasks
  whose light counts toward escalation; ``completion_rate`` (完成率) = completed ÷ tasks;
  ``schedule_rate`` (序时达标率) = (completed + on schedule) ÷ tasks; ``timeliness_rate``
  (报送及时率) = reports made by their deadline ÷ reports due (None when none was due); each
  × 100. ``composite`` (综合得分) = Σ weight × rate ÷ Σ weight over the rates that exist (the
  weights renormalised when 报送及时率 is None), computed from the rates as shown (2 dp), so
  the table can be checked by hand. Ranked by composite, highest first; equal composites
  share a rank (1, 2, 2, 4) and are ordered by unit code.
- 红黄榜: ``red_list`` (亮灯任务) = tasks whose light counts, most severe first, then by unit
  code and task code; ``commended`` (表扬单位) = units with no overdue and no lit task, best
  composite first: the first ``commend_count`` of them and any tied with the last one taken.
- ``problems`` (存在问题): the notes with problems or coordination needs, each identical
  (unit, problems, coordination) once, ordered by unit code and task code.
- ``change`` (与上期相比): current − previous for the counts, the year's completed investment,
  ``year_rate`` and ``ahead_points`` (None where either side is None); None without a
  previous bulletin.

Every rate, share and score is rounded to 2 decimals, half up. ``Figures.to_json`` and
``Figures.from_json`` round-trip exactly (Decimals as strings, dates in ISO form), so an issued
bulletin's stored figures rebuild its files unchanged.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from chengzhen.ledger import progress

__all__ = [
    "CLASSES", "CLASS_NAMES", "Change", "Figures", "BulletinInputs", "Overall", "ReportNote",
    "TaskFacts", "TaskRow", "UnitRow", "Weights", "classify", "compute", "year_time_share",
]

FINISHED = progress.FINISHED
CLASSES = ("completed", "on_schedule", "lagging", "overdue")
CLASS_NAMES = {"completed": "已完成", "on_schedule": "正常推进", "lagging": "滞后", "overdue": "逾期"}
JSON_VERSION = 1
CENT = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """part ÷ whole × 100 to 2 decimals; None when whole is 0."""
    if not whole:
        return None
    return _round(Decimal(part) * HUNDRED / Decimal(whole))


# -- inputs -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Weights:
    """The weights of a unit's composite score (综合得分): 完成率, 序时达标率, 报送及时率.

    Each at least 0 and their sum above 0 (ValueError otherwise); numbers other than Decimal
    are converted through their text. Any scale works: only the shares count.
    """

    completion: Decimal
    schedule: Decimal
    timeliness: Decimal

    def __post_init__(self) -> None:
        for name in ("completion", "schedule", "timeliness"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
                raise ValueError(f"权重 {name} 应为数值：{value!r}")
            try:
                number = value if isinstance(value, Decimal) else Decimal(str(value))
            except InvalidOperation:
                raise ValueError(f"权重 {name} 应为数值：{value!r}") from None
            if not number.is_finite() or number < 0:
                raise ValueError(f"权重 {name} 不能为负数：{value!r}")
            object.__setattr__(self, name, number)
        if self.completion + self.schedule + self.timeliness <= 0:
            raise ValueError("三项权重之和应大于 0")

    def shares(self) -> tuple[Decimal, ...]:
        """Each weight as a percentage of their sum (2 decimals), e.g. (40, 40, 20)."""
        total = self.completion + self.schedule + self.timeliness
        return tuple(_round(w * HUNDRED / total) for w in (self.completion, self.schedule, self.timeliness))


@dataclass(frozen=True)
class TaskFacts:
    """One leaf task as known at the cutoff (截至): its ledger fields, investment in the year,
    its light (亮灯) on that day and its lead unit's reports due in the window."""

    task_id: int
    code: str
    name: str
    category: str
    unit_code: str  # lead unit (牵头单位)
    unit_name: str
    status: str  # ledger code: not_started | in_progress | completed | closed
    start: dt.date
    due: dt.date
    physical_progress: Decimal  # 形象进度 %, 0–100
    planned_total: Decimal  # 计划总投资 (yuan)
    year_plan: Decimal  # 年度计划投资 for the bulletin's year
    year_completed: Decimal  # completed in the year up to the cutoff
    cumulative: Decimal  # 累计完成投资
    light_level: str = ""  # light at the cutoff ("" none)
    light_name: str = ""
    light_colour: str = ""
    light_severity: int = 0
    light_counts: bool = False  # counts toward escalation → red list
    light_reasons: tuple[str, ...] = ()
    reports_due: int = 0  # lead unit's reports due in the window
    reports_on_time: int = 0  # of those, made by their deadline


@dataclass(frozen=True)
class ReportNote:
    """The 存在问题 / 需协调事项 of a report submitted in the bulletin's window."""

    task_code: str
    task_name: str
    unit_code: str
    unit_name: str
    period: str
    problems: str
    coordination: str = ""


@dataclass(frozen=True)
class BulletinInputs:
    """Everything a bulletin's figures come from; ``as_of`` = min(period_to, today) (截至)."""

    programme_name: str
    period_from: dt.date
    period_to: dt.date
    as_of: dt.date
    tasks: Sequence[TaskFacts]
    notes: Sequence[ReportNote]
    weights: Weights
    commend_count: int = 3
    previous: Figures | None = None  # the last issued bulletin's figures
    previous_label: str = ""  # its name, e.g. "第3期"


# -- outputs ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskRow:
    """A task in the annex (任务明细): its facts, its progress class (进展分类, one of
    ``CLASSES``) and its 序时进度 at the cutoff as a percentage."""

    task_id: int
    code: str
    name: str
    category: str
    unit_code: str
    unit_name: str
    status: str
    progress_class: str
    start: dt.date
    due: dt.date
    physical_progress: Decimal
    time_progress: Decimal
    planned_total: Decimal
    year_plan: Decimal
    year_completed: Decimal
    cumulative: Decimal
    light_level: str = ""
    light_name: str = ""
    light_colour: str = ""
    light_severity: int = 0
    light_counts: bool = False
    light_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Overall:
    """总体情况: the counts by class (they add up to ``tasks``), investment and the year's pace."""

    tasks: int
    completed: int
    on_schedule: int
    lagging: int
    overdue: int
    planned_total: Decimal
    year_plan: Decimal
    year_completed: Decimal
    year_rate: Decimal | None  # 年度投资完成率 %, None without a plan
    time_share: Decimal  # the year's 序时进度 %
    ahead_points: Decimal | None  # year_rate − time_share: + 超过, − 低于


@dataclass(frozen=True)
class UnitRow:
    """A lead unit's row of 各单位推进情况, with its rank (排名) by composite score (综合得分)."""

    rank: int
    unit_code: str
    unit_name: str
    tasks: int
    completed: int
    on_schedule: int
    lagging: int
    overdue: int
    lit: int  # tasks whose light counts toward escalation
    reports_due: int
    reports_on_time: int
    completion_rate: Decimal  # 完成率
    schedule_rate: Decimal  # 序时达标率
    timeliness_rate: Decimal | None  # 报送及时率, None when nothing was due
    composite: Decimal | None  # 综合得分; None only when every weighted rate is missing


@dataclass(frozen=True)
class Change:
    """与上期相比: current − previous (None where either side is None)."""

    tasks: int
    completed: int
    on_schedule: int
    lagging: int
    overdue: int
    year_completed: Decimal
    year_rate: Decimal | None
    ahead_points: Decimal | None


@dataclass(frozen=True)
class Figures:
    """A bulletin's figures: what its .docx and .xlsx say, stored as JSON with the bulletin."""

    programme_name: str
    period_from: dt.date
    period_to: dt.date
    as_of: dt.date
    weights: Weights
    overall: Overall
    units: tuple[UnitRow, ...]  # in rank order
    red_list: tuple[TaskRow, ...]
    commended: tuple[UnitRow, ...]
    problems: tuple[ReportNote, ...]
    change: Change | None
    tasks: tuple[TaskRow, ...]  # every task, in input order
    previous_label: str = ""

    def to_json(self) -> dict[str, Any]:
        """The figures as JSON-safe data: Decimals as strings, dates in ISO form."""
        return {
            "version": JSON_VERSION,
            "programme_name": self.programme_name,
            "period_from": self.period_from.isoformat(),
            "period_to": self.period_to.isoformat(),
            "as_of": self.as_of.isoformat(),
            "weights": _encode(self.weights),
            "overall": _encode(self.overall),
            "units": [_encode(row) for row in self.units],
            "red_list": [_encode(row) for row in self.red_list],
            "commended": [_encode(row) for row in self.commended],
            "problems": [_encode(note) for note in self.problems],
            "change": None if self.change is None else _encode(self.change),
            "tasks": [_encode(row) for row in self.tasks],
            "previous_label": self.previous_label,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        """The figures ``to_json`` wrote (ValueError for another version)."""
        if data.get("version") != JSON_VERSION:
            raise ValueError(f"unknown bulletin figures version {data.get('version')!r}")
        return cls(
            programme_name=data["programme_name"],
            period_from=dt.date.fromisoformat(data["period_from"]),
            period_to=dt.date.fromisoformat(data["period_to"]),
            as_of=dt.date.fromisoformat(data["as_of"]),
            weights=_decode(Weights, data["weights"]),
            overall=_decode(Overall, data["overall"]),
            units=tuple(_decode(UnitRow, row) for row in data["units"]),
            red_list=tuple(_decode(TaskRow, row) for row in data["red_list"]),
            commended=tuple(_decode(UnitRow, row) for row in data["commended"]),
            problems=tuple(_decode(ReportNote, note) for note in data["problems"]),
            change=None if data["change"] is None else _decode(Change, data["change"]),
            tasks=tuple(_decode(TaskRow, row) for row in data["tasks"]),
            previous_label=data.get("previous_label", ""),
        )


# -- JSON codecs, by the fields' annotations ---------------------------------------------------
def _same(value: Any) -> Any:
    return value


def _optional(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else f(value)


_CODECS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "int": (_same, int),
    "str": (_same, str),
    "bool": (_same, bool),
    "Decimal": (str, Decimal),
    "Decimal | None": (_optional(str), _optional(Decimal)),
    "dt.date": (dt.date.isoformat, dt.date.fromisoformat),
    "tuple[str, ...]": (list, tuple),
}
_FIELDS: dict[type, list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]]] = {}


def _fields(cls: type) -> list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]]:
    if cls not in _FIELDS:
        _FIELDS[cls] = [(f.name, *_CODECS[f.type]) for f in dataclasses.fields(cls)]
    return _FIELDS[cls]


def _encode(obj: Any) -> dict[str, Any]:
    return {name: enc(getattr(obj, name)) for name, enc, _dec in _fields(type(obj))}


def _decode(cls: type, data: dict[str, Any]) -> Any:
    return cls(**{name: dec(data[name]) for name, _enc, dec in _fields(cls)})


# -- the definitions --------------------------------------------------------------------------
def classify(task: TaskFacts, as_of: dt.date) -> str:
    """The task's progress class (进展分类) at ``as_of``: completed, overdue, lagging or on_schedule."""
    if task.status in FINISHED:
        return "completed"
    if task.due < as_of:
        return "overdue"
    if progress.is_lagging(task.status, task.physical_progress, _share(task, as_of)):
        return "lagging"
    return "on_schedule"


def _share(task: TaskFacts, as_of: dt.date) -> float:
    _check_dates(task)
    return progress.time_progress(task.start, task.due, as_of)


def _check_dates(task: TaskFacts) -> None:
    if task.due < task.start:
        raise ValueError(f"任务 {task.code} 的完成时限 {task.due} 早于开始时间 {task.start}")


def _time_percent(start: dt.date, due: dt.date, as_of: dt.date) -> Decimal:
    """序时进度 × 100 to 2 decimals, from the day counts (exact, not through a float)."""
    elapsed = min(max((as_of - start).days + 1, 0), (due - start).days + 1)
    return _round(Decimal(elapsed) * HUNDRED / Decimal((due - start).days + 1))


def year_time_share(as_of: dt.date) -> Decimal:
    """The year's 序时进度 at ``as_of``: day of the year ÷ days in the year × 100, 2 decimals."""
    days = 366 if calendar.isleap(as_of.year) else 365
    return _round(Decimal(as_of.timetuple().tm_yday) * HUNDRED / Decimal(days))


def _composite(weights: Weights, rates: Sequence[Decimal | None]) -> Decimal | None:
    pairs = [(w, r) for w, r in zip((weights.completion, weights.schedule, weights.timeliness), rates,
                                   strict=True) if r is not None]
    total = sum((w for w, _r in pairs), ZERO)
    if total <= 0:
        return None
    return _round(sum((w * r for w, r in pairs), ZERO) / total)


def _task_row(task: TaskFacts, as_of: dt.date) -> TaskRow:
    _check_dates(task)
    return TaskRow(
        task_id=task.task_id, code=task.code, name=task.name, category=task.category,
        unit_code=task.unit_code, unit_name=task.unit_name, status=task.status,
        progress_class=classify(task, as_of), start=task.start, due=task.due,
        physical_progress=Decimal(task.physical_progress),
        time_progress=_time_percent(task.start, task.due, as_of),
        planned_total=Decimal(task.planned_total), year_plan=Decimal(task.year_plan),
        year_completed=Decimal(task.year_completed), cumulative=Decimal(task.cumulative),
        light_level=task.light_level, light_name=task.light_name, light_colour=task.light_colour,
        light_severity=task.light_severity, light_counts=bool(task.light_counts),
        light_reasons=tuple(task.light_reasons))


def _overall(rows: Sequence[TaskRow], as_of: dt.date) -> Overall:
    counts = dict.fromkeys(CLASSES, 0)
    planned = plan = done = ZERO
    for row in rows:
        counts[row.progress_class] += 1
        planned += row.planned_total
        plan += row.year_plan
        done += row.year_completed
    year_rate = _percent(done, plan)
    time_share = year_time_share(as_of)
    return Overall(tasks=len(rows), **counts, planned_total=planned, year_plan=plan, year_completed=done,
                   year_rate=year_rate, time_share=time_share,
                   ahead_points=None if year_rate is None else year_rate - time_share)


def _units(tasks: Sequence[TaskFacts], rows: Sequence[TaskRow], weights: Weights) -> tuple[UnitRow, ...]:
    groups: dict[str, dict[str, Any]] = {}
    for task, row in zip(tasks, rows, strict=True):
        g = groups.get(row.unit_code)
        if g is None:
            g = groups[row.unit_code] = {"name": row.unit_name, "tasks": 0, "lit": 0, "due": 0, "on_time": 0,
                                         **dict.fromkeys(CLASSES, 0)}
        g["tasks"] += 1
        g[row.progress_class] += 1
        g["lit"] += row.light_counts
        g["due"] += task.reports_due
        g["on_time"] += task.reports_on_time
    unranked = []
    for code, g in groups.items():
        rates = (_percent(g["completed"], g["tasks"]), _percent(g["completed"] + g["on_schedule"], g["tasks"]),
                 _percent(g["on_time"], g["due"]))
        unranked.append(dict(
            unit_code=code, unit_name=g["name"], tasks=g["tasks"],
            **{name: g[name] for name in CLASSES}, lit=g["lit"], reports_due=g["due"],
            reports_on_time=g["on_time"], completion_rate=rates[0], schedule_rate=rates[1],
            timeliness_rate=rates[2], composite=_composite(weights, rates)))
    unranked.sort(key=lambda u: (u["composite"] is None, -(u["composite"] or ZERO), u["unit_code"]))
    ranked = []
    for index, u in enumerate(unranked):
        tied = ranked and ranked[-1].composite == u["composite"]
        ranked.append(UnitRow(rank=ranked[-1].rank if tied else index + 1, **u))
    return tuple(ranked)


def _commended(units: Sequence[UnitRow], count: int) -> tuple[UnitRow, ...]:
    eligible = [u for u in units if u.overdue == 0 and u.lit == 0 and u.composite is not None]
    if count <= 0 or not eligible:
        return ()
    taken = eligible[:count]
    last = taken[-1].composite
    taken += [u for u in eligible[count:] if u.composite == last]
    return tuple(taken)


def _problems(notes: Sequence[ReportNote]) -> tuple[ReportNote, ...]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for note in sorted(notes, key=lambda n: (n.unit_code, n.task_code)):
        problems, coordination = note.problems.strip(), note.coordination.strip()
        key = (note.unit_code, problems, coordination)
        if not (problems or coordination) or key in seen:
            continue
        seen.add(key)
        out.append(dataclasses.replace(note, problems=problems, coordination=coordination))
    return tuple(out)


def _minus(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else a - b


def _change(now: Overall, before: Overall) -> Change:
    return Change(
        tasks=now.tasks - before.tasks, completed=now.completed - before.completed,
        on_schedule=now.on_schedule - before.on_schedule, lagging=now.lagging - before.lagging,
        overdue=now.overdue - before.overdue, year_completed=now.year_completed - before.year_completed,
        year_rate=_minus(now.year_rate, before.year_rate),
        ahead_points=_minus(now.ahead_points, before.ahead_points))


def compute(inputs: BulletinInputs) -> Figures:
    """The bulletin's figures from its inputs, by the definitions in this module's docstring."""
    as_of = inputs.as_of
    tasks = tuple(inputs.tasks)
    rows = tuple(_task_row(task, as_of) for task in tasks)
    overall = _overall(rows, as_of)
    units = _units(tasks, rows, inputs.weights)
    red_list = tuple(sorted((row for row in rows if row.light_counts),
                            key=lambda r: (-r.light_severity, r.unit_code, r.code)))
    return Figures(
        programme_name=inputs.programme_name, period_from=inputs.period_from,
        period_to=inputs.period_to, as_of=as_of, weights=inputs.weights, overall=overall,
        units=units, red_list=red_list, commended=_commended(units, inputs.commend_count),
        problems=_problems(inputs.notes),
        change=None if inputs.previous is None else _change(overall, inputs.previous.overall),
        tasks=rows, previous_label=inputs.previous_label if inputs.previous is not None else "")
