"""Incentive fund pages (以奖代补资金): the list with, for supervisors, the form that allocates a
pool on a published round; an allocation's table with its 合计 and 结余/缺口 line (a town sees
only its own row) and its spreadsheet. Thin shells over ``fund_services``."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chengzhen.problems import Refused

from . import fund_services, funds
from .models import FundMethod, FundPool
from .round_views import show_form_errors, show_refusal

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _grades(rounds_) -> list[str]:
    """The grades of the published rounds' frameworks, in their order (most use 优秀/良好/合格/不合格)."""
    seen: dict[str, None] = {}
    for r in rounds_:
        for grade in fund_services.grades_of(r):
            seen.setdefault(grade, None)
    return list(seen)


class FundForm(forms.Form):
    """A pool to allocate (分配奖补资金): what ``chengzhen fund allocate`` asks for; one tier amount
    per grade (blank: no award for that grade)."""

    code = forms.CharField(label=gettext_lazy("资金代码"), max_length=40,
                           help_text=gettext_lazy("字母、数字、- 和 _，如 JBDB-2026；已有代码再次分配时替换原分配"))
    name = forms.CharField(label=gettext_lazy("名称"), max_length=200)
    round = forms.ChoiceField(label=gettext_lazy("考核轮次（已公布）"))
    amount = forms.CharField(label=gettext_lazy("资金总额（元）"), max_length=40,
                             help_text=gettext_lazy("如 68000000 或 6800万"))
    method = forms.ChoiceField(label=gettext_lazy("分配方式"), choices=FundMethod.choices)
    floor = forms.CharField(label=gettext_lazy("保底（元，按得分比例时）"), max_length=40, required=False)
    cap = forms.CharField(label=gettext_lazy("封顶（元，按得分比例时）"), max_length=40, required=False)
    eligible_grades = forms.MultipleChoiceField(label=gettext_lazy("参与按得分比例分配的等次（不选为全部）"),
                                                required=False, widget=forms.CheckboxSelectMultiple)
    min_total = forms.CharField(label=gettext_lazy("参与分配的最低总分"), max_length=20, required=False)
    include_flagged = forms.BooleanField(label=gettext_lazy("一票否决或未达前置条件的对象也参与分配"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        published = list(fund_services.published_rounds())
        self.fields["round"].choices = [(r.code, f"{r.name}（{r.code}）") for r in published]
        self.grades = _grades(published)
        self.fields["eligible_grades"].choices = [(g, g) for g in self.grades]
        self.tier_fields = []
        for i, grade in enumerate(self.grades):
            name = f"tier_{i}"
            self.fields[name] = forms.CharField(label=_("%(grade)s定额（元）") % {"grade": grade}, max_length=40,
                                                required=False, widget=forms.TextInput(attrs={"data-grade": grade}))
            self.tier_fields.append(name)

    def params(self) -> dict:
        d = self.cleaned_data
        params: dict = {}
        tiers = {grade: d[f"tier_{i}"].strip() for i, grade in enumerate(self.grades) if d[f"tier_{i}"].strip()}
        if tiers:
            params["tiers"] = tiers
        for key in ("floor", "cap", "min_total"):
            if d[key].strip():
                params[key] = d[key].strip()
        if d["eligible_grades"]:
            params["eligible_grades"] = list(d["eligible_grades"])
        if d["include_flagged"]:
            params["exclude_flagged"] = False
        return params


@login_required
def fund_list(request: HttpRequest) -> HttpResponse:
    """The pools; for supervisors and administrators the form to allocate one (POST)."""
    user = request.user
    may_allocate = fund_services.may_allocate(user)
    form, status = None, 200
    if may_allocate:
        initial = {"round": request.GET.get("round", "")}
        form = FundForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not may_allocate:
            raise PermissionDenied(_("%(user)s 无权分配奖补资金") % {"user": user})
        if form.is_valid():
            d = form.cleaned_data
            try:
                pool = fund_services.allocate_fund(user, code=d["code"], name=d["name"], amount=d["amount"],
                                                   round=d["round"], method=d["method"], params=form.params())
            except (Refused, PermissionDenied) as exc:
                show_refusal(request, exc)
            else:
                label = funds.balance_label(pool.remainder)
                messages.success(request, _("已分配 %(code)s：合计 %(allocated)s 元，%(label)s %(rest)s 元。") % {
                    "code": pool.code, "allocated": funds.yuan_text(pool.amount - pool.remainder),
                    "label": label, "rest": funds.yuan_text(abs(pool.remainder))})
                return redirect("assessment:fund", code=pool.code)
        else:
            show_form_errors(request, form)
        status = 400
    items = [{"pool": p, "amount": funds.yuan_text(p.amount), "label": funds.balance_label(p.remainder),
              "rest": funds.yuan_text(abs(p.remainder))} for p in fund_services.visible_pools(user)]
    return render(request, "assessment/funds.html", {
        "items": items, "form": form, "open_form": status == 400 or bool(request.GET.get("round")) or not items,
        "tier_fields": [form[name] for name in form.tier_fields] if form else [],
    }, status=status)


def _pool(request: HttpRequest, code: str) -> FundPool:
    if "\x00" in code or not fund_services.visible_pools(request.user).filter(code=code).exists():
        raise Http404(_("没有该奖补资金"))
    return fund_services.pool_of(code)


@login_required
def fund_detail(request: HttpRequest, code: str) -> HttpResponse:
    pool = _pool(request, code)
    table = fund_services.fund_table(request.user, pool)
    rows = [{"a": a, "name": a.unit.short_name or a.unit.name, "amount": funds.yuan_text(a.amount),
             "wan": f"{funds.to_wan(a.amount).normalize():f}"} for a in table.rows]
    return render(request, "assessment/fund.html", {
        "pool": pool, "table": table, "rows": rows, "amount": funds.yuan_text(pool.amount),
        "allocated": funds.yuan_text(table.allocated), "rest": funds.yuan_text(abs(table.remainder)),
        "params": fund_services.params_text(pool), "download": table.complete,
        "may_allocate": fund_services.may_allocate(request.user),
    })


@login_required
def fund_file(request: HttpRequest, code: str) -> HttpResponse:
    """The allocation as .xlsx, to those who see every row of it."""
    pool = _pool(request, code)
    table = fund_services.fund_table(request.user, pool)
    if not table.complete:
        raise PermissionDenied(_("只能查看本单位的分配额，不能下载全部分配表"))
    with tempfile.TemporaryDirectory() as tmp:
        path = fund_services.write_fund_xlsx(pool, Path(tmp) / "fund.xlsx", table.rows)
        data = path.read_bytes()
    name = f"{pool.code}-{fund_services.table_title(pool)}.xlsx"
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=name, content_type=XLSX)
