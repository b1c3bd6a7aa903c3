"""Assessment rounds (考核轮次): values submitted with evidence, verified by someone else, gathered
from the platform, scored, published and reported. One function per action: each checks the
permission and writes the change with its audit record in one transaction.

The value workflow: a subject's person submits (已报送/待核查) → a supervisor other than the
submitter verifies (核查): accepts (已核查) or returns it with a reason (已退回) → a returned value
is submitted again; changing an accepted value reopens it. Every change is in the audit trail,
which is the value's history. Verification names the version it read; a stale one is refused.
Only accepted values are scored; the rest score as missing, and the sentence says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from chengzhen.audit.chain import record_event
from chengzhen.audit.context import acting_for
from chengzhen.ledger.services import StaleEdit
from chengzhen.org.access import may_see_scorecard
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, can, grants_for, require
from chengzhen.problems import Problem, Refused

from . import services
from . import units as unit_table
from .engine import Values
from .framework import Framework, Node
from .measures import MEASURES
from .models import (
    FrameworkVersion,
    IndicatorScore,
    Round,
    RoundStatus,
    RoundSubject,
    ScoringKind,
    SubjectScore,
    Value,
    ValueEvidence,
    ValueSource,
    ValueStatus,
)

ROUND_CODE = re.compile(r"[0-9A-Za-z_-]{1,40}")  # what the page and API addresses take


def round_of(code: str) -> Round:
    r = Round.objects.select_related("framework_version__framework", "programme", "previous", "scoring").filter(
        code=code).first()
    if r is None:
        raise Refused([Problem(reason=_("没有考核轮次 %(code)s") % {"code": code})])
    return r


def framework(r: Round) -> Framework:
    return services.framework_of(r.framework_version)


def subjects_of(r: Round) -> list[Unit]:
    return [s.unit for s in RoundSubject.objects.filter(round=r).select_related("unit").order_by("unit__code")]


def create_round(user, *, code: str, name: str, framework_name: str, unit_codes: list[str], year: int,
                 period_from: dt.date, period_to: dt.date, submit_by: dt.date, verify_by: dt.date | None = None,
                 programme=None, previous: Round | None = None, public: bool = False, issuer: str = "",
                 requirements: str = "") -> Round:
    """Set up a round (supervisors and administrators)."""
    require(user, Action.EDIT, Round)
    version = services.resolve(framework_name)
    problems = []
    if not ROUND_CODE.fullmatch(code):
        problems.append(Problem(column="code", reason=_(
            "轮次代码只能由字母、数字、- 和 _ 组成，至多 40 个字符，如 ZDZ-2026-10")))
    elif Round.objects.filter(code=code).exists():
        problems.append(Problem(column="code", reason=_("轮次代码 %(code)s 已存在") % {"code": code}))
    if not name.strip():
        problems.append(Problem(column="name", reason=_("须填写轮次名称")))
    if period_from > period_to:
        problems.append(Problem(column="period", reason=_("考核期起日晚于止日")))
    if submit_by < period_from:
        problems.append(Problem(column="submit_by", reason=_("填报截止早于考核期起日")))
    if verify_by is not None and verify_by < submit_by:
        problems.append(Problem(column="verify_by", reason=_("核查截止早于填报截止")))
    units = {u.code: u for u in Unit.objects.filter(code__in=unit_codes)}
    missing = [c for c in unit_codes if c not in units]
    if missing:
        reason = _("没有代码为 %(codes)s 的单位") % {"codes": "、".join(missing)}
        problems.append(Problem(column="units", reason=reason))
    if not unit_codes:
        problems.append(Problem(column="units", reason=_("至少给出一个考核对象")))
    if problems:
        raise Refused(problems)
    with acting_for(user, "create_round"), transaction.atomic():
        r = Round.objects.create(code=code, name=name.strip(), framework_version=version, programme=programme,
                                 year=year, period_from=period_from, period_to=period_to, submit_by=submit_by,
                                 verify_by=verify_by, previous=previous, public=public, issuer=issuer,
                                 requirements=requirements)
        for c in dict.fromkeys(unit_codes):
            RoundSubject.objects.create(round=r, unit=units[c])
    return r


def visible_rounds(user):
    """Rounds a person sees: all for supervisors, leaders and administrators; a unit's people see
    the rounds their units are assessed in."""
    grants = grants_for(user)
    if not grants:
        return Round.objects.none()
    qs = Round.objects.select_related("framework_version__framework")
    if any(g.role in ("admin", "supervisor", "leader") for g in grants):
        return qs
    condition = Q(pk__in=[])
    for g in grants:
        condition |= Q(subjects__unit__path__startswith=g.unit_path)
    return qs.filter(condition).distinct()


# ---- values ------------------------------------------------------------------------------------

def leaf_input(fw: Framework, code: str, input_code: str) -> tuple[Node, object]:
    try:
        node = fw.node(code)
    except KeyError:
        raise Refused([Problem(column="node", reason=_("测评体系中没有指标 %(code)s") % {"code": code})]) from None
    if not node.is_leaf:
        raise Refused([Problem(column="node", reason=_("%(code)s 不是末级指标") % {"code": code})])
    for inp in node.inputs:
        if input_code in (inp.code, inp.label) or (input_code in ("", "value", "数值") and len(node.inputs) == 1):
            return node, inp
    raise Refused([Problem(column="input", reason=_("指标 %(code)s 没有取值项 %(input)s（可填：%(choices)s）") % {
        "code": code, "input": input_code, "choices": "、".join(i.code for i in node.inputs)})])


def _check_amount(fw: Framework, node: Node, inp, amount, unit: str) -> tuple[Decimal, str]:
    """The amount as a Decimal and its unit; refused when not a number, in a unit that does not
    convert, or (converted) outside the indicator's range — with the 10,000 hint when it has one."""
    try:
        value = Decimal(str(amount).strip())
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise Refused([Problem(column="amount", reason=_("%(value)r 不是数值") % {"value": amount})]) from None
    if abs(value) >= Decimal(10) ** 18:  # the column keeps 18 integer digits
        raise Refused([Problem(column="amount", reason=_("%(value)s：数值过大，无法保存（整数部分最多 18 位）") % {
            "value": amount})])
    unit = (unit or "").strip() or inp.unit
    try:
        std = unit_table.convert(value, unit, inp.unit) if inp.unit else value
    except unit_table.UnitError as exc:
        raise Refused([Problem(column="unit", reason=f"{fw.path_label(node.code)}：{exc}")]) from None
    if node.range is not None and inp.code in ("value", "count"):
        low, high = node.range
        if (low is not None and std < Decimal(str(low))) or (high is not None and std > Decimal(str(high))):
            hint = unit_table.suspicious_factor(float(std), inp.unit, low, high) if inp.unit else None
            reason = _("%(value)s 超出 %(path)s 的取值范围") % {"value": value, "path": fw.path_label(node.code)}
            raise Refused([Problem(column="amount", reason=reason + (f"；{hint}" if hint else ""))])
    if inp.code == "count" and std < 0:
        raise Refused([Problem(column="amount", reason=_("次数不能为负"))])
    return value, unit


