"""Background jobs people start from a page (a large import), with their progress."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """A job (后台任务) and how far it has got; the page polls it. Computed data, not audited:
    the work it does is audited by the actions it calls."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("未完成")

    kind = models.CharField("类型", max_length=30)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="jobs")
    status = models.CharField("状态", max_length=10, choices=Status.choices,
                              default=Status.QUEUED)
    stage = models.CharField("当前步骤", max_length=100, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    params = models.JSONField(default=dict)
    messages = models.JSONField("结果与问题", default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def report(self, stage: str, done: int | None = None, total: int | None = None) -> None:
        """Record progress (written at once, outside the job's own transaction)."""
        fields = {"stage": stage}
        if done is not None:
            fields["done"] = done
        if total is not None:
            fields["total"] = total
        Job.objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)
