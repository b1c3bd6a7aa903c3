"""Joint campaigns (六城联创) in the database: campaigns bound to framework versions, people's
decisions on indicator matches, merged target lists kept as plans, the responsible unit settled
per merged indicator (职责归口) and the ledger tasks made from a plan. One function per action:
permission, change and audit in one transaction; the merge itself is ``joint`` (pure), read from
the database by ``joint_services``."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chengzhen.audit.context import acting_for
from chengzhen.ledger.services import StaleEdit
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, require
from chengzhen.problems import Problem, Refused

from . import services
from .models import Campaign, CampaignIndicatorTask, JointPlan, MatchStatus, MeasureMatch, MergedIndicator


def bind_campaign(user, programme, framework_name: str, title: str) -> Campaign:
    """Bind a programme to the framework version its title is assessed on (one version per
    programme; binding again moves it to another version)."""
    require(user, Action.EDIT, Campaign)
    version = services.resolve(framework_name)
    if not title.strip():
        raise Refused([Problem(column="title", reason=_("须填写创建称号，如 国家卫生城市"))])
    with acting_for(user, "bind_campaign"), transaction.atomic():
        campaign, _created = Campaign.objects.update_or_create(
            programme=programme, defaults={"framework_version": version, "title": title.strip()})
    return campaign


def campaign_of(code: str) -> Campaign:
    """A campaign by its programme's code."""
    c = Campaign.objects.select_related("programme", "framework_version__framework").filter(
        programme__code=code).first()
    if c is None:
        from chengzhen.programmes.models import Programme

        known = Programme.objects.filter(code=code).exists()
        raise Refused([Problem(column="campaign", reason=(
            _("计划 %(code)s 没有绑定测评体系（不是创建活动）") if known else _("没有代码为 %(code)s 的创建活动"))
            % {"code": code})])
    return c


def campaign_deadline(campaign: Campaign, on_or_after: dt.date) -> dt.date:
    """When the campaign wants its indicators met: the earliest stage or annual target due on or
    after ``on_or_after``, else its overall target's, else the programme's end."""
    targets = list(campaign.programme.targets.filter(due_date__isnull=False, due_date__gte=on_or_after)
                   .values_list("level", "due_date"))
    for level in ("stage", "annual", "overall"):
        dates = [d for lv, d in targets if lv == level]
        if dates:
            return min(dates)
    return campaign.programme.end_date


def confirmed_matches() -> list[tuple[str, str, str]]:
    """Every confirmed match as (indicator name, unit, measure code), oldest first: what extends
    the shipped dictionary."""
    return list(MeasureMatch.objects.filter(status=MatchStatus.CONFIRMED).order_by("decided_at", "pk")
                .values_list("indicator_name", "indicator_unit", "measure"))


def decide_match(user, match: MeasureMatch, *, confirm: bool, expected_version: int) -> MeasureMatch:
    """Confirm or reject a proposed match (who and when are kept); a stale decision is refused."""
    require(user, Action.EDIT, MeasureMatch)
    with acting_for(user, "decide_match"), transaction.atomic():
        current = MeasureMatch.objects.select_for_update().get(pk=match.pk)
        if current.version != expected_version:
            raise StaleEdit(current, expected_version, current.version)
        if confirm and MeasureMatch.objects.filter(framework=current.framework, node=current.node,
                                                   status=MatchStatus.CONFIRMED).exclude(pk=current.pk).exists():
            raise Refused([Problem(column="measure", reason=_("%(name)s 已确认为另一个规范指标，须先否定那一项") % {
                "name": current.indicator_name})])
        current.status = MatchStatus.CONFIRMED if confirm else MatchStatus.REJECTED
        current.decided_by, current.decided_at = user, timezone.now()
        current.save()
    return current


