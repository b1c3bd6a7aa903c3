"""Assessment in the admin: frameworks and their versions to look at (versions are imported
through the command, the page or the API, never edited here), subject profiles per year and
rounds to edit, scoring runs and values to look at; designation rules to edit, designations, weight
sets and funds to look at (they move through their services: grants, reviews, allocations)."""

from django.contrib import admin

from chengzhen.org.admin_base import ReadOnlyAdmin, ScopedAdmin

from .models import (
    Campaign,
    Designation,
    DesignationRule,
    Framework,
    FrameworkVersion,
    FundPool,
    JointPlan,
    MeasureMatch,
    Round,
    Scoring,
    SubjectProfile,
    Value,
    WeightSet,
)


@admin.register(Framework)
class FrameworkAdmin(ReadOnlyAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(FrameworkVersion)
class FrameworkVersionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "name", "status", "leaves", "created_at", "frozen_at"]
    list_filter = ["status"]
    exclude = ["definition"]


@admin.register(SubjectProfile)
class SubjectProfileAdmin(ScopedAdmin):
    list_display = ["unit", "year", "attributes"]
    list_filter = ["year"]
    raw_id_fields = ["unit"]


@admin.register(Scoring)
class ScoringAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "subjects", "run_by", "run_at", "seconds"]


@admin.register(Round)
class RoundAdmin(ScopedAdmin):
    """Rounds are set up here or with ``chengzhen round create``; scoring and publication go
    through the round's page or the command (they freeze and notify)."""

    list_display = ["code", "name", "framework_version", "status", "period_from", "period_to", "submit_by"]
    list_filter = ["status"]
    readonly_fields = ["status", "scoring", "published_at", "published_by"]
    raw_id_fields = ["framework_version", "previous"]


@admin.register(Value)
class ValueAdmin(ReadOnlyAdmin):
    """Values are submitted and verified through the pages, the API and the templates."""

    list_display = ["round", "subject", "node", "input", "amount", "unit", "status", "source", "submitted_by",
                    "verified_by"]
    list_filter = ["status", "source"]
    search_fields = ["node", "subject__name"]


@admin.register(DesignationRule)
class DesignationRuleAdmin(ScopedAdmin):
    list_display = ["code", "title", "framework", "fail_grades", "pass_score", "rectify_months"]


@admin.register(Designation)
class DesignationAdmin(ReadOnlyAdmin):
    """Granted with ``chengzhen designation grant`` or the designations page; moved by rounds."""

    list_display = ["unit", "rule", "state", "granted_on", "decision", "rectify_until", "revoked_on"]
    list_filter = ["state", "rule"]


@admin.register(WeightSet)
class WeightSetAdmin(ReadOnlyAdmin):
    list_display = ["name", "method", "framework_version", "created_by", "created_at"]
    list_filter = ["method"]


@admin.register(FundPool)
class FundPoolAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "amount", "round", "method", "remainder", "allocated_at"]


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    """Bound with ``chengzhen joint campaign``."""

    list_display = ["title", "programme", "framework_version"]


@admin.register(JointPlan)
class JointPlanAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "subject", "year", "merged_at"]


@admin.register(MeasureMatch)
class MeasureMatchAdmin(ReadOnlyAdmin):
    """Confirmed or rejected on the matches page or with ``chengzhen joint matches``."""

    list_display = ["framework", "node", "indicator_name", "measure", "status", "score", "decided_by", "decided_at"]
    list_filter = ["status"]
