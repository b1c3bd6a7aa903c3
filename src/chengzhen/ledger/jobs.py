"""Ledger work that runs in the background worker (``chengzhen db_worker``)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.tasks import task

from chengzhen.audit.context import acting_as
from chengzhen.documents.models import Job
from chengzhen.problems import Refused
from chengzhen.programmes.models import Programme

from .exporter import export_ledger
from .filters import TaskFilter
from .importer import import_ledger
from .models import Task

_STORED = re.compile(r"^[0-9a-f]{32}\.xlsx$")


def export_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(stored_name: str) -> Path | None:
    """Where an export job's file lives; None for anything but a generated name."""
    return export_dir() / stored_name if _STORED.match(stored_name or "") else None


@task()
def run_ledger_import(job_id: int) -> str:
    """Apply a previewed ledger sheet; the job records the stages and the outcome."""
    job = Job.objects.select_related("user").get(pk=job_id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    p = job.params
    path = Path(p["path"])
    try:
        programme = Programme.objects.get(code=p["programme"])
        with acting_as(job.user, f"job:{job.pk} ledger import"):
            result = import_ledger(job.user, programme, path, display_name=p["name"],
                                   expected_versions=p["versions"], progress=job.report)
        job.status = Job.Status.DONE
        job.messages = [f"已导入“{p['name']}”：新增 {result.count('create')} 项，修改 "
                        f"{result.count('update')} 项，不变 {result.count('unchanged')} 项。"]
    except Refused as exc:
        job.status, job.messages = Job.Status.FAILED, [str(x) for x in exc.problems]
    except (PermissionDenied, Programme.DoesNotExist) as exc:
        job.status, job.messages = Job.Status.FAILED, [str(exc) or "无权限"]
    finally:
        path.unlink(missing_ok=True)
    job.save(update_fields=["status", "messages", "updated_at"])
    return job.status


@task()
def run_ledger_export(job_id: int) -> str:
    """Export a filtered ledger list (台账导出) as the person who asked, reporting each 200
    rows; the file waits under a generated name for that person's download."""
    job = Job.objects.select_related("user").get(pk=job_id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    p = job.params
    f = TaskFilter.from_params(QueryDict(p.get("query", "")))
    stored = f"{uuid.uuid4().hex}.xlsx"
    path = export_dir() / stored
    try:
        programme = Programme.objects.get(code=p["programme"]) if p.get("programme") else None
        tasks = f.apply(Task.objects.all(), job.user)
        with acting_as(job.user, f"job:{job.pk} ledger export"):
            n = export_ledger(job.user, programme, path, progress=job.report,
                              queryset=Task.objects.filter(pk__in=tasks.values("pk")))
        job.status, job.params = Job.Status.DONE, {**p, "file": stored, "rows": n}
        job.messages = [f"已导出 {n} 项任务。"]
    except (PermissionDenied, Programme.DoesNotExist) as exc:
        path.unlink(missing_ok=True)
        job.status, job.messages = Job.Status.FAILED, [str(exc) or "无权限"]
    job.save(update_fields=["status", "params", "messages", "updated_at"])
    return job.status
