"""Joint campaigns (六城联创) in the API: the campaigns, the merged lists (plans) with their merged
indicators — merge a new one or merge one again, the tasks preview and making the tasks, the Excel
file — the settlement of a lead unit (职责归口, If-Match) and the matcher's proposals to confirm or
reject (If-Match). Thin shells over ``campaign_services``: refused input answers 400, not allowed
403, a stale version 412, If-Match missing 428. Anyone logged in reads, as on the pages."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from chengzhen.api import etag, expected_version
from chengzhen.org.models import Unit

from . import campaign_services as services
from .campaign_views import XLSX
from .models import Campaign, JointPlan, MatchStatus, MeasureMatch, MergedIndicator
from .round_api import IF_MATCH, STALE

PLAN_CODE = services.PLAN_CODE.pattern


class CampaignSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="programme.code", read_only=True, help_text="工作计划代码")
    programme = serializers.CharField(source="programme.name", read_only=True)
    framework = serializers.CharField(source="framework_version.full_name", read_only=True)

    class Meta:
        model = Campaign
        fields = ["code", "title", "programme", "framework"]
        read_only_fields = fields


class MergedIndicatorSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lead_unit = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    settled_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    task = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    sources = serializers.JSONField(read_only=True, help_text="各创建的要求：campaign、framework、node、"
                                                              "node_name、threshold、binding")

    class Meta:
        model = MergedIndicator
        fields = ["id", "plan", "key", "seq", "name", "unit", "direction", "binding", "sources", "conflict",
                  "lead_question", "proposed_lead", "lead_unit", "cooperating", "settled_by", "settled_at",
                  "deadline", "task", "version"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    campaigns = serializers.SerializerMethodField()
    subject = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    merged_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    indicators = serializers.IntegerField(source="indicators.count", read_only=True, help_text="合并指标数")

    class Meta:
        model = JointPlan
        fields = ["code", "name", "campaigns", "subject", "year", "lead_rule", "merged_at", "merged_by", "indicators",
                  "version"]
        read_only_fields = fields

    def get_campaigns(self, plan) -> list[str]:
        return [c.programme.code for c in plan.campaigns.select_related("programme").order_by("programme__code")]


class PlanDetailSerializer(PlanSerializer):
    merged = MergedIndicatorSerializer(source="indicators", many=True, read_only=True)

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "merged"]
        read_only_fields = fields


class LeadRuleSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(["binding", "precedence"], default="binding",
                                   help_text="binding 由约束最严的创建所列部门牵头；precedence 按部门优先顺序")
    precedence = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list,
                                       max_length=200)


class NewPlanSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40, help_text="清单代码，如 LC-2026")
    name = serializers.CharField(max_length=200)
    campaigns = serializers.ListField(child=serializers.CharField(max_length=40), min_length=1, max_length=50,
                                      help_text="创建活动（工作计划代码）")
    subject = serializers.CharField(max_length=32, required=False, allow_blank=True, default="",
                                    help_text="对象单位代码（其属性决定分类阈值）；省略为按类列出")
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False, allow_null=True, default=None)
    lead_rule = LeadRuleSerializer(required=False)


class TaskStepSerializer(serializers.Serializer):
    indicator = serializers.IntegerField(source="indicator.pk")
    key = serializers.CharField(help_text="合并键；按牵头单位归并时为任务代码 LC-G-单位代码")
    name = serializers.CharField()
    members = serializers.ListField(child=serializers.CharField(), help_text="按牵头单位归并时，任务包含的合并键")
    action = serializers.CharField(
        help_text="create 新建、update 更新、keep 保持（无变化或已被人修改）、skip 跳过（待归口）")
    reason = serializers.CharField(allow_blank=True)
    lead_unit = serializers.CharField(allow_null=True)
    due_date = serializers.DateField()
    requirement = serializers.CharField()


class PlanChangeSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    action = serializers.CharField(help_text="new 新增、changed 变化、same 不变、removed 移除、kept 不再合并但任务保留")
    changes = serializers.ListField(child=serializers.CharField(), help_text="每项变化：字段：原值 → 新值")


class MakeTasksSerializer(serializers.Serializer):
    programme = serializers.CharField(max_length=40, help_text="生成任务的工作计划代码")
    per = serializers.ChoiceField(choices=list(services.TASK_GROUPINGS.items()), default="indicator",
                                  help_text="indicator 每个合并指标一项任务；lead_unit 按牵头单位归并为一项任务")


class SettleSerializer(serializers.Serializer):
    lead_unit = serializers.CharField(max_length=32, help_text="牵头单位代码")
    cooperating = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list,
                                        max_length=200, help_text="配合单位代码")


class MatchSerializer(serializers.ModelSerializer):
    framework = serializers.SlugRelatedField(slug_field="code", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = MeasureMatch
        fields = ["id", "framework", "node", "indicator_name", "indicator_unit", "measure", "status", "score",
                  "evidence", "decided_by", "decided_at", "version"]
        read_only_fields = fields


class DecideSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(help_text="true 确认（扩充规范指标词典）；false 否定")


def _steps(steps) -> list[dict]:
    return TaskStepSerializer([{
        "indicator": s.indicator, "key": s.key, "name": s.name, "members": [m.key for m in s.members],
        "action": s.action, "reason": str(s.reason),
        "lead_unit": s.fields["lead_unit"].code if s.fields.get("lead_unit") else None,
        "due_date": s.fields["due_date"], "requirement": s.fields["requirement"]} for s in steps], many=True).data


def _programme(code: str):
    from chengzhen.programmes.models import Programme

    programme = Programme.objects.filter(code=code).first() if "\x00" not in code else None
    if programme is None:
        raise ValidationError({"programme": _("没有代码为 %(code)s 的计划") % {"code": code}})
    return programme


class CampaignViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The title campaigns (创建活动): programmes bound to one framework version each."""

    serializer_class = CampaignSerializer
    pagination_class = None

    def get_queryset(self):
        return Campaign.objects.select_related("programme", "framework_version__framework").order_by("programme__code")