def settle_lead(user, indicator: MergedIndicator, *, lead_unit: Unit, cooperating: list[Unit],
                expected_version: int) -> MergedIndicator:
    """Settle the responsible unit (职责归口) of a merged indicator and its cooperating units; a
    settlement made on an older version is refused as stale. Kept when the merge runs again."""
    require(user, Action.EDIT, MergedIndicator)
    cooperating = [u for u in dict.fromkeys(cooperating) if u.pk != lead_unit.pk]
    with acting_for(user, "settle_lead"), transaction.atomic():
        current = MergedIndicator.objects.select_for_update().get(pk=indicator.pk)
        if current.version != expected_version:
            raise StaleEdit(current, expected_version, current.version)
        current.lead_unit = lead_unit
        current.cooperating = [u.code for u in cooperating]
        current.settled_by, current.settled_at = user, timezone.now()
        current.lead_question = ""  # settled
        current.save()
    return current


# ---- tasks from a plan ---------------------------------------------------------------------------

@dataclass
class TaskPlan:
    """What making tasks from a plan does to one merged indicator: create, update (fields people
    have not changed since the last time), keep (people changed it: left alone) or skip (no lead
    unit yet)."""

    indicator: MergedIndicator  # the indicator, or the first of a group
    action: str  # create / update / keep / skip
    fields: dict
    reason: str = ""
    members: list[MergedIndicator] = dataclass_field(default_factory=list)  # a group's indicators
    code: str = ""  # the task's code
    task: object = None  # the ledger task it updates or keeps (None: to be created)

    @property
    def key(self) -> str:
        return self.code if self.members else self.indicator.key

    @property
    def name(self) -> str:
        return self.fields["name"] if self.members else self.indicator.name


# how a plan's indicators become tasks: one task each, or one per lead unit (职责归口、统筹推进:
# the overlapping work given to one responsible unit and pushed together)
GROUP_PREFIX = "LC-G-"  # a lead unit's task code: LC-G-<unit code>
TASK_GROUPINGS = {"indicator": gettext_lazy("每个合并指标一项任务"),
                  "lead_unit": gettext_lazy("按牵头单位归并为一项任务（职责归口）")}


TASK_FIELDS = ("name", "requirement", "due_date", "lead_unit")  # what the plan writes and then watches


def _task_fields(ind: MergedIndicator, start: dt.date) -> dict:
    campaigns = "、".join(dict.fromkeys(s.get("campaign", "") for s in ind.sources if s.get("campaign")))
    lines = [_("执行标准：%(binding)s（就高不就低）") % {"binding": ind.binding or _("定性要求")}]
    for s in ind.sources:
        lines.append(f"{s.get('campaign', '')}：{s.get('node_name', '')} {s.get('threshold', '')}".strip())
    if ind.conflict:
        lines.append(_("待协调：%(conflict)s") % {"conflict": ind.conflict})
    return {"name": ind.name[:300], "requirement": "\n".join(lines), "due_date": ind.deadline or start,
            "lead_unit": ind.lead_unit, "category": (_("创建：%(names)s") % {"names": campaigns})[:50]}


def _made_text(fields: dict) -> dict:
    """The watched fields as text (a unit by its code), to tell whether people changed them."""
    out = {}
    for k in TASK_FIELDS:
        v = fields[k]
        out[k] = None if v is None else (v.code if isinstance(v, Unit) else str(v))
    return out


def _group_fields(members: list[MergedIndicator], start: dt.date) -> dict:
    """One task for a lead unit's indicators: each one's binding target in the requirement, the
    earliest deadline."""
    lead = members[0].lead_unit
    campaigns = "、".join(dict.fromkeys(s.get("campaign", "") for m in members for s in m.sources
                                       if s.get("campaign")))
    lines = []
    for i, ind in enumerate(members, 1):
        lines.append(_("%(i)s. %(name)s：执行标准 %(binding)s（%(demands)s）") % {
            "i": i, "name": ind.name, "binding": ind.binding or _("定性要求"), "demands": _demands(ind)})
        if ind.conflict:
            lines.append(_("   待协调：%(conflict)s") % {"conflict": ind.conflict})
    name = _("%(unit)s牵头的创建指标（%(n)s 项）") % {"unit": lead.short_name or lead.name, "n": len(members)}
    return {"name": name[:300], "requirement": "\n".join(lines),
            "due_date": min((m.deadline for m in members if m.deadline), default=start),
            "lead_unit": lead, "category": (_("创建：%(names)s") % {"names": campaigns})[:50]}


