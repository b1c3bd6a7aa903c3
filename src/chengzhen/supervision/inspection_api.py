"""The API of inspections (督查调研), rectifications (督查整改) and accountability records
(问责与表扬): list, read and create, through the same permission function and actions
(``inspections``) as the pages.

* ``/api/inspections/`` — ``?kind=unannounced|npc|cppcc``, ``?programme=CODE``; each with its
  links, photo metadata, rectifications and ``off_rota`` (an investigation outside its body's
  months: a warning, never a refusal).
* ``/api/rectifications/`` — ``?programme=CODE``, ``?inspection=ID``, ``?state=open|overdue|done``;
  read like their ledger tasks (a unit editor sees its own), created by those who may record
  the inspection.
* ``/api/accountabilities/`` — ``?programme=CODE``, ``?unit=CODE``, ``?kind=…``, ``?year=YYYY``.

Bad input is 400 with field errors; a record one may not read is not found (404; in a
request body, "does not exist", 400); one may read but not write is 403.
"""

from __future__ import annotations

import re

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from chengzhen.api import etag
from chengzhen.ledger.models import Task
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, restrict
from chengzhen.programmes.models import Programme

from . import inspections
from .inspections import RectificationState
from .models import (
    Accountability,
    AccountabilityKind,
    Bulletin,
    BulletinStatus,
    Escalation,
    Inspection,
    InspectionKind,
    InspectionLink,
    InspectionPhoto,
    Rectification,
)

ID = r"[0-9]{1,18}"  # a row id; longer would overflow the key column
YEAR = r"[0-9]{4}"


class CodeField(serializers.SlugRelatedField):
    """A programme or unit named by its code; a NUL is refused before it reaches a query."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data or len(data) > 40:
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.INT)
class IdField(serializers.PrimaryKeyRelatedField):
    """A row named by its id, looked up among those the caller may read (``scope``)."""

    def __init__(self, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.scope(self.context["request"].user)

    def to_internal_value(self, data):
        if isinstance(data, str) and re.fullmatch(ID, data):
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < data < 10**18:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


def _readable_tasks(user):
    return restrict(Task.objects.select_related("lead_unit"), user)


def _readable_inspections(user):
    return restrict(Inspection.objects.select_related("programme"), user, Action.READ)


def _readable_escalations(user):
    return restrict(Escalation.objects.all(), user, Action.READ)


def _readable_bulletins(user):
    return restrict(Bulletin.objects.filter(status=BulletinStatus.ISSUED), user, Action.READ)


def _text(params, name: str) -> str:
    value = (params.get(name) or "").strip()
    if "\x00" in value:
        raise ValidationError({name: _("含有不可用的字符（NUL）")})
    return value


def _choice(params, name: str, choices) -> str:
    value = _text(params, name)
    if value and value not in choices:
        raise ValidationError({name: _("应为 %(values)s 之一") % {"values": "、".join(choices)}})
    return value


# -- serializers --------------------------------------------------------------------------------
class LinkSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    task_code = serializers.CharField(source="task.code", read_only=True, allow_null=True, default=None)

    class Meta:
        model = InspectionLink
        fields = ["unit", "task", "task_code"]
        read_only_fields = fields


class PhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = InspectionPhoto
        fields = ["id", "original_name", "content_type", "size", "sha256", "taken_at", "longitude",
                  "latitude", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, photo) -> str:
        """The photo itself (for those who may read the inspection)."""
        return reverse("supervision:inspection_photo", args=[photo.pk])


class LightField(serializers.Field):
    def to_representation(self, task):
        try:
            light = task.light
        except ObjectDoesNotExist:
            return None
        return {"level": light.level, "name": light.name, "colour": light.colour}


class RectificationSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    task_code = serializers.CharField(source="task.code", read_only=True)
    task_status = serializers.CharField(source="task.status", read_only=True)
    state = serializers.SerializerMethodField()
    state_display = serializers.SerializerMethodField()
    light = serializers.SerializerMethodField()

    class Meta:
        model = Rectification
        fields = ["id", "inspection", "unit", "requirement", "deadline", "task", "task_code",
                  "task_status", "source_task", "state", "state_display", "light", "version"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=RectificationState.values))
    def get_state(self, r) -> str:
        """整改中 (open), 已逾期 (overdue) or 已完成 (done: its task is 已完成 or 已销号)."""
        return str(inspections.rectification_state(r, self.context.get("today")).value)

    def get_state_display(self, r) -> str:
        return str(inspections.rectification_state(r, self.context.get("today")).label)

    @extend_schema_field({"type": "object", "nullable": True, "properties": {
        "level": {"type": "string"}, "name": {"type": "string"}, "colour": {"type": "string"}}})
    def get_light(self, r):
        """The tracking task's light (亮灯), or null before its first."""
        return LightField().to_representation(r.task)


