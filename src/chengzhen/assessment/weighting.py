"""Weighting methods (赋权方法): AHP (层次分析法), the entropy weight method (熵权法), TOPSIS
(逼近理想解排序法) and the AHP–entropy combination (主客观组合赋权). Pure: NumPy, no Django.

Why our own code and not a library: the field's libraries differ in exactly the conventions an
office has to be able to state — pymcdm's TOPSIS normalises min–max by default and its entropy
weights normalise by column sums; ahpy uses other random-index tables and rounds its weights;
Chinese textbooks shift the min–max range to [0.002, 1] to dodge ln 0 — and none of them names
the cell or the pair that is wrong in words an office can act on. We need one stated convention,
the checks and their messages, and no heavy dependency at run time (pymcdm pulls in matplotlib,
pandas and scipy). The reference libraries are used only in the tests and the bench.

Conventions:

- **AHP**: a square positive reciprocal matrix on Saaty's 1–9 scale (a_ij = how much more
  important criterion i is than j; a_ji = 1/a_ij within 1 %; diagonal 1; values below 1/9 or
  above 9 are refused, not clipped: they are typing errors far more often than judgements).
  Weights are the principal (Perron) eigenvector normalised to sum 1; CI = (λmax − n)/(n − 1);
  CR = CI/RI; consistent when CR < 0.10. n ≤ 2 is consistent by definition (CR = 0). n > 15 is
  refused (no random index is cited beyond). RI for n = 1..11 is Saaty's table (0, 0, 0.58,
  0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51; Saaty, *The Analytic Hierarchy Process*,
  McGraw-Hill 1980); for n = 12..15 it is 1.54, 1.56, 1.58, 1.59 from Saaty, *Theory and
  Applications of the Analytic Network Process*, RWS Publications 2005, p. 31 — the values the
  Chinese modelling textbooks append to the same table (e.g. the 15-entry table of the CUMCM
  MATLAB listings). The most inconsistent judgement is the pair (i, j) with the largest
  |ln(a_ij · w_j / w_i)|, shown with the ratio w_i/w_j the weights imply.
- **Entropy weights**: alternatives in rows, indicators in columns. Min–max normalisation by
  direction: ``+`` (x − min)/(max − min); ``-`` (max − x)/(max − min); a number a (target value)
  1 − |x − a| / max|x − a|. p_ij = r_ij / Σ_i r_ij; e_j = −(1/ln m) Σ_i p_ij ln p_ij with
  0·ln 0 = 0 (no shift of the range); d_j = 1 − e_j; w_j = d_j / Σ d_j. A column whose normalised
  values are all equal (a constant column; for a target, all equally far from it) carries no
  information: weight 0, with a warning naming it. All columns constant, a single alternative,
  or an empty or non-numeric cell is refused.
- **TOPSIS**: vector normalisation r_ij = x_ij / sqrt(Σ_i x_ij²), weighted by w (normalised to
  sum 1), the ideal best/worst per column by direction (``+`` max/min, ``-`` min/max), Euclidean
  distances D+ and D−, closeness C = D− / (D+ + D−); rank 1 = largest C; equal C (within 1e-12)
  keep the order of the input rows.
- **Combination**: w = α·w_AHP + (1 − α)·w_entropy with α in [0, 1] (default 0.5, a parameter,
  never a hidden constant: the 0.5 of the literature is not verified).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from chengzhen.problems import Problem, Refused

CR_LIMIT = 0.10
MAX_AHP = 15
RECIPROCAL_TOLERANCE = 0.01  # a_ij · a_ji may differ from 1 by this much (0.33 written for 1/3)
SCALE_MIN, SCALE_MAX = 1 / 9, 9.0
RI = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
      11: 1.51, 12: 1.54, 13: 1.56, 14: 1.58, 15: 1.59}
RI_SOURCE = "Saaty《The Analytic Hierarchy Process》(1980)"
RI_SOURCE_EXTENDED = "Saaty《Theory and Applications of the Analytic Network Process》(2005) 第 31 页"
TIE_TOLERANCE = 1e-12

ENTROPY_CONVENTION = (
    "熵权法：按方向极差标准化（正向 (x−min)/(max−min)，负向 (max−x)/(max−min)，"
    "目标值 a：1−|x−a|/max|x−a|），p=r/Σr，e=−Σp·ln p/ln m，约定 0·ln 0=0（不平移区间），"
    "d=1−e，w=d/Σd；取值全同的指标权重为 0。"
)
TOPSIS_CONVENTION = (
    "TOPSIS：向量归一化 r=x/√Σx²，乘以权重（合计化为 1），正向取最大为正理想解、负向取最小，"
    "欧氏距离 D+、D−，贴近度 C=D−/(D++D−)，C 大者居前；C 相同按输入顺序。"
)


@dataclass(frozen=True)
class Cells:
    """Where a table's cells sit in its file, so a refusal names the file's row and column."""

    file: str = ""
    first_row: int = 1  # file row of the table's first data row
    row_names: tuple[str, ...] = ()
    column_names: tuple[str, ...] = ()

    def column(self, j: int) -> str:
        return self.column_names[j] if j < len(self.column_names) else f"第 {j + 1} 列"

    def row_name(self, i: int) -> str:
        return self.row_names[i] if i < len(self.row_names) else f"第 {i + 1} 行"

    def problem(self, reason: str, i: int | None = None, j: int | None = None) -> Problem:
        return Problem(file=self.file, row=None if i is None else self.first_row + i,
                       column="" if j is None else self.column(j), reason=reason)


def _names(names: Sequence[str] | None, n: int, prefix: str) -> tuple[str, ...]:
    return tuple(names) if names else tuple(f"{prefix}{k + 1}" for k in range(n))


def _fmt(x: float) -> str:
    return f"{x:.4f}"


def _judgement(x: float) -> str:
    """A pairwise judgement as people write it: 5, 1/3, 1.5."""
    if x >= 1:
        return f"{x:g}" if abs(x - round(x)) > 1e-9 else str(round(x))
    inv = 1 / x
    return f"1/{round(inv)}" if abs(inv - round(inv)) <= 1e-6 * inv else f"{x:.3g}"


# ---- AHP ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AhpResult:
    names: tuple[str, ...]
    matrix: np.ndarray
    weights: np.ndarray
    lambda_max: float
    ci: float
    ri: float
    cr: float
    worst_pair: tuple[int, int] | None  # (i, j), i < j; None for n ≤ 2 … when nothing deviates
    worst_given: float = 1.0  # a_ij as given
    worst_implied: float = 1.0  # w_i / w_j

    @property
    def n(self) -> int:
        return len(self.names)

    @property
    def consistent(self) -> bool:
        return self.n <= 2 or self.cr < CR_LIMIT

    @property
    def ri_source(self) -> str:
        if self.n <= 2:
            return "n ≤ 2 时一致性无需检验"
        return RI_SOURCE_EXTENDED if self.n >= 12 else RI_SOURCE

    def worst_text(self) -> str:
        if self.worst_pair is None:
            return ""
        i, j = self.worst_pair
        return (f"{self.names[i]} 对 {self.names[j]}（给 {_judgement(self.worst_given)}，"
                f"权重所示约 {self.worst_implied:.2g}）")

    def verdict(self) -> str:
        if self.n <= 2:
            return "n ≤ 2，一致性无需检验（CR = 0）"
        if self.consistent:
            return f"通过一致性检验（CR = {self.cr:.4f} < 0.10）"
        return f"未通过：CR = {self.cr:.3f} ≥ 0.10，最不一致的判断是 {self.worst_text()}"


def ahp(matrix, names: Sequence[str] | None = None, *, cells: Cells | None = None,
        require_consistent: bool = True) -> AhpResult:
    """AHP weights of a pairwise comparison matrix (判断矩阵) by its principal eigenvector.

    Refused: not square, n = 0 or n > 15, a cell not a positive number, off the 1/9..9 scale,
    a diagonal other than 1, a cell not the reciprocal of its mirror (naming that cell), and —
    unless ``require_consistent`` is False — CR ≥ 0.10 (naming CR and the worst pair)."""
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0] if a.ndim == 2 else 0
    names = _names(names, n, "C")
    cells = cells or Cells(row_names=names, column_names=names)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or n == 0:
        raise Refused([cells.problem(f"判断矩阵应为方阵（行数等于列数），现为 {' × '.join(map(str, a.shape))}")])
    if n > MAX_AHP:
        raise Refused([cells.problem(f"判断矩阵有 {n} 个指标，超过 {MAX_AHP}：没有可引用的随机一致性指标 RI，"
                                     "请分层比较（每层不超过 15 个）")])
    if len(names) != n:
        raise Refused([cells.problem(f"指标名称 {len(names)} 个，与矩阵阶数 {n} 不符")])
    problems: list[Problem] = []
    for i in range(n):
        for j in range(n):
            x = a[i, j]
            if not math.isfinite(x) or x <= 0:
                problems.append(cells.problem("判断值应为正数", i, j))
            elif i == j and abs(x - 1) > 1e-9:
                problems.append(cells.problem(f"对角线应为 1，现为 {x:g}", i, j))
            elif not (SCALE_MIN * (1 - RECIPROCAL_TOLERANCE) <= x <= SCALE_MAX * (1 + 1e-12)):
                problems.append(cells.problem(f"判断值 {x:g} 超出 1–9 标度（应在 1/9 与 9 之间）", i, j))
    if not problems:
        for i in range(n):
            for j in range(i + 1, n):
                if abs(a[i, j] * a[j, i] - 1) > RECIPROCAL_TOLERANCE + 1e-12:
                    problems.append(cells.problem(
                        f"应为 {names[i]} 对 {names[j]} 的判断 {_judgement(a[i, j])} 的倒数"
                        f"（{_judgement(1 / a[i, j])}），现为 {a[j, i]:g}", j, i))
    if problems:
        raise Refused(problems)
    if n == 1:
        return AhpResult(names, a, np.ones(1), 1.0, 0.0, 0.0, 0.0, None)
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    lam = float(values[k].real)
    w = np.abs(vectors[:, k].real)
    w = w / w.sum()
    ci = max((lam - n) / (n - 1), 0.0) if n > 2 else 0.0  # float noise below n is no inconsistency
    ri = RI[n]
    cr = ci / ri if ri else 0.0
    dev = np.abs(np.log(a * w[None, :] / w[:, None]))
    np.fill_diagonal(dev, -1.0)
    dev[np.tril_indices(n)] = -1.0
    i, j = np.unravel_index(int(np.argmax(dev)), dev.shape)
    result = AhpResult(names, a, w, lam if n > 2 else float(n), ci, ri, cr, (int(i), int(j)),
                       float(a[i, j]), float(w[i] / w[j]))
    if require_consistent and not result.consistent:
        i, j = result.worst_pair
        raise Refused([Problem(file=cells.file, row=cells.first_row + i, column=cells.column(j),
                               reason=f"一致性检验未通过：CR = {cr:.3f} ≥ 0.10（λmax = {lam:.4f}，CI = {ci:.4f}，"
                                      f"RI = {ri}），最不一致的判断是 {result.worst_text()}；请调整后重算")])
    return result


# ---- entropy weights ----------------------------------------------------------------------------

Direction = str | float  # "+", "-" or a target value


def parse_direction(text, where: str = "") -> Direction:
    """``+`` (正向/越大越好), ``-`` (负向/越小越好; also − and －) or a target value (适度指标)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text or "").strip()
    if s in ("+", "＋", "正", "正向", "越大越好", "higher", ""):
        return "+"
    if s in ("-", "−", "－", "负", "负向", "越小越好", "lower"):
        return "-"
    try:
        value = float(s)
    except ValueError:
        raise Refused([Problem(column=where, reason=f"方向应为 +、− 或目标值（数），现为 {s!r}")]) from None
    if not math.isfinite(value):
        raise Refused([Problem(column=where, reason=f"目标值应为有限的数，现为 {s!r}")])
    return value


