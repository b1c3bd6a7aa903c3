"""Incentive funds (以奖代补资金): a pool of yuan shared among a round's subjects by their results.
Pure: Decimal and Fraction only, no Django.

Three methods (the award tiers by 等次 are data the caller gives, never constants here):

- ``tiers`` (按等次定额): each subject receives its grade's fixed amount (e.g. 优秀 1,000万,
  良好 700万); a grade without an amount receives nothing (未获奖补). The pool need not match:
  what is left over is a 结余 (remainder > 0) and what is missing a 缺口 (remainder < 0), and
  both are reported as their own line, never hidden.
- ``proportional`` (按得分比例): the eligible subjects — optionally only some grades
  (``eligible_grades``) or totals from ``min_total`` up — share the pool in proportion to their
  total score, each within an optional ``floor`` (保底) and ``cap`` (封顶). The exact shares are
  ``clamp(λ·score, floor, cap)`` with the one λ that makes them add up to the pool; λ is found
  exactly (see ``_lambda``). Floors adding up to more than the pool are refused; when even
  every subject at its cap does not use the pool, every subject gets its cap and the rest is an
  explicit 结余. A zero total score among all eligible subjects is refused rather than split
  equally: "in proportion to nothing" has no answer, and an equal split is the tiers method's
  job (give every grade the same amount).
- ``scaled_tiers`` (按等次定额等比例调整): the tier amounts scaled by pool ÷ Σ(tier amounts of the
  subjects), so the grades keep their ratios and the sum is exactly the pool.

Subjects vetoed (一票否决) or failing a prerequisite (前置条件) receive nothing under every method
unless the caller passes ``exclude_flagged=False``.

Rounding, and why it is our own code. A pool appropriated by the budget must be paid out to the
fen: rounding every share on its own (even half up) can leave the total up to n/2 fen off the
pool, and an office cannot pay 68,000,000.01 out of 68,000,000.00. So every exact share (a
Fraction — no float ever touches money) is cut down to the fen, and the fen still missing are
handed out one each to the largest cut-off remainders (the largest-remainder or Hamilton
method). Ties among equal remainders go to the higher total score first, then to the lower
subject code, so the result is the same on every run and the better-scoring subject gets the
odd fen. A floor and a cap are whole fen, so a share at its floor or cap has no remainder and
never receives a fen: rounding never takes a share below its floor or above its cap. Nothing on
PyPI does largest-remainder rounding to the fen under per-subject bounds, and this is the
product's core, so it is written and tested here. Where a single value is rounded for display
(a scale factor, the yuan written as 万元) it is rounded half up (四舍五入).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from chengzhen.problems import Problem, Refused

FEN = Decimal("0.01")
WAN = Decimal(10000)
YI = Decimal(100000000)
MAX_YUAN = Decimal(10) ** 14  # the amount columns keep 14 integer digits

TIERS = "tiers"
PROPORTIONAL = "proportional"
SCALED_TIERS = "scaled_tiers"
METHODS = {TIERS: "按等次定额", PROPORTIONAL: "按得分比例", SCALED_TIERS: "按等次定额等比例调整"}

SURPLUS = "结余"
SHORTFALL = "缺口"


@dataclass(frozen=True)
class Standing:
    """A subject's result in the round the fund rewards (考核结果): code, name, total, grade, rank."""

    code: str
    name: str
    total: Decimal
    grade: str = ""
    rank: int = 0
    vetoed: bool = False
    prerequisite_failed: bool = False


@dataclass(frozen=True)
class Share:
    """A subject's share of the pool (分配额, yuan to the fen) and the basis it was given on (分配依据)."""

    standing: Standing
    amount: Decimal
    basis: str


@dataclass(frozen=True)
class Allocation:
    """The shares of one pool; ``remainder`` = pool − allocated: a 结余 when ≥ 0, a 缺口 below."""

    method: str
    pool: Decimal
    shares: tuple[Share, ...]
    allocated: Decimal
    remainder: Decimal

    @property
    def remainder_label(self) -> str:
        return balance_label(self.remainder)


@dataclass(frozen=True)
class FundParams:
    """A method's parameters, checked: tier amounts by grade (yuan), floor and cap per subject
    (yuan), which subjects share proportionally, and whether flagged subjects are left out."""

    tiers: tuple[tuple[str, Decimal], ...] = ()
    floor: Decimal | None = None
    cap: Decimal | None = None
    eligible_grades: tuple[str, ...] = ()
    min_total: Decimal | None = None
    exclude_flagged: bool = True

    def to_json(self) -> dict[str, Any]:
        """The parameters as stored (amounts as text with two decimals, so JSON keeps them exact)."""
        out: dict[str, Any] = {}
        if self.tiers:
            out["tiers"] = {grade: str(amount) for grade, amount in self.tiers}
        for key in ("floor", "cap", "min_total"):
            if getattr(self, key) is not None:
                out[key] = str(getattr(self, key))
        if self.eligible_grades:
            out["eligible_grades"] = list(self.eligible_grades)
        out["exclude_flagged"] = self.exclude_flagged
        return out


