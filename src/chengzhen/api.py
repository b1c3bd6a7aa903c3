"""What every API endpoint shares: pagination, JSON errors, ETag / If-Match.

Errors are JSON: ``{"detail": message, "errors": [{"field": …, "message": …}]}`` — refused
input 400, not logged in 401, not allowed 403, not found 404, If-Match missing 428, stale
412 — never a 500 for bad input.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from chengzhen.problems import Refused


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class PreconditionRequired(APIException):
    status_code = 428
    default_detail = gettext_lazy("修改须带 If-Match 请求头（取自读取时的 ETag）")
    default_code = "precondition_required"


class PreconditionFailed(APIException):
    status_code = 412
    default_detail = gettext_lazy("记录已被他人修改，请重新读取后再改")
    default_code = "precondition_failed"


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(request) -> int:
    """The version named by If-Match; 428 when absent, 412 when unreadable."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    value = header.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed(_("If-Match %(header)r 不是本平台给出的 ETag") % {"header": header})
    return int(value)


def exception_handler(exc, context):
    from chengzhen.ledger.services import StaleEdit

    if isinstance(exc, Refused):
        return Response({
            "detail": _("；").join(p.reason for p in exc.problems) or _("输入被拒绝"),
            "errors": [{"field": p.column, "message": p.reason, "row": p.row}
                       for p in exc.problems],
        }, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, StaleEdit):
        return Response({"detail": str(exc), "errors": []}, status=412)
    if isinstance(exc, PermissionDenied):
        return Response({"detail": str(exc) or _("无权执行该操作"), "errors": []}, status=403)
    if isinstance(exc, Http404):
        return Response({"detail": _("未找到"), "errors": []}, status=404)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" not in response.data:
        errors = [{"field": k, "message": _("；").join(map(str, v)) if isinstance(v, list) else str(v)}
                  for k, v in response.data.items()]
        response.data = {"detail": _("输入有误"), "errors": errors}
    elif response is not None and isinstance(response.data, dict):
        response.data.setdefault("errors", [])
    elif response is not None and isinstance(response.data, list):
        response.data = {"detail": _("；").join(map(str, response.data)), "errors": []}
    return response


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string", "nullable": True},
            "message": {"type": "string"},
            "row": {"type": "integer", "nullable": True},
        }}},
    },
    "required": ["detail"],
}
ERROR_CODES = {"400": "输入有误", "401": "未登录", "403": "无权限", "404": "未找到"}
WRITE_CODES = {"412": "记录已被他人修改", "428": "缺少 If-Match"}


def add_error_responses(result, generator, request, public):
    """drf-spectacular post-processing: every operation documents its JSON errors."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            codes = dict(ERROR_CODES)
            if method == "patch":
                codes.update(WRITE_CODES)
            for code, description in codes.items():
                operation.setdefault("responses", {}).setdefault(
                    code, {"description": description, **ref})
    return result