def _subject_in_round(r: Round, unit: Unit) -> None:
    if not RoundSubject.objects.filter(round=r, unit=unit).exists():
        raise Refused([Problem(column="subject", reason=_("%(unit)s 不是本轮考核对象") % {"unit": unit})])


def _open(r: Round) -> None:
    if r.status != RoundStatus.COLLECTING:
        raise Refused([Problem(reason=_("考核轮次 %(code)s 已评分，数值不能再改") % {"code": r.code})])


def submit_value(user, r: Round, subject: Unit, node_code: str, input_code: str, amount, *, unit: str = "",
                 evidence: str = "", files: list[tuple[str, bytes]] = (), expected_version: int | None = None,
                 ) -> Value:
    """Submit (or resubmit, or change) a subject's value; changing an accepted value reopens it."""
    if not can(user, Action.REPORT, Value(subject=subject)):
        raise PermissionDenied(_("%(user)s 无权填报 %(unit)s 的考核数值") % {"user": user, "unit": subject})
    _open(r)
    _subject_in_round(r, subject)
    fw = framework(r)
    node, inp = leaf_input(fw, node_code, input_code)
    if node.measure:
        raise Refused([Problem(column="node", reason=_("%(path)s 由平台取数，不能手工填报") % {
            "path": fw.path_label(node.code)})])
    amount, unit = _check_amount(fw, node, inp, amount, unit)
    checked = _checked(files)
    now, written = timezone.now(), []
    try:
        with acting_for(user, "submit_value"), transaction.atomic():
            value = Value.objects.select_for_update().filter(round=r, subject=subject, node=node.code,
                                                             input=inp.code).first()
            if value is None:
                value = Value(round=r, subject=subject, node=node.code, input=inp.code)
            elif expected_version is not None and value.version != expected_version:
                raise StaleEdit(value, expected_version, value.version)
            value.amount, value.unit, value.evidence = amount, unit, evidence[:5000]
            value.status, value.source, value.derivation = ValueStatus.SUBMITTED, ValueSource.PERSON, ""
            value.submitted_by, value.submitted_at = user, now
            value.verified_by, value.verified_at, value.return_reason = None, None, ""
            value.save()
            for name, c in checked:
                _attach(user, value, name, c, now, written)
    except BaseException:
        for path in written:  # the rows rolled back; so do the files
            path.unlink(missing_ok=True)
        raise
    return value


def _checked(files) -> list[tuple[str, object]]:
    """Each evidence file after the ledger's content check (photos re-encoded without metadata);
    all are checked before any is stored, so a bad one leaves nothing behind."""
    from chengzhen.ledger import evidence

    checked, problems = [], []
    for name, data in files:
        try:
            checked.append((name, evidence.check(data, name, settings.CHENGZHEN_MAX_EVIDENCE_BYTES)))
        except evidence.EvidenceRefused as exc:
            problems.append(Problem(file=name, column=_("佐证材料"), reason=str(exc)))
    if problems:
        raise Refused(problems)
    return checked


