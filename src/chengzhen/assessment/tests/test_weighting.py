"""The weighting methods (pure): AHP, entropy weights, TOPSIS and their combination, each against
a published worked example, and AHP and TOPSIS against independent implementations from PyPI
(ahpy 2.1, pymcdm 1.4: dev extras only)."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from chengzhen.assessment.weighting import (
    RI,
    RI_SOURCE_EXTENDED,
    Cells,
    ahp,
    combine,
    decimal_weights,
    entropy,
    topsis,
)
from chengzhen.problems import Refused

# Saaty, T. L. (2008). "Decision making with the analytic hierarchy process", International Journal of
# Services Sciences 1(1), 83–98: the relative consumption of drinks in the United States (the judgement
# matrix and the derived priorities .177 .019 .042 .116 .190 .129 .327), as reproduced in the ahpy README.
DRINKS = ["coffee", "wine", "tea", "beer", "soda", "milk", "water"]
DRINK_JUDGEMENTS = {
    ("coffee", "wine"): 9, ("coffee", "tea"): 5, ("coffee", "beer"): 2, ("coffee", "soda"): 1,
    ("coffee", "milk"): 1, ("coffee", "water"): 1 / 2,
    ("wine", "tea"): 1 / 3, ("wine", "beer"): 1 / 9, ("wine", "soda"): 1 / 9, ("wine", "milk"): 1 / 9,
    ("wine", "water"): 1 / 9,
    ("tea", "beer"): 1 / 3, ("tea", "soda"): 1 / 4, ("tea", "milk"): 1 / 3, ("tea", "water"): 1 / 9,
    ("beer", "soda"): 1 / 2, ("beer", "milk"): 1, ("beer", "water"): 1 / 3,
    ("soda", "milk"): 2, ("soda", "water"): 1 / 2,
    ("milk", "water"): 1 / 3,
}
SAATY_DRINKS = [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]


def drinks_matrix() -> np.ndarray:
    a = np.eye(len(DRINKS))
    for (x, y), v in DRINK_JUDGEMENTS.items():
        i, j = DRINKS.index(x), DRINKS.index(y)
        a[i, j], a[j, i] = v, 1 / v
    return a


def consistent_matrix(w, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """a_ij = w_i/w_j, optionally with multiplicative noise kept reciprocal."""
    w = np.asarray(w, dtype=float)
    a = w[:, None] / w[None, :]
    if noise:
        rng = np.random.default_rng(seed)
        e = np.exp(rng.normal(0, noise, a.shape))
        upper = np.triu(e, 1)
        e = upper + np.tril(1 / np.where(upper.T > 0, upper.T, 1.0), -1)
        np.fill_diagonal(e, 1.0)
        a = a * e
    return a


def on_the_scale(a: np.ndarray) -> np.ndarray:
    """Each judgement rounded to the nearest of 1..9 or 1/9..1/2, kept reciprocal."""
    out = np.eye(len(a))
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            v = a[i, j]
            out[i, j] = min(9, max(1, round(v))) if v >= 1 else 1 / min(9, max(1, round(1 / v)))
            out[j, i] = 1 / out[i, j]
    return out


# ---- AHP ----------------------------------------------------------------------------------------

def test_ahp_reproduces_saatys_drinks_example():
    r = ahp(drinks_matrix(), DRINKS)
    assert [round(x, 3) for x in r.weights] == SAATY_DRINKS
    assert r.consistent and r.cr < 0.10
    assert r.ri == 1.32 and math.isclose(r.ci, (r.lambda_max - 7) / 6)
    assert math.isclose(r.cr, r.ci / 1.32)
    assert "通过一致性检验" in r.verdict()


def test_ahp_weights_and_lambda_max_equal_ahpy_and_pymcdm():
    """Like for like: pymcdm's AHP takes the principal eigenvector (numpy.linalg.eig) normalised to
    sum 1, as we do; ahpy takes the same eigenvector by repeated squaring (power method), rounded to
    ``precision`` places — 10 here. λmax is recovered from each one's CR and its own RI table."""
    import ahpy
    from pymcdm.weights.subjective import AHP

    a = drinks_matrix()
    ours = ahp(a, DRINKS)
    ref = AHP(matrix=a)
    np.testing.assert_allclose(ours.weights, ref(), atol=1e-12)
    lam_pymcdm = ref.get_cr() * AHP.RI_M[6] * 6 + 7
    assert math.isclose(ours.lambda_max, lam_pymcdm, rel_tol=1e-12)
    c = ahpy.Compare("drinks", DRINK_JUDGEMENTS, precision=10, random_index="saaty")
    np.testing.assert_allclose(ours.weights, [c.target_weights[d] for d in DRINKS], atol=1e-9)
    lam_ahpy = c.consistency_ratio * 1.35 * 6 + 7  # ahpy's Saaty-2005 RI for n = 7 is 1.35
    assert math.isclose(ours.lambda_max, lam_ahpy, abs_tol=1e-8)
    # a 12-criterion matrix of judgements on the 1–9 scale (pymcdm accepts nothing else), against both
    m = on_the_scale(consistent_matrix(np.linspace(1, 6, 12), 0.3, seed=3))
    ours = ahp(m, [f"c{k}" for k in range(12)])
    np.testing.assert_allclose(ours.weights, AHP(matrix=m)(), atol=1e-12)
    judgements = {(f"c{i}", f"c{j}"): m[i, j] for i in range(12) for j in range(i + 1, 12)}
    c = ahpy.Compare("m", judgements, precision=10, random_index="saaty")
    np.testing.assert_allclose(ours.weights, [c.target_weights[f"c{k}"] for k in range(12)], atol=1e-8)


