"""Canonical JSON for audit records (pure: no Django).

One spelling per value so that the same facts always hash the same: sorted keys, no
whitespace, UTF-8 text kept as is, Decimals as fixed-point strings (``"1234.50"``), floats as
their shortest ``repr`` in a string (``"0.1"``; zero always ``"0.0"``), dates as
``YYYY-MM-DD``, datetimes in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from decimal import Decimal
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_value(value: Any) -> Any:
    """Turn a Python value into the JSON-ready value the audit chain stores."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value) if value else "0.0"  # -0.0 too: PostgreSQL's jsonb drops the sign
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S.%f")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical_value(v) for v in value]
    raise TypeError(f"audit: cannot record a value of type {type(value).__name__}")


_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
dumps_string = json.encoder.encode_basestring  # what _ENCODER writes for a str


def dumps(obj: Any) -> str:
    """Canonical JSON text of an already canonical structure (sorted keys, no whitespace)."""
    return _ENCODER.encode(obj)


def chain_hash(prev_hash: str, content: str) -> str:
    """Hash of one record: SHA-256 over the previous record's hash and this record's text."""
    return hashlib.sha256((prev_hash + "\n" + content).encode("utf-8")).hexdigest()
