"""Pages of inspections (督查调研: 明察暗访, 人大代表/政协委员调研), their rectifications (督查整改)
and accountability records (问责与表扬): lists, an inspection with its photos, links and
rectifications, and the forms to record them. Thin shells over ``inspections`` (the actions)
and the permission function; every text people typed is shown escaped."""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chengzhen.ledger.models import Task
from chengzhen.ledger.views import problem_text
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, can, restrict
from chengzhen.problems import Refused
from chengzhen.programmes.models import Programme

from . import inspections
from .models import (
    Accountability,
    AccountabilityKind,
    Bulletin,
    BulletinStatus,
    Escalation,
    Inspection,
    InspectionKind,
    InspectionPhoto,
)

PAGE_SIZE = 50
CODES = re.compile(r"[\s,，、;；]+")


def inspections_for(user):
    """The inspections ``user`` may read."""
    return restrict(Inspection.objects.select_related("programme", "recorded_by"), user, Action.READ)


def _clean(value: str | None) -> str:
    """A query parameter as text; one holding a NUL (which no database takes) is dropped."""
    value = (value or "").strip()
    return "" if "\x00" in value else value


def _refused(form: forms.Form, exc: Refused) -> None:
    for p in exc.problems:
        form.add_error(None, problem_text(p))


def _tasks_by_code(user, programme: Programme, text: str) -> tuple[list[Task], list[str]]:
    """The tasks of ``programme`` that ``user`` may read named by codes in ``text`` (separated by
    commas, spaces or new lines), and the codes not found among them."""
    codes = list(dict.fromkeys(c for c in CODES.split(text or "") if c))
    found = {t.code: t for t in restrict(Task.objects.filter(programme=programme, code__in=codes),
                                         user).select_related("lead_unit")}
    return [found[c] for c in codes if c in found], [c for c in codes if c not in found]


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


