"""The ledger's REST API: the same filter, permission function and actions as the pages."""

from __future__ import annotations

import json

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from chengzhen.api import PreconditionFailed, etag, expected_version
from chengzhen.audit.models import AuditRecord
from chengzhen.org.models import Unit
from chengzhen.org.permissions import restrict

from . import services
from .filters import PARAMS, TaskFilter, task_rows
from .models import Cooperation, Evidence, ProgressReport, Task, TimeNode
from .queries import with_progress


class TaskSerializer(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lead_unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    cooperating_units = serializers.SerializerMethodField()
    time_progress = serializers.FloatField(read_only=True)
    physical_progress = serializers.FloatField(read_only=True)
    lagging = serializers.BooleanField(read_only=True)
    days_overdue = serializers.IntegerField(read_only=True)
    cumulative_investment = serializers.DecimalField(18, 2, read_only=True)
    year_investment = serializers.DecimalField(18, 2, read_only=True)
    investment_rate = serializers.FloatField(read_only=True, allow_null=True)
    light = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = ["id", "programme", "code", "seq", "name", "category", "requirement",
                  "responsible_leader", "lead_unit", "cooperating_units", "responsible_person",
                  "responsible_phone", "start_date", "due_date", "weight",
                  "planned_total_investment", "opening_completed_investment", "status",
                  "notes", "parent", "version", "time_progress", "physical_progress", "lagging",
                  "days_overdue", "cumulative_investment", "year_investment", "investment_rate",
                  "light"]
        read_only_fields = fields

    def get_light(self, task) -> dict | None:
        """The task's light (亮灯, computed by the supervision room), or null before its first."""
        try:
            light = task.light
        except ObjectDoesNotExist:
            return None
        return {"level": light.level, "name": light.name, "colour": light.colour,
                "reasons": light.reasons, "since": light.since.isoformat(),
                "deadline": light.deadline.isoformat() if light.deadline else None}

    def get_cooperating_units(self, task) -> list[str]:
        return [c.unit.code for c in task.cooperations.all()]


class TaskUpdateSerializer(serializers.ModelSerializer):
    """The fields a PATCH may change (money in yuan)."""

    class Meta:
        model = Task
        fields = ["seq", "name", "category", "requirement", "responsible_leader",
                  "responsible_person", "responsible_phone", "start_date", "due_date", "weight",
                  "planned_total_investment", "opening_completed_investment", "status", "notes"]
        extra_kwargs = {f: {"required": False} for f in fields}


class TimeNodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = TimeNode
        fields = ["id", "task", "seq", "name", "planned_date", "done_on", "version"]
        read_only_fields = fields


class NodeDoneSerializer(serializers.Serializer):
    done_on = serializers.DateField(allow_null=True)


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "report", "original_name", "content_type", "size", "sha256", "taken_at",
                  "longitude", "latitude", "uploaded_at"]
        read_only_fields = fields


class ReportSerializer(serializers.ModelSerializer):
    reporting_unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = ProgressReport
        fields = ["id", "task", "period", "reporting_unit", "physical_progress", "investment",
                  "progress_text", "problems", "next_steps", "coordination", "reporter_name",
                  "submitted_at", "is_current", "supersedes", "evidence"]
        read_only_fields = fields


class ReportCreateSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=10)
    unit = serializers.CharField(max_length=32, help_text="报送单位代码；省略为牵头单位")
    physical_progress = serializers.DecimalField(5, 2, min_value=0, max_value=100)
    investment = serializers.DecimalField(16, 2, min_value=0, required=False, default=0)
    progress_text = serializers.CharField(required=False, allow_blank=True, default="")
    problems = serializers.CharField(required=False, allow_blank=True, default="")
    next_steps = serializers.CharField(required=False, allow_blank=True, default="")
    coordination = serializers.CharField(required=False, allow_blank=True, default="")
    supersede = serializers.BooleanField(required=False, default=False)


class AuditSerializer(serializers.ModelSerializer):
    content = serializers.SerializerMethodField()

    class Meta:
        model = AuditRecord
        fields = ["seq", "at", "actor_username", "source", "action", "model", "object_pk",
                  "content"]

    def get_content(self, record) -> dict:
        return json.loads(record.content)


