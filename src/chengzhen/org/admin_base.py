"""The admin's permission and concurrency rules: the same permission function as every path.

``ScopedAdmin`` lists only what the person may read (``restrict`` for task records), lets
them change only what ``can`` allows, re-checks on save inside the transaction, and refuses
a stale edit: the form carries the version it was opened at, and saving over a newer
version is refused with a message instead of overwriting someone else's change.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied

from .access import Action, is_admin
from .permissions import can, grants_for, restrict

TASK_RECORDS = {"task", "cooperation", "timenode", "annualplan", "progressreport"}


class VersionedForm(forms.ModelForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None:
            stored = type(self.instance)._base_manager.filter(pk=self.instance.pk).values_list(
                "version", flat=True).first()
            expected = data.get("expected_version")
            if expected is not None and stored is not None and stored != expected:
                raise forms.ValidationError(
                    f"该记录已被他人修改（打开时为第 {expected} 版，现为第 {stored} 版），"
                    "请重新打开后再改。")
        return data


class ScopedAdmin(admin.ModelAdmin):
    form = VersionedForm

    def _is_task_record(self) -> bool:
        return self.model._meta.model_name in TASK_RECORDS

    def _grants(self, request):
        return grants_for(request.user)

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff and bool(self._grants(request))

    def has_view_permission(self, request, obj=None) -> bool:
        if not self.has_module_permission(request):
            return False
        if obj is None or not self._is_task_record():
            return True
        return can(request.user, Action.READ, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        if not self.has_module_permission(request):
            return False
        if not self._is_task_record():
            return is_admin(self._grants(request))
        if obj is None:
            return any(g.role in ("admin", "supervisor", "unit_editor")
                       for g in self._grants(request))
        return can(request.user, Action.EDIT, obj)

    def has_add_permission(self, request) -> bool:
        return self.has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self._is_task_record():
            return restrict(qs, request.user, Action.READ)
        return qs

    def save_model(self, request, obj, form, change) -> None:
        # re-checked on the object as it will be saved (e.g. a lead unit changed in the form)
        if self._is_task_record() and not can(request.user, Action.EDIT, obj):
            raise PermissionDenied("无权保存该记录")
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj) -> None:
        if self._is_task_record() and not can(request.user, Action.EDIT, obj):
            raise PermissionDenied("无权删除该记录")
        super().delete_model(request, obj)
