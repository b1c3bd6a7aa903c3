"""Scheduled and background light work, run by the worker (``chengzhen db_worker``)."""

from __future__ import annotations

from crontask import cron
from django.tasks import task

from chengzhen.audit.context import acting_as


@cron("10 1 * * *")  # every night at 01:10 (Asia/Shanghai): the day's lights and reminders
@task()
def recompute_all_lights() -> str:
    """每日亮灯重算: every programme's lights for today, reminders and escalations with them."""
    from chengzhen.org.models import system_user

    from .recompute import recompute

    with acting_as(system_user(), "schedule:recompute_all_lights"):
        return recompute(trigger="schedule").summary()


@task()
def recompute_lights(task_ids: list[int], trigger: str = "change") -> str:
    """Recompute the lights of changed tasks (a large import's) in the worker."""
    from chengzhen.org.models import system_user

    from .recompute import recompute

    with acting_as(system_user(), f"job:recompute_lights {trigger}"):
        return recompute(task_ids=task_ids, trigger=trigger).summary()


@task()
def write_letters(escalation_ids: list[int]) -> int:
    """Write the .docx of new supervision letters (督办函) made by a recompute."""
    from .letters import letter_path
    from .models import Escalation

    n = 0
    for esc in Escalation.objects.filter(pk__in=escalation_ids, kind="letter", file_name=""):
        with acting_as(None, "job:write_letters"):
            letter_path(esc, write=True)
        n += 1
    return n


@task()
def send_notification_emails() -> int:
    """E-mail the notifications made since the last time (the worker's, so a slow mail
    server never holds up a page)."""
    from .notify import send_pending_emails

    total = 0
    while sent := send_pending_emails():  # 500 at a time; each is claimed once, so this ends
        total += sent
    return total


@cron("40 0 * * *")  # every night at 00:40 (Asia/Shanghai): drafts of the bulletins due
@task()
def generate_scheduled_bulletins() -> int:
    """定期通报: a draft for each programme whose bulletin 旬 or month ended, awaiting approval."""
    from chengzhen.org.models import system_user

    from .bulletins import generate_scheduled

    with acting_as(system_user(), "schedule:generate_scheduled_bulletins"):
        return len(generate_scheduled())
