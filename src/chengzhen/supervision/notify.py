"""Notifications (通知, 催办): who hears of a light, an escalation or a coming date, each sent
once per (recipient, cause key) — the database's unique constraint makes a second send of the
same cause a no-op, whichever process tries it. E-mailed to people with an address.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from chengzhen.audit.fastinsert import RowWriter, insert_objects
from chengzhen.org.models import Membership, Unit

from .models import Notification

log = logging.getLogger("chengzhen.supervision")
LIAISON, SUPERVISOR = "unit_editor", "supervisor"


class Recipients:
    """The liaisons (联络员) of each unit and the supervisors (督查) over it, for one programme."""

    def __init__(self, programme):
        self.programme = programme
        self._liaisons: dict[int, list[int]] | None = None
        self._supervisors: list[tuple[str, int]] | None = None
        self._paths: dict[int, str] = {}

    def _load(self) -> None:
        liaisons: dict[int, list[int]] = defaultdict(list)
        supervisors: list[tuple[str, int]] = []
        memberships = (Membership.objects.filter(role__in=(LIAISON, SUPERVISOR), user__is_active=True)
                       .select_related("unit").prefetch_related("programme_links"))
        for m in memberships:
            programmes = {link.programme_id for link in m.programme_links.all()}
            if programmes and self.programme.pk not in programmes:
                continue
            if m.role == LIAISON:
                liaisons[m.unit_id].append(m.user_id)
            else:
                supervisors.append((m.unit.path, m.user_id))
        self._liaisons, self._supervisors = liaisons, supervisors

    def path(self, unit_id: int) -> str:
        if unit_id not in self._paths:
            self._paths[unit_id] = Unit.objects.filter(pk=unit_id).values_list("path", flat=True).first() or ""
        return self._paths[unit_id]

    def liaisons(self, unit_id: int) -> list[int]:
        if self._liaisons is None:
            self._load()
        return self._liaisons.get(unit_id, [])

    def supervisors(self, unit_id: int) -> list[int]:
        if self._supervisors is None:
            self._load()
        path = self.path(unit_id)
        return sorted({user for sup_path, user in self._supervisors if path.startswith(sup_path)})


class _TaskUrls:
    """A task page's address, reversed once (reversing per notification costs more than the
    rest of it)."""

    def __init__(self):
        self.template = reverse("ledger:task", args=[999999999]).replace("999999999", "{}")

    def __call__(self, task_id: int) -> str:
        return self.template.format(task_id)


def _store_new(rows: list[Notification]) -> int:
    """Insert notifications whose causes are new in this run (a light change or escalation
    just made), without looking for earlier ones."""
    insert_objects(rows)
    return len(rows)


def _store(rows: list[Notification]) -> int:
    """Insert, skipping (recipient, cause) pairs already sent; returns how many are new."""
    if not rows:
        return 0
    sent = set()
    causes = sorted({n.cause for n in rows})
    for i in range(0, len(causes), 900):
        sent.update(Notification.objects.filter(cause__in=causes[i:i + 900]).values_list(
            "recipient_id", "cause"))
    new = [n for n in rows if (n.recipient_id, n.cause) not in sent]
    # a concurrent run may still have sent one meanwhile: the constraint keeps it once
    Notification.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    return len(new)


def for_changes(programme, changes, levels, names: list[str], index: dict[int, int], now) -> int:
    """A task entering a level that counts: its lead unit's liaisons and the supervisors."""
    rec = Recipients(programme)
    task_url = _TaskUrls()
    # causes new in this run (the changes were just made): written as plain rows
    rows = RowWriter(Notification, ("recipient_id", "cause", "kind", "title", "body", "url",
                                    "task_id", "created_at"))
    at = rows.adapt_datetime(now)
    for c in changes:
        if not c.counts:
            continue
        title = f"【{levels[c.to_level].name}】{names[index[c.task_id]]}"[:200]
        body, url, cause = "；".join(c.reasons), task_url(c.task_id), f"light:{c.pk}"
        for user in {*rec.liaisons(c.unit_id), *rec.supervisors(c.unit_id)}:
            rows.add(user, cause, "light", title, body, url, c.task_id, at)
    return rows.write()


def for_escalations(programme, escalations, now) -> int:
    rec = Recipients(programme)
    rows = []
    for e in escalations:
        title = f"【{e.get_kind_display()}】{e.reference} {e.unit.name}"
        url = reverse("supervision:escalation", args=[e.pk])
        for user in {*rec.liaisons(e.unit_id), *rec.supervisors(e.unit_id)}:
            rows.append(Notification(recipient_id=user, cause=f"escalation:{e.pk}", kind=e.kind,
                                     title=title[:200], body=f"{programme.name} {e.period}", url=url,
                                     created_at=now))
    return _store_new(rows)


REMINDER_TITLES = {
    "time_node": "时间节点“{node}”将于 {on} 到期",
    "due_date": "任务将于 {on} 到达完成时限",
    "reporting_day": "{period} 进度请于 {on} 前报送",
}


def for_reminders(programme, reminders, loaded, now) -> int:
    """A reminder (催办) to the task's responsible person (the linked account), else to its
    lead unit's liaisons. The cause names the date, so a moved date reminds again."""
    if not reminders:
        return 0
    rec = Recipients(programme)
    task_url = _TaskUrls()
    node_names = {str(n.node_id): n.name for n in loaded.nodes}
    rows = []
    for r in reminders:
        task_id = int(loaded.inputs.task_id[r.index])
        user = loaded.responsible[r.index]
        users = [user] if user else rec.liaisons(int(loaded.lead_unit[r.index]))
        title = REMINDER_TITLES[r.kind].format(node=node_names.get(r.ref, ""), on=r.on, period=r.ref)
        left = "今天到期" if r.days_left == 0 else f"还有 {r.days_left} 天"
        for u in users:
            rows.append(Notification(
                recipient_id=u, cause=f"remind:{r.kind}:{task_id}:{r.ref}:{r.on.isoformat()}",
                kind="reminder", title=f"{loaded.names[r.index]}：{title}"[:200], body=left,
                url=task_url(task_id), task_id=task_id, created_at=now))
    return _store(rows)


def send_pending_emails(limit: int = 500) -> int:
    """E-mail notifications not yet e-mailed to people with an address; each is claimed
    before sending, so two processes never send the same one."""
    sent = 0
    pending = list(Notification.objects.filter(emailed_at__isnull=True).exclude(
        recipient__email="").values_list("pk", flat=True)[:limit])
    for pk in pending:
        with transaction.atomic():
            claimed = Notification.objects.filter(pk=pk, emailed_at__isnull=True).update(
                emailed_at=timezone.now())
        if not claimed:
            continue
        n = Notification.objects.select_related("recipient").get(pk=pk)
        try:
            link = settings.CHENGZHEN_SITE_URL.rstrip("/") + n.url if n.url else ""
            send_mail(n.title, f"{n.body}\n\n{link}".strip(), None, [n.recipient.email])
            sent += 1
        except Exception:  # the notification is in the platform either way
            log.exception("e-mailing notification %s failed", pk)
    return sent
