"""Life-circle studies (生活圈研究) in the API: list and read the studies the caller may read (the
Study rules, as on the pages: another area's unpublished study is 404), create one from uploaded
files (multipart, the fields of the page's form), queue a run (202, the job), publish or withdraw it
(If-Match), submit its coverage to an assessment round and download its output files. Thin shells
over ``studies``, the services the pages call: refused input answers 400 naming the field, not
allowed 403, If-Match missing 428, a stale version 412. The stored paths of the inputs are never
shown."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from chengzhen.api import PreconditionFailed, etag, expected_version
from chengzhen.assessment.models import Round, Value
from chengzhen.assessment.round_api import IF_MATCH, STALE, ValueSerializer
from chengzhen.org.models import Unit
from chengzhen.org.permissions import grants_for, restrict

from . import studies, views
from .models import Study, StudyStatus

STATUS_HELP = "；".join(f"{value} {label}" for value, label in StudyStatus.choices)


class InputFileSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="上传时的文件名")
    size = serializers.IntegerField(help_text="字节数")
    sha256 = serializers.CharField(help_text="SHA-256（输入的版本，测算记录以此为准）")


class OutputFileSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="相对于成果文件夹的名称，如 coverage.csv、siting/sites.csv")
    size = serializers.IntegerField(help_text="字节数")
    url = serializers.CharField(help_text="下载地址")


class StudySerializer(serializers.ModelSerializer):
    area_unit = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="研究区域（单位代码）")
    inputs = serializers.DictField(child=InputFileSerializer(), read_only=True,
                                   help_text="每类输入（network 路网、facilities 设施、homes 住宅、areas 区域、"
                                             "candidates 候选点、existing 现有设施、preset 预设文件）")
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    ran_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True,
                                          help_text="测算人（用户名）")
    stale = serializers.SerializerMethodField(
        help_text="排队或测算中的任务已长时间无进展（后台进程已停止），可重新测算")
    outputs = serializers.SerializerMethodField(help_text="最近一次测算的成果文件（测算完成时）")

    class Meta:
        model = Study
        fields = ["code", "name", "area_unit", "preset", "options", "inputs", "published", "status", "progress",
                  "error", "runs", "ran_at", "ran_by", "stale", "summary", "outputs", "version"]
        read_only_fields = fields

    def get_stale(self, study: Study) -> bool:
        return study.running and studies.is_stale(study)  # as the study's page says it

    @extend_schema_field(OutputFileSerializer(many=True))
    def get_outputs(self, study: Study) -> list[dict]:
        if study.status != StudyStatus.DONE:  # the files are served for a finished study only
            return []
        return [{"name": name, "size": size, "url": reverse("study-file", kwargs={"code": study.code, "name": name})}
                for name, size in studies.outputs(study)]


class StudyListSerializer(StudySerializer):
    class Meta(StudySerializer.Meta):
        fields = [f for f in StudySerializer.Meta.fields if f != "outputs"]  # not a folder walk per row
        read_only_fields = fields


def _file(label: str, *, required: bool = False) -> serializers.FileField:
    # empty files pass here so that the service refuses them naming the file and the input
    return serializers.FileField(help_text=label, required=required, allow_empty_file=True, use_url=False)


class NewStudySerializer(serializers.Serializer):
    """The fields of the page's form (``views.StudyForm``)."""

    code = serializers.CharField(max_length=40, help_text="研究代码，如 LC-QS-2026")
    name = serializers.CharField(max_length=200, help_text="名称")
    area_unit = serializers.CharField(max_length=32, help_text="研究区域（单位代码）")
    preset = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                   help_text="随附预设的名称，如 gb50180-2018；上传预设文件时留空")
    preset_file = _file("预设文件（.yaml）")
    network = _file("路网（.geojson、.gpkg、Shapefile 的 .zip、.osm.pbf）", required=True)
    facilities = _file("设施（.csv、.xlsx 点位表或点图层）", required=True)
    homes = _file("住宅（.csv、.xlsx 点位表或点图层）", required=True)
    areas = _file("区域面（.geojson，按区域统计覆盖率）")
    crs = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                help_text="点位表的坐标系：WGS84、CGCS2000、GCJ-02、BD-09 或 EPSG 代码（不猜测）")
    type_column = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                        help_text="设施类型列")
    id_column = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                      help_text="住宅编号列")
    snap = serializers.ChoiceField(choices=list(studies.SNAPS), default="edge",
                                   help_text="吸附方式：edge 投影到最近路段，node 最近路网节点")
    max_snap = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                     help_text="到道路的最远距离（米），默认 500")
    candidates = _file("候选点（选址，可选）")
    existing = _file("现有设施（选址，可选；默认取设施文件中同类设施）")
    siting_type = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                        help_text="选址设施类型")
    siting_k = serializers.CharField(max_length=40, required=False, allow_blank=True, default="", help_text="新址个数")
    siting_circle = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                          help_text="生活圈（分钟）")
    siting_radius = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                          help_text="或服务半径（米）")
    siting_method = serializers.ChoiceField(choices=list(studies.METHODS), required=False, allow_blank=True,
                                            default="exact",
                                            help_text="求解方法：exact 精确（HiGHS，限时），greedy 贪心")