def test_an_inconsistent_matrix_is_refused_naming_cr_and_the_worst_pair():
    a = drinks_matrix()
    a[0, 1], a[1, 0] = 1 / 9, 9  # wine now 9 × coffee, against every other judgement
    with pytest.raises(Refused) as exc:
        ahp(a, DRINKS, cells=Cells("m.csv", 2, tuple(DRINKS), tuple(DRINKS)))
    (p,) = exc.value.problems
    assert p.file == "m.csv" and p.row == 2 and p.column == "wine"
    assert "CR = 0.515 ≥ 0.10" in p.reason and "coffee 对 wine（给 1/9" in p.reason
    r = ahp(a, DRINKS, require_consistent=False)
    assert not r.consistent and r.worst_pair == (0, 1) and r.worst_implied > 1
    assert r.verdict().startswith("未通过：CR = 0.515 ≥ 0.10，最不一致的判断是 coffee 对 wine（给 1/9，权重所示约")


def test_n_one_and_two_are_consistent_by_definition():
    r = ahp([[1]], ["A"])
    assert list(r.weights) == [1.0] and r.cr == 0 and r.consistent
    r = ahp([[1, 3], [1 / 3, 1]], ["A", "B"])
    np.testing.assert_allclose(r.weights, [0.75, 0.25])
    assert r.cr == 0 and r.ci == 0 and r.consistent and "n ≤ 2" in r.verdict()


def test_n_thirteen_uses_the_extended_random_index():
    w = np.linspace(1, 5, 13)
    r = ahp(consistent_matrix(w))
    np.testing.assert_allclose(r.weights, w / w.sum(), atol=1e-12)
    assert r.ri == RI[13] == 1.56 and r.ri_source == RI_SOURCE_EXTENDED
    assert math.isclose(r.lambda_max, 13, abs_tol=1e-9) and r.cr < 1e-9


def test_n_sixteen_is_refused():
    with pytest.raises(Refused, match="超过 15"):
        ahp(consistent_matrix(np.ones(16)))


def test_a_non_reciprocal_cell_is_named():
    a = [[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 4, 1]]  # a_32 should be 1/2
    with pytest.raises(Refused) as exc:
        ahp(a, ["甲", "乙", "丙"], cells=Cells("矩阵.csv", 2, ("甲", "乙", "丙"), ("甲", "乙", "丙")))
    (p,) = exc.value.problems
    assert (p.file, p.row, p.column) == ("矩阵.csv", 4, "乙")
    assert "应为 乙 对 丙 的判断 2 的倒数（1/2），现为 0.25" in p.reason
    # 0.33 written for 1/3 is within the 1 % tolerance
    assert ahp([[1, 3], [0.33, 1]]).consistent


def test_other_bad_matrices():
    with pytest.raises(Refused, match="方阵"):
        ahp([[1, 2, 3], [0.5, 1, 2]])
    with pytest.raises(Refused, match="对角线应为 1"):
        ahp([[2, 1], [1, 1]])
    with pytest.raises(Refused, match="超出 1–9 标度"):
        ahp([[1, 12], [1 / 12, 1]])
    with pytest.raises(Refused, match="正数"):
        ahp([[1, -2], [-0.5, 1]])


# ---- entropy weights ----------------------------------------------------------------------------

