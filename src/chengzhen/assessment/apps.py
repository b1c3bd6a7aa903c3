from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AssessmentConfig(AppConfig):
    name = "chengzhen.assessment"
    verbose_name = "考核评价"

    def ready(self) -> None:
        from .shipped import install_shipped

        post_migrate.connect(install_shipped, sender=self)
