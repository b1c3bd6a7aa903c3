"""Assessment records (考核评价): indicator frameworks and their versions, subject profiles per year,
and scoring runs with the scores they produced.

Frameworks, their versions and subject profiles are what people enter or decide: tracked. A
version (``CODE@VERSION``) may be replaced while it is a draft; once a round has been scored on
it, it is frozen and can never change (a database trigger refuses it too). Scores are computed:
each scoring run is one audit record with its inputs' hashes, its rows are not audited one by one.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
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

    def deadline_end(self) -> dt.datetime:
        """The first moment after the submission deadline (填报截止) — local midnight after it."""
        return timezone.make_aware(dt.datetime.combine(self.submit_by + dt.timedelta(days=1), dt.time.min))

    @property
    def overdue(self) -> bool:
        """Still collecting after the deadline (逾期)."""
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


# -- weights (权重), designations (动态管理) and incentive funds (以奖代补) ---------------------------
class WeightMethod(models.TextChoices):
    AHP = "ahp", _("层次分析法")
    ENTROPY = "entropy", _("熵权法")
    COMBINED = "combined", _("主客观组合赋权")
    EXPERT = "expert", _("专家打分")


class WeightSet(TrackedModel):
    """A weight set (权重) for some of a framework's nodes, saved with the method that gave it and
    its inputs (the pairwise matrix, the data table, α), so anyone can compute it again."""

    name = models.CharField("名称", max_length=200)
    method = models.CharField("赋权方法", max_length=10, choices=WeightMethod.choices)
    criteria = models.JSONField("指标", default=list, help_text="指标代码或名称，与权重一一对应")
    weights = models.JSONField("权重", default=list, help_text="与指标对应的权重（小数文本），合计为 1")
    inputs = models.JSONField("输入", default=dict, help_text="判断矩阵、数据表、方向、组合系数 α 等")
    figures = models.JSONField("检验结果", default=dict, help_text="λmax、CI、CR、RI、信息熵、提示等")
    framework_version = models.ForeignKey(FrameworkVersion, models.SET_NULL, null=True, blank=True,
                                          related_name="weight_sets", verbose_name="据此生成的体系版本")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name="计算人")
    created_at = models.DateTimeField("计算时间")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "权重"
        verbose_name_plural = "权重"

    def __str__(self) -> str:
        return f"{self.name}（{self.get_method_display()}）"


class DesignationState(models.TextChoices):
    HELD = "held", _("保留")
    RECTIFYING = "rectifying", _("整改期")
    REVOKED = "revoked", _("已取消")


class DesignationRule(TrackedModel):
    """How round results drive a title (称号) such as 优先发展重点镇 (动态管理): a result below the
    pass line — a failing grade, or a total under ``pass_score`` — starts a rectification period
    (整改期) of ``rectify_months``; still below at the first round after its end, the title is
    revoked (取消资格); back above, it is restored (恢复). The defaults follow the key-town seed;
    the pass line and the months are settings of the rule, not constants."""

    code = models.CharField("规则代码", max_length=40, unique=True)
    title = models.CharField("称号", max_length=100, help_text="如 优先发展重点镇、美丽城镇样板")
    framework = models.ForeignKey(Framework, models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name="测评体系", help_text="按哪个测评体系的考核结果管理；空为任意")
    fail_grades = models.JSONField("不达标等次", default=list, blank=True, help_text="如 [\"不合格\"]")
    pass_score = models.DecimalField("达标分数线", max_digits=9, decimal_places=2, null=True, blank=True,
                                     help_text="总分低于此线为不达标；空为只看等次")
    rectify_months = models.PositiveSmallIntegerField("整改期（月）", default=6)
    note = models.TextField("说明", blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "动态管理规则"
        verbose_name_plural = "动态管理规则"

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Designation(TrackedModel):
    """A title held by a unit (称号/资格), granted by a decision (文号); its state moves with round
    results under its rule. A revoked one stays revoked: the title comes back only as a new
    designation granted by a new decision."""

    rule = models.ForeignKey(DesignationRule, models.PROTECT, related_name="designations", verbose_name="规则")
    unit = models.ForeignKey("org.Unit", models.PROTECT, related_name="designations", verbose_name="单位")
    state = models.CharField("状态", max_length=12, choices=DesignationState.choices, default=DesignationState.HELD)
    granted_on = models.DateField("授予日期")
    decision = models.CharField("授予文件", max_length=200, help_text="授予（或重新授予）的决定文号")
    rectify_until = models.DateField("整改期限", null=True, blank=True)
    revoked_on = models.DateField("取消日期", null=True, blank=True)

    class Meta:
        ordering = ["rule_id", "unit__code", "-granted_on"]
        verbose_name = "称号"
        verbose_name_plural = "称号"
        constraints = [models.UniqueConstraint(fields=["rule", "unit"], condition=~models.Q(state="revoked"),
                                               name="designation_one_live")]

    def __str__(self) -> str:
        return f"{self.unit} {self.rule.title}（{self.get_state_display()}）"


class DesignationEvent(models.Model):
    """A transition of a designation (授予、进入整改期、恢复、取消资格), with the round and the rule
    as it read then; one row per transition, written with the designation's change."""

    designation = models.ForeignKey(Designation, models.CASCADE, related_name="events", verbose_name="称号")
    round = models.ForeignKey(Round, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name="考核轮次")
    from_state = models.CharField("原状态", max_length=12, blank=True, choices=DesignationState.choices)
    to_state = models.CharField("新状态", max_length=12, choices=DesignationState.choices)
    total = models.DecimalField("总分", max_digits=9, decimal_places=2, null=True, blank=True)
    grade = models.CharField("等次", max_length=20, blank=True)
    reason = models.TextField("原因")
    rule = models.JSONField("适用规则", default=dict)
    at = models.DateTimeField("时间")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                           verbose_name="操作人")

    class Meta:
        ordering = ["designation_id", "at", "pk"]
        verbose_name = "称号变动"
        verbose_name_plural = "称号变动"

    def __str__(self) -> str:
        return f"{self.designation} {self.from_state}→{self.to_state}"


