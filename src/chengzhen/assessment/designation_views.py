"""Designation pages (称号动态管理): the titles at risk (整改期) and all titles a person may read,
the grant form for supervisors, and one title's history. Thin shells over
``designation_services``; every refusal is shown as a message."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, can
from chengzhen.problems import Refused

from . import designation_services as services
from .models import Designation, DesignationRule
from .round_views import show_form_errors, show_refusal


class GrantForm(forms.Form):
    rule = forms.ChoiceField(label=gettext_lazy("称号"))
    unit = forms.ChoiceField(label=gettext_lazy("单位"))
    granted_on = forms.DateField(label=gettext_lazy("授予日期"), widget=forms.DateInput(attrs={"type": "date"}))
    decision = forms.CharField(label=gettext_lazy("授予决定文号"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [(r.code, r.title) for r in DesignationRule.objects.order_by("code")]
        self.fields["unit"].choices = [(u.code, f"{u.short_name or u.name}（{u.code}）")
                                       for u in Unit.objects.filter(kind__in=["town", "street", "department", "other"])
                                       .order_by("kind", "code")]


@login_required
def designation_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    may_grant = can(user, Action.EDIT, Designation)
    form, status = (GrantForm(request.POST or None, initial={"granted_on": timezone.localdate()})
                    if may_grant else None), 200
    if request.method == "POST":
        if not may_grant:
            raise PermissionDenied(_("%(user)s 无权授予称号") % {"user": user})
        if form.is_valid():
            d = form.cleaned_data
            try:
                unit = Unit.objects.get(code=d["unit"])
                done = services.grant(user, services.rule_of(d["rule"]), unit, granted_on=d["granted_on"],
                                      decision=d["decision"])
            except (Refused, PermissionDenied) as exc:
                show_refusal(request, exc)
            else:
                messages.success(request, _("已授予 %(unit)s“%(title)s”（%(decision)s）。") % {
                    "unit": unit.short_name or unit.name, "title": done.rule.title, "decision": done.decision})
                return redirect("assessment:designations")
        else:
            show_form_errors(request, form)
        status = 400
    today = timezone.localdate()
    risk = [{"d": d, "days": (d.rectify_until - today).days if d.rectify_until else None,
             "last": (list(d.events.all()) or [None])[-1]} for d in services.at_risk(user)]
    titles = services.visible(user).order_by("rule__code", "unit__code", "-granted_on")
    return render(request, "assessment/designations.html", {
        "risk": risk, "titles": titles, "rules": DesignationRule.objects.select_related("framework"),
        "form": form, "open_form": status == 400}, status=status)


@login_required
def designation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    d = services.visible(request.user).filter(pk=pk).first()
    if d is None:
        raise Http404(_("没有可查看的称号"))
    return render(request, "assessment/designation.html", {"d": d, "events": list(d.events.all())})
