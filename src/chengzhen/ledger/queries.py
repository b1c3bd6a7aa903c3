"""The ledger's computed columns, each written once as a database expression.

``with_progress(queryset)`` annotates tasks with 序时进度, 形象进度 (a parent's rolled up from
its children), 滞后, days overdue, cumulative and yearly completed investment, the year's plan
and the investment completion rate, so lists can filter and sort on them in the database.
The pure definitions are in ``progress.py``; tests hold both to the same answers.

Dates are compared as day numbers (days since 1970-01-01) through ``EpochDay``, which has one
spelling for SQLite and one for PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models
from django.db.models import (
    Avg,
    Case,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Least
from django.utils import timezone

from .choices import FINISHED_STATUSES
from .models import AnnualPlan, ProgressReport, Task

EPOCH = dt.date(1970, 1, 1)
MONEY_FIELD = models.DecimalField(max_digits=18, decimal_places=2)


class EpochDay(Func):
    """Days from 1970-01-01 to a date column, as an integer."""

    output_field = models.IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection,
            template="CAST(julianday(%(expressions)s) - 2440587.5 AS INTEGER)", **extra,
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="((%(expressions)s) - DATE '1970-01-01')", **extra
        )


def today_local() -> dt.date:
    """Today in the platform's time zone (Asia/Shanghai)."""
    return timezone.localdate()


def _lead_progress(task_ref: str = "pk", unit_ref: str = "lead_unit_id") -> Subquery:
    """The lead unit's 形象进度 in its latest current report."""
    latest = ProgressReport.objects.filter(
        task_id=OuterRef(task_ref), reporting_unit_id=OuterRef(unit_ref), is_current=True
    ).order_by("-period", "-submitted_at")
    return Subquery(latest.values("physical_progress")[:1], output_field=FloatField())


def _rolled_up_progress() -> Subquery:
    children = (
        Task.objects.filter(parent_id=OuterRef("pk"))
        .annotate(
            p=Coalesce(_lead_progress(), Value(0.0), output_field=FloatField()),
            w=Cast(Coalesce("weight", "planned_total_investment"), FloatField()),
        )
        .values("parent_id")
        .annotate(sw=Sum("w"), spw=Sum(F("p") * F("w"), output_field=FloatField()), ap=Avg("p"))
        .annotate(
            r=Case(When(sw__gt=0, then=F("spw") / F("sw")), default=F("ap"),
                   output_field=FloatField())
        )
    )
    return Subquery(children.values("r")[:1], output_field=FloatField())


def _money_sum(reports) -> Coalesce:
    total = reports.values("task_id").annotate(s=Sum("investment")).values("s")[:1]
    return Coalesce(Subquery(total, output_field=MONEY_FIELD), Value(Decimal("0.00")),
                    output_field=MONEY_FIELD)


COLUMNS = ("time_progress", "physical_progress", "lagging", "days_overdue",
           "cumulative_investment", "year_investment", "year_plan", "investment_rate")
# what each computed column is built from (annotated first)
NEEDS = {"lagging": ("time_progress", "physical_progress"),
         "investment_rate": ("year_investment", "year_plan")}


def with_progress(qs: models.QuerySet[Task], today: dt.date | None = None,
                  year: int | None = None,
                  columns: tuple[str, ...] | frozenset[str] = COLUMNS) -> models.QuerySet[Task]:
    """Annotate tasks with the computed ledger columns (all of them unless ``columns`` names
    some; what those are built from comes along).

    Annotations: ``time_progress`` (0–1), ``physical_progress`` (%), ``lagging`` (bool),
    ``days_overdue``, ``cumulative_investment``, ``year_investment``, ``year_plan`` (yuan) and
    ``investment_rate`` (0–1, null without a plan) for ``year`` (default: today's year).
    Building these expressions costs the ORM more than the database spends on a page of
    rows, so a filter asks only for the columns it filters or sorts on.
    """
    wanted = set(columns)
    for name in list(wanted):
        wanted.update(NEEDS.get(name, ()))
    unknown = wanted - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown computed columns: {sorted(unknown)}")
    today = today or today_local()
    year = year or today.year
    today_day = Value((today - EPOCH).days)
    start, due = EpochDay("start_date"), EpochDay("due_date")
    current = ProgressReport.objects.filter(task_id=OuterRef("pk"), is_current=True)
    unfinished = ~Q(status__in=FINISHED_STATUSES)
    annotations = {}
    if "time_progress" in wanted:
        share = Cast(today_day - start + 1, FloatField()) / Cast(due - start + 1, FloatField())
        annotations["time_progress"] = Greatest(Value(0.0), Least(Value(1.0), share),
                                                output_field=FloatField())
    if "physical_progress" in wanted:
        # a parent's roll-up, which is a number exactly when the task has children (the
        # grouped subquery has no row otherwise); else the lead unit's report; else 0
        annotations["physical_progress"] = Coalesce(
            _rolled_up_progress(), _lead_progress(), Value(0.0), output_field=FloatField())
    if "lagging" in wanted:
        annotations["lagging"] = Case(
            When(unfinished & Q(physical_progress__lt=F("time_progress") * 100), then=Value(True)),
            default=Value(False), output_field=models.BooleanField(),
        )
    if "days_overdue" in wanted:
        annotations["days_overdue"] = Case(
            When(unfinished & Q(due_date__lt=today), then=today_day - due),
            default=Value(0), output_field=models.IntegerField(),
        )
    if "cumulative_investment" in wanted:
        annotations["cumulative_investment"] = (F("opening_completed_investment")
                                                + _money_sum(current))
    if "year_investment" in wanted:
        annotations["year_investment"] = _money_sum(current.filter(period__startswith=str(year)))
    if "year_plan" in wanted:
        year_plan = AnnualPlan.objects.filter(task_id=OuterRef("pk"), year=year).values(
            "amount")[:1]
        annotations["year_plan"] = Coalesce(Subquery(year_plan, output_field=MONEY_FIELD),
                                            Value(Decimal("0.00")), output_field=MONEY_FIELD)
    if "investment_rate" in wanted:
        annotations["investment_rate"] = Case(
            When(year_plan__gt=0, then=Cast("year_investment", FloatField())
                 / Cast("year_plan", FloatField())),
            default=None, output_field=FloatField(),
        )
    return qs.annotate(**annotations)