def test_entropy_on_a_published_example_with_constant_columns():
    """The 3 × 5 example of AlexdeyCheng/assessment_models ``Entropy/ewm.ipynb`` (熵权法, min–max for
    benefit criteria): C2 and C3 are constant, so their weight is 0, and C5 varies most, so it weighs
    most — the notebook's stated outcome. The e_j are worked by hand from the definition:
    C1 → p = (1/3, 2/3, 0); C4 → r = (0, 25/35, 1); C5 → r = (0, 30/80, 1)."""
    x = [[80, 100, 50, 60, 10], [82, 100, 50, 85, 40], [78, 100, 50, 95, 90]]
    r = entropy(x, None, ["C1", "C2", "C3", "C4", "C5"])

    def h(*p):
        return -sum(q * math.log(q) for q in p if q > 0) / math.log(3)

    e = [h(1 / 3, 2 / 3), 1.0, 1.0, h((5 / 7) / (12 / 7), 1 / (12 / 7)), h(0.375 / 1.375, 1 / 1.375)]
    np.testing.assert_allclose(r.entropy, e, atol=1e-12)
    d = 1 - np.array(e)
    np.testing.assert_allclose(r.weights, d / d.sum(), atol=1e-12)
    assert r.weights[1] == r.weights[2] == 0 and int(np.argmax(r.weights)) == 4
    assert len(r.warnings) == 2 and "“C2”各对象取值相同" in r.warnings[0]
    assert "0·ln 0=0" in r.convention


def test_entropy_normalises_as_the_published_worked_example_does():
    """The 11 units × 9 indicators of 《指标权重确定方法之熵权法》 (the widely copied worked example,
    e.g. r1worldwide.com/shtml/view-6214983.html): its printed min–max table (2 places) for units
    A–E, column by column as ours; and constant-free columns all take part."""
    x = [[100, 90, 100, 84, 90, 100, 100, 100, 100], [100, 100, 78.6, 100, 90, 100, 100, 100, 100],
         [75, 100, 85.7, 100, 90, 100, 100, 100, 100], [100, 100, 78.6, 100, 90, 100, 94.4, 100, 100],
         [100, 90, 100, 100, 100, 90, 100, 100, 80], [100, 100, 100, 100, 90, 100, 100, 85.7, 100],
         [100, 100, 78.6, 100, 90, 100, 55.6, 100, 100], [87.5, 100, 85.7, 100, 100, 100, 100, 100, 100],
         [100, 100, 92.9, 100, 80, 100, 100, 100, 100], [100, 90, 100, 100, 100, 100, 100, 100, 100],
         [100, 100, 92.9, 100, 90, 100, 100, 100, 100]]
    printed = [[1.00, 0.00, 1.00, 0.00, 0.50, 1.00, 1.00, 1.00, 1.00],   # A
               [1.00, 1.00, 0.00, 1.00, 0.50, 1.00, 1.00, 1.00, 1.00],   # B
               [0.00, 1.00, 0.33, 1.00, 0.50, 1.00, 1.00, 1.00, 1.00],   # C
               [1.00, 1.00, 0.00, 1.00, 0.50, 1.00, 0.87, 1.00, 1.00],   # D
               [1.00, 0.00, 1.00, 1.00, 1.00, 0.00, 1.00, 1.00, 0.00]]   # E
    r = entropy(x)
    np.testing.assert_allclose(np.round(r.normalised[:5], 2), printed, atol=1e-9)
    assert r.weights.sum() == pytest.approx(1) and not r.warnings