def _attach(user, value: Value, name: str, checked, now, written: list[Path]) -> ValueEvidence:
    """Store one checked evidence file; its path goes on ``written`` so a failed transaction can
    remove what it wrote."""
    import uuid

    from chengzhen.ledger.services import evidence_path

    stored = f"{now:%Y}/{uuid.uuid4().hex}.{checked.extension}"
    path = evidence_path(stored)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(checked.data)
    written.append(path)
    return ValueEvidence.objects.create(value=value, stored_name=stored, name=Path(name).name[:200],
                                        content_type=checked.content_type, size=len(checked.data),
                                        sha256=checked.sha256, uploaded_by=user, uploaded_at=now)


def verify_value(user, value: Value, *, accept: bool, expected_version: int, reason: str = "") -> Value:
    """Accept or return a submitted value (核查); never the submitter's own; stale versions refused."""
    require(user, Action.EDIT, value)
    if not accept and not reason.strip():
        raise Refused([Problem(column="reason", reason=_("退回须写明原因"))])
    with acting_for(user, "verify_value"), transaction.atomic():
        current = Value.objects.select_for_update().select_related("round").get(pk=value.pk)
        if current.version != expected_version:
            raise StaleEdit(current, expected_version, current.version)
        _open(current.round)
        if current.submitted_by_id is not None and current.submitted_by_id == user.pk:
            raise Refused([Problem(reason=_("不能核查自己填报的数值，须由他人核查"))])
        if current.status != ValueStatus.SUBMITTED:
            raise Refused([Problem(reason=_("该数值当前为“%(status)s”，只有待核查的数值可以核查") % {
                "status": current.get_status_display()})])
        current.status = ValueStatus.ACCEPTED if accept else ValueStatus.RETURNED
        current.verified_by, current.verified_at = user, timezone.now()
        current.return_reason = "" if accept else reason.strip()[:2000]
        current.save()
        if accept:
            from .campaign_services import fan_out

            fan_out(current)  # the same merged indicator in every other campaign's open round
    return current


def values_for(user, r: Round, subject: Unit | None = None):
    from chengzhen.org.permissions import restrict

    qs = restrict(Value.objects.filter(round=r), user, Action.READ).select_related(
        "round", "subject", "submitted_by", "verified_by")
    if subject is not None:
        qs = qs.filter(subject=subject)
    return qs


@dataclass
class Event:
    """One step in a value's history (履历), read from the audit trail."""

    at: dt.datetime
    actor: str
    text: str


def _amount(after: dict) -> str:
    try:
        text = format(Decimal(after.get("amount") or "0").normalize(), "f")
    except InvalidOperation:
        text = str(after.get("amount"))
    return f"{text} {after.get('unit') or ''}".strip()


def _event_text(before: dict | None, after: dict | None) -> str:
    if after is None:
        return _("删除")
    status, was = after.get("status"), (before or {}).get("status")
    if before is None:
        if after.get("source") == ValueSource.PLATFORM:
            return _("平台取数 %(amount)s，待核查") % {"amount": _amount(after)}
        return _("报送 %(amount)s，待核查") % {"amount": _amount(after)}
    if status == ValueStatus.ACCEPTED and was == ValueStatus.SUBMITTED:
        return _("核查通过")
    if status == ValueStatus.RETURNED and was == ValueStatus.SUBMITTED:
        return _("退回：%(reason)s") % {"reason": after.get("return_reason", "")}
    if after.get("source") == ValueSource.PLATFORM:
        return _("平台取数更新为 %(amount)s，待核查") % {"amount": _amount(after)}
    if was == ValueStatus.ACCEPTED:
        return _("修改已核查的数值为 %(amount)s，重新待核查") % {"amount": _amount(after)}
    return _("重新报送 %(amount)s，待核查") % {"amount": _amount(after)}


def history(values: list[Value]) -> dict[int, list[Event]]:
    """Each value's history from the audit trail, oldest first: submissions, verifications,
    returns with their reasons, the platform's updates and the evidence files attached."""
    import json

    from chengzhen.audit.models import AuditRecord

    if not values:
        return {}
    out: dict[int, list[Event]] = {v.pk: [] for v in values}
    files = dict(ValueEvidence.objects.filter(value__in=values).values_list("pk", "value_id"))
    records = AuditRecord.objects.filter(
        Q(model="assessment.value", object_pk__in=[str(v.pk) for v in values])
        | Q(model="assessment.valueevidence", object_pk__in=[str(pk) for pk in files])).order_by("seq")
    for rec in records:
        body = json.loads(rec.content)
        before, after = body.get("before"), body.get("after")
        if rec.model == "assessment.valueevidence":
            if before is None and after is not None:
                out[files[int(rec.object_pk)]].append(
                    Event(rec.at, rec.actor_username, _("附佐证材料 %(name)s") % {"name": after.get("name", "")}))
            continue
        if before is not None and after is not None and before.get("status") == after.get("status") and (
                before.get("amount") == after.get("amount")):
            continue  # nothing a reader follows changed (a derivation or evidence text)
        out[int(rec.object_pk)].append(Event(rec.at, rec.actor_username, _event_text(before, after)))
    return out


