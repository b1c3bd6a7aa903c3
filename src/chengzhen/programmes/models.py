"""Programmes (e.g. 2026年重点镇建设), their phases and targets (阶段/年度/总体目标)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from chengzhen.audit.tracking import TrackedModel

rule_set_name = RegexValidator(r"^[A-Za-z][A-Za-z0-9_-]{0,39}(@[1-9][0-9]*)?$",
                               "应写作规则集代码或 代码@版本，如 default 或 default@2")


class ProgrammeKind(models.TextChoices):
    KEY_TOWN = "key_town", _("重点镇建设")
    URBANISATION = "urbanisation", _("推进城镇化")
    BEAUTIFUL_TOWN = "beautiful_town", _("美丽城镇")
    CITY_UPGRADE = "city_upgrade", _("城市提质")
    JOINT_CAMPAIGN = "joint_campaign", _("六城联创")
    OTHER = "other", _("其他")


class ReportingCycle(models.TextChoices):
    MONTHLY = "monthly", _("按月")
    QUARTERLY = "quarterly", _("按季度")
    DEKAD = "dekad", _("按旬")


class Programme(TrackedModel):
    code = models.CharField("计划代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=200)
    kind = models.CharField("类型", max_length=20, choices=ProgrammeKind.choices)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")
    owner_unit = models.ForeignKey(
        "org.Unit", models.PROTECT, related_name="owned_programmes", verbose_name="牵头单位"
    )
    reporting_cycle = models.CharField(
        "报送周期", max_length=10, choices=ReportingCycle.choices, default=ReportingCycle.MONTHLY
    )
    reporting_day = models.PositiveSmallIntegerField(
        "报送日", default=25, validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text="每期报送截止日（季度周期为季末月的该日；超过当月天数按月末计；按旬报送的截止日为每旬最后一天）",
    )
    light_rules = models.CharField(
        "亮灯规则集", max_length=50, default="default", blank=True, validators=[rule_set_name],
        help_text="规则集代码（用最新版本），或 代码@版本 固定某一版本；空则用 default",
    )
    description = models.TextField("说明", blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "工作计划"
        verbose_name_plural = "工作计划"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="programme_dates"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The named light rule set (and version) must exist."""
        from django.apps import apps
        from django.core.exceptions import ValidationError

        super().clean()
        code, _sep, number = (self.light_rules or "default").partition("@")
        versions = apps.get_model("supervision", "RuleSetVersion").objects.filter(rule_set__code=code)
        if number.isdigit():
            versions = versions.filter(number=int(number))
        if not versions.exists():
            raise ValidationError({"light_rules": f"没有亮灯规则集 {self.light_rules}"})


class Phase(TrackedModel):
    """A stage of a programme (阶段)."""

    programme = models.ForeignKey(Programme, models.CASCADE, related_name="phases")
    seq = models.PositiveSmallIntegerField("顺序", default=1)
    name = models.CharField("阶段名称", max_length=100)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")

    class Meta:
        ordering = ["programme_id", "seq"]
        verbose_name = "阶段"
        verbose_name_plural = "阶段"

    def __str__(self) -> str:
        return self.name


class TargetLevel(models.TextChoices):
    STAGE = "stage", _("阶段目标")
    ANNUAL = "annual", _("年度目标")
    OVERALL = "overall", _("总体目标")


class Target(TrackedModel):
    """A target (目标) set for a subject: a division or a unit."""

    programme = models.ForeignKey(Programme, models.CASCADE, related_name="targets")
    phase = models.ForeignKey(Phase, models.SET_NULL, null=True, blank=True, related_name="targets")
    level = models.CharField("目标层级", max_length=10, choices=TargetLevel.choices)
    year = models.PositiveSmallIntegerField("年度", null=True, blank=True)
    name = models.CharField("目标名称", max_length=200)
    subject_division = models.ForeignKey(
        "org.Division", models.PROTECT, null=True, blank=True, related_name="targets"
    )
    subject_unit = models.ForeignKey(
        "org.Unit", models.PROTECT, null=True, blank=True, related_name="targets"
    )
    value = models.DecimalField("目标值", max_digits=20, decimal_places=4, null=True, blank=True)
    measure_unit = models.CharField("计量单位", max_length=30, blank=True)
    due_date = models.DateField("完成时限", null=True, blank=True)
    description = models.TextField("说明", blank=True)

    class Meta:
        ordering = ["programme_id", "level", "name"]
        verbose_name = "目标"
        verbose_name_plural = "目标"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(subject_division__isnull=False, subject_unit__isnull=True)
                    | models.Q(subject_division__isnull=True, subject_unit__isnull=False)
                ),
                name="target_one_subject",
            )
        ]

    def __str__(self) -> str:
        return self.name
