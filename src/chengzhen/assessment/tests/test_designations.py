"""The designation state machine (动态管理) on its own: fail, rectify, restore, fail again, revoke."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from chengzhen.assessment.designations import (
    HELD,
    RECTIFYING,
    REVOKED,
    Outcome,
    Rule,
    add_months,
    failure,
    next_state,
)

RULE = Rule(fail_grades=("不合格",), pass_score=Decimal("60"), rectify_months=6)


def result(total: str, grade: str, decided: dt.date, period_to: dt.date | None = None, **flags) -> Outcome:
    return Outcome(Decimal(total), grade, decided_on=decided, period_to=period_to or decided, **flags)


def test_months_are_added_to_the_month_end_when_the_day_is_missing():
    assert add_months(dt.date(2026, 11, 16), 6) == dt.date(2027, 5, 16)
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 8, 31), 6) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2026, 12, 1), 1) == dt.date(2027, 1, 1)


def test_what_fails_is_the_rules_setting():
    assert failure(RULE, result("88", "良好", dt.date(2026, 11, 16))) == ""
    assert failure(RULE, result("58.5", "合格", dt.date(2026, 11, 16))) == "总分 58.5 分，低于达标线 60 分"
    assert failure(RULE, result("70", "不合格", dt.date(2026, 11, 16))) == "考核等次为不合格"
    assert failure(RULE, result("95", "优秀", dt.date(2026, 11, 16), vetoed=True)) == "一票否决"
    assert failure(RULE, result("95", "", dt.date(2026, 11, 16), prerequisite_failed=True)) == "未达前置条件"
    grades_only = Rule(fail_grades=("不合格",))
    assert failure(grades_only, result("40", "合格", dt.date(2026, 11, 16))) == ""


def test_a_failing_town_is_rectified_restored_fails_again_and_is_revoked():
    # 2026 annual round, published 2026-11-16: below the line → 整改期 until 2027-05-16
    t = next_state(RULE, HELD, None, result("55", "不合格", dt.date(2026, 11, 16), dt.date(2026, 10, 31)))
    assert (t.to_state, t.changed, t.rectify_until) == (RECTIFYING, True, dt.date(2027, 5, 16))
    assert t.reason == "考核等次为不合格，进入整改期（6 个月，至 2027-05-16）"
    # a quarterly round inside the period, still below: the period runs on
    t = next_state(RULE, RECTIFYING, dt.date(2027, 5, 16), result("57", "不合格", dt.date(2027, 4, 20),
                                                                      dt.date(2027, 3, 31)))
    assert (t.to_state, t.changed) == (RECTIFYING, False) and "整改期内" in t.reason
    # the next round passes: restored
    t = next_state(RULE, RECTIFYING, dt.date(2027, 5, 16), result("72", "合格", dt.date(2027, 7, 20),
                                                                      dt.date(2027, 6, 30)))
    assert (t.to_state, t.changed, t.reason) == (HELD, True, "整改后达标，恢复资格")
    # a second failure starts a new period from that result
    t = next_state(RULE, HELD, None, result("59.99", "合格", dt.date(2027, 11, 15), dt.date(2027, 10, 31)))
    assert (t.to_state, t.rectify_until) == (RECTIFYING, dt.date(2028, 5, 15))
    # the first round whose period reaches the deadline, still below: revoked
    t = next_state(RULE, RECTIFYING, dt.date(2028, 5, 15), result("50", "不合格", dt.date(2028, 11, 10),
                                                                      dt.date(2028, 10, 31)))
    assert (t.to_state, t.changed) == (REVOKED, True)
    assert t.reason == "整改期满（2028-05-15）仍不达标：考核等次为不合格，取消资格"
    # revoked is final: a good result does not bring the title back
    t = next_state(RULE, REVOKED, None, result("99", "优秀", dt.date(2029, 11, 10)))
    assert (t.to_state, t.changed) == (REVOKED, False) and "重新授予" in t.reason


def test_a_passing_town_keeps_its_title():
    t = next_state(RULE, HELD, None, result("60", "合格", dt.date(2026, 11, 16)))
    assert (t.to_state, t.changed, t.reason) == (HELD, False, "达标，保留资格")
