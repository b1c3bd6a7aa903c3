from django.contrib import admin

from chengzhen.org.access import is_admin
from chengzhen.org.admin_base import ReadOnlyAdmin
from chengzhen.org.permissions import grants_for

from .models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    """Read-only: the chain is never edited, not even by administrators."""

    list_display = ("seq", "at", "actor_username", "action", "model", "object_pk", "source")
    list_filter = ("action", "model")
    search_fields = ("actor_username", "object_pk")
    readonly_fields = [f.name for f in AuditRecord._meta.fields]

    def has_module_permission(self, request) -> bool:
        return request.user.is_staff and is_admin(grants_for(request.user))

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

