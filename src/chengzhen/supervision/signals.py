"""Lights follow the ledger: every recorded change of a task, a time node, a progress report,
an annual plan or a cooperation marks its task, and once the change commits those tasks'
lights are recomputed (in the request for a few; by the worker for a large import)."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connection, transaction
from django.dispatch import receiver

from chengzhen.audit.chain import recorded

log = logging.getLogger("chengzhen.supervision")
TASK_LABEL = "ledger.task"
TASK_CHILD_LABELS = frozenset({"ledger.timenode", "ledger.progressreport", "ledger.annualplan",
                               "ledger.cooperation"})
_pending = threading.local()


def _task_ids(entries) -> set[int]:
    ids = set()
    for e in entries:
        if e.model == TASK_LABEL and e.action in ("create", "update"):
            ids.add(int(e.object_pk))
        elif e.model in TASK_CHILD_LABELS:
            image = e.after or e.before or {}
            if image.get("task_id") is not None:
                ids.add(int(image["task_id"]))
    return ids


@receiver(recorded)
def _ledger_changed(sender, entries, actor, **kwargs) -> None:
    if actor.source.startswith("migration:"):
        return
    ids = _task_ids(entries)
    if not ids:
        return
    # one callback per outermost transaction; without one registered, ids left over belong
    # to a transaction that rolled back, and are dropped with it
    if not any(func is _flush for _sids, func, _robust in connection.run_on_commit):
        _pending.ids = set(ids)
        transaction.on_commit(_flush)  # (runs at once outside a transaction)
    else:
        _pending.ids.update(ids)


def _flush() -> None:
    ids = getattr(_pending, "ids", None) or set()
    _pending.ids = set()
    if not ids:
        return
    from .recompute import recompute
    from .tasks import recompute_lights

    try:
        if len(ids) > settings.CHENGZHEN_LIGHTS_INLINE_TASKS:
            recompute_lights.enqueue(task_ids=sorted(ids), trigger="change")
        else:
            recompute(task_ids=ids, trigger="change")
    except Exception:  # the change is committed; the nightly run puts the lights right
        log.exception("recomputing the lights of %d changed tasks failed", len(ids))
