"""The supervision letter (督办函): a numbered .docx in the official layout naming the tasks
and lights that brought it, written once when the escalation is made and kept with its hash."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import transaction

from chengzhen.documents import official
from chengzhen.documents.files import LETTERS, folder, new_file

from .models import Escalation
from .rules import RuleSet

KIND_MARK = {"letter": "督", "interview": "约"}


def reference(programme, kind: str, year: int, number: int) -> str:
    """The document number (文号), e.g. ``城建办督〔2026〕3号``: the issuing unit's short name,
    the kind, the year and the number (per programme, kind and year)."""
    owner = programme.owner_unit
    prefix = owner.short_name or owner.name[:4]
    return f"{prefix}{KIND_MARK[kind]}〔{year}〕{number}号"


def letter_document(esc: Escalation, rule_set: RuleSet, today: dt.date) -> official.OfficialDocument:
    programme, unit = esc.programme, esc.unit
    level = rule_set.level(esc.level)
    step = rule_set.escalation[esc.step]
    changes = list(esc.changes.select_related("task").order_by("on", "pk"))
    rows = [(i, c.task.code, c.task.name, level.name if c.to_level == esc.level else c.to_level,
             c.on.isoformat(), "；".join(c.reasons)) for i, c in enumerate(changes, 1)]
    owner = programme.owner_unit
    body = [
        official.Paragraph(
            f"根据{programme.name}亮灯督查规则（{rule_set.name}，第{esc.rule_version.number}版），"
            f"你单位牵头的任务在{esc.period}报送期内累计{len(changes)}次亮{level.name}"
            f"（达到{step.count}次即专函督办）。现将有关情况函告如下。"),
        official.Heading("一、亮灯任务及原因", 1),
        official.Table(columns=("序号", "任务编号", "任务名称", "灯色", "亮灯日期", "亮灯原因"),
                       rows=rows),
        official.Heading("二、督办要求", 1),
        official.Paragraph(
            "请你单位高度重视，对照亮灯原因逐项分析，制定整改措施，明确责任人和完成时限，"
            "于收到本函之日起10个工作日内将整改情况书面报送" + (owner.short_name or owner.name) + "，"
            "并在平台上及时更新进度和佐证材料。整改不到位的，将按规定予以通报、约谈。"),
    ]
    return official.OfficialDocument(
        title=f"关于{unit.name}{programme.name}任务亮灯情况的督办函",
        issuer=owner.name, number=esc.reference, recipient=unit.name, body=body,
        signature=owner.name, date=today)


def write_letter(esc: Escalation) -> None:
    """Write the letter's .docx, dated the day the escalation was made, and store its name and
    SHA-256 on the escalation. Written once: by the worker after the recompute that made it,
    or at the first download if the worker has not got to it yet."""
    from django.utils import timezone

    from .services import rule_set_of

    rule_set = rule_set_of(esc.rule_version)
    data = official.build(letter_document(esc, rule_set, timezone.localtime(esc.created_at).date()))
    stored, path = new_file(LETTERS, ".docx")
    path.write_bytes(data)
    esc.file_name, esc.file_sha256 = stored, hashlib.sha256(data).hexdigest()
    esc.save()


def letter_path(esc: Escalation, write: bool = False):
    """The stored letter's path, or None when there is none (or its file is gone); with
    ``write``, a letter not yet written is written first."""
    if not esc.file_name:
        if not (write and esc.kind == "letter"):
            return None
        with transaction.atomic():
            locked = Escalation.objects.select_for_update(of=("self",)).get(pk=esc.pk)
            if not locked.file_name:
                write_letter(locked)
            esc.file_name, esc.file_sha256 = locked.file_name, locked.file_sha256
    path = folder(LETTERS) / esc.file_name
    return path if path.is_file() and path.name == esc.file_name else None
