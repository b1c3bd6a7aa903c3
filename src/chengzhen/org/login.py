"""Login with throttling and lockout, counted from the audit chain itself.

Every failed login is already an audit record (``login_failed``), so the count needs no table
of its own: ``LOGIN_FAILURE_LIMIT`` failures for one username within ``LOGIN_LOCKOUT_MINUTES``
lock that username until the window has passed; a locked attempt is refused before the
password is checked and is recorded as ``login_locked``.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext as _

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


class LockoutMixin:
    """Refuses a locked username before its password is checked."""

    def clean(self):
        username = (self.cleaned_data.get("username") or "")[:150]
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
