"""The light engine on its own (no database): each shipped rule set against hand-computed
cases, edge dates, time-based rises, reminders, the escalation ladder and deductions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import yaml

from chengzhen.supervision import engine
from chengzhen.supervision.rules import parse_rule_set
from chengzhen.supervision.workdays import WorkCalendar

D = dt.date
RULESETS = Path(__file__).parents[1] / "rulesets"
DEFAULT = parse_rule_set((RULESETS / "default.yaml").read_text(encoding="utf-8"))
THREE = parse_rule_set((RULESETS / "three-colour.yaml").read_text(encoding="utf-8"))


def calendar_2026() -> WorkCalendar:
    data = yaml.safe_load((Path(__file__).parents[1] / "data" / "calendar-2026.yaml").read_text("utf-8"))
    holidays = {d: n for n, days in data["holidays"].items() for d in days}
    workdays = {d: n for n, days in data["workdays"].items() for d in days}
    return WorkCalendar(holidays, workdays)


def task(**kw) -> dict:
    base = {"status": "in_progress", "start": D(2026, 1, 1), "due": D(2026, 12, 31),
            "time_progress": 0.0, "physical_progress": 0.0, "year_investment": 0.0,
            "year_plan": 0.0, "first_missed_node": None, "nodes_missed": 0, "reported": True,
            "reported_current": True, "prev_level": "", "prev_raw": "", "prev_raw_since": None}
    base.update(kw)
    return base


def inputs(*tasks: dict) -> engine.TaskInputs:
    def days(key):
        return np.array([np.datetime64(t[key], "D") if t[key] else np.datetime64("NaT", "D")
                         for t in tasks], dtype="datetime64[D]")

    return engine.TaskInputs(
        task_id=np.arange(1, len(tasks) + 1), status=np.array([t["status"] for t in tasks], dtype=object),
        start=days("start"), due=days("due"),
        time_progress=np.array([t["time_progress"] for t in tasks], dtype=float),
        physical_progress=np.array([t["physical_progress"] for t in tasks], dtype=float),
        year_investment=np.array([t["year_investment"] for t in tasks], dtype=float),
        year_plan=np.array([t["year_plan"] for t in tasks], dtype=float),
        first_missed_node=days("first_missed_node"),
        nodes_missed=np.array([t["nodes_missed"] for t in tasks]),
        reported=np.array([t["reported"] for t in tasks]),
        reported_current=np.array([t["reported_current"] for t in tasks]),
        prev_level=np.array([t["prev_level"] for t in tasks], dtype=object),
        prev_raw=np.array([t["prev_raw"] for t in tasks], dtype=object),
        prev_raw_since=days("prev_raw_since"))


def monthly(today: dt.date, day: int = 25, start: dt.date | None = None, calendar=None):
    start = start or D(2026, 1, 1)
    window = calendar.window(D(2025, 1, 1), D(2027, 12, 31)) if calendar else None
    return engine.reporting_context("monthly", day, start, today, window)


def light(rule_set, today, **kw):
    out = engine.evaluate(rule_set, inputs(task(**kw)), monthly(today))
    return out.level[0], out.reasons[0]


# ---- the default rule set, one rule at a time ------------------------------------------------

@pytest.mark.parametrize(("progress", "expected"), [
    (40.1, "green"),  # 9.9 points behind
    (40.0, "yellow"),  # 10 points: yellow from 10 (含)
    (20.0, "yellow"),  # 30 points: still yellow (10–30 含)
    (19.9, "red"),  # 30.1 points: red
])
def test_behind_schedule_thresholds(progress, expected):
    level, reasons = light(DEFAULT, D(2026, 7, 1), time_progress=0.5, physical_progress=progress)
    assert level == expected
    if expected != "green":
        assert reasons == (f"形象进度低于序时进度{50 - progress:.1f}个百分点（"
                           f"{'10–30个百分点' if expected == 'yellow' else '超过30个百分点'}）",)
    else:
        assert reasons == ()


@pytest.mark.parametrize(("node", "expected", "days"), [
    (D(2026, 6, 15), "yellow", 15),  # 15 days late: yellow (≤ 15)
    (D(2026, 6, 14), "red", 16),  # 16 days: red
    (D(2026, 6, 29), "yellow", 1),
])
def test_missed_time_node(node, expected, days):
    level, reasons = light(DEFAULT, D(2026, 6, 30), first_missed_node=node, nodes_missed=1)
    assert level == expected
    assert f"已超期{days}天未完成" in reasons[0] and f"计划{node}" in reasons[0]


def test_due_today_is_not_overdue_and_the_day_after_is_red():
    assert light(DEFAULT, D(2026, 6, 30), due=D(2026, 6, 30))[0] == "green"
    level, reasons = light(DEFAULT, D(2026, 7, 1), due=D(2026, 6, 30))
    assert level == "red"
    assert reasons == ("已超过完成时限（2026-06-30）1天仍未完成",)


def test_report_on_the_reporting_day_is_on_time_and_missing_the_day_after():
    # on 25 June the June report is not yet late; May's (due 25 May) is what is checked
    level, _ = light(DEFAULT, D(2026, 6, 25), reported=True)
    assert level == "green"
    level, reasons = light(DEFAULT, D(2026, 6, 25), reported=False)
    assert (level, reasons) == ("yellow", ("未按时报送2026-05进度（报送日2026-05-25）",))
    ctx = monthly(D(2026, 6, 26))
    assert (ctx.report_period, ctx.report_deadline) == ("2026-06", D(2026, 6, 25))


def test_reporting_day_past_the_months_end_and_quarter_ends():
    # reporting day 31: in June that is the 30th; quarterly: the day in the quarter's last month
    assert monthly(D(2026, 7, 1), day=31).report_deadline == D(2026, 6, 30)
    q = engine.reporting_context("quarterly", 25, D(2026, 1, 1), D(2026, 6, 30))
    assert (q.report_period, q.report_deadline) == ("2026-Q2", D(2026, 6, 25))
    q = engine.reporting_context("quarterly", 25, D(2026, 1, 1), D(2026, 7, 1))
    assert (q.report_period, q.current_period, q.current_deadline) == ("2026-Q2", "2026-Q3", D(2026, 9, 25))
    q = engine.reporting_context("quarterly", 25, D(2026, 1, 1), D(2026, 12, 31))
    assert q.report_period == "2026-Q4"
    # before the programme's first reporting day nothing is owed
    assert engine.reporting_context("monthly", 25, D(2026, 6, 1), D(2026, 6, 10)).report_period is None


def test_dekads_and_the_leap_day():
    assert engine.reporting_context("dekad", 25, D(2028, 1, 1), D(2028, 2, 29)).current_period == "2028-02-D3"
    ctx = engine.reporting_context("dekad", 25, D(2028, 1, 1), D(2028, 3, 1))
    assert (ctx.report_period, ctx.report_deadline) == ("2028-02-D3", D(2028, 2, 29))
    ctx = engine.reporting_context("dekad", 25, D(2028, 1, 1), D(2028, 3, 11))
    assert (ctx.report_period, ctx.report_deadline) == ("2028-03-D1", D(2028, 3, 10))
    assert monthly(D(2028, 3, 1), day=30).report_deadline == D(2028, 2, 29)
    # a node due on 28 February 2028 is two days late on 1 March (29 February counts)
    out = engine.evaluate(DEFAULT, inputs(task(start=D(2028, 1, 1), due=D(2028, 12, 31),
                                               first_missed_node=D(2028, 2, 28), nodes_missed=1)),
                          engine.reporting_context("monthly", 25, D(2028, 1, 1), D(2028, 3, 1)))
    assert "已超期2天未完成" in out.reasons[0][0]


def test_investment_behind_the_elapsed_share_of_the_year():
    # 2 July 2026 is day 183 of 365: 50.14 % of the year; 50 of 100 invested is 0.14 points behind
    level, reasons = light(DEFAULT, D(2026, 7, 2), year_plan=100.0, year_investment=50.0)
    assert (level, reasons) == ("yellow", ("年度投资完成率低于时序0.1个百分点",))
    assert light(DEFAULT, D(2026, 7, 2), year_plan=100.0, year_investment=51.0)[0] == "green"
    assert light(DEFAULT, D(2026, 7, 2), year_plan=0.0, year_investment=0.0)[0] == "green"  # no plan
    # a task running 1 July – 31 December: its share on 2 July is 2 of 184 days
    level, _ = light(DEFAULT, D(2026, 7, 2), start=D(2026, 7, 1), year_plan=184.0, year_investment=2.0)
    assert level == "green"


def test_closed_is_blue_completed_green_not_started_grey_or_red():
    assert light(DEFAULT, D(2026, 7, 1), status="closed", due=D(2026, 6, 1), time_progress=1.0)[0] == "blue"
    assert light(DEFAULT, D(2026, 7, 1), status="completed", due=D(2026, 6, 1),
                 first_missed_node=D(2026, 5, 1), nodes_missed=1)[0] == "green"
    assert light(DEFAULT, D(2026, 7, 1), status="not_started", start=D(2026, 8, 1))[0] == "grey"
    assert light(DEFAULT, D(2026, 7, 1), status="not_started", due=D(2026, 6, 30))[0] == "red"


def test_the_most_severe_level_wins_with_its_reasons_only():
    level, reasons = light(DEFAULT, D(2026, 7, 1), time_progress=0.5, physical_progress=35.0,
                           due=D(2026, 6, 28), first_missed_node=D(2026, 6, 1), nodes_missed=1)
    assert level == "red"
    assert reasons == ("时间节点（计划2026-06-01）已超期30天未完成（超过15天）",
                       "已超过完成时限（2026-06-28）3天仍未完成")


# ---- the three-colour set: working days, rises and deadlines ---------------------------------

def three(today, **kw):
    out = engine.evaluate(THREE, inputs(task(**kw)), monthly(today, calendar=calendar_2026()))
    return out.level[0], out.reasons[0], out.deadline[0], out.raw_since[0]


def test_node_on_a_holiday_counts_working_days_after_it():
    node = {"first_missed_node": D(2026, 10, 3), "nodes_missed": 1}
    assert three(D(2026, 10, 7), **node)[0] == "normal"  # 4–7 October are holidays
    level, reasons, _, _ = three(D(2026, 10, 8), **node)
    assert level == "blue" and "已超期1个工作日未完成" in reasons[0]
    # 10 October 2026 is a Saturday worked (调休): 8, 9 and 10 October
    assert "已超期3个工作日未完成" in three(D(2026, 10, 10), **node)[1][0]


def test_blue_rises_to_orange_after_five_working_days_then_red_after_ten():
    lagging = {"time_progress": 0.5, "physical_progress": 30.0, "prev_level": "blue",
               "prev_raw": "blue", "prev_raw_since": D(2026, 11, 2)}  # blue since Monday 2 November
    level, _, deadline, since = three(D(2026, 11, 6), **lagging)
    assert (level, deadline, since) == ("blue", np.datetime64("2026-11-09"), np.datetime64("2026-11-02"))
    level, reasons, deadline, _ = three(D(2026, 11, 9), **lagging)
    assert (level, deadline) == ("orange", np.datetime64("2026-11-23"))
    assert reasons[-1] == "蓝色提醒满5个工作日未消除，升为橙色警告，限期2026-11-23前整改"
    level, reasons, deadline, _ = three(D(2026, 11, 23), **lagging)
    assert level == "red" and np.isnat(deadline)
    assert reasons[-1] == "橙色警告限期届满仍未整改，升为红色督查单"
    # a rise starts again when the rules' level changes: first day at blue
    fresh = {**lagging, "prev_raw": "normal"}
    level, _, _, since = three(D(2026, 11, 23), **fresh)
    assert (level, since) == ("blue", np.datetime64("2026-11-23"))


def test_serious_items_start_at_orange():
    level, reasons, deadline, _ = three(D(2026, 11, 2), time_progress=0.9, physical_progress=10.0)
    assert level == "orange" and deadline == np.datetime64("2026-11-16")
    assert reasons == ("形象进度低于序时进度80.0个百分点（严重滞后）",)


# ---- reminders -------------------------------------------------------------------------------

def test_reminders_before_nodes_due_dates_and_the_reporting_day():
    today = D(2026, 6, 22)
    inp = inputs(task(due=D(2026, 6, 29), reported_current=False),  # due in 7 days; June unreported
                 task(due=D(2026, 6, 30)),  # due in 8 days: not yet
                 task(status="completed", due=D(2026, 6, 25)))  # finished: nothing
    nodes = [engine.Node(0, 11, "开工", D(2026, 6, 25)), engine.Node(1, 12, "主体完工", D(2026, 6, 26)),
             engine.Node(2, 13, "验收", D(2026, 6, 22))]
    got = {(r.kind, r.index, r.ref, r.days_left) for r in engine.reminders_due(DEFAULT, inp, monthly(today), nodes)}
    assert got == {("time_node", 0, "11", 3), ("due_date", 0, "", 7), ("reporting_day", 0, "2026-06", 3)}


# ---- escalation ladder and deduction candidates ----------------------------------------------

def tr(i, level, unit=1, period="2026-06", task_id=None):
    return engine.Transition(i, task_id or i, unit, 7, period, level)


def test_two_yellows_bring_a_letter_and_three_reds_an_interview():
    ts = [tr(1, "yellow"), tr(2, "yellow"), tr(3, "yellow"), tr(4, "red"), tr(5, "red"),
          tr(6, "yellow", unit=2), tr(7, "yellow", period="2026-07"), tr(8, "red")]
    got = engine.ladder(DEFAULT, ts, covered=set())
    assert [(e.action, e.unit_id, e.period, e.transitions) for e in got] == [
        ("letter", 1, "2026-06", (1, 2, 3)), ("interview", 1, "2026-06", (4, 5, 8))]
    # after the letter, one more yellow is not yet a second letter; two are
    covered = {(0, 1), (0, 2), (0, 3), (1, 4), (1, 5), (1, 8)}
    assert engine.ladder(DEFAULT, [*ts, tr(9, "yellow")], covered) == []
    got = engine.ladder(DEFAULT, [*ts, tr(9, "yellow"), tr(10, "yellow")], covered)
    assert [(e.action, e.transitions) for e in got] == [("letter", (9, 10))]


def test_each_tasks_first_entry_into_a_deducting_level_in_a_period():
    ts = [tr(1, "yellow", task_id=10), tr(2, "red", task_id=10), tr(3, "yellow", task_id=10),
          tr(4, "yellow", task_id=10, period="2026-07"), tr(5, "blue", task_id=11)]
    chosen = engine.deductions(DEFAULT, ts, existing={(10, "2026-07", "yellow")})
    assert [t.id for t in chosen] == [1, 2]
    assert [DEFAULT.level(t.level).deduction for t in chosen] == [1, 2]
