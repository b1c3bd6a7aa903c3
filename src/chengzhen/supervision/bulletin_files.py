"""A work bulletin's (工作通报) files: the .docx in the official layout and its .xlsx annex.

Both are written from the stored ``Figures`` alone (``bulletin.py``), so an issued bulletin's
files can be rebuilt unchanged. No Django here: python-docx through ``documents.official``
and openpyxl through ``documents.spreadsheet.write_table``.

- ``BulletinMeta``: what the figures do not say: 版头, 期号, title, 署名, 成文日期, 主送, 下步工作要求.
- ``bulletin_document``: the bulletin as an ``official.OfficialDocument``, in the customary
  structure (一、总体情况; 二、各单位推进情况; 三、红黄榜; 四、存在问题; 五、下步工作要求;
  附件 任务进展明细表).
- ``build_docx`` / ``build_xlsx``: the .docx and the annex workbook as bytes. The annex has
  the sheets 单位排名, 任务明细 (every task), 亮灯任务 and 存在问题, money in 万元.

Text from the ledger and the editor (task names, problems, requirements) is always written as
text: never read as markup in the .docx, never as a formula in the .xlsx.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from openpyxl import Workbook

from chengzhen.documents import official
from chengzhen.documents.spreadsheet import Column, Lamp, write_table

from .bulletin import CLASS_NAMES, Change, Figures, Overall, ReportNote, TaskRow, UnitRow

__all__ = ["ATTACHMENT", "BulletinMeta", "STATUS_NAMES", "bulletin_document", "build_docx", "build_xlsx"]

STATUS_NAMES = {"not_started": "未启动", "in_progress": "推进中", "completed": "已完成", "closed": "已销号"}
ATTACHMENT = "任务进展明细表（Excel）"
RED_LIST_ROWS = 30  # 亮灯任务 in the body; the rest only in the annex
PROBLEM_ROWS = 15  # 存在问题 in the body
NO_DATA = "本期无任务数据。"
DEFAULT_REQUIREMENTS = (
    "各责任单位要对照本期通报的亮灯任务和存在问题，逐项分析原因，制定整改措施，"
    "明确责任人和完成时限，加快推进滞后、逾期任务，并按时、如实报送工作进展。")
NONE_TEXT = "—"  # a rate that does not exist (nothing was due)
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_WAN = Decimal(10000)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class BulletinMeta:
    """What a bulletin says besides its figures.

    ``masthead``: the 版头 (发文机关标志, printed red), e.g. "重点镇建设工作通报";
    ``number``: the 期号 "第3期", or "" for a draft (shown as "（草稿）"); ``title``; ``issuer``:
    the issuing unit (署名); ``date``: 成文日期 (None for a draft: today); ``recipient``: 主送;
    ``requirements``: 下步工作要求, plain text, each line a paragraph.
    """

    masthead: str
    number: str
    title: str
    issuer: str
    date: dt.date | None
    recipient: str = "各责任单位"
    requirements: str = ""


# -- wording ----------------------------------------------------------------------------------
def _date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _wan(yuan: Decimal) -> str:
    """Yuan as 万元 with 2 decimals: 1234567 → 123.46."""
    return f"{(yuan / _WAN).quantize(_CENT, rounding=ROUND_HALF_UP):f}"


def _share_text(percent: Decimal) -> str:
    """A weight's share without trailing zeros: 40.00 → 40, 33.30 → 33.3."""
    text = f"{percent:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _flat(text: str) -> str:
    """The text's lines in one paragraph (a note is one paragraph however it was typed)."""
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def _sentence(text: str) -> str:
    """The text ending in a full stop (trailing punctuation replaced)."""
    return text.rstrip("。.；;，,、 ") + "。"


def _months(as_of: dt.date) -> str:
    return "1月" if as_of.month == 1 else f"1—{as_of.month}月"


def overall_text(fig: Figures) -> str:
    """一、总体情况 in the customary phrasing, every number from the figures."""
    o: Overall = fig.overall
    head = f"截至{_date(fig.as_of)}，{fig.programme_name}"
    if o.tasks == 0:
        return f"{head}{NO_DATA}"
    text = (f"{head}共有任务{o.tasks}个，已完成{o.completed}个，正常推进{o.on_schedule}个，"
            f"滞后{o.lagging}个，逾期{o.overdue}个。计划总投资{_wan(o.planned_total)}万元，")
    if o.year_rate is None or o.ahead_points is None:
        text += f"未安排年度计划投资，{_months(fig.as_of)}累计完成{_wan(o.year_completed)}万元。"
    else:
        text += (f"年度计划投资{_wan(o.year_plan)}万元，{_months(fig.as_of)}累计完成"
                 f"{_wan(o.year_completed)}万元，占年度计划的{o.year_rate}%，")
        if o.ahead_points > 0:
            text += f"超过序时进度{o.ahead_points}个百分点。"
        elif o.ahead_points < 0:
            text += f"低于序时进度{-o.ahead_points}个百分点。"
        else:
            text += "与序时进度持平。"
    return text


