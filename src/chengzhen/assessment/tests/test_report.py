"""report.py: the 考核结果通报 written as a real .docx, read back with python-docx (paragraphs and table
cells) and, where LibreOffice is installed, rendered to PDF; the ranking rows through write_ranking."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from chengzhen.assessment import report as R
from chengzhen.assessment import workbook as W
from chengzhen.assessment.framework import load_framework

ZDZ = Path(W.__file__).parent / "data" / "frameworks" / "zdz-2023.yaml"
GRADES = ("优秀", "良好", "合格", "不合格（限期整改）")
POINTS = (("规划引领", 10.0), ("人口聚集", 20.0), ("投资与项目", 30.0), ("产业支撑", 20.0),
          ("环境整治与管理", 20.0), ("加分项", 5.0))
CODES = ("A", "B", "C", "D", "E", "F", "G")
NAMES = ("规划引领", "人口聚集", "投资与项目", "产业支撑", "环境整治与管理", "加分项", "否决项")
META = R.ReportMeta(
    round_code="ZDZ-2026", round_name="2026年度优先发展重点镇建设考核", framework="ZDZ@2023",
    framework_name="优先发展重点镇建设年度评估", framework_status="sample",
    period_from=dt.date(2026, 1, 1), period_to=dt.date(2026, 12, 31),
    issuer="云溪县城镇化工作领导小组办公室", number="云城镇办〔2027〕3号", recipient="各重点镇人民政府",
    date=dt.date(2027, 1, 15))


def dims(*scores: str) -> tuple[tuple[str, str, Decimal], ...]:
    return tuple(zip(CODES, NAMES, (Decimal(s) for s in scores), strict=True))


def subject(code, name, total, grade, rank, previous, *scores, vetoed=False, notes=(), lowest=()):
    return R.SubjectResult(code=code, name=name, total=Decimal(total), grade=grade, rank=rank,
                           previous_rank=previous, vetoed=vetoed, prerequisite_failed=False, notes=tuple(notes),
                           dimensions=dims(*scores), lowest=tuple(lowest))


# Given out of rank order: the report sorts by rank.
RESULTS = (
    subject("XJ", "新集镇", "65.25", "合格", 4, None, "6.00", "12.00", "20.25", "12.00", "15.00", "0.00", "0.00",
            lowest=("城镇人口增长率低于目标值，失6.00分。", "年度投资完成率仅52.30%，失5.50分",
                    "新增规上企业0家，失4.00分。", "生活垃圾无害化处理率偏低，失3.00分。")),
    subject("QS", "青山镇", "92.46", "优秀", 1, 3, "9.50", "18.00", "28.46", "17.50", "16.00", "3.00", "0.00",
            lowest=("污水集中处理率85.00%，低于目标值，失4.00分。",)),
    subject("BH", "白河镇", "88.50", "良好", 2, 1, "9.00", "17.00", "27.00", "16.50", "19.00", "0.00", "0.00"),
    subject("NG", "南岗镇", "70.00", "不合格（限期整改）", 5, 2, "8.00", "14.00", "20.00", "14.00", "14.00", "0.00",
            "0.00", vetoed=True, notes=("发生较大及以上安全生产事故，一票否决。",)),
    subject("DG", "东关镇", "80.00", "良好", 3, 3, "8.00", "16.00", "24.00", "16.00", "14.00", "2.00", "0.00"),
)
BY_RANK = sorted(RESULTS, key=lambda r: r.rank)
CHANGES = {"QS": "↑2", "BH": "↓1", "DG": "持平", "XJ": "新参评", "NG": "↓3"}


def read_back(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    doc = Document(io.BytesIO(data))
    paragraphs = [p.text for p in doc.paragraphs if p.text.strip()]
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in doc.tables]
    return paragraphs, tables


def build(meta=META, results=RESULTS, grades=GRADES, points=POINTS) -> tuple[list[str], list[list[list[str]]]]:
    return read_back(R.build_report(meta, results, grades, points))


def test_the_result_table_holds_the_inputs_numbers_in_rank_order():
    _, tables = build()
    assert len(tables) == 1
    header, *rows = tables[0]
    assert header == ["排名", "单位", "总分", "等次", "排名变化", "规划引领（10分）", "人口聚集（20分）",
                      "投资与项目（30分）", "产业支撑（20分）", "环境整治与管理（20分）", "加分项（5分）"]
    assert len(rows) == len(RESULTS)
    for row, r in zip(rows, BY_RANK, strict=True):
        scores = {name: score for _, name, score in r.dimensions}
        assert row == [str(r.rank), r.name, f"{r.total:.2f}", r.grade, CHANGES[r.code],
                       *(f"{scores[name]:.2f}" for name, _ in POINTS)]
        assert Decimal(row[2]) == r.total
        assert [Decimal(x) for x in row[5:]] == [scores[name] for name, _ in POINTS]


def test_the_structure_title_overall_figures_and_signature():
    paragraphs, _ = build()
    text = "\n".join(paragraphs)
    assert "关于2026年度优先发展重点镇建设考核结果的通报" in paragraphs
    assert paragraphs[0] == META.issuer and paragraphs[1] == META.number  # 版头
    assert "各重点镇人民政府：" in paragraphs
    headings = [p for p in paragraphs if p[:2] in ("一、", "二、", "三、", "四、", "五、")]
    assert headings == ["一、总体情况", "二、考核结果", "三、等次名单", "四、存在问题", "五、下步工作要求"]
    assert "本次考核期间为2026年1月1日至2026年12月31日" in text
    assert "《优先发展重点镇建设年度评估》测评体系（ZDZ@2023），共有5个单位参评" in text
    # (92.46 + 88.50 + 80.00 + 65.25 + 70.00) / 5 = 79.242
    assert "参评单位平均得分79.24分，最高得分92.46分（青山镇），最低得分65.25分（新集镇）" in text
    assert "按等次分，优秀1个、良好2个、合格1个、不合格（限期整改）1个。" in text
    assert "被一票否决的单位1个：南岗镇。" in text
    assert "南岗镇：发生较大及以上安全生产事故，一票否决。" in paragraphs
    assert paragraphs[-2:] == [META.issuer, "2027年1月15日"]
    assert R.DEFAULT_REQUIREMENTS in paragraphs


def test_the_grade_lists_in_rank_order_and_an_empty_grade_says_none():
    paragraphs, _ = build()
    assert "优秀：青山镇；良好：白河镇、东关镇；合格：新集镇；不合格（限期整改）：南岗镇。" in paragraphs
    no_pass = [r for r in RESULTS if r.grade != "合格"]
    paragraphs, _ = build(results=no_pass)
    assert "优秀：青山镇；良好：白河镇、东关镇；合格：无；不合格（限期整改）：南岗镇。" in paragraphs
    assert any("合格0个" in p for p in paragraphs)


def test_rank_changes():
    assert [R.rank_change(r, p) for r, p in ((1, 3), (2, 1), (3, 3), (4, None), (5, 2))] == [
        "↑2", "↓1", "持平", "新参评", "↓3"]
    _, tables = build()
    assert {row[1]: row[4] for row in tables[0][1:]} == {r.name: CHANGES[r.code] for r in RESULTS}


def test_problems_only_for_subjects_that_have_them_at_most_three_each():
    paragraphs, _ = build()
    start = paragraphs.index("四、存在问题")
    section = paragraphs[start + 1:paragraphs.index("五、下步工作要求")]
    assert section == [
        "青山镇：污水集中处理率85.00%，低于目标值，失4.00分。",
        "新集镇：城镇人口增长率低于目标值，失6.00分；年度投资完成率仅52.30%，失5.50分；新增规上企业0家，失4.00分。",
    ]
    none = [dataclasses.replace(r, lowest=()) for r in RESULTS]
    paragraphs, _ = build(results=none)
    assert R.NO_PROBLEMS in paragraphs


def test_a_sample_framework_says_so_and_a_complete_one_does_not():
    paragraphs, _ = build()
    assert R.SAMPLE_TEXT in paragraphs and "示例" in R.SAMPLE_TEXT
    paragraphs, _ = build(meta=dataclasses.replace(META, framework_status="complete"))
    assert not any("示例" in p for p in paragraphs)


def test_requirements_signature_and_an_undated_draft():
    meta = dataclasses.replace(META, requirements="一要对标补短。\n\n二要压实责任。", signature="云溪县城镇化办",
                               date=None, number="")
    paragraphs, _ = build(meta=meta)
    start = paragraphs.index("五、下步工作要求")
    assert paragraphs[start + 1:] == ["一要对标补短。", "二要压实责任。", "云溪县城镇化办"]
    assert R.DEFAULT_REQUIREMENTS not in paragraphs
    assert not any(p.startswith("2027年") for p in paragraphs)


def test_no_results_or_inconsistent_results_are_refused_in_chinese():
    with pytest.raises(ValueError, match="没有参评单位"):
        R.build_report(META, [], GRADES, POINTS)
    with pytest.raises(ValueError, match="缺少维度得分：规划引领"):
        R.build_report(META, [dataclasses.replace(RESULTS[0], dimensions=RESULTS[0].dimensions[1:])], GRADES,
                       POINTS)
    with pytest.raises(ValueError, match="参评单位重复"):
        R.build_report(META, [RESULTS[0], RESULTS[0]], GRADES, POINTS)
    with pytest.raises(ValueError, match="完整性"):
        R.build_report(dataclasses.replace(META, framework_status="draft"), RESULTS, GRADES, POINTS)
    with pytest.raises(ValueError, match="晚于"):
        R.build_report(dataclasses.replace(META, period_to=dt.date(2025, 12, 31)), RESULTS, GRADES, POINTS)


def test_scores_are_shown_with_two_decimals_half_up_and_text_stays_text():
    odd = dataclasses.replace(RESULTS[1], total=Decimal("92.455"), name="<b>青山镇</b>")
    paragraphs, tables = build(results=[odd, *RESULTS[2:]])
    assert tables[0][1][:3] == ["1", "<b>青山镇</b>", "92.46"]
    assert any("最高得分92.46分（<b>青山镇</b>）" in p for p in paragraphs)


def test_the_framework_helpers_and_ranking_rows_through_write_ranking(tmp_path):
    fw = load_framework(ZDZ.read_text(encoding="utf-8"))
    assert R.grade_names_of(fw) == list(GRADES)
    assert R.dimension_points_of(fw) == list(POINTS)  # 否决项 (0 points) has no column
    assert R.dimensions_of(fw, {"A": 9.5, "B": Decimal("18")})[:3] == (
        ("A", "规划引领", Decimal("9.50")), ("B", "人口聚集", Decimal("18.00")), ("C", "投资与项目", Decimal("0.00")))

    rows = R.ranking_rows(RESULTS)
    assert [r["subject"] for r in rows] == [r.code for r in BY_RANK]
    path = tmp_path / "排名.xlsx"
    W.write_ranking(path, fw, rows, date=dt.date(2027, 1, 15))
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[4]]
    data = [[c.value for c in row] for row in ws.iter_rows(min_row=5) if row[1].value]
    assert len(data) == len(RESULTS)
    for values, r in zip(data, BY_RANK, strict=True):
        assert values[:5] == [r.rank, r.code, r.name, float(r.total), r.grade]
        assert values[5] == ("是" if r.vetoed else None)
        scores = {name: score for _, name, score in r.dimensions}
        assert [values[header.index(name)] for name in NAMES] == [float(scores[name]) for name in NAMES]


def test_the_pdf_from_libreoffice_shows_the_title_and_a_total(tmp_path):
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: .ci/run installs it")
    from chengzhen.documents.render import pdf_text, to_pdf

    path = tmp_path / "通报.docx"
    path.write_bytes(R.build_report(META, RESULTS, GRADES, POINTS))
    flat = "".join(pdf_text(to_pdf(path, tmp_path / "pdf")).split())
    assert "关于2026年度优先发展重点镇建设考核结果的通报" in flat
    assert "92.46" in flat and "79.24" in flat and "示例" in flat
