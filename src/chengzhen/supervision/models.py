"""Supervision records (督查): light rule sets and their versions, the holiday calendar, lights
and their history, escalations (督办函, 约谈), deduction candidates and notifications (催办).

What people enter or decide is tracked (rule-set versions, calendar days, escalations, whose
interview outcome people record). Lights, their history, deduction candidates and
notifications are computed from facts: each recompute run is one audit record instead.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chengzhen.audit.tracking import TrackedModel


class RuleSet(TrackedModel):
    """A light rule set (亮灯规则集), named by code; its content lives in versions."""

    code = models.CharField("规则集代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = "亮灯规则集"
        verbose_name_plural = "亮灯规则集"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def latest(self) -> RuleSetVersion | None:
        return self.versions.order_by("-number").first()


class RuleSetVersion(TrackedModel):
    """One version of a rule set (``CODE@NUMBER``): never changed once written."""

    rule_set = models.ForeignKey(RuleSet, models.PROTECT, related_name="versions",
                                 verbose_name="规则集")
    number = models.PositiveIntegerField("版本")
    source = models.TextField("规则（YAML）")
    definition = models.JSONField("解析后的规则")
    note = models.CharField("修改说明", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name="创建人")
    created_at = models.DateTimeField("创建时间")

    class Meta:
        ordering = ["rule_set_id", "number"]
        verbose_name = "规则集版本"
        verbose_name_plural = "规则集版本"
        constraints = [models.UniqueConstraint(fields=["rule_set", "number"],
                                               name="ruleset_version_unique")]

    def __str__(self) -> str:
        return f"{self.rule_set.code}@{self.number}"


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("放假")
    WORKDAY = "workday", _("调休上班")


class CalendarDay(TrackedModel):
    """A day of the holiday and make-up-day calendar (节假日/调休): a holiday on a weekday, or a
    weekend day worked. Shipped for the current year; to be checked each year."""

    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=8, choices=DayKind.choices)
    name = models.CharField("名称", max_length=50, blank=True, help_text="如 春节、国庆节调休")

    class Meta:
        ordering = ["date"]
        verbose_name = "节假日与调休"
        verbose_name_plural = "节假日与调休"

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class Light(models.Model):
    """A task's current light (亮灯状态), computed; one per task."""

    task = models.OneToOneField("ledger.Task", models.CASCADE, primary_key=True,
                                related_name="light", db_constraint=False)
    level = models.CharField("灯色", max_length=40)
    name = models.CharField("灯色名称", max_length=100)
    colour = models.CharField("颜色", max_length=7)
    raw_level = models.CharField("规则灯色", max_length=40)
    raw_since = models.DateField("规则灯色起始日")
    since = models.DateField("亮灯日期")
    deadline = models.DateField("限期", null=True, blank=True)
    reasons = models.JSONField("亮灯原因", default=list)
    rule_version = models.ForeignKey(RuleSetVersion, models.PROTECT, related_name="+",
                                     verbose_name="规则集版本", db_constraint=False)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = "亮灯"
        verbose_name_plural = "亮灯"
        indexes = [models.Index(fields=["level"], name="light_level")]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.name}"


class LightChange(models.Model):
    """One change of a task's light (亮灯记录): from one level to another on a day.

    Computed rows written by the ten thousand: their references are kept by the ORM
    (PROTECT, CASCADE) without database constraints (``db_constraint=False``; the same for
    lights, deduction candidates and notifications). Constraint checks at commit cost
    PostgreSQL more than writing the rows, and each one share-locks the row it names, so a
    recompute would wait on (and deadlock with) a person editing that task or account."""

    task = models.ForeignKey("ledger.Task", models.CASCADE, related_name="light_changes",
                             db_constraint=False)
    programme = models.ForeignKey("programmes.Programme", models.CASCADE, related_name="+",
                                  db_constraint=False)
    unit = models.ForeignKey("org.Unit", models.PROTECT, related_name="+",
                             verbose_name="牵头单位", db_constraint=False)
    period = models.CharField("报送期", max_length=10)
    from_level = models.CharField("原灯色", max_length=40, blank=True)
    to_level = models.CharField("新灯色", max_length=40)
    counts = models.BooleanField("计入升级", default=False)
    reasons = models.JSONField("亮灯原因", default=list)
    rule_version = models.ForeignKey(RuleSetVersion, models.PROTECT, related_name="+",
                                     db_constraint=False)
    on = models.DateField("日期")
    at = models.DateTimeField("时间")

    class Meta:
        ordering = ["task_id", "id"]
        verbose_name = "亮灯记录"
        verbose_name_plural = "亮灯记录"
        indexes = [models.Index(fields=["programme", "unit", "period"], name="lightchange_group")]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.from_level or '—'} → {self.to_level} ({self.on})"