class FundMethod(models.TextChoices):
    TIERS = "tiers", _("按等次定额")
    PROPORTIONAL = "proportional", _("按得分比例")
    SCALED_TIERS = "scaled_tiers", _("按等次定额等比例调整")


class FundPool(TrackedModel):
    """An incentive fund (以奖代补资金) allocated among a round's subjects by one method; amounts in
    yuan to the fen (Decimal). What the allocation leaves over (结余, positive) or lacks (缺口,
    negative) against the pool is stored and shown as its own line."""

    code = models.CharField("资金代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=200)
    amount = models.DecimalField("资金总额（元）", max_digits=16, decimal_places=2)
    round = models.ForeignKey(Round, models.PROTECT, related_name="funds", verbose_name="考核轮次")
    method = models.CharField("分配方式", max_length=14, choices=FundMethod.choices)
    params = models.JSONField("分配参数", default=dict, help_text="各等次定额、保底、封顶等（元）")
    remainder = models.DecimalField("结余（负数为缺口，元）", max_digits=16, decimal_places=2, default=0)
    allocated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name="分配人")
    allocated_at = models.DateTimeField("分配时间", null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = "奖补资金"
        verbose_name_plural = "奖补资金"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class FundAllocation(TrackedModel):
    """A subject's share of a fund (分配额), with the result it rests on."""

    pool = models.ForeignKey(FundPool, models.CASCADE, related_name="allocations", verbose_name="奖补资金")
    unit = models.ForeignKey("org.Unit", models.PROTECT, related_name="+", verbose_name="对象")
    total = models.DecimalField("总分", max_digits=9, decimal_places=2)
    grade = models.CharField("等次", max_length=20, blank=True)
    rank = models.PositiveIntegerField("排名", default=0)
    amount = models.DecimalField("分配额（元）", max_digits=16, decimal_places=2)
    basis = models.CharField("依据", max_length=200, blank=True, help_text="如 优秀定额、按得分比例、保底、封顶")

    class Meta:
        ordering = ["pool_id", "rank", "unit__code"]
        verbose_name = "奖补分配"
        verbose_name_plural = "奖补分配"
        constraints = [models.UniqueConstraint(fields=["pool", "unit"], name="fund_allocation_unique")]

    def __str__(self) -> str:
        return f"{self.pool.code} {self.unit} {self.amount}"


# -- joint campaigns (六城联创): campaigns, confirmed matches, merged target lists ---------------------
class Campaign(TrackedModel):
    """A title campaign (创建, e.g. 全国文明城市): a programme bound to one framework version; the
    programme's stage, annual and overall targets give its deadlines."""

    programme = models.OneToOneField("programmes.Programme", models.PROTECT, related_name="campaign",
                                     verbose_name="工作计划")
    framework_version = models.ForeignKey(FrameworkVersion, models.PROTECT, related_name="campaigns",
                                          verbose_name="测评体系版本")
    title = models.CharField("创建称号", max_length=100, help_text="如 全国文明城市、国家卫生城市")

    class Meta:
        ordering = ["programme__code"]
        verbose_name = "创建活动"
        verbose_name_plural = "创建活动"

    def __str__(self) -> str:
        return f"{self.title}（{self.framework_version}）"


class MatchStatus(models.TextChoices):
    PROPOSED = "proposed", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("已否定")


class MeasureMatch(TrackedModel):
    """That a framework's indicator measures a canonical measure (规范指标): proposed by the
    matcher with its score and evidence, confirmed or rejected by a person (who and when). A
    confirmed match extends the dictionary for every later merge."""

    framework = models.ForeignKey(Framework, models.PROTECT, related_name="+", verbose_name="测评体系")
    node = models.CharField("指标代码", max_length=40)
    indicator_name = models.CharField("指标名称", max_length=200)
    indicator_unit = models.CharField("指标单位", max_length=30, blank=True)
    measure = models.CharField("规范指标", max_length=60)
    status = models.CharField("状态", max_length=10, choices=MatchStatus.choices, default=MatchStatus.PROPOSED)
    score = models.FloatField("相似度", null=True, blank=True)
    evidence = models.JSONField("依据", default=list)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name="确认人")
    decided_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        ordering = ["framework_id", "node", "-score", "measure"]
        verbose_name = "指标匹配"
        verbose_name_plural = "指标匹配"
        constraints = [models.UniqueConstraint(fields=["framework", "node", "measure"], name="measure_match_unique")]

    def __str__(self) -> str:
        return f"{self.indicator_name} → {self.measure}（{self.get_status_display()}）"


