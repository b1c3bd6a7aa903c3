"""The supervision board (督查看板): what the leading-group office looks at before a meeting.

``board(user, today, programme)`` gathers five parts, each narrowed by ``restrict`` (the one
permission function) and counted in the database — a few grouped queries whatever the number
of tasks, never a Python loop over them:

* ``units`` — per programme and lead unit (牵头单位), the tasks at each light level (亮灯) in
  use (``levels_in_use``, most severe first), the lit ones (levels that count toward
  escalation, as on the home page) and all tasks;
* ``changes`` — the lights that changed level in the seven days to today (本周灯色变化),
  newest first;
* ``reminders`` — tasks still owing this period's progress report (本期未报送) whose reporting
  day falls within the coming ``CHENGZHEN_BOARD_REMINDER_DAYS`` days (催办提醒);
* ``rectifications`` — rectification tasks from inspections not yet finished (督查整改);
* ``escalations`` — open interviews (约谈, not yet 已办结) and this year's supervision letters
  (督办函), counted per unit and listed.

Every task row carries the task's id (the page links it to the task page, which shows the
light's reasons); escalation rows carry the escalation's id. Lists stop at ``LIST_LIMIT``
rows and say how many there are in all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Case, Count, DateField, Q, Value, When

from chengzhen.ledger.choices import FINISHED_STATUSES
from chengzhen.ledger.models import Task
from chengzhen.ledger.overview import DuePeriod, _unreported, due_periods
from chengzhen.org.permissions import Action, restrict
from chengzhen.programmes.models import Programme

from .models import (
    Escalation,
    EscalationKind,
    InspectionKind,
    InterviewStatus,
    LightChange,
    Rectification,
    RuleSetVersion,
)
from .services import levels_in_use

LIST_LIMIT = 200  # rows per list part; the total is given beside
WEEK_DAYS = 7  # "this week": today and the six days before


def reminder_days() -> int:
    """How many days ahead the board reminds of reporting days (催办提醒), from
    ``settings.CHENGZHEN_BOARD_REMINDER_DAYS`` (default 3)."""
    return int(getattr(settings, "CHENGZHEN_BOARD_REMINDER_DAYS", 3))


@dataclass(frozen=True)
class Level:
    """A light level (灯色) as the latest rule sets define it."""

    code: str
    name: str
    colour: str
    counts: bool  # counts toward escalation (督办、约谈)


@dataclass(frozen=True)
class LevelCount:
    level: Level
    count: int


@dataclass(frozen=True)
class UnitRow:
    """One lead unit in one programme: tasks per light level (各单位亮灯情况)."""

    programme_id: int
    programme_code: str
    programme_name: str
    unit_id: int
    unit_code: str
    unit_name: str
    cells: tuple[LevelCount, ...]  # one per level in use, most severe first
    lit: int  # tasks whose light counts toward escalation
    tasks: int  # all tasks of the unit in the programme, lit or not

    @property
    def counts(self) -> dict[str, int]:
        return {c.level.code: c.count for c in self.cells}


@dataclass(frozen=True)
class LightStyle:
    """A level as a row shows it: its code, name and colour."""

    code: str
    name: str
    colour: str


@dataclass(frozen=True)
class ChangeRow:
    """A change of a task's light (亮灯记录)."""

    id: int
    task_id: int
    task_code: str
    task_name: str
    programme_code: str
    unit_id: int
    unit_code: str
    unit_name: str
    from_level: LightStyle | None  # None: the task's first light
    to_level: LightStyle
    on: dt.date
    reasons: list[str]


@dataclass(frozen=True)
class ReminderRow:
    """A task still owing this period's report, its reporting day near (催办提醒)."""

    task_id: int
    task_code: str
    task_name: str
    programme_code: str
    programme_name: str
    unit_id: int
    unit_code: str
    unit_name: str
    period: str
    deadline: dt.date
    days_left: int


@dataclass(frozen=True)
class RectificationRow:
    """An open rectification (督查整改): its task, unit, requirement, deadline and light."""

    id: int
    task_id: int
    task_code: str
    task_name: str
    task_status: str
    programme_code: str
    unit_id: int
    unit_code: str
    unit_name: str
    requirement: str
    deadline: dt.date
    days_left: int  # negative: past the deadline
    light: LightStyle | None
    inspection_id: int
    inspection_kind: str
    inspection_kind_name: str
    inspection_held_on: dt.date

    @property
    def days_late(self) -> int:
        """Days past the deadline (逾期天数), 0 before it."""
        return max(0, -self.days_left)