class PublishSerializer(serializers.Serializer):
    published = serializers.BooleanField(default=True, help_text="true 发布（所有人员均可查看）；false 撤回发布")


class RunSerializer(serializers.Serializer):
    job = serializers.IntegerField(help_text="后台任务编号")
    study = StudySerializer()


class SubmitCoverageSerializer(serializers.Serializer):
    """The fields of the page's submit form (``views.study_submit``)."""

    round = serializers.CharField(max_length=40, help_text="考核轮次代码")
    indicator = serializers.CharField(max_length=120, help_text="末级指标代码，或 指标代码:取值项代码")
    type = serializers.CharField(max_length=100, help_text="设施类型（代码或名称，如 kindergarten、幼儿园），"
                                                           "或 all_required（全部必配）")
    circle = serializers.CharField(max_length=20, help_text="生活圈（分钟），如 5")
    skip_unknown_areas = serializers.BooleanField(default=False, help_text="忽略不是本轮考核对象的区域")
    areas_map = serializers.DictField(child=serializers.CharField(max_length=32), required=False, default=dict,
                                      help_text="区域名称 → 考核对象单位代码；未列出的区域按名称对应")


class SubmittedSerializer(serializers.Serializer):
    values = ValueSerializer(many=True, help_text="报送的考核数值（每个考核对象一个）")
    skipped = serializers.ListField(child=serializers.CharField(), help_text="未报送的区域及原因")
    files = serializers.ListField(child=serializers.CharField(), help_text="作为佐证附上的文件")


class StudyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Life-circle studies the caller may read: their own area's (and below), published ones, all
    for supervisors, leaders and administrators."""

    lookup_field = "code"
    lookup_value_regex = studies.CODE.pattern
    parser_classes = [MultiPartParser, FormParser]  # the new study's files

    def get_serializer_class(self):
        return StudyListSerializer if self.action == "list" else StudySerializer

    def get_queryset(self):
        return restrict(Study.objects.select_related("area_unit", "ran_by", "job"), self.request.user)

    def list(self, request, *args, **kwargs):
        if not grants_for(request.user):  # as the list page
            raise PermissionDenied(_("无权查看生活圈研究"))
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        study = self.get_object()
        return Response(StudySerializer(study).data, headers={"ETag": etag(study.version)})

    def _answer(self, study: Study, code: int = status.HTTP_200_OK) -> Response:
        study = self.get_queryset().get(pk=study.pk)
        return Response(StudySerializer(study).data, status=code, headers={"ETag": etag(study.version)})

    @extend_schema(request={"multipart/form-data": NewStudySerializer}, responses={201: StudySerializer})
    def create(self, request, *args, **kwargs):
        """A new study from uploaded files (201); every refused input answers 400 naming its field,
        and nothing is stored."""
        data = NewStudySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        unit = Unit.objects.filter(code=d["area_unit"]).first()
        if unit is None:
            raise ValidationError({"area_unit": _("没有代码为 %(code)s 的单位") % {"code": d["area_unit"]}})
        files, options, preset = views.study_inputs(d)  # as the page does
        study = studies.create_study(request.user, code=d["code"], name=d["name"], area_unit=unit, preset=preset,
                                     files=files, options=options)
        response = self._answer(study, status.HTTP_201_CREATED)
        response["Location"] = reverse("study-detail", kwargs={"code": study.code})
        return response

    @extend_schema(request=None, responses={202: RunSerializer})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def run(self, request, code=None):
        """Queue a run on the background worker (202, the job); the study's status and progress
        follow it. Refused (400) while a run is queued or running."""
        study = self.get_object()
        job = studies.run_study(request.user, study)
        study = self.get_queryset().get(pk=study.pk)
        return Response(RunSerializer({"job": job.pk, "study": study}).data, status=status.HTTP_202_ACCEPTED,
                        headers={"ETag": etag(study.version)})

    @extend_schema(request=PublishSerializer, parameters=[IF_MATCH], responses={200: StudySerializer, **STALE})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def publish(self, request, code=None):
        """Publish a finished study (everyone holding a role reads it) or withdraw it (If-Match:
        the study's ETag)."""
        study = self.get_object()
        version = expected_version(request)
        if version != study.version:
            raise PreconditionFailed()
        data = PublishSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        study = studies.publish_study(request.user, study, published=data.validated_data["published"],
                                      expected_version=version)
        return self._answer(study)

    @extend_schema(request=SubmitCoverageSerializer, responses={200: SubmittedSerializer})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def submit(self, request, code=None):
        """Submit the study's coverage of one facility type within one circle to an assessment
        round: one value per area's subject (the study's area unit when it has no areas), with
        the coverage table and the map as evidence."""
        study = self.get_object()
        data = SubmitCoverageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        r = Round.objects.filter(code=d["round"]).first()
        if r is None:
            raise ValidationError({"round": _("没有考核轮次 %(code)s") % {"code": d["round"]}})
        node, _sep, input_code = d["indicator"].strip().partition(":")
        if not node.strip():
            raise ValidationError({"indicator": _("请选择指标")})
        done = studies.submit_study_coverage(request.user, study, round=r, node_code=node.strip(),
                                             input_code=input_code.strip(), type_code=d["type"], circle=d["circle"],
                                             area_to_unit=d["areas_map"] or None,
                                             skip_unknown_areas=d["skip_unknown_areas"])
        values = Value.objects.select_related("round", "subject", "submitted_by", "verified_by").prefetch_related(
            "files").filter(pk__in=[v.pk for v in done.values]).order_by("subject__code")
        return Response(SubmittedSerializer({"values": values, "skipped": done.skipped, "files": done.files}).data)

    @extend_schema(parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH,
                                                description="成果文件名（见 outputs），如 coverage.csv")],
                   responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY,
                                                                                 description="成果文件")})
    @action(detail=True, methods=["get"], url_path=r"files/(?P<name>.+)", url_name="file")
    def file(self, request, code=None, name=None, **kwargs) -> HttpResponse:
        """One output file of the latest run, by the study page's own rule (``views.study_file``:
        only the names the run wrote, nothing outside its results folder; 404 otherwise)."""
        if kwargs.get("format"):  # .../files/homes.csv without the slash: see get_format_suffix
            name = f"{name}.{kwargs['format']}"
        return views.study_file(request._request, code, name)

    def get_format_suffix(self, **kwargs):
        # A file's extension is part of its name, not a response format: the router's format-suffix
        # route takes .../files/homes.csv (no trailing slash) as name "homes", format "csv".
        return None if self.action == "file" else super().get_format_suffix(**kwargs)


def register(router) -> None:
    router.register("studies", StudyViewSet, basename="study")
