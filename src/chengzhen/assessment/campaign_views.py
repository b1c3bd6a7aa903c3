"""Joint-campaign pages (六城联创): the merged lists (plans) with the form for a new one, a plan's
matrix — merged indicators × campaigns, each campaign's threshold, the binding one highlighted,
lead and cooperating units, filters for conflicts and unconfirmed matches — with the settlement of
lead units, the merge run again, the tasks preview and the Excel download; and the matches to
confirm. Thin shells over ``campaign_services``; every refusal is shown as a message."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from chengzhen.ledger.services import StaleEdit
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, can
from chengzhen.problems import Refused

from . import campaign_services as services
from .models import Campaign, JointPlan, MatchStatus, MeasureMatch, MergedIndicator
from .round_views import show_form_errors, show_refusal

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PlanForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("清单代码"), max_length=40, help_text=gettext_lazy("如 LC-2026"))
    name = forms.CharField(label=gettext_lazy("名称"), max_length=200)
    campaigns = forms.MultipleChoiceField(label=gettext_lazy("创建活动"), widget=forms.CheckboxSelectMultiple)
    subject = forms.ChoiceField(label=gettext_lazy("对象（其属性决定分类阈值；不选为按类列出）"), required=False)
    year = forms.IntegerField(label=gettext_lazy("属性年度"), required=False, min_value=2000, max_value=2100)
    lead_rule = forms.ChoiceField(label=gettext_lazy("归口规则"), choices=[
        ("binding", gettext_lazy("由约束最严的创建所列部门牵头")),
        ("precedence", gettext_lazy("按部门优先顺序"))])
    precedence = forms.CharField(label=gettext_lazy("部门优先顺序（按优先顺序填写，以顿号或逗号分隔）"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaigns"].choices = [
            (c.programme.code, f"{c.title}（{c.framework_version}）")
            for c in Campaign.objects.select_related("programme", "framework_version__framework")]
        self.fields["subject"].choices = [("", "—")] + [
            (u.code, f"{u.short_name or u.name}（{u.code}）") for u in Unit.objects.filter(
                kind__in=["government", "town", "street"]).order_by("kind", "code")]


def _plan(request: HttpRequest, code: str) -> JointPlan:
    plan = JointPlan.objects.filter(code=code).first() if "\x00" not in code else None
    if plan is None:
        raise Http404(_("没有该联创合并清单"))
    return plan


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    may_edit = can(request.user, Action.EDIT, JointPlan)
    form, status = (PlanForm(request.POST or None) if may_edit else None), 200
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(_("%(user)s 无权合并创建指标") % {"user": request.user})
        if form.is_valid():
            d = form.cleaned_data
            rule = {"kind": d["lead_rule"], "precedence": [
                p.strip() for p in d["precedence"].replace("，", "、").replace(",", "、").split("、") if p.strip()]}
            try:
                plan = services.run_plan(request.user, code=d["code"].strip(), name=d["name"],
                                         campaign_codes=d["campaigns"], subject_code=d["subject"] or None,
                                         year=d["year"], lead_rule=rule)
            except (Refused, PermissionDenied) as exc:
                show_refusal(request, exc)
            else:
                messages.success(request, _("已合并 %(code)s：%(n)s 项合并指标。") % {
                    "code": plan.code, "n": plan.indicators.count()})
                return redirect("assessment:joint_plan", code=plan.code)
        else:
            show_form_errors(request, form)
        status = 400
    plans = JointPlan.objects.prefetch_related("campaigns").select_related("subject")
    return render(request, "assessment/joint_plans.html", {
        "plans": plans, "form": form, "open_form": status == 400,
        "campaigns": Campaign.objects.select_related("programme", "framework_version__framework"),
        "proposed": MeasureMatch.objects.filter(status=MatchStatus.PROPOSED).count()}, status=status)


@login_required
def plan_detail(request: HttpRequest, code: str) -> HttpResponse:
    plan = _plan(request, code)
    campaigns = [c.title for c in plan.campaigns.order_by("programme__code")]
    rows = list(plan.indicators.select_related("lead_unit", "task").order_by("seq", "key"))
    unconfirmed = set(MeasureMatch.objects.filter(status=MatchStatus.PROPOSED).values_list("framework__code", "node"))
    only = request.GET.get("show", "")
    shown = []
    for ind in rows:
        by_campaign: dict[str, list[dict]] = {}
        for s in ind.sources:
            by_campaign.setdefault(s.get("campaign", ""), []).append(s)
        pending = any((s.get("framework"), s.get("node")) in unconfirmed for s in ind.sources)
        if only == "conflicts" and not (ind.conflict or ind.lead_question):
            continue
        if only == "unconfirmed" and not pending:
            continue
        shown.append({"ind": ind, "pending": pending,
                      "cells": [{"campaign": t, "sources": by_campaign.get(t, [])} for t in campaigns]})
    units = Unit.objects.exclude(kind__in=["government"]).order_by("kind", "code")
    return render(request, "assessment/joint_plan.html", {
        "plan": plan, "campaigns": campaigns, "rows": shown, "total": len(rows), "show": only,
        "conflicts": sum(1 for r in rows if r.conflict or r.lead_question),
        "may_edit": can(request.user, Action.EDIT, MergedIndicator), "units": units, "programmes": _task_programmes(),
        "groupings": services.TASK_GROUPINGS})


def _task_programmes():
    from chengzhen.programmes.models import Programme

    return Programme.objects.order_by("code")


@login_required
def plan_rerun(request: HttpRequest, code: str) -> HttpResponse:
    """GET: what merging again would change, indicator by indicator; POST: merge again."""
    plan = _plan(request, code)
    if request.method != "POST":
        try:
            changes = services.rerun_preview(request.user, plan)
        except Refused as exc:
            show_refusal(request, exc)
            return redirect("assessment:joint_plan", code=plan.code)
        counts = {k: sum(1 for c in changes if c.action == k) for k in ("new", "changed", "same", "removed", "kept")}
        return render(request, "assessment/joint_rerun.html", {
            "plan": plan, "changes": [c for c in changes if c.action != "same"], "counts": counts})
    try:
        plan = services.rerun_plan(request.user, plan)
    except (Refused, PermissionDenied) as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, _("已重新合并：%(n)s 项合并指标；已确定的牵头单位保持不变。") % {
            "n": plan.indicators.count()})
    return redirect("assessment:joint_plan", code=plan.code)


@login_required
@require_POST
def plan_settle(request: HttpRequest, code: str) -> HttpResponse:
    plan = _plan(request, code)
    ind = MergedIndicator.objects.filter(plan=plan, pk=request.POST.get("indicator") or 0).first()
    lead = Unit.objects.filter(code=request.POST.get("lead_unit", "")).first()
    if ind is None or lead is None:
        messages.error(request, _("请选择牵头单位"))
        return redirect("assessment:joint_plan", code=plan.code)
    try:
        version = int(request.POST.get("expected_version", ""))
    except ValueError:
        version = -1
    cooperating = list(Unit.objects.filter(code__in=request.POST.getlist("cooperating")))
    try:
        services.settle_lead(request.user, ind, lead_unit=lead, cooperating=cooperating, expected_version=version)
    except (Refused, StaleEdit, PermissionDenied) as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, _("已确定 %(name)s 由 %(unit)s 牵头。") % {
            "name": ind.name, "unit": lead.short_name or lead.name})
    return redirect(reverse("assessment:joint_plan", args=[plan.code]) + f"#m{ind.pk}")


@login_required
def plan_tasks(request: HttpRequest, code: str) -> HttpResponse:
    """GET: the preview of the tasks a programme would get; POST: make them."""
    from chengzhen.programmes.models import Programme

    plan = _plan(request, code)
    programme = Programme.objects.filter(code=request.POST.get("programme") or request.GET.get("programme", "")).first()
    if programme is None:
        messages.error(request, _("请选择生成任务的工作计划"))
        return redirect("assessment:joint_plan", code=plan.code)
    per = request.POST.get("per") or request.GET.get("per") or "indicator"
    if request.method == "POST":
        try:
            steps = services.make_tasks(request.user, plan, programme, per=per)
        except (Refused, StaleEdit, PermissionDenied) as exc:
            show_refusal(request, exc)
            return redirect(reverse("assessment:joint_tasks", args=[plan.code])
                            + "?" + urlencode({"programme": programme.code, "per": per}))
        made = sum(1 for s in steps if s.action == "create")
        changed = sum(1 for s in steps if s.action == "update")
        messages.success(request, _("已生成台账任务：新建 %(made)s 项，更新 %(changed)s 项，其余保持不变。") % {
            "made": made, "changed": changed})
        return redirect("assessment:joint_plan", code=plan.code)
    try:
        steps = services.task_preview(request.user, plan, programme, per=per)
    except Refused as exc:
        show_refusal(request, exc)
        return redirect("assessment:joint_plan", code=plan.code)
    return render(request, "assessment/joint_tasks.html", {"plan": plan, "programme": programme, "steps": steps,
                                                           "per": per, "groupings": services.TASK_GROUPINGS})


@login_required
def plan_file(request: HttpRequest, code: str) -> HttpResponse:
    plan = _plan(request, code)
    with tempfile.TemporaryDirectory() as tmp:
        path = services.write_plan_xlsx(plan, Path(tmp) / "merged.xlsx")
        data = path.read_bytes()
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=f"{plan.code}-联创合并清单.xlsx",
                        content_type=XLSX)


@login_required
def matches(request: HttpRequest) -> HttpResponse:
    """The matcher's proposals to confirm or reject (POST), the decided ones below."""
    may_edit = can(request.user, Action.EDIT, MeasureMatch)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(_("%(user)s 无权确认指标匹配") % {"user": request.user})
        match = MeasureMatch.objects.filter(pk=request.POST.get("match") or 0).first()
        if match is None:
            raise Http404
        try:
            version = int(request.POST.get("expected_version", ""))
        except ValueError:
            version = -1
        confirm = request.POST.get("decision") == "confirm"
        try:
            services.decide_match(request.user, match, confirm=confirm, expected_version=version)
        except (Refused, StaleEdit, PermissionDenied) as exc:
            show_refusal(request, exc)
        else:
            messages.success(request, (_("已确认：%(name)s") if confirm else _("已否定：%(name)s")) % {
                "name": match.indicator_name})
        return redirect("assessment:joint_matches")
    from .matching import Dictionary

    measures = Dictionary.shipped().measures
    qs = MeasureMatch.objects.select_related("framework", "decided_by")
    proposed = list(qs.filter(status=MatchStatus.PROPOSED))
    decided = list(qs.exclude(status=MatchStatus.PROPOSED).order_by("-decided_at")[:200])
    for m in (*proposed, *decided):
        m.measure_name = measures[m.measure].name if m.measure in measures else m.measure
    return render(request, "assessment/joint_matches.html", {
        "proposed": proposed, "may_edit": may_edit, "decided": decided})
