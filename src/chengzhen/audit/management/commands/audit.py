from django.core.management.base import CommandError
from django.utils import timezone

from chengzhen.audit.models import AuditHead, AuditRecord
from chengzhen.audit.verify import verify
from chengzhen.commands import NounCommand


class Command(NounCommand):
    help = (
        "审计链（audit）：verify 校验审计链与数据是否一致；log 查看最近的审计记录；"
        "head 显示链头序号与哈希（可抄录留存作外部锚点）。"
    )
    noun = "audit"

    def add_verbs(self, sub) -> None:
        text = ("校验：记录未被改动、删除或重排，且每条受审计数据与其最后一条审计记录一致；"
                "一致退出 0，否则逐条列出问题（首条问题记录按序号指出）并退出 1")
        verify_p = sub.add_parser("verify", help=text, description=text)
        verify_p.add_argument(
            "--anchor", metavar="SEQ:HASH",
            help="此前用 audit head 抄录的链头（序号:哈希），核对该条记录的哈希未变",
        )
        text = "最近的审计记录，每行：序号 时间（北京时间） 操作人 来源 操作 对象"
        log = sub.add_parser("log", help=text, description=text)
        log.add_argument("--model", help="只看某类对象，如 ledger.task")
        log.add_argument("--pk", help="只看某个对象（与 --model 同用）")
        log.add_argument("--limit", type=int, default=50, help="条数（默认 50）")
        text = ("链头：最后一条记录的序号与哈希。抄录留存于系统之外，日后可用 "
                "audit verify --anchor 序号:哈希 核对链未被整体改写")
        sub.add_parser("head", help=text, description=text)

    def verb_verify(self, *, anchor=None, **options) -> None:
        result = verify(anchor=_parse_anchor(anchor) if anchor else None)
        if result.ok:
            self.stdout.write(
                f"审计链完整：{result.records} 条记录，{result.rows} 行数据与审计记录一致"
            )
            return
        for finding in result.findings:
            self.stderr.write(str(finding))
        first = result.first_broken_record
        where = f"；首条问题记录 #{first}" if first is not None else ""
        raise CommandError(f"审计校验未通过：{len(result.findings)} 处问题{where}")

    def verb_log(self, *, model=None, pk=None, limit=50, **options) -> None:
        qs = AuditRecord.objects.order_by("-seq")
        if model:
            qs = qs.filter(model=model)
        if pk:
            qs = qs.filter(object_pk=str(pk))
        for r in reversed(list(qs[: max(1, limit)])):
            at = timezone.localtime(r.at).strftime("%Y-%m-%d %H:%M:%S")
            obj = f"{r.model}:{r.object_pk}" if r.model else ""
            self.stdout.write(f"#{r.seq}\t{at}\t{r.actor_username}\t{r.source}\t{r.action}\t{obj}")

    def verb_head(self, **options) -> None:
        head = AuditHead.objects.filter(pk=1).first()
        self.stdout.write(f"#{head.seq}\t{head.hash}" if head else "#0\t(空)")


def _parse_anchor(text: str) -> tuple[int, str]:
    seq, _, digest = text.strip().lstrip("#").replace("\t", ":").replace(" ", ":").partition(":")
    digest = digest.strip(": ").lower()
    if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise CommandError(f"--anchor: 应为 序号:哈希（audit head 的输出），而不是 {text!r}")
    return int(seq), digest
