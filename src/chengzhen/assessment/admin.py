"""Assessment in the admin: frameworks and their versions to look at (versions are imported
through the command, the page or the API, never edited here), subject profiles per year to
edit, scoring runs to look at."""

from django.contrib import admin

from chengzhen.org.admin_base import ReadOnlyAdmin, ScopedAdmin

from .models import Framework, FrameworkVersion, Scoring, SubjectProfile


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
