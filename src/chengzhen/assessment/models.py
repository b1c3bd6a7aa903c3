"""Assessment records (考核评价): indicator frameworks and their versions, subject profiles per year,
and scoring runs with the scores they produced.

Frameworks, their versions and subject profiles are what people enter or decide: tracked. A
version (``CODE@VERSION``) may be replaced while it is a draft; once a round has been scored on
it, it is frozen and can never change (a database trigger refuses it too). Scores are computed:
each scoring run is one audit record with its inputs' hashes, its rows are not audited one by one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chengzhen.audit.tracking import TrackedModel


class FrameworkStatus(models.TextChoices):
    COMPLETE = "complete", _("完整")
    SAMPLE = "sample", _("示例")


class Framework(TrackedModel):
    """An indicator framework (测评体系), named by code; its content lives in versions."""

    code = models.CharField("体系代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = "测评体系"
        verbose_name_plural = "测评体系"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def latest(self) -> FrameworkVersion | None:
        return self.versions.order_by("-created_at", "-pk").first()


class FrameworkVersion(TrackedModel):
    """One version of a framework (``CODE@VERSION``); frozen once a round has been scored on it."""

    framework = models.ForeignKey(Framework, models.PROTECT, related_name="versions", verbose_name="测评体系")
    label = models.CharField("版本", max_length=20)
    name = models.CharField("名称", max_length=200)
    status = models.CharField("完整性", max_length=8, choices=FrameworkStatus.choices)
    source = models.TextField("原文（YAML）")
    definition = models.JSONField("体系内容")
    sha256 = models.CharField("内容 SHA-256", max_length=64)
    leaves = models.PositiveIntegerField("末级指标数", default=0)
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="导入人"
    )
    created_at = models.DateTimeField("导入时间")
    frozen_at = models.DateTimeField("冻结时间", null=True, blank=True)
    frozen_reason = models.CharField("冻结原因", max_length=200, blank=True)

    class Meta:
        ordering = ["framework_id", "created_at", "pk"]
        verbose_name = "测评体系版本"
        verbose_name_plural = "测评体系版本"
        constraints = [models.UniqueConstraint(fields=["framework", "label"], name="framework_version_unique")]

    def __str__(self) -> str:
        return f"{self.framework.code}@{self.label}"

    @property
    def full_name(self) -> str:
        return str(self)

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    def save(self, *args, **kwargs):
        if self.pk and FrameworkVersion.objects.filter(pk=self.pk, frozen_at__isnull=False).exists():
            raise FrozenFramework(self)
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.frozen:
            raise FrozenFramework(self)
        return super().delete(*args, **kwargs)


class FrozenFramework(Exception):
    """A framework version a round was scored on cannot be changed or deleted."""

    def __init__(self, version: FrameworkVersion):
        super().__init__(f"{version} 已用于评分并冻结，不能修改或删除；请以新的版本号导入")


class SubjectProfile(TrackedModel):
    """A subject's class for one year (对象属性): population band, south/north, region, terrain …
    — what class-dependent thresholds read."""

    unit = models.ForeignKey("org.Unit", models.PROTECT, related_name="profiles", verbose_name="对象")
    year = models.PositiveSmallIntegerField("年度")
    attributes = models.JSONField("属性", default=dict)

    class Meta:
        ordering = ["unit_id", "year"]
        verbose_name = "对象属性"
        verbose_name_plural = "对象属性"
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="subject_profile_unique")]

    def __str__(self) -> str:
        return f"{self.unit} {self.year}"


class ScoringKind(models.TextChoices):
    TRIAL = "trial", _("试评")
    ROUND = "round", _("正式评分")


class Scoring(models.Model):
    """One scoring run (评分): a framework version over some subjects; one audit record each."""

    version = models.ForeignKey(FrameworkVersion, models.PROTECT, related_name="scorings", verbose_name="体系版本")
    kind = models.CharField("类型", max_length=8, choices=ScoringKind.choices, default=ScoringKind.TRIAL)
    label = models.CharField("名称", max_length=200, blank=True)
    subjects = models.PositiveIntegerField("对象数", default=0)
    values_sha256 = models.CharField("数值 SHA-256", max_length=64)
    profiles_sha256 = models.CharField("对象属性 SHA-256", max_length=64)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="评分人"
    )
    run_at = models.DateTimeField("评分时间")
    seconds = models.FloatField("用时（秒）", default=0)
    round = models.ForeignKey("Round", models.SET_NULL, null=True, blank=True, related_name="scorings",
                              verbose_name="考核轮次")

    class Meta:
        ordering = ["-run_at", "-pk"]
        verbose_name = "评分记录"
        verbose_name_plural = "评分记录"

    def __str__(self) -> str:
        return f"{self.version} {self.label or self.get_kind_display()} {self.run_at:%Y-%m-%d %H:%M}"


class SubjectScore(models.Model):
    """A subject's result in a scoring run: total, grade (等次), rank and node scores."""

    scoring = models.ForeignKey(Scoring, models.CASCADE, related_name="results", verbose_name="评分记录")
    subject = models.CharField("对象代码", max_length=32)
    subject_name = models.CharField("对象名称", max_length=100)
    total = models.DecimalField("总分", max_digits=9, decimal_places=2)
    grade = models.CharField("等次", max_length=20)
    rank = models.PositiveIntegerField("排名")
    vetoed = models.BooleanField("一票否决", default=False)
    prerequisite_failed = models.BooleanField("未达前置条件", default=False)
    nodes = models.JSONField("各级得分", default=dict)  # node code → "12.34"
    notes = models.JSONField("否决与前置条件说明", default=list)

    class Meta:
        ordering = ["scoring_id", "rank", "subject"]
        verbose_name = "对象得分"
        verbose_name_plural = "对象得分"
        constraints = [models.UniqueConstraint(fields=["scoring", "subject"], name="subject_score_unique")]

    def __str__(self) -> str:
        return f"{self.subject_name or self.subject} {self.total}"


