import os
import shutil
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "启动平台网页服务（默认 http://127.0.0.1:8000）：gunicorn 多进程；--dev 用 Django 开发服务器。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
        parser.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
        parser.add_argument("--workers", type=int, default=max(2, (os.cpu_count() or 1) * 2),
                            help="gunicorn 工作进程数（默认 CPU 核数 × 2）")
        parser.add_argument("--dev", action="store_true", help="用 Django 开发服务器（单进程）")

    def handle(self, *args, host: str, port: int, workers: int, dev: bool, **options) -> None:
        self.stdout.write(f"城镇平台：http://{host}:{port}/  管理后台：http://{host}:{port}/admin/")
        if dev:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
            return
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which(
            "gunicorn")
        if gunicorn is None:
            raise CommandError("找不到 gunicorn；请先运行 make install")
        self.stdout.flush()
        os.execv(gunicorn, [gunicorn, "chengzhen.wsgi:application", "--bind", f"{host}:{port}",
                            "--workers", str(workers), "--access-logfile", "-",
                            "--timeout", "120", "--graceful-timeout", "10"])
