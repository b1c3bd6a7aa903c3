"""Scoring rules of the assessment room: one small vectorised function per rule type, and their registry.

A framework leaf names a rule (``rule: {type: linear, floor: 30, target: 35}``); ``framework.py`` validates the
parameters against ``RULES[code].params`` and ``RULES[code].check``, and ``engine.py`` calls
``RULES[code].fn(inputs, params, points, direction)`` once per indicator for all subjects at once:

- ``inputs``: ``{input_code: float64 (S,)}``, NaN = missing (inf and negative counts count as missing too — a
  count of problems below zero, or an infinite value, is not a value anyone measured);
- numeric params: a float, or an (S,) float64 array when class-dependent (already resolved per subject and already
  converted to the indicator's unit); a NaN in such an array (a subject without a class) scores like a missing value;
- ``direction``: ``"higher"`` | ``"lower"`` | ``"band"``.

Every function returns a ``RuleOutput`` whose score is finite and within [0, points] — never NaN or inf, whatever the
input (errors are ignored inside ``np.errstate`` and every output is sanitised once more in ``_guarded``).

Tolerance: a value equal to a threshold within a relative tolerance of 1e-9 (``REL_TOL``; plus an absolute 1e-12,
``ABS_TOL``, so that a threshold of 0 also absorbs float noise) counts as *equal*: ``>=`` and ``<=`` are met, ``>`` and
``<`` are not. So 35 − 1e-12 meets "≥35" (the data was 35, the noise came from a unit conversion) and 35 + 1e-12
does not meet ">35".

Rule types: threshold 达标得分, linear 线性得分, steps 分档得分, deduction 扣分（扣完为止）,
proportional 按完成比例得分, bonus 加分, veto 一票否决 (flags the subject; awards no points),
prerequisite 前置条件 (flags the subject when not met), satisfaction 满意度（问卷）, composite 多年综合.
A ratio (numerator ÷ denominator) is not a rule but a node formula; its pure helper ``ratio`` lives here.
``describe`` gives the short Chinese description of a rule for a framework page.

Case names are in ``CASES``; index 0 is always "missing". The veto rule has ("missing", "clear", "vetoed"): what a
missing count means (params ``missing: clear | veto``) shows in the flag and in ``extra["missing_policy"]``
(1.0 = veto, 0.0 = clear), and the sentence reads it from the params.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

import numpy as np

REL_TOL = 1e-9
ABS_TOL = 1e-12
OPS = (">=", ">", "<=", "<")
OP_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
DIRECTIONS = ("higher", "lower", "band")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "number" | "count" | "op" | "steps" | "options" | "years" | "choice" | "bool"
    required: bool = True
    default: Any = None
    help: str = ""  # Chinese
    choices: tuple[str, ...] = ()
    by_class: bool = False  # may depend on the subject's class (engine resolves to a per-subject array)


@dataclass
class RuleOutput:
    score: np.ndarray  # float64 (S,), finite, in [0, points]
    case: np.ndarray  # int8 (S,), index into CASES[rule code]
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # per-subject figures the sentence needs
    flag: np.ndarray | None = None  # bool (S,): veto triggered / prerequisite failed (only those rules)


@dataclass(frozen=True)
class RuleType:
    code: str
    name: str
    fn: Callable[..., RuleOutput]
    params: tuple[Param, ...]
    inputs: Callable[[dict], tuple[tuple[str, str], ...]]  # params → ((input_code, Chinese label), ...)
    awards_points: bool = True  # False for veto, prerequisite (node points must be 0/absent)
    bonus: bool = False  # True for bonus: points on top of the parent's total (excluded from the sum check)
    check: Callable[[dict, str], list[str]] | None = None  # extra validation: (params, direction) → Chinese reasons


CASES: dict[str, tuple[str, ...]] = {
    "threshold": ("missing", "met", "not_met"),
    "linear": ("missing", "full", "partial", "zero"),
    "steps": ("missing", "step", "none"),
    "deduction": ("missing", "none", "deducted", "capped"),
    "proportional": ("missing", "full", "partial", "zero"),
    "bonus": ("missing", "none", "added", "capped"),
    "veto": ("missing", "clear", "vetoed"),
    "prerequisite": ("missing", "met", "not_met"),
    "satisfaction": ("missing", "scored", "no_responses", "too_few"),
    "composite": ("missing", "scored", "partial_missing"),
}


# ---------------------------------------------------------------- number formatting (shared with explain.py)


_WIDE = Context(prec=400)  # quantize must not overflow on 1e300; passed explicitly (no context switch per call)
_PLACES = {2: Decimal("0.01"), 4: Decimal("0.0001")}


@functools.lru_cache(maxsize=65536)  # scores and thresholds repeat a lot across subjects
def round_text(x: float | int | Decimal, places: int) -> str:
    """``x`` rounded ROUND_HALF_UP on its shortest repr to ``places`` decimals, trailing zeros stripped,
    never scientific, -0 → 0; "—" for a non-finite number."""
    if isinstance(x, Decimal):
        if not x.is_finite():
            return "—"
    else:
        f = float(x)
        if not math.isfinite(f):
            return "—"
        x = Decimal(repr(f))
    q = x.quantize(_PLACES[places], rounding=ROUND_HALF_UP, context=_WIDE)
    if not q:
        return "0"
    text = format(q, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_number(x: float | int | Decimal | None) -> str:
    """Up to 4 decimals (ROUND_HALF_UP on the shortest repr), trailing zeros stripped, never scientific, -0 → 0."""
    return "—" if x is None else round_text(x, 4)


def fmt_value(x: float | int | Decimal | None, unit: str | None) -> str:
    """A number with its unit: units glue to the number (35%, 8平方米/人, 0.7吨标煤/万元) except 分 (points), which is
    written like a score with a space (82 分), as in 得 6.2 分."""
    text = fmt_number(x)
    unit = (unit or "").strip()
    if not unit or unit == "无":
        return text
    if unit == "分":
        return f"{text} 分"
    return text + unit


# ---------------------------------------------------------------- array helpers


def _size(inputs: Mapping[str, Any], params: Mapping[str, Any]) -> int:
    for arr in inputs.values():
        a = np.asarray(arr)
        if a.ndim:
            return int(a.shape[0])
    for val in params.values():
        if isinstance(val, np.ndarray) and val.ndim:
            return int(val.shape[0])
    return 0


def _arr(x: Any, n: int) -> np.ndarray:
    """A float64 (n,) copy of a scalar or array; None → NaN."""
    if x is None:
        return np.full(n, np.nan)
    return np.array(np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)), dtype=np.float64)


def _input(inputs: Mapping[str, Any], code: str, n: int, count: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(value with bad entries set to 0, bad mask). Bad = NaN, ±inf, or a negative count."""
    v = _arr(inputs.get(code), n)
    bad = ~np.isfinite(v)
    if count:
        bad |= v < 0
    return np.where(bad, 0.0, v), bad