def task_preview(user, plan: JointPlan, programme, *, per: str = "indicator") -> list[TaskPlan]:
    """What ``make_tasks`` would do, task by task (nothing written); for those who may make them."""
    require(user, Action.EDIT, MergedIndicator)
    return _task_steps(plan, programme, per)


def _task_steps(plan: JointPlan, programme, per: str = "indicator") -> list[TaskPlan]:
    if per not in TASK_GROUPINGS:
        raise Refused([Problem(column="per", reason=f"{per}: " + _("任务的生成方式只能是 %(ways)s") % {
            "ways": "、".join(TASK_GROUPINGS)})])
    start = max(programme.start_date, min(timezone.localdate(), programme.end_date))
    out, groups = [], {}
    for ind in plan.indicators.select_related("lead_unit", "task").order_by("seq", "key"):
        if ind.lead_unit_id is None:
            out.append(TaskPlan(ind, "skip", _task_fields(ind, start), _("尚无牵头单位（待归口）")))
        elif per == "lead_unit":
            groups.setdefault(ind.lead_unit_id, []).append(ind)
        else:
            out.append(_task_step(programme, [ind], _task_code(ind), _task_fields(ind, start)))
    made = [_task_step(programme, members, f"{GROUP_PREFIX}{members[0].lead_unit.code}"[:40],
                       _group_fields(members, start), grouped=True) for members in groups.values()]
    return made + out  # the groups first, then the indicators still waiting for a lead unit


def _task_step(programme, members: list[MergedIndicator], code: str, fields: dict, *,
               grouped: bool = False) -> TaskPlan:
    """Create, update or keep the task ``code`` for these indicators: people's edits since the plan
    last wrote it are kept."""
    from chengzhen.ledger.models import Task

    ind = members[0]
    extra = {"members": members, "code": code} if grouped else {"code": code}
    # an indicator's own task, even if someone renamed its code — never a group's task it was part of
    task = (ind.task if not grouped and ind.task_id and ind.task.programme_id == programme.pk
            and not ind.task.code.startswith(GROUP_PREFIX) else None)
    if task is None:
        task = Task.objects.filter(programme=programme, code=code).first()
    if task is None:
        return TaskPlan(ind, "create", fields, **extra)
    extra["task"] = task
    made = next((m.task_made for m in members if m.task_id == task.pk and m.task_made), {})
    now = _made_text({k: getattr(task, k) for k in TASK_FIELDS})
    if now == _made_text(fields):
        return TaskPlan(ind, "keep", fields, _("无变化"), **extra)
    if not made:  # a task of this code the plan has no record of writing (made by hand, or in the other way)
        return TaskPlan(ind, "keep", fields, _("台账中已有同代码的任务，不是本清单最近生成的，不覆盖"), **extra)
    if now != made:
        return TaskPlan(ind, "keep", fields, _("任务已被人修改，不覆盖"), **extra)
    return TaskPlan(ind, "update", fields, **extra)


def _task_code(ind: MergedIndicator) -> str:
    return f"LC-{ind.key}"[:40]


