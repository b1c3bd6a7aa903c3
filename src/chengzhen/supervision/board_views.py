"""The supervision board page (督查看板): a thin shell over ``board.board``.

Anyone holding a role sees the board narrowed to what they may read (a unit liaison: their
own units' tasks, lights and letters); a person without any role is refused (403).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from chengzhen.ledger.queries import today_local
from chengzhen.org.permissions import grants_for
from chengzhen.programmes.models import Programme

from . import board as board_module


def programme_of(code: str, programmes: list[Programme]) -> Programme | None:
    """The programme ``code`` names among ``programmes`` (those the person reads);
    ``ValueError`` (the reason) when it names none of them."""
    if "\x00" in code:
        raise ValueError(_("含有不可用的字符（NUL）"))
    for p in programmes:
        if p.code == code:
            return p
    raise ValueError(_("没有可查看的代码为 %(code)r 的工作计划") % {"code": code})


def require_reach(user) -> None:
    """Refuse (403) a person who holds no role: the board has nothing they may see."""
    if not grants_for(user):
        raise PermissionDenied(_("%(who)s 没有督查看板的查看权限") % {"who": user.get_username()})


@login_required
def board_page(request: HttpRequest) -> HttpResponse:
    require_reach(request.user)
    programmes = board_module.readable_programmes(request.user)
    code = (request.GET.get("programme") or "").strip()
    try:
        programme = programme_of(code, programmes) if code else None
    except ValueError as exc:
        return render(request, "supervision/board.html", {
            "error": str(exc), "programmes": programmes, "code": code}, status=400)
    result = board_module.board(request.user, today_local(), programme, programmes=programmes)
    return render(request, "supervision/board.html", {
        "b": result, "programmes": programmes, "code": code})
