"""Organisation and programmes in the API: read-only lists for any logged-in person."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from chengzhen.programmes.models import Programme, Target

from .models import Division, Unit, User


class DivisionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Division
        fields = ["code", "gb2260", "name", "level", "parent"]


class UnitSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    division = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Unit
        fields = ["code", "name", "short_name", "kind", "division", "parent"]


class PersonSerializer(serializers.ModelSerializer):
    """People, limited to what colleagues may know: no phone, e-mail or login details."""

    unit = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["username", "full_name", "unit"]


class ProgrammeSerializer(serializers.ModelSerializer):
    owner_unit = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Programme
        fields = ["code", "name", "kind", "start_date", "end_date", "owner_unit",
                  "reporting_cycle", "reporting_day", "description"]


class TargetSerializer(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    subject_division = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    subject_unit = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Target
        fields = ["id", "programme", "level", "year", "name", "subject_division",
                  "subject_unit", "value", "measure_unit", "due_date", "description"]


class DivisionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Division.objects.select_related("parent").order_by("code")
    serializer_class = DivisionSerializer
    lookup_field = "code"


class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Unit.objects.select_related("parent", "division").order_by("path")
    serializer_class = UnitSerializer
    lookup_field = "code"


class PersonViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = User.objects.filter(is_active=True).select_related("unit").order_by("username")
    serializer_class = PersonSerializer
    lookup_field = "username"


class ProgrammeViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Programme.objects.select_related("owner_unit").order_by("code")
    serializer_class = ProgrammeSerializer
    lookup_field = "code"


class TargetViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Target.objects.select_related(
        "programme", "subject_division", "subject_unit").order_by("pk")
    serializer_class = TargetSerializer
