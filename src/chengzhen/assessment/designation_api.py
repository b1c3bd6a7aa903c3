"""Designations (称号) in the API, read only: the titles the caller may read with their state,
deadline and every change (``?state=rectifying`` for those at risk). Granting and the review go
through ``designation_services`` (the pages, the command and publication)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets

from . import designation_services as services
from .models import Designation, DesignationEvent, DesignationState


class DesignationEventSerializer(serializers.ModelSerializer):
    round = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = DesignationEvent
        fields = ["at", "round", "from_state", "to_state", "total", "grade", "reason", "rule"]
        read_only_fields = fields


class DesignationSerializer(serializers.ModelSerializer):
    rule = serializers.SlugRelatedField(slug_field="code", read_only=True)
    title = serializers.CharField(source="rule.title", read_only=True)
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    events = DesignationEventSerializer(many=True, read_only=True)

    class Meta:
        model = Designation
        fields = ["id", "rule", "title", "unit", "state", "granted_on", "decision", "rectify_until", "revoked_on",
                  "events", "version"]
        read_only_fields = fields


@extend_schema(parameters=[OpenApiParameter("state", str, enum=[s.value for s in DesignationState],
                                            description="held 保留、rectifying 整改期、revoked 已取消")])
class DesignationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Titles the caller may read: supervisors and administrators all, a unit's people and leaders
    those in their reach."""

    serializer_class = DesignationSerializer

    def get_queryset(self):
        qs = services.visible(self.request.user).order_by("rule__code", "unit__code", "-granted_on", "pk")
        state = self.request.query_params.get("state")
        if self.action == "list" and state in DesignationState.values:
            qs = qs.filter(state=state)
        return qs


def register(router) -> None:
    router.register("designations", DesignationViewSet, basename="designation")
