"""Bulletins (工作通报) in the API: list and read those the caller may see, generate a draft,
edit a draft's text (If-Match), refresh, issue (If-Match) and download the files. An issued
bulletin answers 409 to any change."""

from __future__ import annotations

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from chengzhen.api import etag, expected_version
from chengzhen.programmes.models import Programme

from . import bulletins
from .models import Bulletin, BulletinStatus


class Frozen(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "frozen"


class BulletinSerializer(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    files = serializers.SerializerMethodField()

    class Meta:
        model = Bulletin
        fields = ["id", "programme", "period_from", "period_to", "as_of", "status", "source",
                  "year", "number", "title", "masthead", "issuer", "recipient", "requirements",
                  "figures", "figures_sha256", "previous", "created_at", "issued_at", "issued_on",
                  "docx_sha256", "xlsx_sha256", "files", "version"]
        read_only_fields = fields

    def get_files(self, b) -> dict[str, str]:
        from django.urls import reverse

        return {kind: reverse("bulletin-file", args=[b.pk, kind]) for kind in ("docx", "xlsx")}


class BulletinListSerializer(BulletinSerializer):
    class Meta(BulletinSerializer.Meta):
        fields = [f for f in BulletinSerializer.Meta.fields if f != "figures"]
        read_only_fields = fields


class GenerateSerializer(serializers.Serializer):
    programme = serializers.CharField(help_text="计划代码")
    period = serializers.CharField(help_text="FROM..TO，如 2026-11-01..2026-11-10 或 2026-11-D1")


class EditSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    recipient = serializers.CharField(max_length=100, required=False, allow_blank=True)
    requirements = serializers.CharField(max_length=20000, required=False, allow_blank=True)


class BulletinViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bulletins of the programmes the caller covers: issued ones, and drafts for supervisors
    and leaders; ``?programme=CODE``, ``?status=draft|issued``."""

    lookup_value_regex = r"[0-9]{1,18}"  # an id; longer would overflow the key column
    parser_classes = [JSONParser]  # bodies are small JSON objects

    def get_serializer_class(self):
        return BulletinListSerializer if self.action == "list" else BulletinSerializer

    def get_queryset(self):
        qs = bulletins.visible(self.request.user).order_by("-period_to", "-pk")
        params = self.request.query_params
        if (state := params.get("status")) and state not in BulletinStatus.values:
            raise ValidationError({"status": _("应为 draft（草稿）或 issued（已签发）")})
        if state:
            qs = qs.filter(status=state)
        if programme := params.get("programme"):
            if "\x00" in programme:
                raise ValidationError({"programme": _("含有不可用的字符（NUL）")})
            qs = qs.filter(programme__code=programme)
        return qs

    @extend_schema(parameters=[OpenApiParameter("programme", str), OpenApiParameter("status", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        b = self.get_object()
        return Response(self.get_serializer(b).data, headers={"ETag": etag(b.version)})

    @extend_schema(request=GenerateSerializer, responses={201: BulletinSerializer})
    def create(self, request):
        data = GenerateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        programme = Programme.objects.filter(code=data.validated_data["programme"]).first()
        if programme is None:
            raise ValidationError({"programme": _("没有计划 %(code)s") % {
                "code": data.validated_data["programme"]}})
        start, end = bulletins.parse_span(data.validated_data["period"])
        b = bulletins.generate(request.user, programme, start, end)
        return Response(BulletinSerializer(b, context={"request": request}).data,
                        status=status.HTTP_201_CREATED, headers={"ETag": etag(b.version)})

    def _changeable(self) -> Bulletin:
        b = self.get_object()
        if b.issued:
            raise Frozen(_("%(b)s 已签发，不能修改") % {"b": b})
        return b

    @extend_schema(request=EditSerializer, responses=BulletinSerializer)
    def partial_update(self, request, pk=None):
        """Edit a draft's title, 主送 or 下步工作要求 (If-Match: the ETag read)."""
        b = self._changeable()
        version = expected_version(request)
        data = EditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        b = bulletins.edit(request.user, b, expected_version=version, **data.validated_data)
        return Response(BulletinSerializer(b).data, headers={"ETag": etag(b.version)})

    def update(self, request, pk=None):
        return self.partial_update(request, pk)

    def destroy(self, request, pk=None):
        b = self.get_object()
        if b.issued:
            raise Frozen(_("%(b)s 已签发，不能删除") % {"b": b})
        raise Frozen(_("通报不能通过接口删除"))

    @extend_schema(request=None, responses=BulletinSerializer)
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        """Recompute a draft's figures (If-Match)."""
        b = self._changeable()
        b = bulletins.refresh(request.user, b, expected_version=expected_version(request))
        return Response(BulletinSerializer(b).data, headers={"ETag": etag(b.version)})

    @extend_schema(request=None, responses=BulletinSerializer)
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        """Issue a draft (签发): number, files and hashes; frozen afterwards (If-Match)."""
        b = self._changeable()
        b = bulletins.issue(request.user, b, expected_version=expected_version(request))
        return Response(BulletinSerializer(b).data, headers={"ETag": etag(b.version)})

    @extend_schema(parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=["docx", "xlsx"])],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="file/(?P<kind>docx|xlsx)", url_name="file")
    def file(self, request, pk=None, kind="docx"):
        """The .docx or the .xlsx annex: an issued bulletin's stored file (checked against its
        hash), a draft's built from its figures."""
        import io

        from django.http import Http404

        b = self.get_object()
        suffix = "." + kind
        if b.issued:
            path = bulletins.stored_path(b, suffix)
            if path is None:
                raise Http404
            return FileResponse(path.open("rb"), as_attachment=True,
                                filename=bulletins.file_name(b, suffix))
        return FileResponse(io.BytesIO(bulletins.build_file(b, suffix)), as_attachment=True,
                            filename=bulletins.file_name(b, suffix))


def register(router) -> None:
    router.register("bulletins", BulletinViewSet, basename="bulletin")
