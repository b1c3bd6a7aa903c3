"""Supervision's REST API: lights, escalations (督办函, 约谈) and one's own notifications —
the same permission function and actions as the pages."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from chengzhen.api import etag, expected_version
from chengzhen.ledger.filters import LEVEL_CODE
from chengzhen.org.permissions import Action, restrict

from . import services
from .models import Escalation, EscalationKind, Light, LightChange, Notification


class LightSerializer(serializers.ModelSerializer):
    task = serializers.PrimaryKeyRelatedField(read_only=True)
    task_code = serializers.CharField(source="task.code", read_only=True)
    rule_version = serializers.StringRelatedField()

    class Meta:
        model = Light
        fields = ["task", "task_code", "level", "name", "colour", "reasons", "since", "deadline",
                  "raw_level", "rule_version", "computed_at"]
        read_only_fields = fields


class LightChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = LightChange
        fields = ["id", "task", "from_level", "to_level", "on", "period", "counts", "reasons"]
        read_only_fields = fields


class LightViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Lights (亮灯) of the tasks the caller may read; ``?level=red``, ``?programme=CODE``."""

    serializer_class = LightSerializer
    lookup_field = "task"
    lookup_value_regex = r"[0-9]{1,18}"  # a task id; longer would overflow the key column

    def get_queryset(self):
        qs = restrict(Light.objects.select_related("task", "rule_version__rule_set"),
                      self.request.user).order_by("task_id")
        level = self.request.query_params.get("level")
        if level:
            if not LEVEL_CODE.match(level):
                raise ValidationError({"level": _("%(value)r 不是灯色代码（如 red、yellow）") % {"value": level}})
            qs = qs.filter(level=level)
        programme = self.request.query_params.get("programme")
        if programme:
            if "\x00" in programme:
                raise ValidationError({"programme": _("含有不可用的字符（NUL）")})
            qs = qs.filter(task__programme__code=programme)
        return qs

    @extend_schema(parameters=[OpenApiParameter("level", str), OpenApiParameter("programme", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=LightChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, task=None):
        light = self.get_object()
        changes = LightChange.objects.filter(task_id=light.task_id).order_by("on", "pk")
        return Response(LightChangeSerializer(changes, many=True).data)


class EscalationSerializer(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    rule_version = serializers.StringRelatedField()
    tasks = serializers.SerializerMethodField()
    letter = serializers.SerializerMethodField()

    class Meta:
        model = Escalation
        fields = ["id", "kind", "reference", "programme", "unit", "period", "level", "rule_version",
                  "created_at", "tasks", "letter", "file_sha256", "status", "head", "held_on",
                  "outcome", "version"]
        read_only_fields = fields

    def get_tasks(self, esc) -> list[int]:
        return sorted({c.task_id for c in esc.changes.all()})

    def get_letter(self, esc) -> str | None:
        from django.urls import reverse

        return reverse("supervision:letter", args=[esc.pk]) if esc.file_name else None


class InterviewSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["open", "held", "closed"])
    head = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    held_on = serializers.DateField(required=False, allow_null=True, default=None)
    outcome = serializers.CharField(required=False, allow_blank=True, default="")


class EscalationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Supervision letters and interviews of the units the caller covers; ``?kind=letter``."""

    serializer_class = EscalationSerializer

    def get_queryset(self):
        qs = restrict(Escalation.objects.select_related("programme", "unit", "rule_version__rule_set")
                      .prefetch_related("changes"), self.request.user, Action.READ).order_by("-pk")
        kind = self.request.query_params.get("kind")
        if kind and kind not in EscalationKind.values:
            raise ValidationError({"kind": _("应为 letter（督办函）或 interview（约谈）")})
        return qs.filter(kind=kind) if kind else qs

    def retrieve(self, request, *args, **kwargs):
        esc = self.get_object()
        return Response(self.get_serializer(esc).data, headers={"ETag": etag(esc.version)})

    @extend_schema(request=InterviewSerializer, responses=EscalationSerializer)
    @action(detail=True, methods=["post"])
    def interview(self, request, pk=None):
        """Record an interview's outcome (If-Match: the ETag read)."""
        esc = self.get_object()
        version = expected_version(request)
        data = InterviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        esc = services.record_interview(request.user, esc, expected_version=version, **data.validated_data)
        return Response(self.get_serializer(esc).data, headers={"ETag": etag(esc.version)})


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "task", "created_at", "read_at"]
        read_only_fields = fields


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications; ``?unread=1``; ``POST read/`` marks them read."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        qs = Notification.objects.filter(recipient=self.request.user).order_by("-created_at", "-pk")
        if self.request.query_params.get("unread") == "1":
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(request=None, responses={200: {"type": "object", "properties": {
        "read": {"type": "integer"}, "unread": {"type": "integer"}}}})
    @action(detail=False, methods=["post"])
    def read(self, request):
        ids = request.data.get("ids") if isinstance(request.data, dict) else None
        qs = Notification.objects.filter(recipient=request.user, read_at__isnull=True)
        if isinstance(ids, list):
            qs = qs.filter(pk__in=[i for i in ids if isinstance(i, int)])
        n = qs.update(read_at=timezone.now())
        unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True).count()
        return Response({"read": n, "unread": unread})
