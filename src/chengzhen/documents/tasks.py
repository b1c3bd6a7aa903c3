"""Scheduled file housekeeping, run by the scheduler (``chengzhen crontask``)."""

from crontask import cron
from django.tasks import task

from .files import clean_files


@cron("17 * * * *")  # hourly
@task()
def remove_expired_files() -> dict[str, int]:
    """清理过期文件: import uploads and exports past their keeping time."""
    return clean_files()
