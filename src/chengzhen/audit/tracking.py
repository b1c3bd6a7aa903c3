"""Tracked models: every create, change and delete is written to the audit chain.

A model that subclasses ``TrackedModel`` is recorded on every path the ORM offers —
``save()``, ``objects.create()``, ``bulk_create``, ``bulk_update``, ``QuerySet.update`` and
deletes including cascades — in the same transaction as the change. Images hold the model's
concrete fields by attribute name (``lead_unit_id``), canonicalised; many-to-many links are
modelled as tracked rows of their own, so every link has its own record.

Each tracked row also carries ``version``, raised on every change, so a stale edit can be
refused instead of silently overwriting someone else's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from . import canonical
from .chain import Entry, append
from .fastinsert import insert_objects, insert_values

_TRACKED: list[type[models.Model]] = []


def tracked_models() -> list[type[models.Model]]:
    """Every concrete tracked model, for ``audit verify``."""
    return [m for m in _TRACKED if not m._meta.abstract and not m._meta.proxy]


def audited_fields(model: type[models.Model]) -> list[models.Field]:
    exclude = set(getattr(model, "audit_exclude", ()))
    return [f for f in model._meta.concrete_fields if f.name not in exclude]


def _decimal_quantizer(field: models.DecimalField) -> Callable[[Any], Decimal | None]:
    """The one rounding of a value to a decimal column: half up (四舍五入) to the column's
    places, negative zero as zero. Values are rounded so before they are written (see
    ``normalise_decimals``), because the databases disagree otherwise: PostgreSQL rounds
    half up, SQLite (through Django) half to even, and ``-0.00`` comes back as ``0.00``."""
    q = Decimal(1).scaleb(-field.decimal_places)
    to_python = field.to_python

    def quantize(v: Any) -> Decimal | None:
        if v is None:
            return None
        d = (v if isinstance(v, Decimal) else to_python(v)).quantize(q, rounding=ROUND_HALF_UP)
        return abs(d) if not d else d

    return quantize


def _converter(field: models.Field) -> Callable[[Any], Any]:
    """A function from a field's Python or database value to its canonical value."""
    if isinstance(field, models.DecimalField):
        quantize = _decimal_quantizer(field)
        return lambda v: None if v is None else format(quantize(v), "f")
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if isinstance(field, models.DateTimeField):
        # as Django writes it: a naive datetime is taken in the current time zone (Asia/Shanghai)
        to_python = field.to_python

        def datetime_value(v: Any) -> Any:
            if v is None:
                return None
            v = to_python(v)
            if settings.USE_TZ and timezone.is_naive(v):
                v = timezone.make_aware(v, timezone.get_default_timezone())
            return canonical.canonical_value(v)

        return datetime_value
    if isinstance(field, (models.JSONField, models.TimeField)):
        to_python = field.to_python
        return lambda v: None if v is None else canonical.canonical_value(to_python(v))
    if isinstance(field, models.DateField):
        to_python = field.to_python
        return lambda v: None if v is None else (
            v.isoformat() if type(v) is dt.date else to_python(v).isoformat())
    if isinstance(field, (models.IntegerField, models.AutoField)):
        return lambda v: None if v is None else int(v)
    if isinstance(field, models.BooleanField):
        to_python = field.to_python
        return lambda v: None if v is None else (v if type(v) is bool else to_python(v))
    if isinstance(field, (models.CharField, models.TextField)):
        return lambda v: None if v is None else str(v)
    to_python = field.to_python
    return lambda v: None if v is None else canonical.canonical_value(to_python(v))


_DECIMALS: dict[type[models.Model], list[tuple[str, Callable[[Any], Any]]]] = {}


def _decimals(model: type[models.Model]) -> list[tuple[str, Callable[[Any], Any]]]:
    found = _DECIMALS.get(model)
    if found is None:
        found = _DECIMALS[model] = [
            (f.attname, _decimal_quantizer(f)) for f in model._meta.concrete_fields
            if isinstance(f, models.DecimalField)
        ]
    return found


def normalise_decimals(model: type[models.Model], objs=(), rows=()) -> None:
    """Round the decimal values of unsaved instances ``objs`` or value dicts ``rows`` to their
    columns, so that what is written, what is recorded and what is read back are one value
    on every database."""
    plan = _decimals(model)
    if not plan:
        return
    for o in objs:
        for attname, quantize in plan:
            value = getattr(o, attname)
            if value is not None:
                setattr(o, attname, quantize(value))
    for row in rows:
        for attname, quantize in plan:
            value = row.get(attname)
            if value is not None:
                row[attname] = quantize(value)


_CONVERTERS: dict[type[models.Model], list[tuple[str, Callable[[Any], Any]]]] = {}


def converters(model: type[models.Model]) -> list[tuple[str, Callable[[Any], Any]]]:
    """(attribute name, canonicaliser) for each audited field of ``model``, cached."""
    found = _CONVERTERS.get(model)
    if found is None:
        found = _CONVERTERS[model] = [(f.attname, _converter(f)) for f in audited_fields(model)]
    return found


def _canonical_field(field: models.Field, value: Any) -> Any:
    return _converter(field)(value)