class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Merged lists (联创合并清单): merged indicators × campaigns with the binding threshold and the
    lead unit; supervisors merge (create), merge again and make ledger tasks."""

    lookup_field = "code"
    lookup_value_regex = PLAN_CODE.removeprefix("^").removesuffix("$")
    parser_classes = [JSONParser]

    def get_serializer_class(self):
        return PlanDetailSerializer if self.action == "retrieve" else PlanSerializer

    def get_queryset(self):
        return JointPlan.objects.select_related("subject", "merged_by").prefetch_related("indicators").order_by("code")

    def get_object(self) -> JointPlan:
        plan = self.get_queryset().filter(code=self.kwargs["code"]).first()
        if plan is None:
            raise NotFound(_("没有该联创合并清单"))
        return plan

    def retrieve(self, request, *args, **kwargs):
        plan = self.get_object()
        return Response(PlanDetailSerializer(plan).data, headers={"ETag": etag(plan.version)})

    @extend_schema(request=NewPlanSerializer, responses={201: PlanSerializer})
    def create(self, request, *args, **kwargs):
        """Merge campaigns into a new plan, or an existing plan's code to merge it again with these
        campaigns (201); lead units people settled are kept."""
        data = NewPlanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        plan = services.run_plan(request.user, code=d["code"], name=d["name"], campaign_codes=d["campaigns"],
                                 subject_code=d["subject"] or None, year=d["year"],
                                 lead_rule=dict(d.get("lead_rule") or {"kind": "binding", "precedence": []}))
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED, headers={"ETag": etag(plan.version)})

    @extend_schema(responses=PlanChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="rerun", pagination_class=None)
    def rerun_preview(self, request, code=None):
        """What merging the plan again would change, indicator by indicator (nothing written)."""
        plan = self.get_object()
        return Response(PlanChangeSerializer(services.rerun_preview(request.user, plan), many=True).data)

    @extend_schema(request=None, responses={200: PlanSerializer})
    @rerun_preview.mapping.post
    def rerun(self, request, code=None):
        """Merge the plan again with its campaigns, subject and rule (settled lead units kept)."""
        plan = self.get_object()
        plan = services.rerun_plan(request.user, plan)
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(PlanSerializer(plan).data, headers={"ETag": etag(plan.version)})

    @extend_schema(parameters=[OpenApiParameter("programme", str, required=True, description="工作计划代码"),
                               OpenApiParameter("per", str, enum=list(services.TASK_GROUPINGS),
                                                description="indicator（默认）或 lead_unit")],
                   responses=TaskStepSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def tasks(self, request, code=None):
        """The preview: what making tasks in ``?programme=CODE`` would do, indicator by indicator."""
        plan = self.get_object()
        programme = _programme(request.query_params.get("programme", ""))
        per = request.query_params.get("per", "indicator")  # the service refuses another way, naming per
        return Response(_steps(services.task_preview(request.user, plan, programme, per=per)))

    @extend_schema(request=MakeTasksSerializer, responses={200: TaskStepSerializer(many=True)})
    @tasks.mapping.post
    def make_tasks(self, request, code=None):
        """Make the ledger tasks in the programme (new ones created, unchanged ones updated, tasks
        people edited left alone); answers what was done to each indicator."""
        plan = self.get_object()
        data = MakeTasksSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        programme = _programme(data.validated_data["programme"])
        return Response(_steps(services.make_tasks(request.user, plan, programme, per=data.validated_data["per"])))

    @extend_schema(responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="联创合并清单.xlsx")})
    @action(detail=True, methods=["get"])
    def file(self, request, code=None):
        """The merged workbook: the matrix sheet and the long sheet (indicator, campaign, class, threshold)."""
        plan = self.get_object()
        with tempfile.TemporaryDirectory() as tmp:
            data = services.write_plan_xlsx(plan, Path(tmp) / "merged.xlsx").read_bytes()
        response = HttpResponse(data, content_type=XLSX)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{plan.code}.xlsx"
        return response


class MergedIndicatorViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A merged indicator and the settlement of its responsible unit (职责归口)."""

    serializer_class = MergedIndicatorSerializer
    lookup_value_regex = r"[0-9]{1,18}"
    parser_classes = [JSONParser]

    def get_queryset(self):
        return MergedIndicator.objects.select_related("plan", "lead_unit", "settled_by", "task").order_by("pk")

    def retrieve(self, request, *args, **kwargs):
        ind = self.get_object()
        return Response(MergedIndicatorSerializer(ind).data, headers={"ETag": etag(ind.version)})

    @extend_schema(request=SettleSerializer, parameters=[IF_MATCH], responses={200: MergedIndicatorSerializer, **STALE})
    @action(detail=True, methods=["post"])
    def settle(self, request, pk=None):
        """Settle the lead unit and the cooperating units (If-Match: the version read); kept when
        the merge runs again."""
        ind = self.get_object()
        version = expected_version(request)
        data = SettleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        codes = [d["lead_unit"], *d["cooperating"]]
        units = {u.code: u for u in Unit.objects.filter(code__in=[c for c in codes if "\x00" not in c])}
        unknown = [c for c in codes if c not in units]
        if unknown:
            raise ValidationError({"lead_unit" if d["lead_unit"] in unknown else "cooperating":
                                   _("没有代码为 %(code)s 的单位") % {"code": "、".join(unknown)}})
        ind = services.settle_lead(request.user, ind, lead_unit=units[d["lead_unit"]],
                                   cooperating=[units[c] for c in d["cooperating"]], expected_version=version)
        ind = self.get_queryset().get(pk=ind.pk)
        return Response(MergedIndicatorSerializer(ind).data, headers={"ETag": etag(ind.version)})


