"""Audit records from data migrations, which work on historical models.

Historical models have none of ``TrackedModel``'s methods, so a data migration records its
writes explicitly::

    def forwards(apps, schema_editor):
        User = apps.get_model("org", "User")
        user = User.objects.create(...)
        record_created(apps, "org.0003_system_user", [user], exclude=("password", "last_login"))
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from .chain import Entry, append
from .context import Actor, acting_as
from .tracking import _canonical_field


def _image(instance: models.Model, exclude: Iterable[str]) -> dict:
    skip = set(exclude)
    return {
        f.attname: _canonical_field(f, getattr(instance, f.attname))
        for f in instance._meta.concrete_fields
        if f.name not in skip
    }


def record_created(apps, migration: str, instances: Iterable[models.Model],
                   exclude: Iterable[str] = ()) -> None:
    """Record ``instances`` as created by the data migration ``migration``."""
    exclude = tuple(exclude)
    with acting_as(Actor(None, "system", f"migration:{migration}")):
        append(
            [Entry("create", i._meta.label_lower, str(i.pk), None, _image(i, exclude))
             for i in instances],
            record_model=apps.get_model("audit", "AuditRecord"),
            head_model=apps.get_model("audit", "AuditHead"),
        )