def image_from_values(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """Canonical image from a dict of attribute name → value (as ``.values()`` returns)."""
    return {a: conv(values[a]) for a, conv in converters(model)}


def image(instance: models.Model) -> dict[str, Any]:
    """Canonical image of a model instance as it stands in memory."""
    return {a: conv(getattr(instance, a)) for a, conv in converters(type(instance))}


def _fetch_images(model: type[models.Model], pks) -> dict[Any, dict[str, Any]]:
    attnames = [f.attname for f in audited_fields(model)]
    pk_name = model._meta.pk.attname
    out = {}
    pks = list(pks)
    for i in range(0, len(pks), 900):
        for row in model._base_manager.filter(pk__in=pks[i : i + 900]).values(pk_name, *attnames):
            out[row[pk_name]] = image_from_values(model, row)
    return out


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


class TrackedQuerySet(models.QuerySet):
    """QuerySet whose bulk writes are recorded like single ones."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        normalise_decimals(self.model, objs)
        with transaction.atomic(using=self.db):
            if args or set(kwargs) - {"batch_size"}:
                created = super().bulk_create(objs, *args, **kwargs)
            else:
                insert_objects(objs, self.db)
                created = objs
            append(
                Entry("create", _label(self.model), str(o.pk), None, image(o)) for o in created
            )
        return created

    def insert_values(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert rows given as dicts (attribute name → value), recording each; for imports
        where building model instances would cost more than the insert itself."""
        normalise_decimals(self.model, rows=rows)
        with transaction.atomic(using=self.db):
            ids = insert_values(self.model, rows, self.db)
            label = _label(self.model)
            append(Entry("create", label, str(pk), None, image_from_values(self.model, row))
                   for pk, row in zip(ids, rows, strict=True))
        return ids

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        if not objs:
            return 0
        normalise_decimals(self.model, objs)
        with transaction.atomic(using=self.db):
            befores = _fetch_images(self.model, [o.pk for o in objs])
            for o in objs:
                # the stored version, not the instance's: it may have been built, not loaded
                o.version = befores[o.pk]["version"] + 1 if o.pk in befores else (o.version or 0) + 1
            fields = list(fields) + (["version"] if "version" not in fields else [])
            # the plain manager: Django's bulk_update calls update(), which would record twice
            n = self.model._base_manager.using(self.db).bulk_update(objs, fields, *args, **kwargs)
            entries = []
            for o in objs:
                before = befores.get(o.pk)
                after = dict(before or {})
                for name in fields:
                    f = self.model._meta.get_field(name)
                    after[f.attname] = _canonical_field(f, getattr(o, f.attname))
                if before != after:
                    entries.append(Entry("update", _label(self.model), str(o.pk), before, after))
            append(entries)
        return n

    def update(self, **kwargs):
        for name, quantize in _decimals(self.model):  # a decimal field's name is its attname
            if name in kwargs and not hasattr(kwargs[name], "resolve_expression"):
                kwargs[name] = quantize(kwargs[name])
        with transaction.atomic(using=self.db):
            pks = list(self.values_list("pk", flat=True))
            befores = _fetch_images(self.model, pks)
            kwargs.setdefault("version", models.F("version") + 1)
            n = self.model._base_manager.filter(pk__in=pks).update(**kwargs) if pks else 0
            afters = _fetch_images(self.model, pks)
            append(
                Entry("update", _label(self.model), str(pk), befores.get(pk), afters.get(pk))
                for pk in pks
                if befores.get(pk) != afters.get(pk)
            )
        return n

    update.alters_data = True


TrackedManager = models.Manager.from_queryset(TrackedQuerySet)


class TrackedModel(models.Model):
    """Base of every record people enter or decide (see DESIGN: Audit)."""

    version = models.PositiveIntegerField(default=1, editable=False)

    objects = TrackedManager()
    audit_exclude: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _TRACKED.append(cls)

    def save(self, *args, **kwargs):
        model = type(self)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and update_fields and set(update_fields) <= set(
                self.audit_exclude):
            # only unaudited fields (a login's last_login): no record, and no new version
            return super().save(*args, **kwargs)
        normalise_decimals(model, [self])
        with transaction.atomic(using=kwargs.get("using")):
            creating = self._state.adding or self.pk is None
            before = None
            if not creating:
                before = _fetch_images(model, [self.pk]).get(self.pk)
                creating = before is None
            if not creating:
                self.version = (self.version or 0) + 1
                if kwargs.get("update_fields") is not None:
                    kwargs["update_fields"] = set(kwargs["update_fields"]) | {"version"}
            super().save(*args, **kwargs)
            update_fields = kwargs.get("update_fields")
            if creating:
                append([Entry("create", _label(model), str(self.pk), None, image(self))])
            else:
                after = dict(before)
                current = image(self)
                if update_fields is None:
                    after.update(current)
                else:
                    for name in update_fields:
                        attname = model._meta.get_field(name).attname
                        if attname in current:
                            after[attname] = current[attname]
                if after != before:
                    append([Entry("update", _label(model), str(self.pk), before, after)])

    save.alters_data = True


@receiver(post_delete)
def _record_delete(sender, instance, **kwargs):
    # Fires for instance.delete(), QuerySet.delete() and cascades, inside their transaction.
    if isinstance(instance, TrackedModel):
        append([Entry("delete", _label(sender), str(instance.pk), image(instance), None)])
