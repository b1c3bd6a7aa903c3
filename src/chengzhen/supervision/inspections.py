"""Inspections (督查调研), rectification (督查整改) and accountability records (问责与表扬).

* An inspection is an unannounced visit by the supervisors (明察暗访) or an investigation by
  people's congress deputies (人大代表调研) or CPPCC members (政协委员调研): its date, place,
  who took part, what was found, photos, and the units and tasks it concerns.
* A rectification (整改要求) is what an inspection requires of one unit by a deadline. It is
  tracked as a ledger task of the inspection's programme (category 督查整改, led by the unit,
  code ``ZG-<year>-<nnn>``), so it reports, lights, reminds and escalates by the programme's
  rule set like any task, and it is closed when that task is completed or closed
  (已完成/已销号).
* An accountability record (表扬, 通报批评, 约谈, 调整) is addressed to a unit (or a person in it)
  with what brought it: the lights of some tasks as they were at the time, a letter or
  interview (督办函/约谈), an inspection or a bulletin. The assessment room reads them through
  ``accountability_for``.
* The deputies and the members investigate in alternate months (分单、双月份组织,
  ``CHENGZHEN_INVESTIGATION_MONTHS``): ``rota`` says whose month it is and ``off_rota`` flags an
  investigation outside its body's months — a warning, never a refusal.

One function per action, as in ``ledger.services``: the acting user first, the permission
asked through ``org.permissions.require`` inside one transaction with the writes, bad input
refused as a whole with ``Refused`` (each ``Problem`` naming its Chinese column).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from chengzhen.audit.context import acting_for
from chengzhen.ledger.choices import FINISHED_STATUSES, TaskStatus
from chengzhen.ledger.models import Task
from chengzhen.ledger.services import validate_task
from chengzhen.org.access import may_require_rectification
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, can, grants_for, require
from chengzhen.problems import Problem, Refused
from chengzhen.programmes.models import Programme

from .models import (
    Accountability,
    AccountabilityKind,
    Bulletin,
    Escalation,
    Inspection,
    InspectionKind,
    InspectionLink,
    InspectionPhoto,
    Light,
    Rectification,
)

PHOTOS = "inspections"  # under MEDIA_ROOT: inspections/YYYY/<uuid>.<ext>
RECTIFICATION_CATEGORY = "督查整改"
RECTIFICATION_PREFIX = "ZG"
NAME_LENGTH = Task._meta.get_field("name").max_length  # 300
INVESTIGATIONS = (InspectionKind.NPC, InspectionKind.CPPCC)


class RectificationState(models.TextChoices):
    """Where a rectification stands, from its task's status and its deadline (computed)."""

    OPEN = "open", gettext_lazy("整改中")
    OVERDUE = "overdue", gettext_lazy("已逾期")
    DONE = "done", gettext_lazy("已完成")


# -- checking input -----------------------------------------------------------------------------
def _text(problems: list[Problem], value, column: str, *, max_length: int | None = None,
          required: bool = True) -> str:
    """``value`` as stripped text, noting a problem when it is missing, too long or holds a NUL
    (which no database stores)."""
    text = "" if value is None else str(value).strip()
    if "\x00" in text:
        problems.append(Problem(column=column, reason=_("含有不可用的字符（NUL）")))
        return ""
    if required and not text:
        problems.append(Problem(column=column, reason=_("不能为空")))
    elif max_length is not None and len(text) > max_length:
        problems.append(Problem(column=column, reason=_("不能超过 %(n)s 个字（现有 %(len)s 个）") % {
            "n": max_length, "len": len(text)}))
    return text


def _date(problems: list[Problem], value, column: str) -> dt.date | None:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        problems.append(Problem(column=column, reason=_("不能为空") if value in (None, "") else _(
            "%(value)r 不是日期（应写作 2026-06-30）") % {"value": value}))
        return None
    return value


def _not_after_today(problems: list[Problem], day: dt.date | None, column: str) -> None:
    if day is not None and day > timezone.localdate():
        problems.append(Problem(column=column, reason=_("%(day)s 晚于今天") % {"day": day}))


