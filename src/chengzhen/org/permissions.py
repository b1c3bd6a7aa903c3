"""The permission function: the one place every path (command, import, admin, page, API) asks.

``can(user, action, obj)`` answers for one object, ``restrict(queryset, user, action)`` filters
a list in the database by the same rules, and ``require`` raises with a message people read.
The rules themselves are in ``access.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet

from .access import (
    ADMIN,
    Action,
    Grant,
    TaskScope,
    is_admin,
    may_on_programme,
    may_on_task,
    may_on_unit,
    task_reach,
)
from .models import Membership, Unit

__all__ = ["Action", "can", "grants_for", "require", "restrict", "task_scope"]


def grants_for(user) -> list[Grant]:
    """The user's grants, loaded once per user object.

    The system account (``CHENGZHEN_SYSTEM_USERNAME``), which commands run as without
    ``--as``, acts as an administrator; it cannot log in (inactive, no usable password).
    """
    if user is not None and user.get_username() == settings.CHENGZHEN_SYSTEM_USERNAME:
        return [Grant(ADMIN, "/")]
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_chengzhen_grants", None)
    if cached is not None:
        return cached
    grants = []
    if user.is_superuser:
        grants.append(Grant(ADMIN, "/"))
    memberships = Membership.objects.filter(user=user).select_related("unit").prefetch_related(
        "programme_links"
    )
    for m in memberships:
        grants.append(
            Grant(m.role, m.unit.path, frozenset(p.programme_id for p in m.programme_links.all()))
        )
    user._chengzhen_grants = grants
    return grants


def task_scope(task) -> TaskScope:
    coop_paths = tuple(
        c.unit.path for c in task.cooperations.select_related("unit").all()
    ) if task.pk else ()
    return TaskScope(task.programme_id, task.lead_unit.path, coop_paths)


def _task_of(obj):
    from chengzhen.ledger.models import Task

    if isinstance(obj, Task):
        return obj
    return getattr(obj, "task", None)


def can(user, action: Action | str, obj, *, unit: Unit | None = None) -> bool:
    """May ``user`` do ``action`` on ``obj``?

    ``obj`` is a task (or a record of a task: time node, report, cooperation, annual plan), a
    programme or a unit. For REPORT, ``unit`` is the unit the report is made for.
    """
    from chengzhen.programmes.models import Programme

    action = Action(action)
    grants = grants_for(user)
    if not grants:
        return False
    task = _task_of(obj)
    if task is not None:
        return may_on_task(grants, action, task_scope(task), unit.path if unit else None)
    if isinstance(obj, Programme):
        return may_on_programme(grants, action, obj.pk)
    if isinstance(obj, Unit):
        return may_on_unit(grants, action, obj.path)
    return is_admin(grants)


def require(user, action: Action | str, obj, *, unit: Unit | None = None) -> None:
    """Raise ``PermissionDenied`` naming the person, the action and the object."""
    if not can(user, action, obj, unit=unit):
        who = getattr(user, "username", None) or "匿名用户"
        raise PermissionDenied(f"{who} 无权对 {obj} 执行 {Action(action).value}")


def restrict(qs: QuerySet, user, action: Action | str = Action.READ) -> QuerySet:
    """Filter a queryset of tasks (or of records with a ``task``) to what ``user`` may do."""
    from chengzhen.ledger.models import Cooperation, Task

    action = Action(action)
    grants = grants_for(user)
    if is_admin(grants):
        return qs
    prefix = "" if qs.model is Task else "task__"
    outer = "pk" if qs.model is Task else "task_id"
    condition = Q(pk__in=[])
    for g in grants:
        reach = task_reach(g, action)
        if reach is None:
            continue
        in_reach = Q(**{f"{prefix}lead_unit__path__startswith": g.unit_path})
        if reach == "any":
            in_reach |= Exists(
                Cooperation.objects.filter(task_id=OuterRef(outer), unit__path__startswith=g.unit_path)
            )
        if g.programme_ids:
            in_reach &= Q(**{f"{prefix}programme_id__in": sorted(g.programme_ids)})
        condition |= in_reach
    return qs.filter(condition)
