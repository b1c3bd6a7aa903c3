"""The thin Django app around the pure life-circle library: its command (``chengzhen lifecircle``)."""

from django.apps import AppConfig


class LifecircleConfig(AppConfig):
    name = "chengzhen.lifecircle"
    verbose_name = "生活圈"
    default_auto_field = "django.db.models.BigAutoField"