def make_tasks(user, plan: JointPlan, programme, *, per: str = "indicator") -> list[TaskPlan]:
    """Turn a plan's merged indicators into ledger tasks in ``programme`` — one per indicator, or
    with ``per="lead_unit"`` one per lead unit holding all its indicators — with lead and
    cooperating units, the binding target in the requirement, the earliest campaign deadline, each
    task linked to every campaign indicator it serves. Running it again creates the new ones and
    updates only tasks nobody has changed since. One transaction."""
    from chengzhen.ledger import services as ledger
    from chengzhen.ledger.models import Task

    require(user, Action.EDIT, MergedIndicator)
    steps = _task_steps(plan, programme, per)
    start = max(programme.start_date, min(timezone.localdate(), programme.end_date))
    campaigns = {c.title: c for c in plan.campaigns.all()}
    with acting_for(user, "make_campaign_tasks"), transaction.atomic():
        seq = (Task.objects.filter(programme=programme).order_by("-seq").values_list("seq", flat=True).first()
               or 0)
        for step in steps:
            if step.action in ("skip", "keep"):
                continue
            members = step.members or [step.indicator]
            fields = dict(step.fields)
            if step.action == "create":
                seq += 1
                task = ledger.create_task(user, programme, code=step.code, seq=seq,
                                          start_date=min(start, fields["due_date"]), **fields)
            else:
                task = Task.objects.get(pk=step.task.pk)
                task = ledger.update_task(user, task, expected_version=task.version, **fields)
            cooperating = list(dict.fromkeys(c for m in members for c in m.cooperating))
            units = list(Unit.objects.filter(code__in=cooperating).exclude(pk=task.lead_unit_id))
            units.sort(key=lambda u: cooperating.index(u.code))
            task = ledger.set_cooperating_units(user, task, units, expected_version=task.version)
            served = set()
            for ind in members:
                for s in ind.sources:
                    campaign = campaigns.get(s.get("campaign"))
                    if campaign is not None and s.get("node"):
                        CampaignIndicatorTask.objects.get_or_create(task=task, campaign=campaign, node=s["node"])
                        served.add((campaign.pk, s["node"]))
                ind.task = task
                ind.task_made = _made_text(fields)
                ind.save()
            # an indicator that left a group (its lead unit settled otherwise) no longer links here
            for link in CampaignIndicatorTask.objects.filter(task=task):
                if (link.campaign_id, link.node) not in served:
                    link.delete()
    return steps


# ---- one measured value, every campaign's round ----------------------------------------------------

def fan_out(value) -> int:
    """An accepted value of one campaign's indicator, given to every other campaign's open round
    that measures the same merged indicator for the same subject — the same input (a ratio's
    numerator to the other's numerator) or a single value to a single value, converted to that
    input's unit, with its derivation, awaiting verification there like any platform value. A
    value a person gave there is left alone. Returns how many values it wrote."""
    from . import rounds
    from . import units as unit_table
    from .models import Round, RoundStatus, RoundSubject, Value, ValueSource, ValueStatus

    source_round = value.round
    framework_code = source_round.framework_version.framework.code
    written = 0
    seen: set[tuple[int, str]] = set()
    for ind in MergedIndicator.objects.filter(plan__campaigns__framework_version__framework__code=framework_code
                                              ).distinct():
        if not any(s.get("framework") == framework_code and s.get("node") == value.node for s in ind.sources):
            continue
        for s in ind.sources:
            target_fw, node_code = s.get("framework"), s.get("node")
            if not target_fw or not node_code or (target_fw == framework_code and node_code == value.node):
                continue
            open_rounds = Round.objects.filter(status=RoundStatus.COLLECTING,
                                               framework_version__framework__code=target_fw).exclude(pk=source_round.pk)
            for r in open_rounds:
                if (r.pk, node_code) in seen or not RoundSubject.objects.filter(round=r, unit=value.subject).exists():
                    continue
                seen.add((r.pk, node_code))
                fw = rounds.framework(r)
                node = next((n for n in fw.leaves() if n.code == node_code), None)
                if node is None or node.measure:
                    continue
                # the same input (a ratio's numerator to a numerator), or one value to one value
                inp = next((i for i in node.inputs if i.code == value.input), None)
                if inp is None and len(node.inputs) == 1 and value.input == "value":
                    inp = node.inputs[0]
                if inp is None:
                    continue
                try:
                    amount = unit_table.convert(value.amount, value.unit or inp.unit, inp.unit)
                except unit_table.UnitError:
                    continue
                existing = Value.objects.filter(round=r, subject=value.subject, node=node_code, input=inp.code).first()
                if existing is not None and (existing.source == ValueSource.PERSON or existing.amount == amount):
                    continue
                target = existing or Value(round=r, subject=value.subject, node=node_code, input=inp.code)
                target.amount, target.unit = amount, inp.unit
                target.status, target.source = ValueStatus.SUBMITTED, ValueSource.PLATFORM
                target.derivation = _(
                    "同一合并指标“%(name)s”：取自%(round)s %(node)s 的已核查数值 %(amount)s %(unit)s") % {
                    "name": ind.name, "round": source_round.name, "node": value.node,
                    "amount": value.amount_text, "unit": value.unit}
                target.submitted_by, target.submitted_at = None, timezone.now()
                target.verified_by, target.verified_at, target.return_reason = None, None, ""
                target.save()
                written += 1
    return written


