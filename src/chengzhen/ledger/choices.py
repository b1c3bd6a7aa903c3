from django.db import models


class TaskStatus(models.TextChoices):
    """The decided status (完成状态). 滞后 is computed, never stored."""

    NOT_STARTED = "not_started", "未启动"
    IN_PROGRESS = "in_progress", "推进中"
    COMPLETED = "completed", "已完成"
    CLOSED = "closed", "已销号"


FINISHED_STATUSES = (TaskStatus.COMPLETED, TaskStatus.CLOSED)