def _task_units(task: Task) -> set[int]:
    return {task.lead_unit_id, *task.cooperations.values_list("unit_id", flat=True)}


def _check_task(problems: list[Problem], user, task: Task, programme: Programme, column: str,
                unit: Unit | None = None) -> bool:
    """A task named in an input: in ``programme``, readable by ``user`` and, when ``unit`` is
    given, led or cooperated on by it. False (with a problem noted) when not."""
    if task.programme_id != programme.pk or not can(user, Action.READ, task):
        problems.append(Problem(column=column, reason=_("任务 %(code)s 不在工作计划“%(programme)s”中") % {
            "code": task.code, "programme": programme.name}))
        return False
    if unit is not None and unit.pk not in _task_units(task):
        problems.append(Problem(column=column, reason=_(
            "%(unit)s 不是任务 %(code)s 的牵头单位或配合单位") % {"unit": unit.name, "code": task.code}))
        return False
    return True


# -- the investigation months -------------------------------------------------------------------
def _parity(month: int) -> str:
    return "odd" if month % 2 else "even"


def rota(month: int) -> str:
    """Which body investigates in ``month`` (1–12): ``"npc"`` (人大代表) or ``"cppcc"``
    (政协委员), by ``CHENGZHEN_INVESTIGATION_MONTHS``; "" when the setting names neither."""
    if not 1 <= int(month) <= 12:
        raise ValueError(f"month {month!r} is not 1–12")
    for kind, months in settings.CHENGZHEN_INVESTIGATION_MONTHS.items():
        if months == _parity(int(month)):
            return kind
    return ""


def off_rota(inspection: Inspection) -> bool:
    """True when an investigation by deputies or members (人大/政协调研) is held outside its
    body's months; unannounced visits (明察暗访) have no rota. Shown as a warning only."""
    if inspection.kind not in INVESTIGATIONS or inspection.held_on is None:
        return False
    months = settings.CHENGZHEN_INVESTIGATION_MONTHS.get(inspection.kind)
    return bool(months) and months != _parity(inspection.held_on.month)


# -- inspections ---------------------------------------------------------------------------------
def record_inspection(user, programme: Programme, *, kind: str, held_on: dt.date, place: str,
                      inspectors: str, findings: str,
                      links: Iterable[tuple[Unit | None, Task | None]] = ()) -> Inspection:
    """Record an inspection (记录明察暗访/调研) of ``programme`` with the units and tasks it
    concerns (涉及单位、任务).

    Supervisors record any kind; inspectors the investigations of deputies and members only
    (``org.access.INSPECTION_RECORDERS``). Each link is ``(unit, task)``: a task must be in the
    programme and readable by the recorder, and the unit its lead or a cooperating unit; a
    task without a unit is linked with its lead unit; a unit alone needs no task. The date
    may not be after today; a date outside the body's months is only flagged (``off_rota``).
    """
    with acting_for(user, "record_inspection"), transaction.atomic():
        if kind not in InspectionKind.values:  # the permission depends on the kind
            raise Refused([Problem(column=gettext_noop("类型"), reason=_(
                "未知类型 %(kind)r（应为 unannounced、npc 或 cppcc）") % {"kind": kind})])
        require(user, Action.EDIT, Inspection(programme=programme, kind=kind))
        problems: list[Problem] = []
        held_on = _date(problems, held_on, gettext_noop("日期"))
        _not_after_today(problems, held_on, gettext_noop("日期"))
        place = _text(problems, place, gettext_noop("地点"), max_length=200)
        inspectors = _text(problems, inspectors, gettext_noop("参加人员"), max_length=300)
        findings = _text(problems, findings, gettext_noop("发现问题"))
        pairs: list[tuple[int, int | None]] = []
        for unit, task in links:
            if task is None and unit is None:
                continue
            if task is not None and not _check_task(problems, user, task, programme,
                                                    gettext_noop("涉及任务"), unit):
                continue
            pair = ((unit.pk if unit is not None else task.lead_unit_id),
                    task.pk if task is not None else None)
            if pair not in pairs:
                pairs.append(pair)
        if problems:
            raise Refused(problems)
        inspection = Inspection.objects.create(
            kind=kind, programme=programme, held_on=held_on, place=place, inspectors=inspectors,
            findings=findings, recorded_by=user if user and user.pk else None,
            recorded_at=timezone.now())
        for unit_id, task_id in pairs:
            InspectionLink.objects.create(inspection=inspection, unit_id=unit_id, task_id=task_id)
    return inspection