# ---- merged lists (plans) ---------------------------------------------------------------------------

PLAN_CODE = re.compile(r"[A-Z0-9][A-Za-z0-9_-]{0,39}")


def _merge_inputs(campaign_codes: list[str], subject_code: str | None, year: int | None):
    from . import joint, joint_services

    problems, chosen = [], []
    for c in dict.fromkeys(campaign_codes):
        try:
            chosen.append(campaign_of(c))
        except Refused as exc:
            problems += exc.problems
    if not campaign_codes:
        problems.append(Problem(column="campaigns", reason=_("至少选择一个创建活动")))
    if problems:
        raise Refused(problems)
    today = timezone.localdate()
    parts = []
    for c in chosen:
        fw = services.framework_of(c.framework_version)
        parts.append(joint.Campaign(c.title, fw.code, fw.version, fw, deadline=campaign_deadline(c, today)))
    profile = None
    if subject_code:
        if year is None:
            raise Refused([Problem(column="year", reason=_("指定对象时须给出属性年度"))])
        profile = joint_services.subject_profile(subject_code, year)
    return chosen, parts, profile


def merge_plan(campaign_codes: list[str], *, subject_code: str | None, year: int | None, lead_rule: dict):
    """The pure merge of these campaigns (就高不就低) with people's confirmed matches; nothing written."""
    from . import joint
    from .matching import Dictionary

    chosen, parts, profile = _merge_inputs(campaign_codes, subject_code, year)
    rule = joint.LeadRule(lead_rule.get("kind", "binding"), tuple(lead_rule.get("precedence", ())))
    dictionary = Dictionary.shipped().extended(confirmed_matches())
    merged = joint.merge(parts, dictionary, profile, lead_rule=rule, subject=subject_code or "", proposals=True)
    return chosen, parts, merged


def _units_by_name() -> dict[str, Unit]:
    """Every unit by its short name and its name (the first by primary key where two share one):
    how a framework's department names find the directory's units, read once per merge."""
    out: dict[str, Unit] = {}
    for u in Unit.objects.order_by("pk"):
        for name in (u.short_name, u.name):
            if name:
                out.setdefault(name, u)
    return out


def _source_rows(row, binding_sources: set[int]) -> list[dict]:
    out = []
    for i, s in enumerate(row.sources):
        if s.by_class:
            text = "；".join(f"{ct.label} {ct.threshold.text(row.unit)}" for ct in s.by_class)
        else:
            text = s.threshold.text(row.unit) if s.threshold is not None else ""
        code, _sep, version = s.framework.partition("@")
        out.append({"campaign": s.campaign, "framework": code, "version": version, "node": s.node,
                    "node_name": s.name, "threshold": text, "binding": i in binding_sources,
                    "department": s.department, "class": s.class_label})
    return out


def _binding_text(row) -> tuple[str, set[int]]:
    if row.binding is not None:
        return row.binding.threshold.text(row.unit), set(row.binding.sources)
    parts, sources = [], set()
    for cb in row.by_class:
        if cb.binding is not None:
            parts.append(f"{cb.label} {cb.binding.threshold.text(row.unit)}")
            sources |= set(cb.binding.sources)
    return "；".join(parts), sources