def _table(table, cells: Cells, what: str) -> np.ndarray:
    x = np.asarray(table, dtype=float)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise Refused([cells.problem(f"{what}为空")])
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        raise Refused([cells.problem("缺少数值或不是有限的数", int(i), int(j)) for i, j in bad[:50]])
    return x


@dataclass(frozen=True)
class EntropyResult:
    names: tuple[str, ...]
    directions: tuple[Direction, ...]
    normalised: np.ndarray  # r_ij
    entropy: np.ndarray  # e_j (1 for a constant column)
    divergence: np.ndarray  # d_j = 1 − e_j
    weights: np.ndarray
    warnings: tuple[str, ...] = ()
    convention: str = ENTROPY_CONVENTION


def entropy(table, direction: Sequence | None = None, names: Sequence[str] | None = None, *,
            cells: Cells | None = None) -> EntropyResult:
    """Entropy weights (熵权法) of a table with alternatives in rows and indicators in columns."""
    cells = cells or Cells(column_names=tuple(names or ()))
    x = _table(table, cells, "数据表")
    m, n = x.shape
    names = _names(names, n, "X")
    if m < 2:
        raise Refused([cells.problem("只有 1 个评价对象，熵权法至少需要 2 个（ln 1 = 0，信息熵无定义）")])
    dirs = tuple(parse_direction(d, cells.column(j)) for j, d in enumerate(direction)) if direction else ("+",) * n
    if len(dirs) != n:
        raise Refused([cells.problem(f"方向 {len(dirs)} 个，与指标数 {n} 不符")])
    r = np.empty_like(x)
    for j, d in enumerate(dirs):
        col = x[:, j]
        lo, hi = col.min(), col.max()
        if d == "+" or d == "-":
            span = hi - lo
            r[:, j] = 0.0 if span == 0 else ((col - lo) if d == "+" else (hi - col)) / span
        else:
            dist = np.abs(col - d)
            far = dist.max()
            r[:, j] = 0.0 if far == 0 else 1 - dist / far
    constant = np.ptp(r, axis=0) == 0
    warnings = tuple(
        f"指标“{names[j]}”各对象{'取值相同' if np.ptp(x[:, j]) == 0 else '与目标值的偏差相同'}，"
        "不提供区分信息，权重记为 0" for j in np.flatnonzero(constant))
    if constant.all():
        raise Refused([cells.problem("所有指标在各对象间都没有差别（取值全同），无法用熵权法赋权")])
    total = r.sum(axis=0)
    p = np.divide(r, total, out=np.zeros_like(r), where=total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)  # 0·ln 0 = 0
    e = -plogp.sum(axis=0) / math.log(m)
    e[constant] = 1.0
    d = np.clip(1.0 - e, 0.0, None)
    w = d / d.sum()
    return EntropyResult(names, dirs, r, e, d, w, warnings)