@dataclass
class TodoRow:
    node: Node
    input_code: str
    input_label: str
    unit: str
    value: Value | None
    previous: Decimal | None

    @property
    def previous_text(self) -> str:
        return "" if self.previous is None else format(self.previous.normalize(), "f")


def todo(r: Round, subject: Unit) -> list[TodoRow]:
    """Every leaf input of the round for one subject, with its value (if any) and last round's."""
    fw = framework(r)
    mine = {}
    for v in Value.objects.filter(round=r, subject=subject).prefetch_related("files"):
        v.round = r  # read for the late mark without a query per row
        mine[(v.node, v.input)] = v
    before = {}
    if r.previous_id:
        before = {(v.node, v.input): v.amount for v in Value.objects.filter(
            round_id=r.previous_id, subject=subject, status=ValueStatus.ACCEPTED)}
    rows = []
    for node in fw.leaves():
        for inp in node.inputs:
            rows.append(TodoRow(node, inp.code, inp.label, inp.unit, mine.get((node.code, inp.code)),
                                before.get((node.code, inp.code))))
    return rows


def queue(user, r: Round):
    """The verifier's queue: submitted values of subjects in reach, not the person's own."""
    from chengzhen.org.permissions import restrict

    return (restrict(Value.objects.filter(round=r, status=ValueStatus.SUBMITTED), user, Action.EDIT)
            .exclude(submitted_by=user).select_related("round", "subject", "submitted_by").prefetch_related("files")
            .order_by("subject__code", "node", "input"))


def progress(r: Round) -> list[dict]:
    """Per subject: expected inputs, submitted (待核查), accepted, returned, missing, and late
    (逾期报送: given by a person after the deadline); ``overdue`` when the deadline has passed
    with values still missing or returned."""
    fw = framework(r)
    expected = sum(len(n.inputs) for n in fw.leaves())
    counts = defaultdict(Counter)
    late_after = Q(source=ValueSource.PERSON, submitted_at__gte=r.deadline_end())
    for subject_id, status, n, late in (Value.objects.filter(round=r).values_list("subject_id", "status")
                                        .annotate(n=Count("id"), late=Count("id", filter=late_after))):
        counts[subject_id][status] = n
        counts[subject_id]["late"] += late
    rows = []
    for unit in subjects_of(r):
        c = counts[unit.pk]
        given = c[ValueStatus.SUBMITTED] + c[ValueStatus.ACCEPTED] + c[ValueStatus.RETURNED]
        missing = max(0, expected - given)
        rows.append({"unit": unit, "expected": expected, "submitted": c[ValueStatus.SUBMITTED],
                     "accepted": c[ValueStatus.ACCEPTED], "returned": c[ValueStatus.RETURNED],
                     "missing": missing, "late": c["late"],
                     "overdue": r.overdue and bool(missing + c[ValueStatus.RETURNED])})
    return rows


# ---- values from the platform ------------------------------------------------------------------

