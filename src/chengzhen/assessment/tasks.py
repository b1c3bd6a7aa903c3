"""Scheduled assessment work, run by the worker (``chengzhen db_worker``)."""

from __future__ import annotations

from crontask import cron
from django.tasks import task

from chengzhen.audit.context import acting_as


@cron("20 8 * * *")  # every morning at 08:20 (Asia/Shanghai): reminders before the rounds' deadlines
@task()
def remind_round_values() -> int:
    """考核填报催报: liaisons of subjects with values missing or returned, ``remind_days`` before the
    round's deadline and on the day."""
    from chengzhen.org.models import system_user

    from .rounds import remind

    with acting_as(system_user(), "schedule:remind_round_values"):
        return remind()
