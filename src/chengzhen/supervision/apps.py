from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SupervisionConfig(AppConfig):
    name = "chengzhen.supervision"
    verbose_name = "督查督办"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (lights follow ledger changes)
        from .shipped import install_shipped

        post_migrate.connect(install_shipped, sender=self)