def run_plan(user, *, code: str, name: str, campaign_codes: list[str], subject_code: str | None = None,
             year: int | None = None, lead_rule: dict | None = None) -> JointPlan:
    """Merge campaigns into a plan (联创合并清单), or merge an existing plan again: indicators are
    upserted by their key (the canonical measure's code); lead units people settled are kept, the
    rest follow the rule; the matcher's proposals for leaves of their own are recorded to confirm.
    One transaction; refused input writes nothing."""
    from .models import Framework

    require(user, Action.EDIT, JointPlan)
    lead_rule = lead_rule or {"kind": "binding", "precedence": []}
    problems = []
    if not PLAN_CODE.fullmatch(code or ""):
        problems.append(Problem(column="code", reason=_(
            "清单代码以大写字母或数字开头，只含字母、数字、- 和 _，至多 40 个字符")))
    if not (name or "").strip():
        problems.append(Problem(column="name", reason=_("须填写清单名称")))
    if lead_rule.get("kind") not in ("binding", "precedence"):
        problems.append(Problem(column="lead_rule", reason=_("归口规则应为 binding 或 precedence")))
    if problems:
        raise Refused(problems)
    chosen, parts, merged = merge_plan(campaign_codes, subject_code=subject_code, year=year, lead_rule=lead_rule)
    deadlines = {p.label: p.deadline for p in parts}
    named = _units_by_name()
    subject = Unit.objects.get(code=subject_code) if subject_code else None
    frameworks = {f.code: f for f in Framework.objects.filter(code__in=[p.code for p in parts])}
    with acting_for(user, "merge_campaigns"), transaction.atomic():
        plan, _created = JointPlan.objects.update_or_create(code=code, defaults={
            "name": name.strip(), "subject": subject, "year": year if subject else None, "lead_rule": lead_rule,
            "merged_at": timezone.now(), "merged_by": user if user and user.pk else None})
        plan.campaigns.set(chosen)
        existing = {ind.key: ind for ind in MergedIndicator.objects.select_for_update().filter(plan=plan)}
        seen = set()
        for seq, row in enumerate(merged.rows, start=1):
            ind = existing.get(row.key) or MergedIndicator(plan=plan, key=row.key)
            _apply_row(ind, seq, row, deadlines, named)
            ind.save()
            seen.add(row.key)
            for p in row.proposals:
                s = row.sources[0]
                fw = frameworks.get(s.framework.partition("@")[0])
                if fw is None:
                    continue
                MeasureMatch.objects.get_or_create(framework=fw, node=s.node, measure=p.code, defaults={
                    "indicator_name": s.name[:200], "indicator_unit": s.unit[:30], "score": round(p.score, 4),
                    "evidence": list(p.evidence)})
        for key, ind in existing.items():
            if key in seen:
                continue
            if ind.task_id is None:
                ind.delete()
            else:  # its task stays; say it no longer comes out of the merge
                ind.conflict = _("不再出现在合并结果中（任务保留）")
                ind.save()
    return plan


def _plan_settings(plan: JointPlan) -> dict:
    return {"campaign_codes": [c.programme.code for c in plan.campaigns.select_related("programme")],
            "subject_code": plan.subject.code if plan.subject_id else None, "year": plan.year,
            "lead_rule": plan.lead_rule}


def rerun_plan(user, plan: JointPlan) -> JointPlan:
    """Merge a plan again with its own campaigns, subject and rule (重新合并)."""
    return run_plan(user, code=plan.code, name=plan.name, **_plan_settings(plan))


def _apply_row(ind: MergedIndicator, seq: int, row, deadlines: dict, named: dict[str, Unit]) -> None:
    """An indicator's fields from its merged row; a lead unit a supervisor settled stays."""
    binding, binding_sources = _binding_text(row)
    ind.seq, ind.name, ind.unit, ind.direction = seq, row.name[:200], row.unit[:30], row.direction[:10]
    ind.binding, ind.sources = binding[:200], _source_rows(row, binding_sources)
    ind.conflict = "；".join(c.text for c in row.conflicts if c.kind != "departments")
    ind.proposed_lead = row.lead[:100]
    if ind.settled_at is None:  # what a supervisor settled stays settled
        lead = named.get(row.lead)
        ind.lead_unit = lead
        ind.cooperating = [u.code for u in (named.get(n) for n in row.cooperating) if u is not None and u != lead]
        questions = [c.text for c in row.conflicts if c.kind == "departments"]
        if row.lead and lead is None:
            questions.append(_("部门“%(name)s”不在单位目录中") % {"name": row.lead})
        ind.lead_question = "；".join(questions)
    dates = [deadlines[c] for c in row.campaigns if deadlines.get(c)]
    ind.deadline = min(dates) if dates else None


