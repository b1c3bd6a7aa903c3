"""Bulk inserts without the ORM's per-value machinery, for audit records and large imports.

Django's ``bulk_create`` spends about 80 µs a row building SQL; a 10,000-row ledger import
writes some 60,000 data rows and as many audit records, which alone would break the 5-second
budget. Here ids are reserved up front (a sequence on PostgreSQL; on SQLite the table's max
under the immediate transaction's write lock), values are prepared once per field, and rows
go in with ``COPY`` on PostgreSQL and ``executemany`` elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, models


def reserve_ids(model: type[models.Model], n: int, using: str = "default") -> list[int]:
    """``n`` unused primary keys for ``model``, in increasing order (call inside a transaction)."""
    if n <= 0:
        return []
    conn = connections[using]
    table, column = model._meta.db_table, model._meta.pk.column
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, n],
            )
            return [row[0] for row in cur.fetchall()]
        qn = conn.ops.quote_name
        cur.execute(f"SELECT COALESCE(MAX({qn(column)}), 0) FROM {qn(table)}")
        top = cur.fetchone()[0]
        if conn.vendor == "sqlite":
            cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cur.fetchone()
            top = max(top, row[0] if row else 0)  # AUTOINCREMENT never reuses an id
        return list(range(top + 1, top + 1 + n))


def insert_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                using: str = "default") -> None:
    """Insert prepared rows (values already adapted for the database)."""
    if not rows:
        return
    conn = connections[using]
    qn = conn.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {qn(table)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cur.executemany(f"INSERT INTO {qn(table)} ({cols}) VALUES ({marks})", rows)


# Values of these fields go to the driver as they are: both drivers adapt int, str, bool,
# Decimal and date themselves (Django registers the SQLite adapters).
_PLAIN = (models.IntegerField, models.AutoField, models.CharField, models.TextField,
          models.BooleanField, models.DecimalField, models.ForeignKey)


def _preparer(field: models.Field, conn) -> Callable[[Any], Any] | None:
    if isinstance(field, _PLAIN):
        return None
    if type(field) is models.DateField:
        # a date goes as it is; text or a datetime is read as Django would (a datetime in
        # Asia/Shanghai), not cut by the driver
        return lambda v: v if v is None or type(v) is dt.date else field.get_db_prep_save(v, conn)
    return lambda v: field.get_db_prep_save(v, conn)


def _link_related(obj: models.Model, fks: Sequence[models.ForeignKey]) -> None:
    """Take the id of a related object assigned before it was saved (as Django does)."""
    cache = obj._state.fields_cache
    for f in fks:
        if getattr(obj, f.attname) is None and f.name in cache:
            related = cache[f.name]
            if related is not None:
                if related.pk is None:
                    raise ValueError(f"{f.name} of {obj!r} is not saved yet")
                setattr(obj, f.attname, related.pk)


def insert_objects(objs: Sequence[models.Model], using: str = "default") -> None:
    """Insert unsaved model instances of one model, giving each its primary key."""
    if not objs:
        return
    model = type(objs[0])
    conn = connections[using]
    pk = model._meta.pk
    fields = model._meta.concrete_fields
    fks = [f for f in fields if isinstance(f, models.ForeignKey)]
    for obj in objs:
        _link_related(obj, fks)
    missing = [o for o in objs if getattr(o, pk.attname) is None]
    for obj, new_id in zip(missing, reserve_ids(model, len(missing), using), strict=True):
        setattr(obj, pk.attname, new_id)
    plan = [(f.attname, _preparer(f, conn)) for f in fields]
    rows = [tuple(getattr(o, a) if prep is None else prep(getattr(o, a)) for a, prep in plan)
            for o in objs]
    insert_rows(model._meta.db_table, [f.column for f in fields], rows, using)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


def insert_values(model: type[models.Model], rows: Sequence[dict[str, Any]],
                  using: str = "default") -> list[int]:
    """Insert rows given as dicts of attribute name → value (defaults filled in); returns
    their new primary keys and sets ``id`` in each dict. No model instances are built."""
    if not rows:
        return []
    conn = connections[using]
    pk = model._meta.pk
    fields = model._meta.concrete_fields
    ids = reserve_ids(model, len(rows), using)
    defaults = {f.attname: f.get_default() for f in fields if f.has_default()}
    plan = [(f.attname, _preparer(f, conn)) for f in fields]
    prepared = []
    for row, new_id in zip(rows, ids, strict=True):
        for name, value in defaults.items():
            row.setdefault(name, value)
        row[pk.attname] = new_id
        prepared.append(tuple(row.get(a) if prep is None else prep(row.get(a))
                              for a, prep in plan))
    insert_rows(model._meta.db_table, [f.column for f in fields], prepared, using)
    return ids


class RowWriter:
    """Rows of one model written as plain tuples, for computed data in bulk (a recompute's
    50,000 lights): no model instances, and values that repeat on every row (the run's time)
    adapted once. ``row(**values)`` takes attribute names; JSON values are dumped here."""

    def __init__(self, model: type[models.Model], attnames: Sequence[str], using: str = "default"):
        import json

        self.model, self.using = model, using
        conn = connections[using]
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        self.fields = [by_attname[a] for a in attnames]
        self.attnames = list(attnames)
        self._json = {i for i, f in enumerate(self.fields) if isinstance(f, models.JSONField)}
        # one encoder for every row: json.dumps with arguments builds a new one per call
        self._dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
        self._conn = conn
        self.rows: list[tuple] = []

    def adapt_datetime(self, value: dt.datetime) -> Any:
        """A datetime as the database takes it (adapt once, reuse for every row)."""
        return self._conn.ops.adapt_datetimefield_value(value)

    def add(self, *values: Any) -> None:
        """A row, values in ``attnames`` order (datetimes already adapted)."""
        if self._json:
            values = tuple(self._dumps(v) if i in self._json and v is not None else v
                           for i, v in enumerate(values))
        self.rows.append(values)

    def write(self) -> int:
        insert_rows(self.model._meta.db_table, [f.column for f in self.fields], self.rows,
                    self.using)
        n, self.rows = len(self.rows), []
        return n
