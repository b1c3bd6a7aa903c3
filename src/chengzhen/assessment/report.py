"""An assessment round's result report (考核结果通报) as a .docx, and its rows for the ranking .xlsx.

Pure: no Django. The document is built with ``chengzhen.documents.official`` (the one 公文
builder, as the work bulletin in ``supervision.bulletin_files`` does) from plain data the caller
takes from a stored scoring: ``ReportMeta`` (the round, the framework, 版头, 署名, 成文日期, 下步
工作要求) and one ``SubjectResult`` per subject. ``ranking_rows`` turns the same results into the
rows ``workbook.write_ranking`` writes, so the report and its ranking sheet say the same numbers.

The report, in the customary structure of a 考核结果通报:

- title ``关于{round_name}结果的通报``, an opening sentence;
- 一、总体情况: how many subjects, the period, the framework (and that it is a sample, 示例,
  when it is one), the average, highest and lowest total, the count per grade, the subjects
  vetoed (一票否决) or failing a prerequisite (前置条件) with the sentences saying why;
- 二、考核结果: a table 排名 | 单位 | 总分 | 等次 | 排名变化 (↑2 / ↓1 / 持平 / 新参评), then one
  column per dimension with its full points in the header (``规划引领（10分）``), in rank order;
- 三、等次名单: ``优秀：A、B；良好：C；合格：无；…`` in rank order;
- 四、存在问题: one paragraph per subject that has them, at most ``MAX_LOWEST`` sentences each;
- 五、下步工作要求: ``ReportMeta.requirements`` or ``DEFAULT_REQUIREMENTS``;
- 署名 (``signature``, else ``issuer``) and 成文日期 (``date``; none for an unpublished draft).

Scores are shown with two decimals (half up). Text from the caller is written as text.

``SubjectResult.dimensions`` are (code, name, score) triples of the framework's top-level nodes,
in framework order: ``write_ranking`` keys the dimension scores by node code, the report's table
by name. ``dimension_points`` — the columns of the table, (name, full points) — may leave some
out: ``dimension_points_of`` leaves out top-level blocks worth no points (否决项, 前置条件),
whose score column would say nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from chengzhen.documents import official

from .framework import STATUSES, Framework

__all__ = [
    "DEFAULT_REQUIREMENTS",
    "MAX_LOWEST",
    "ReportMeta",
    "SubjectResult",
    "build_report",
    "dimension_points_of",
    "dimensions_of",
    "grade_list_text",
    "grade_names_of",
    "overall_paragraphs",
    "problem_paragraphs",
    "rank_change",
    "ranking_rows",
    "report_document",
    "result_table",
]

MAX_LOWEST = 3  # 存在问题 sentences shown per subject
DEFAULT_REQUIREMENTS = (
    "各单位要对照本次考核结果和失分指标，认真查找差距，逐项分析原因，制定整改措施，"
    "明确责任人和完成时限，补齐短板弱项，推动各项建设任务落地见效。")
NO_PROBLEMS = "本次考核未列出各单位失分较多的指标。"
SAMPLE_TEXT = ("本次考核所用测评体系为示例体系（完整性：示例），指标、分值和评分标准尚待按正式文件核实，"
               "考核结果仅供参考。")
NONE_TEXT = "无"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ReportMeta:
    """What the report says besides the results.

    ``framework_status`` is ``complete`` or ``sample`` (a sample framework is said to be one);
    ``number`` (发文字号), ``recipient`` (主送) may be empty; ``signature`` defaults to ``issuer``;
    ``date`` (成文日期) None: none is printed; ``requirements``: 下步工作要求, each line a paragraph.
    """

    round_code: str
    round_name: str
    framework: str
    framework_name: str
    framework_status: str
    period_from: dt.date
    period_to: dt.date
    issuer: str
    number: str = ""
    recipient: str = ""
    signature: str = ""
    date: dt.date | None = None
    requirements: str = ""


@dataclass(frozen=True)
class SubjectResult:
    """One subject's result in the round.

    ``previous_rank``: its rank in the previous round (None: it was not in it); ``notes``: the
    veto and prerequisite sentences; ``dimensions``: (top-level node code, name, score) in
    framework order; ``lowest``: sentences on the indicators that lost most points (存在问题),
    at most ``MAX_LOWEST`` are shown.
    """

    code: str
    name: str
    total: Decimal
    grade: str
    rank: int
    previous_rank: int | None
    vetoed: bool
    prerequisite_failed: bool
    notes: tuple[str, ...]
    dimensions: tuple[tuple[str, str, Decimal], ...]
    lowest: tuple[str, ...] = ()


# -- from a framework -----------------------------------------------------------------------------
def grade_names_of(fw: Framework) -> list[str]:
    """The framework's grades, best first."""
    return [band.name for band in fw.grades.bands]


