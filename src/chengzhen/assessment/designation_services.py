"""Designations (称号) and their dynamic management (动态管理) in the database: rules, grants by
decision, the review a published round triggers, and the list of designations at risk. One
function per action: permission, change, transition record and audit in one transaction; the
state machine itself is ``designations`` (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from chengzhen.audit.context import acting_for
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, require, restrict
from chengzhen.problems import Problem, Refused

from . import designations as machine
from .models import (
    Designation,
    DesignationEvent,
    DesignationRule,
    DesignationState,
    Framework,
    Round,
    RoundStatus,
    RoundSubject,
    SubjectScore,
)


def rule_of(code: str) -> DesignationRule:
    rule = DesignationRule.objects.select_related("framework").filter(code=code).first()
    if rule is None:
        raise Refused([Problem(column="rule", reason=_("没有动态管理规则 %(code)s") % {"code": code})])
    return rule


def save_rule(user, *, code: str, title: str, framework_code: str = "", fail_grades: list[str] = (),
              pass_score: str | Decimal | None = None, rectify_months: int = 6, note: str = "") -> DesignationRule:
    """Create or change a rule (动态管理规则): the title, the framework whose rounds count, the
    pass line (failing grades and/or a score) and the months of rectification."""
    require(user, Action.EDIT, DesignationRule)
    problems = []
    framework = None
    if framework_code:
        framework = Framework.objects.filter(code=framework_code).first()
        if framework is None:
            problems.append(Problem(column="framework", reason=_("没有测评体系 %(code)s") % {"code": framework_code}))
    score = None
    if pass_score not in (None, ""):
        try:
            score = Decimal(str(pass_score))
            if not score.is_finite() or not 0 <= score <= 10000:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(Problem(column="pass_score", reason=_("达标分数线应为 0 至 10000 的数")))
    grades = [g.strip() for g in fail_grades if g and g.strip()]
    if score is None and not grades:
        problems.append(Problem(column="pass_score", reason=_("至少给出不达标等次或达标分数线之一")))
    if not 1 <= int(rectify_months) <= 60:
        problems.append(Problem(column="rectify_months", reason=_("整改期应为 1 至 60 个月")))
    if not code.strip() or not title.strip():
        problems.append(Problem(column="code", reason=_("须填写规则代码和称号")))
    if problems:
        raise Refused(problems)
    with acting_for(user, "save_designation_rule"), transaction.atomic():
        rule, _created = DesignationRule.objects.update_or_create(code=code.strip(), defaults={
            "title": title.strip(), "framework": framework, "fail_grades": grades, "pass_score": score,
            "rectify_months": int(rectify_months), "note": note})
    return rule


def _event(designation: Designation, *, to_state: str, from_state: str = "", reason: str, user=None,
           round_: Round | None = None, score: SubjectScore | None = None) -> DesignationEvent:
    rule = designation.rule
    return DesignationEvent.objects.create(
        designation=designation, round=round_, from_state=from_state, to_state=to_state,
        total=score.total if score else None, grade=score.grade if score else "", reason=reason,
        rule={"code": rule.code, "fail_grades": rule.fail_grades,
              "pass_score": None if rule.pass_score is None else str(rule.pass_score),
              "rectify_months": rule.rectify_months},
        at=timezone.now(), by=user if user and user.pk else None)


def grant(user, rule: DesignationRule, unit: Unit, *, granted_on: dt.date, decision: str) -> Designation:
    """Grant a title by a decision (授予): refused while the unit holds it (or is rectifying); a
    revoked title is granted again only by a decision other than the one it was first given by."""
    require(user, Action.EDIT, Designation(rule=rule, unit=unit))
    decision = decision.strip()
    if not decision:
        raise Refused([Problem(column="decision", reason=_("授予须写明决定文号"))])
    with acting_for(user, "grant_designation"), transaction.atomic():
        live = Designation.objects.select_for_update().filter(rule=rule, unit=unit).exclude(
            state=DesignationState.REVOKED).first()
        if live is not None:
            raise Refused([Problem(column="unit", reason=_("%(unit)s 已有“%(title)s”（%(state)s），不能重复授予") % {
                "unit": unit, "title": rule.title, "state": live.get_state_display()})])
        if Designation.objects.filter(rule=rule, unit=unit, decision=decision).exists():
            raise Refused([Problem(column="decision", reason=_(
                "%(unit)s 的“%(title)s”已按 %(decision)s 授予并被取消；重新授予须有新的决定") % {
                "unit": unit, "title": rule.title, "decision": decision})])
        d = Designation.objects.create(rule=rule, unit=unit, state=DesignationState.HELD, granted_on=granted_on,
                                       decision=decision[:200])
        again = Designation.objects.filter(rule=rule, unit=unit, state=DesignationState.REVOKED).exists()
        reason = (_("按 %(decision)s 重新授予") if again else _("按 %(decision)s 授予")) % {"decision": decision}
        _event(d, to_state=DesignationState.HELD, reason=reason, user=user)
    return d


@dataclass
class Reviewed:
    """What a round's review did: the transitions it recorded, the designations it left as they were."""

    changed: list[DesignationEvent]
    unchanged: int