def measure_values(r: Round, measure: str, units: list[Unit]) -> dict[int, tuple[Decimal | None, str]]:
    """A platform measure for each subject: (amount or None when it cannot be computed, derivation)."""
    from chengzhen.ledger.models import Task
    from chengzhen.ledger.queries import with_progress
    from chengzhen.supervision.models import Accountability, DeductionCandidate

    m = MEASURES[measure]
    out: dict[int, tuple[Decimal | None, str]] = {}
    period = f"{r.period_from:%Y-%m-%d}—{r.period_to:%Y-%m-%d}"
    programme = r.programme
    for unit in units:
        subtree = Unit.objects.filter(path__startswith=unit.path).values("pk")
        where = f"{programme.name if programme else _('全部计划')}，{unit.short_name or unit.name}（含下级）牵头"
        if measure.startswith("ledger."):
            if programme is None:
                out[unit.pk] = (None, _("本轮未指定取数计划"))
                continue
            leaves = Task.objects.filter(programme=programme, lead_unit__in=subtree, children__isnull=True)
            if measure == "ledger.completion_rate":
                due = leaves.filter(due_date__lte=r.period_to)
                total = due.count()
                done = due.filter(status__in=("completed", "closed")).count()
                amount = None if total == 0 else Decimal(done * 100) / Decimal(total)
                text = (f"{where}、完成时限不晚于 {r.period_to:%Y-%m-%d} 的末级任务 {total} 个，"
                        f"已完成或已销号 {done} 个" + ("" if total else "，无到期任务，不计算"))
            elif measure == "ledger.on_schedule_rate":
                started = with_progress(leaves.filter(start_date__lte=r.period_to), today=r.period_to,
                                        columns=("lagging",))
                total = started.count()
                lagging = started.filter(lagging=True).count()
                amount = None if total == 0 else Decimal((total - lagging) * 100) / Decimal(total)
                text = (f"{where}、{r.period_to:%Y-%m-%d} 前已开始的末级任务 {total} 个，其中滞后 {lagging} 个"
                        "（按当前有效的进度报送计算）" + ("" if total else "，无已开始任务，不计算"))
            else:  # ledger.overdue_tasks
                n = leaves.filter(due_date__lt=r.period_to).exclude(status__in=("completed", "closed")).count()
                amount, text = Decimal(n), f"{where}、完成时限早于 {r.period_to:%Y-%m-%d} 仍未完成的末级任务 {n} 个"
        elif measure in ("supervision.deductions", "supervision.deduction_points"):
            qs = DeductionCandidate.objects.filter(unit_id__in=subtree, on__gte=r.period_from, on__lte=r.period_to)
            if programme is not None:
                qs = qs.filter(programme=programme)
            n = qs.count()
            points = qs.aggregate(s=Sum("points"))["s"] or Decimal(0)
            amount = Decimal(n) if measure == "supervision.deductions" else Decimal(points)
            text = f"{period} {where}任务的亮灯扣分候选 {n} 次，扣分合计 {points} 分"
        else:
            kind = {"supervision.commendations": "commend", "supervision.criticisms": "criticise",
                    "supervision.interviews": "interview"}[measure]
            qs = Accountability.objects.filter(unit_id__in=subtree, kind=kind, on__gte=r.period_from,
                                               on__lte=r.period_to)
            if programme is not None:
                qs = qs.filter(programme=programme)
            n = qs.count()
            what = m.name.replace("次数", "")
            amount, text = Decimal(n), f"{period} 对{unit.short_name or unit.name}（含下级）的{what}记录 {n} 次"
        out[unit.pk] = (amount, f"{m.name}：{text}。{m.what}")
    return out


def gather_platform_values(user, r: Round) -> dict[str, int]:
    """Fill every leaf with a platform measure (平台取数) for every subject, as submitted values
    a supervisor then verifies; an unchanged accepted value stays accepted."""
    require(user, Action.EDIT, Round)
    _open(r)
    fw = framework(r)
    units = subjects_of(r)
    counts = Counter()
    now = timezone.now()
    with acting_for(user, "gather_platform_values"), transaction.atomic():
        existing = {(v.subject_id, v.node): v for v in Value.objects.select_for_update().filter(
            round=r, source=ValueSource.PLATFORM)}
        for node in fw.leaves():
            if not node.measure:
                continue
            inp = node.inputs[0]
            m = MEASURES[node.measure]
            for unit_pk, (amount, text) in measure_values(r, node.measure, units).items():
                current = existing.get((unit_pk, node.code))
                if amount is None:
                    counts["none"] += 1
                    continue
                amount = amount.quantize(Decimal("0.000001"))
                if current is not None and current.amount == amount and current.unit == m.unit:
                    if current.derivation != text:
                        current.derivation = text
                        current.save()
                    counts["unchanged"] += 1
                    continue
                value = current or Value(round=r, subject_id=unit_pk, node=node.code, input=inp.code)
                value.amount, value.unit, value.derivation = amount, m.unit, text
                value.status, value.source = ValueStatus.SUBMITTED, ValueSource.PLATFORM
                value.submitted_by, value.submitted_at = None, now
                value.verified_by, value.verified_at, value.return_reason = None, None, ""
                value.save()
                counts["changed" if current else "new"] += 1
    return dict(counts)


# ---- scoring, publication ----------------------------------------------------------------------

def engine_values(r: Round, fw: Framework, subjects: list[Unit]) -> Values:
    """Accepted values, converted to each input's unit, as the engine takes them."""
    codes = {u.pk: u.code for u in subjects}
    inputs = {(n.code, i.code): i.unit for n in fw.leaves() for i in n.inputs}
    records = []
    # plain rows: the ORM's per-value Decimal converters cost seconds on 300,000 values
    table = Value._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"SELECT subject_id, node, input, amount, unit FROM {table} WHERE round_id = %s AND status = %s",
                    [r.pk, ValueStatus.ACCEPTED.value])
        rows = cur.fetchall()
    factors: dict[tuple[str, str], float] = {}
    for subject_id, node, input_code, amount, unit in rows:
        target = inputs.get((node, input_code))
        if target is None or subject_id not in codes:
            continue  # a leaf no longer in the framework (cannot happen once frozen)
        key = (unit, target)
        factor = factors.get(key)
        if factor is None:
            factor = factors[key] = float(unit_table.factor(unit, target)) if unit and target else 1.0
        records.append((codes[subject_id], node, input_code, float(amount) * factor))
    return Values.from_records([u.code for u in subjects], records)