def photo_path(stored_name: str) -> Path:
    """Where an inspection photo lives under the data folder."""
    return Path(settings.MEDIA_ROOT) / PHOTOS / stored_name


def attach_photo(user, inspection: Inspection, data: bytes, name: str) -> InspectionPhoto:
    """Attach a photo (现场照片) to an inspection: the right to record that inspection.

    Checked by content like evidence (``ledger.evidence.check``: JPEG, PNG or WebP only here),
    re-encoded without its metadata (its capture time and place kept in the row), stored as
    ``inspections/YYYY/<uuid>.<ext>`` under ``MEDIA_ROOT``. The file is removed again when the
    row cannot be written; a caller whose own transaction rolls back afterwards removes the
    files of the photos it got back (``photo_path``).
    """
    from chengzhen.ledger import evidence

    with acting_for(user, "attach_photo"), transaction.atomic():
        inspection = Inspection.objects.get(pk=inspection.pk)
        require(user, Action.EDIT, inspection)
        column = gettext_noop("现场照片")
        try:
            checked = evidence.check(data, name, settings.CHENGZHEN_MAX_EVIDENCE_BYTES)
        except evidence.EvidenceRefused as exc:
            raise Refused([Problem(file=name, column=column, reason=str(exc))]) from None
        if not checked.content_type.startswith("image/"):
            raise Refused([Problem(file=name, column=column, reason=_(
                "%(name)s：只接受照片（JPEG、PNG、WebP）") % {"name": name})])
        now = timezone.now()
        stored = f"{timezone.localtime(now):%Y}/{uuid.uuid4().hex}.{checked.extension}"
        path = photo_path(stored)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(checked.data)
        try:
            return InspectionPhoto.objects.create(
                inspection=inspection, stored_name=stored, original_name=(name or "")[:255],
                content_type=checked.content_type, size=len(checked.data), sha256=checked.sha256,
                taken_at=timezone.make_aware(checked.taken_at) if checked.taken_at else None,
                longitude=checked.longitude, latitude=checked.latitude,
                uploaded_by=user if user and user.pk else None, uploaded_at=now)
        except Exception:
            path.unlink(missing_ok=True)
            raise


# -- rectification -------------------------------------------------------------------------------
_CODE = re.compile(r"^ZG-(\d{4})-(\d+)$")


def _next_code(programme: Programme, year: int) -> str:
    """The next free ``ZG-<year>-<nnn>`` of the programme (the programme's row is locked by
    the caller, so two rectifications never take one number)."""
    prefix = f"{RECTIFICATION_PREFIX}-{year}-"
    taken = Task.objects.filter(programme=programme, code__startswith=prefix).values_list(
        "code", flat=True)
    numbers = [int(m[2]) for m in map(_CODE.match, taken) if m and int(m[1]) == year]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def rectification_name(requirement: str) -> str:
    """The tracking task's name: 整改： and the requirement's first line, at most 300 chars."""
    first = next((line.strip() for line in requirement.splitlines() if line.strip()), "")
    name = "整改：" + first
    return name if len(name) <= NAME_LENGTH else name[:NAME_LENGTH - 1] + "…"


