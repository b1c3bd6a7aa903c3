from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "chengzhen.programmes"
    verbose_name = "工作计划"