def values_digest(values: Values) -> str:
    """SHA-256 of the values scored: subjects, then each (leaf, input) in order with its array."""
    h = hashlib.sha256("\n".join(values.subjects).encode())
    for key in sorted(values.arrays):
        h.update(f"\n{key[0]}/{key[1]}:".encode())
        h.update(values.arrays[key].tobytes())
    return h.hexdigest()


def score_round(user, r: Round) -> services.Scored:
    """Score the round's accepted values on its framework version, which this freezes. Scoring
    again reproduces the same stored scores exactly. A published round is not scored anew: the
    scores are computed again and checked against the published ones (``reproduced``), and any
    difference is refused with what differs — published results never change quietly."""
    require(user, Action.EDIT, FrameworkVersion)
    fw = framework(r)
    subjects = subjects_of(r)
    values = engine_values(r, fw, subjects)
    profiles = services.profiles_for([u.code for u in subjects], r.year)
    result = services.run_engine(fw, [u.code for u in subjects], profiles, values, r.code)
    digest = values_digest(values)
    if r.status == RoundStatus.PUBLISHED:
        return _check_published(user, r, result, digest)
    with transaction.atomic():
        version = FrameworkVersion.objects.get(pk=r.framework_version_id)
        services.freeze(version, _("考核轮次 %(code)s 已评分") % {"code": r.code})
        names = {u.code: u.short_name or u.name for u in subjects}
        scored = services.store_scoring(user, version, result, names, kind=ScoringKind.ROUND, label=r.code,
                                        values_sha256=digest, keep_cards=False)
        scored.scoring.round = r
        scored.scoring.save(update_fields=["round"])
        with acting_for(user, "score_round"):
            r.scoring = scored.scoring
            if r.status == RoundStatus.COLLECTING:
                r.status = RoundStatus.SCORED
            r.save()
    return scored


def _check_published(user, r: Round, result, digest: str) -> services.Scored:
    differences = services.differences(r.scoring, result, digest)
    with acting_for(user, "check_round_scores"), transaction.atomic():
        record_event("check_round_scores", "assessment.round", r.pk, round=r.code, scoring=r.scoring_id,
                     reproduced=not differences, differences=differences[:20])
    if differences:
        reason = _("考核轮次 %(code)s 已公布；重新计算的结果与公布的不同，公布结果不变：%(what)s") % {
            "code": r.code, "what": "；".join(differences[:10])}
        raise Refused([Problem(reason=reason)])
    ranking = list(SubjectScore.objects.filter(scoring=r.scoring).values(
        "subject", "subject_name", "total", "grade", "rank"))
    for row in ranking:
        row["name"] = row.pop("subject_name")
    return services.Scored(scoring=r.scoring, ranking=ranking, cards=[], reproduced=True)


def publish_round(user, r: Round, *, expected_version: int | None = None) -> Round:
    """Publish a scored round: each subject sees its own scorecard (everyone's when public), and
    the titles its subjects hold are reviewed against the results (动态管理)."""
    require(user, Action.EDIT, Round)
    with acting_for(user, "publish_round"), transaction.atomic():
        current = Round.objects.select_for_update().get(pk=r.pk)
        if expected_version is not None and current.version != expected_version:
            raise StaleEdit(current, expected_version, current.version)
        if current.scoring_id is None:
            raise Refused([Problem(reason=_("考核轮次 %(code)s 尚未评分，不能公布") % {"code": r.code})])
        if current.status == RoundStatus.PUBLISHED:
            return current
        current.status, current.published_at, current.published_by = RoundStatus.PUBLISHED, timezone.now(), user
        current.save()
    _notify_published(current)
    from .designation_services import review_round

    review_round(user, current)  # the titles its subjects hold move with the published results
    return current


def liaisons_of(r: Round) -> list[tuple[str, int]]:
    """(unit path, user id) of the liaisons (联络员) who may hear of the round: active, and — when
    their membership names programmes — covering the round's programme."""
    from chengzhen.org.models import Membership

    out = []
    for m in (Membership.objects.filter(role="unit_editor", user__is_active=True).select_related("unit")
              .prefetch_related("programme_links")):
        programmes = {link.programme_id for link in m.programme_links.all()}
        if not programmes or r.programme_id in programmes:
            out.append((m.unit.path, m.user_id))
    return out


def tell_liaisons(liaisons: list[tuple[str, int]], unit: Unit, cause: str, title: str, body: str, url: str) -> int:
    """One notification per liaison covering ``unit`` and ``cause`` (sent once); how many were new."""
    from chengzhen.supervision.models import Notification

    now, sent = timezone.now(), 0
    for path, user_id in liaisons:
        if unit.path.startswith(path):
            _note, created = Notification.objects.get_or_create(
                recipient_id=user_id, cause=cause,
                defaults={"kind": "assessment", "title": title, "body": body, "url": url, "created_at": now})
            sent += int(created)
    return sent