def dimension_points_of(fw: Framework) -> list[tuple[str, float]]:
    """(name, full points) of the top-level nodes worth points, in framework order."""
    return [(node.name, node.points) for node in fw.nodes if node.points]


def dimensions_of(fw: Framework, scores: Mapping[str, object]) -> tuple[tuple[str, str, Decimal], ...]:
    """``SubjectResult.dimensions`` from a stored ``{top-level code: score}`` (a missing one is 0)."""
    return tuple((node.code, node.name, _score(scores.get(node.code) or 0)) for node in fw.nodes)


# -- wording ----------------------------------------------------------------------------------------
def _score(value: object) -> Decimal:
    """Two places, half up, no negative zero."""
    d = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    return d + 0 if d else Decimal("0.00")


def _points(points: float) -> str:
    f = float(points)
    return str(int(f)) if f.is_integer() else f"{f:g}"


def _date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _flat(text: object) -> str:
    """The text's lines in one line."""
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def _clause(text: str) -> str:
    """A sentence without its closing punctuation, to be joined with others."""
    return _flat(text).rstrip("。.；;，,、 ")


def rank_change(rank: int, previous_rank: int | None) -> str:
    """↑2 (two places up), ↓1, 持平, or 新参评 (not in the previous round)."""
    if previous_rank is None:
        return "新参评"
    delta = previous_rank - rank
    if delta > 0:
        return f"↑{delta}"
    if delta < 0:
        return f"↓{-delta}"
    return "持平"


def _names(results: Sequence[SubjectResult]) -> str:
    return "、".join(_flat(r.name) for r in results)


def _grade_order(results: Sequence[SubjectResult], grade_names: Sequence[str]) -> list[str]:
    """The framework's grades, then any other grade a result has, in rank order."""
    order = list(dict.fromkeys(grade_names))
    for r in results:
        if r.grade and r.grade not in order:
            order.append(r.grade)
    return order


def _by_rank(results: Sequence[SubjectResult]) -> list[SubjectResult]:
    return sorted(results, key=lambda r: (r.rank, r.code))


def _check(meta: ReportMeta, results: Sequence[SubjectResult],
           dimension_points: Sequence[tuple[str, float]]) -> None:
    if not results:
        raise ValueError("没有参评单位的考核结果，不能生成考核结果通报")
    if meta.framework_status not in STATUSES:
        raise ValueError(f"测评体系完整性应为 {'、'.join(STATUSES)} 之一，不是 {meta.framework_status!r}")
    if meta.period_from > meta.period_to:
        raise ValueError(f"考核期间起始日 {meta.period_from} 晚于截止日 {meta.period_to}")
    codes = [r.code for r in results]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise ValueError(f"参评单位重复：{'、'.join(repeated)}")
    names = [name for name, _ in dimension_points]
    if len(set(names)) != len(names):
        raise ValueError("维度名称重复，无法列出各维度得分")
    for r in results:
        missing = [name for name in names if name not in {n for _, n, _ in r.dimensions}]
        if missing:
            raise ValueError(f"{r.name}（{r.code}）缺少维度得分：{'、'.join(missing)}")


# -- the sections -------------------------------------------------------------------------------------
def overall_paragraphs(meta: ReportMeta, results: Sequence[SubjectResult],
                       grade_names: Sequence[str]) -> list[str]:
    """一、总体情况, every number from the results."""
    ranked = _by_rank(results)
    totals = [_score(r.total) for r in ranked]
    average = _score(sum(totals, Decimal(0)) / len(totals))
    high, low = max(totals), min(totals)
    highest = [r for r, t in zip(ranked, totals, strict=True) if t == high]
    lowest = [r for r, t in zip(ranked, totals, strict=True) if t == low]
    paragraphs = [
        f"本次考核期间为{_date(meta.period_from)}至{_date(meta.period_to)}，采用《{_flat(meta.framework_name)}》"
        f"测评体系（{_flat(meta.framework)}），共有{len(ranked)}个单位参评。"]
    if meta.framework_status == "sample":
        paragraphs.append(SAMPLE_TEXT)
    counts = "、".join(f"{grade}{sum(1 for r in ranked if r.grade == grade)}个"
                       for grade in _grade_order(ranked, grade_names))
    paragraphs.append(f"参评单位平均得分{average}分，最高得分{high}分（{_names(highest)}），"
                      f"最低得分{low}分（{_names(lowest)}）。按等次分，{counts}。")
    vetoed = [r for r in ranked if r.vetoed]
    failed = [r for r in ranked if r.prerequisite_failed]
    if not vetoed and not failed:
        paragraphs.append("本次考核无被一票否决或前置条件未达标的单位。")
        return paragraphs
    parts = []
    if vetoed:
        parts.append(f"被一票否决的单位{len(vetoed)}个：{_names(vetoed)}")
    if failed:
        parts.append(f"前置条件未达标的单位{len(failed)}个：{_names(failed)}")
    paragraphs.append("；".join(parts) + "。")
    for r in ranked:
        notes = [_clause(note) for note in r.notes if _clause(note)]
        if (r.vetoed or r.prerequisite_failed) and notes:
            paragraphs.append(f"{_flat(r.name)}：{'；'.join(notes)}。")
    return paragraphs


