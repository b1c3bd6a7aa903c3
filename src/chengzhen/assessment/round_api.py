"""Assessment rounds (考核轮次) in the API: the rounds the caller sees (with the progress board for
supervisors, administrators and leaders), a round's values (read; submit or change one — a change
names the version read in If-Match), verification (核查, If-Match), a subject's scorecard (404
unless the caller may see it) and the ranking; supervisors set up a round, gather the platform's
values, score and publish. Thin shells over ``rounds``: refused input answers
400, not allowed 403, a stale version 412, If-Match missing 428."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from chengzhen.api import etag, expected_version
from chengzhen.org.models import Unit
from chengzhen.org.permissions import Action, restrict

from . import rounds
from .models import Round, RoundSubject, Value, ValueEvidence
from .round_views import change_text, has_previous, may_rank, oversees

CODE = rounds.ROUND_CODE.pattern
UNIT = r"[0-9A-Za-z_-]{1,32}"
IF_MATCH = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True,
                            description="读取时的 ETag（数值的 version）")
IF_MATCH_OPTIONAL = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=False,
                                     description="修改已有数值时必填：读取时的 ETag")
STALE = {412: OpenApiResponse(OpenApiTypes.OBJECT, description="记录已被他人修改"),
         428: OpenApiResponse(OpenApiTypes.OBJECT, description="缺少 If-Match")}


class RoundSerializer(serializers.ModelSerializer):
    framework = serializers.CharField(source="framework_version.full_name", read_only=True)
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    previous = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    subjects = serializers.SerializerMethodField()

    class Meta:
        model = Round
        fields = ["code", "name", "framework", "programme", "year", "period_from", "period_to", "submit_by",
                  "verify_by", "status", "public", "previous", "published_at", "subjects", "version"]
        read_only_fields = fields

    def get_subjects(self, r) -> list[str]:
        return list(RoundSubject.objects.filter(round=r).order_by("unit__code").values_list("unit__code", flat=True))


class NewRoundSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40, help_text="轮次代码，如 ZDZ-2026-12")
    name = serializers.CharField(max_length=200)
    framework = serializers.CharField(max_length=70, help_text="测评体系 CODE 或 CODE@VERSION")
    subjects = serializers.ListField(child=serializers.CharField(max_length=32), max_length=5000,
                                     help_text="考核对象的单位代码")
    year = serializers.IntegerField(min_value=2000, max_value=2100, help_text="对象属性年度")
    period_from = serializers.DateField()
    period_to = serializers.DateField()
    submit_by = serializers.DateField(help_text="填报截止")
    verify_by = serializers.DateField(required=False, allow_null=True, default=None, help_text="核查截止")
    programme = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                      help_text="平台取数所用的工作计划代码")
    previous = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                     help_text="上一轮的代码")
    public = serializers.BooleanField(required=False, default=False)
    issuer = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    requirements = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ProgressSerializer(serializers.Serializer):
    subject = serializers.CharField(source="unit.code")
    name = serializers.CharField(source="unit.name")
    expected = serializers.IntegerField()
    submitted = serializers.IntegerField()
    accepted = serializers.IntegerField()
    returned = serializers.IntegerField()
    missing = serializers.IntegerField()
    late = serializers.IntegerField(help_text="逾期报送的数值个数（填报截止后由人报送）")
    overdue = serializers.BooleanField(help_text="已过填报截止仍有未填或退回的数值")


class RoundDetailSerializer(RoundSerializer):
    progress = ProgressSerializer(many=True, read_only=True, allow_null=True,
                                  help_text="各考核对象的填报进度（督查、管理、领导可见，其他人为 null）")

    class Meta(RoundSerializer.Meta):
        fields = [*RoundSerializer.Meta.fields, "progress"]
        read_only_fields = fields


class ValueEvidenceSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ValueEvidence
        fields = ["id", "name", "content_type", "size", "sha256", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, item) -> str:
        return reverse("assessment:value_evidence", args=[item.pk])


class ValueSerializer(serializers.ModelSerializer):
    round = serializers.SlugRelatedField(slug_field="code", read_only=True)
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True)
    submitted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    verified_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    files = ValueEvidenceSerializer(many=True, read_only=True)
    late = serializers.BooleanField(read_only=True, help_text="逾期报送：填报截止后由人报送")

    class Meta:
        model = Value
        fields = ["id", "round", "subject", "node", "input", "amount", "unit", "status", "source", "derivation",
                  "evidence", "submitted_by", "submitted_at", "late", "verified_by", "verified_at", "return_reason",
                  "files", "version"]
        read_only_fields = fields


class SubmitSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=32, help_text="考核对象（单位）代码")
    node = serializers.CharField(max_length=40, help_text="末级指标代码")
    input = serializers.CharField(max_length=60, required=False, allow_blank=True, default="value",
                                  help_text="取值项代码（只有一个取值项时可省略）")
    amount = serializers.CharField(max_length=40, help_text="数值，如 35.5")
    unit = serializers.CharField(max_length=30, required=False, allow_blank=True, default="",
                                 help_text="填报单位；省略为指标单位（如 元 会换算为 万元）")
    evidence = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="",
                                     help_text="佐证说明")


class SubmitWithFilesSerializer(SubmitSerializer):
    files = serializers.ListField(child=serializers.FileField(), required=False,
                                  help_text="佐证材料（可多个；照片会去除位置等元数据）")


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(help_text="操作人（用户名）")
    text = serializers.CharField(help_text="如“报送 35.5 %，待核查”“退回：请附现状图”“核查通过”")


class VerifySerializer(serializers.Serializer):
    accept = serializers.BooleanField(help_text="true 核查通过；false 退回（须写明原因）")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class GatheredSerializer(serializers.Serializer):
    new = serializers.IntegerField(help_text="新增")
    changed = serializers.IntegerField(help_text="更新（回到待核查）")
    unchanged = serializers.IntegerField(help_text="未变")
    none = serializers.IntegerField(help_text="无法计算")


class ScoredSerializer(serializers.Serializer):
    scoring = serializers.IntegerField(help_text="评分记录编号")
    subjects = serializers.IntegerField()
    reproduced = serializers.BooleanField(help_text="已公布的轮次：重新计算与公布结果相同（未写入新记录）")


class ScoreRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    depth = serializers.IntegerField()
    leaf = serializers.BooleanField()
    score = serializers.DecimalField(9, 2, allow_null=True)
    points = serializers.FloatField(allow_null=True)
    sentence = serializers.CharField(allow_blank=True)


class ScorecardSerializer(serializers.Serializer):
    round = serializers.CharField()
    subject = serializers.CharField()
    name = serializers.CharField()
    total = serializers.DecimalField(9, 2)
    grade = serializers.CharField(allow_blank=True)
    rank = serializers.IntegerField()
    count = serializers.IntegerField()
    previous_rank = serializers.IntegerField(allow_null=True)
    change = serializers.CharField(help_text="较上一轮：↑n、↓n、持平、新参评，无上一轮为 —")
    vetoed = serializers.BooleanField()
    prerequisite_failed = serializers.BooleanField()
    notes = serializers.ListField(child=serializers.CharField())
    rows = ScoreRowSerializer(many=True)


class RankingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    subject = serializers.CharField()
    name = serializers.CharField()
    total = serializers.DecimalField(9, 2)
    grade = serializers.CharField(allow_blank=True)
    previous_rank = serializers.IntegerField(allow_null=True)
    change = serializers.CharField(source="change_text")
    vetoed = serializers.BooleanField()
    prerequisite_failed = serializers.BooleanField()
    scorecard = serializers.CharField(allow_null=True, help_text="评分明细的地址（调用者可查看时）")


def _no_nul(name: str, text: str) -> str:
    if "\x00" in text:
        raise ValidationError({name: _("含有不可用的字符（NUL）")})
    return text


class RoundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   viewsets.GenericViewSet):
    """Rounds the caller sees: every round for supervisors, leaders and administrators; a unit's
    people the rounds their units are assessed in. Supervisors and administrators set one up."""

    lookup_field = "code"
    lookup_value_regex = CODE
    parser_classes = [JSONParser]

    def get_serializer_class(self):
        return RoundDetailSerializer if self.action == "retrieve" else RoundSerializer

    def get_queryset(self):
        return rounds.visible_rounds(self.request.user).select_related("programme", "previous").order_by(
            "-period_to", "code")

    def get_object(self) -> Round:
        code = self.kwargs["code"]
        if not self.get_queryset().filter(code=code).exists():
            raise NotFound(_("没有该考核轮次"))
        return rounds.round_of(code)

    @extend_schema(request=NewRoundSerializer, responses={201: RoundSerializer})
    def create(self, request, *args, **kwargs):
        """Set up a round (201); refused input answers 400 naming the field."""
        from chengzhen.programmes.models import Programme

        data = NewRoundSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        programme = previous = None
        if d["programme"]:
            programme = Programme.objects.filter(code=_no_nul("programme", d["programme"])).first()
            if programme is None:
                raise ValidationError({"programme": _("没有代码为 %(code)s 的计划") % {"code": d["programme"]}})
        if d["previous"]:
            previous = Round.objects.filter(code=_no_nul("previous", d["previous"])).first()
            if previous is None:
                raise ValidationError({"previous": _("没有考核轮次 %(code)s") % {"code": d["previous"]}})
        r = rounds.create_round(
            request.user, code=d["code"], name=d["name"], framework_name=d["framework"], unit_codes=d["subjects"],
            year=d["year"], period_from=d["period_from"], period_to=d["period_to"], submit_by=d["submit_by"],
            verify_by=d["verify_by"], programme=programme, previous=previous, public=d["public"],
            issuer=d["issuer"], requirements=d["requirements"])
        return Response(RoundSerializer(r).data, status=status.HTTP_201_CREATED, headers={"ETag": etag(r.version)})

    def retrieve(self, request, *args, **kwargs):
        r = self.get_object()
        data = dict(RoundSerializer(r).data)
        data["progress"] = ProgressSerializer(rounds.progress(r), many=True).data if oversees(request.user) else None
        return Response(data, headers={"ETag": etag(r.version)})

    @extend_schema(parameters=[OpenApiParameter("subject", str, description="考核对象代码")],
                   responses=ValueSerializer(many=True))
    @action(detail=True, methods=["get"], parser_classes=[JSONParser, MultiPartParser])
    def values(self, request, code=None):
        """The round's values the caller may read (``?subject=CODE`` for one subject's)."""
        r = self.get_object()
        qs = rounds.values_for(request.user, r).prefetch_related("files").order_by("subject__code", "node", "input")
        if subject := request.query_params.get("subject"):
            qs = qs.filter(subject__code=_no_nul("subject", subject))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ValueSerializer(page, many=True).data)

    @extend_schema(request={"application/json": SubmitSerializer, "multipart/form-data": SubmitWithFilesSerializer},
                   parameters=[IF_MATCH_OPTIONAL], responses={201: ValueSerializer, 200: ValueSerializer, **STALE})
    @values.mapping.post
    def submit(self, request, code=None):
        """Submit a subject's value (201), or change one already given (200, If-Match: its ETag).
        As multipart/form-data the request carries evidence files (``files``, repeatable)."""
        r = self.get_object()
        data = SubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        unit = Unit.objects.filter(code=d["subject"]).first()
        if unit is None:
            raise ValidationError({"subject": _("没有代码为 %(code)s 的单位") % {"code": d["subject"]}})
        node, inp = rounds.leaf_input(rounds.framework(r), d["node"], d["input"])
        existing = rounds.values_for(request.user, r, unit).filter(node=node.code, input=inp.code).exists()
        version = expected_version(request) if existing else None
        files = [(f.name, f.read()) for f in request.FILES.getlist("files")]
        value = rounds.submit_value(request.user, r, unit, node.code, inp.code, d["amount"], unit=d["unit"],
                                    evidence=d["evidence"], files=files, expected_version=version)
        value = Value.objects.select_related("round", "subject", "submitted_by", "verified_by").get(pk=value.pk)
        return Response(ValueSerializer(value).data, status=status.HTTP_200_OK if existing else status.HTTP_201_CREATED,
                        headers={"ETag": etag(value.version)})

    @extend_schema(request=None, responses={200: GatheredSerializer})
    @action(detail=True, methods=["post"])
    def gather(self, request, code=None):
        """平台取数: the platform's measures become values awaiting verification."""
        counts = rounds.gather_platform_values(request.user, self.get_object())
        return Response(GatheredSerializer({k: counts.get(k, 0) for k in ("new", "changed", "unchanged", "none")}).data)

    @extend_schema(request=None, responses={200: ScoredSerializer})
    @action(detail=True, methods=["post"])
    def score(self, request, code=None):
        """Score the accepted values (freezes the framework version). On a published round the
        scores are computed again and checked (``reproduced``); a difference answers 400."""
        r = self.get_object()
        scored = rounds.score_round(request.user, r)
        return Response(ScoredSerializer({"scoring": scored.scoring.pk, "subjects": scored.scoring.subjects,
                                          "reproduced": scored.reproduced}).data)

    @extend_schema(request=None, parameters=[IF_MATCH], responses={200: RoundSerializer, **STALE})
    @action(detail=True, methods=["post"])
    def publish(self, request, code=None):
        """Publish a scored round (If-Match: the round's ETag); its subjects are told."""
        version = expected_version(request)
        r = rounds.publish_round(request.user, self.get_object(), expected_version=version)
        return Response(RoundSerializer(r).data, headers={"ETag": etag(r.version)})

    @extend_schema(parameters=[OpenApiParameter("unit", str, OpenApiParameter.PATH, pattern=UNIT)],
                   responses=ScorecardSerializer)
    @action(detail=True, methods=["get"], url_path=f"scorecards/(?P<unit>{UNIT})")
    def scorecards(self, request, code=None, unit=None):
        """A subject's scorecard: 404 unless the caller may see it (supervisors always; after
        publication the subject's own people and leaders, everyone when public) and it is scored."""
        r = self.get_object()
        link = RoundSubject.objects.filter(round=r, unit__code=unit).select_related("unit").first()
        if link is None or not rounds.may_see(request.user, r, link.unit):
            raise NotFound(_("没有可查看的评分明细"))
        card = rounds.scorecard(r, link.unit)
        if card is None:
            raise NotFound(_("本轮尚未评分"))
        s = card["result"]
        change = None if card["previous_rank"] is None else card["previous_rank"] - s.rank
        rows = [{"code": row["node"].code, "name": row["node"].name, "depth": row["node"].depth,
                 "leaf": row["leaf"], "score": row["score"],
                 "points": row["node"].points if row["node"].awards_points else None,
                 "sentence": row.get("sentence", "")} for row in card["rows"]]
        return Response(ScorecardSerializer({
            "round": r.code, "subject": s.subject, "name": s.subject_name, "total": s.total, "grade": s.grade,
            "rank": s.rank, "count": card["count"], "previous_rank": card["previous_rank"],
            "change": change_text(change, card["previous_rank"], has_previous(r)), "vetoed": s.vetoed,
            "prerequisite_failed": s.prerequisite_failed, "notes": [str(n) for n in s.notes], "rows": rows}).data)

    @extend_schema(responses=RankingSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def ranking(self, request, code=None):
        """The ranking with 排名变化: supervisors and administrators always; after publication
        leaders, and everyone when the round is public. Empty before scoring."""
        r = self.get_object()
        if not may_rank(request.user, r):
            raise PermissionDenied(_("本轮排名尚未公布或不公开"))
        units = {u.code: u for u in rounds.subjects_of(r)}
        prev = has_previous(r)
        rows = []
        for row in rounds.ranking(r):
            unit = units.get(row["subject"])
            card = unit is not None and rounds.may_see(request.user, r, unit)
            rows.append({**row, "change_text": change_text(row["change"], row["previous_rank"], prev),
                         "scorecard": reverse("round-scorecards", args=[r.code, row["subject"]]) if card else None})
        return Response(RankingSerializer(rows, many=True).data)


class ValueViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A round's value (read like the value list) and its verification (核查)."""

    serializer_class = ValueSerializer
    lookup_value_regex = r"[0-9]{1,18}"  # an id; longer would overflow the key column
    parser_classes = [JSONParser]

    def get_queryset(self):
        return restrict(Value.objects.all(), self.request.user, Action.READ).select_related(
            "round", "subject", "submitted_by", "verified_by").prefetch_related("files").order_by("pk")

    def retrieve(self, request, *args, **kwargs):
        value = self.get_object()
        return Response(ValueSerializer(value).data, headers={"ETag": etag(value.version)})

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, pk=None):
        """The value's history (履历) from the audit trail, oldest first."""
        value = self.get_object()
        return Response(EventSerializer(rounds.history([value]).get(value.pk, []), many=True).data)

    @extend_schema(request=VerifySerializer, parameters=[IF_MATCH], responses={200: ValueSerializer, **STALE})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Accept (``accept: true``) or return with a reason a submitted value; never one's own;
        If-Match names the version read (412 when it moved on)."""
        value = self.get_object()
        version = expected_version(request)
        data = VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        value = rounds.verify_value(request.user, value, accept=d["accept"], expected_version=version,
                                    reason=d["reason"])
        value = self.get_queryset().get(pk=value.pk)
        return Response(ValueSerializer(value).data, headers={"ETag": etag(value.version)})


def register(router) -> None:
    router.register("rounds", RoundViewSet, basename="round")
    router.register("values", ValueViewSet, basename="round-value")
