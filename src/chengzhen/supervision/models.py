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


# -- periodic bulletins (工作通报) --------------------------------------------------------------
class BulletinCycle(models.TextChoices):
    NONE = "", _("不定期")
    DEKAD = "dekad", _("每旬")
    MONTHLY = "monthly", _("每月")


class BulletinSetting(TrackedModel):
    """A programme's bulletin settings (通报设置): the schedule, the 版头 and 主送, the ranking's
    composite weights and how many units are commended. Without one the defaults apply
    (``CHENGZHEN_BULLETIN_*`` settings)."""

    programme = models.OneToOneField("programmes.Programme", models.CASCADE,
                                     related_name="bulletin_setting", verbose_name="工作计划")
    cycle = models.CharField("定期通报", max_length=8, choices=BulletinCycle.choices, blank=True,
                             default="", help_text="每旬或每月结束后自动生成通报草稿，待审核签发")
    masthead = models.CharField("版头", max_length=60, blank=True,
                                help_text="如 重点镇建设工作通报；空则用“计划名称+工作通报”")
    recipient = models.CharField("主送", max_length=100, blank=True, default="各责任单位")
    weight_completion = models.DecimalField("完成率权重", max_digits=5, decimal_places=4,
                                            null=True, blank=True)
    weight_schedule = models.DecimalField("序时达标率权重", max_digits=5, decimal_places=4,
                                          null=True, blank=True)
    weight_timeliness = models.DecimalField("报送及时率权重", max_digits=5, decimal_places=4,
                                            null=True, blank=True)
    commend_count = models.PositiveSmallIntegerField("表扬单位数", null=True, blank=True)
    requirements = models.TextField("下步工作要求（默认）", blank=True,
                                    help_text="新通报草稿的“下步工作要求”初稿")

    class Meta:
        verbose_name = "通报设置"
        verbose_name_plural = "通报设置"

    def __str__(self) -> str:
        return f"{self.programme}"


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ISSUED = "issued", _("已签发")


class BulletinSource(models.TextChoices):
    MANUAL = "manual", _("手动生成")
    SCHEDULE = "schedule", _("定期生成")


class Bulletin(TrackedModel):
    """A periodic bulletin (工作通报) of a programme for a period.

    A draft holds its computed figures (``figures``, with their SHA-256) and the editable
    下步工作要求; issuing (签发) takes the next number of the programme and year (第N期) under
    a lock, writes the .docx and the .xlsx annex from those figures and stores the files'
    hashes. An issued bulletin is frozen: the model refuses to save or delete it and a
    database trigger refuses any UPDATE of its row. ``figures`` is left out of the audit
    images (it holds every task's row); its hash is in them.
    """

    audit_exclude = ("figures",)

    programme = models.ForeignKey("programmes.Programme", models.PROTECT, related_name="bulletins",
                                  verbose_name="工作计划")
    period_from = models.DateField("通报期起")
    period_to = models.DateField("通报期止")
    as_of = models.DateField("数据截至")
    status = models.CharField("状态", max_length=8, choices=BulletinStatus.choices,
                              default=BulletinStatus.DRAFT)
    source = models.CharField("来源", max_length=10, choices=BulletinSource.choices,
                              default=BulletinSource.MANUAL)
    year = models.PositiveSmallIntegerField("年度")
    number = models.PositiveIntegerField("期号", null=True, blank=True,
                                         help_text="第N期，按计划和年度编号，签发时取号")
    title = models.CharField("标题", max_length=200)
    masthead = models.CharField("版头", max_length=60)
    issuer = models.CharField("发文单位", max_length=100)
    recipient = models.CharField("主送", max_length=100, blank=True)
    requirements = models.TextField("下步工作要求", blank=True)
    figures = models.JSONField("通报数据")
    figures_sha256 = models.CharField(max_length=64)
    previous = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name="上期通报")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name="生成人")
    created_at = models.DateTimeField("生成时间")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                  blank=True, related_name="+", verbose_name="签发人")
    issued_at = models.DateTimeField("签发时间", null=True, blank=True)
    issued_on = models.DateField("成文日期", null=True, blank=True)
    docx_name = models.CharField("通报文件", max_length=100, blank=True, editable=False)
    docx_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    xlsx_name = models.CharField("附件文件", max_length=100, blank=True, editable=False)
    xlsx_sha256 = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-period_to", "-id"]
        verbose_name = "工作通报"
        verbose_name_plural = "工作通报"
        constraints = [
            models.UniqueConstraint(fields=["programme", "year", "number"],
                                    condition=models.Q(number__isnull=False),
                                    name="bulletin_number_unique"),
            models.UniqueConstraint(fields=["programme", "period_from", "period_to"],
                                    condition=models.Q(source="schedule"),
                                    name="bulletin_scheduled_once"),
            models.CheckConstraint(condition=models.Q(period_to__gte=models.F("period_from")),
                                   name="bulletin_period"),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(number__isnull=False,
                                                              docx_sha256__gt="",
                                                              xlsx_sha256__gt=""),
                name="bulletin_issued_complete"),
        ]

    def __str__(self) -> str:
        number = f"第{self.number}期" if self.number else str(_("草稿"))
        return f"{self.masthead}（{number}）"

    @property
    def issued(self) -> bool:
        return self.status == BulletinStatus.ISSUED

    def save(self, *args, **kwargs):
        if self.pk and Bulletin.objects.filter(pk=self.pk, status=BulletinStatus.ISSUED).exists():
            raise FrozenBulletin(self)
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.issued:
            raise FrozenBulletin(self)
        return super().delete(*args, **kwargs)