# ---- TOPSIS -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TopsisResult:
    alternatives: tuple[str, ...]
    criteria: tuple[str, ...]
    weights: np.ndarray  # as used: normalised to sum 1
    closeness: np.ndarray  # C_i
    d_best: np.ndarray  # D+
    d_worst: np.ndarray  # D−
    ranks: np.ndarray  # 1 = best
    warnings: tuple[str, ...] = ()
    convention: str = TOPSIS_CONVENTION

    def order(self) -> list[int]:
        """Row indices best first."""
        return [int(i) for i in np.argsort(self.ranks, kind="stable")]


def topsis(table, weights=None, direction: Sequence | None = None, *, alternatives: Sequence[str] | None = None,
           criteria: Sequence[str] | None = None, cells: Cells | None = None) -> TopsisResult:
    """Rank alternatives by TOPSIS with vector normalisation; equal weights when none are given."""
    cells = cells or Cells(row_names=tuple(alternatives or ()), column_names=tuple(criteria or ()))
    x = _table(table, cells, "数据表")
    m, n = x.shape
    alternatives = _names(alternatives, m, "A")
    criteria = _names(criteria, n, "X")
    if m < 2:
        raise Refused([cells.problem("只有 1 个评价对象，无需排序（TOPSIS 至少需要 2 个）")])
    w = np.full(n, 1.0 / n) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise Refused([cells.problem(f"权重 {w.size} 个，与指标数 {n} 不符")])
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise Refused([cells.problem("权重应为不小于 0 的数，且合计大于 0")])
    w = w / w.sum()
    dirs = tuple(parse_direction(d, cells.column(j)) for j, d in enumerate(direction)) if direction else ("+",) * n
    if len(dirs) != n:
        raise Refused([cells.problem(f"方向 {len(dirs)} 个，与指标数 {n} 不符")])
    problems = [cells.problem("TOPSIS 的方向只能是 +（正向）或 −（负向）", None, j)
                for j, d in enumerate(dirs) if d not in ("+", "-")]
    norms = np.sqrt((x * x).sum(axis=0))
    problems += [cells.problem("该列全为 0，无法向量归一化", None, int(j)) for j in np.flatnonzero(norms == 0)]
    if problems:
        raise Refused(problems)
    v = x / norms * w
    cost = np.array([d == "-" for d in dirs])
    vmax, vmin = v.max(axis=0), v.min(axis=0)
    best = np.where(cost, vmin, vmax)
    worst = np.where(cost, vmax, vmin)
    d_best = np.sqrt(((v - best) ** 2).sum(axis=1))
    d_worst = np.sqrt(((v - worst) ** 2).sum(axis=1))
    total = d_best + d_worst
    warnings: tuple[str, ...] = ()
    if (total == 0).any():
        warnings = ("有对象与正、负理想解都重合（所有对象在各指标上相同），其贴近度记为 0.5",)
    c = np.divide(d_worst, total, out=np.full(m, 0.5), where=total > 0)
    # rank by C descending; C equal within the tolerance keeps input order
    key = np.round(c / TIE_TOLERANCE) if m else c
    order = np.lexsort((np.arange(m), -key))
    ranks = np.empty(m, dtype=int)
    ranks[order] = np.arange(1, m + 1)
    return TopsisResult(alternatives, criteria, w, c, d_best, d_worst, ranks, warnings)