def result_table(results: Sequence[SubjectResult], dimension_points: Sequence[tuple[str, float]]) -> official.Table:
    """二、考核结果: rank, unit, total, grade, rank change, then each dimension's score."""
    columns = ("排名", "单位", "总分", "等次", "排名变化",
               *(f"{_flat(name)}（{_points(points)}分）" for name, points in dimension_points))
    rows = []
    for r in _by_rank(results):
        scores = {name: score for _, name, score in r.dimensions}
        rows.append((r.rank, _flat(r.name), _score(r.total), r.grade, rank_change(r.rank, r.previous_rank),
                     *(_score(scores[name]) for name, _ in dimension_points)))
    return official.Table(columns=columns, rows=rows)


def grade_list_text(results: Sequence[SubjectResult], grade_names: Sequence[str]) -> str:
    """三、等次名单: 优秀：A、B；良好：C；合格：无。 (in rank order)"""
    ranked = _by_rank(results)
    parts = []
    for grade in _grade_order(ranked, grade_names):
        members = [r for r in ranked if r.grade == grade]
        parts.append(f"{grade}：{_names(members) if members else NONE_TEXT}")
    return "；".join(parts) + "。"


def problem_paragraphs(results: Sequence[SubjectResult]) -> list[str]:
    """四、存在问题: one paragraph per subject with lowest-scoring indicators, in rank order."""
    paragraphs = []
    for r in _by_rank(results):
        sentences = [_clause(s) for s in r.lowest if _clause(s)][:MAX_LOWEST]
        if sentences:
            paragraphs.append(f"{_flat(r.name)}：{'；'.join(sentences)}。")
    return paragraphs


def report_document(meta: ReportMeta, results: Sequence[SubjectResult], grade_names: Sequence[str],
                    dimension_points: Sequence[tuple[str, float]]) -> official.OfficialDocument:
    """The report as an official document; raises ValueError (in Chinese) on no or inconsistent results."""
    results = list(results)
    dimension_points = [(name, points) for name, points in dimension_points]
    _check(meta, results, dimension_points)
    Heading, Paragraph = official.Heading, official.Paragraph
    body: list[official.Block] = [
        Paragraph(f"{_flat(meta.issuer)}组织开展了{_flat(meta.round_name)}。现将考核结果通报如下。"),
        Heading("一、总体情况"),
        *(Paragraph(text) for text in overall_paragraphs(meta, results, grade_names)),
        Heading("二、考核结果"),
        Paragraph("各单位考核得分及排名情况如下（排名变化与上一轮考核相比）。"),
        result_table(results, dimension_points),
        Heading("三、等次名单"),
        Paragraph(grade_list_text(results, grade_names)),
        Heading("四、存在问题"),
    ]
    problems = problem_paragraphs(results)
    body += [Paragraph(text) for text in problems] if problems else [Paragraph(NO_PROBLEMS)]
    body.append(Heading("五、下步工作要求"))
    requirements = meta.requirements if meta.requirements and meta.requirements.strip() else DEFAULT_REQUIREMENTS
    body.append(Paragraph(requirements))
    return official.OfficialDocument(
        title=f"关于{_flat(meta.round_name)}结果的通报", body=body, issuer=meta.issuer, number=meta.number,
        recipient=meta.recipient, signature=meta.signature or meta.issuer, date=meta.date)


def build_report(meta: ReportMeta, results: Sequence[SubjectResult], grade_names: Sequence[str],
                 dimension_points: Sequence[tuple[str, float]]) -> bytes:
    """The report as .docx bytes."""
    return official.build(report_document(meta, results, grade_names, dimension_points))


def ranking_rows(results: Sequence[SubjectResult]) -> list[dict[str, object]]:
    """Rows for ``workbook.write_ranking``, in rank order: subject, name, total, grade, rank, vetoed,
    prerequisite_failed, nodes ({top-level code: score}) and notes."""
    return [
        {
            "subject": r.code,
            "name": r.name,
            "total": _score(r.total),
            "grade": r.grade,
            "rank": r.rank,
            "vetoed": r.vetoed,
            "prerequisite_failed": r.prerequisite_failed,
            "nodes": {code: _score(score) for code, _, score in r.dimensions},
            "notes": list(r.notes),
        }
        for r in _by_rank(results)
    ]