def change_text(fig: Figures) -> str:
    """与上期相比 …: the changes in the counts, the year's investment and its rate; "" without
    a previous bulletin."""
    c: Change | None = fig.change
    if c is None:
        return ""
    label = f"（{fig.previous_label}）" if fig.previous_label else ""
    parts = []
    for name, label_cn in (("tasks", "任务总数"), ("completed", "已完成"), ("on_schedule", "正常推进"),
                           ("lagging", "滞后"), ("overdue", "逾期")):
        delta = getattr(c, name)
        if delta:
            parts.append(f"{label_cn}{'增加' if delta > 0 else '减少'}{abs(delta)}个")
    if not parts:
        parts.append("各类任务数持平")
    if c.year_completed:
        parts.append(f"年度累计完成投资{'增加' if c.year_completed > 0 else '减少'}{_wan(abs(c.year_completed))}万元")
    if c.year_rate:
        parts.append(f"年度投资完成率{'提高' if c.year_rate > 0 else '下降'}{abs(c.year_rate)}个百分点")
    return f"与上期{label}相比，" + "，".join(parts) + "。"


def weights_text(fig: Figures) -> str:
    """The sentence naming the composite's weights: 综合得分=完成率×40%+序时达标率×40%+报送及时率×20%."""
    names = ("完成率", "序时达标率", "报送及时率")
    terms = [f"{name}×{_share_text(share)}%" for name, share in zip(names, fig.weights.shares(), strict=True)
             if share]
    text = "各单位按综合得分排名，综合得分=" + "+".join(terms)
    if fig.weights.timeliness:
        text += "（本期无应报送报告的单位，按其余各项权重折算）"
    return text + "。"


def _rate(value: Decimal | None) -> Decimal | str:
    return NONE_TEXT if value is None else value


def _unit_rows(units: Sequence[UnitRow]) -> list[tuple[object, ...]]:
    return [(u.rank, u.unit_name, u.tasks, u.completed, u.on_schedule, u.lagging, u.overdue,
             u.completion_rate, u.schedule_rate, _rate(u.timeliness_rate), _rate(u.composite)) for u in units]


def commended_text(fig: Figures) -> str:
    """（一）表扬单位: the units named with their scores, or 本期无."""
    if not fig.commended:
        return "本期无。"
    names = "、".join(f"{u.unit_name}（综合得分{u.composite}）" for u in fig.commended)
    return f"{names}无逾期、无亮灯任务，综合得分居前，予以通报表扬。"


def note_text(note: ReportNote) -> str:
    """One 存在问题 paragraph: unit：task：problems；需协调：coordination。"""
    text = f"{_flat(note.unit_name)}：{_flat(note.task_name)}："
    problems, coordination = _flat(note.problems), _flat(note.coordination)
    if problems:
        text += problems.rstrip("。.；;，, ")
        if coordination:
            text += "；"
    if coordination:
        text += "需协调：" + coordination
    return _sentence(text)


def bulletin_document(fig: Figures, meta: BulletinMeta) -> official.OfficialDocument:
    """The bulletin as an official document (structure of the customary 工作通报)."""
    Heading, Paragraph, Table = official.Heading, official.Paragraph, official.Table
    body: list[official.Block] = [Heading("一、总体情况"), Paragraph(overall_text(fig))]
    if fig.change is not None:
        body.append(Paragraph(change_text(fig)))

    body.append(Heading("二、各单位推进情况"))
    if fig.units:
        body += [Paragraph(weights_text(fig)),
                 Table(columns=("排名", "单位", "任务数", "已完成", "正常推进", "滞后", "逾期", "完成率(%)",
                                "序时达标率(%)", "报送及时率(%)", "综合得分"), rows=_unit_rows(fig.units))]
    else:
        body.append(Paragraph(NO_DATA))

    body += [Heading("三、红黄榜"), Heading("（一）表扬单位", 2), Paragraph(commended_text(fig)),
             Heading("（二）亮灯任务", 2)]
    if fig.red_list:
        shown = fig.red_list[:RED_LIST_ROWS]
        body += [Paragraph(f"本期共有亮灯任务{len(fig.red_list)}项，按亮灯等级从高到低列示如下。"),
                 Table(columns=("序号", "任务编号", "任务名称", "牵头单位", "灯色", "原因"),
                       rows=[(i, t.code, t.name, t.unit_name, t.light_name, "；".join(t.light_reasons))
                             for i, t in enumerate(shown, start=1)])]
        if len(fig.red_list) > len(shown):
            body.append(Paragraph(f"其余{len(fig.red_list) - len(shown)}项见附件。"))
    else:
        body.append(Paragraph("本期无亮灯任务。"))

    body.append(Heading("四、存在问题"))
    if fig.problems:
        body += [Paragraph(note_text(note)) for note in fig.problems[:PROBLEM_ROWS]]
        if len(fig.problems) > PROBLEM_ROWS:
            body.append(Paragraph(f"其余{len(fig.problems) - PROBLEM_ROWS}条见附件。"))
    else:
        body.append(Paragraph("本期各单位报送中未反映存在问题和需协调事项。"))

    body.append(Heading("五、下步工作要求"))
    requirements = meta.requirements if meta.requirements and meta.requirements.strip() else DEFAULT_REQUIREMENTS
    body.append(Paragraph(requirements))

    return official.OfficialDocument(
        title=meta.title, body=body, issuer=meta.masthead, number=meta.number or "（草稿）",
        recipient=meta.recipient, signature=meta.issuer, date=meta.date or dt.date.today(),
        attachments=(ATTACHMENT,))