# ---- combination --------------------------------------------------------------------------------

def combine(w_ahp, w_entropy, alpha: float = 0.5) -> np.ndarray:
    """w = α·w_AHP + (1 − α)·w_entropy (组合赋权); both sets must have the same length and sum to 1."""
    a, b = np.asarray(w_ahp, dtype=float), np.asarray(w_entropy, dtype=float)
    problems = []
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        problems.append(Problem(reason=f"两组权重个数不同（{a.size} 与 {b.size}）"))
    if not (isinstance(alpha, (int, float)) and 0 <= alpha <= 1):
        problems.append(Problem(column="alpha", reason=f"组合系数 α 应在 0 与 1 之间，现为 {alpha}"))
    for label, w in (("主观（AHP）", a), ("客观（熵权）", b)):
        if w.size and (not np.isfinite(w).all() or (w < 0).any() or abs(w.sum() - 1) > 1e-6):
            problems.append(Problem(reason=f"{label}权重应为不小于 0 的数且合计为 1，现合计 {w.sum():.6g}"))
    if problems:
        raise Refused(problems)
    return alpha * a + (1 - alpha) * b


# ---- weights as decimals ------------------------------------------------------------------------

def decimal_weights(weights, places: int = 6) -> list[Decimal]:
    """Weights as decimals of ``places`` places that sum to exactly 1 (largest remainders get the
    last units), so a framework built from them passes its "weights sum to 1" check exactly."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    unit = 10 ** places
    scaled = w * unit
    floors = np.floor(scaled).astype(np.int64)
    short = int(unit - floors.sum())
    for k in np.argsort(-(scaled - floors), kind="stable")[:short]:
        floors[k] += 1
    q = Decimal(1).scaleb(-places)
    return [(Decimal(int(f)) / unit).quantize(q, rounding=ROUND_HALF_EVEN) for f in floors]


@dataclass(frozen=True)
class LabelledTable:
    """A numeric table read from a file: row names, column names, values, optional directions."""

    file: str
    row_names: tuple[str, ...]
    column_names: tuple[str, ...]
    values: np.ndarray
    directions: tuple[Direction, ...] | None = None
    first_row: int = 1
    first_column: int = 1  # file column of the first value column (1-based)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def cells(self) -> Cells:
        return Cells(self.file, self.first_row, self.row_names, self.column_names)
