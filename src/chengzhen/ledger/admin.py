"""The ledger (台账) in the admin: tasks with their units, plans and time nodes; progress
reports and evidence read-only (reports are append-only and entered through the report
form, the API or the monthly-report import, never typed here)."""

from __future__ import annotations

from django.contrib import admin

from chengzhen.org.admin_base import ReadOnlyAdmin, ScopedAdmin, ScopedInline, VersionedForm

from .models import AnnualPlan, Cooperation, Evidence, ProgressReport, Task, TimeNode
from .queries import with_progress
from .services import validate_task


class CooperationInline(ScopedInline):
    model = Cooperation
    verbose_name = verbose_name_plural = "配合单位"


class TimeNodeInline(ScopedInline):
    model = TimeNode


class AnnualPlanInline(ScopedInline):
    model = AnnualPlan


class TaskForm(VersionedForm):
    """The task form also applies the ledger's own rules (``services.validate_task``): due ≥
    start, money ≥ 0, a top-level parent in the same programme, a code unique in it."""

    def _post_clean(self):
        super()._post_clean()
        if self.errors or self.instance.lead_unit_id is None:
            return
        for problem in validate_task(self.instance):
            self.add_error(None, f"{problem.column}：{problem.reason}")


class LaggingFilter(admin.SimpleListFilter):
    """滞后: computed (形象进度 below 序时进度 and not finished), filtered in the database."""

    title = "滞后"
    parameter_name = "lagging"

    def lookups(self, request, model_admin):
        return (("1", "滞后"), ("0", "未滞后"))

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(lagging=self.value() == "1")
        return queryset


@admin.register(Task)
class TaskAdmin(ScopedAdmin):
    form = TaskForm
    list_display = ("code", "name", "programme", "lead_unit", "start_date", "due_date", "status",
                    "time_progress_pct", "physical_progress_pct", "is_lagging")
    list_filter = ("programme", "status", LaggingFilter, "category", "lead_unit")
    search_fields = ("code", "name", "requirement", "responsible_person", "lead_unit__name")
    list_select_related = ("programme", "lead_unit")
    raw_id_fields = ("parent", "responsible_user")
    inlines = [CooperationInline, AnnualPlanInline, TimeNodeInline]

    def get_queryset(self, request):
        return with_progress(super().get_queryset(request))

    @admin.display(description="序时进度", ordering="time_progress")
    def time_progress_pct(self, obj) -> str:
        return f"{obj.time_progress * 100:.1f}%"

    @admin.display(description="形象进度", ordering="physical_progress")
    def physical_progress_pct(self, obj) -> str:
        return f"{obj.physical_progress:.1f}%"

    @admin.display(description="滞后", boolean=True, ordering="lagging")
    def is_lagging(self, obj) -> bool:
        return obj.lagging


class EvidenceInline(ScopedInline):
    model = Evidence
    fields = ("original_name", "content_type", "size", "taken_at", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyAdmin):
    """Append-only: a correction is a new report that supersedes this one (the superseded
    stay in history); reports go through the report form and import, never typed here."""

    list_display = ("task", "period", "reporting_unit", "physical_progress", "investment",
                    "reporter_name", "submitted_at", "is_current")
    list_filter = ("task__programme", "period", "is_current", "reporting_unit")
    search_fields = ("task__code", "task__name", "reporting_unit__name", "reporter_name")
    list_select_related = ("task", "reporting_unit")
    inlines = [EvidenceInline]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    """Files are attached through the report form; never edited."""

    list_display = ("original_name", "report", "content_type", "size", "uploaded_by",
                    "uploaded_at")
    search_fields = ("original_name", "report__task__code", "report__task__name")
    list_select_related = ("report", "report__task", "uploaded_by")
