"""Frameworks (测评体系) in the API: list the versions, read one as a tree (``CODE@VERSION``),
import a YAML or Excel file (supervisors), download it as .yaml or .xlsx. A refused file answers
400 with every problem; a frozen version answers 400 naming it."""

from __future__ import annotations

import io

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ParseError, UnsupportedMediaType, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from chengzhen.documents.files import upload_on_disk
from chengzhen.org.permissions import Action, require

from . import services
from .models import FrameworkVersion
from .rules import describe


class VersionSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="framework.code", read_only=True)
    full_name = serializers.CharField(read_only=True)
    frozen = serializers.BooleanField(read_only=True)

    class Meta:
        model = FrameworkVersion
        fields = [
            "code",
            "label",
            "full_name",
            "name",
            "status",
            "leaves",
            "sha256",
            "created_at",
            "frozen",
            "frozen_at",
            "frozen_reason",
            "note",
        ]
        read_only_fields = fields


class VersionDetailSerializer(VersionSerializer):
    tree = serializers.SerializerMethodField()

    class Meta(VersionSerializer.Meta):
        fields = [*VersionSerializer.Meta.fields, "definition", "tree"]
        read_only_fields = fields

    def get_tree(self, version) -> list[dict]:
        fw = services.framework_of(version)

        def node(n) -> dict:
            out = {
                "code": n.code,
                "name": n.name,
                "points": n.points,
                "unit": n.unit,
                "direction": n.direction,
                "key": n.key,
                "bonus": n.bonus,
                "unverified": n.unverified,
                "data_source": n.data_source,
                "department": n.department,
                "evidence": n.evidence,
            }
            if n.rule:
                out["rule"] = n.rule
                out["rule_text"] = describe(n.rule, n.unit)
            if n.children:
                out["children"] = [node(c) for c in n.children]
            return out

        return [node(n) for n in fw.nodes]


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=".yaml/.yml 或 .xlsx")


class FrameworkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Framework versions; the lookup is ``CODE@VERSION`` (or ``CODE`` for the latest)."""

    lookup_field = "name"
    lookup_value_regex = r"[A-Z][A-Z0-9_-]{0,39}(@[0-9A-Za-z._-]{1,20})?"
    parser_classes = [MultiPartParser]

    def get_serializer_class(self):
        return VersionDetailSerializer if self.action == "retrieve" else VersionSerializer

    def get_queryset(self):
        require(self.request.user, Action.READ, FrameworkVersion)
        return FrameworkVersion.objects.select_related("framework").order_by("framework__code", "created_at")

    def get_object(self):
        require(self.request.user, Action.READ, FrameworkVersion)
        try:
            return services.resolve(self.kwargs["name"])
        except services.Refused as exc:
            raise NotFound(str(exc)) from None

    @extend_schema(
        request={"multipart/form-data": ImportSerializer}, responses={201: VersionSerializer, 200: VersionSerializer}
    )
    def create(self, request):
        """Import a framework file; 201 when a version was created or a draft replaced, 200 when unchanged."""
        try:
            upload = request.FILES.get("file")
        except (UnsupportedMediaType, ParseError):  # a body that is no readable multipart form
            upload = None
        if upload is None:
            raise ValidationError({"file": ["缺少文件"]})
        require(request.user, Action.EDIT, FrameworkVersion)
        with upload_on_disk(upload) as path:
            imported = services.import_framework_file(request.user, path, upload.name)
        code = status.HTTP_200_OK if imported.outcome == "unchanged" else status.HTTP_201_CREATED
        return Response({**VersionSerializer(imported.version).data, "outcome": imported.outcome}, status=code)

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=["yaml", "xlsx"])],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path="file/(?P<kind>yaml|xlsx)", url_name="file")
    def file(self, request, name=None, kind="yaml"):
        version = self.get_object()
        data = services.framework_bytes(version, kind)
        return FileResponse(io.BytesIO(data), as_attachment=True, filename=f"{version}.{kind}")


def register(router) -> None:
    router.register("frameworks", FrameworkViewSet, basename="framework")
