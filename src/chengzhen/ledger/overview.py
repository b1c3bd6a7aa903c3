"""The home page's figures (首页): what is mine, what is due for reporting, how units stand.

Each function narrows through ``restrict`` (the one permission function) and counts in the
database. The reporting period that is "due" is each programme's current period
(``progress.period_of(today)``); its deadline is the programme's reporting day in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from chengzhen.org.access import UNIT_EDITOR
from chengzhen.org.permissions import Action, restrict, subtree_units, task_in_subtree
from chengzhen.programmes.models import Programme

from . import progress
from .choices import FINISHED_STATUSES
from .models import Cooperation, ProgressReport, Task
from .queries import with_progress


@dataclass(frozen=True)
class DuePeriod:
    """A programme's current reporting period (本期) and its deadline (报送截止日)."""

    programme: Programme
    period: progress.Period
    deadline: dt.date
    past_deadline: bool


def due_periods(programmes, today: dt.date) -> dict[int, DuePeriod]:
    """Each programme's current period, keyed by programme id (only running programmes)."""
    out = {}
    for p in programmes:
        if p.start_date <= today <= p.end_date:
            period = progress.period_of(today, p.reporting_cycle)
            deadline = progress.reporting_deadline(period, p.reporting_day)
            out[p.pk] = DuePeriod(p, period, deadline, deadline < today)
    return out


def _reported(period_key: str, task_ref: str, unit_ref: str) -> Exists:
    """A current report for the period by the unit ``unit_ref`` names on the task."""
    return Exists(ProgressReport.objects.filter(
        task_id=OuterRef(task_ref), reporting_unit_id=OuterRef(unit_ref), period=period_key,
        is_current=True))


def _unreported(periods: dict[int, DuePeriod], unit_paths: list[str] | None) -> Q:
    """Tasks still owing the current period's report: the lead unit has not reported or (when
    ``unit_paths`` is given) a cooperating unit under one of those paths has not."""
    condition = Q(pk__in=[])
    for programme_id, due in periods.items():
        key = due.period.key
        started = Q(programme_id=programme_id, start_date__lte=due.period.last_day)
        lead = ~_reported(key, "pk", "lead_unit_id")
        if unit_paths is not None:
            lead &= task_in_subtree(*unit_paths, cooperating=False)
            coop_missing = Cooperation.objects.filter(
                task_id=OuterRef("pk"), unit_id__in=subtree_units(*unit_paths)).exclude(
                _reported(key, "task_id", "unit_id"))
            lead |= Exists(coop_missing)
        condition |= started & lead
    return condition & ~Q(status__in=FINISHED_STATUSES)


def own_unit_paths(grants) -> list[str]:
    """The unit subtrees a person reports for as a unit liaison (责任单位联络员)."""
    return sorted({g.unit_path for g in grants if g.role == UNIT_EDITOR})


def oversees(grants) -> bool:
    """Does the person see beyond their own units (supervisor, leader, inspector, admin)?"""
    return any(g.role != UNIT_EDITOR for g in grants)


def pending_reports(user, paths: list[str], periods: dict[int, DuePeriod]) -> QuerySet[Task]:
    """Tasks of the units under ``paths`` (the user's own) still owing this period's report
    (本期待报送), of those the user may report on."""
    if not paths or not periods:
        return Task.objects.none()
    tasks = restrict(Task.objects.all(), user, Action.REPORT).filter(_unreported(periods, paths))
    return tasks.select_related("programme", "lead_unit").order_by("programme_id", "seq", "code")


def mine(user, base: QuerySet[Task]) -> QuerySet[Task]:
    """Tasks naming the user as the responsible person's account (责任人账号)."""
    return base.filter(responsible_user=user).exclude(status__in=FINISHED_STATUSES)


def counting_levels() -> list[str]:
    """The light levels that count toward escalation in the rule sets (黄灯, 红灯, 橙 …)."""
    from chengzhen.supervision.services import levels_in_use  # the room that owns lights

    return [code for code, _name, counts in levels_in_use() if counts]


def unit_summary(user, periods: dict[int, DuePeriod], today: dt.date, limit: int = 15) -> list[dict]:
    """Per lead unit: tasks, finished, 滞后, overdue, lit (a light that counts toward
    escalation) and still unreported this period — the units with most lagging and overdue
    tasks first."""
    tasks = with_progress(restrict(Task.objects.all(), user), today=today,
                          columns=("lagging", "days_overdue"))
    rows = (tasks.order_by().values("lead_unit__code", "lead_unit__name", "lead_unit__short_name")
            .annotate(total=Count("pk"),
                      finished=Count("pk", filter=Q(status__in=FINISHED_STATUSES)),
                      lagging_n=Count("pk", filter=Q(lagging=True)),
                      overdue_n=Count("pk", filter=Q(days_overdue__gt=0)),
                      lit_n=Count("pk", filter=Q(light__level__in=counting_levels())),
                      unreported=Count("pk", filter=_unreported(periods, None))))
    rows = sorted(rows, key=lambda r: (-(r["lagging_n"] + r["overdue_n"]), -r["unreported"],
                                       r["lead_unit__code"]))
    return rows[:limit]
