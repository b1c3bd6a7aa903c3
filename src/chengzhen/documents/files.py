"""Files the platform keeps only for a while, under the data folder (``MEDIA_ROOT``): import
uploads waiting for their apply (预览待导入的文件) and finished exports waiting for their
download (导出文件). Each is stored under a generated name, never the user's; the hourly
housekeeping removes them once past their keeping time.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.utils import timezone

UPLOADS, EXPORTS = "uploads", "exports"
LETTERS = "letters"  # supervision letters (督办函), kept for good
# folder → the setting naming how many hours its files are kept
KEPT = {UPLOADS: "CHENGZHEN_UPLOAD_KEEP_HOURS", EXPORTS: "CHENGZHEN_EXPORT_KEEP_HOURS"}
_GENERATED = re.compile(r"^[0-9a-f]{32}\.(xlsx|docx)$")


def folder(name: str) -> Path:
    """The folder ``name`` under the data folder, made when missing."""
    path = Path(settings.MEDIA_ROOT) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_file(name: str, suffix: str = ".xlsx") -> tuple[str, Path]:
    """A fresh generated file name in folder ``name`` and its path."""
    stored = f"{uuid.uuid4().hex}{suffix}"
    return stored, folder(name) / stored


@contextmanager
def upload_on_disk(upload) -> Iterator[Path]:
    """An uploaded file written to a temporary file (with the upload's suffix) for a reader that
    takes a path; removed afterwards."""
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name).suffix.lower()) as tmp:
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        yield Path(tmp.name)


def stored_file(name: str, stored: str) -> Path | None:
    """The path of a generated file in folder ``name``; None for anything but such a name."""
    return folder(name) / stored if _GENERATED.match(stored or "") else None


def clean_files(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete files older than their folder's keeping time; returns how many per folder."""
    now = now or timezone.now()
    removed = {}
    for name, setting in KEPT.items():
        cutoff = (now - dt.timedelta(hours=getattr(settings, setting))).timestamp()
        n = 0
        for f in folder(name).glob("*"):
            if f.is_file() and f.stat().st_mtime < cutoff:
                f.unlink(missing_ok=True)
                n += 1
        removed[name] = n
    return removed
