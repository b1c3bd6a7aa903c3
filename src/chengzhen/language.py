"""The interface language: Simplified Chinese unless the person chose English.

``LanguageCookieMiddleware`` takes the place of Django's ``LocaleMiddleware``. It reads only the
language cookie (``settings.LANGUAGE_COOKIE_NAME``) that Django's ``set_language`` view writes
when someone uses the switch in the page header; the browser's ``Accept-Language`` is ignored,
so an office whose browser happens to be set to English still gets Chinese. Anything but a
language in ``settings.LANGUAGES`` falls back to ``settings.LANGUAGE_CODE``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


def chosen_language(request) -> str:
    """The language code the request's cookie names, when it is one the platform offers."""
    wanted = (request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or "").strip().lower()
    offered = {code.lower(): code for code, _name in settings.LANGUAGES}
    return offered.get(wanted, settings.LANGUAGE_CODE)


class LanguageCookieMiddleware:
    """Activate the cookie's language for the request (and only for it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = chosen_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response
