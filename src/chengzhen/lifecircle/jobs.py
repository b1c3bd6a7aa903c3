"""Life-circle work that runs in the background worker (``chengzhen db_worker``): a study's run."""

from __future__ import annotations

from django.tasks import task


@task()
def run_study_job(job_id: int) -> str:
    """测算生活圈研究: one run of a study (``studies.perform_run``); the job records its progress."""
    from .studies import perform_run

    return perform_run(job_id)
