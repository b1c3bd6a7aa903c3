from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskStatus(models.TextChoices):
    """The decided status (完成状态). 滞后 is computed, never stored."""

    NOT_STARTED = "not_started", _("未启动")
    IN_PROGRESS = "in_progress", _("推进中")
    COMPLETED = "completed", _("已完成")
    CLOSED = "closed", _("已销号")


FINISHED_STATUSES = (TaskStatus.COMPLETED, TaskStatus.CLOSED)
