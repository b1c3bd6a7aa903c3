import time

from django.core.management.base import BaseCommand

from chengzhen.audit.context import acting_as
from chengzhen.commands import NounCommand, resolve_actor
from chengzhen.demo import build


class Command(BaseCommand):
    help = (
        "载入示范县“云溪县”演示数据：行政区划、单位、人员与授权、3个工作计划、约300项任务及"
        "半年进度报送。可重复运行：已载入时不做任何修改，只打印演示账号。"
    )

    def add_arguments(self, parser) -> None:
        NounCommand.add_as(parser)

    def handle(self, *args, as_user=None, **options) -> None:
        if build.exists():
            self.stdout.write("示范县数据已存在，未做修改。")
        else:
            started = time.monotonic()
            self.stdout.write("正在载入示范县“云溪县”……")
            with acting_as(resolve_actor(as_user), "command:demo"):
                build.Builder(self.stdout.write).build()
            self.stdout.write(f"载入完成，用时 {time.monotonic() - started:.1f} 秒。")
        self.stdout.write(f"\n演示账号（密码均为 {build.PASSWORD}）：")
        self.stdout.write("用户名\t姓名\t角色\t单位")
        for row in build.logins():
            self.stdout.write("\t".join(row))
