"""Ledger pages: thin shells over the filter, the permission function and the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from chengzhen.audit.models import AuditRecord
from chengzhen.audit.verify import last_verification
from chengzhen.org.access import is_admin
from chengzhen.org.choices import Role
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, can, grants_for, restrict
from chengzhen.problems import Refused
from chengzhen.programmes.models import Programme

from . import overview, progress, services
from .filters import TaskFilter, first_rows, task_rows
from .models import Cooperation, Evidence, ProgressReport, Task, TimeNode
from .queries import today_local, with_progress

PAGE_SIZE = 50
SORT_CHOICES = (("code", gettext_lazy("编号")), ("due", gettext_lazy("完成时限")),
                ("-progress", gettext_lazy("形象进度")), ("lag", gettext_lazy("滞后程度")),
                ("overdue", gettext_lazy("超期天数")))


def _programmes(user):
    ids = restrict(Task.objects.all(), user).values("programme_id")
    return Programme.objects.filter(pk__in=ids).order_by("code")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page per role: a unit liaison sees what their units still owe this period
    and what is theirs; a supervisor, leader or inspector also sees how every unit stands;
    everyone sees what is due within 30 days and what is lagging or overdue."""
    user, today = request.user, today_local()
    grants = grants_for(user)
    programmes = list(_programmes(user))
    periods = overview.due_periods(programmes, today)
    due = TaskFilter(due_within=30, sort="due").apply(Task.objects.all(), user, today)
    late = TaskFilter(sort="overdue").apply(
        Task.objects.all(), user, today, columns=("lagging", "days_overdue")).filter(
        Q(lagging=True) | Q(days_overdue__gt=0))
    mine = overview.mine(user, Task.objects.all()).order_by("due_date", "code")
    due_rows, late_rows, mine_rows = first_rows(due, late, mine, n=15, today=today)
    own_paths = overview.own_unit_paths(grants)
    pending = overview.pending_reports(user, own_paths, periods)
    return render(request, "ledger/home.html", {
        "today": today, "roles": _role_lines(grants),
        "due": due_rows, "due_count": due.count(), "late": late_rows,
        "late_count": late.count(), "programmes": programmes,
        "pending": pending[:15], "pending_count": pending.count(),
        "periods": list(periods.values()), "liaison": bool(own_paths),
        "mine": mine_rows, "mine_count": len(mine_rows) if len(mine_rows) < 15 else mine.count(),
        "units": overview.unit_summary(user, periods, today) if overview.oversees(grants) else None,
        "verification": last_verification() if is_admin(grants) else None,
        "is_admin": is_admin(grants),
    })


def _role_lines(grants) -> list[str]:
    """"青石镇人民政府 · 责任单位联络员" for each membership (the home page's first line)."""
    names = dict(Unit.objects.filter(path__in={g.unit_path for g in grants})
                 .values_list("path", "name"))
    labels = dict(Role.choices)
    return [f"{names.get(g.unit_path, _('全部单位'))} · {labels.get(g.role, g.role)}"
            for g in grants]


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    f = TaskFilter.from_params(request.GET)
    tasks = task_rows(f.apply(Task.objects.all(), request.user))
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    categories = (restrict(Task.objects.all(), request.user).exclude(category="")
                  .order_by("category").values_list("category", flat=True).distinct())
    return render(request, "ledger/list.html", {
        "f": f, "page": page, "programmes": _programmes(request.user),
        "categories": categories, "statuses": Task._meta.get_field("status").choices,
        "light_levels": _light_levels(),
        "sorts": SORT_CHOICES,
    })


def _light_levels() -> list[tuple[str, str]]:
    """The lights (code, name) tasks show, for the list's filter: read from the lights alone
    (one scan of their index), not joined to the tasks in the person's reach."""
    from chengzhen.supervision.models import Light  # the room that owns lights

    return sorted(set(Light.objects.order_by().values_list("level", "name").distinct()))


