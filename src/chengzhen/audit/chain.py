"""Appending to the audit chain.

Appends happen inside the caller's transaction, so a change and its record commit or roll
back together. The head row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
immediate transactions already serialise writers), so concurrent writers never fork the chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from . import canonical
from .context import current_actor
from .fastinsert import insert_rows
from .models import AuditHead, AuditRecord

# Sent inside the writing transaction with every batch of entries recorded: the one place
# every change of a tracked row passes (services, imports, the admin), for rooms whose
# computed data follows those rows (supervision's lights follow the ledger).
recorded = Signal()

COLUMNS = ("seq", "at", "actor_id", "actor_username", "source", "action", "model", "object_pk",
           "content", "prev_hash", "hash")


@dataclass
class Entry:
    action: str  # create | update | delete | login | login_failed | export | run
    model: str = ""  # app_label.modelname
    object_pk: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    detail: dict[str, Any] | None = None


def _lock_head(head_model) -> AuditHead:
    head = head_model.objects.select_for_update().filter(pk=1).first()
    if head is None:
        head_model.objects.get_or_create(pk=1, defaults={"hash": canonical.GENESIS_HASH})
        head = head_model.objects.select_for_update().get(pk=1)
    return head


def append(entries: Iterable[Entry], record_model=AuditRecord, head_model=AuditHead) -> int:
    """Append entries, in order, as the current actor. Returns how many were written.

    Data migrations pass their historical ``AuditRecord`` and ``AuditHead`` models.
    """
    entries = list(entries)
    if not entries:
        return 0
    actor = current_actor()
    now = timezone.now()
    at = canonical.canonical_value(now)
    at_db = connection.ops.adapt_datetimefield_value(now)
    source = actor.source[:200]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(727001)")
        head = _lock_head(head_model)
        seq, prev = head.seq, head.hash
        rows = []
        for e in entries:
            seq += 1
            body = {
                "seq": seq,
                "at": at,
                "actor": actor.username,
                "actor_id": actor.user_id,
                "source": actor.source,
                "action": e.action,
                "model": e.model,
                "pk": e.object_pk,
                "before": e.before,
                "after": e.after,
            }
            if e.detail is not None:
                body["detail"] = canonical.canonical_value(e.detail)
            content = canonical.dumps(body)
            digest = canonical.chain_hash(prev, content)
            rows.append((seq, at_db, actor.user_id, actor.username, source, e.action, e.model,
                         e.object_pk, content, prev, digest))
            prev = digest
        insert_rows(record_model._meta.db_table, COLUMNS, rows)
        head_model.objects.filter(pk=1).update(seq=seq, hash=prev)
        recorded.send(sender=Entry, entries=entries, actor=actor)
    return len(rows)


def record_event(action: str, model: str = "", object_pk: str = "", **detail: Any) -> None:
    """Record something that is not a row change: a login, a failed login, an export."""
    append([Entry(action=action, model=model, object_pk=str(object_pk), detail=detail or None)])
