import os
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from chengzhen.audit.context import acting_as
from chengzhen.commands import NounCommand, resolve_actor
from chengzhen.demo import build


class Command(BaseCommand):
    help = (
        "载入示范县“云溪县”（虚构）演示数据：行政区划、单位、人员与授权、3个工作计划"
        "（重点镇建设、美丽城镇、城市提质）及其阶段和目标、约300项任务（含子任务、时间节点、投资计划）"
        "和2026年5—10月的进度报送（含迟报、更正、滞后、逾期）。数据固定（同一随机种子），"
        "在一个事务中载入并记入审计。可重复运行：已载入时不做任何修改，只打印演示账号。"
        f"演示账号的密码均为 {build.PASSWORD}。"
    )

    def add_arguments(self, parser) -> None:
        NounCommand.add_as(parser)

    def handle(self, *args, as_user=None, **options) -> None:
        if build.exists():
            self.stdout.write("示范县“云溪县”数据已存在，未做修改。")
        else:
            problem = build.conflict()
            if problem:
                raise CommandError(f"数据库中已有其他数据，示范县未载入：{problem}")
            started = time.monotonic()
            self.stdout.write("正在载入示范县“云溪县”……")
            with acting_as(resolve_actor(as_user), "command:demo"):
                build.Builder(self.stdout.write).build()
            self.stdout.write(f"载入完成，用时 {time.monotonic() - started:.1f} 秒。")
        try:
            self.stdout.write(f"\n演示账号（密码均为 {build.PASSWORD}）：")
            for line in build.table(("用户名", "姓名", "角色", "单位"), build.logins()):
                self.stdout.write(line)
            self.stdout.flush()
        except BrokenPipeError:  # e.g. `chengzhen demo | head`: the reader has gone
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