def _coop_prefetch():
    return Prefetch("cooperations", Cooperation.objects.select_related("unit").order_by("seq"))


FILTER_PARAMETERS = [OpenApiParameter(p, str, required=False) for p in PARAMS]


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tasks (任务) the caller may read, with the ledger list's filters."""

    serializer_class = TaskSerializer

    def get_queryset(self):
        base = Task.objects.select_related("programme", "lead_unit", "parent", "light").prefetch_related(
            _coop_prefetch())
        return with_progress(restrict(base, self.request.user)).order_by("pk")

    @extend_schema(parameters=FILTER_PARAMETERS)
    def list(self, request, *args, **kwargs):
        f = TaskFilter.from_params(request.query_params)
        if f.errors:
            raise ValidationError(f.errors)
        rows = task_rows(f.apply(Task.objects.all(), request.user), cooperations=True)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        task = self.get_object()
        response = Response(self.get_serializer(task).data)
        response["ETag"] = etag(task.version)
        return response

    @extend_schema(request=TaskUpdateSerializer, responses=TaskSerializer,
                   parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER,
                                                required=True)])
    def partial_update(self, request, pk=None):
        task = self.get_object()
        version = expected_version(request)
        data = TaskUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if version != task.version:
            raise PreconditionFailed(_("记录已被他人修改（你读取的是第 %(read)s 版，现为第 "
                                       "%(now)s 版），请重新读取后再改")
                                     % {"read": version, "now": task.version})
        services.update_task(request.user, task, expected_version=version,
                             **data.validated_data)
        return self.retrieve(request, pk=pk)

    @extend_schema(responses=ReportSerializer(many=True))
    @action(detail=True, methods=["get"])
    def reports(self, request, pk=None):
        task = self.get_object()
        reports = (ProgressReport.objects.filter(task=task).select_related("reporting_unit")
                   .prefetch_related("evidence").order_by("-period", "-submitted_at"))
        page = self.paginate_queryset(reports)
        return self.get_paginated_response(ReportSerializer(page, many=True).data)

    @extend_schema(request=ReportCreateSerializer, responses={201: ReportSerializer})
    @reports.mapping.post
    def submit_report(self, request, pk=None):
        task = self.get_object()
        data = ReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        unit = get_object_or_404(Unit, code=values.pop("unit"))
        report = services.submit_report(request.user, task, unit=unit, **values)
        return Response(ReportSerializer(report).data, status=201)

    @extend_schema(responses=AuditSerializer(many=True))
    @action(detail=True, methods=["get"])
    def audit(self, request, pk=None):
        task = self.get_object()
        records = AuditRecord.objects.filter(model="ledger.task", object_pk=str(task.pk))
        page = self.paginate_queryset(records.order_by("-seq"))
        return self.get_paginated_response(AuditSerializer(page, many=True).data)

    @extend_schema(responses=TimeNodeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="time-nodes")
    def time_nodes(self, request, pk=None):
        task = self.get_object()
        nodes = TimeNode.objects.filter(task=task).order_by("seq", "planned_date", "pk")
        page = self.paginate_queryset(nodes)
        return self.get_paginated_response(TimeNodeSerializer(page, many=True).data)


class TimeNodeViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Time nodes (时间节点); marking one done needs the right to edit its task."""

    serializer_class = TimeNodeSerializer

    def get_queryset(self):
        return restrict(TimeNode.objects.all(), self.request.user).order_by("pk")

    @extend_schema(request=NodeDoneSerializer, responses=TimeNodeSerializer)
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        node = self.get_object()
        data = NodeDoneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        node = services.complete_time_node(request.user, node, data.validated_data["done_on"])
        return Response(TimeNodeSerializer(node).data)


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Progress reports (进度报送) on tasks the caller may read, superseded ones included."""

    serializer_class = ReportSerializer

    def get_queryset(self):
        return restrict(ProgressReport.objects.select_related("reporting_unit")
                        .prefetch_related("evidence"), self.request.user).order_by("-pk")


class EvidenceViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Evidence metadata; the file itself is at /ledger/evidence/{id}/."""

    serializer_class = EvidenceSerializer

    def get_queryset(self):
        return Evidence.objects.filter(
            report__in=restrict(ProgressReport.objects.all(), self.request.user)).order_by("pk")