class JointPlan(TrackedModel):
    """A merged target list (联创合并清单) of some campaigns for one subject and year, kept so the
    lead units people settle and the tasks made from it survive re-running the merge."""

    code = models.CharField("清单代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=200)
    campaigns = models.ManyToManyField(Campaign, related_name="plans", verbose_name="创建活动")
    subject = models.ForeignKey("org.Unit", models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name="对象", help_text="其属性决定分类阈值；空为按类列出")
    year = models.PositiveSmallIntegerField("属性年度", null=True, blank=True)
    lead_rule = models.JSONField("归口规则", default=dict,
                                 help_text="binding（取约束最严的创建所列部门）或 precedence（部门优先顺序）")
    merged_at = models.DateTimeField("合并时间", null=True, blank=True)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name="合并人")

    class Meta:
        ordering = ["code"]
        verbose_name = "联创合并清单"
        verbose_name_plural = "联创合并清单"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MergedIndicator(TrackedModel):
    """One merged indicator of a plan: every campaign's threshold, the binding one, the lead unit
    (proposed, or settled by a supervisor) and the cooperating units, and the task made from it."""

    plan = models.ForeignKey(JointPlan, models.CASCADE, related_name="indicators", verbose_name="合并清单")
    key = models.CharField("合并键", max_length=100, help_text="规范指标代码，或 体系代码:指标代码")
    seq = models.PositiveIntegerField("序号", default=0)
    name = models.CharField("指标", max_length=200)
    unit = models.CharField("单位", max_length=30, blank=True)
    direction = models.CharField("方向", max_length=10, blank=True)
    binding = models.CharField("执行标准", max_length=200, blank=True, help_text="就高不就低后的阈值")
    sources = models.JSONField("各创建要求", default=list)
    conflict = models.TextField("冲突", blank=True, help_text="门槛的冲突，如区间无交集")
    lead_question = models.TextField("待归口", blank=True,
                                     help_text="各创建所列部门不一致，或部门不在单位目录中：由督查确定牵头单位")
    proposed_lead = models.CharField("建议牵头部门", max_length=100, blank=True)
    lead_unit = models.ForeignKey("org.Unit", models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name="牵头单位")
    cooperating = models.JSONField("配合单位", default=list, help_text="单位代码")
    settled_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name="归口确定人")
    settled_at = models.DateTimeField("归口确定时间", null=True, blank=True)
    deadline = models.DateField("完成时限", null=True, blank=True)
    task = models.ForeignKey("ledger.Task", models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name="台账任务")
    task_made = models.JSONField("生成时的任务字段", default=dict, help_text="再次生成时据此判断任务是否被人修改")

    class Meta:
        ordering = ["plan_id", "seq", "key"]
        verbose_name = "合并指标"
        verbose_name_plural = "合并指标"
        constraints = [models.UniqueConstraint(fields=["plan", "key"], name="merged_indicator_unique")]

    def __str__(self) -> str:
        return f"{self.plan.code} {self.name}"


class CampaignIndicatorTask(models.Model):
    """A ledger task serving one campaign's indicator (a merged task serves every campaign's)."""

    task = models.ForeignKey("ledger.Task", models.CASCADE, related_name="campaign_indicators",
                             verbose_name="台账任务")
    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="+", verbose_name="创建活动")
    node = models.CharField("指标代码", max_length=40)

    class Meta:
        ordering = ["task_id", "campaign_id", "node"]
        verbose_name = "任务对应的创建指标"
        verbose_name_plural = "任务对应的创建指标"
        constraints = [models.UniqueConstraint(fields=["task", "campaign", "node"],
                                               name="campaign_indicator_task_unique")]

    def __str__(self) -> str:
        return f"{self.task_id} {self.campaign_id}:{self.node}"