def _notify_published(r: Round) -> None:
    liaisons = liaisons_of(r)
    for unit in subjects_of(r):
        tell_liaisons(liaisons, unit, f"round-published:{r.pk}:{unit.pk}",
                      _("【考核结果】%(name)s已公布") % {"name": r.name},
                      _("%(unit)s 的评分明细已可查看。") % {"unit": unit.short_name or unit.name},
                      f"/assessment/rounds/{r.code}/scorecard/{unit.code}/")


def remind(today: dt.date | None = None) -> int:
    """Reminders by the round's schedule (催报): ``remind_days`` before the submission deadline and
    on it, each subject's liaisons hear how many values are still missing or returned; as much
    before the verification deadline (核查截止) and on it, the supervisors hear how many values
    await verification. Sent once per day."""
    today = today or timezone.localdate()
    sent = 0
    for r in Round.objects.filter(status=RoundStatus.COLLECTING, verify_by__gte=today):
        if (r.verify_by - today).days in (r.remind_days, 0):
            sent += _remind_verifiers(r, today)
    for r in Round.objects.filter(status=RoundStatus.COLLECTING, submit_by__gte=today):
        if (r.submit_by - today).days not in (r.remind_days, 0):
            continue
        liaisons = liaisons_of(r)
        for row in progress(r):
            owed = row["missing"] + row["returned"]
            if owed:
                unit = row["unit"]
                body = _("%(unit)s 还有 %(n)s 项数值未报送或被退回，填报截止 %(date)s。") % {
                    "unit": unit.short_name or unit.name, "n": owed, "date": f"{r.submit_by:%Y-%m-%d}"}
                sent += tell_liaisons(liaisons, unit, f"round-remind:{r.pk}:{unit.pk}:{today:%Y%m%d}",
                                      _("【考核填报】%(name)s") % {"name": r.name}, body,
                                      f"/assessment/rounds/{r.code}/todo/{unit.code}/")
    return sent


def _remind_verifiers(r: Round, today: dt.date) -> int:
    """One notification per active supervisor: the values of the round waiting for verification."""
    from chengzhen.org.models import Membership
    from chengzhen.supervision.models import Notification

    waiting = Value.objects.filter(round=r, status=ValueStatus.SUBMITTED).count()
    if not waiting:
        return 0
    sent = 0
    for user_id in (Membership.objects.filter(role="supervisor", user__is_active=True)
                    .values_list("user_id", flat=True).distinct()):
        _note, created = Notification.objects.get_or_create(
            recipient_id=user_id, cause=f"round-verify:{r.pk}:{today:%Y%m%d}",
            defaults={"kind": "assessment", "title": _("【考核核查】%(name)s") % {"name": r.name},
                      "body": _("还有 %(n)s 项数值待核查，核查截止 %(date)s。") % {
                          "n": waiting, "date": f"{r.verify_by:%Y-%m-%d}"},
                      "url": f"/assessment/rounds/{r.code}/queue/", "created_at": timezone.now()})
        sent += int(created)
    return sent


# ---- what people read --------------------------------------------------------------------------

def may_see(user, r: Round, unit: Unit) -> bool:
    return may_see_scorecard(grants_for(user), unit.path, published=r.published, public=r.public)


def ranking(r: Round) -> list[dict]:
    """The round's ranking with the change against the previous round (rank there, by subject)."""
    if r.scoring_id is None:
        return []
    before = {}
    if r.previous_id and r.previous.scoring_id:
        before = dict(SubjectScore.objects.filter(scoring_id=r.previous.scoring_id).values_list("subject", "rank"))
    rows = []
    for s in SubjectScore.objects.filter(scoring_id=r.scoring_id).order_by("rank", "subject"):
        prev = before.get(s.subject)
        rows.append({"subject": s.subject, "name": s.subject_name, "total": s.total, "grade": s.grade,
                     "rank": s.rank, "previous_rank": prev, "change": None if prev is None else prev - s.rank,
                     "vetoed": s.vetoed, "prerequisite_failed": s.prerequisite_failed, "nodes": s.nodes,
                     "notes": s.notes})
    return rows


def scorecard(r: Round, unit: Unit) -> dict | None:
    """A subject's scorecard: its result and one sentence per indicator, in framework order."""
    if r.scoring_id is None:
        return None
    result = SubjectScore.objects.filter(scoring_id=r.scoring_id, subject=unit.code).first()
    if result is None:
        return None
    fw = framework(r)
    cells = {code: (score, sentence) for code, score, sentence in IndicatorScore.objects.filter(
        scoring_id=r.scoring_id, subject=unit.code).values_list("node", "score", "sentence")}
    rows = []
    for node in fw.walk():
        if node.is_leaf:
            score, text = cells.get(node.code, (None, ""))
            rows.append({"node": node, "leaf": True, "score": score, "sentence": text})
        else:
            rows.append({"node": node, "leaf": False, "score": Decimal(result.nodes.get(node.code, "0"))})
    previous_rank = None
    if r.previous_id and r.previous.scoring_id:
        previous_rank = SubjectScore.objects.filter(scoring_id=r.previous.scoring_id, subject=unit.code).values_list(
            "rank", flat=True).first()
    return {"result": result, "rows": rows, "count": SubjectScore.objects.filter(scoring_id=r.scoring_id).count(),
            "previous_rank": previous_rank}


