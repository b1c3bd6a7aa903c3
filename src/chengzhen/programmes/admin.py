from django.contrib import admin

from chengzhen.org.admin_base import ScopedAdmin

from .models import Phase, Programme, Target


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0


@admin.register(Programme)
class ProgrammeAdmin(ScopedAdmin):
    list_display = ("code", "name", "kind", "start_date", "end_date", "reporting_cycle",
                    "reporting_day")
    list_filter = ("kind", "reporting_cycle")
    search_fields = ("code", "name")
    inlines = [PhaseInline]


@admin.register(Target)
class TargetAdmin(ScopedAdmin):
    list_display = ("name", "programme", "level", "year", "subject_division", "subject_unit",
                    "value", "measure_unit", "due_date")
    list_filter = ("programme", "level", "year")
    search_fields = ("name",)