def build_docx(fig: Figures, meta: BulletinMeta) -> bytes:
    """The bulletin as .docx bytes."""
    return official.build(bulletin_document(fig, meta))


# -- the annex workbook ----------------------------------------------------------------------
def _lamp(t: TaskRow) -> Lamp | str | None:
    if not t.light_name:
        return None
    return Lamp(t.light_name, t.light_colour) if _COLOUR.match(t.light_colour) else t.light_name


RANK_COLUMNS = (
    Column("排名", width=6, kind="int"), Column("单位", width=24),
    Column("合计", "任务数（个）", 7, "int"), Column("已完成", "任务数（个）", 7, "int"),
    Column("正常推进", "任务数（个）", 8, "int"), Column("滞后", "任务数（个）", 7, "int"),
    Column("逾期", "任务数（个）", 7, "int"), Column("亮灯", "任务数（个）", 7, "int"),
    Column("应报送", "进展报送（次）", 8, "int"), Column("按时报送", "进展报送（次）", 8, "int"),
    Column("完成率(%)", "得分", 10, "decimal"), Column("序时达标率(%)", "得分", 12, "decimal"),
    Column("报送及时率(%)", "得分", 12, "decimal"), Column("综合得分", "得分", 10, "decimal"),
)
TASK_COLUMNS = (
    Column("任务编号", width=14), Column("任务名称", width=32), Column("任务类别", width=12),
    Column("牵头单位", width=20), Column("完成状态", width=9), Column("进展分类", width=9),
    Column("开始时间", width=11, kind="date"), Column("完成时限", width=11, kind="date"),
    Column("形象进度(%)", width=10, kind="decimal"), Column("序时进度(%)", width=10, kind="decimal"),
    Column("计划总投资", "投资（万元）", 13, "money"), Column("年度计划投资", "投资（万元）", 13, "money"),
    Column("年度完成投资", "投资（万元）", 13, "money"), Column("累计完成投资", "投资（万元）", 13, "money"),
    Column("亮灯", width=8), Column("亮灯原因", width=40, kind="multiline"),
)
LIT_COLUMNS = (
    Column("任务编号", width=14), Column("任务名称", width=32), Column("牵头单位", width=20),
    Column("灯色", width=8), Column("亮灯原因", width=40, kind="multiline"), Column("进展分类", width=9),
    Column("形象进度(%)", width=10, kind="decimal"), Column("序时进度(%)", width=10, kind="decimal"),
    Column("完成时限", width=11, kind="date"),
)
PROBLEM_COLUMNS = (
    Column("单位", width=20), Column("任务编号", width=14), Column("任务名称", width=32),
    Column("报送期", width=12), Column("存在问题", width=48, kind="multiline"),
    Column("需协调事项", width=40, kind="multiline"),
)


def _task_values(t: TaskRow) -> tuple[object, ...]:
    return (t.code, t.name, t.category, t.unit_name, STATUS_NAMES.get(t.status, t.status),
            CLASS_NAMES[t.progress_class], t.start, t.due, t.physical_progress, t.time_progress,
            t.planned_total, t.year_plan, t.year_completed, t.cumulative, _lamp(t), "\n".join(t.light_reasons))


def build_xlsx(fig: Figures, meta: BulletinMeta) -> bytes:
    """The annex workbook (任务进展明细表) as .xlsx bytes: 单位排名, 任务明细, 亮灯任务, 存在问题."""
    date_line = f"{meta.number or '草稿'}　截至{_date(fig.as_of)}"
    wb = Workbook()
    sheets = [
        ("单位排名", RANK_COLUMNS, False,
         [(u.rank, u.unit_name, u.tasks, u.completed, u.on_schedule, u.lagging, u.overdue, u.lit,
           u.reports_due, u.reports_on_time, u.completion_rate, u.schedule_rate, u.timeliness_rate,
           u.composite) for u in fig.units]),
        ("任务明细", TASK_COLUMNS, True, (_task_values(t) for t in fig.tasks)),
        ("亮灯任务", LIT_COLUMNS, True,
         [(t.code, t.name, t.unit_name, _lamp(t), "\n".join(t.light_reasons), CLASS_NAMES[t.progress_class],
           t.physical_progress, t.time_progress, t.due) for t in fig.red_list]),
        ("存在问题", PROBLEM_COLUMNS, True,
         [(n.unit_name, n.task_code, n.task_name, n.period, n.problems, n.coordination) for n in fig.problems]),
    ]
    for index, (name, columns, numbered, rows) in enumerate(sheets):
        ws = wb.active if index == 0 else wb.create_sheet()
        ws.title = name
        write_table(ws, f"{meta.title}——{name}", date_line, columns, rows, numbered=numbered)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
