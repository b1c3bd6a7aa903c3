"""Sets the audit actor for each request: the logged-in user and a request id."""

import uuid

from .context import Actor, acting_as


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.audit_request_id = uuid.uuid4().hex[:16]
        user = getattr(request, "user", None)
        source = f"request:{request.audit_request_id} {request.method} {request.path}"[:200]
        if user is not None and user.is_authenticated:
            actor = Actor(user.pk, user.get_username(), source)
        else:
            actor = Actor(None, "anonymous", source)
        with acting_as(actor):
            return self.get_response(request)