@dataclass
class PlanChange:
    """What merging a plan again would do to one merged indicator: new (新增), changed (变化: each
    change said), same (不变), removed (移除) or kept (its task stays: 保留)."""

    key: str
    name: str
    action: str  # new / changed / same / removed / kept
    changes: list[str]


def rerun_preview(user, plan: JointPlan) -> list[PlanChange]:
    """What ``run_plan`` would do to this plan with its campaigns, subject and rule as they are now
    (frameworks, targets, confirmed matches and units may have changed since): nothing written."""
    require(user, Action.EDIT, JointPlan)
    settings = _plan_settings(plan)
    _chosen, parts, merged = merge_plan(settings.pop("campaign_codes"), **settings)
    deadlines = {p.label: p.deadline for p in parts}
    existing = {ind.key: ind for ind in plan.indicators.select_related("lead_unit")}
    named = _units_by_name()
    units = {u.code: u for u in named.values()}

    def lead_text(ind: MergedIndicator) -> str:
        u = ind.lead_unit
        return (u.short_name or u.name) if u else "—"

    def cooperating_text(codes: list[str]) -> str:
        return "、".join(units[c].short_name or units[c].name for c in codes if c in units) or "—"

    out = []
    for seq, row in enumerate(merged.rows, start=1):
        before = existing.get(row.key)
        after = MergedIndicator(plan=plan, key=row.key)
        if before is not None:
            after.settled_at, after.lead_unit, after.cooperating = (before.settled_at, before.lead_unit,
                                                                    before.cooperating)
        _apply_row(after, seq, row, deadlines, named)
        if before is None:
            out.append(PlanChange(row.key, after.name, "new", [
                _("执行标准 %(b)s，牵头 %(lead)s") % {"b": after.binding or _("定性要求"), "lead": lead_text(after)}]))
            continue
        changes = []
        for label, old, new in (
                (_("执行标准"), before.binding, after.binding),
                (_("各创建要求"), _demands(before), _demands(after)),
                (_("完成时限"), before.deadline, after.deadline),
                (_("牵头单位"), lead_text(before), lead_text(after)),
                (_("配合单位"), cooperating_text(before.cooperating), cooperating_text(after.cooperating)),
                (_("冲突"), before.conflict or "—", after.conflict or "—")):
            if old != new:
                changes.append(f"{label}：{old or '—'} → {new or '—'}")
        out.append(PlanChange(row.key, after.name, "changed" if changes else "same", changes))
    seen = {c.key for c in out}
    for key, ind in existing.items():
        if key not in seen:
            out.append(PlanChange(key, ind.name, "kept" if ind.task_id else "removed",
                                  [_("不再出现在合并结果中（任务保留）")] if ind.task_id else []))
    return out


def _demands(ind: MergedIndicator) -> str:
    return "；".join(f"{s.get('campaign', '')} {s.get('threshold', '')}".strip() for s in ind.sources)


def write_plan_xlsx(plan: JointPlan, path) -> Path:
    """The plan as the merged workbook (matrix and long sheets), with the lead units as settled."""
    from dataclasses import replace

    from .joint_workbook import write_merged_xlsx

    _chosen, _parts, merged = merge_plan([c.programme.code for c in plan.campaigns.select_related("programme")],
                                         subject_code=plan.subject.code if plan.subject_id else None,
                                         year=plan.year, lead_rule=plan.lead_rule or {})
    units = {u.code: u for u in Unit.objects.all()}
    settled = {i.key: i for i in plan.indicators.select_related("lead_unit")}
    rows = []
    for row in merged.rows:
        ind = settled.get(row.key)
        if ind is not None and ind.lead_unit_id:
            coop = tuple(units[c].short_name or units[c].name for c in ind.cooperating if c in units)
            row = replace(row, lead=ind.lead_unit.short_name or ind.lead_unit.name, cooperating=coop)
        rows.append(row)
    return write_merged_xlsx(replace(merged, rows=tuple(rows)), path)