class InspectionSerializer(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    links = LinkSerializer(many=True, read_only=True)
    photos = PhotoSerializer(many=True, read_only=True)
    rectifications = RectificationSerializer(many=True, read_only=True)
    off_rota = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = ["id", "kind", "programme", "held_on", "place", "inspectors", "findings",
                  "recorded_by", "recorded_at", "off_rota", "links", "photos", "rectifications",
                  "version"]
        read_only_fields = fields

    def get_off_rota(self, inspection) -> bool:
        """An investigation held outside its body's months (分单、双月份): a warning."""
        return inspections.off_rota(inspection)


class LinkInputSerializer(serializers.Serializer):
    unit = CodeField(queryset=Unit.objects.all(), required=False, allow_null=True, default=None,
                     help_text="单位代码；省略为任务的牵头单位")
    task = IdField(_readable_tasks, required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if attrs["unit"] is None and attrs["task"] is None:
            raise ValidationError(_("涉及单位和任务至少填一项"))
        return attrs


class InspectionCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=InspectionKind.values)
    programme = CodeField(queryset=Programme.objects.all())
    held_on = serializers.DateField()
    place = serializers.CharField(max_length=200)
    inspectors = serializers.CharField(max_length=300)
    findings = serializers.CharField(max_length=20000)
    links = LinkInputSerializer(many=True, required=False, default=list)


class RectificationCreateSerializer(serializers.Serializer):
    inspection = IdField(_readable_inspections)
    unit = CodeField(queryset=Unit.objects.all())
    requirement = serializers.CharField(max_length=20000)
    deadline = serializers.DateField()
    source_task = IdField(_readable_tasks, required=False, allow_null=True, default=None)


class AccountabilitySerializer(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    lights = serializers.ListField(child=serializers.DictField(), read_only=True,
                                   help_text="当时的任务与灯色：[{task, code, level, name}]")

    class Meta:
        model = Accountability
        fields = ["id", "kind", "programme", "unit", "person", "on", "reason", "lights",
                  "escalation", "inspection", "bulletin", "recorded_by", "recorded_at", "version"]
        read_only_fields = fields


class AccountabilityCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AccountabilityKind.values)
    programme = CodeField(queryset=Programme.objects.all())
    unit = CodeField(queryset=Unit.objects.all())
    person = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    on = serializers.DateField()
    reason = serializers.CharField(max_length=20000)
    tasks = serializers.ListField(child=IdField(_readable_tasks), required=False, default=list,
                                  max_length=500)
    escalation = IdField(_readable_escalations, required=False, allow_null=True, default=None)
    inspection = IdField(_readable_inspections, required=False, allow_null=True, default=None)
    bulletin = IdField(_readable_bulletins, required=False, allow_null=True, default=None)


# -- viewsets -----------------------------------------------------------------------------------
class _ListReadCreate(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID
    parser_classes = [JSONParser]  # bodies are JSON (nested links, lists of tasks)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        return Response(self.get_serializer(obj).data, headers={"ETag": etag(obj.version)})

    def _created(self, obj):
        obj = self.get_queryset().filter(pk=obj.pk).first() or obj  # (e.g. a task out of reach)
        return Response(self.get_serializer(obj).data, status=201, headers={"ETag": etag(obj.version)})


class InspectionViewSet(_ListReadCreate):
    """Inspections (明察暗访, 人大代表/政协委员调研) of the programmes the caller covers as a
    supervisor, leader or inspector; recorded by supervisors (any kind) and inspectors
    (investigations only)."""

    serializer_class = InspectionSerializer

    def get_queryset(self):
        qs = _readable_inspections(self.request.user).select_related("recorded_by").prefetch_related(
            "links__unit", "links__task", "photos", "rectifications__unit",
            "rectifications__task__light").order_by("-held_on", "-pk")
        if self.action != "list":
            return qs
        params = self.request.query_params
        kind = _choice(params, "kind", InspectionKind.values)
        if kind:
            qs = qs.filter(kind=kind)
        programme = _text(params, "programme")
        return qs.filter(programme__code=programme) if programme else qs

    @extend_schema(parameters=[OpenApiParameter("kind", str, enum=InspectionKind.values),
                               OpenApiParameter("programme", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=InspectionCreateSerializer, responses={201: InspectionSerializer})
    def create(self, request):
        data = InspectionCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        d = dict(data.validated_data)
        links = [(link["unit"], link["task"]) for link in d.pop("links")]
        inspection = inspections.record_inspection(request.user, d.pop("programme"), links=links, **d)
        return self._created(inspection)


class RectificationViewSet(_ListReadCreate):
    """Rectifications (督查整改), read like the ledger tasks that track them; set by those who
    may record their inspection."""

    serializer_class = RectificationSerializer

    def get_queryset(self):
        qs = restrict(Rectification.objects.select_related("unit", "task", "task__light"),
                      self.request.user).order_by("deadline", "pk")
        if self.action != "list":
            return qs
        params = self.request.query_params
        programme = _text(params, "programme")
        if programme:
            qs = qs.filter(task__programme__code=programme)
        inspection = _text(params, "inspection")
        if inspection:
            if not re.fullmatch(ID, inspection):
                raise ValidationError({"inspection": _("应为督查调研的编号（整数）")})
            qs = qs.filter(inspection_id=int(inspection))
        state = _choice(params, "state", RectificationState.values)
        return qs.filter(inspections.state_condition(state)) if state else qs

    @extend_schema(parameters=[OpenApiParameter("programme", str), OpenApiParameter("inspection", int),
                               OpenApiParameter("state", str, enum=RectificationState.values)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=RectificationCreateSerializer, responses={201: RectificationSerializer})
    def create(self, request):
        data = RectificationCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        d = dict(data.validated_data)
        r = inspections.add_rectification(request.user, d.pop("inspection"), **d)
        return self._created(r)


class AccountabilityViewSet(_ListReadCreate):
    """Accountability records (表扬, 通报批评, 约谈, 调整) of the units the caller covers;
    recorded by supervisors covering the unit and programme."""

    serializer_class = AccountabilitySerializer

    def get_queryset(self):
        qs = restrict(Accountability.objects.select_related("programme", "unit", "recorded_by"),
                      self.request.user, Action.READ).order_by("-on", "-pk")
        if self.action != "list":
            return qs
        params = self.request.query_params
        for name, field in (("programme", "programme__code"), ("unit", "unit__code")):
            value = _text(params, name)
            if value:
                qs = qs.filter(**{field: value})
        kind = _choice(params, "kind", AccountabilityKind.values)
        if kind:
            qs = qs.filter(kind=kind)
        year = _text(params, "year")
        if year:
            if not re.fullmatch(YEAR, year):
                raise ValidationError({"year": _("应为四位年份，如 2026")})
            qs = qs.filter(on__year=int(year))
        return qs

    @extend_schema(parameters=[OpenApiParameter("programme", str), OpenApiParameter("unit", str),
                               OpenApiParameter("kind", str, enum=AccountabilityKind.values),
                               OpenApiParameter("year", int)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=AccountabilityCreateSerializer, responses={201: AccountabilitySerializer})
    def create(self, request):
        data = AccountabilityCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        record = inspections.record_accountability(request.user, **data.validated_data)
        return self._created(record)


def register(router) -> None:
    """Register this part's viewsets on the API router."""
    router.register("inspections", InspectionViewSet, basename="inspection")
    router.register("rectifications", RectificationViewSet, basename="rectification")
    router.register("accountabilities", AccountabilityViewSet, basename="accountability")