@extend_schema(parameters=[OpenApiParameter("status", str, enum=[s.value for s in MatchStatus],
                                            description="proposed 待确认、confirmed 已确认、rejected 已否定")])
class MatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The matcher's proposals (指标匹配) with score and evidence, and the people's decisions."""

    serializer_class = MatchSerializer
    lookup_value_regex = r"[0-9]{1,18}"
    parser_classes = [JSONParser]

    def get_queryset(self):
        qs = MeasureMatch.objects.select_related("framework", "decided_by").order_by("framework__code", "node", "pk")
        state = self.request.query_params.get("status")
        if self.action == "list" and state in MatchStatus.values:
            qs = qs.filter(status=state)
        return qs

    def retrieve(self, request, *args, **kwargs):
        match = self.get_object()
        return Response(MatchSerializer(match).data, headers={"ETag": etag(match.version)})

    @extend_schema(request=DecideSerializer, parameters=[IF_MATCH], responses={200: MatchSerializer, **STALE})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Confirm or reject a proposal (who and when kept; If-Match: the version read)."""
        match = self.get_object()
        version = expected_version(request)
        data = DecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        match = services.decide_match(request.user, match, confirm=data.validated_data["confirm"],
                                      expected_version=version)
        match = self.get_queryset().get(pk=match.pk)
        return Response(MatchSerializer(match).data, headers={"ETag": etag(match.version)})


def register(router) -> None:
    router.register("campaigns", CampaignViewSet, basename="campaign")
    router.register("joint-plans", PlanViewSet, basename="joint-plan")
    router.register("merged-indicators", MergedIndicatorViewSet, basename="merged-indicator")
    router.register("measure-matches", MatchViewSet, basename="measure-match")
