"""The ledger's one filter: pages, the API and exports all narrow tasks through it.

``TaskFilter`` reads query parameters (strings, as a URL carries them), reports each bad one
by name, and applies everything in the database — on top of ``restrict`` (what the person may
read) and ``with_progress`` (the computed columns), so 滞后 and overdue filter like any field.
Search is substring matching over name, code and requirement, the same on SQLite and
PostgreSQL (no word segmentation needed for Chinese).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import F, Q, QuerySet

from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, restrict

from .choices import FINISHED_STATUSES, TaskStatus
from .models import Task
from .queries import today_local, with_progress

SORTS = {
    "code": ("programme_id", "seq", "code"), "-code": ("-programme_id", "-seq", "-code"),
    "due": ("due_date", "code"), "-due": ("-due_date", "code"),
    "progress": ("physical_progress", "code"), "-progress": ("-physical_progress", "code"),
    "overdue": ("-days_overdue", "due_date", "code"),
    "lag": ("lagging_points", "code"),
    "name": ("name", "code"), "-name": ("-name", "code"),
}
PARAMS = ("programme", "unit", "status", "lagging", "overdue", "due_within", "category",
          "person", "q", "sort")


@dataclass
class TaskFilter:
    """Parsed filter values; ``errors`` maps a parameter to why it was not understood."""

    programme: str = ""
    unit: Unit | None = None
    status: str = ""
    lagging: bool | None = None
    overdue: bool | None = None
    due_within: int | None = None
    category: str = ""
    person: str = ""
    q: str = ""
    sort: str = "code"
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params) -> TaskFilter:
        f = cls()
        get = lambda name: (params.get(name) or "").strip()  # noqa: E731
        f.programme, f.category, f.person, f.q = (get("programme"), get("category"),
                                                  get("person"), get("q")[:100])
        if get("unit"):
            f.unit = Unit.objects.filter(code=get("unit")).first()
            if f.unit is None:
                f.errors["unit"] = f"没有代码为 {get('unit')!r} 的单位"
        status = get("status")
        if status:
            if status in TaskStatus.values:
                f.status = status
            else:
                f.errors["status"] = f"未知状态 {status!r}"
        for name in ("lagging", "overdue"):
            value = get(name)
            if value in ("1", "true", "yes", "是"):
                setattr(f, name, True)
            elif value in ("0", "false", "no", "否"):
                setattr(f, name, False)
            elif value:
                f.errors[name] = "应为 1 或 0"
        within = get("due_within")
        if within:
            if within.isdigit() and int(within) <= 3650:
                f.due_within = int(within)
            else:
                f.errors["due_within"] = "应为 0–3650 的天数"
        sort = get("sort")
        if sort:
            if sort in SORTS:
                f.sort = sort
            else:
                f.errors["sort"] = f"不能按 {sort!r} 排序"
        return f

    def apply(self, qs: QuerySet[Task], user, today: dt.date | None = None) -> QuerySet[Task]:
        today = today or today_local()
        qs = with_progress(restrict(qs, user, Action.READ), today=today)
        if self.programme:
            qs = qs.filter(programme__code=self.programme)
        if self.unit is not None:
            qs = qs.filter(Q(lead_unit__path__startswith=self.unit.path)
                           | Q(cooperations__unit__path__startswith=self.unit.path)).distinct()
        if self.status:
            qs = qs.filter(status=self.status)
        if self.lagging is not None:
            qs = qs.filter(lagging=self.lagging)
        if self.overdue is not None:
            qs = qs.filter(days_overdue__gt=0) if self.overdue else qs.filter(days_overdue=0)
        if self.due_within is not None:
            qs = qs.exclude(status__in=FINISHED_STATUSES).filter(
                due_date__gte=today, due_date__lte=today + dt.timedelta(days=self.due_within))
        if self.category:
            qs = qs.filter(category=self.category)
        if self.person:
            qs = qs.filter(Q(responsible_person__icontains=self.person)
                           | Q(responsible_user__username=self.person))
        if self.q:
            qs = qs.filter(Q(name__icontains=self.q) | Q(code__icontains=self.q)
                           | Q(requirement__icontains=self.q))
        qs = qs.annotate(lagging_points=F("physical_progress") - F("time_progress") * 100)
        return qs.order_by(*SORTS[self.sort])

    def querystring(self, **changes) -> str:
        """The filter as URL parameters (for pagination and sort links)."""
        values = {"programme": self.programme, "unit": self.unit.code if self.unit else "",
                  "status": self.status, "category": self.category, "person": self.person,
                  "q": self.q, "sort": self.sort,
                  "lagging": "" if self.lagging is None else int(self.lagging),
                  "overdue": "" if self.overdue is None else int(self.overdue),
                  "due_within": "" if self.due_within is None else self.due_within}
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})