class IndicatorScore(models.Model):
    """A subject's score on one leaf indicator, with its structured explanation and its sentence."""

    scoring = models.ForeignKey(Scoring, models.CASCADE, related_name="+", verbose_name="评分记录", db_constraint=False)
    subject = models.CharField("对象代码", max_length=32)
    node = models.CharField("指标代码", max_length=40)
    score = models.DecimalField("得分", max_digits=9, decimal_places=2)
    rule = models.CharField("评分规则", max_length=20)
    case = models.CharField("情形", max_length=20)
    explanation = models.JSONField("计算依据")
    sentence = models.TextField("说明")

    class Meta:
        ordering = ["scoring_id", "subject", "id"]
        verbose_name = "指标得分"
        verbose_name_plural = "指标得分"
        indexes = [models.Index(fields=["scoring", "subject"], name="indicator_score_subject")]

    def __str__(self) -> str:
        return f"{self.subject} {self.node} {self.score}"


# -- assessment rounds (考核轮次) --------------------------------------------------------------
class RoundStatus(models.TextChoices):
    COLLECTING = "collecting", _("填报中")
    SCORED = "scored", _("已评分")
    PUBLISHED = "published", _("已公布")


class Round(TrackedModel):
    """An assessment round (考核轮次): a framework version × a period × subjects (units), with the
    subjects' profiles of ``year``. Scoring freezes the framework version; publication shows each
    subject its own scorecard (everyone's when ``public``)."""

    code = models.CharField("轮次代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=200)
    framework_version = models.ForeignKey(FrameworkVersion, models.PROTECT, related_name="rounds",
                                          verbose_name="测评体系版本")
    programme = models.ForeignKey("programmes.Programme", models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name="取数计划", help_text="平台取数所用的工作计划（台账、亮灯）")
    year = models.PositiveSmallIntegerField("属性年度")
    period_from = models.DateField("考核期起")
    period_to = models.DateField("考核期止")
    submit_by = models.DateField("填报截止")
    verify_by = models.DateField("核查截止", null=True, blank=True)
    remind_days = models.PositiveSmallIntegerField("提前提醒天数", default=3)
    public = models.BooleanField("结果公开", default=False, help_text="公布后各对象可看到全部对象的得分和排名")
    previous = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name="上一轮")
    status = models.CharField("状态", max_length=12, choices=RoundStatus.choices, default=RoundStatus.COLLECTING)
    issuer = models.CharField("发文机关", max_length=100, blank=True)
    requirements = models.TextField("下步工作要求", blank=True)
    scoring = models.ForeignKey("Scoring", models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name="评分记录")
    published_at = models.DateTimeField("公布时间", null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name="公布人")

    class Meta:
        ordering = ["-period_to", "code"]
        verbose_name = "考核轮次"
        verbose_name_plural = "考核轮次"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def published(self) -> bool:
        return self.status == RoundStatus.PUBLISHED

    def deadline_end(self):
        """The first moment after the submission deadline (填报截止) — local midnight after it."""
        import datetime as dt

        from django.utils import timezone

        return timezone.make_aware(dt.datetime.combine(self.submit_by + dt.timedelta(days=1), dt.time.min))

    @property
    def overdue(self) -> bool:
        """Still collecting after the deadline (逾期)."""
        from django.utils import timezone

        return self.status == RoundStatus.COLLECTING and timezone.localdate() > self.submit_by


