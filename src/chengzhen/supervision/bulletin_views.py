"""Bulletin pages (工作通报): the list with the generate form, a bulletin with its figures, the
editing of a draft's text, refresh, issue and the downloads. Thin shells over
``bulletins`` (the actions) and the permission function."""

from __future__ import annotations

import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from chengzhen.ledger.services import StaleEdit
from chengzhen.org.permissions import Action, can, restrict
from chengzhen.problems import Refused
from chengzhen.programmes.models import Programme

from . import bulletin as pure
from . import bulletins
from .models import Bulletin, BulletinStatus

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class GenerateForm(forms.Form):
    programme = forms.ModelChoiceField(label=gettext_lazy("工作计划"), queryset=Programme.objects.none())
    period = forms.CharField(label=gettext_lazy("通报期"), max_length=40, help_text=gettext_lazy(
        "起..止，如 2026-11-01..2026-11-10；或一个报送期，如 2026-11-D1、2026-11"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = [p.pk for p in restrict(Programme.objects.all(), user, Action.READ)
                   if can(user, Action.EDIT, Bulletin(programme=p))]
        self.fields["programme"].queryset = Programme.objects.filter(pk__in=allowed)


class EditForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    recipient = forms.CharField(label=gettext_lazy("主送"), max_length=100, required=False)
    requirements = forms.CharField(label=gettext_lazy("下步工作要求"), required=False, max_length=20000,
                                   widget=forms.Textarea(attrs={"rows": 8}))
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


def _add_problems(form: forms.Form, exc: Refused) -> None:
    for p in exc.problems:
        form.add_error(None, f"{_(p.column)}：{p.reason}" if p.column else p.reason)


@login_required
def bulletin_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.READ, Bulletin):
        raise PermissionDenied
    qs = bulletins.visible(request.user)
    status = request.GET.get("status", "")
    if status in BulletinStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-period_to", "-pk"), 50).get_page(request.GET.get("page"))
    form = GenerateForm(request.user) if can(request.user, Action.EDIT, Bulletin) else None
    return render(request, "supervision/bulletins.html", {
        "page": page, "form": form, "status": status, "statuses": BulletinStatus.choices})


@login_required
@require_POST
def bulletin_new(request: HttpRequest) -> HttpResponse:
    form = GenerateForm(request.user, request.POST)
    if form.is_valid():
        try:
            start, end = bulletins.parse_span(form.cleaned_data["period"])
            b = bulletins.generate(request.user, form.cleaned_data["programme"], start, end)
        except Refused as exc:
            _add_problems(form, exc)
        else:
            messages.success(request, _("已生成通报草稿。"))
            return redirect("supervision:bulletin", pk=b.pk)
    qs = bulletins.visible(request.user).order_by("-period_to", "-pk")
    return render(request, "supervision/bulletins.html", {
        "page": Paginator(qs, 50).get_page(1), "form": form, "status": "",
        "statuses": BulletinStatus.choices}, status=400)


@login_required
def bulletin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    b = get_object_or_404(bulletins.visible(request.user), pk=pk)
    editable = not b.issued and can(request.user, Action.EDIT, b)
    form = None
    if editable:
        form = EditForm(request.POST or None, initial={
            "title": b.title, "recipient": b.recipient, "requirements": b.requirements,
            "expected_version": b.version})
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                bulletins.edit(request.user, b, expected_version=d["expected_version"],
                               title=d["title"], recipient=d["recipient"],
                               requirements=d["requirements"])
            except Refused as exc:
                _add_problems(form, exc)
            except StaleEdit as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已保存。"))
                return redirect("supervision:bulletin", pk=b.pk)
    elif request.method == "POST":
        raise PermissionDenied(_("%(b)s 已签发，不能修改") % {"b": b} if b.issued else "")
    fig = pure.Figures.from_json(b.figures)
    return render(request, "supervision/bulletin.html", {
        "b": b, "fig": fig, "form": form, "editable": editable, "change_items": _change_items(fig),
        "intact": bulletins.intact(b)}, status=400 if form is not None and form.errors else 200)


CHANGE_NAMES = {"tasks": gettext_lazy("任务"), "completed": gettext_lazy("已完成"),
                "on_schedule": gettext_lazy("正常推进"), "lagging": gettext_lazy("滞后"),
                "overdue": gettext_lazy("逾期"), "year_rate": gettext_lazy("占年度计划（百分点）"),
                "ahead_points": gettext_lazy("较序时进度（百分点）")}


def _change_items(fig) -> list[tuple[str, str]]:
    """与上期相比, as (name, signed difference) for the figures that moved."""
    if fig.change is None:
        return []
    items = []
    for name, label in CHANGE_NAMES.items():
        delta = getattr(fig.change, name)
        if delta:
            items.append((label, f"{delta:+}"))
    if fig.change.year_completed:
        items.append((_("年度完成投资（万元）"), f"{fig.change.year_completed / 10000:+.2f}"))
    return items


def _action(request: HttpRequest, pk: int, act, done: str) -> HttpResponse:
    b = get_object_or_404(bulletins.visible(request.user), pk=pk)
    try:
        version = int(request.POST.get("expected_version", ""))
    except ValueError:
        version = -1
    try:
        act(request.user, b, expected_version=version)
    except (Refused, StaleEdit) as exc:
        messages.error(request, "；".join(p.reason for p in exc.problems)
                       if isinstance(exc, Refused) else str(exc))
    else:
        messages.success(request, done)
    return redirect("supervision:bulletin", pk=b.pk)


@login_required
@require_POST
def bulletin_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, bulletins.refresh, _("已按最新数据重新计算。"))


@login_required
@require_POST
def bulletin_issue(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, bulletins.issue, _("已签发。"))


@login_required
def bulletin_file(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    if kind not in ("docx", "xlsx"):
        raise Http404
    b = get_object_or_404(bulletins.visible(request.user), pk=pk)
    suffix = "." + kind
    name = bulletins.file_name(b, suffix)
    content_type = DOCX if kind == "docx" else XLSX
    if b.issued:
        path = bulletins.stored_path(b, suffix)
        if path is None:
            raise Http404(_("通报文件缺失或与签发时的校验值不符"))
        return FileResponse(path.open("rb"), as_attachment=True, filename=name,
                            content_type=content_type)
    return FileResponse(io.BytesIO(bulletins.build_file(b, suffix)), as_attachment=True,
                        filename=name, content_type=content_type)