class FrozenBulletin(Exception):
    """An issued bulletin (已签发) cannot be changed or deleted."""

    def __init__(self, bulletin: Bulletin):
        super().__init__(f"{bulletin} 已签发，不能修改或删除")


# -- inspections, rectification, accountability ---------------------------------------------
class InspectionKind(models.TextChoices):
    UNANNOUNCED = "unannounced", _("明察暗访")
    NPC = "npc", _("人大代表调研")
    CPPCC = "cppcc", _("政协委员调研")


class Inspection(TrackedModel):
    """An inspection: an unannounced visit by supervisors (明察暗访) or an investigation by
    people's congress deputies or CPPCC members (人大代表、政协委员调研, by odd and even months)."""

    kind = models.CharField("类型", max_length=12, choices=InspectionKind.choices)
    programme = models.ForeignKey("programmes.Programme", models.PROTECT, related_name="inspections",
                                  verbose_name="工作计划")
    held_on = models.DateField("日期")
    place = models.CharField("地点", max_length=200)
    inspectors = models.CharField("参加人员", max_length=300)
    findings = models.TextField("发现问题")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                    blank=True, related_name="+", verbose_name="记录人")
    recorded_at = models.DateTimeField("记录时间")

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = "督查调研"
        verbose_name_plural = "督查调研"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.held_on} {self.place}"


class InspectionLink(TrackedModel):
    """A unit (and optionally one of its tasks) an inspection concerns (涉及单位、任务)."""

    inspection = models.ForeignKey(Inspection, models.CASCADE, related_name="links")
    unit = models.ForeignKey("org.Unit", models.PROTECT, related_name="+", verbose_name="单位")
    task = models.ForeignKey("ledger.Task", models.PROTECT, null=True, blank=True,
                             related_name="inspection_links", verbose_name="任务")

    class Meta:
        ordering = ["inspection_id", "id"]
        verbose_name = "督查涉及"
        verbose_name_plural = "督查涉及"


class InspectionPhoto(TrackedModel):
    """A photo of an inspection's findings, checked and stored like evidence (佐证材料)."""

    inspection = models.ForeignKey(Inspection, models.CASCADE, related_name="photos")
    stored_name = models.CharField(max_length=100, unique=True, editable=False)
    original_name = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    taken_at = models.DateTimeField("拍摄时间", null=True, blank=True)
    longitude = models.FloatField("拍摄经度", null=True, blank=True)
    latitude = models.FloatField("拍摄纬度", null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                    blank=True, related_name="+", verbose_name="上传人")
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        ordering = ["inspection_id", "uploaded_at"]
        verbose_name = "督查照片"
        verbose_name_plural = "督查照片"


class Rectification(TrackedModel):
    """A rectification requirement (整改要求) from an inspection, with its deadline. It is
    tracked to closure as a ledger task of the programme (category 督查整改, led by the unit),
    so it reports, lights and escalates by the programme's rule set like any task; it is
    closed when that task is completed or closed (已完成/已销号)."""

    inspection = models.ForeignKey(Inspection, models.PROTECT, related_name="rectifications",
                                   verbose_name="督查调研")
    unit = models.ForeignKey("org.Unit", models.PROTECT, related_name="rectifications",
                             verbose_name="整改单位")
    requirement = models.TextField("整改要求")
    deadline = models.DateField("整改时限")
    task = models.OneToOneField("ledger.Task", models.PROTECT, related_name="rectification",
                                verbose_name="整改任务")
    source_task = models.ForeignKey("ledger.Task", models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="所涉任务")

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = "督查整改"
        verbose_name_plural = "督查整改"

    def __str__(self) -> str:
        return f"{self.unit} {self.deadline}"


class AccountabilityKind(models.TextChoices):
    COMMEND = "commend", _("表扬")
    CRITICISE = "criticise", _("通报批评")
    INTERVIEW = "interview", _("约谈")
    ADJUST = "adjust", _("调整")


class Accountability(TrackedModel):
    """An accountability record (问责与表扬): 表扬, 通报批评, 约谈 or 调整 (组织调整) of a unit
    or a person in it, with what brought it: lights (their tasks and levels as they were), a
    letter or interview, an inspection or a bulletin. The assessment room reads these."""

    kind = models.CharField("类型", max_length=10, choices=AccountabilityKind.choices)
    programme = models.ForeignKey("programmes.Programme", models.PROTECT, related_name="+",
                                  verbose_name="工作计划")
    unit = models.ForeignKey("org.Unit", models.PROTECT, related_name="accountabilities",
                             verbose_name="单位")
    person = models.CharField("人员", max_length=50, blank=True, help_text="空则针对单位")
    on = models.DateField("日期")
    reason = models.TextField("事由")
    lights = models.JSONField("所涉亮灯", default=list, blank=True,
                              help_text="当时的任务与灯色：[{task, code, level, name}]")
    escalation = models.ForeignKey(Escalation, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="督办函/约谈")
    inspection = models.ForeignKey(Inspection, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="督查调研")
    bulletin = models.ForeignKey(Bulletin, models.PROTECT, null=True, blank=True,
                                 related_name="accountabilities", verbose_name="工作通报")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                    blank=True, related_name="+", verbose_name="记录人")
    recorded_at = models.DateTimeField("记录时间")

    class Meta:
        ordering = ["-on", "-id"]
        verbose_name = "问责与表扬"
        verbose_name_plural = "问责与表扬"
        indexes = [models.Index(fields=["programme", "unit", "on"], name="accountability_unit")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.unit} {self.on}"