def add_rectification(user, inspection: Inspection, *, unit: Unit, requirement: str,
                      deadline: dt.date, source_task: Task | None = None) -> Rectification:
    """Set a rectification requirement (下达整改要求) for ``unit`` from ``inspection``.

    The permission is the right to record that inspection (``may_on_inspection(EDIT, kind)``):
    an inspector may set rectification requirements for their own investigations (人大/政协
    调研) although they cannot edit ledger tasks otherwise. With it, the ledger task that tracks
    the rectification is created in the same transaction (``Task.objects.create``, audited like
    any task): in the inspection's programme, code ``ZG-<year of the inspection>-<nnn>`` (the
    next free one), name 整改： and the requirement's first line, category 督查整改, led by
    ``unit``, from the inspection's date to ``deadline``, 推进中. From then on the unit reports on
    it and it lights, reminds and escalates like any task (``supervision.signals`` recomputes its
    light once the transaction commits). ``deadline`` (整改时限) may not be before the
    inspection; ``source_task`` (所涉任务), when given, must be a task of the programme that
    ``unit`` leads or cooperates on.
    """
    with acting_for(user, "add_rectification"), transaction.atomic():
        inspection = Inspection.objects.select_related("programme").get(pk=inspection.pk)
        require(user, Action.EDIT, inspection)
        programme = inspection.programme
        problems: list[Problem] = []
        if unit is None:
            problems.append(Problem(column=gettext_noop("整改单位"), reason=_("不能为空")))
        requirement = _text(problems, requirement, gettext_noop("整改要求"))
        deadline = _date(problems, deadline, gettext_noop("整改时限"))
        if deadline is not None and deadline < inspection.held_on:
            problems.append(Problem(column=gettext_noop("整改时限"), reason=_(
                "整改时限 %(deadline)s 早于督查日期 %(held_on)s") % {
                "deadline": deadline, "held_on": inspection.held_on}))
        if source_task is not None:
            _check_task(problems, user, source_task, programme, gettext_noop("所涉任务"), unit)
        if problems:
            raise Refused(problems)
        if not may_require_rectification(grants_for(user), programme.pk, inspection.kind, unit.path):
            raise PermissionDenied(_("%(who)s 无权对 %(unit)s 下达整改要求") % {
                "who": getattr(user, "username", ""), "unit": unit})
        # serialise the numbering in the programme ("no key": rows naming it need not wait)
        Programme.objects.select_for_update(of=("self",), no_key=True).get(pk=programme.pk)
        fields = {
            "programme": programme, "code": _next_code(programme, inspection.held_on.year),
            "name": rectification_name(requirement), "category": RECTIFICATION_CATEGORY,
            "requirement": requirement, "lead_unit": unit, "start_date": inspection.held_on,
            "due_date": deadline, "status": TaskStatus.IN_PROGRESS,
        }
        found = validate_task(Task(**fields))
        if found:  # pragma: no cover - the fields above are checked already
            raise Refused(found)
        task = Task.objects.create(**fields)
        return Rectification.objects.create(
            inspection=inspection, unit=unit, requirement=requirement, deadline=deadline,
            task=task, source_task=source_task)


def rectification_state(r: Rectification, today: dt.date | None = None) -> RectificationState:
    """整改中, 已逾期 (past its deadline, task not finished) or 已完成 (its task is 已完成 or
    已销号). The value is a code (open, overdue, done); its label the Chinese name."""
    if r.task.status in FINISHED_STATUSES:
        return RectificationState.DONE
    if r.deadline < (today or timezone.localdate()):
        return RectificationState.OVERDUE
    return RectificationState.OPEN


def state_condition(state: str, today: dt.date | None = None, prefix: str = "") -> Q:
    """The rectifications in ``state``, as a filter (``prefix`` names them from a related
    model)."""
    today = today or timezone.localdate()
    done = Q(**{f"{prefix}task__status__in": list(FINISHED_STATUSES)})
    if state == RectificationState.DONE:
        return done
    late = Q(**{f"{prefix}deadline__lt": today})
    return ~done & (late if state == RectificationState.OVERDUE else ~late)


# -- accountability ------------------------------------------------------------------------------
def light_snapshot(tasks: Iterable[Task]) -> list[dict]:
    """Each task's light as it is now: ``[{task, code, level, name}]`` (level and name "" for
    a task not yet lit)."""
    tasks = list(tasks)
    lights = {li.task_id: li for li in Light.objects.filter(task__in=[t.pk for t in tasks])}
    out = []
    for t in tasks:
        light = lights.get(t.pk)
        out.append({"task": t.pk, "code": t.code, "level": light.level if light else "",
                    "name": light.name if light else ""})
    return out


