from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "chengzhen.documents"