@dataclass(frozen=True)
class EscalationUnitRow:
    """A unit's letters this year and open interviews (督办函、约谈)."""

    unit_id: int
    unit_code: str
    unit_name: str
    letters: int
    interviews: int


@dataclass(frozen=True)
class EscalationRow:
    """A supervision letter (督办函) or an interview (约谈)."""

    id: int
    kind: str
    kind_name: str
    reference: str
    programme_code: str
    unit_id: int
    unit_code: str
    unit_name: str
    period: str
    level: str
    status: str
    status_name: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Part[T]:
    """A list part of the board: its first rows and how many there are in all."""

    rows: list[T]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


@dataclass
class Board:
    """The supervision board (督查看板) for one person on one day."""

    today: dt.date
    programme: Programme | None
    week_from: dt.date
    reminder_days: int
    levels: list[Level]
    units: list[UnitRow]
    level_totals: tuple[LevelCount, ...]
    changes: Part[ChangeRow]
    reminders: Part[ReminderRow]
    rectifications: Part[RectificationRow]
    escalation_units: list[EscalationUnitRow]
    escalations: Part[EscalationRow]
    programmes: list[Programme] = field(default_factory=list)

    @property
    def programme_code(self) -> str | None:
        return self.programme.code if self.programme else None


def readable_programmes(user) -> list[Programme]:
    """The programmes in which ``user`` may read some task, by code (the board's filter)."""
    ids = restrict(Task.objects.all(), user).values("programme_id")
    return list(Programme.objects.filter(pk__in=ids).order_by("code"))


def board(user, today: dt.date, programme: Programme | None = None, *,
          programmes: list[Programme] | None = None) -> Board:
    """The board for ``user`` on ``today``, for one ``programme`` or every one they read.

    ``programmes``: the user's ``readable_programmes``, when the caller has them already.
    """
    if programmes is None:
        programmes = readable_programmes(user)
    levels, styles = _levels()
    units = _unit_rows(user, programme, levels)
    totals = tuple(LevelCount(lv, sum(r.cells[i].count for r in units)) for i, lv in enumerate(levels))
    scope = [programme] if programme is not None else programmes
    days = reminder_days()
    letters, interviews = _escalations(user, today, programme)
    return Board(
        today=today, programme=programme, week_from=today - dt.timedelta(days=WEEK_DAYS - 1),
        reminder_days=days, levels=levels, units=units, level_totals=totals,
        changes=_changes(user, today, programme, styles),
        reminders=_reminders(user, today, scope, days),
        rectifications=_rectifications(user, today, programme, styles),
        escalation_units=letters, escalations=interviews, programmes=programmes)


# ---- levels ----------------------------------------------------------------------------------

def _levels() -> tuple[list[Level], dict]:
    """The levels in use (columns) and every rule-set version's level styles.

    Styles: ``{version_id: {code: LightStyle}}`` for the changes (each names the level as
    the version it was computed under did), and ``{None: …}`` each code as the rule sets'
    latest versions define it — the first rule set (by code) defining it, as ``levels_in_use``.
    """
    versions = RuleSetVersion.objects.order_by("rule_set__code", "number").values_list(
        "pk", "rule_set__code", "definition")
    styles: dict[int | None, dict[str, LightStyle]] = {}
    latest: dict[str, int] = {}
    for pk, code, definition in versions:
        styles[pk] = {lv["code"]: LightStyle(lv["code"], lv["name"], lv.get("colour", ""))
                      for lv in definition.get("levels", [])}
        latest[code] = pk  # each code's last version wins
    styles[None] = {}
    for pk in latest.values():
        for code, style in styles[pk].items():
            styles[None].setdefault(code, style)
    levels = [Level(code, name, styles[None][code].colour if code in styles[None] else "", counts)
              for code, name, counts in levels_in_use()]
    return levels, styles


def _style(styles: dict, version_id: int | None, code: str) -> LightStyle:
    found = styles.get(version_id, {}).get(code) or styles[None].get(code)
    return found or LightStyle(code, code, "")


def _unit_name(row: dict, prefix: str) -> str:
    return row[f"{prefix}short_name"] or row[f"{prefix}name"]


