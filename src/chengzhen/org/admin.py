from django.contrib import admin

from .admin_base import ScopedAdmin
from .models import Division, Membership, MembershipProgramme, Unit, User


@admin.register(Division)
class DivisionAdmin(ScopedAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(Unit)
class UnitAdmin(ScopedAdmin):
    list_display = ("code", "name", "short_name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("code", "name", "short_name")
    readonly_fields = ("path",)


class MembershipProgrammeInline(admin.TabularInline):
    model = MembershipProgramme
    extra = 0


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    list_display = ("user", "role", "unit")
    list_filter = ("role",)
    search_fields = ("user__username", "user__full_name", "unit__name")
    inlines = [MembershipProgrammeInline]


@admin.register(User)
class UserAdmin(ScopedAdmin):
    list_display = ("username", "full_name", "unit", "phone", "is_active", "is_staff")
    search_fields = ("username", "full_name", "phone")
    fields = ("username", "full_name", "phone", "unit", "email", "is_active", "is_staff",
              "expected_version")
