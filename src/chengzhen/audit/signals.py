"""Logins and failed logins are audit events too."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .chain import record_event
from .context import Actor, acting_as


@receiver(user_logged_in)
def _login(sender, request, user, **kwargs):
    with acting_as(Actor(user.pk, user.get_username(), _source(request))):
        record_event("login", "org.user", str(user.pk))


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    from chengzhen.org.login import client_address

    username = str(credentials.get("username", ""))[:150]
    with acting_as(Actor(None, username or "?", _source(request))):
        record_event("login_failed", "org.user", "", username=username,
                     address=client_address(request))


def _source(request) -> str:
    if request is None:
        return "login"
    return f"request:{getattr(request, 'audit_request_id', '')} {request.method} {request.path}"
