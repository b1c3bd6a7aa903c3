"""``chengzhen bulletin``: generate (and issue) a periodic bulletin (工作通报), list bulletins,
issue a draft."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from chengzhen.commands import NounCommand
from chengzhen.problems import Problem, Refused
from chengzhen.programmes.models import Programme
from chengzhen.supervision import bulletins
from chengzhen.supervision.models import Bulletin


class Command(NounCommand):
    help = ("工作通报（bulletin）：generate 生成通报草稿（--issue 同时签发）并写出 .docx 与 .xlsx 附件；"
            "list 列出通报；issue 签发草稿。")
    noun = "bulletin"

    def add_verbs(self, sub) -> None:
        gen = sub.add_parser("generate", help="生成通报（.docx 正文与 .xlsx 附件），打印两个文件的路径")
        gen.add_argument("--programme", metavar="CODE", required=True, help="计划代码")
        gen.add_argument("--period", metavar="FROM..TO", required=True,
                         help="通报期：日期或报送期，如 2026-11-01..2026-11-10、2026-11-D1、2026-10..2026-11")
        gen.add_argument("--issue", action="store_true", help="生成后立即签发（取期号、冻结）")
        gen.add_argument("-o", dest="output", metavar="DIR", required=True, help="写出文件的目录")
        self.add_as(gen)
        lst = sub.add_parser("list", help="列出通报：编号<TAB>计划<TAB>通报期<TAB>状态<TAB>期号<TAB>标题")
        lst.add_argument("--programme", metavar="CODE")
        iss = sub.add_parser("issue", help="签发一份草稿（取期号、写出并冻结文件）")
        iss.add_argument("id", type=int, metavar="ID")
        iss.add_argument("-o", dest="output", metavar="DIR", help="另将签发的文件复制到该目录")
        self.add_as(iss)

    def verb_generate(self, user=None, **options) -> None:
        programme = Programme.objects.filter(code=options["programme"]).first()
        if programme is None:
            raise Refused([Problem(column="--programme", reason=f"没有计划 {options['programme']}")])
        out = self._out_dir(options["output"])
        start, end = bulletins.parse_span(options["period"])
        b = bulletins.generate(user, programme, start, end)
        if options["issue"]:
            b = bulletins.issue(user, b, expected_version=b.version)
        self._write(b, out)

    def verb_list(self, user=None, **options) -> None:
        qs = Bulletin.objects.select_related("programme").order_by("programme__code", "-period_to", "-pk")
        if options.get("programme"):
            qs = qs.filter(programme__code=options["programme"])
        for b in qs:
            self.stdout.write("\t".join([
                str(b.pk), b.programme.code, f"{b.period_from}..{b.period_to}", b.status,
                f"{b.year}-{b.number}" if b.number else "-", b.title]))

    def verb_issue(self, user=None, **options) -> None:
        b = Bulletin.objects.filter(pk=options["id"]).first()
        if b is None:
            raise Refused([Problem(column="ID", reason=f"没有编号为 {options['id']} 的通报")])
        b = bulletins.issue(user, b, expected_version=b.version)
        if options.get("output"):
            self._write(b, self._out_dir(options["output"]))
        else:
            self.stdout.write(f"已签发 {b}")

    @staticmethod
    def _out_dir(name: str) -> Path:
        out = Path(name)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"{out}: 无法创建目录：{exc}") from None
        return out

    def _write(self, b: Bulletin, out: Path) -> None:
        for suffix in (".docx", ".xlsx"):
            if b.issued:
                stored = bulletins.stored_path(b, suffix)
                if stored is None:
                    raise CommandError(f"{b}: 签发文件缺失或校验不符")
                data = stored.read_bytes()
            else:
                data = bulletins.build_file(b, suffix)
            path = out / bulletins.file_name(b, suffix)
            try:
                path.write_bytes(data)
            except OSError as exc:
                raise CommandError(f"{path}: 无法写入：{exc}") from None
            self.stdout.write(str(path))
