"""``audit verify``: is the chain intact, and does every tracked row match its last record?

Two passes. The chain: records in ``seq`` order must run 1, 2, 3 … without gaps, each linking
to the previous hash, each hash matching its content, each content naming the same seq,
action, model and pk as its row, and the head must equal the last record. The rows: every
tracked row must equal, in the fields recorded, the after-image of its last record; a row with
no record, a row whose last record is a delete, and a recorded row that is gone are findings.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from . import canonical
from .chain import record_event
from .context import acting_as
from .models import AuditHead, AuditRecord
from .tracking import audited_fields, image_from_values, tracked_models

CHUNK = 5000
dumps, quote = canonical.dumps, canonical.dumps_string
log = logging.getLogger("chengzhen.audit")


@dataclass(frozen=True)
class Finding:
    seq: int | None  # the audit record concerned, if any
    model: str
    pk: str
    reason: str
    chain: bool = False  # the record itself is broken (not a row that differs from it)

    def __str__(self) -> str:
        where = f"审计记录 #{self.seq}" if self.seq is not None else "数据行"
        obj = f" {self.model}:{self.pk}" if self.model else ""
        return f"{where}{obj}: {self.reason}"


@dataclass
class Result:
    records: int = 0
    rows: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_broken_record(self) -> int | None:
        """The first record the chain breaks at; else the first record a row differs from."""
        for chain in (True, False):
            seqs = [f.seq for f in self.findings if f.seq is not None and f.chain == chain]
            if seqs:
                return min(seqs)
        return None


def verify(check_rows: bool = True, anchor: tuple[int, str] | None = None) -> Result:
    """Check the chain, then (``check_rows``) every tracked row against its last record.

    ``anchor`` is a (seq, hash) written down earlier from ``audit head``: the record with
    that seq must still carry that hash, which catches a chain rewritten from there on with
    its hashes recomputed.
    """
    result = Result()
    anchor_seen = anchor is None
    last_content: dict[tuple[str, str], tuple[int, str]] = {}
    expected_seq, prev = 1, canonical.GENESIS_HASH
    rows = AuditRecord.objects.order_by("seq").values_list(
        "seq", "action", "model", "object_pk", "content", "prev_hash", "hash"
    )
    chain_broken = False
    for seq, action, model, pk, content, prev_hash, digest in rows.iterator(chunk_size=CHUNK):
        result.records += 1
        if not chain_broken:
            problem = None
            if seq != expected_seq:
                problem = f"序号不连续：应为 #{expected_seq}（记录被删除或重排）"
            elif prev_hash != prev:
                problem = "与上一条记录的哈希链接断开（记录被删除、重排或改动）"
            elif canonical.chain_hash(prev_hash, content) != digest:
                problem = "内容与哈希不符（记录被改动）"
            else:
                problem = _content_mismatch(content, seq, action, model, pk)
            if problem:
                result.findings.append(Finding(seq, model, pk, problem, chain=True))
                chain_broken = True  # later links follow from the first break
        if anchor is not None and seq == anchor[0]:
            anchor_seen = True
            if digest != anchor[1]:
                result.findings.append(Finding(
                    seq, model, pk, "哈希与留存的链头锚点不符（链被改写后重新计算了哈希）",
                    chain=True))
        expected_seq, prev = seq + 1, digest
        if model and action in ("create", "update", "delete"):
            last_content[(model, pk)] = (seq, content)
    head = AuditHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, canonical.GENESIS_HASH)
    if not chain_broken and (head_seq != expected_seq - 1 or head_hash != prev):
        result.findings.append(Finding(
            expected_seq - 1 if result.records else None, "", "",
            f"链尾与记录不符：链头登记为 #{head_seq}，实际最后一条为 #{expected_seq - 1}"
            "（末尾记录被删除或改动）", chain=True,
        ))
    if not anchor_seen:
        result.findings.append(Finding(
            anchor[0], "", "", "留存的链头锚点所指记录已不存在（记录被删除）", chain=True))
    if check_rows:
        _check_rows(result, last_content)
    return result


def _content_mismatch(content: str, seq: int, action: str, model: str, pk: str) -> str | None:
    # Fast path, without parsing: canonical content has sorted keys, so it opens with
    # "action" and "actor" and closes with "model", "pk", "seq", "source". The last
    # ',"source":' is the top-level key (inside a string a quote is escaped; nested objects
    # all come earlier). Anything else is parsed to say what differs.
    end = content.rfind(',"source":')
    if end > 0 and content.startswith(f'{{"action":{quote(action)},"actor":') and \
            content.endswith(f',"model":{quote(model)},"pk":{quote(pk)},"seq":{seq}', 0, end):
        return None
    try:
        body = json.loads(content)
    except ValueError:
        return "内容不是有效的 JSON"
    if body.get("seq") != seq:
        return f"内容中的序号为 #{body.get('seq')}，与记录序号不符（记录被重排）"
    if (body.get("action"), body.get("model"), body.get("pk")) != (action, model, pk):
        return "内容中的操作/对象与记录列不符（记录被改动）"
    return None


def _check_rows(result: Result, last_content: dict[tuple[str, str], tuple[int, str]]) -> None:
    by_model: dict[str, dict[str, tuple[int, str]]] = {}
    for (model, pk), val in last_content.items():
        by_model.setdefault(model, {})[pk] = val
    for model_cls in tracked_models():
        label = model_cls._meta.label_lower
        recorded = by_model.get(label, {})
        pk_name = model_cls._meta.pk.attname
        attnames = [f.attname for f in audited_fields(model_cls)]
        seen = set()
        values = model_cls._base_manager.order_by().values(*attnames)
        if pk_name not in attnames:
            values = model_cls._base_manager.order_by().values(pk_name, *attnames)
        for row in values.iterator(chunk_size=CHUNK):
            result.rows += 1
            pk = str(row[pk_name])
            seen.add(pk)
            last = recorded.get(pk)
            if last is None:
                result.findings.append(Finding(None, label, pk, "数据行没有任何审计记录（绕过平台写入）"))
                continue
            seq, content = last
            current = image_from_values(model_cls, row)
            # Fast path, without parsing: the record's after-image is the same canonical text
            # (the first ',"after":' is the top-level key: only strings and a number precede it)
            at = content.find(',"after":') + 9
            if at > 8 and content.startswith(dumps(current), at):
                continue
            body = json.loads(content)
            after = body.get("after")
            if body.get("action") == "delete" or after is None:
                result.findings.append(
                    Finding(seq, label, pk, "审计记录显示已删除，但数据行仍存在（绕过平台写入）")
                )
                continue
            for name, recorded_value in after.items():
                if name in current and current[name] != recorded_value:
                    result.findings.append(Finding(
                        seq, label, pk,
                        f"字段 {name} 当前为 {current[name]!r}，最后审计记录为 "
                        f"{recorded_value!r}（绕过平台修改）",
                    ))
        for pk, (seq, content) in recorded.items():
            if pk in seen:
                continue
            if json.loads(content).get("action") != "delete":
                result.findings.append(
                    Finding(seq, label, pk, "审计记录显示存在，但数据行已不存在（绕过平台删除）")
                )


def record_verification() -> Result:
    """Verify the whole chain and record the outcome as a ``verify`` event under the system
    account (the nightly check, 每日审计校验); a failure is also logged as an error."""
    from chengzhen.org.models import system_user  # org's models are built on this room's

    result = verify()
    first = result.first_broken_record
    with acting_as(system_user(), "schedule:verify_audit_chain"):
        record_event("verify", ok=result.ok, records=result.records, rows=result.rows,
                     findings=len(result.findings), first_broken=first,
                     sample=[str(f) for f in result.findings[:5]])
    if not result.ok:
        log.error(
            "audit verify failed: %d findings, first broken record %s", len(result.findings), first)
    return result


def last_verification() -> dict | None:
    """The last recorded verification's outcome (``detail`` plus its time), if any."""
    record = AuditRecord.objects.filter(action="verify").order_by("-seq").first()
    if record is None:
        return None
    return {**json.loads(record.content).get("detail", {}), "at": record.at}
