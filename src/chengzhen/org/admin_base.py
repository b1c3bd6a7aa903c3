"""The admin (管理后台) through the same permission function as every other path.

* Who may enter: administrators (``is_superuser`` or an admin membership) and active staff
  with at least one role (``may_enter_admin``; installed on the default admin site).
* ``ScopedAdmin`` lists task records (tasks, cooperations, time nodes, annual plans, reports,
  evidence) through ``restrict``; every ``has_*_permission`` asks ``can`` — on the object, or
  on the model class when there is none ("may this person change some record of this kind?").
  A save or delete is re-checked on the object as it will be written, inside the admin's
  transaction, so a changed lead unit cannot move a task out of the editor's reach.
* Saves go through ``Model.save`` (tracked models audit themselves); the actor is the
  logged-in user, set per request by ``AuditContextMiddleware``.
* Concurrency: the change form carries the version it was opened at (a hidden field); saving
  over a newer version is refused with a message instead of overwriting someone else's change.
* ``ScopedInline`` gives inlines the same rules, asked on the parent object.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied

from .access import Action, is_admin
from .permissions import can, grants_for, restrict


def may_enter_admin(user) -> bool:
    """Administrators, and active staff holding at least one role, may enter the admin."""
    if user is None or not user.is_active or not user.is_authenticated:
        return False
    grants = grants_for(user)
    return is_admin(grants) or (user.is_staff and bool(grants))


def _admin_site_permission(request) -> bool:
    return may_enter_admin(request.user)


admin.site.has_permission = _admin_site_permission


class VersionedForm(forms.ModelForm):
    """A model form that refuses a stale edit (版本冲突): the record's version when the form
    was opened travels in a hidden field and must still be the stored one when it is saved."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None:
            # locked until the admin's transaction ends, so no one slips in before the save
            stored = (type(self.instance)._base_manager.select_for_update(of=("self",))
                      .filter(pk=self.instance.pk).order_by().values_list("version", flat=True)
                      .first())
            expected = data.get("expected_version")
            if expected is None and "expected_version" in self.fields:
                raise forms.ValidationError("缺少打开时的版本号，请重新打开后再改。")
            if expected is not None and stored is not None and stored != expected:
                raise forms.ValidationError(
                    f"该记录已被他人修改（打开时为第 {expected} 版，现为第 {stored} 版），"
                    "请重新打开后再改。")
        return data


class ScopedAdmin(admin.ModelAdmin):
    """Base of every admin: lists, views and changes exactly what ``can`` allows."""

    form = VersionedForm

    def has_module_permission(self, request) -> bool:
        return may_enter_admin(request.user) and can(request.user, Action.READ, self.model)

    def has_view_permission(self, request, obj=None) -> bool:
        if not may_enter_admin(request.user):
            return False
        return can(request.user, Action.READ, self.model if obj is None else obj)

    def has_change_permission(self, request, obj=None) -> bool:
        if not may_enter_admin(request.user):
            return False
        return can(request.user, Action.EDIT, self.model if obj is None else obj)

    def has_add_permission(self, request) -> bool:
        return self.has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def get_queryset(self, request):
        return restrict(super().get_queryset(request), request.user, Action.READ)

    def save_model(self, request, obj, form, change) -> None:
        # re-checked on the object as it will be saved (e.g. a lead unit changed in the form)
        if not can(request.user, Action.EDIT, obj):
            raise PermissionDenied("无权保存该记录")
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj) -> None:
        if not can(request.user, Action.EDIT, obj):
            raise PermissionDenied("无权删除该记录")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            if not can(request.user, Action.EDIT, obj):
                raise PermissionDenied(f"无权删除 {obj}")
        super().delete_queryset(request, queryset)


class ReadOnlyAdmin(ScopedAdmin):
    """A scoped admin to look at records, never to add, change or delete them (append-only
    records, computed data); nothing is saved, so no version travels with the form."""

    form = forms.ModelForm

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ScopedInline(admin.TabularInline):
    """An inline whose rights are the parent's, asked through ``can``."""

    extra = 0

    def has_view_permission(self, request, obj=None) -> bool:
        return may_enter_admin(request.user) and can(
            request.user, Action.READ, self.parent_model if obj is None else obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return may_enter_admin(request.user) and can(
            request.user, Action.EDIT, self.parent_model if obj is None else obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)
