"""The permission function: the one place every path (command, import, admin, page, API) asks.

``can(user, action, obj)`` answers for one object, ``restrict(queryset, user, action)`` filters
a list in the database by the same rules, and ``require`` raises with a message people read.
The rules themselves are in ``access.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .access import (
    ADMIN,
    BULLETIN_DRAFT_READERS,
    INSPECTION_READERS,
    INSPECTION_RECORDERS,
    PROGRAMME_RULES,
    SUBJECT_RECORD_RULES,
    SUPERVISOR,
    UNIT_EDITOR,
    UNIT_RECORD_RULES,
    VALUE_RULES,
    Action,
    Grant,
    TaskScope,
    is_admin,
    may_on_bulletin,
    may_on_directory,
    may_on_inspection,
    may_on_programme,
    may_on_rules,
    may_on_some_programme,
    may_on_some_task,
    may_on_subject_record,
    may_on_task,
    may_on_unit_record,
    may_on_value,
    may_read_directory,
    task_reach,
)
from .models import Division, Membership, Unit, User

ACTION_NAMES = {  # what a refusal calls each action
    Action.READ: pgettext_lazy("permission", "查看"), Action.EDIT: pgettext_lazy("permission", "修改"),
    Action.REPORT: pgettext_lazy("permission", "报送"), Action.IMPORT: pgettext_lazy("permission", "导入"),
    Action.EXPORT: pgettext_lazy("permission", "导出"),
    Action.INSPECT: pgettext_lazy("permission", "调研记录"),
}

__all__ = ["Action", "can", "directory_people", "grants_for", "record_kind", "require",
           "restrict", "task_scope"]


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


TASK_RECORDS = frozenset({"task", "cooperation", "timenode", "annualplan", "progressreport",
                          "evidence"})
PROGRAMME_RECORDS = frozenset({"programme", "phase", "target"})
# supervision: computed records of a task; records addressed to a unit; rule data
SUPERVISION_TASK_RECORDS = frozenset({"light", "lightchange", "deductioncandidate",
                                      "rectification"})
UNIT_RECORDS = frozenset({"escalation", "accountability"})
RULE_RECORDS = frozenset({"ruleset", "rulesetversion", "calendarday"})
# assessment: frameworks and profiles are criteria (read by every role, changed by supervisors);
# trial scorings are the supervisors' own work
ASSESSMENT_RULE_RECORDS = frozenset({"framework", "frameworkversion", "subjectprofile", "weightset",
                                     "designationrule", "fundpool",
                                     # joint campaigns: read by every role, decided by supervisors
                                     "campaign", "measurematch", "jointplan", "mergedindicator",
                                     "campaignindicatortask"})
ASSESSMENT_SCORING_RECORDS = frozenset({"scoring", "subjectscore", "indicatorscore"})
ASSESSMENT_ROUND_RECORDS = frozenset({"round", "roundsubject"})
ASSESSMENT_VALUE_RECORDS = frozenset({"value", "valueevidence"})
# records about one subject: its titles (称号) and their changes, its share of a fund
ASSESSMENT_SUBJECT_RECORDS = frozenset({"designation", "designationevent", "fundallocation"})
# records about one subject unit: the rules by kind, and the unit's field where it is not the record's own
SUBJECT_KIND_RULES = {"value": VALUE_RULES, "subject": SUBJECT_RECORD_RULES}
SUBJECT_FIELDS = {"valueevidence": "value__subject_id", "designationevent": "designation__unit_id"}
SUPERVISION_PROGRAMME_RECORDS = frozenset({"bulletinsetting"})
INSPECTION_RECORDS = frozenset({"inspection", "inspectionlink", "inspectionphoto"})
# Life-circle studies (生活圈研究): read by anyone whose grant covers the study's area (its area
# unit lies in the grant's subtree) and, once published, by anyone holding a role; created, run
# and published by supervisors and administrators (every study) and by unit editors for an area
# within their own unit's subtree. Coverage submitted from a study is checked per value as usual.
STUDY_EVERYWHERE = frozenset({ADMIN, SUPERVISOR})
STUDY_RUNNERS = frozenset({UNIT_EDITOR})  # within their subtree


def _task_of(obj):
    """The task a task record belongs to (a time node's, a report's, an evidence file's)."""
    from chengzhen.ledger.models import Task

    if isinstance(obj, Task):
        return obj
    if hasattr(obj, "task_id"):
        return obj.task
    report = getattr(obj, "report", None)  # evidence (佐证材料) belongs to a report
    return getattr(report, "task", None)


def record_kind(model) -> str:
    """"task" for records owned by a task, "programme" for programme records, "unit" for
    records addressed to a unit in a programme, "rules" for light rules, the calendar and
    indicator frameworks and rounds, "scoring" for trial scorings, "value" for a round's values
    and their evidence, "subject" for a subject's titles and fund shares, "bulletin" for bulletins,
    "inspection" for inspections and their links and photos, "study" for life-circle studies,
    else ""."""
    name = model._meta.model_name
    if model._meta.app_label == "ledger" and name in TASK_RECORDS:
        return "task"
    if model._meta.app_label == "programmes" and name in PROGRAMME_RECORDS:
        return "programme"
    if model._meta.app_label == "supervision":
        if name in SUPERVISION_TASK_RECORDS:
            return "task"
        if name in UNIT_RECORDS:
            return "unit"
        if name in RULE_RECORDS:
            return "rules"
        if name in SUPERVISION_PROGRAMME_RECORDS:
            return "programme"
        if name == "bulletin":
            return "bulletin"
        if name in INSPECTION_RECORDS:
            return "inspection"
    if model._meta.app_label == "assessment":
        if name in ASSESSMENT_RULE_RECORDS:
            return "rules"
        if name in ASSESSMENT_SCORING_RECORDS:
            return "scoring"
        if name in ASSESSMENT_ROUND_RECORDS:
            return "rules"  # a round is read by every role and set up by supervisors
        if name in ASSESSMENT_VALUE_RECORDS:
            return "value"
        if name in ASSESSMENT_SUBJECT_RECORDS:
            return "subject"
    if model._meta.app_label == "lifecircle" and name == "study":
        return "study"
    return ""


def _subject_unit(obj) -> Unit:
    """The unit a subject record is about (a designation's, its event's, a fund share's)."""
    designation = getattr(obj, "designation", None)
    return designation.unit if designation is not None else obj.unit


def can(user, action: Action | str, obj, *, unit: Unit | None = None) -> bool:
    """May ``user`` do ``action`` on ``obj``?

    ``obj`` is a task or a record of a task (time node, report, cooperation, annual plan,
    evidence), a programme or one of its records (phase, target), a unit, or any other record
    (administrators only). For REPORT, ``unit`` is the unit the report is made for.
    ``obj`` may also be a model class: may the user do ``action`` on at least some record of
    that kind (for an "add" button or a menu entry)?
    """
    from chengzhen.programmes.models import Programme

    action = Action(action)
    grants = grants_for(user)
    if not grants:
        return False
    if isinstance(obj, type):
        kind = record_kind(obj)
        if kind == "task":
            return may_on_some_task(grants, action)
        if kind == "programme":
            return may_on_some_programme(grants, action)
        if kind == "unit":
            return is_admin(grants) or any(
                action in UNIT_RECORD_RULES.get(g.role, frozenset()) for g in grants)
        if kind == "rules":
            return may_on_rules(grants, action)
        if kind == "scoring":
            return may_on_rules(grants, Action.EDIT)
        if kind in SUBJECT_KIND_RULES:
            rules = SUBJECT_KIND_RULES[kind]
            return is_admin(grants) or any(action in rules.get(g.role, frozenset()) for g in grants)
        if kind == "bulletin":
            return is_admin(grants) or any(
                g.role == SUPERVISOR if action == Action.EDIT else action == Action.READ
                for g in grants)
        if kind == "inspection":
            return is_admin(grants) or any(
                g.role in (INSPECTION_RECORDERS if action == Action.EDIT else INSPECTION_READERS)
                for g in grants)
        if kind == "study":
            return action in (Action.READ, Action.EDIT) and any(
                g.role in STUDY_EVERYWHERE or action == Action.READ or g.role in STUDY_RUNNERS for g in grants)
        if obj in (Unit, Division):
            return may_on_directory(grants, action)
        return is_admin(grants)
    kind = record_kind(type(obj))
    if kind == "task":
        task = _task_of(obj)
        if task is None:  # pragma: no cover - every task record has a task
            return is_admin(grants)
        return may_on_task(grants, action, task_scope(task), unit.path if unit else None)
    if kind == "programme":
        programme = obj if isinstance(obj, Programme) else obj.programme
        return may_on_programme(grants, action, programme.pk)
    if kind == "unit":
        return may_on_unit_record(grants, action, obj.programme_id, obj.unit.path)
    if kind == "rules":
        return may_on_rules(grants, action)
    if kind == "scoring":
        return may_on_rules(grants, Action.EDIT)
    if kind == "value":
        value = getattr(obj, "value", None) or obj  # evidence belongs to a value
        return may_on_value(grants, action, value.subject.path)
    if kind == "subject":
        return may_on_subject_record(grants, action, _subject_unit(obj).path)
    if kind == "bulletin":
        return may_on_bulletin(grants, action, obj.programme_id, obj.status == "issued")
    if kind == "inspection":
        inspection = getattr(obj, "inspection", obj)
        return may_on_inspection(grants, action, inspection.programme_id,
                                 inspection.kind if action == Action.EDIT else None)
    if kind == "study":
        return _may_on_study(grants, action, obj.area_unit.path, obj.published)
    if isinstance(obj, (Unit, Division)):
        return may_on_directory(grants, action)
    return is_admin(grants)


def _may_on_study(grants: list[Grant], action: Action, area_path: str, published: bool) -> bool:
    """A life-circle study of the area at ``area_path`` (see STUDY_EVERYWHERE)."""
    if action not in (Action.READ, Action.EDIT):
        return False
    for g in grants:
        if g.role in STUDY_EVERYWHERE:
            return True
        if action == Action.READ and (published or g.covers_unit(area_path)):
            return True
        if action == Action.EDIT and g.role in STUDY_RUNNERS and g.covers_unit(area_path):
            return True
    return False


def require(user, action: Action | str, obj, *, unit: Unit | None = None) -> None:
    """Raise ``PermissionDenied`` naming the person, the action and the object."""
    if not can(user, action, obj, unit=unit):
        who = getattr(user, "username", None) or "匿名用户"
        raise PermissionDenied(_("%(who)s 无权对 %(obj)s 执行 %(action)s") % {
            "who": who, "obj": obj, "action": ACTION_NAMES.get(Action(action), action)})


def restrict(qs: QuerySet, user, action: Action | str = Action.READ) -> QuerySet:
    """Filter a queryset to the records ``user`` may do ``action`` on — the same rules as
    ``can``, in the database.

    Task records (tasks, time nodes, reports, cooperations, annual plans, evidence) by their
    task's units and programme; programme records (programmes, phases, targets) by programme;
    divisions and units (the directory) for anyone holding a role; life-circle studies by their
    area and publication; anything else is all or nothing (administrators only).
    """
    from chengzhen.ledger.models import Evidence, Task
    from chengzhen.programmes.models import Programme

    action = Action(action)
    grants = grants_for(user)
    if is_admin(grants):
        return qs
    kind = record_kind(qs.model)
    if kind == "task":
        if qs.model is Task:
            prefix, outer = "", "pk"
        elif qs.model is Evidence:
            prefix, outer = "report__task__", "report__task_id"
        else:
            prefix, outer = "task__", "task_id"
        return qs.filter(_task_condition(grants, action, prefix, outer))
    if kind == "unit":
        condition = Q(pk__in=[])
        for g in grants:
            if action in UNIT_RECORD_RULES.get(g.role, frozenset()):
                in_reach = Q(unit_id__in=subtree_units(g.unit_path))
                if g.programme_ids:
                    in_reach &= Q(programme_id__in=sorted(g.programme_ids))
                condition |= in_reach
        return qs.filter(condition)
    if kind == "rules":
        return qs if may_on_rules(grants, action) else qs.none()
    if kind == "scoring":
        return qs if may_on_rules(grants, Action.EDIT) else qs.none()
    if kind in SUBJECT_KIND_RULES:
        field = SUBJECT_FIELDS.get(qs.model._meta.model_name, "subject_id" if kind == "value" else "unit_id")
        condition = Q(pk__in=[])
        for g in grants:
            if action in SUBJECT_KIND_RULES[kind].get(g.role, frozenset()):
                condition |= Q(**{f"{field}__in": subtree_units(g.unit_path)})
        return qs.filter(condition)
    if kind in ("bulletin", "inspection"):
        return qs.filter(_programme_record_condition(grants, action, kind, qs.model))
    if kind == "study":
        if any(g.role in STUDY_EVERYWHERE for g in grants):
            return qs
        condition = Q(published=True) if action == Action.READ and grants else Q(pk__in=[])
        for g in grants:
            if action == Action.READ or (action == Action.EDIT and g.role in STUDY_RUNNERS):
                condition |= Q(area_unit_id__in=subtree_units(g.unit_path))
        return qs.filter(condition)
    if kind == "programme":
        field = "pk" if qs.model is Programme else "programme_id"
        condition = Q(pk__in=[])
        for g in grants:
            if action in PROGRAMME_RULES.get(g.role, frozenset()):
                if not g.programme_ids:
                    return qs
                condition |= Q(**{f"{field}__in": sorted(g.programme_ids)})
        return qs.filter(condition)
    if qs.model in (Unit, Division):
        return qs if may_on_directory(grants, action) else qs.none()
    return qs.none()


def _programme_record_condition(grants: list[Grant], action: Action, kind: str, model) -> Q:
    """Bulletins and inspections a person may ``action``, by programme (and, for bulletins
    read by others than supervisors and leaders, only the issued ones)."""
    prefix = "inspection__" if model._meta.model_name != "inspection" and kind == "inspection" else ""
    condition = Q(pk__in=[])
    every = Q(pk__isnull=False)  # not Q(): an empty Q drops out of an OR
    for g in grants:
        if kind == "bulletin":
            if action == Action.READ:
                allowed = every if g.role in BULLETIN_DRAFT_READERS else Q(status="issued")
            elif action == Action.EDIT and g.role == SUPERVISOR:
                allowed = every
            else:
                continue
        else:
            roles = INSPECTION_RECORDERS if action == Action.EDIT else INSPECTION_READERS
            if g.role not in roles:
                continue
            allowed = every
            if action == Action.EDIT:
                allowed = Q(**{f"{prefix}kind__in": sorted(INSPECTION_RECORDERS[g.role])})
        if g.programme_ids:
            allowed &= Q(**{f"{prefix}programme_id__in": sorted(g.programme_ids)})
        condition |= allowed
    return condition


def directory_people(user) -> QuerySet[User]:
    """The people in the directory (人员名录) ``user`` may look up: active people, for anyone
    holding a role. Only their name and unit are for colleagues (see the API serializer)."""
    if not may_read_directory(grants_for(user)):
        return User.objects.none()
    return User.objects.filter(is_active=True)


def subtree_units(*paths: str) -> QuerySet[Unit]:
    """The ids of the units in the subtrees under ``paths``, as a subquery."""
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
    return Unit.objects.filter(condition).values("pk")


def task_in_subtree(*paths: str, cooperating: bool = True, prefix: str = "",
                    outer: str = "pk") -> Q:
    """Tasks led by a unit under ``paths`` (or, with ``cooperating``, on which one
    cooperates). ``prefix``/``outer`` name the task from a related model (``task__`` and
    ``task_id`` for a time node). "IN (subquery)" rather than a join or a correlated EXISTS:
    the database works the subtree's units and cooperations out once, not once per task."""
    from chengzhen.ledger.models import Cooperation

    units = subtree_units(*paths)
    condition = Q(**{f"{prefix}lead_unit_id__in": units})
    if cooperating:
        condition |= Q(**{f"{outer}__in": Cooperation.objects.filter(
            unit_id__in=units).values("task_id")})
    return condition


def _task_condition(grants: list[Grant], action: Action, prefix: str, outer: str) -> Q:
    condition = Q(pk__in=[])
    for g in grants:
        reach = task_reach(g, action)
        if reach is None:
            continue
        in_reach = task_in_subtree(g.unit_path, cooperating=reach == "any", prefix=prefix,
                                   outer=outer)
        if g.programme_ids:
            in_reach &= Q(**{f"{prefix}programme_id__in": sorted(g.programme_ids)})
        condition |= in_reach
    return condition
