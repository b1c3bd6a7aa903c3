"""Dynamic management of titles (动态管理): how a round's result moves a designation such as
优先发展重点镇. Pure: dataclasses and dates, no Django.

The seed's rule (全市重点镇建设工作会议): 达不到既定目标的重点镇，给一定的整改期，整改后仍达不到
要求的，取消其优先发展重点镇资格. Read as a state machine over round results:

- held (保留) and the result fails the pass line → rectifying (整改期) until the result's date
  plus ``rectify_months``;
- rectifying and the result passes → held again (恢复);
- rectifying, the result still fails, and the round's period reaches the deadline (the first
  round after it) → revoked (取消资格); a round inside the period that still fails changes
  nothing — the period runs on;
- revoked is final: rounds never move it. The title comes back only as a new designation
  granted by a new decision.

What fails is the rule's setting, not a constant: a grade among ``fail_grades`` (e.g. 不合格), a
total below ``pass_score``, or a veto / failed prerequisite.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

HELD, RECTIFYING, REVOKED = "held", "rectifying", "revoked"


@dataclass(frozen=True)
class Rule:
    """The pass line and the rectification period of a title."""

    fail_grades: tuple[str, ...] = ()
    pass_score: Decimal | None = None
    rectify_months: int = 6


@dataclass(frozen=True)
class Outcome:
    """A subject's result in a round, and the date the result counts from (its publication)."""

    total: Decimal
    grade: str
    vetoed: bool = False
    prerequisite_failed: bool = False
    decided_on: dt.date | None = None  # when the result became known (published)
    period_to: dt.date | None = None  # the end of the round's assessment period


@dataclass(frozen=True)
class Transition:
    """What a result does to a designation: ``to_state`` (unchanged when ``changed`` is False)."""

    to_state: str
    changed: bool
    reason: str
    rectify_until: dt.date | None = None


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, on the same day of the month or the month's last day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def failure(rule: Rule, outcome: Outcome) -> str:
    """Why the result fails the pass line, or "" when it passes."""
    if outcome.vetoed:
        return "一票否决"
    if outcome.prerequisite_failed:
        return "未达前置条件"
    if outcome.grade and outcome.grade in rule.fail_grades:
        return f"考核等次为{outcome.grade}"
    if rule.pass_score is not None and outcome.total < rule.pass_score:
        return f"总分 {_score(outcome.total)} 分，低于达标线 {_score(rule.pass_score)} 分"
    return ""


def _score(x: Decimal) -> str:
    return format(x.quantize(Decimal("0.01")).normalize(), "f")


def next_state(rule: Rule, state: str, rectify_until: dt.date | None, outcome: Outcome) -> Transition:
    """The transition one round's result causes from ``state`` (with its deadline when rectifying)."""
    why = failure(rule, outcome)
    decided = outcome.decided_on or outcome.period_to or dt.date.min
    if state == REVOKED:
        return Transition(REVOKED, False, "资格已取消，考核结果不再改变；恢复须重新授予")
    if state == HELD:
        if not why:
            return Transition(HELD, False, "达标，保留资格")
        until = add_months(decided, rule.rectify_months)
        return Transition(RECTIFYING, True, f"{why}，进入整改期（{rule.rectify_months} 个月，至 {until:%Y-%m-%d}）",
                          until)
    # rectifying
    if not why:
        return Transition(HELD, True, "整改后达标，恢复资格")
    period_end = outcome.period_to or decided
    if rectify_until is not None and period_end >= rectify_until:
        return Transition(REVOKED, True, f"整改期满（{rectify_until:%Y-%m-%d}）仍不达标：{why}，取消资格")
    return Transition(RECTIFYING, False, f"整改期内（至 {rectify_until:%Y-%m-%d}）仍不达标：{why}", rectify_until)
