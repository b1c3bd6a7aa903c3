from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "启动平台网页服务（默认 http://127.0.0.1:8000）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
        parser.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")

    def handle(self, *args, host: str, port: int, **options) -> None:
        self.stdout.write(f"城镇平台：http://{host}:{port}/  管理后台：http://{host}:{port}/admin/")
        call_command("runserver", f"{host}:{port}", use_reloader=False)