# -- inspections -------------------------------------------------------------------------------
@login_required
def inspection_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can(user, Action.READ, Inspection):
        raise PermissionDenied(_("无权查看督查调研"))
    qs = inspections_for(user)
    kind = request.GET.get("kind", "")
    if kind in InspectionKind.values:
        qs = qs.filter(kind=kind)
    else:
        kind = ""
    programme = _clean(request.GET.get("programme"))
    if programme:
        qs = qs.filter(programme__code=programme)
    page = Paginator(qs.order_by("-held_on", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    for i in page.object_list:
        i.off_rota = inspections.off_rota(i)
    return render(request, "supervision/inspections.html", {
        "page": page, "kind": kind, "kinds": InspectionKind.choices, "programme": programme,
        "programmes": restrict(Programme.objects.all(), user, Action.READ),
        "can_record": can(user, Action.EDIT, Inspection)})


@login_required
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    inspection = get_object_or_404(inspections_for(user), pk=pk)
    links = list(inspection.links.select_related("unit", "task").order_by("pk"))
    rectifications = list(inspection.rectifications.select_related(
        "unit", "task", "task__light", "source_task").order_by("deadline", "pk"))
    today = timezone.localdate()
    for r in rectifications:
        r.state = inspections.rectification_state(r, today)
    ids = {li.task_id for li in links if li.task_id} | {r.task_id for r in rectifications} | {
        r.source_task_id for r in rectifications if r.source_task_id}
    readable = set(restrict(Task.objects.filter(pk__in=ids), user).values_list("pk", flat=True))
    return render(request, "supervision/inspection.html", {
        "inspection": inspection, "links": links, "photos": inspection.photos.order_by("uploaded_at", "pk"),
        "rectifications": rectifications, "readable": readable,
        "off_rota": inspections.off_rota(inspection),
        "can_edit": can(user, Action.EDIT, inspection),
        "can_account": can(user, Action.EDIT, Accountability)})


@login_required
def inspection_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """Serve an inspection photo to those who may read its inspection (404 to anyone else).
    Photos were re-encoded on upload, so they are served inline for the page to show."""
    photo = get_object_or_404(InspectionPhoto.objects.select_related("inspection"), pk=pk)
    if not can(request.user, Action.READ, photo):
        raise Http404
    path = inspections.photo_path(photo.stored_name)
    if not path.exists():
        raise Http404
    response = FileResponse(path.open("rb"), filename=photo.original_name, content_type=photo.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


class InspectionForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"))
    programme = forms.ModelChoiceField(label=gettext_lazy("工作计划"), queryset=Programme.objects.none())
    held_on = forms.DateField(label=gettext_lazy("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(label=gettext_lazy("地点"), max_length=200)
    inspectors = forms.CharField(label=gettext_lazy("参加人员"), max_length=300)
    findings = forms.CharField(label=gettext_lazy("发现问题"), widget=forms.Textarea(attrs={"rows": 6}))
    units = forms.ModelMultipleChoiceField(label=gettext_lazy("涉及单位"), required=False,
                                           queryset=Unit.objects.order_by("path"),
                                           widget=forms.SelectMultiple(attrs={"size": 8}))
    tasks = forms.CharField(label=gettext_lazy("涉及任务"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text=gettext_lazy("任务编号，多个用逗号、空格或换行分隔；任务的牵头单位一并列为涉及单位"))
    photos = MultiplePhotoField(label=gettext_lazy("现场照片（JPEG、PNG、WebP，可多选）"), required=False)

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        programmes = list(restrict(Programme.objects.all(), user, Action.READ))
        allowed = {(p.pk, k) for p in programmes for k in InspectionKind.values
                   if can(user, Action.EDIT, Inspection(programme=p, kind=k))}
        self.fields["programme"].queryset = Programme.objects.filter(
            pk__in={p for p, _k in allowed}).order_by("code")
        self.fields["kind"].choices = [(k, label) for k, label in InspectionKind.choices
                                       if any(k == kk for _p, kk in allowed)]


@login_required
def inspection_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can(user, Action.EDIT, Inspection):
        raise PermissionDenied(_("无权记录督查调研"))
    form = InspectionForm(user, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        tasks, missing = _tasks_by_code(user, d["programme"], d["tasks"])
        for code in missing:
            form.add_error("tasks", _("工作计划“%(programme)s”中没有任务编号 %(code)s") % {
                "programme": d["programme"].name, "code": code})
        if not missing:
            covered = {t.lead_unit_id for t in tasks}
            links = [(u, None) for u in d["units"] if u.pk not in covered] + [(None, t) for t in tasks]
            written = []
            try:
                with transaction.atomic():  # the inspection and its photos stand or fall together
                    inspection = inspections.record_inspection(
                        user, d["programme"], kind=d["kind"], held_on=d["held_on"], place=d["place"],
                        inspectors=d["inspectors"], findings=d["findings"], links=links)
                    for upload in d["photos"]:
                        written.append(inspections.attach_photo(user, inspection, upload.read(), upload.name))
            except Refused as exc:
                for photo in written:  # rolled back: their files go too
                    inspections.photo_path(photo.stored_name).unlink(missing_ok=True)
                _refused(form, exc)
            else:
                messages.success(request, _("已记录%(kind)s：%(place)s。") % {
                    "kind": inspection.get_kind_display(), "place": inspection.place})
                if inspections.off_rota(inspection):
                    messages.warning(request, _(
                        "注意：%(month)s月不是%(kind)s的月份（人大、政协分单、双月份组织调研）。") % {
                        "month": inspection.held_on.month, "kind": inspection.get_kind_display()})
                return redirect("supervision:inspection", pk=inspection.pk)
    return render(request, "supervision/inspection_form.html", {"form": form})


class RectificationForm(forms.Form):
    unit = forms.ModelChoiceField(label=gettext_lazy("整改单位"), queryset=Unit.objects.order_by("path"))
    requirement = forms.CharField(label=gettext_lazy("整改要求"), widget=forms.Textarea(attrs={"rows": 5}),
                                  help_text=gettext_lazy("第一行作为整改任务的名称"))
    deadline = forms.DateField(label=gettext_lazy("整改时限"), widget=forms.DateInput(attrs={"type": "date"}))
    source_task = forms.ModelChoiceField(label=gettext_lazy("所涉任务"), required=False,
                                         queryset=Task.objects.none())

    def __init__(self, inspection: Inspection, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source_task"].queryset = Task.objects.filter(
            pk__in=inspection.links.exclude(task=None).values("task_id")).order_by("code")
        first = inspection.links.order_by("pk").first()
        if first is not None:
            self.fields["unit"].initial = first.unit_id


@login_required
def rectification_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    inspection = get_object_or_404(inspections_for(user), pk=pk)
    if not can(user, Action.EDIT, inspection):
        raise PermissionDenied(_("无权对该督查调研下达整改要求"))
    form = RectificationForm(inspection, request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            r = inspections.add_rectification(user, inspection, unit=d["unit"], requirement=d["requirement"],
                                              deadline=d["deadline"], source_task=d["source_task"])
        except Refused as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("已下达整改要求，整改任务 %(code)s 已列入台账。") % {"code": r.task.code})
            return redirect("supervision:inspection", pk=inspection.pk)
    return render(request, "supervision/rectification_form.html", {"form": form, "inspection": inspection})


# -- accountability ------------------------------------------------------------------------------
@login_required
def accountability_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can(user, Action.READ, Accountability):
        raise PermissionDenied(_("无权查看问责与表扬"))
    qs = restrict(Accountability.objects.select_related("programme", "unit", "escalation", "inspection",
                                                        "bulletin"), user, Action.READ)
    kind = request.GET.get("kind", "")
    if kind in AccountabilityKind.values:
        qs = qs.filter(kind=kind)
    else:
        kind = ""
    programme, unit = _clean(request.GET.get("programme")), _clean(request.GET.get("unit"))
    if programme:
        qs = qs.filter(programme__code=programme)
    if unit:
        qs = qs.filter(unit__code=unit)
    year = request.GET.get("year", "")
    if re.fullmatch(r"[0-9]{4}", year):
        qs = qs.filter(on__year=int(year))
    else:
        year = ""
    page = Paginator(qs.order_by("-on", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    seen = {a.inspection_id for a in page.object_list if a.inspection_id}
    readable = set(inspections_for(user).filter(pk__in=seen).values_list("pk", flat=True))
    return render(request, "supervision/accountabilities.html", {
        "page": page, "kind": kind, "kinds": AccountabilityKind.choices, "programme": programme,
        "unit": unit, "year": year, "programmes": restrict(Programme.objects.all(), user, Action.READ),
        "readable_inspections": readable, "can_record": can(user, Action.EDIT, Accountability)})


class AccountabilityForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=AccountabilityKind.choices)
    programme = forms.ModelChoiceField(label=gettext_lazy("工作计划"), queryset=Programme.objects.none())
    unit = forms.ModelChoiceField(label=gettext_lazy("单位"), queryset=Unit.objects.order_by("path"))
    person = forms.CharField(label=gettext_lazy("人员"), max_length=50, required=False,
                             help_text=gettext_lazy("空则针对单位"))
    on = forms.DateField(label=gettext_lazy("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=gettext_lazy("事由"), widget=forms.Textarea(attrs={"rows": 4}))
    tasks = forms.CharField(label=gettext_lazy("所涉任务"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text=gettext_lazy("任务编号，多个用逗号、空格或换行分隔；记录各任务当前的灯色"))
    escalation = forms.ModelChoiceField(label=gettext_lazy("督办函/约谈"), required=False,
                                        queryset=Escalation.objects.none())
    inspection = forms.ModelChoiceField(label=gettext_lazy("督查调研"), required=False,
                                        queryset=Inspection.objects.none())
    bulletin = forms.ModelChoiceField(label=gettext_lazy("工作通报"), required=False,
                                      queryset=Bulletin.objects.none())

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = restrict(Programme.objects.all(), user, Action.READ).order_by("code")
        self.fields["escalation"].queryset = restrict(
            Escalation.objects.select_related("unit"), user, Action.READ).order_by("-created_at", "-pk")
        self.fields["inspection"].queryset = inspections_for(user).order_by("-held_on", "-pk")
        self.fields["bulletin"].queryset = restrict(
            Bulletin.objects.filter(status=BulletinStatus.ISSUED), user, Action.READ).order_by("-period_to", "-pk")


@login_required
def accountability_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can(user, Action.EDIT, Accountability):
        raise PermissionDenied(_("无权记录问责与表扬"))
    initial = {"on": timezone.localdate()}
    for name, model, field in (("programme", Programme, "code"), ("unit", Unit, "code"),
                               ("inspection", Inspection, "pk"), ("escalation", Escalation, "pk"),
                               ("bulletin", Bulletin, "pk")):
        value = _clean(request.GET.get(name))
        if value and (field != "pk" or re.fullmatch(r"[0-9]{1,18}", value)):
            found = model.objects.filter(**{field: value}).values_list("pk", flat=True).first()
            if found is not None:
                initial[name] = found
    form = AccountabilityForm(user, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        tasks, missing = _tasks_by_code(user, d["programme"], d["tasks"])
        for code in missing:
            form.add_error("tasks", _("工作计划“%(programme)s”中没有任务编号 %(code)s") % {
                "programme": d["programme"].name, "code": code})
        if not missing:
            try:
                inspections.record_accountability(
                    user, kind=d["kind"], programme=d["programme"], unit=d["unit"], person=d["person"],
                    on=d["on"], reason=d["reason"], tasks=tasks, escalation=d["escalation"],
                    inspection=d["inspection"], bulletin=d["bulletin"])
            except Refused as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("已记录%(kind)s：%(unit)s。") % {
                    "kind": dict(AccountabilityKind.choices)[d["kind"]], "unit": d["unit"].name})
                return redirect("supervision:accountabilities")
    return render(request, "supervision/accountability_form.html", {"form": form})
