from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "chengzhen.ledger"
    verbose_name = "任务台账"