def _task_for(request, pk: int) -> Task:
    qs = with_progress(restrict(Task.objects.all(), request.user)).select_related(
        "programme", "lead_unit", "parent", "responsible_user")
    return get_object_or_404(qs, pk=pk)


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_for(request, pk)
    reports = (ProgressReport.objects.filter(task=task)
               .select_related("reporting_unit", "reporter")
               .prefetch_related(Prefetch("evidence", Evidence.objects.order_by("uploaded_at")))
               .order_by("-period", "reporting_unit__code", "-submitted_at"))
    keys = [("ledger.task", str(task.pk))]
    keys += [("ledger.timenode", str(pk)) for pk in task.time_nodes.values_list("pk", flat=True)]
    keys += [("ledger.cooperation", str(pk)) for pk in task.cooperations.values_list("pk", flat=True)]
    keys += [("ledger.progressreport", str(r.pk)) for r in reports]
    condition = Q(pk__in=[])
    for model in {m for m, _pk in keys}:
        condition |= Q(model=model, object_pk__in=[p for m, p in keys if m == model])
    history = AuditRecord.objects.filter(condition).order_by("-seq")[:100]
    return render(request, "ledger/detail.html", {
        "task": task, "reports": reports,
        "nodes": task.time_nodes.order_by("seq", "planned_date"),
        "cooperations": Cooperation.objects.filter(task=task).select_related("unit"),
        "children": with_progress(task.children.all()).select_related("lead_unit"),
        "history": history, "today": today_local(),
        "can_edit": can(request.user, Action.EDIT, task),
        "report_units": services.may_report_units(request.user, task),
    })


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={
            "accept": "image/jpeg,image/png,image/webp,application/pdf,.docx,.xlsx,.pptx"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ReportForm(forms.Form):
    period = forms.ChoiceField(label=gettext_lazy("报送期"))
    unit = forms.ChoiceField(label=gettext_lazy("报送单位"))
    physical_progress = forms.DecimalField(label=gettext_lazy("形象进度（%）"), min_value=0,
                                           max_value=100, decimal_places=2)
    investment_wan = forms.CharField(label=gettext_lazy("本期完成投资（万元）"), required=False,
                                     help_text=gettext_lazy("可填 12.5、12万 或 125000元"))
    progress_text = forms.CharField(label=gettext_lazy("进展情况"),
                                    widget=forms.Textarea(attrs={"rows": 3}), required=False)
    problems = forms.CharField(label=gettext_lazy("存在问题"),
                               widget=forms.Textarea(attrs={"rows": 2}), required=False)
    next_steps = forms.CharField(label=gettext_lazy("下步打算"),
                                 widget=forms.Textarea(attrs={"rows": 2}), required=False)
    coordination = forms.CharField(label=gettext_lazy("需协调事项"),
                                   widget=forms.Textarea(attrs={"rows": 2}), required=False)
    supersede = forms.BooleanField(label=gettext_lazy("更正本期已报送的数据"), required=False)
    files = MultipleFileField(label=gettext_lazy("佐证材料（照片、PDF、Office 文档，可多选）"),
                              required=False)

    def clean_investment_wan(self) -> Decimal:
        from .sheet import CellError, parse_money

        raw = self.cleaned_data["investment_wan"]
        try:
            return parse_money(raw) or Decimal("0.00")
        except (CellError, InvalidOperation):
            raise forms.ValidationError(_("金额 %(value)s 无法识别：请填写如 12.5、12万 或 125000元，"
                                          "不能为负数") % {"value": raw}) from None


def problem_text(p) -> str:
    """A refused input's problem for a page: "列名：原因", the column (a Chinese msgid, as the
    services name it) in the active language."""
    if not p.column:
        return p.reason
    return _("%(column)s：%(reason)s") % {"column": _(p.column), "reason": p.reason}


def _periods(programme: Programme, today: dt.date) -> list[str]:
    """Reporting periods from the programme's start up to today's, newest first."""
    keys, day = [], min(today, programme.end_date)
    while day >= programme.start_date and len(keys) < 24:
        p = progress.period_of(day, programme.reporting_cycle)
        keys.append(p.key)
        day = p.first_day - dt.timedelta(days=1)
    return keys


@login_required
def report_form(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_for(request, pk)
    units = services.may_report_units(request.user, task)
    if not units:
        raise PermissionDenied(_("无权报送该任务的进度"))
    form = ReportForm(request.POST or None, request.FILES or None)
    form.fields["period"].choices = [(k, k) for k in _periods(task.programme, today_local())]
    form.fields["unit"].choices = [(u.code, u.name) for u in units]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = next(u for u in units if u.code == data["unit"])
        try:
            with transaction.atomic():  # the report and its files stand or fall together
                report = services.submit_report(
                    request.user, task, period=data["period"], unit=unit,
                    physical_progress=data["physical_progress"],
                    investment=data["investment_wan"], progress_text=data["progress_text"],
                    problems=data["problems"], next_steps=data["next_steps"],
                    coordination=data["coordination"], supersede=data["supersede"])
                for upload in data["files"]:
                    services.attach_evidence(request.user, report, upload.read(), upload.name)
        except Refused as exc:
            for p in exc.problems:
                form.add_error(None, problem_text(p))
        else:
            messages.success(request, _("已报送 %(code)s %(period)s 的进度。") % {
                "code": task.code, "period": data["period"]})
            return redirect("ledger:task", pk=task.pk)
    return render(request, "ledger/report.html", {"task": task, "form": form})


@login_required
@require_POST
def node_done(request: HttpRequest, pk: int) -> HttpResponse:
    node = get_object_or_404(TimeNode.objects.select_related("task"), pk=pk)
    if not can(request.user, Action.READ, node.task):
        raise PermissionDenied
    raw = request.POST.get("done_on", "").strip()
    try:
        done_on = dt.date.fromisoformat(raw) if raw else None
        services.complete_time_node(request.user, node, done_on)
    except ValueError:
        messages.error(request, _("日期 %(value)r 无法识别，请写作 2026-03-31") % {"value": raw})
    except Refused as exc:
        for p in exc.problems:
            messages.error(request, problem_text(p))
    else:
        done = _("节点“%(name)s”已完成。") if done_on else _("节点“%(name)s”已重新打开。")
        messages.success(request, done % {"name": node.name})
    return redirect("ledger:task", pk=node.task_id)



@login_required
def evidence_file(request: HttpRequest, pk: int) -> HttpResponse:
    """Serve an evidence file, to those who may read its task only, always as a download."""
    item = get_object_or_404(Evidence.objects.select_related("report__task"), pk=pk)
    if not can(request.user, Action.READ, item.report.task):
        raise Http404
    path = services.evidence_path(item.stored_name)
    if not path.exists():
        raise Http404
    response = FileResponse(path.open("rb"), as_attachment=True, filename=item.original_name,
                            content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