def review_round(user, r: Round) -> Reviewed:
    """Apply a published round's results to the titles its subjects hold under every rule whose
    framework is the round's (or names none). Once per round and designation: reviewing again
    records nothing new. Each transition notifies the unit's liaisons."""
    require(user, Action.EDIT, Designation)
    if r.status != RoundStatus.PUBLISHED or r.scoring_id is None:
        raise Refused([Problem(reason=_("考核轮次 %(code)s 尚未公布，不能据此动态管理") % {"code": r.code})])
    framework_id = r.framework_version.framework_id
    subjects = RoundSubject.objects.filter(round=r).values_list("unit_id", flat=True)
    scores = {s.subject: s for s in SubjectScore.objects.filter(scoring_id=r.scoring_id)}
    decided = timezone.localdate(r.published_at) if r.published_at else r.period_to
    changed, unchanged = [], 0
    from . import rounds

    liaisons = rounds.liaisons_of(r)
    with acting_for(user, "review_designations"), transaction.atomic():
        live = (Designation.objects.select_for_update(of=("self",)).select_related("rule", "unit")
                .filter(unit_id__in=list(subjects)).exclude(state=DesignationState.REVOKED)
                .exclude(events__round=r).order_by("rule__code", "unit__code"))
        for d in live:
            if d.rule.framework_id not in (None, framework_id):
                continue
            score = scores.get(d.unit.code)
            if score is None:
                continue
            rule = machine.Rule(tuple(d.rule.fail_grades), d.rule.pass_score, d.rule.rectify_months)
            outcome = machine.Outcome(score.total, score.grade, score.vetoed, score.prerequisite_failed,
                                      decided_on=decided, period_to=r.period_to)
            t = machine.next_state(rule, d.state, d.rectify_until, outcome)
            before = d.state
            event = _event(d, from_state=before, to_state=t.to_state, reason=t.reason, user=user, round_=r,
                           score=score)
            if not t.changed:
                unchanged += 1
                continue
            d.state = t.to_state
            d.rectify_until = t.rectify_until if t.to_state == DesignationState.RECTIFYING else None
            d.revoked_on = decided if t.to_state == DesignationState.REVOKED else None
            d.save()
            changed.append(event)
            rounds.tell_liaisons(liaisons, d.unit, f"designation:{event.pk}",
                                 _("【动态管理】%(unit)s“%(title)s”：%(state)s") % {
                                     "unit": d.unit.short_name or d.unit.name, "title": d.rule.title,
                                     "state": d.get_state_display()},
                                 _("依据%(round)s：%(reason)s。") % {"round": r.name, "reason": t.reason},
                                 f"/assessment/designations/{d.pk}/")
    return Reviewed(changed, unchanged)


def visible(user):
    """Designations a person may read, with their rule, unit and events."""
    return restrict(Designation.objects.all(), user).select_related("rule", "unit").prefetch_related(
        Prefetch("events", DesignationEvent.objects.select_related("round", "by").order_by("at", "pk")))


def at_risk(user) -> list[Designation]:
    """Titles in their rectification period (整改期), nearest deadline first."""
    return list(visible(user).filter(state=DesignationState.RECTIFYING).order_by("rectify_until", "unit__code"))
