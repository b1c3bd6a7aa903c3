"""Life-circle studies in the admin: to look at only (they are created, run and published through
``studies``, which check the permission and write the audit record)."""

from django.contrib import admin

from chengzhen.org.admin_base import ReadOnlyAdmin

from .models import Study


@admin.register(Study)
class StudyAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "area_unit", "preset", "status", "published", "ran_at"]
    list_filter = ["status", "published"]
    search_fields = ["code", "name"]
