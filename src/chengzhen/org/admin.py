"""Organisation (组织与人员) in the admin: divisions, units, people and memberships.

Units are listed by the viewer's subtrees; divisions, people and memberships are for
administrators only (``can`` decides; personal details stay with administrators).
"""

from __future__ import annotations

from django.contrib import admin

from .admin_base import ScopedAdmin, ScopedInline
from .models import Division, Membership, MembershipProgramme, Unit, User


@admin.register(Division)
class DivisionAdmin(ScopedAdmin):
    list_display = ("code", "gb2260", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "gb2260", "name")
    list_select_related = ("parent",)


@admin.register(Unit)
class UnitAdmin(ScopedAdmin):
    list_display = ("code", "name", "short_name", "kind", "division", "parent")
    list_filter = ("kind",)
    search_fields = ("code", "name", "short_name")
    list_select_related = ("division", "parent")
    readonly_fields = ("path",)


class MembershipProgrammeInline(ScopedInline):
    model = MembershipProgramme
    verbose_name = verbose_name_plural = "限定的工作计划（不填则为全部）"


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    list_display = ("user", "role", "unit")
    list_filter = ("role",)
    search_fields = ("user__username", "user__full_name", "unit__name")
    list_select_related = ("user", "unit")
    inlines = [MembershipProgrammeInline]


@admin.register(User)
class UserAdmin(ScopedAdmin):
    list_display = ("username", "full_name", "unit", "phone", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff")
    search_fields = ("username", "full_name", "phone")
    list_select_related = ("unit",)
    fields = ("username", "full_name", "phone", "unit", "email", "is_active", "is_staff",
              "expected_version")