class RoundSubject(TrackedModel):
    """A unit assessed in a round (考核对象)."""

    round = models.ForeignKey(Round, models.CASCADE, related_name="subjects", verbose_name="考核轮次")
    unit = models.ForeignKey("org.Unit", models.PROTECT, related_name="+", verbose_name="对象")

    class Meta:
        ordering = ["round_id", "unit__code"]
        verbose_name = "考核对象"
        verbose_name_plural = "考核对象"
        constraints = [models.UniqueConstraint(fields=["round", "unit"], name="round_subject_unique")]

    def __str__(self) -> str:
        return f"{self.round.code} {self.unit}"


class ValueStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待核查")
    ACCEPTED = "accepted", _("已核查")
    RETURNED = "returned", _("已退回")


class ValueSource(models.TextChoices):
    PERSON = "person", _("填报")
    PLATFORM = "platform", _("平台取数")


class Value(TrackedModel):
    """A measured value (考核数值) of one subject on one leaf input of a round, with its evidence.

    Submitted → verified (核查) by someone other than the submitter → accepted, or returned with a
    reason; changing an accepted value reopens it. Its history is the audit trail."""

    round = models.ForeignKey(Round, models.CASCADE, related_name="values", verbose_name="考核轮次")
    subject = models.ForeignKey("org.Unit", models.PROTECT, related_name="+", verbose_name="对象")
    node = models.CharField("指标代码", max_length=40)
    input = models.CharField("取值项", max_length=60, default="value")
    amount = models.DecimalField("数值", max_digits=24, decimal_places=6)
    unit = models.CharField("单位", max_length=30, blank=True, help_text="填报时的单位；评分时换算为指标单位")
    status = models.CharField("状态", max_length=10, choices=ValueStatus.choices, default=ValueStatus.SUBMITTED)
    source = models.CharField("来源", max_length=10, choices=ValueSource.choices, default=ValueSource.PERSON)
    derivation = models.TextField("取数依据", blank=True)
    evidence = models.TextField("佐证说明", blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name="填报人")
    submitted_at = models.DateTimeField("填报时间")
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name="核查人")
    verified_at = models.DateTimeField("核查时间", null=True, blank=True)
    return_reason = models.TextField("退回原因", blank=True)

    class Meta:
        ordering = ["round_id", "subject_id", "node", "input"]
        verbose_name = "考核数值"
        verbose_name_plural = "考核数值"
        constraints = [models.UniqueConstraint(fields=["round", "subject", "node", "input"],
                                               name="round_value_unique")]
        indexes = [models.Index(fields=["round", "status"], name="round_value_status")]

    def __str__(self) -> str:
        return f"{self.round.code} {self.subject_id} {self.node}/{self.input} = {self.amount}"

    @property
    def late(self) -> bool:
        """Submitted by a person after the round's deadline (逾期报送); platform values never are."""
        return (self.source == ValueSource.PERSON and self.submitted_at is not None
                and self.submitted_at >= self.round.deadline_end())

    @property
    def amount_text(self) -> str:
        """The amount as people wrote it: no trailing zeros, never an exponent (0.98, not 0.980000)."""
        text = format(self.amount.normalize(), "f")
        return text if text != "-0" else "0"


class ValueEvidence(TrackedModel):
    """A file attached to a value as its evidence (佐证材料), checked by content and stored under a
    generated name beside the ledger's evidence (same checks, same folder)."""

    value = models.ForeignKey(Value, models.CASCADE, related_name="files", verbose_name="考核数值")
    stored_name = models.CharField(max_length=100, unique=True, editable=False)
    name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("大小", default=0)
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name="上传人")
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        ordering = ["value_id", "uploaded_at", "pk"]
        verbose_name = "考核佐证材料"
        verbose_name_plural = "考核佐证材料"

    def __str__(self) -> str:
        return self.name