class EscalationKind(models.TextChoices):
    LETTER = "letter", _("督办函")
    INTERVIEW = "interview", _("约谈")


class InterviewStatus(models.TextChoices):
    OPEN = "open", _("待约谈")
    HELD = "held", _("已约谈")
    CLOSED = "closed", _("已办结")


class Escalation(TrackedModel):
    """A supervision letter (督办函) or an interview (约谈) brought by lights: counted per
    (unit, programme, reporting period) over transitions into counting levels."""

    kind = models.CharField("类型", max_length=10, choices=EscalationKind.choices)
    programme = models.ForeignKey("programmes.Programme", models.PROTECT, related_name="+",
                                  verbose_name="工作计划")
    unit = models.ForeignKey("org.Unit", models.PROTECT, related_name="escalations",
                             verbose_name="责任单位")
    period = models.CharField("报送期", max_length=10)
    step = models.PositiveSmallIntegerField("升级步骤")
    level = models.CharField("灯色", max_length=40)
    rule_version = models.ForeignKey(RuleSetVersion, models.PROTECT, related_name="+")
    changes = models.ManyToManyField(LightChange, related_name="escalations",
                                     verbose_name="亮灯记录")
    year = models.PositiveSmallIntegerField("年度")
    number = models.PositiveIntegerField("序号", help_text="督办函按计划和年度编号")
    reference = models.CharField("文号", max_length=60)
    created_at = models.DateTimeField("生成时间")
    file_name = models.CharField("文件", max_length=100, blank=True, editable=False)
    file_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    # an interview (约谈) of the unit's head: what people record
    status = models.CharField("状态", max_length=8, choices=InterviewStatus.choices,
                              default=InterviewStatus.OPEN)
    head = models.CharField("约谈对象", max_length=50, blank=True, help_text="单位主要负责人")
    held_on = models.DateField("约谈日期", null=True, blank=True)
    outcome = models.TextField("约谈情况", blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "督办与约谈"
        verbose_name_plural = "督办与约谈"
        constraints = [
            models.UniqueConstraint(fields=["kind", "programme", "year", "number"],
                                    name="escalation_number_unique"),
        ]
        indexes = [models.Index(fields=["unit", "kind"], name="escalation_unit")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}"


class DeductionCandidate(models.Model):
    """An assessment deduction candidate (扣分候选): a task's first transition into a
    deducting level in a reporting period; the assessment room reads these."""

    task = models.ForeignKey("ledger.Task", models.CASCADE, related_name="+", db_constraint=False)
    programme = models.ForeignKey("programmes.Programme", models.CASCADE, related_name="+",
                                  db_constraint=False)
    unit = models.ForeignKey("org.Unit", models.PROTECT, related_name="+", db_constraint=False)
    period = models.CharField("报送期", max_length=10)
    level = models.CharField("灯色", max_length=40)
    points = models.DecimalField("扣分", max_digits=6, decimal_places=2)
    change = models.OneToOneField(LightChange, models.CASCADE, related_name="deduction",
                                  db_constraint=False)
    on = models.DateField("日期")

    class Meta:
        ordering = ["programme_id", "unit_id", "period", "id"]
        verbose_name = "扣分候选"
        verbose_name_plural = "扣分候选"
        constraints = [models.UniqueConstraint(fields=["task", "period", "level"],
                                               name="deduction_once")]

    def __str__(self) -> str:
        return f"{self.task_id} {self.period} {self.level} −{self.points}"


class Notification(models.Model):
    """A notification in the platform (催办、亮灯通知); sent once per (recipient, cause)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE,
                                  related_name="notifications", db_constraint=False)
    cause = models.CharField("原因键", max_length=120)
    kind = models.CharField("类型", max_length=20)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=200, blank=True)
    task = models.ForeignKey("ledger.Task", models.CASCADE, null=True, blank=True,
                             related_name="+", db_constraint=False)
    created_at = models.DateTimeField("时间")
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    emailed_at = models.DateTimeField("邮件发送时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "通知"
        verbose_name_plural = "通知"
        constraints = [models.UniqueConstraint(fields=["recipient", "cause"],
                                               name="notification_once")]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.title
