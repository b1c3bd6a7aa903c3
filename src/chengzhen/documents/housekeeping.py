"""Removing files that were only ever temporary: import uploads waiting for their apply
(预览待导入的文件) and finished exports waiting for their download (导出文件)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.utils import timezone

# folder under MEDIA_ROOT → the setting naming how long its files are kept
KEPT = {"uploads": "CHENGZHEN_UPLOAD_KEEP_HOURS", "exports": "CHENGZHEN_EXPORT_KEEP_HOURS"}


def clean_files(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete files older than their folder's keeping time; returns how many per folder."""
    now = now or timezone.now()
    removed = {}
    for folder, setting in KEPT.items():
        cutoff = (now - dt.timedelta(hours=getattr(settings, setting))).timestamp()
        path = Path(settings.MEDIA_ROOT) / folder
        n = 0
        for f in path.glob("*") if path.is_dir() else ():
            if f.is_file() and f.stat().st_mtime < cutoff:
                f.unlink(missing_ok=True)
                n += 1
        removed[folder] = n
    return removed