def _part(rows: list, qs) -> Part:
    """The rows read (at most ``LIST_LIMIT``) and the total: counted only when cut off."""
    return Part(rows, len(rows) if len(rows) < LIST_LIMIT else qs.count())


# ---- (a) counts by level per unit and programme ----------------------------------------------

def _unit_rows(user, programme: Programme | None, levels: list[Level]) -> list[UnitRow]:
    tasks = restrict(Task.objects.all(), user, Action.READ)
    if programme is not None:
        tasks = tasks.filter(programme=programme)
    per_level = {f"n{i}": Count("pk", filter=Q(light__level=lv.code)) for i, lv in enumerate(levels)}
    counting = [lv.code for lv in levels if lv.counts]
    rows = (tasks.order_by()
            .values("programme_id", "programme__code", "programme__name", "lead_unit_id",
                    "lead_unit__code", "lead_unit__name", "lead_unit__short_name")
            .annotate(n_tasks=Count("pk"), n_lit=Count("pk", filter=Q(light__level__in=counting)),
                      **per_level))
    out = [UnitRow(
        programme_id=r["programme_id"], programme_code=r["programme__code"],
        programme_name=r["programme__name"], unit_id=r["lead_unit_id"],
        unit_code=r["lead_unit__code"], unit_name=_unit_name(r, "lead_unit__"),
        cells=tuple(LevelCount(lv, r[f"n{i}"]) for i, lv in enumerate(levels)),
        lit=r["n_lit"], tasks=r["n_tasks"]) for r in rows]
    # per programme, the units with the most severe lights first
    out.sort(key=lambda u: (u.programme_code, tuple(-c.count for c in u.cells), u.unit_code))
    return out


# ---- (b) what changed level this week --------------------------------------------------------

def _changes(user, today: dt.date, programme: Programme | None, styles: dict) -> Part[ChangeRow]:
    qs = restrict(LightChange.objects.all(), user, Action.READ).filter(
        on__gte=today - dt.timedelta(days=WEEK_DAYS - 1), on__lte=today)
    if programme is not None:
        qs = qs.filter(programme=programme)
    rows = list(qs.order_by("-on", "-pk").values(
        "pk", "task_id", "task__code", "task__name", "programme__code", "unit_id", "unit__code",
        "unit__name", "unit__short_name", "from_level", "to_level", "on", "reasons",
        "rule_version_id")[:LIST_LIMIT])
    out = [ChangeRow(
        id=r["pk"], task_id=r["task_id"], task_code=r["task__code"], task_name=r["task__name"],
        programme_code=r["programme__code"], unit_id=r["unit_id"], unit_code=r["unit__code"],
        unit_name=_unit_name(r, "unit__"),
        from_level=_style(styles, r["rule_version_id"], r["from_level"]) if r["from_level"] else None,
        to_level=_style(styles, r["rule_version_id"], r["to_level"]), on=r["on"],
        reasons=list(r["reasons"] or [])) for r in rows]
    return _part(out, qs)


# ---- (c) reminders due -----------------------------------------------------------------------

def _reminders(user, today: dt.date, programmes: list[Programme], days: int) -> Part[ReminderRow]:
    """Tasks owing the current period's report (``ledger.overview``'s rule: the lead unit has
    not reported) in the programmes whose reporting day is today or within ``days`` days."""
    horizon = today + dt.timedelta(days=days)
    near: dict[int, DuePeriod] = {pk: d for pk, d in due_periods(programmes, today).items()
                                  if today <= d.deadline <= horizon}
    if not near:
        return Part([], 0)
    deadline = Case(*[When(programme_id=pk, then=Value(d.deadline)) for pk, d in near.items()],
                    output_field=DateField())
    qs = restrict(Task.objects.all(), user, Action.READ).filter(_unreported(near, None))
    rows = list(qs.annotate(report_deadline=deadline).order_by(
        "report_deadline", "programme__code", "lead_unit__code", "seq", "code").values(
        "pk", "code", "name", "programme_id", "programme__code", "programme__name",
        "lead_unit_id", "lead_unit__code", "lead_unit__name", "lead_unit__short_name")[:LIST_LIMIT])
    out = []
    for r in rows:
        due = near[r["programme_id"]]
        out.append(ReminderRow(
            task_id=r["pk"], task_code=r["code"], task_name=r["name"],
            programme_code=r["programme__code"], programme_name=r["programme__name"],
            unit_id=r["lead_unit_id"], unit_code=r["lead_unit__code"],
            unit_name=_unit_name(r, "lead_unit__"), period=due.period.key, deadline=due.deadline,
            days_left=(due.deadline - today).days))
    return _part(out, qs)