def _param(params: Mapping[str, Any], name: str, n: int, default: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """(param as (n,) with NaN/inf set to 0, bad mask). A missing param without default raises."""
    value = params.get(name)
    if value is None:
        value = default
    if value is None:
        raise ValueError(f"缺少参数 {name}")
    p = _arr(value, n)
    bad = ~np.isfinite(p)
    return np.where(bad, 0.0, p), bad


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal within REL_TOL relative (+ ABS_TOL absolute); an overflowed inf is never "close" to a finite number."""
    near = np.abs(a - b) <= REL_TOL * np.maximum(np.abs(a), np.abs(b)) + ABS_TOL
    return (a == b) | (near & np.isfinite(a) & np.isfinite(b))


def _compare(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    eq = _close(a, b)
    if op == ">=":
        return (a >= b) | eq
    if op == ">":
        return (a > b) & ~eq
    if op == "<=":
        return (a <= b) | eq
    if op == "<":
        return (a < b) & ~eq
    raise ValueError(f"未知比较符“{op}”")


def default_op(direction: str) -> str:
    return "<=" if direction == "lower" else ">="


def _linear(v: np.ndarray, zero_at: np.ndarray, full_at: np.ndarray, direction: str) -> np.ndarray:
    """Fraction in [0, 1]: 0 at zero_at, 1 at full_at, straight line between; snapped at both ends by the tolerance.
    The same formula serves higher (zero_at < full_at) and lower (zero_at > full_at)."""
    den = full_at - zero_at
    r = (v - zero_at) / np.where(den == 0, 1.0, den)
    r = np.nan_to_num(r, nan=0.0, posinf=1.0, neginf=0.0)
    # degenerate class params (floor == target): all or nothing
    r = np.where(den == 0, np.where(_compare(default_op(direction), v, full_at), 1.0, 0.0), r)
    r = np.clip(r, 0.0, 1.0)
    r = np.where(_close(v, zero_at), 0.0, r)
    return np.where(_close(v, full_at), 1.0, r)


def _points(points: float) -> float:
    p = float(points) if points is not None else 0.0
    return p if math.isfinite(p) and p > 0 else 0.0


def _guarded(fn: Callable[..., RuleOutput]) -> Callable[..., RuleOutput]:
    """Run a rule with float errors silenced and sanitise its output: finite score in [0, points], int8 case."""

    @functools.wraps(fn)
    def wrapper(inputs: dict[str, np.ndarray], params: dict[str, Any], points: float, direction: str) -> RuleOutput:
        pts = _points(points)
        with np.errstate(all="ignore"):
            out = fn(inputs, params or {}, pts, direction)
        big = np.finfo(np.float64).max
        out.score = np.clip(np.nan_to_num(np.asarray(out.score, dtype=np.float64), nan=0.0, posinf=pts), 0.0, pts)
        out.case = np.asarray(out.case, dtype=np.int8)
        out.extra = {
            k: np.nan_to_num(np.asarray(v, dtype=np.float64), nan=0.0, posinf=big, neginf=-big)
            for k, v in out.extra.items()
        }
        if out.flag is not None:
            out.flag = np.asarray(out.flag, dtype=bool)
        return out

    return wrapper


def _cases(n: int, missing: np.ndarray, *rest: tuple[np.ndarray, int]) -> np.ndarray:
    """Case index array: the first matching (mask, index) wins; missing (0) beats everything."""
    case = np.zeros(n, dtype=np.int8)
    done = missing.copy()
    for mask, index in rest:
        hit = mask & ~done
        case[hit] = index
        done |= hit
    return case


def _meets(v: np.ndarray, params: Mapping[str, Any], direction: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(met, bad param mask) for threshold-like rules: target with op, or [low, high] inclusive for band."""
    if direction == "band":
        low, bad_low = _param(params, "low", n)
        high, bad_high = _param(params, "high", n)
        return _compare(">=", v, low) & _compare("<=", v, high), bad_low | bad_high
    target, bad = _param(params, "target", n)
    op = params.get("op") or default_op(direction)
    return _compare(op, v, target), bad


# ---------------------------------------------------------------- rule functions


@_guarded
def threshold(inputs: dict, params: dict, points: float, direction: str) -> RuleOutput:
    """达标得分: points when met, else ``partial`` (default 0)."""
    n = _size(inputs, params)
    v, bad = _input(inputs, "value", n)
    met, bad_p = _meets(v, params, direction, n)
    partial, bad_partial = _param(params, "partial", n, 0.0)
    missing = bad | bad_p | bad_partial
    score = np.where(missing, 0.0, np.where(met, points, np.clip(partial, 0.0, points)))
    return RuleOutput(score, _cases(n, missing, (met, 1), (~met, 2)))


@_guarded
def linear(inputs: dict, params: dict, points: float, direction: str) -> RuleOutput:
    """线性得分: 0 at floor, full at target; for band full inside [low, high], 0 at low − margin / high + margin."""
    n = _size(inputs, params)
    v, bad = _input(inputs, "value", n)
    extra: dict[str, np.ndarray] = {}
    if direction == "band":
        low, b1 = _param(params, "low", n)
        high, b2 = _param(params, "high", n)
        margin, b3 = _param(params, "margin", n)
        bad_p = b1 | b2 | b3
        below = _compare("<", v, low)
        above = _compare(">", v, high)
        r_low = _linear(v, low - margin, low, "higher")
        r_high = _linear(v, high + margin, high, "lower")
        r = np.where(below, r_low, np.where(above, r_high, 1.0))
        extra["deviation"] = np.where(below, low - v, np.where(above, v - high, 0.0))
    else:
        floor, b1 = _param(params, "floor", n)
        target, b2 = _param(params, "target", n)
        bad_p = b1 | b2
        r = _linear(v, floor, target, direction)
    missing = bad | bad_p
    r = np.where(missing, 0.0, r)
    extra["ratio"] = r
    return RuleOutput(points * r, _cases(n, missing, (r >= 1.0, 1), (r <= 0.0, 3), (np.ones(n, bool), 2)), extra)


def step_table(params: Mapping[str, Any]) -> list[tuple[float, float]]:
    """Steps as [(bound, points), ...] in the listed order; accepts [bound, points] pairs or {bound, points} maps."""
    out = []
    for step in params.get("steps") or ():
        if isinstance(step, Mapping):
            out.append((float(step["bound"]), float(step["points"])))
        else:
            bound, pts = step
            out.append((float(bound), float(pts)))
    return out


@_guarded
def steps(inputs: dict, params: dict, points: float, direction: str) -> RuleOutput:
    """分档得分: higher — the first bound (descending) with v ≥ bound; lower — the first (ascending) with v ≤ bound."""
    n = _size(inputs, params)
    v, bad = _input(inputs, "value", n)
    table = step_table(params)
    lower = direction == "lower"
    order = sorted(range(len(table)), key=lambda i: table[i][0], reverse=not lower)
    matched = np.full(n, -1.0)
    bound = np.zeros(n)
    score = np.zeros(n)
    for i in order:  # loop over steps, not subjects
        b, p = table[i]
        hit = (matched < 0) & _compare("<=" if lower else ">=", v, np.full(n, b))
        matched[hit] = i
        bound[hit] = b
        score[hit] = p
    otherwise, bad_else = _param(params, "else", n, 0.0)
    none = matched < 0
    missing = bad | bad_else
    score = np.where(missing, 0.0, np.where(none, otherwise, score))
    matched = np.where(missing, -1.0, matched)
    bound = np.where(missing, 0.0, bound)
    return RuleOutput(score, _cases(n, missing, (~none, 1), (none, 2)), {"step": matched, "bound": bound})


@_guarded
def deduction(inputs: dict, params: dict, points: float, direction: str) -> RuleOutput:
    """扣分（每处扣 X 分，扣完为止）: points − min(count·per, cap, points). "capped" only when count·per exceeds the
    cap (reaching it exactly is still "deducted")."""
    n = _size(inputs, params)
    c, bad = _input(inputs, "count", n, count=True)
    per, b1 = _param(params, "per", n)
    cap, b2 = _param(params, "cap", n, points)
    limit = np.clip(cap, 0.0, points)
    raw = c * np.maximum(per, 0.0)
    deducted = np.minimum(raw, limit)
    missing = bad | b1 | b2
    deducted = np.where(missing, 0.0, deducted)
    none = _close(c, np.zeros(n))
    capped = _compare(">", raw, limit)
    case = _cases(n, missing, (none, 1), (capped, 3), (np.ones(n, bool), 2))
    score = np.where(missing, 0.0, points - deducted)
    return RuleOutput(score, case, {"deducted": deducted})


@_guarded
def proportional(inputs: dict, params: dict, points: float, direction: str) -> RuleOutput:
    """按完成比例得分（按未完成比例扣分）: points·clip(v/full_at, 0, 1)."""
    n = _size(inputs, params)
    v, bad = _input(inputs, "value", n)
    full_at, b1 = _param(params, "full_at", n, 100.0)
    ok = full_at > 0
    r = _linear(v, np.zeros(n), np.where(ok, full_at, 1.0), "higher")
    missing = bad | b1 | ~ok
    r = np.where(missing, 0.0, r)
    score = points * r
    extra = {
        "unfinished": np.where(missing, 0.0, (1.0 - r) * 100.0),  # share unfinished, in %
        "deducted": np.where(missing, 0.0, points - score),
    }
    return RuleOutput(score, _cases(n, missing, (r >= 1.0, 1), (r <= 0.0, 3), (np.ones(n, bool), 2)), extra)


@_guarded
def bonus(inputs: dict, params: dict, points: float, direction: str) -> RuleOutput:
    """加分（上限）: min(count·per, cap); "capped" only when count·per exceeds the cap."""
    n = _size(inputs, params)
    c, bad = _input(inputs, "count", n, count=True)
    per, b1 = _param(params, "per", n)
    cap, b2 = _param(params, "cap", n)
    limit = np.clip(cap, 0.0, points)
    raw = c * np.maximum(per, 0.0)
    missing = bad | b1 | b2
    added = np.where(missing, 0.0, np.minimum(raw, limit))
    none = _close(c, np.zeros(n))
    case = _cases(n, missing, (none, 1), (_compare(">", raw, limit), 3), (np.ones(n, bool), 2))
    return RuleOutput(added, case, {"added": added})


@_guarded
def veto(inputs: dict, params: dict, points: float, direction: str) -> RuleOutput:
    """一票否决: flag when count > limit (default 0); a missing count is clear or vetoed by ``missing``."""
    n = _size(inputs, params)
    c, bad = _input(inputs, "count", n, count=True)
    limit, b1 = _param(params, "limit", n, 0.0)
    policy_veto = (params.get("missing") or "clear") == "veto"
    missing = bad | b1
    triggered = _compare(">", c, limit)
    flag = np.where(missing, policy_veto, triggered)
    case = _cases(n, missing, (triggered, 2), (np.ones(n, bool), 1))
    extra = {"missing_policy": np.full(n, 1.0 if policy_veto else 0.0)}
    return RuleOutput(np.zeros(n), case, extra, flag)


@_guarded
def prerequisite(inputs: dict, params: dict, points: float, direction: str) -> RuleOutput:
    """前置条件: flag when not met; a missing value counts as not met."""
    n = _size(inputs, params)
    v, bad = _input(inputs, "value", n)
    met, bad_p = _meets(v, params, direction, n)
    missing = bad | bad_p
    met = met & ~missing
    return RuleOutput(np.zeros(n), _cases(n, missing, (met, 1), (~met, 2)), {}, ~met)


def option_table(params: Mapping[str, Any]) -> list[tuple[str, float]]:
    """Options as [(label, score 0–100), ...]: a mapping, [label, score] pairs or {label, score} maps."""
    raw = params.get("options")
    if not raw:
        return []
    if isinstance(raw, Mapping):
        return [(str(k), float(v)) for k, v in raw.items()]
    out = []
    for item in raw:
        if isinstance(item, Mapping):
            out.append((str(item["label"]), float(item["score"])))
        else:
            label, score = item
            out.append((str(label), float(score)))
    return out


@_guarded
def satisfaction(inputs: dict, params: dict, points: float, direction: str) -> RuleOutput:
    """满意度（问卷）: index 0–100 (the value itself, or Σ n·w / Σ n over the options); points·index/100, or linear
    on the index between floor and target when both are given."""
    n = _size(inputs, params)
    options = option_table(params)
    if options:
        counts = []
        bad = np.zeros(n, dtype=bool)
        for label, _w in options:  # loop over options, not subjects
            c, b = _input(inputs, label, n, count=True)
            counts.append(c)
            bad |= b
        counts_2d = np.vstack(counts)
        weights = np.array([w for _l, w in options])[:, None]
        # scale by the largest count first so that huge counts cannot overflow Σ n·w
        top = counts_2d.max(axis=0)
        shares = counts_2d / np.where(top > 0, top, 1.0)
        total_share = shares.sum(axis=0)
        index = np.where(total_share > 0, (shares * weights).sum(axis=0) / np.where(total_share > 0, total_share, 1), 0)
        responses = np.minimum(counts_2d.sum(axis=0), np.finfo(np.float64).max)
        no_responses = ~(top > 0)
        min_responses, b1 = _param(params, "min_responses", n, 0.0)
        too_few = _compare("<", responses, min_responses)
        bad |= b1
    else:
        index, bad = _input(inputs, "value", n)
        responses = np.zeros(n)
        no_responses = too_few = np.zeros(n, dtype=bool)
    index = np.clip(index, 0.0, 100.0)
    if params.get("floor") is not None and params.get("target") is not None:
        floor, b2 = _param(params, "floor", n)
        target, b3 = _param(params, "target", n)
        bad |= b2 | b3
        r = _linear(index, floor, target, "higher")
    else:
        r = index / 100.0
    missing = bad
    unscored = missing | no_responses | too_few
    score = np.where(unscored, 0.0, points * r)
    case = _cases(n, missing, (no_responses, 2), (too_few, 3), (np.ones(n, bool), 1))
    extra = {"index": np.where(missing | no_responses, 0.0, index), "responses": np.where(missing, 0.0, responses)}
    return RuleOutput(score, case, extra)


def year_table(params: Mapping[str, Any]) -> list[tuple[str, float]]:
    """Years as [(label, weight), ...]: {label, weight} maps or [label, weight] pairs."""
    out = []
    for item in params.get("years") or ():
        if isinstance(item, Mapping):
            out.append((str(item["label"]), float(item["weight"])))
        else:
            label, weight = item
            out.append((str(label), float(weight)))
    return out


@_guarded
def composite(inputs: dict, params: dict, points: float, direction: str) -> RuleOutput:
    """多年综合（如 15%/25%/60%）: points·Σ w·s/scale; a missing year counts 0. Each yearly score is clipped to
    [0, scale] first, so one out-of-range year cannot make up for another."""
    n = _size(inputs, params)
    scale, b1 = _param(params, "scale", n, 100.0)
    ok_scale = scale > 0
    weighted = np.zeros(n)
    missing_years = np.zeros(n)
    years = year_table(params)
    for label, w in years:  # loop over years, not subjects
        s, bad = _input(inputs, label, n)
        weighted += w * np.clip(s, 0.0, np.where(ok_scale, scale, 0.0))
        missing_years += bad
    all_missing = (missing_years >= len(years)) | b1 | ~ok_scale
    weighted = np.where(all_missing, 0.0, weighted)
    score = np.where(all_missing, 0.0, points * weighted / np.where(ok_scale, scale, 1.0))
    case = _cases(n, all_missing, (missing_years > 0, 2), (np.ones(n, bool), 1))
    return RuleOutput(score, case, {"weighted": weighted, "missing_years": missing_years})


def ratio(numerator: np.ndarray, denominator: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A node formula's value numerator ÷ denominator × scale, and the zero-denominator mask.

    value: NaN (= missing for the rule) where either input is missing (NaN/inf) or the quotient overflows; 0 where
    the denominator is 0 (the mask says so; the engine then explains "分母为 0"). The mask is set wherever the
    denominator is exactly 0, even if the numerator is missing."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    zero = den == 0
    missing = ~np.isfinite(num) | ~np.isfinite(den)
    with np.errstate(all="ignore"):
        value = num / np.where(zero, 1.0, den) * float(scale)
    value = np.where(zero, 0.0, value)
    value = np.where(missing | ~np.isfinite(value), np.nan, value)
    return value, zero


# ---------------------------------------------------------------- parameter checks (framework validation)


def _numbers(value: Any) -> dict[Any, float] | None:
    """Comparable numbers of a param as written: {None: x} for a number, {key: x} for a class table
    ``{by, values, default}`` (default under None), {i: x} for an array; None when not comparable
    ("NUMBER UNIT" strings are converted by the framework later, so they are skipped here)."""
    if value is None or isinstance(value, bool | str):
        return None
    if isinstance(value, int | float | Decimal | np.floating | np.integer):
        return {None: float(value)}
    if isinstance(value, np.ndarray):
        return {i: float(x) for i, x in enumerate(value.ravel())}
    if isinstance(value, Mapping):
        out = {}
        for key, x in (value.get("values") or {}).items():
            nums = _numbers(x)
            if nums and None in nums:
                out[key] = nums[None]
        if value.get("default") is not None:
            nums = _numbers(value["default"])
            if nums and None in nums:
                out[None] = nums[None]
        return out or None
    return None


def _pairs(a: dict | None, b: dict | None) -> list[tuple[float, float]]:
    if not a or not b:
        return []
    if set(a) == {None}:
        return [(a[None], y) for y in b.values()]
    if set(b) == {None}:
        return [(x, b[None]) for x in a.values()]
    return [(a[k], b[k]) for k in a.keys() & b.keys()]


def _order(params: dict, small: str, big: str, reason: str, strict: bool = True) -> list[str]:
    pairs = _pairs(_numbers(params.get(small)), _numbers(params.get(big)))
    if any((x >= y) if strict else (x > y) for x, y in pairs):
        return [reason]
    return []


def _positive(params: dict, name: str, label: str, allow_zero: bool = False) -> list[str]:
    nums = _numbers(params.get(name))
    if nums and any((x < 0) if allow_zero else (x <= 0) for x in nums.values()):
        return [f"{name}（{label}）应{'不小于' if allow_zero else '大于'} 0"]
    return []


def _given(params: dict, name: str) -> bool:
    return params.get(name) is not None


def _need(params: dict, names: tuple[str, ...], why: str) -> list[str]:
    return [f"缺少参数 {name}（{why}）" for name in names if not _given(params, name)]


def _unused(params: dict, names: tuple[str, ...], why: str) -> list[str]:
    return [f"参数 {name} 不适用（{why}）" for name in names if _given(params, name)]


def _check_target_op(params: dict, direction: str, rule_name: str) -> list[str]:
    reasons: list[str] = []
    if direction == "band":
        reasons += _need(params, ("low", "high"), "区间方向需要 low 和 high")
        reasons += _unused(params, ("target", "op"), "区间方向使用 low/high")
        reasons += _order(params, "low", "high", "low 不应大于 high", strict=False)
        return reasons
    reasons += _need(params, ("target",), f"{rule_name}需要目标值")
    reasons += _unused(params, ("low", "high"), "low/high 只用于区间方向")
    op = params.get("op")
    if op in OPS and direction in ("higher", "lower") and (op.startswith(">") != (direction == "higher")):
        side = "越高越好" if direction == "higher" else "越低越好"
        reasons.append(f"比较符 {op} 与指标方向（{side}）不一致")
    return reasons


def _check_threshold(params: dict, direction: str) -> list[str]:
    return _check_target_op(params, direction, "达标得分") + _positive(params, "partial", "未达标得分", allow_zero=True)


def _check_prerequisite(params: dict, direction: str) -> list[str]:
    return _check_target_op(params, direction, "前置条件")


def _check_linear(params: dict, direction: str) -> list[str]:
    if direction == "band":
        reasons = _need(params, ("low", "high", "margin"), "区间方向需要 low、high 和 margin")
        reasons += _unused(params, ("floor", "target"), "区间方向使用 low/high/margin")
        reasons += _order(params, "low", "high", "low 不应大于 high", strict=False)
        return reasons + _positive(params, "margin", "区间外的计分宽度")
    reasons = _need(params, ("floor", "target"), "线性得分需要 floor 和 target")
    reasons += _unused(params, ("low", "high", "margin"), "low/high/margin 只用于区间方向")
    if direction == "lower":
        return reasons + _order(params, "target", "floor", "越低越好时 floor（0 分值）应大于 target（满分值）")
    return reasons + _order(params, "floor", "target", "越高越好时 floor（0 分值）应小于 target（满分值）")


def _check_steps(params: dict, direction: str) -> list[str]:
    if direction == "band":
        return ["分档得分不支持区间方向（band）"]
    try:
        table = step_table(params)
    except (TypeError, ValueError, KeyError):
        return ["steps 应为 [分档值, 得分] 的列表"]
    if not table:
        return ["steps 至少需要一档"]
    reasons: list[str] = []
    bounds = [b for b, _p in table]
    pts = [p for _b, p in table]
    if len(set(bounds)) != len(bounds):
        reasons.append("steps 的分档值不应重复")
    elif direction == "lower" and bounds != sorted(bounds):
        reasons.append("越低越好时 steps 应按分档值从小到大排列")
    elif direction != "lower" and bounds != sorted(bounds, reverse=True):
        reasons.append("越高越好时 steps 应按分档值从大到小排列")
    if any(p < 0 for p in pts):
        reasons.append("steps 的得分不应为负")
    if any(a < b for a, b in zip(pts, pts[1:], strict=False)):
        reasons.append("steps 中更优的档得分不应低于较差的档")
    otherwise = _numbers(params.get("else"))
    if otherwise and any(x < 0 or x > min(pts) for x in otherwise.values()):
        reasons.append("else（未达任何档的得分）应在 0 与最低一档的得分之间")
    return reasons


def _check_deduction(params: dict, direction: str) -> list[str]:
    return _positive(params, "per", "每处扣分") + _positive(params, "cap", "扣分上限")


def _check_proportional(params: dict, direction: str) -> list[str]:
    reasons = _positive(params, "full_at", "全部完成的值")
    if direction != "higher":
        reasons.append("按完成比例得分只用于越高越好的指标")
    return reasons


def _check_bonus(params: dict, direction: str) -> list[str]:
    return _positive(params, "per", "每项加分") + _positive(params, "cap", "加分上限")


def _check_veto(params: dict, direction: str) -> list[str]:
    return _positive(params, "limit", "允许的数量", allow_zero=True)


def _check_satisfaction(params: dict, direction: str) -> list[str]:
    reasons: list[str] = []
    try:
        options = option_table(params)
    except (TypeError, ValueError, KeyError):
        return ["options 应为“选项: 分值”的对照表"]
    labels = [label for label, _w in options]
    if any(not label.strip() for label in labels):
        reasons.append("options 的选项名不应为空")
    if len(set(labels)) != len(labels):
        reasons.append("options 的选项名不应重复")
    if any(not 0 <= w <= 100 for _l, w in options):
        reasons.append("options 的分值应在 0 到 100 之间")
    if _given(params, "floor") != _given(params, "target"):
        reasons.append("floor 和 target 须同时给出（或都不给）")
    reasons += _order(params, "floor", "target", "floor（0 分的满意度）应小于 target（满分的满意度）")
    for name in ("floor", "target"):
        nums = _numbers(params.get(name))
        if nums and any(not 0 <= x <= 100 for x in nums.values()):
            reasons.append(f"{name} 应在 0 到 100 之间（满意度指数）")
    reasons += _positive(params, "min_responses", "最少有效问卷数", allow_zero=True)
    if not options and (_numbers(params.get("min_responses")) or {}).get(None, 0) > 0:
        reasons.append("min_responses 只在给出 options（按选项人数计算）时适用")
    return reasons


def _check_composite(params: dict, direction: str) -> list[str]:
    try:
        years = year_table(params)
    except (TypeError, ValueError, KeyError):
        return ["years 应为 {label, weight} 的列表"]
    if not years:
        return ["years 至少需要一年"]
    reasons: list[str] = []
    labels = [label for label, _w in years]
    if any(not label.strip() for label in labels):
        reasons.append("years 的 label 不应为空")
    if len(set(labels)) != len(labels):
        reasons.append("years 的 label 不应重复")
    weights = [w for _l, w in years]
    if any(not w > 0 for w in weights):
        reasons.append("years 的权重应大于 0")
    elif not math.isclose(math.fsum(weights), 1.0, rel_tol=0, abs_tol=1e-9):
        reasons.append(f"years 的权重之和应为 1（现为 {fmt_number(math.fsum(weights))}）")
    return reasons + _positive(params, "scale", "各年得分的满分")


# ---------------------------------------------------------------- inputs


def _value_input(params: dict) -> tuple[tuple[str, str], ...]:
    return (("value", "数值"),)


def _count_input(label: str) -> Callable[[dict], tuple[tuple[str, str], ...]]:
    return lambda params: (("count", label),)


def _satisfaction_inputs(params: dict) -> tuple[tuple[str, str], ...]:
    try:
        options = option_table(params)
    except (TypeError, ValueError, KeyError):
        options = []
    if not options:
        return (("value", "满意度"),)
    return tuple((label, f"{label}人数") for label, _w in options)


def _composite_inputs(params: dict) -> tuple[tuple[str, str], ...]:
    try:
        years = year_table(params)
    except (TypeError, ValueError, KeyError):
        years = []
    return tuple((label, f"{label}得分") for label, _w in years)


# ---------------------------------------------------------------- registry

_OP = Param("op", "op", False, None, "比较符：>= > <= <；默认越高越好取 >=，越低越好取 <=", OPS)
_LOW = Param("low", "number", False, None, "区间下限（含），区间方向时必填", by_class=True)
_HIGH = Param("high", "number", False, None, "区间上限（含），区间方向时必填", by_class=True)

RULES: dict[str, RuleType] = {
    rule.code: rule
    for rule in (
        RuleType(
            "threshold",
            "达标得分",
            threshold,
            (
                Param("target", "number", False, None, "目标值（区间方向时不用）", by_class=True),
                _OP,
                _LOW,
                _HIGH,
                Param("partial", "number", False, 0, "未达标时的得分，默认 0"),
            ),
            _value_input,
            check=_check_threshold,
        ),
        RuleType(
            "linear",
            "线性得分",
            linear,
            (
                Param("floor", "number", False, None, "得 0 分的值（低于/高于它得 0 分，视方向）", by_class=True),
                Param("target", "number", False, None, "得满分的值（达到或超过它得满分）", by_class=True),
                _LOW,
                _HIGH,
                Param("margin", "number", False, None, "区间方向：偏离区间达到该幅度得 0 分"),
            ),
            _value_input,
            check=_check_linear,
        ),
        RuleType(
            "steps",
            "分档得分",
            steps,
            (
                Param("steps", "steps", True, None, "分档：[分档值, 得分] 的列表，越高越好从大到小、越低越好从小到大"),
                Param("else", "number", False, 0, "未达到任何一档时的得分，默认 0"),
            ),
            _value_input,
            check=_check_steps,
        ),
        RuleType(
            "deduction",
            "扣分（每处扣 X 分，扣完为止）",
            deduction,
            (
                Param("per", "number", True, None, "每处扣分"),
                Param("cap", "number", False, None, "最多扣分，默认为本项满分"),
            ),
            _count_input("发现数量"),
            check=_check_deduction,
        ),
        RuleType(
            "proportional",
            "按完成比例得分（按未完成比例扣分）",
            proportional,
            (Param("full_at", "number", False, 100, "视为全部完成的值，默认 100"),),
            _value_input,
            check=_check_proportional,
        ),
        RuleType(
            "bonus",
            "加分（上限）",
            bonus,
            (
                Param("per", "number", True, None, "每项加分"),
                Param("cap", "number", True, None, "加分上限，须等于本项分值"),
            ),
            _count_input("加分项数量"),
            bonus=True,
            check=_check_bonus,
        ),
        RuleType(
            "veto",
            "一票否决",
            veto,
            (
                Param("limit", "number", False, 0, "允许的数量，超过即否决，默认 0"),
                Param("missing", "choice", False, "clear", "未提供数值时：clear 未发生，veto 否决", ("clear", "veto")),
            ),
            _count_input("发生数量"),
            awards_points=False,
            check=_check_veto,
        ),
        RuleType(
            "prerequisite",
            "前置条件",
            prerequisite,
            (Param("target", "number", False, None, "须达到的值（区间方向时不用）", by_class=True), _OP, _LOW, _HIGH),
            _value_input,
            awards_points=False,
            check=_check_prerequisite,
        ),
        RuleType(
            "satisfaction",
            "满意度（问卷）",
            satisfaction,
            (
                Param("options", "options", False, None, "选项与分值（0–100）的对照表；不给时直接填满意度（%）"),
                Param("floor", "number", False, None, "满意度为此值时得 0 分（与 target 同时给出）", by_class=True),
                Param("target", "number", False, None, "满意度达到此值时得满分（与 floor 同时给出）", by_class=True),
                Param("min_responses", "count", False, 0, "最少有效问卷数，少于则得 0 分，默认 0"),
            ),
            _satisfaction_inputs,
            check=_check_satisfaction,
        ),
        RuleType(
            "composite",
            "多年综合（如 15%/25%/60%）",
            composite,
            (
                Param("years", "years", True, None, "各年：{label, weight} 的列表，权重之和为 1"),
                Param("scale", "number", False, 100, "各年得分的满分，默认 100"),
            ),
            _composite_inputs,
            check=_check_composite,
        ),
    )
}


# ---------------------------------------------------------------- describe (framework pages)

_CLASS = "按对象类别取值"


def _pv(value: Any, unit: str, label: str) -> str:
    """A param as shown on a framework page: 35%, or “目标值（按对象类别取值）” for a class table."""
    if isinstance(value, Mapping | np.ndarray):
        return f"{label}（{_CLASS}）"
    if isinstance(value, str):
        return value.strip()
    return fmt_value(value, unit)


def _sp(text: str) -> str:
    """A space before the following word, except after a closing full-width bracket."""
    return text if text.endswith("）") else text + " "


def describe(rule: dict, unit: str, direction: str | None = None) -> str:
    """A short Chinese description of a rule with its params, e.g. "线性得分：30% 得 0 分，35% 及以上得满分".

    ``direction`` defaults to ``rule["direction"]``, else it is inferred (floor > target → lower), else higher."""
    code = rule.get("type", "")
    unit = unit or ""
    p = {k: v for k, v in rule.items() if k not in ("type", "direction")}
    direction = direction or rule.get("direction")
    if direction is None:
        direction = "band" if "low" in p or "margin" in p else "higher"
        f, t = _numbers(p.get("floor")), _numbers(p.get("target"))
        if code == "linear" and f and t and None in f and None in t and f[None] > t[None]:
            direction = "lower"
        if p.get("op") in ("<=", "<"):
            direction = "lower"
    rt = RULES.get(code)
    if rt is None:
        return f"{code}（未知规则）"
    count_unit = unit or {"deduction": "处", "veto": "起"}.get(code, "项")

    def req() -> str:
        if direction == "band":
            return f"{_pv(p.get('low'), unit, '下限')}–{_pv(p.get('high'), unit, '上限')}"
        op = p.get("op") or default_op(direction)
        return OP_SYMBOL.get(op, op) + _pv(p.get("target"), unit, "目标值")

    if code == "threshold":
        return f"{rt.name}：{_sp(req())}得满分，否则得 {fmt_number(p.get('partial') or 0)} 分"
    if code == "prerequisite":
        return f"{rt.name}：须达到 {req()}，否则不具备参评资格"
    if code == "linear":
        if direction == "band":
            low, high = _pv(p.get("low"), unit, "下限"), _pv(p.get("high"), unit, "上限")
            margin = _pv(p.get("margin"), unit, "宽度")
            return f"{rt.name}：{_sp(f'{low}–{high}')}得满分，偏离区间 {_sp(margin)}及以上得 0 分，其间按线性计分"
        more = "及以下" if direction == "lower" else "及以上"
        floor = _pv(p.get("floor"), unit, "上限值" if direction == "lower" else "下限值")
        target = _pv(p.get("target"), unit, "目标值")
        return f"{rt.name}：{_sp(floor)}得 0 分，{_sp(target)}{more}得满分"
    if code == "steps":
        try:
            table = step_table(p)
        except (TypeError, ValueError, KeyError):
            table = []
        sym = "≤" if direction == "lower" else "≥"
        parts = [f"{sym}{fmt_value(b, unit)} 得 {fmt_number(pts)} 分" for b, pts in table]
        return f"{rt.name}：" + "，".join([*parts, f"其余得 {fmt_number(p.get('else') or 0)} 分"])
    if code == "deduction":
        cap = f"最多扣 {fmt_number(p['cap'])} 分" if _numbers(p.get("cap")) else "扣完为止"
        return f"扣分：每{count_unit}扣 {fmt_number(p.get('per'))} 分，{cap}"
    if code == "proportional":
        full = p.get("full_at", 100)
        return f"{rt.name}：达到 {_sp(_pv(full, unit, '完成值'))}得满分，按未完成比例扣分"
    if code == "bonus":
        return f"加分：每{count_unit}加 {fmt_number(p.get('per'))} 分，最多加 {fmt_number(p.get('cap'))} 分"
    if code == "veto":
        limit = _numbers(p.get("limit")) or {None: 0.0}
        text = "发生即否决" if limit.get(None, 0) == 0 else f"超过 {fmt_number(limit[None])} {count_unit}即否决"
        if p.get("missing") == "veto":
            text += "；未提供数值视同否决"
        return f"{rt.name}：{text}"
    if code == "satisfaction":
        try:
            options = option_table(p)
        except (TypeError, ValueError, KeyError):
            options = []
        vunit = "" if options else unit  # the index of an options survey has no unit; a direct value is in %
        if options:
            basis = "、".join(f"{lb} {fmt_number(w)}" for lb, w in options) + " 加权计算满意度指数，"
        else:
            basis = ""
        if _given(p, "floor") and _given(p, "target"):
            floor, target = _pv(p["floor"], vunit, "下限值"), _pv(p["target"], vunit, "目标值")
            how = f"{'指数' if options else '满意度'} {_sp(floor)}得 0 分，{_sp(target)}及以上得满分"
        else:
            how = f"按{'指数' if options else '满意度'}折算得分"
        text = f"{rt.name}：{basis}{how}"
        mr = (_numbers(p.get("min_responses")) or {}).get(None, 0)
        if options and mr > 0:
            text += f"；有效问卷少于 {fmt_number(mr)} 份得 0 分"
        return text
    if code == "composite":
        try:
            years = year_table(p)
        except (TypeError, ValueError, KeyError):
            years = []
        return "多年综合：" + "、".join(f"{lb} {fmt_number(w * 100)}%" for lb, w in years) + " 加权"
    return rt.name
