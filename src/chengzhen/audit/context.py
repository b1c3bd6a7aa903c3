"""Who is acting and through which path, for the audit records written meanwhile.

Commands set it from ``--as``, the middleware from the logged-in user and the request,
data migrations from their own name. A write with no context is recorded as the system.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    source: str  # e.g. "command:ledger import", "request:8f2c…", "migration:org.0002"


SYSTEM = Actor(user_id=None, username="system", source="system")
_current: contextvars.ContextVar[Actor] = contextvars.ContextVar("audit_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current.get()


@contextlib.contextmanager
def acting_as(user_or_actor, source: str | None = None) -> Iterator[Actor]:
    """Run a block as ``user_or_actor`` (a User, an Actor or None for the system)."""
    if isinstance(user_or_actor, Actor):
        actor = user_or_actor
    elif user_or_actor is None:
        actor = Actor(None, SYSTEM.username, source or SYSTEM.source)
    else:
        actor = Actor(user_or_actor.pk, user_or_actor.get_username(), source or "system")
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


@contextlib.contextmanager
def acting_for(user, action: str) -> Iterator[None]:
    """Run a service action as ``user``, keeping the path the caller already set.

    Inside a command or request whose actor is ``user`` this changes nothing; otherwise the
    block runs as ``user`` with the source ``service:<action>``.
    """
    actor = current_actor()
    if actor is not SYSTEM and (user is None or actor.user_id == user.pk):
        yield
        return
    with acting_as(user, actor.source if actor is not SYSTEM else f"service:{action}"):
        yield
