"""Supervision pages: a unit's letters and interviews, one escalation with its letter, and a
person's notifications. Thin shells over the permission function and the services."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from chengzhen.ledger.services import StaleEdit
from chengzhen.org.permissions import Action, restrict
from chengzhen.problems import Refused

from . import services
from .letters import letter_path
from .models import Escalation, EscalationKind, InterviewStatus, Notification


def escalations_for(user):
    return restrict(Escalation.objects.select_related("programme", "unit"), user, Action.READ)


@login_required
def escalation_list(request: HttpRequest) -> HttpResponse:
    qs = escalations_for(request.user)
    kind = request.GET.get("kind", "")
    if kind in EscalationKind.values:
        qs = qs.filter(kind=kind)
    page = Paginator(qs.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(request, "supervision/escalations.html", {
        "page": page, "kind": kind, "kinds": EscalationKind.choices})


class InterviewForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("状态"), choices=InterviewStatus.choices)
    head = forms.CharField(label=gettext_lazy("约谈对象"), max_length=50, required=False)
    held_on = forms.DateField(label=gettext_lazy("约谈日期"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    outcome = forms.CharField(label=gettext_lazy("约谈情况"), required=False, widget=forms.Textarea(
        attrs={"rows": 4}))
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


@login_required
def escalation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    esc = get_object_or_404(escalations_for(request.user), pk=pk)
    may_record = services.may_record(request.user, esc)
    form = None
    if may_record:
        form = InterviewForm(request.POST or None, initial={
            "status": esc.status, "head": esc.head, "held_on": esc.held_on, "outcome": esc.outcome,
            "expected_version": esc.version})
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                services.record_interview(request.user, esc, expected_version=d["expected_version"],
                                          status=d["status"], head=d["head"], held_on=d["held_on"],
                                          outcome=d["outcome"])
            except Refused as exc:
                for p in exc.problems:
                    form.add_error(None, f"{_(p.column)}：{p.reason}" if p.column else p.reason)
            except StaleEdit as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已保存约谈情况。"))
                return redirect("supervision:escalation", pk=esc.pk)
    elif request.method == "POST":
        raise Http404
    changes = esc.changes.select_related("task").order_by("on", "pk")
    return render(request, "supervision/escalation.html", {
        "esc": esc, "changes": changes, "form": form, "has_file": esc.kind == "letter"})


@login_required
def letter_file(request: HttpRequest, pk: int) -> FileResponse:
    esc = get_object_or_404(escalations_for(request.user), pk=pk)
    path = letter_path(esc, write=True)
    if path is None:
        raise Http404(_("督办函文件不存在"))
    name = f"督办函-{esc.reference}.docx"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    qs = Notification.objects.filter(recipient=request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(request, "supervision/notifications.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    qs = Notification.objects.filter(recipient=request.user, read_at__isnull=True)
    ids = [int(x) for x in request.POST.getlist("id") if x.isdigit()]
    if ids:
        qs = qs.filter(pk__in=ids)
    n = qs.update(read_at=timezone.now())
    messages.success(request, _("已标记 %(n)s 条为已读。") % {"n": n})
    return redirect("supervision:notifications")


def unread_count(request) -> dict:
    """Context processor: the header's unread-notification count, and whether the person may
    open the inspections (督查调研) at all (unit liaisons may not: the menu leaves it out)."""
    from chengzhen.org.permissions import can

    from .models import Inspection

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Notification.objects.filter(
        recipient=user, read_at__isnull=True).count(),
        "may_see_inspections": can(user, Action.READ, Inspection)}


def light_history(task) -> list[dict]:
    """A task's light changes, each with how long it lasted (to the next change, or today)."""
    changes = list(task.light_changes.select_related("rule_version").order_by("on", "pk"))
    today = timezone.localdate()
    out = []
    for i, c in enumerate(changes):
        names = {lv["code"]: lv["name"] for lv in c.rule_version.definition.get("levels", [])}
        end = changes[i + 1].on if i + 1 < len(changes) else today
        out.append({"change": c, "days": (end - c.on).days, "current": i + 1 == len(changes),
                    "from": names.get(c.from_level, c.from_level), "to": names.get(c.to_level, c.to_level)})
    return list(reversed(out))


