"""One Chinese sentence per subject × indicator saying how the score came about (评分说明).

``sentence(ex)`` takes the dict the engine builds for one subject and one indicator (name, unit, points, rule, case,
inputs, params resolved for that subject, score, extra, direction, class label, formula, zeroed_by) and returns a
sentence without a final full stop, e.g. ``建成区绿地率 33.1%，低于目标 35%，按线性规则得 6.2 分（满分 10 分）``.
``ex["score"]`` is the rule's own score; when the block was zeroed by a key item (关键项) the sentence says so after it.

Writing conventions (tested character for character):

- the indicator name, a space, then what was found: ``建成区绿地率 33.1%``, ``市容问题 发现 3 处``;
- numbers with ``fmt_number`` (up to 4 decimals, no trailing zeros, never scientific, -0 → 0); scores and points
  with ``fmt_score`` (2 decimals ROUND_HALF_UP, trailing zeros stripped: 6.20 → 6.2, 10.00 → 10);
- units glue to the number (35%, 8平方米/人, 0.7吨标煤/万元) except 分, written like a score with a space (82 分);
  counts use the rule's own wording with spaces (发现 3 处, 发生 1 起, 2 座) and default to 处 (扣分), 起 (否决),
  项 (加分) when the indicator has no unit;
- a requirement is the comparison sign glued to the value (≥35%, ≤0.7吨标煤/万元, a band 35%–40%) followed by
  a space and 的 (``达到 ≥35% 的要求``); the class label follows the value it chose
  (``8平方米/人（人口50–100万、南方标准）``), and no space is put after the closing full-width bracket;
- Chinese punctuation: ，（）÷ “” ；.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chengzhen.assessment.rules import (
    CASES,
    OP_SYMBOL,
    default_op,
    fmt_number,
    fmt_value,
    option_table,
    round_text,
    step_table,
    year_table,
)

__all__ = ["fmt_number", "fmt_score", "fmt_value", "sentence"]


def fmt_score(x: float | int | Decimal | None) -> str:
    """A score: Decimal(repr(x)) quantized to 0.01 ROUND_HALF_UP, trailing zeros stripped (6.20 → 6.2, 10.00 → 10)."""
    return "—" if x is None else round_text(x, 2)


def _f(x: Any) -> float | None:
    """A finite float, or None (missing / NaN / not a number)."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if f == f and f not in (float("inf"), float("-inf")) else None


def _de(requirement: str) -> str:
    """The requirement followed by “ 的”, without a space after a closing full-width bracket."""
    return requirement + ("的" if requirement.endswith("）") else " 的")


class _Ex:
    """The sentence's view of ``ex`` with the rule defaults applied."""

    def __init__(self, ex: dict) -> None:
        self.rule: str = ex.get("rule") or ""
        case = ex.get("case")
        if isinstance(case, int | float) and not isinstance(case, bool):
            case = CASES.get(self.rule, ("missing",))[int(case)]
        self.case: str = case or "missing"
        self.name: str = ex.get("name") or ex.get("code") or ""
        self.unit: str = (ex.get("unit") or "").strip()
        self.points: float = _f(ex.get("points")) or 0.0
        self.score: float = _f(ex.get("score")) or 0.0
        self.params: dict = ex.get("params") or {}
        self.extra: dict = ex.get("extra") or {}
        self.inputs: dict = ex.get("inputs") or {}
        self.direction: str = ex.get("direction") or "higher"
        self.cls: str = f"（{ex['class']}标准）" if ex.get("class") else ""
        self.formula: dict | None = ex.get("formula") or None
        self.zeroed_by: str | None = ex.get("zeroed_by") or None

    def fv(self, x: Any, unit: str | None = None) -> str:
        return fmt_value(_f(x), self.unit if unit is None else unit)

    def num(self, name: str, default: float | None = None) -> float | None:
        x = _f(self.params.get(name))
        return default if x is None else x

    def value(self) -> float | None:
        v = _f(self.inputs.get("value"))
        if v is None and self.formula:  # a formula node may pass only its numerator and denominator
            n, d = _f(self.formula.get("numerator")), _f(self.formula.get("denominator"))
            if n is not None and d:
                v = n / d * (_f(self.formula.get("scale")) or 1.0)
        return v

    def val(self) -> str:
        """The value as found, with the formula behind it: ``95%（无害化处理量 95 ÷ 产生量 100）``."""
        text = self.fv(self.value())
        if self.formula:
            f = self.formula
            # bare numbers, as in the spec's example: the parts' units are on the framework page
            num, den = fmt_number(_f(f.get("numerator"))), fmt_number(_f(f.get("denominator")))
            text += f"（{f.get('numerator_label') or '分子'} {num} ÷ {f.get('denominator_label') or '分母'} {den}）"
        return text

    def got(self) -> str:
        """得 X 分（满分 Y 分）; the bracket is left out when the block was zeroed (the zeroing note follows)."""
        if self.zeroed_by:
            return f"得 {fmt_score(self.score)} 分"
        return f"得 {fmt_score(self.score)} 分（满分 {fmt_score(self.points)} 分）"

    def full(self) -> str:
        return f"得满分 {fmt_score(self.points)} 分"

    def requirement(self) -> str:
        """≥35%, ≤0.7吨标煤/万元 or 35%–40%, with the class label."""
        if self.direction == "band":
            return f"{self.fv(self.params.get('low'))}–{self.fv(self.params.get('high'))}{self.cls}"
        op = self.params.get("op") or default_op(self.direction)
        return f"{OP_SYMBOL.get(op, op)}{self.fv(self.params.get('target'))}{self.cls}"

    def count(self) -> str:
        return fmt_number(_f(self.inputs.get("count")))

    def count_unit(self, default: str) -> str:
        return self.unit or default

    def x(self, name: str) -> float | None:
        return _f(self.extra.get(name))


