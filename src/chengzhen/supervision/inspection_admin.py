"""Inspections (督查调研), rectifications (督查整改) and accountability records (问责与表扬) in
the admin, through the same permission function as every other path.

An inspection and its links (涉及单位、任务) are edited by those who may record its kind
(``ScopedAdmin``); its photos are uploaded through the pages (checked and stripped there) and
only shown here. Rectifications (their ledger task is created by ``add_rectification``) and
accountability records are looked at, not edited: they are recorded through the pages, the
API or the bulletins.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from chengzhen.org.admin_base import ReadOnlyAdmin, ScopedAdmin, ScopedInline

from . import inspections
from .models import Accountability, Inspection, InspectionLink, InspectionPhoto, Rectification


class LinkForm(forms.ModelForm):
    """A link's task must be in the inspection's programme and its unit the task's lead or a
    cooperating unit (as ``record_inspection`` asks)."""

    class Meta:
        model = InspectionLink
        fields = ["unit", "task"]

    def clean(self):
        data = super().clean()
        task, unit = data.get("task"), data.get("unit")
        try:  # the inline formset sets the (possibly unsaved) inspection on the instance
            programme_id = self.instance.inspection.programme_id
        except ObjectDoesNotExist:
            programme_id = None
        if task is not None and programme_id is not None and task.programme_id != programme_id:
            raise forms.ValidationError(f"任务 {task.code} 不在该督查调研的工作计划中")
        if task is not None and unit is not None and unit.pk not in {
                task.lead_unit_id, *task.cooperations.values_list("unit_id", flat=True)}:
            raise forms.ValidationError(f"{unit.name} 不是任务 {task.code} 的牵头单位或配合单位")
        return data


class LinkInline(ScopedInline):
    model = InspectionLink
    form = LinkForm
    raw_id_fields = ["task"]


class PhotoInline(ScopedInline):
    model = InspectionPhoto
    fields = ["original_name", "content_type", "size", "taken_at", "longitude", "latitude",
              "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # photos are checked and stripped on upload through the pages

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Inspection)
class InspectionAdmin(ScopedAdmin):
    list_display = ["held_on", "kind", "place", "programme", "recorded_by", "off_rota"]
    list_filter = ["kind", "programme"]
    list_select_related = ["programme", "recorded_by"]
    search_fields = ["place", "inspectors", "findings"]
    date_hierarchy = "held_on"
    readonly_fields = ["recorded_by", "recorded_at"]
    inlines = [LinkInline, PhotoInline]

    @admin.display(description="非本月轮值", boolean=True)
    def off_rota(self, obj) -> bool:
        return inspections.off_rota(obj)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.recorded_by, obj.recorded_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj) -> None:
        names = list(obj.photos.values_list("stored_name", flat=True))
        super().delete_model(request, obj)
        _remove_on_commit(names)

    def delete_queryset(self, request, queryset) -> None:
        names = list(InspectionPhoto.objects.filter(inspection__in=queryset).values_list(
            "stored_name", flat=True))
        super().delete_queryset(request, queryset)
        _remove_on_commit(names)


def _remove_on_commit(stored_names: list[str]) -> None:
    """Remove deleted photos' files once the deletion has committed."""
    def remove() -> None:
        for name in stored_names:
            inspections.photo_path(name).unlink(missing_ok=True)

    transaction.on_commit(remove)


@admin.register(InspectionLink)
class InspectionLinkAdmin(ReadOnlyAdmin):
    list_display = ["inspection", "unit", "task"]
    list_select_related = ["inspection", "unit", "task"]


@admin.register(InspectionPhoto)
class InspectionPhotoAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "inspection", "content_type", "size", "taken_at", "uploaded_at"]
    list_select_related = ["inspection"]
    exclude = ["stored_name"]


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = ["task", "unit", "deadline", "state", "inspection"]
    list_select_related = ["task", "unit", "inspection"]
    list_filter = ["deadline"]

    @admin.display(description="状态")
    def state(self, obj) -> str:
        return str(inspections.rectification_state(obj).label)


@admin.register(Accountability)
class AccountabilityAdmin(ReadOnlyAdmin):
    list_display = ["on", "kind", "unit", "person", "programme", "recorded_by"]
    list_filter = ["kind", "programme"]
    list_select_related = ["unit", "programme", "recorded_by"]
    search_fields = ["reason", "person"]
    date_hierarchy = "on"
