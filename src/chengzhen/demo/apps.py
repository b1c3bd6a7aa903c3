from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "chengzhen.demo"
