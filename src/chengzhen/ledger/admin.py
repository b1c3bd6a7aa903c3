from django.contrib import admin

from chengzhen.org.admin_base import ScopedAdmin

from .models import AnnualPlan, Cooperation, ProgressReport, Task, TimeNode


class CooperationInline(admin.TabularInline):
    model = Cooperation
    extra = 0


class TimeNodeInline(admin.TabularInline):
    model = TimeNode
    extra = 0


class AnnualPlanInline(admin.TabularInline):
    model = AnnualPlan
    extra = 0


@admin.register(Task)
class TaskAdmin(ScopedAdmin):
    list_display = ("code", "name", "programme", "lead_unit", "start_date", "due_date", "status")
    list_filter = ("programme", "status", "category")
    search_fields = ("code", "name", "requirement")
    list_select_related = ("programme", "lead_unit")
    raw_id_fields = ("parent", "responsible_user")
    inlines = [CooperationInline, AnnualPlanInline, TimeNodeInline]


@admin.register(ProgressReport)
class ProgressReportAdmin(ScopedAdmin):
    list_display = ("task", "period", "reporting_unit", "physical_progress", "investment",
                    "submitted_at", "is_current")
    list_filter = ("period", "is_current")
    search_fields = ("task__code", "task__name")
    list_select_related = ("task", "reporting_unit")
    readonly_fields = ("submitted_at", "supersedes", "is_current", "reporter")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # append-only: a correction is a new report that supersedes this one

    def has_add_permission(self, request) -> bool:
        return False  # reports go through the report form and import, never typed here