def _missing_tail(e: _Ex) -> str:
    if e.rule == "veto":
        policy = e.params.get("missing") or ("veto" if e.x("missing_policy") == 1 else "clear")
        return "视同发生，一票否决，评定为不合格" if policy == "veto" else "视为未发生，不触发一票否决"
    if e.rule == "prerequisite":
        return "视为未达到前置条件，不具备参评资格"
    if e.rule == "bonus":
        return "不加分"
    return e.got()


def _threshold(e: _Ex) -> str:
    reached = "达到" if e.case == "met" else "未达到"
    return f"{e.val()}，{reached} {_de(e.requirement())}要求，{e.got()}"


def _prerequisite(e: _Ex) -> str:
    if e.case == "met":
        return f"{e.val()}，达到 {_de(e.requirement())}前置条件，具备参评资格"
    return f"{e.val()}，未达到 {_de(e.requirement())}前置条件，不具备参评资格"


def _linear(e: _Ex) -> str:
    if e.direction == "band":
        band = _de(f"{e.fv(e.params.get('low'))}–{e.fv(e.params.get('high'))}{e.cls}")
        if e.case == "full":
            return f"{e.val()}，在 {band}区间内，{e.full()}"
        dev = e.x("deviation")
        if dev is None:
            v, low, high = e.value() or 0.0, e.num("low", 0.0), e.num("high", 0.0)
            dev = low - v if v < low else v - high
        if e.case == "zero":
            return f"{e.val()}，偏离 {band}区间 {e.fv(dev)}，已达 {e.fv(e.params.get('margin'))}，{e.got()}"
        return f"{e.val()}，偏离 {band}区间 {e.fv(dev)}，按线性规则{e.got()}"
    lower = e.direction == "lower"
    target = f"{e.fv(e.params.get('target'))}{e.cls}"
    if e.case == "full":
        return f"{e.val()}，达到目标 {target}，{e.full()}"
    if e.case == "partial":
        return f"{e.val()}，{'高于' if lower else '低于'}目标 {target}，按线性规则{e.got()}"
    floor, v = e.num("floor"), e.value()
    at_floor = floor is not None and v is not None and abs(v - floor) <= 1e-9 * max(abs(v), abs(floor)) + 1e-12
    side = "上限" if lower else "下限"
    where = f"等于{side}" if at_floor else ("高于" if lower else "低于") + side
    return f"{e.val()}，{where} {e.fv(floor)}{e.cls}，{e.got()}"


def _steps_sentence(e: _Ex) -> str:
    lower = e.direction == "lower"
    sym = "≤" if lower else "≥"
    try:
        bounds = [b for b, _p in step_table(e.params)]
    except (TypeError, ValueError, KeyError):
        bounds = []
    if e.case == "step":
        bound = e.x("bound")
        step = e.x("step")
        if step is not None and 0 <= step < len(bounds):
            bound = bounds[int(step)]
        return f"{e.val()}，达到 {sym}{e.fv(bound)} 档，{e.got()}"
    last = (max(bounds) if lower else min(bounds)) if bounds else None
    return f"{e.val()}，未达到最低一档 {sym}{e.fv(last)}，{e.got()}"


def _deduction(e: _Ex) -> str:
    cu = e.count_unit("处")
    if e.case == "none":
        return f"未发现，不扣分，{e.full()}"
    deducted = e.x("deducted")
    if deducted is None:
        deducted = e.points - e.score
    per = f"每{cu}扣 {fmt_number(e.num('per'))} 分"
    if e.case == "capped":
        return f"发现 {e.count()} {cu}，{per}，扣满 {fmt_score(deducted)} 分为止，{e.got()}"
    return f"发现 {e.count()} {cu}，{per}，扣 {fmt_score(deducted)} 分，{e.got()}"