def record_accountability(user, *, kind: str, programme: Programme, unit: Unit, person: str = "",
                          on: dt.date, reason: str, tasks: Iterable[Task] = (),
                          escalation: Escalation | None = None,
                          inspection: Inspection | None = None,
                          bulletin: Bulletin | None = None) -> Accountability:
    """Record a commendation or an accountability action (表扬, 通报批评, 约谈, 调整) of ``unit``
    (or ``person`` in it) in ``programme``.

    A record addressed to a unit, like a letter: recorded by supervisors and administrators
    covering the unit and the programme, read by anyone whose grant covers them. What brought
    it: ``tasks`` whose current lights are kept as they are now (``lights``; each task in the
    programme, led or cooperated on by the unit), a letter or interview of that unit and
    programme, an inspection of the programme the recorder may read, or an issued bulletin of
    the programme. The date may not be after today.
    """
    with acting_for(user, "record_accountability"), transaction.atomic():
        problems: list[Problem] = []
        if programme is None or unit is None:  # the permission depends on both
            for value, column in ((programme, gettext_noop("工作计划")), (unit, gettext_noop("单位"))):
                if value is None:
                    problems.append(Problem(column=column, reason=_("不能为空")))
            raise Refused(problems)
        require(user, Action.EDIT, Accountability(programme=programme, unit=unit))
        if kind not in AccountabilityKind.values:
            problems.append(Problem(column=gettext_noop("类型"), reason=_(
                "未知类型 %(kind)r（应为 commend、criticise、interview 或 adjust）") % {"kind": kind}))
        person = _text(problems, person, gettext_noop("人员"), max_length=50, required=False)
        on = _date(problems, on, gettext_noop("日期"))
        _not_after_today(problems, on, gettext_noop("日期"))
        reason = _text(problems, reason, gettext_noop("事由"))
        chosen = []
        for task in dict.fromkeys(tasks):
            if _check_task(problems, user, task, programme, gettext_noop("所涉任务"), unit):
                chosen.append(task)
        if escalation is not None and (escalation.programme_id != programme.pk
                                       or escalation.unit_id != unit.pk):
            problems.append(Problem(column=gettext_noop("督办函/约谈"), reason=_(
                "%(esc)s 不是 %(unit)s 在该计划中的督办函或约谈") % {"esc": escalation, "unit": unit.name}))
        if inspection is not None and (inspection.programme_id != programme.pk
                                       or not can(user, Action.READ, inspection)):
            problems.append(Problem(column=gettext_noop("督查调研"), reason=_(
                "%(inspection)s 不是该计划的督查调研") % {"inspection": inspection}))
        if bulletin is not None and (bulletin.programme_id != programme.pk
                                     or bulletin.status != "issued"):
            problems.append(Problem(column=gettext_noop("工作通报"), reason=_(
                "通报 %(bulletin)s 不是该计划已签发的通报") % {"bulletin": bulletin}))
        if problems:
            raise Refused(problems)
        return Accountability.objects.create(
            kind=kind, programme=programme, unit=unit, person=person, on=on, reason=reason,
            lights=light_snapshot(chosen), escalation=escalation, inspection=inspection,
            bulletin=bulletin, recorded_by=user if user and user.pk else None,
            recorded_at=timezone.now())


def accountability_for(programme: Programme, unit: Unit | None = None,
                       year: int | None = None) -> QuerySet[Accountability]:
    """The assessment room's entry point: the accountability records (问责与表扬) of
    ``programme``, of one ``unit`` (that unit itself, not its subtree) and of one ``year`` (by
    their date) when given, oldest first. Not narrowed by permission: the assessment is
    computed for every unit; pages and the API narrow with ``restrict``."""
    qs = Accountability.objects.filter(programme=programme).select_related("unit")
    if unit is not None:
        qs = qs.filter(unit=unit)
    if year is not None:
        qs = qs.filter(on__year=year)
    return qs.order_by("on", "pk")
