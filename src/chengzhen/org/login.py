"""Login with throttling and lockout, counted from the audit chain itself.

Every failed login is already an audit record (``login_failed``), so the count needs no table
of its own: ``LOGIN_FAILURE_LIMIT`` failures for one username within ``LOGIN_LOCKOUT_MINUTES``
lock that username until the window has passed; a locked attempt is refused before the
password is checked and is recorded as ``login_locked``. Each failure also records the client
address, and ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures from one address within the window
(whatever usernames were tried — password spraying) refuse that address the same way.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext as _

from chengzhen.audit import canonical
from chengzhen.audit.chain import record_event
from chengzhen.audit.context import Actor, acting_as
from chengzhen.audit.models import AuditRecord


def failures(username: str, now: dt.datetime | None = None) -> tuple[int, dt.datetime | None]:
    """(failed logins in the window, when the oldest of them leaves it)."""
    now = now or timezone.now()
    window = dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    times = list(AuditRecord.objects.filter(
        action="login_failed", actor_username=username, at__gte=now - window,
    ).order_by("at").values_list("at", flat=True))
    return len(times), (times[0] + window if times else None)


def client_address(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind a reverse proxy the header named by
    ``CHENGZHEN_CLIENT_ADDRESS_HEADER`` (e.g. ``HTTP_X_REAL_IP``), which only the proxy sets."""
    if request is None:
        return ""
    header = settings.CHENGZHEN_CLIENT_ADDRESS_HEADER
    value = request.META.get(header, "") if header else ""
    return (value.split(",")[0].strip() or request.META.get("REMOTE_ADDR", ""))[:64]


def address_failures(address: str, now: dt.datetime | None = None) -> int:
    """Failed logins from ``address`` within the window, whatever the username."""
    if not address:
        return 0
    now = now or timezone.now()
    window = dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    # the address sits in the record's canonical JSON detail: sorted keys, no spaces
    return AuditRecord.objects.filter(
        action="login_failed", at__gte=now - window,
        content__contains=f'"address":{canonical.dumps(address)}').count()


class LockoutMixin:
    """Refuses a locked username, or an address with too many failures, before any
    password is checked."""

    def clean(self):
        username = (self.cleaned_data.get("username") or "")[:150]
        address = client_address(getattr(self, "request", None))
        if address and address_failures(address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            with acting_as(Actor(None, username or "?", "login")):
                record_event("login_locked", "org.user", "", username=username, address=address)
            raise forms.ValidationError(
                _("该地址登录失败次数过多，请 %(minutes)s 分钟后再试。") % {
                    "minutes": settings.LOGIN_LOCKOUT_MINUTES}, code="locked")
        count, until = failures(username)
        if username and count >= settings.LOGIN_FAILURE_LIMIT:
            with acting_as(Actor(None, username, "login")):
                record_event("login_locked", "org.user", "", username=username)
            minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
            raise forms.ValidationError(
                _("该账号连续登录失败 %(count)s 次，已锁定，请 %(minutes)s 分钟后再试。") % {
                    "count": count, "minutes": minutes},
                code="locked")
        return super().clean()


class LockoutAuthenticationForm(LockoutMixin, AuthenticationForm):
    """The platform's login form."""


class AdminLockoutAuthenticationForm(LockoutMixin, AdminAuthenticationForm):
    """The admin's login form: the same lockout, so it is no way around it; admits whom
    ``admin_base.may_enter_admin`` admits (administrators, and staff holding a role)."""

    def confirm_login_allowed(self, user):
        from .admin_base import may_enter_admin

        AuthenticationForm.confirm_login_allowed(self, user)  # active
        if not may_enter_admin(user):
            raise forms.ValidationError(
                self.error_messages["invalid_login"], code="invalid_login",
                params={"username": self.username_field.verbose_name})
