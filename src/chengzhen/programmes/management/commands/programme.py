from chengzhen.commands import NounCommand
from chengzhen.programmes.models import Programme


class Command(NounCommand):
    help = "工作计划（programme）：list 列出全部计划（代码 TAB 名称，每行一个）。"
    noun = "programme"

    def add_verbs(self, sub) -> None:
        sub.add_parser("list", help="列出工作计划：代码<TAB>名称，每行一个")

    def verb_list(self, **options) -> None:
        for code, name in Programme.objects.order_by("code").values_list("code", "name"):
            self.stdout.write(f"{code}\t{name}")
