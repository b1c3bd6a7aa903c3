"""Scheduled audit work, run by the scheduler (``chengzhen crontask``) through the worker."""

from crontask import cron
from django.tasks import task

from .verify import record_verification


@cron("30 2 * * *")  # every night at 02:30 (Asia/Shanghai)
@task()
def verify_audit_chain() -> bool:
    """每日审计校验: the whole chain and every tracked row, the outcome recorded."""
    return record_verification().ok
