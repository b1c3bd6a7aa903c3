"""Life-circle studies (生活圈研究) kept in the platform: the inputs people upload and the options they
choose (tracked, audited as entered), and what the latest run produced (computed: not tracked field by
field — each run is one audit record with its inputs' versions, written by the job).

Files live under the data folder (``MEDIA_ROOT``): ``lifecircle/<folder>/inputs/<role>/<original name>``
for the inputs (kept under the name the person gave them, so a refusal names their file) and
``lifecircle/<folder>/runs/<n>/`` for each run's outputs (``lifecircle.run.run``; ``siting/`` inside
for ``site_run.site`` when the study has candidates; ``roads.geojson`` for the map).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chengzhen.audit.tracking import TrackedModel


class StudyStatus(models.TextChoices):
    DRAFT = "draft", _("未测算")
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("测算中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("测算失败")


class Study(TrackedModel):
    """A life-circle study (生活圈研究) of one unit's area: inputs, preset, options; its latest run's
    status, progress, summary and results folder."""

    code = models.CharField("研究代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=200)
    area_unit = models.ForeignKey("org.Unit", models.PROTECT, related_name="+", verbose_name="研究区域",
                                  help_text="其辖区：该单位及下级单位的人员可以查看")
    preset = models.CharField("预设", max_length=100, blank=True,
                              help_text="随附预设的名称；为空时用上传的预设文件（inputs 中的 preset）")
    options = models.JSONField("测算选项", default=dict, blank=True,
                               help_text="snap、type_column、id_column、crs、max_distance、max_snap、siting")
    inputs = models.JSONField("输入文件", default=dict, blank=True,
                              help_text="每类输入：原文件名 name、字节数 size、SHA-256（输入的版本）、存放位置 stored")
    folder = models.CharField("存放文件夹", max_length=100, editable=False,
                              help_text="数据目录 lifecircle/ 下的文件夹名")
    published = models.BooleanField("已发布", default=False, help_text="发布后所有有角色的人员都可查看")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                   verbose_name="创建人")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    # the latest run: computed, so not tracked (the run itself is one audit record)
    status = models.CharField("状态", max_length=10, choices=StudyStatus.choices, default=StudyStatus.DRAFT)
    progress = models.CharField("进度", max_length=200, blank=True)
    error = models.TextField("失败原因", blank=True)
    ran_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name="测算人")
    ran_at = models.DateTimeField("测算时间", null=True, blank=True)
    runs = models.PositiveIntegerField("测算次数", default=0)
    results = models.CharField("成果文件夹", max_length=200, blank=True, help_text="相对于数据目录")
    summary = models.JSONField("成果摘要", default=dict, blank=True)
    job = models.ForeignKey("documents.Job", models.SET_NULL, null=True, blank=True, related_name="+",
                            verbose_name="后台任务")

    audit_exclude = ("status", "progress", "error", "ran_by", "ran_at", "runs", "results", "summary", "job")

    class Meta:
        ordering = ["-created_at", "code"]
        verbose_name = "生活圈研究"
        verbose_name_plural = "生活圈研究"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def base(self) -> Path:
        """The study's folder under the data folder."""
        return Path(settings.MEDIA_ROOT) / "lifecircle" / self.folder

    @property
    def results_path(self) -> Path | None:
        """The latest successful run's folder, when there is one on disk."""
        if not self.results:
            return None
        path = Path(settings.MEDIA_ROOT) / self.results
        return path if path.is_dir() else None

    def input_path(self, role: str) -> Path | None:
        entry = self.inputs.get(role)
        return Path(settings.MEDIA_ROOT) / entry["stored"] if entry else None

    @property
    def running(self) -> bool:
        return self.status in (StudyStatus.QUEUED, StudyStatus.RUNNING)

    @property
    def preset_label(self) -> str:
        return self.preset or (self.inputs.get("preset") or {}).get("name", "")