def _proportional(e: _Ex) -> str:
    full_at = e.num("full_at", 100.0)
    note = "" if (e.unit == "%" and full_at == 100) else f"（{e.fv(full_at)}为全部完成）"
    if e.case == "full":
        return f"{e.val()}{note}，已全部完成，{e.full()}"
    unfinished, deducted = e.x("unfinished"), e.x("deducted")
    if unfinished is None:
        v = e.value() or 0.0
        unfinished = max(0.0, min(1.0, 1 - v / full_at)) * 100 if full_at else 100.0
    if deducted is None:
        deducted = e.points - e.score
    if e.case == "zero":
        return f"{e.val()}{note}，未完成 {fmt_number(unfinished)}%，{e.got()}"
    return f"{e.val()}{note}，未完成 {fmt_number(unfinished)}%，按未完成比例扣 {fmt_score(deducted)} 分，{e.got()}"


def _bonus(e: _Ex) -> str:
    cu = e.count_unit("项")
    head = f"{e.count()} {cu}"
    if e.case == "none":
        return f"{head}，不加分"
    cap = e.num("cap", e.points)
    per = f"每{cu}加 {fmt_number(e.num('per'))} 分"
    if e.case == "capped":
        return f"{head}，{per}，加满上限 {fmt_score(cap)} 分"
    limit = "" if e.zeroed_by else f"（加分上限 {fmt_score(cap)} 分）"
    return f"{head}，{per}，加 {fmt_score(e.score)} 分{limit}"


def _veto(e: _Ex) -> str:
    cu = e.count_unit("起")
    limit = e.num("limit", 0.0) or 0.0
    if e.case == "vetoed":
        over = f"超过 {fmt_number(limit)} {cu}，" if limit else ""
        return f"发生 {e.count()} {cu}，{over}一票否决，评定为不合格"
    count = _f(e.inputs.get("count"))
    if not count:
        return "未发生，不触发一票否决"
    return f"发生 {e.count()} {cu}，未超过 {fmt_number(limit)} {cu}，不触发一票否决"


def _satisfaction(e: _Ex) -> str:
    try:
        options = option_table(e.params)
    except (TypeError, ValueError, KeyError):
        options = []
    responses = e.x("responses")
    if responses is None and options:
        responses = sum(_f(e.inputs.get(label)) or 0.0 for label, _w in options)
    if e.case == "no_responses":
        return f"有效问卷 0 份，无法计算满意度，{e.got()}"
    if e.case == "too_few":
        minimum = fmt_number(e.num("min_responses", 0.0))
        return f"有效问卷 {fmt_number(responses)} 份，少于最低要求 {minimum} 份，{e.got()}"
    if options:
        index = e.x("index")
        if index is None and responses:
            index = sum((_f(e.inputs.get(label)) or 0.0) * w for label, w in options) / responses
        head = f"有效问卷 {fmt_number(responses)} 份，满意度指数 {fmt_number(index)}"
        unit = ""
    else:
        head, unit = e.val(), None
    if e.params.get("floor") is not None and e.params.get("target") is not None:
        span = f"{e.fv(e.params['floor'], unit)}–{e.fv(e.params['target'], unit)}{e.cls}"
        return f"{head}，按 {span} 线性计分，{e.got()}"
    return f"{head}，按满意度折算{e.got()}"


def _composite(e: _Ex) -> str:
    try:
        years = year_table(e.params)
    except (TypeError, ValueError, KeyError):
        years = []
    parts = []
    weighted = 0.0
    for label, w in years:
        s = _f(e.inputs.get(label))
        parts.append(f"{label} 未提供" if s is None else f"{label} {fmt_score(s)} 分")
        weighted += w * (s or 0.0)
    if e.x("weighted") is not None:
        weighted = e.x("weighted")
    scale = e.num("scale", 100.0)
    gap = "，缺少的年份计 0 分" if e.case == "partial_missing" else ""
    weights = "、".join(f"{fmt_number(w * 100)}%" for _l, w in years)
    head = f"{'、'.join(parts)}{gap}，按 {weights} 加权"
    if scale == e.points:
        return f"{head}，{e.got()}"
    return f"{head}为 {fmt_score(weighted)} 分（满分 {fmt_score(scale)} 分），折合{e.got()}"


_BY_RULE = {
    "threshold": _threshold,
    "linear": _linear,
    "steps": _steps_sentence,
    "deduction": _deduction,
    "proportional": _proportional,
    "bonus": _bonus,
    "veto": _veto,
    "prerequisite": _prerequisite,
    "satisfaction": _satisfaction,
    "composite": _composite,
}


def sentence(ex: dict) -> str:
    """The Chinese sentence for one subject × one indicator (see the module docstring for the conventions)."""
    e = _Ex(ex)
    if e.formula and e.formula.get("zero_denominator"):
        label = e.formula.get("denominator_label")
        body = (f"分母“{label}”为 0" if label else "分母为 0") + f"，无法计算，{_missing_tail(e)}"
    elif e.case == "missing":
        body = f"未提供数值，{_missing_tail(e)}"
    elif e.rule in _BY_RULE:
        body = _BY_RULE[e.rule](e)
    else:
        body = f"{e.val()}，{e.got()}"
    text = f"{e.name} {body}"
    if e.zeroed_by:
        text += f"；因关键项“{e.zeroed_by}”未达标，本项所在大项计 0 分"
    return text