def balance_label(remainder: Decimal) -> str:
    """结余 (left over, zero included) or 缺口 (missing)."""
    return SURPLUS if remainder >= 0 else SHORTFALL


def yuan_text(amount: Decimal) -> str:
    """Yuan as offices write them: 10,000,000.00."""
    return f"{Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP):,.2f}"


def to_wan(amount: Decimal) -> Decimal:
    """Yuan as 万元 (six decimals keep the fen exactly)."""
    return (Decimal(amount) / WAN).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def parse_yuan(value: Any, column: str, *, allow_zero: bool = True) -> Decimal:
    """An amount in yuan from a number or text: ``68000000``, ``68,000,000.00元``, ``6800万``,
    ``6800万元``, ``0.68亿``. Refused naming ``column``: not a number, negative, finer than the
    fen, too large (or zero, unless ``allow_zero``)."""
    if isinstance(value, bool):
        raise Refused([Problem(column=column, reason=f"{value!r} 不是金额")])
    text = value if isinstance(value, str) else (repr(value) if isinstance(value, float) else str(value))
    cleaned = text.strip().replace(",", "").replace("，", "").replace(" ", "")
    factor = Decimal(1)
    for suffix, f in (("亿元", YI), ("万元", WAN), ("亿", YI), ("万", WAN), ("元", Decimal(1))):
        if cleaned.endswith(suffix):
            cleaned, factor = cleaned[: -len(suffix)], f
            break
    try:
        amount = Decimal(cleaned) * factor
        if not amount.is_finite() or not cleaned:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise Refused([Problem(column=column, reason=f"{text!r} 不是金额（元，如 68000000 或 6800万）")]) from None
    if amount < 0:
        raise Refused([Problem(column=column, reason=f"金额 {text} 不能为负")])
    if not allow_zero and amount == 0:
        raise Refused([Problem(column=column, reason="金额须大于 0")])
    if amount != amount.quantize(FEN, rounding=ROUND_HALF_UP):
        raise Refused([Problem(column=column, reason=f"金额 {text} 精确到分（元的小数至多两位）")])
    if amount >= MAX_YUAN:
        raise Refused([Problem(column=column, reason=f"金额 {text} 过大")])
    return amount.quantize(FEN)


def _number(value: Any, column: str) -> Decimal:
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        number = Decimal(value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value))
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        raise Refused([Problem(column=column, reason=f"{value!r} 不是数值")]) from None
    return number


