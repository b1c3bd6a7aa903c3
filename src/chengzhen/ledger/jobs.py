"""Ledger work that runs in the background worker (``chengzhen db_worker``)."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.tasks import task

from chengzhen.audit.context import acting_as
from chengzhen.documents.models import Job
from chengzhen.problems import Refused
from chengzhen.programmes.models import Programme

from .importer import import_ledger


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
