"""The supervision board (督查看板) in the API: ``GET /api/board/`` (``?programme=CODE``), the
same parts as the page — counts by light level per unit and programme, this week's light
changes, reminders due, open rectifications (督查整改), letters and interviews (督办函、约谈).
Read-only; narrowed by the same permission function."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from chengzhen.ledger.queries import today_local

from . import board as board_module
from .board_views import programme_of, require_reach


class LevelSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    colour = serializers.CharField()
    counts = serializers.BooleanField(help_text="计入督办、约谈")


class LightStyleSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    colour = serializers.CharField()


class UnitRowSerializer(serializers.Serializer):
    programme = serializers.CharField(source="programme_code")
    programme_name = serializers.CharField()
    unit_id = serializers.IntegerField()
    unit = serializers.CharField(source="unit_code")
    unit_name = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="灯色代码 → 任务数")
    lit = serializers.IntegerField(help_text="计入督办的亮灯任务数")
    tasks = serializers.IntegerField(help_text="任务数")


class ChangeRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task = serializers.IntegerField(source="task_id")
    task_code = serializers.CharField()
    task_name = serializers.CharField()
    programme = serializers.CharField(source="programme_code")
    unit_id = serializers.IntegerField()
    unit = serializers.CharField(source="unit_code")
    unit_name = serializers.CharField()
    from_level = LightStyleSerializer(allow_null=True, help_text="空：首次亮灯")
    to_level = LightStyleSerializer()
    on = serializers.DateField()
    reasons = serializers.ListField(child=serializers.CharField())


class ReminderRowSerializer(serializers.Serializer):
    task = serializers.IntegerField(source="task_id")
    task_code = serializers.CharField()
    task_name = serializers.CharField()
    programme = serializers.CharField(source="programme_code")
    unit_id = serializers.IntegerField()
    unit = serializers.CharField(source="unit_code")
    unit_name = serializers.CharField()
    period = serializers.CharField()
    deadline = serializers.DateField()
    days_left = serializers.IntegerField()


class RectificationRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task = serializers.IntegerField(source="task_id")
    task_code = serializers.CharField()
    task_name = serializers.CharField()
    task_status = serializers.CharField()
    programme = serializers.CharField(source="programme_code")
    unit_id = serializers.IntegerField()
    unit = serializers.CharField(source="unit_code")
    unit_name = serializers.CharField()
    requirement = serializers.CharField()
    deadline = serializers.DateField()
    days_left = serializers.IntegerField(help_text="负数：已逾期")
    light = LightStyleSerializer(allow_null=True)
    inspection = serializers.IntegerField(source="inspection_id")
    inspection_kind = serializers.CharField()
    inspection_held_on = serializers.DateField()


class EscalationUnitSerializer(serializers.Serializer):
    unit_id = serializers.IntegerField()
    unit = serializers.CharField(source="unit_code")
    unit_name = serializers.CharField()
    letters = serializers.IntegerField(help_text="本年督办函")
    interviews = serializers.IntegerField(help_text="未办结约谈")


class EscalationRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    reference = serializers.CharField()
    programme = serializers.CharField(source="programme_code")
    unit_id = serializers.IntegerField()
    unit = serializers.CharField(source="unit_code")
    unit_name = serializers.CharField()
    period = serializers.CharField()
    level = serializers.CharField()
    status = serializers.CharField(help_text="约谈：open / held；督办函为空")
    created_at = serializers.DateTimeField()


def _part(row: type[serializers.Serializer], name: str) -> serializers.Serializer:
    """A list part: its first rows and how many in all."""
    fields = {"rows": row(many=True), "total": serializers.IntegerField(),
              "truncated": serializers.BooleanField()}
    return type(name, (serializers.Serializer,), fields)()


class BoardSerializer(serializers.Serializer):
    today = serializers.DateField()
    programme = serializers.CharField(source="programme_code", allow_null=True)
    week_from = serializers.DateField()
    reminder_days = serializers.IntegerField()
    levels = LevelSerializer(many=True)
    units = UnitRowSerializer(many=True)
    changes = _part(ChangeRowSerializer, "BoardChangesSerializer")
    reminders = _part(ReminderRowSerializer, "BoardRemindersSerializer")
    rectifications = _part(RectificationRowSerializer, "BoardRectificationsSerializer")
    escalation_units = EscalationUnitSerializer(many=True)
    escalations = _part(EscalationRowSerializer, "BoardEscalationsSerializer")


class OneObjectSchema(AutoSchema):
    """The board is one object, though the router serves it as the viewset's ``list``: no
    array around it, no pagination parameters."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class BoardViewSet(viewsets.ViewSet):
    """The supervision board (督查看板) of what the caller may read."""

    schema = OneObjectSchema()

    @extend_schema(parameters=[OpenApiParameter("programme", str, description="计划代码")],
                   responses=BoardSerializer)
    def list(self, request):
        require_reach(request.user)
        programmes = board_module.readable_programmes(request.user)
        code = (request.query_params.get("programme") or "").strip()
        try:
            programme = programme_of(code, programmes) if code else None
        except ValueError as exc:
            raise ValidationError({"programme": str(exc)}) from None
        result = board_module.board(request.user, today_local(), programme, programmes=programmes)
        return Response(BoardSerializer(result).data)


def register(router) -> None:
    """Register the board's viewset on the API router (``/api/board/``)."""
    router.register("board", BoardViewSet, basename="board")
