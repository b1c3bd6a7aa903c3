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
        sub.add_parser(
            "verify",
            help="校验：记录未被改动、删除或重排，且每条受审计数据与其最后一条审计记录一致；"
            "一致退出 0，否则逐条列出问题并退出 1",
        )
        log = sub.add_parser("log", help="最近的审计记录，每行：序号 时间 操作人 来源 操作 对象")
        log.add_argument("--model", help="只看某类对象，如 ledger.task")
        log.add_argument("--pk", help="只看某个对象（与 --model 同用）")
        log.add_argument("--limit", type=int, default=50, help="条数（默认 50）")
        sub.add_parser("head", help="链头：最后一条记录的序号与哈希")

    def verb_verify(self, **options) -> None:
        result = verify()
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
