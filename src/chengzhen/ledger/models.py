"""The task ledger (重点工作台账): tasks, cooperating units, time nodes, annual investment
plans and append-only progress reports.

Money is Decimal yuan to the fen. What follows from facts (序时进度, 滞后, days overdue,
cumulative investment, a parent's roll-up) is not stored: see ``queries.with_progress``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from chengzhen.audit.tracking import TrackedModel

from .choices import TaskStatus

MONEY = {"max_digits": 16, "decimal_places": 2}


class Task(TrackedModel):
    """A ledger task (任务). ``code`` is unique in its programme; ``seq`` is the 序号."""

    programme = models.ForeignKey(
        "programmes.Programme", models.PROTECT, related_name="tasks", verbose_name="工作计划"
    )
    code = models.CharField("任务编号", max_length=40)
    seq = models.PositiveIntegerField("序号", default=0)
    name = models.CharField("任务名称", max_length=300)
    category = models.CharField("任务类别", max_length=50, blank=True)
    requirement = models.TextField("目标任务/工作要求", blank=True)
    responsible_leader = models.CharField("责任领导", max_length=50, blank=True)
    lead_unit = models.ForeignKey(
        "org.Unit", models.PROTECT, related_name="led_tasks", verbose_name="牵头单位"
    )
    responsible_person = models.CharField("具体责任人", max_length=50, blank=True)
    responsible_phone = models.CharField("联系电话", max_length=30, blank=True)
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
        related_name="responsible_tasks", verbose_name="责任人账号",
    )
    start_date = models.DateField("开始时间")
    due_date = models.DateField("完成时限")
    weight = models.DecimalField(
        "权重", max_digits=20, decimal_places=4, null=True, blank=True,
        help_text="上级任务汇总进度时的权重；空则按计划总投资",
    )
    planned_total_investment = models.DecimalField("计划总投资（元）", default=0, **MONEY)
    opening_completed_investment = models.DecimalField("期初已完成投资（元）", default=0, **MONEY)
    status = models.CharField(
        "完成状态", max_length=12, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    notes = models.TextField("备注", blank=True)
    parent = models.ForeignKey(
        "self", models.CASCADE, null=True, blank=True, related_name="children",
        verbose_name="上级任务",
    )

    class Meta:
        ordering = ["programme_id", "seq", "code"]
        verbose_name = "任务"
        verbose_name_plural = "任务"
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="task_code_unique"),
            models.CheckConstraint(
                condition=models.Q(due_date__gte=models.F("start_date")), name="task_dates"
            ),
            models.CheckConstraint(
                condition=models.Q(planned_total_investment__gte=0)
                & models.Q(opening_completed_investment__gte=0),
                name="task_money_nonneg",
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "lead_unit"], name="task_prog_lead"),
            models.Index(fields=["due_date"], name="task_due"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Cooperation(TrackedModel):
    """A cooperating unit (配合单位) of a task."""

    task = models.ForeignKey(Task, models.CASCADE, related_name="cooperations")
    unit = models.ForeignKey("org.Unit", models.PROTECT, related_name="cooperations")
    seq = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["task_id", "seq"]
        verbose_name = "配合单位"
        verbose_name_plural = "配合单位"
        constraints = [models.UniqueConstraint(fields=["task", "unit"], name="cooperation_unique")]


class AnnualPlan(TrackedModel):
    """Planned investment of a task for one year (年度计划投资), in yuan."""

    task = models.ForeignKey(Task, models.CASCADE, related_name="annual_plans")
    year = models.PositiveSmallIntegerField("年度")
    amount = models.DecimalField("年度计划投资（元）", **MONEY)

    class Meta:
        ordering = ["task_id", "year"]
        verbose_name = "年度计划投资"
        verbose_name_plural = "年度计划投资"
        constraints = [
            models.UniqueConstraint(fields=["task", "year"], name="annual_plan_unique"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="annual_plan_nonneg"),
        ]


class TimeNode(TrackedModel):
    """A time node (时间节点): a dated milestone of a task, done when ``done_on`` is set."""

    task = models.ForeignKey(Task, models.CASCADE, related_name="time_nodes")
    seq = models.PositiveSmallIntegerField(default=0)
    name = models.CharField("节点名称", max_length=200)
    planned_date = models.DateField("计划日期")
    done_on = models.DateField("完成日期", null=True, blank=True)

    class Meta:
        ordering = ["task_id", "seq", "planned_date"]
        verbose_name = "时间节点"
        verbose_name_plural = "时间节点"


class ProgressReport(TrackedModel):
    """A progress report (进度报送) by one unit on one task for one reporting period.

    Append-only: a correction is a new report that supersedes the current one; the
    superseded report stays, with ``is_current`` false. ``submitted_at`` is server time.
    """

    task = models.ForeignKey(Task, models.CASCADE, related_name="reports")
    period = models.CharField("报送期", max_length=10,
                              help_text="按月 2026-05；按季 2026-Q2；按旬 2026-05-D1（上旬）")
    reporting_unit = models.ForeignKey(
        "org.Unit", models.PROTECT, related_name="progress_reports", verbose_name="报送单位"
    )
    physical_progress = models.DecimalField(
        "形象进度（%）", max_digits=5, decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    investment = models.DecimalField("本期完成投资（元）", default=0, **MONEY)
    progress_text = models.TextField("进展情况", blank=True)
    problems = models.TextField("存在问题", blank=True)
    next_steps = models.TextField("下步打算", blank=True)
    coordination = models.TextField("需协调事项", blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
        related_name="progress_reports", verbose_name="报送人",
    )
    reporter_name = models.CharField("报送人姓名", max_length=50, blank=True)
    submitted_at = models.DateTimeField("报送时间")
    is_current = models.BooleanField("现行", default=True)
    supersedes = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="superseded_by",
        verbose_name="更正的报送",
    )

    class Meta:
        ordering = ["task_id", "period", "reporting_unit_id", "submitted_at"]
        verbose_name = "进度报送"
        verbose_name_plural = "进度报送"
        constraints = [
            models.UniqueConstraint(
                fields=["task", "period", "reporting_unit"],
                condition=models.Q(is_current=True),
                name="one_current_report",
            ),
            models.CheckConstraint(
                condition=models.Q(physical_progress__gte=0, physical_progress__lte=100),
                name="report_progress_range",
            ),
            models.CheckConstraint(condition=models.Q(investment__gte=0), name="report_money"),
        ]
        indexes = [
            models.Index(fields=["task", "is_current", "period"], name="report_task_cur"),
        ]


class Evidence(TrackedModel):
    """An evidence file (佐证材料) of a progress report, stored under a generated name.

    Photos keep their capture time and place here; the stored file has no metadata.
    """

    report = models.ForeignKey(ProgressReport, models.PROTECT, related_name="evidence",
                               verbose_name="进度报送")
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
        ordering = ["report_id", "uploaded_at"]
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"

    def __str__(self) -> str:
        return self.original_name
