"""The ledger's one filter: pages, the API and exports all narrow tasks through it.

``TaskFilter`` reads query parameters (strings, as a URL carries them), reports each bad one
by name, and applies everything in the database — on top of ``restrict`` (what the person may
read) and ``with_progress`` (the computed columns), so 滞后 and overdue filter like any field.
Search is substring matching over name, code and requirement, the same on SQLite and
PostgreSQL (no word segmentation needed for Chinese).

Pages of a list are read in two steps (``TaskRows``): first the page's ids, filtered and
sorted in the database with only the computed columns the filter or sort needs, then the
full computed columns for those fifty rows alone. A database sorting 10,000 tasks would
otherwise work out every computed column of every task before it keeps fifty.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, restrict, task_in_subtree

from .choices import FINISHED_STATUSES, TaskStatus
from .models import Cooperation, Task
from .queries import today_local, with_progress

SORTS = {
    "code": ("programme_id", "seq", "code"), "-code": ("-programme_id", "-seq", "-code"),
    "due": ("due_date", "code"), "-due": ("-due_date", "code"),
    "progress": ("physical_progress", "code"), "-progress": ("-physical_progress", "code"),
    "overdue": ("-days_overdue", "due_date", "code"),
    "lag": ("lagging_points", "code"),
    "name": ("name", "code"), "-name": ("-name", "code"),
}
PARAMS = ("programme", "unit", "status", "lagging", "overdue", "due_within", "light", "category",
          "person", "q", "sort")
LEVEL_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


@dataclass
class TaskFilter:
    """Parsed filter values; ``errors`` maps a parameter to why it was not understood."""

    programme: str = ""
    unit: Unit | None = None
    status: str = ""
    lagging: bool | None = None
    overdue: bool | None = None
    due_within: int | None = None
    light: str = ""  # a light's level code (亮灯, computed by the supervision room)
    category: str = ""
    person: str = ""
    q: str = ""
    sort: str = "code"
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params) -> TaskFilter:
        f = cls()

        def get(name: str) -> str:
            value = (params.get(name) or "").strip()
            if "\x00" in value:  # no database stores it, PostgreSQL refuses it in a query
                f.errors[name] = _("含有不可用的字符（NUL）")
                return ""
            return value

        f.programme, f.category, f.person, f.q = (get("programme"), get("category"),
                                                  get("person"), get("q")[:100])
        if get("unit"):
            f.unit = Unit.objects.filter(code=get("unit")).first()
            if f.unit is None:
                f.errors["unit"] = _("没有代码为 %(code)r 的单位") % {"code": get("unit")}
        status = get("status")
        if status:
            if status in TaskStatus.values:
                f.status = status
            else:
                f.errors["status"] = _("未知状态 %(status)r") % {"status": status}
        for name in ("lagging", "overdue"):
            value = get(name)
            if value in ("1", "true", "yes", "是"):
                setattr(f, name, True)
            elif value in ("0", "false", "no", "否"):
                setattr(f, name, False)
            elif value:
                f.errors[name] = _("应为 1 或 0")
        within = get("due_within")
        if within:
            if within.isdigit() and int(within) <= 3650:
                f.due_within = int(within)
            else:
                f.errors["due_within"] = _("应为 0–3650 的天数")
        light = get("light")
        if light:
            if LEVEL_CODE.match(light):
                f.light = light
            else:
                f.errors["light"] = _("%(value)r 不是灯色代码（如 red、yellow）") % {"value": light}
        sort = get("sort")
        if sort:
            if sort in SORTS:
                f.sort = sort
            else:
                f.errors["sort"] = _("不能按 %(sort)r 排序") % {"sort": sort}
        return f

    def computed_columns(self) -> set[str]:
        """The computed columns this filter and its sort read."""
        columns = set()
        if self.lagging is not None:
            columns.add("lagging")
        if self.overdue is not None or self.sort == "overdue":
            columns.add("days_overdue")
        if self.sort in ("progress", "-progress"):
            columns.add("physical_progress")
        if self.sort == "lag":
            columns.update(("physical_progress", "time_progress"))
        return columns

    def apply(self, qs: QuerySet[Task], user, today: dt.date | None = None,
              columns: tuple[str, ...] = ()) -> QuerySet[Task]:
        """The tasks ``user`` may read that pass the filter, in its order; annotated with the
        computed columns the filter needs and those named in ``columns``."""
        today = today or today_local()
        qs = restrict(qs, user, Action.READ)
        needed = self.computed_columns() | set(columns)
        if needed:
            qs = with_progress(qs, today=today, columns=tuple(sorted(needed)))
        if self.programme:
            qs = qs.filter(programme__code=self.programme)
        if self.unit is not None:
            qs = qs.filter(task_in_subtree(self.unit.path))
        if self.status:
            qs = qs.filter(status=self.status)
        if self.lagging is not None:
            qs = qs.filter(lagging=self.lagging)
        if self.overdue is not None:
            qs = qs.filter(days_overdue__gt=0) if self.overdue else qs.filter(days_overdue=0)
        if self.due_within is not None:
            qs = qs.exclude(status__in=FINISHED_STATUSES).filter(
                due_date__gte=today, due_date__lte=today + dt.timedelta(days=self.due_within))
        if self.light:
            qs = qs.filter(light__level=self.light)
        if self.category:
            qs = qs.filter(category=self.category)
        if self.person:
            qs = qs.filter(Q(responsible_person__icontains=self.person)
                           | Q(responsible_user__username=self.person))
        if self.q:
            qs = qs.filter(Q(name__icontains=self.q) | Q(code__icontains=self.q)
                           | Q(requirement__icontains=self.q))
        if self.sort == "lag":
            qs = qs.annotate(lagging_points=F("physical_progress") - F("time_progress") * 100)
        return qs.order_by(*SORTS[self.sort])

    def querystring(self, **changes) -> str:
        """The filter as URL parameters (for pagination and sort links)."""
        values = {"programme": self.programme, "unit": self.unit.code if self.unit else "",
                  "status": self.status, "category": self.category, "person": self.person,
                  "q": self.q, "sort": self.sort,
                  "lagging": "" if self.lagging is None else int(self.lagging),
                  "overdue": "" if self.overdue is None else int(self.overdue),
                  "due_within": "" if self.due_within is None else self.due_within,
                  "light": self.light}
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


class TaskRows:
    """A filtered, sorted task list that Django's paginator (and DRF's) slices by id first.

    ``keys`` is the filtered queryset (``TaskFilter.apply``); a slice reads the ids of that
    slice, then ``load`` fetches those tasks with every computed column, in the same order.
    """

    def __init__(self, keys: QuerySet[Task], load: Callable[[list[int]], list[Task]]):
        self.keys, self.load = keys, load
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.keys.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Task]:
        if not isinstance(index, slice):
            return self[index:index + 1][0]
        return self.load(list(self.keys.values_list("pk", flat=True)[index]))

    def __iter__(self) -> Iterator[Task]:
        return iter(self[0:self.count()])


def load_tasks(ids: list[int], today: dt.date | None = None,
               cooperations: bool = False) -> list[Task]:
    """The tasks ``ids``, in that order, with programme, lead unit, parent and light (and the ordered
    cooperating units when ``cooperations``) and every computed column."""
    if not ids:
        return []
    qs = with_progress(Task.objects.filter(pk__in=ids), today=today).select_related(
        "programme", "lead_unit", "parent", "light").order_by()
    if cooperations:
        qs = qs.prefetch_related(Prefetch(
            "cooperations", Cooperation.objects.select_related("unit").order_by("seq")))
    found = {t.pk: t for t in qs}
    return [found[pk] for pk in ids if pk in found]


def task_rows(keys: QuerySet[Task], today: dt.date | None = None,
              cooperations: bool = False) -> TaskRows:
    """``keys`` as ``TaskRows``, each slice read through ``load_tasks``."""
    return TaskRows(keys, lambda ids: load_tasks(ids, today, cooperations))


def first_rows(*keysets: QuerySet[Task], n: int, today: dt.date | None = None) -> list[list[Task]]:
    """The first ``n`` tasks of each filtered queryset, their computed columns read in one
    query for all of them (the home page's several short lists)."""
    id_lists = [list(keys.values_list("pk", flat=True)[:n]) for keys in keysets]
    found = {t.pk: t for t in load_tasks(sorted({pk for ids in id_lists for pk in ids}), today)}
    return [[found[pk] for pk in ids if pk in found] for ids in id_lists]
