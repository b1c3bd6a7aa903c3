"""Ledger work that runs in the background worker (``chengzhen db_worker``)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.tasks import task
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chengzhen.audit.context import acting_as
from chengzhen.documents.files import EXPORTS, new_file
from chengzhen.documents.models import Job
from chengzhen.problems import Refused
from chengzhen.programmes.models import Programme

from .exporter import export_ledger
from .filters import TaskFilter
from .importer import import_ledger
from .models import Task


def job_language(job: Job) -> str:
    """The language of the person who started the job (their page's), for its messages."""
    wanted = job.params.get("language") or settings.LANGUAGE_CODE
    return wanted if wanted in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def imported_message(name: str, result) -> str:
    """"已导入“台账.xlsx”：新增 2 项，修改 1 项，不变 0 项。" in the active language."""
    return _("已导入“%(name)s”：新增 %(created)s 项，修改 %(updated)s 项，不变 %(unchanged)s 项。") % {
        "name": name, "created": result.count("create"), "updated": result.count("update"),
        "unchanged": result.count("unchanged")}


@task()
def run_ledger_import(job_id: int) -> str:
    """Apply a previewed ledger sheet; the job records the stages and the outcome."""
    job = Job.objects.select_related("user").get(pk=job_id)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    p = job.params
    path = Path(p["path"])
    try:
        programme = Programme.objects.get(code=p["programme"])
        with acting_as(job.user, f"job:{job.pk} ledger import"), translation.override(job_language(job)):
            result = import_ledger(job.user, programme, path, display_name=p["name"],
                                   expected_versions=p["versions"], progress=job.report)
            job.messages = [imported_message(p["name"], result)]
        job.status = Job.Status.DONE
    except Refused as exc:
        job.status, job.messages = Job.Status.FAILED, [str(x) for x in exc.problems]
    except (PermissionDenied, Programme.DoesNotExist) as exc:
        with translation.override(job_language(job)):
            job.status, job.messages = Job.Status.FAILED, [str(exc) or _("无权限")]
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
    stored, path = new_file(EXPORTS)
    try:
        programme = Programme.objects.get(code=p["programme"]) if p.get("programme") else None
        tasks = f.apply(Task.objects.all(), job.user)
        with acting_as(job.user, f"job:{job.pk} ledger export"), translation.override(job_language(job)):
            n = export_ledger(job.user, programme, path, progress=job.report,
                              queryset=Task.objects.filter(pk__in=tasks.values("pk")))
            job.messages = [ngettext("已导出 %(n)s 项任务。", "已导出 %(n)s 项任务。", n) % {"n": n}]
        job.status, job.params = Job.Status.DONE, {**p, "file": stored, "rows": n}
    except (PermissionDenied, Programme.DoesNotExist) as exc:
        path.unlink(missing_ok=True)
        with translation.override(job_language(job)):
            job.status, job.messages = Job.Status.FAILED, [str(exc) or _("无权限")]
    job.save(update_fields=["status", "params", "messages", "updated_at"])
    return job.status
