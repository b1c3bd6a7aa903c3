"""The bulletin's figures and files as pure functions (no database): each definition on a
hand-worked case, the JSON round trip, an empty period, and text written as text."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from docx import Document
from openpyxl import load_workbook

from chengzhen.supervision import bulletin as pure
from chengzhen.supervision import bulletin_files as files

D = dt.date
AS_OF = D(2026, 6, 30)  # day 181 of 365
JAN1, DEC31 = D(2026, 1, 1), D(2026, 12, 31)
W = pure.Weights(Decimal("0.4"), Decimal("0.4"), Decimal("0.2"))


def fact(code, unit="A", status="in_progress", start=JAN1, due=DEC31, progress=50,
         plan=0, done=0, light="", counts=False, severity=0, due_reports=0, on_time=0):
    return pure.TaskFacts(
        task_id=int(code[1:]), code=code, name=f"任务{code}", category="", unit_code=unit,
        unit_name=f"{unit}镇", status=status, start=start, due=due,
        physical_progress=Decimal(progress), planned_total=Decimal(1000), year_plan=Decimal(plan),
        year_completed=Decimal(done), cumulative=Decimal(done), light_level=light,
        light_name={"red": "红灯", "yellow": "黄灯"}.get(light, ""), light_colour="#d32f2f" if light else "",
        light_severity=severity, light_counts=counts, reports_due=due_reports, reports_on_time=on_time)


def compute(tasks, notes=(), previous=None, commend=3):
    return pure.compute(pure.BulletinInputs(
        programme_name="重点镇建设", period_from=D(2026, 6, 1), period_to=AS_OF, as_of=AS_OF,
        tasks=tasks, notes=notes, weights=W, commend_count=commend, previous=previous,
        previous_label="第1期" if previous else ""))


def test_each_task_falls_in_exactly_one_class():
    # T1 at 序时进度 181/365 = 49.6 %: 50 % is on schedule; T2 at 40 % lags; T3 is past due
    tasks = [fact("T1"), fact("T2", progress=40), fact("T3", due=D(2026, 6, 29), progress=99),
             fact("T4", status="closed", progress=0), fact("T5", start=D(2026, 7, 1), progress=0)]
    o = compute(tasks).overall
    assert (o.tasks, o.completed, o.on_schedule, o.lagging, o.overdue) == (5, 1, 2, 1, 1)


def test_investment_rate_and_points_against_the_years_time():
    o = compute([fact("T1", plan=800, done=500), fact("T2", plan=200, done=0)]).overall
    assert o.year_plan == Decimal(1000) and o.year_completed == Decimal(500)
    assert o.year_rate == Decimal("50.00") and o.time_share == Decimal("49.59")  # 181/365
    assert o.ahead_points == Decimal("0.41")
    none = compute([fact("T1")]).overall
    assert none.year_rate is None and none.ahead_points is None


def test_composite_ranks_ties_and_renormalised_weights():
    tasks = [
        fact("T1", unit="A", status="completed", due_reports=1, on_time=1),  # 100/100/100 → 100
        fact("T2", unit="A", progress=10, due_reports=1, on_time=0),        # lagging
        fact("T3", unit="B", status="completed", due_reports=1, on_time=1),
        fact("T4", unit="B", progress=10, due_reports=1, on_time=0),        # same as A
        fact("T5", unit="C"),                                               # nothing due
    ]
    units = compute(tasks).units
    rows = [(u.rank, u.unit_code, u.completion_rate, u.schedule_rate, u.timeliness_rate, u.composite)
            for u in units]
    # A, B: 0.4·50 + 0.4·50 + 0.2·50 = 50; C: (0.4·0 + 0.4·100) / 0.8 = 50 → all tied
    assert rows == [(1, "A", Decimal("50.00"), Decimal("50.00"), Decimal("50.00"), Decimal("50.00")),
                    (1, "B", Decimal("50.00"), Decimal("50.00"), Decimal("50.00"), Decimal("50.00")),
                    (1, "C", Decimal("0.00"), Decimal("100.00"), None, Decimal("50.00"))]
    tasks.append(fact("T6", unit="C", status="completed"))
    ranks = [(u.rank, u.unit_code) for u in compute(tasks).units]
    assert ranks == [(1, "C"), (2, "A"), (2, "B")]  # C: (0.4·50+0.4·100)/0.8 = 75


def test_red_list_most_severe_first_and_commended_units_without_lights_or_overdue():
    tasks = [fact("T1", unit="B", light="yellow", counts=True, severity=30),
             fact("T2", unit="A", light="red", counts=True, severity=40),
             fact("T3", unit="C", status="completed"), fact("T4", unit="D", status="completed"),
             fact("T5", unit="E", due=D(2026, 6, 1)), fact("T6", unit="F")]
    fig = compute(tasks, commend=1)
    assert [t.code for t in fig.red_list] == ["T2", "T1"]
    # C and D tie at the top (100): both are commended though only one was asked for
    assert [u.unit_code for u in fig.commended] == ["C", "D"]


def test_change_since_the_previous_bulletin():
    before = compute([fact("T1"), fact("T2", progress=10)])
    now = compute([fact("T1", status="completed"), fact("T2", progress=10)], previous=before)
    assert (now.change.completed, now.change.on_schedule, now.change.lagging) == (1, -1, 0)
    assert compute([fact("T1")]).change is None


def test_problems_are_listed_once_per_unit_and_text():
    note = pure.ReportNote("T1", "任务T1", "A", "A镇", "2026-06", "资金未到位")
    fig = compute([fact("T1")], notes=[note, note, pure.ReportNote("T2", "任务T2", "A", "A镇", "2026-06", "")])
    assert [(n.task_code, n.problems) for n in fig.problems] == [("T1", "资金未到位")]


def test_the_figures_round_trip_through_json_exactly():
    import json

    fig = compute([fact("T1", plan=800, done=333, light="red", counts=True, severity=40),
                   fact("T2", progress=10)], previous=compute([fact("T1")]))
    text = json.dumps(fig.to_json(), ensure_ascii=False)
    assert pure.Figures.from_json(json.loads(text)) == fig


def test_weights_must_add_up_to_something():
    with pytest.raises(ValueError):
        pure.Weights(Decimal(0), Decimal(0), Decimal(0))
    with pytest.raises(ValueError):
        pure.Weights(Decimal(-1), Decimal(1), Decimal(1))


META = files.BulletinMeta(masthead="重点镇建设工作通报", number="第2期", title="关于2026年6月重点镇建设推进情况的通报",
                          issuer="县城镇化办", date=D(2026, 7, 3), requirements="<b>一要</b>加快。\n=1+1")


def test_the_docx_says_the_figures_and_writes_text_as_text():
    fig = compute([fact("T1", plan=800, done=500), fact("T2", progress=10)])
    doc = Document(io.BytesIO(files.build_docx(fig, META)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "共有任务2个，已完成0个，正常推进1个，滞后1个，逾期0个" in text
    assert "<b>一要</b>加快。" in text and "=1+1" in text and "第2期" in text


def test_an_empty_period_says_so_in_both_files():
    fig = compute([])
    assert fig.overall.tasks == 0 and fig.units == ()
    doc = Document(io.BytesIO(files.build_docx(fig, META)))
    assert "本期无任务数据" in "\n".join(p.text for p in doc.paragraphs)
    wb = load_workbook(io.BytesIO(files.build_xlsx(fig, META)))
    assert {"单位排名", "任务明细", "亮灯任务", "存在问题"} <= set(wb.sheetnames)


def test_the_annex_lists_every_task_with_money_in_wan_and_formula_text_as_text():
    fig = compute([fact("T1", plan=800, done=500), fact("T2", progress=10)])
    wb = load_workbook(io.BytesIO(files.build_xlsx(fig, META)))
    ws = wb["任务明细"]
    header = [low or high for high, low in zip((c.value for c in ws[3]), (c.value for c in ws[4]),
                                               strict=True)]
    rows = {r[1]: r for r in ws.iter_rows(min_row=5, values_only=True) if r[1]}
    assert set(rows) == {"T1", "T2"}
    assert rows["T2"][header.index("进展分类")] == "滞后"


def test_module_imports_no_django():
    import subprocess
    import sys

    code = ("import sys; import chengzhen.supervision.bulletin, chengzhen.supervision.bulletin_files; "
            "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
