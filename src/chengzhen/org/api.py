"""Organisation and programmes in the API, read-only, through the permission function: the
directory (divisions, units, people's names and units) for anyone holding a role; programmes
and targets by the programmes a person's grants cover."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from chengzhen.programmes.models import Programme, Target

from .models import Division, Unit, User
from .permissions import directory_people, restrict


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
    """Administrative divisions (行政区划)."""

    serializer_class = DivisionSerializer
    lookup_field = "code"
    queryset = Division.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return restrict(Division.objects.select_related("parent"), self.request.user).order_by(
            "code")


class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    """Units (单位): departments, town governments, street offices."""

    serializer_class = UnitSerializer
    lookup_field = "code"
    queryset = Unit.objects.none()

    def get_queryset(self):
        return restrict(Unit.objects.select_related("parent", "division"),
                        self.request.user).order_by("path")


class PersonViewSet(viewsets.ReadOnlyModelViewSet):
    """People (人员): name and unit only."""

    serializer_class = PersonSerializer
    lookup_field = "username"
    queryset = User.objects.none()

    def get_queryset(self):
        return directory_people(self.request.user).select_related("unit").order_by("username")


class ProgrammeViewSet(viewsets.ReadOnlyModelViewSet):
    """Programmes (工作计划) the person's grants cover."""

    serializer_class = ProgrammeSerializer
    lookup_field = "code"
    queryset = Programme.objects.none()

    def get_queryset(self):
        return restrict(Programme.objects.select_related("owner_unit"),
                        self.request.user).order_by("code")


class TargetViewSet(viewsets.ReadOnlyModelViewSet):
    """Targets (目标) of the programmes the person's grants cover."""

    serializer_class = TargetSerializer
    queryset = Target.objects.none()

    def get_queryset(self):
        return restrict(Target.objects.select_related(
            "programme", "subject_division", "subject_unit"), self.request.user).order_by("pk")