# ---- (d) open rectifications -----------------------------------------------------------------

def _rectifications(user, today: dt.date, programme: Programme | None,
                    styles: dict) -> Part[RectificationRow]:
    qs = restrict(Rectification.objects.all(), user, Action.READ).exclude(
        task__status__in=FINISHED_STATUSES)
    if programme is not None:
        qs = qs.filter(task__programme=programme)
    rows = list(qs.order_by("deadline", "pk").values(
        "pk", "task_id", "task__code", "task__name", "task__status", "task__programme__code",
        "unit_id", "unit__code", "unit__name", "unit__short_name", "requirement", "deadline",
        "task__light__level", "task__light__name", "task__light__colour", "inspection_id",
        "inspection__kind", "inspection__held_on")[:LIST_LIMIT])
    kinds = dict(InspectionKind.choices)
    out = [RectificationRow(
        id=r["pk"], task_id=r["task_id"], task_code=r["task__code"], task_name=r["task__name"],
        task_status=r["task__status"], programme_code=r["task__programme__code"],
        unit_id=r["unit_id"], unit_code=r["unit__code"], unit_name=_unit_name(r, "unit__"),
        requirement=r["requirement"], deadline=r["deadline"],
        days_left=(r["deadline"] - today).days,
        light=LightStyle(r["task__light__level"], r["task__light__name"], r["task__light__colour"])
        if r["task__light__level"] else None,
        inspection_id=r["inspection_id"], inspection_kind=r["inspection__kind"],
        inspection_kind_name=str(kinds.get(r["inspection__kind"], r["inspection__kind"])),
        inspection_held_on=r["inspection__held_on"]) for r in rows]
    return _part(out, qs)


# ---- (e) letters and interviews --------------------------------------------------------------

def _escalations(user, today: dt.date, programme: Programme | None,
                 ) -> tuple[list[EscalationUnitRow], Part[EscalationRow]]:
    """Per unit and listed: this year's letters and the interviews not yet closed (待约谈,
    已约谈 — an interview held stays open until it is 已办结)."""
    letter = Q(kind=EscalationKind.LETTER, year=today.year)
    interview = Q(kind=EscalationKind.INTERVIEW) & ~Q(status=InterviewStatus.CLOSED)
    qs = restrict(Escalation.objects.all(), user, Action.READ).filter(letter | interview)
    if programme is not None:
        qs = qs.filter(programme=programme)
    per_unit = [EscalationUnitRow(
        unit_id=r["unit_id"], unit_code=r["unit__code"], unit_name=_unit_name(r, "unit__"),
        letters=r["n_letters"], interviews=r["n_interviews"])
        for r in qs.order_by().values("unit_id", "unit__code", "unit__name", "unit__short_name")
        .annotate(n_letters=Count("pk", filter=Q(kind=EscalationKind.LETTER)),
                  n_interviews=Count("pk", filter=Q(kind=EscalationKind.INTERVIEW)))]
    per_unit.sort(key=lambda u: (-u.interviews, -u.letters, u.unit_code))
    rows = list(qs.order_by("-created_at", "-pk").values(
        "pk", "kind", "reference", "programme__code", "unit_id", "unit__code", "unit__name",
        "unit__short_name", "period", "level", "status", "created_at")[:LIST_LIMIT])
    kinds, statuses = dict(EscalationKind.choices), dict(InterviewStatus.choices)
    out = [EscalationRow(
        id=r["pk"], kind=r["kind"], kind_name=str(kinds.get(r["kind"], r["kind"])),
        reference=r["reference"], programme_code=r["programme__code"], unit_id=r["unit_id"],
        unit_code=r["unit__code"], unit_name=_unit_name(r, "unit__"), period=r["period"],
        level=r["level"], status=r["status"] if r["kind"] == EscalationKind.INTERVIEW else "",
        status_name=str(statuses.get(r["status"], r["status"]))
        if r["kind"] == EscalationKind.INTERVIEW else "",
        created_at=r["created_at"]) for r in rows]
    return per_unit, _part(out, qs)