def test_entropy_directions_negative_and_target():
    x = np.array([[1.0, 10, 1], [2, 20, 2], [3, 30, 3], [4, 40, 4]])
    r = entropy(x, ["+", "−", 3])
    np.testing.assert_allclose(r.normalised[:, 0], [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(r.normalised[:, 1], [1, 2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(r.normalised[:, 2], [0, 0.5, 1, 0.5])  # 1 − |x − 3| / 2
    assert math.isclose(r.weights.sum(), 1)
    assert math.isclose(r.weights[0], r.weights[1])  # mirror images carry the same information


def test_entropy_refusals():
    with pytest.raises(Refused, match="只有 1 个评价对象"):
        entropy([[1, 2, 3]])
    with pytest.raises(Refused, match="所有指标在各对象间都没有差别"):
        entropy([[1, 5], [1, 5], [1, 5]])
    with pytest.raises(Refused) as exc:
        entropy([[1, 2], [np.nan, 3]], cells=Cells("t.csv", 2, ("甲", "乙"), ("X1", "X2")))
    assert [(p.file, p.row, p.column) for p in exc.value.problems] == [("t.csv", 3, "X1")]
    with pytest.raises(Refused, match="方向应为"):
        entropy([[1, 2], [2, 3]], ["+", "大"])
    # equal distances from the target are as uninformative as a constant column
    r = entropy([[1, 1], [3, 3]], ["+", 2], ["X1", "X2"])
    assert list(r.weights) == [1.0, 0.0] and "“X2”各对象与目标值的偏差相同" in r.warnings[0]


# ---- TOPSIS -------------------------------------------------------------------------------------

# Hwang, C. L. & Yoon, K. (1981). Multiple Attribute Decision Making: Methods and Applications,
# Springer, pp. 131–133: four fighter aircraft, six attributes (acquisition cost the only cost attribute),
# w = (0.2, 0.1, 0.1, 0.1, 0.2, 0.3); the book's relative closeness 0.643, 0.268, 0.613, 0.312.
AIRCRAFT = [[2.0, 1500, 20000, 5.5, 5, 9], [2.5, 2700, 18000, 6.5, 3, 5],
            [1.8, 2000, 21000, 4.5, 7, 7], [2.2, 1800, 20000, 5.0, 5, 5]]
AIRCRAFT_W = [0.2, 0.1, 0.1, 0.1, 0.2, 0.3]
AIRCRAFT_DIR = ["+", "+", "+", "-", "+", "+"]


def test_topsis_reproduces_hwang_and_yoons_aircraft_example():
    r = topsis(AIRCRAFT, AIRCRAFT_W, AIRCRAFT_DIR, alternatives=["A1", "A2", "A3", "A4"])
    # the book rounds its intermediate tables to 4 places, hence 0.613 where full precision gives 0.6135
    np.testing.assert_allclose(r.closeness, [0.643, 0.268, 0.613, 0.312], atol=1e-3)
    np.testing.assert_allclose(r.d_best, [0.0546, 0.1197, 0.0580, 0.1009], atol=1e-4)
    np.testing.assert_allclose(r.d_worst, [0.0984, 0.0439, 0.0920, 0.0458], atol=1e-4)
    assert list(r.ranks) == [1, 4, 2, 3] and r.order() == [0, 2, 3, 1]


def test_topsis_equals_pymcdm_with_vector_normalisation():
    """pymcdm's TOPSIS with ``vector_normalization`` (its default is min–max, so it is named): for a
    cost column it uses 1 − x/‖x‖, which gives the same distances as taking the minimum as ideal."""
    from pymcdm.methods import TOPSIS
    from pymcdm.normalizations import vector_normalization

    rng = np.random.default_rng(7)
    x = rng.uniform(1, 100, (50, 8))
    w = rng.uniform(0.1, 1, 8)
    types = np.array([1, -1, 1, 1, -1, 1, 1, -1])
    ours = topsis(x, w, ["+" if t > 0 else "-" for t in types])
    ref = TOPSIS(normalization_function=vector_normalization)(x, w / w.sum(), types)
    np.testing.assert_allclose(ours.closeness, ref, atol=1e-12)


def test_topsis_equal_weights_ties_and_refusals():
    r = topsis([[1, 2], [2, 1], [3, 3]], alternatives=["甲", "乙", "丙"])
    np.testing.assert_allclose(r.weights, [0.5, 0.5])
    assert list(r.ranks) == [2, 3, 1]  # 甲 and 乙 tie: the input order decides
    with pytest.raises(Refused, match="只有 1 个评价对象"):
        topsis([[1, 2]])
    with pytest.raises(Refused, match="全为 0"):
        topsis([[0, 2], [0, 3]])
    with pytest.raises(Refused, match="只能是"):
        topsis([[1, 2], [2, 3]], None, ["+", 5])
    with pytest.raises(Refused, match="权重 3 个"):
        topsis([[1, 2], [2, 3]], [1, 1, 1])


# ---- combination and decimals -------------------------------------------------------------------

def test_combine():
    np.testing.assert_allclose(combine([0.6, 0.4], [0.2, 0.8]), [0.4, 0.6])
    np.testing.assert_allclose(combine([0.6, 0.4], [0.2, 0.8], alpha=1), [0.6, 0.4])
    with pytest.raises(Refused, match="α 应在 0 与 1 之间"):
        combine([0.6, 0.4], [0.2, 0.8], alpha=1.5)
    with pytest.raises(Refused, match="个数不同"):
        combine([0.6, 0.4], [1.0])
    with pytest.raises(Refused, match="合计为 1"):
        combine([0.6, 0.6], [0.2, 0.8])


def test_decimal_weights_sum_to_exactly_one():
    w = decimal_weights([1, 1, 1])
    assert sum(w) == Decimal(1) and w == [Decimal("0.333334"), Decimal("0.333333"), Decimal("0.333333")]
    r = ahp(drinks_matrix(), DRINKS)
    assert sum(decimal_weights(r.weights)) == 1