def parse_params(method: str, raw: Mapping[str, Any] | None, grades: Sequence[str]) -> FundParams:
    """Check a method's parameters against the round's grades (``grades``, best first). Every
    problem is named by its field: an unknown method or key, an unknown grade, a negative or
    non-numeric amount, a floor above the cap, a parameter the method does not use."""
    problems: list[Problem] = []
    if method not in METHODS:
        raise Refused([Problem(column="method", reason=f"分配方式 {method!r} 未知（可用：{'、'.join(METHODS)}）")])
    raw = dict(raw or {})
    known = {"tiers", "floor", "cap", "eligible_grades", "min_total", "exclude_flagged"}
    problems += [Problem(column=str(key), reason=f"未知的分配参数 {key!r}") for key in raw if key not in known]
    grade_list = "、".join(grades) or "无"

    def attempt(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Refused as exc:
            problems.extend(exc.problems)
            return None

    tiers: list[tuple[str, Decimal]] = []
    given = raw.get("tiers") or {}
    if not isinstance(given, Mapping):
        problems.append(Problem(column="tiers", reason="等次定额应为 等次 → 金额 的对应表"))
        given = {}
    for grade, amount in given.items():
        grade = str(grade).strip()
        if grade not in grades:
            problems.append(Problem(column=f"tiers.{grade}", reason=f"测评体系没有等次“{grade}”（可用：{grade_list}）"))
            continue
        if amount is None or (isinstance(amount, str) and not amount.strip()):
            continue
        parsed = attempt(parse_yuan, amount, f"tiers.{grade}")
        if parsed is not None:
            tiers.append((grade, parsed))
    tiers.sort(key=lambda t: grades.index(t[0]))
    floor = attempt(parse_yuan, raw["floor"], "floor") if raw.get("floor") not in (None, "") else None
    cap = attempt(parse_yuan, raw["cap"], "cap", allow_zero=False) if raw.get("cap") not in (None, "") else None
    min_total = attempt(_number, raw["min_total"], "min_total") if raw.get("min_total") not in (None, "") else None
    eligible = tuple(str(g).strip() for g in (raw.get("eligible_grades") or ()) if str(g).strip())
    problems += [Problem(column="eligible_grades", reason=f"测评体系没有等次“{g}”（可用：{grade_list}）")
                 for g in eligible if g not in grades]
    exclude = raw.get("exclude_flagged", True)
    if not isinstance(exclude, bool):
        problems.append(Problem(column="exclude_flagged", reason="应为 true 或 false"))
        exclude = True
    if method in (TIERS, SCALED_TIERS):
        if not tiers and not any(p.column.startswith("tiers") for p in problems):
            problems.append(Problem(column="tiers", reason="须给出至少一个等次的定额（如 优秀=10000000）"))
        unused = f"{METHODS[method]}不用此参数（保底、封顶、参与等次和最低分只用于按得分比例）"
        problems += [Problem(column=key, reason=unused)
                     for key in ("floor", "cap", "eligible_grades", "min_total") if raw.get(key) not in (None, "", [])]
    else:
        if any(v not in (None, "") for v in given.values()):
            problems.append(Problem(column="tiers", reason="按得分比例分配不用等次定额"))
        if floor is not None and cap is not None and floor > cap:
            problems.append(Problem(column="floor", reason=f"保底 {yuan_text(floor)} 元高于封顶 {yuan_text(cap)} 元"))
    if problems:
        raise Refused(problems)
    return FundParams(tiers=tuple(tiers), floor=floor, cap=cap, eligible_grades=eligible, min_total=min_total,
                      exclude_flagged=exclude)


# ---- the methods -------------------------------------------------------------------------------

def allocate(method: str, pool: Decimal, standings: Sequence[Standing], params: FundParams) -> Allocation:
    """The allocation of ``pool`` by ``method`` with checked ``params``."""
    if method == TIERS:
        return by_tiers(pool, standings, dict(params.tiers), exclude_flagged=params.exclude_flagged)
    if method == SCALED_TIERS:
        return scaled_tiers(pool, standings, dict(params.tiers), exclude_flagged=params.exclude_flagged)
    if method == PROPORTIONAL:
        return proportional(pool, standings, floor=params.floor, cap=params.cap,
                            eligible_grades=params.eligible_grades or None, min_total=params.min_total,
                            exclude_flagged=params.exclude_flagged)
    raise Refused([Problem(column="method", reason=f"分配方式 {method!r} 未知（可用：{'、'.join(METHODS)}）")])


def by_tiers(pool: Decimal, standings: Sequence[Standing], tiers: Mapping[str, Decimal], *,
             exclude_flagged: bool = True) -> Allocation:
    """Each subject its grade's fixed amount (按等次定额); the remainder against the pool is a
    结余 or a 缺口 and is reported either way."""
    pool = _pool(pool)
    _check(standings)
    shares = []
    for s in standings:
        reason = _flagged(s) if exclude_flagged else ""
        if reason:
            shares.append(Share(s, Decimal("0.00"), reason))
        elif s.grade in tiers:
            shares.append(Share(s, Decimal(tiers[s.grade]).quantize(FEN), f"{s.grade}定额"))
        else:
            shares.append(Share(s, Decimal("0.00"), f"未获奖补（{s.grade or '无等次'}无定额）"))
    return _result(TIERS, pool, shares)


def scaled_tiers(pool: Decimal, standings: Sequence[Standing], tiers: Mapping[str, Decimal], *,
                 exclude_flagged: bool = True) -> Allocation:
    """The tier amounts scaled by pool ÷ Σ(tier amounts of the subjects) (按等次定额等比例调整),
    rounded to the fen by the largest remainder: the shares add up to the pool exactly."""
    pool = _pool(pool)
    _check(standings)
    base: list[Fraction] = []
    reasons: list[str] = []
    for s in standings:
        reason = _flagged(s) if exclude_flagged else ""
        if not reason and s.grade not in tiers:
            reason = f"未获奖补（{s.grade or '无等次'}无定额）"
        reasons.append(reason)
        base.append(Fraction(0) if reason else Fraction(Decimal(tiers[s.grade])))
    total = sum(base, Fraction(0))
    if total == 0:
        raise Refused([Problem(column="tiers", reason="没有对象获得等次定额，无法等比例调整")])
    factor = Fraction(pool) / total
    fen = _largest_remainder([b * factor for b in base], _fen(pool), standings)
    shown = _half_up(factor, 6)
    shares = []
    for s, b, reason, f in zip(standings, base, reasons, fen, strict=True):
        if reason:
            shares.append(Share(s, Decimal("0.00"), reason))
        else:
            amount = _yuan(f)
            shares.append(Share(s, amount, f"{s.grade}定额 {yuan_text(Decimal(tiers[s.grade]))} 元 × {shown}"
                                           + _odd_fen(amount, b * factor)))
    return _result(SCALED_TIERS, pool, shares)


def proportional(pool: Decimal, standings: Sequence[Standing], *, floor: Decimal | None = None,
                 cap: Decimal | None = None, eligible_grades: Sequence[str] | None = None,
                 min_total: Decimal | None = None, exclude_flagged: bool = True) -> Allocation:
    """The pool shared in proportion to total score (按得分比例) among the eligible subjects, each
    share within ``floor`` (保底) and ``cap`` (封顶), rounded to the fen by the largest remainder
    (ties: higher score, then lower code). The shares add up to the pool exactly — unless every
    subject is at its cap, when the rest is an explicit 结余."""
    pool = _pool(pool)
    _check(standings)
    floor_y = Decimal(0) if floor is None else Decimal(floor).quantize(FEN)
    cap_y = None if cap is None else Decimal(cap).quantize(FEN)
    if cap_y is not None and floor_y > cap_y:
        raise Refused([Problem(column="floor", reason=f"保底 {yuan_text(floor_y)} 元高于封顶 {yuan_text(cap_y)} 元")])
    reasons = []
    for s in standings:
        reason = _flagged(s) if exclude_flagged else ""
        if not reason and eligible_grades is not None and s.grade not in eligible_grades:
            reason = f"不参与分配（{s.grade or '无等次'}不在参与分配的等次 {'、'.join(eligible_grades)} 内）"
        if not reason and min_total is not None and Decimal(s.total) < Decimal(min_total):
            reason = f"不参与分配（总分低于 {Decimal(min_total).normalize():f} 分）"
        if not reason and Decimal(s.total) < 0:
            raise Refused([Problem(column="total", reason=(
                f"{s.name or s.code} 总分 {s.total} 为负，不能按得分比例分配"))])
        reasons.append(reason)
    eligible = [i for i, r in enumerate(reasons) if not r]
    if not eligible:
        raise Refused([Problem(reason="没有符合分配条件的对象")])
    n = len(eligible)
    if floor_y * n > pool:
        raise Refused([Problem(column="floor", reason=(
            f"保底合计 {yuan_text(floor_y * n)} 元（{n} 个对象 × {yuan_text(floor_y)} 元）"
            f"超过资金总额 {yuan_text(pool)} 元"))])
    scores = [Fraction(Decimal(standings[i].total)) for i in eligible]
    if sum(scores) == 0:
        raise Refused([Problem(column="total", reason=(
            "参与分配的对象总分均为 0，无法按得分比例分配（可改用按等次定额）"))])
    lo, hi = Fraction(floor_y), None if cap_y is None else Fraction(cap_y)
    lam = _lambda(scores, lo, hi, Fraction(pool))
    exact = [_clamp(lam * s, lo, hi) if lam is not None else _clamp_top(s, lo, hi) for s in scores]
    target = sum(exact, Fraction(0))  # the pool, or less when every share is at its cap
    fen = _largest_remainder(exact, int(target * 100), [standings[i] for i in eligible])
    amounts = {i: (_yuan(f), e) for i, f, e in zip(eligible, fen, exact, strict=True)}
    shares = []
    for i, s in enumerate(standings):
        if reasons[i]:
            shares.append(Share(s, Decimal("0.00"), reasons[i]))
            continue
        amount, e = amounts[i]
        if hi is not None and e == hi:
            basis = f"按得分比例，封顶 {yuan_text(cap_y)} 元"
        elif floor_y > 0 and e == lo:
            basis = f"按得分比例，保底 {yuan_text(floor_y)} 元"
        else:
            basis = "按得分比例"
        basis += _odd_fen(amount, e)
        shares.append(Share(s, amount, basis))
    return _result(PROPORTIONAL, pool, shares)


# ---- exact arithmetic --------------------------------------------------------------------------

def _clamp(x: Fraction, lo: Fraction, hi: Fraction | None) -> Fraction:
    if x < lo:
        return lo
    if hi is not None and x > hi:
        return hi
    return x


def _clamp_top(score: Fraction, lo: Fraction, hi: Fraction | None) -> Fraction:
    """A share when the pool is not used up at any λ: at the cap, or at the floor for a zero score."""
    return lo if score == 0 or hi is None else hi


def _total(scores: Sequence[Fraction], lam: Fraction, lo: Fraction, hi: Fraction | None) -> Fraction:
    return sum((_clamp(lam * s, lo, hi) for s in scores), Fraction(0))


def _lambda(scores: Sequence[Fraction], lo: Fraction, hi: Fraction | None, pool: Fraction) -> Fraction | None:
    """The λ with Σ clamp(λ·sᵢ, lo, hi) = pool, exactly; None when even λ → ∞ (every share at its
    cap, zero scores at their floor) does not reach the pool.

    The sum is continuous, non-decreasing and piecewise linear in λ, bending only where a share
    leaves its floor (lo/sᵢ) or reaches its cap (hi/sᵢ). Between two neighbouring bends the same
    subjects are free, so a binary search finds the last bend where the sum is still ≤ pool and
    one division solves the straight piece after it: no iteration, no float."""
    positive = [s for s in scores if s > 0]
    zero_count = len(scores) - len(positive)
    if hi is not None and zero_count * lo + len(positive) * hi <= pool:
        return None
    bends = {Fraction(0)} | {lo / s for s in positive}
    if hi is not None:
        bends |= {hi / s for s in positive}
    bends = sorted(bends)
    low, high = 0, len(bends) - 1  # Σ at bends[0] = n·lo ≤ pool (floors were checked)
    while low < high:
        mid = (low + high + 1) // 2
        if _total(scores, bends[mid], lo, hi) <= pool:
            low = mid
        else:
            high = mid - 1
    start = bends[low]
    end = bends[low + 1] if low + 1 < len(bends) else None
    fixed, free = Fraction(0), Fraction(0)
    for s in scores:
        if s == 0 or (end is not None and lo / s >= end):
            fixed += lo  # at its floor all along the piece
        elif hi is not None and hi / s <= start:
            fixed += hi  # at its cap all along the piece
        else:
            free += s
    if free == 0:  # flat piece: the sum is already the pool at ``start``
        return start
    return (pool - fixed) / free


def _largest_remainder(exact: Sequence[Fraction], target_fen: int, standings: Sequence[Standing]) -> list[int]:
    """Exact shares in fen, cut down to whole fen; the fen still missing to ``target_fen`` go one
    each to the largest cut-off remainders, ties by higher total score, then lower code."""
    fen = [math.floor(x * 100) for x in exact]
    missing = target_fen - sum(fen)
    remainders = [x * 100 - f for x, f in zip(exact, fen, strict=True)]
    if missing < 0 or missing > sum(1 for r in remainders if r > 0):  # pragma: no cover - exact shares sum to target
        raise AssertionError("exact shares do not add up to the target")
    order = sorted(range(len(exact)), key=lambda i: (-remainders[i], -Decimal(standings[i].total), standings[i].code))
    for i in order[:missing]:
        fen[i] += 1
    return fen


def _odd_fen(amount: Decimal, exact: Fraction) -> str:
    """The note on a share that received one of the fen handed out by the largest remainder."""
    return "（含尾差 0.01 元）" if Fraction(amount) * 100 > math.floor(exact * 100) else ""


def _half_up(x: Fraction, places: int) -> Decimal:
    q = Decimal(1).scaleb(-places)
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(q, rounding=ROUND_HALF_UP)


def _fen(amount: Decimal) -> int:
    return int(Decimal(amount) * 100)


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(FEN)


def _pool(pool: Decimal) -> Decimal:
    amount = Decimal(pool)
    if amount <= 0 or amount != amount.quantize(FEN, rounding=ROUND_HALF_UP):
        raise Refused([Problem(column="amount", reason=f"资金总额 {pool} 须大于 0 且精确到分")])
    return amount.quantize(FEN)


def _check(standings: Sequence[Standing]) -> None:
    seen: set[str] = set()
    for s in standings:
        if s.code in seen:
            raise Refused([Problem(column="code", reason=f"对象 {s.code} 重复")])
        seen.add(s.code)


def _flagged(s: Standing) -> str:
    if s.vetoed:
        return "一票否决，不予奖补"
    if s.prerequisite_failed:
        return "未达前置条件，不予奖补"
    return ""


def _result(method: str, pool: Decimal, shares: list[Share]) -> Allocation:
    allocated = sum((s.amount for s in shares), Decimal("0.00")).quantize(FEN)
    return Allocation(method=method, pool=pool, shares=tuple(shares), allocated=allocated,
                      remainder=(pool - allocated).quantize(FEN))
