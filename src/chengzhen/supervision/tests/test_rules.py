"""Rule sets as data (no database): the shipped ones parse and round-trip; bad ones are
refused with their line and reason; and the calendar's working days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from chengzhen.supervision.rules import RuleSetError, dump_rule_set, parse_rule_set
from chengzhen.supervision.workdays import WorkCalendar

RULESETS = Path(__file__).parents[1] / "rulesets"
MINIMAL = """\
code: t
name: 测试
default_level: green
levels:
  - {code: red, name: 红灯, colour: "#ff0000", severity: 2, counts: true, deduction: 2}
  - {code: yellow, name: 黄灯, colour: "#ffff00", severity: 1, counts: true, deduction: 1}
  - {code: green, name: 绿灯, colour: "#00ff00", severity: 0}
rules:
  - code: a
    level: yellow
    when: {behind_schedule_points: {gte: 10, lte: 30}}
    reason: 滞后
  - code: b
    level: red
    when: {behind_schedule_points: {gt: 30}}
    reason: 严重滞后
"""


@pytest.mark.parametrize("name", ["default.yaml", "three-colour.yaml"])
def test_shipped_rule_sets_parse_and_round_trip(name):
    rs = parse_rule_set((RULESETS / name).read_text(encoding="utf-8"), name)
    assert parse_rule_set(dump_rule_set(rs, header="x")).as_dict() == rs.as_dict()
    assert {lv.code for lv in rs.levels} >= {"red"}


def refused(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(RuleSetError) as exc:
        parse_rule_set(text, "rules.yaml")
    return exc.value.problems


def test_minimal_rule_set_is_accepted():
    rs = parse_rule_set(MINIMAL)
    assert [r.code for r in rs.rules] == ["a", "b"]
    assert rs.escalation == ()


def test_unknown_field_is_refused_with_its_line():
    problems = refused(MINIMAL.replace("    reason: 滞后", "    reason: 滞后\n    colour: red"))
    assert problems == [(13, "rules 第 1 项 中未知的字段 'colour'（可用：code、day_count、level、reason、when）")]


def test_unknown_level_fact_and_operator_are_refused():
    text = MINIMAL.replace("level: red\n", "level: purple\n").replace(
        "{behind_schedule_points: {gte: 10, lte: 30}}", "{slowness: {gte: 10}, days_overdue: {around: 3}}")
    lines = {(line, reason.split(" ")[0] + reason.split(" ")[-1][:6]) for line, reason in refused(text)}
    reasons = " / ".join(r for _, r in refused(text))
    assert "未知的事实 'slowness'" in reasons and "未知的比较 'around'" in reasons
    assert "规则 b 的等级 'purple' 未定义" in reasons
    assert all(line for line, _ in lines)


def test_inverted_and_overlapping_thresholds_are_refused():
    inverted = MINIMAL.replace("{gte: 10, lte: 30}", "{gte: 30, lte: 10}")
    assert refused(inverted) == [(11, "规则 a 对 behind_schedule_points 的阈值颠倒或为空：[30, 10]")]
    overlapping = MINIMAL.replace("{gt: 30}", "{gte: 25}")
    (problem,) = refused(overlapping)
    assert "规则 a（yellow）与 b（red）的条件重叠" in problem[1] and "[10, 30]" in problem[1]
    # touching at 30 with one side open is no overlap
    parse_rule_set(MINIMAL.replace("{gt: 30}", "{gt: 30, lt: 1000}"))


def test_escalation_cycle_and_ladder_on_a_level_that_does_not_count_are_refused():
    cyclic = MINIMAL.replace(
        'severity: 1, counts: true, deduction: 1}',
        'severity: 1, counts: true, deduction: 1, escalate: {to: red, after_days: 3}}').replace(
        'severity: 2, counts: true, deduction: 2}',
        'severity: 2, counts: true, deduction: 2, escalate: {to: yellow, after_days: 3}}')
    reasons = [r for _, r in refused(cyclic)]
    assert any("等级升级构成循环：red → yellow → red" in r for r in reasons)
    ladder = MINIMAL + "escalation:\n  - {level: green, count: 2, action: letter}\n"
    assert refused(ladder) == [(18, "escalation 第 1 项 的等级 'green' 不计入升级（counts: false）")]


def test_bad_yaml_and_duplicate_keys_name_the_line():
    assert refused("code: [unclosed\n")[0][0] == 2
    dup = MINIMAL.replace("name: 测试\n", "name: 测试\nname: 又一个\n")
    assert (3, "重复的键 'name'") in refused(dup)


# ---- working days ----------------------------------------------------------------------------

def test_working_days_skip_weekends_and_holidays_and_count_make_up_days():
    cal = WorkCalendar({dt.date(2026, 10, d): "国庆节" for d in range(1, 8)},
                       {dt.date(2026, 9, 20): "调休", dt.date(2026, 10, 10): "调休"})
    assert cal.is_working_day(dt.date(2026, 9, 20)) and not cal.is_working_day(dt.date(2026, 10, 5))
    w = cal.window(dt.date(2026, 9, 1), dt.date(2026, 12, 31))
    a = np.array(["2026-09-30", "2026-10-09"], dtype="datetime64[D]")
    b = np.array(["2026-10-08", "2026-10-12"], dtype="datetime64[D]")
    assert list(w.between(a, b)) == [1, 2]  # (30 Sep, 8 Oct]: 8 Oct; (9 Oct, 12 Oct]: 10 and 12
    assert list(w.add(a, 2)) == [np.datetime64("2026-10-09"), np.datetime64("2026-10-12")]
    with pytest.raises(ValueError):
        WorkCalendar({dt.date(2026, 1, 1): "x"}, {dt.date(2026, 1, 1): "y"})