def report_files(r: Round, output_dir: str | Path) -> list[Path]:
    """The assessment report (.docx, official layout) and the ranking (.xlsx) of a scored round."""
    from . import report, workbook

    if r.scoring_id is None:
        raise Refused([Problem(reason=_("考核轮次 %(code)s 尚未评分") % {"code": r.code})])
    fw = framework(r)
    rows = ranking(r)
    lowest = _lowest(r)
    results = [report.SubjectResult(
        code=row["subject"], name=row["name"], total=row["total"], grade=row["grade"], rank=row["rank"],
        previous_rank=row["previous_rank"], vetoed=row["vetoed"], prerequisite_failed=row["prerequisite_failed"],
        notes=tuple(row["notes"]),
        dimensions=report.dimensions_of(fw, {k: Decimal(v) for k, v in row["nodes"].items()}),
        lowest=tuple(lowest.get(row["subject"], ()))) for row in rows]
    meta = report.ReportMeta(
        round_code=r.code, round_name=r.name, framework=str(r.framework_version), framework_name=fw.name,
        framework_status=fw.status, period_from=r.period_from, period_to=r.period_to,
        issuer=r.issuer or getattr(settings, "CHENGZHEN_ASSESSMENT_ISSUER", ""),
        date=timezone.localtime(r.published_at).date() if r.published_at else None, requirements=r.requirements)
    out = Path(output_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        docx = out / f"{r.code}-考核结果通报.docx"
        docx.write_bytes(report.build_report(meta, results, report.grade_names_of(fw), report.dimension_points_of(fw)))
        xlsx = out / f"{r.code}-排名.xlsx"
        workbook.write_ranking(xlsx, fw, report.ranking_rows(results))
    except OSError as exc:
        raise Refused([Problem(file=str(out), reason=_("无法写入：%(error)s") % {"error": exc})]) from None
    record_event("round_report", "assessment.round", r.pk, code=r.code)
    return [docx, xlsx]


def _lowest(r: Round, n: int = 3) -> dict[str, list[str]]:
    """Per subject, the sentences of the indicators that lost most points (存在问题)."""
    fw = framework(r)
    points = {leaf.code: leaf.points for leaf in fw.leaves() if leaf.awards_points and not leaf.bonus}
    lost: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for subject, node, score, text in IndicatorScore.objects.filter(scoring_id=r.scoring_id).values_list(
            "subject", "node", "score", "sentence").iterator(chunk_size=20000):
        full = points.get(node)
        if full and float(score) < full:
            lost[subject].append((full - float(score), text))
    return {s: [t for _, t in sorted(items, key=lambda x: -x[0])[:n]] for s, items in lost.items()}


# ---- the per-subject Excel template ------------------------------------------------------------

def write_template(r: Round, subject: Unit, path: str | Path) -> Path:
    """The subject's values sheet (数值填报): its indicators, units, last round's value, evidence column;
    leaves the platform fills in are left out."""
    from . import workbook

    fw = framework(r)
    previous = {}
    if r.previous_id:
        previous = {(subject.code, v.node, v.input): float(v.amount) for v in Value.objects.filter(
            round_id=r.previous_id, subject=subject, status=ValueStatus.ACCEPTED)}
    workbook.write_values_template(fw, [(subject.code, subject.short_name or subject.name)], path, previous,
                                   skip=lambda node: bool(node.measure))
    return Path(path)


def import_template(user, r: Round, subject: Unit, path: str | Path, display_name: str = "") -> int:
    """Submit every value filled in a subject's values sheet, all or nothing; returns how many."""
    from . import workbook

    if not can(user, Action.REPORT, Value(subject=subject)):
        raise PermissionDenied(_("%(user)s 无权填报 %(unit)s 的考核数值") % {"user": user, "unit": subject})
    _open(r)
    fw = framework(r)
    path = Path(path)
    name = display_name or path.name
    sheet = workbook.read_values(fw, path, name)
    problems = [Problem(file=name, column="对象代码", reason=_("表中的对象 %(code)s 不是 %(unit)s") % {
        "code": code, "unit": subject.code}) for code in sheet.subjects if code != subject.code]
    measured = {n.code for n in fw.leaves() if n.measure}
    problems += [Problem(file=name, column="指标代码", reason=_("%(code)s 由平台取数，不能填报") % {"code": code})
                 for code in sorted({c for _s, c, _i, _v in sheet.records} & measured)]
    if problems:
        raise Refused(problems)
    units = {(n.code, i.code): i.unit for n in fw.leaves() for i in n.inputs}
    with transaction.atomic():
        for _s, code, input_code, value in sheet.records:
            evidence = sheet.evidence.get((subject.code, code), "")
            submit_value(user, r, subject, code, input_code, Decimal(repr(value)), unit=units[(code, input_code)],
                         evidence=evidence)
    return len(sheet.records)
