"""Programmes (工作计划), their phases (阶段) and targets (目标) in the admin.

Listed by programme through ``restrict``; changed by administrators and by supervisors whose
grant covers the programme (``can``), like every other path.
"""

from __future__ import annotations

from django.contrib import admin

from chengzhen.org.admin_base import ScopedAdmin, ScopedInline

from .models import Phase, Programme, Target


class PhaseInline(ScopedInline):
    model = Phase


@admin.register(Programme)
class ProgrammeAdmin(ScopedAdmin):
    list_display = ("code", "name", "kind", "start_date", "end_date", "owner_unit",
                    "reporting_cycle", "reporting_day", "light_rules")
    list_filter = ("kind", "reporting_cycle")
    search_fields = ("code", "name")
    list_select_related = ("owner_unit",)
    inlines = [PhaseInline]


@admin.register(Target)
class TargetAdmin(ScopedAdmin):
    list_display = ("name", "programme", "level", "year", "subject_division", "subject_unit",
                    "value", "measure_unit", "due_date")
    list_filter = ("programme", "level", "year")
    search_fields = ("name", "subject_unit__name", "subject_division__name")
    list_select_related = ("programme", "subject_division", "subject_unit")
