"""Incentive funds (以奖代补资金) in the API, read only: ``GET /api/funds/`` (the pools, read by every
role) and ``GET /api/funds/{code}/`` (a pool with the allocation rows the caller may read: a
town only its own). Thin shells over ``fund_services``; amounts in yuan as decimal text."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound

from . import fund_services, funds
from .models import FundAllocation, FundPool


class FundAllocationSerializer(serializers.ModelSerializer):
    subject = serializers.CharField(source="unit.code", read_only=True)
    name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = FundAllocation
        fields = ["subject", "name", "total", "grade", "rank", "amount", "basis"]
        read_only_fields = fields


class FundSerializer(serializers.ModelSerializer):
    round = serializers.SlugRelatedField(slug_field="code", read_only=True)
    allocated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    allocated = serializers.SerializerMethodField(help_text="分配合计（元）")
    remainder_label = serializers.SerializerMethodField(help_text="结余（≥ 0）或 缺口（< 0）")

    class Meta:
        model = FundPool
        fields = ["code", "name", "amount", "round", "method", "params", "allocated", "remainder",
                  "remainder_label", "allocated_by", "allocated_at", "version"]
        read_only_fields = fields

    def get_allocated(self, pool) -> str:
        return str(pool.amount - pool.remainder)

    def get_remainder_label(self, pool) -> str:
        return funds.balance_label(pool.remainder)


class FundDetailSerializer(FundSerializer):
    allocations = serializers.SerializerMethodField(help_text="调用者可查看的分配额（乡镇只见本单位）")
    complete = serializers.SerializerMethodField(help_text="是否为全部对象的分配额")

    class Meta(FundSerializer.Meta):
        fields = [*FundSerializer.Meta.fields, "allocations", "complete"]
        read_only_fields = fields

    def _table(self, pool) -> fund_services.FundTable:
        if not hasattr(self, "_cached"):
            self._cached = fund_services.fund_table(self.context["request"].user, pool)
        return self._cached

    @extend_schema_field(FundAllocationSerializer(many=True))
    def get_allocations(self, pool) -> list[dict]:
        return FundAllocationSerializer(self._table(pool).rows, many=True).data

    def get_complete(self, pool) -> bool:
        return self._table(pool).complete


class FundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incentive funds (奖补资金): every role reads the pools; the allocation rows by who may read them."""

    lookup_field = "code"
    lookup_value_regex = fund_services.FUND_CODE.pattern

    def get_serializer_class(self):
        return FundDetailSerializer if self.action == "retrieve" else FundSerializer

    def get_queryset(self):
        return fund_services.visible_pools(self.request.user).select_related("allocated_by")

    def get_object(self) -> FundPool:
        code = self.kwargs["code"]
        if not self.get_queryset().filter(code=code).exists():
            raise NotFound(_("没有该奖补资金"))
        return fund_services.pool_of(code)


def register(router) -> None:
    router.register("funds", FundViewSet, basename="fund")
