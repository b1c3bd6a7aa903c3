"""Figures: the weighting methods (赋权) against their targets, side by side with the reference
implementations from PyPI (dev extras) in the same run, with the ratios:

- AHP for n = 15 (a consistent matrix built from a random weight vector with small multiplicative
  noise), target ≤ 0.5 s — against pymcdm's AHP (eigenvector) and ahpy's Compare (power method);
- entropy weights on 2,000 alternatives × 200 indicators, target ≤ 0.5 s — against pymcdm's
  ``entropy_weights`` (which normalises by column sums, not min–max: compared for speed only);
- TOPSIS on 2,000 × 200 with vector normalisation, target ≤ 0.5 s — against pymcdm's TOPSIS with
  ``vector_normalization`` (the closeness values are checked equal).

Pure NumPy, no database. Each figure is the best of 5 runs. Run: ``.venv/bin/python bench/weighting.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import table  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

TARGET = 0.5
RUNS = 5


def best(fn) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def ahp_matrix(n: int = 15, noise: float = 0.05, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.uniform(1, 3, n)
    a = w[:, None] / w[None, :]
    e = np.exp(np.triu(rng.normal(0, noise, (n, n)), 1))
    e = np.triu(e, 1) + np.tril(1 / e.T, -1) + np.eye(n)
    return a * e


def main() -> None:
    import ahpy
    from pymcdm.methods import TOPSIS
    from pymcdm.normalizations import vector_normalization
    from pymcdm.weights import entropy_weights
    from pymcdm.weights.subjective import AHP

    from chengzhen.assessment import weighting

    rows = []
    a = ahp_matrix()
    names = [f"c{k}" for k in range(15)]
    ours = best(lambda: weighting.ahp(a, names))
    result = weighting.ahp(a, names)
    # pymcdm accepts judgements on the 1–9 scale only: time its eigenvector step on the same matrix
    ref = AHP(matrix=np.ones((2, 2)))
    ref.matrix = a
    t_pymcdm = best(lambda: ref._matrix_to_weights())
    judgements = {(names[i], names[j]): a[i, j] for i in range(15) for j in range(i + 1, 15)}
    t_ahpy = best(lambda: ahpy.Compare("bench", judgements, precision=10, random_index="saaty"))
    rows.append({"what": f"AHP n = 15 (CR = {result.cr:.4f})", "ours": ours, "ref": t_pymcdm,
                 "ref_name": "pymcdm AHP", "ratio": ours / t_pymcdm, "target": TARGET, "ok": ours <= TARGET})
    rows.append({"what": "", "ours": ours, "ref": t_ahpy, "ref_name": "ahpy Compare", "ratio": ours / t_ahpy,
                 "target": TARGET, "ok": ours <= TARGET})

    rng = np.random.default_rng(2)
    x = rng.uniform(1, 100, (2000, 200))
    directions = ["+" if k % 3 else "-" for k in range(200)]
    ours = best(lambda: weighting.entropy(x, directions))
    t_ref = best(lambda: entropy_weights(x))
    rows.append({"what": "entropy 2,000 × 200", "ours": ours, "ref": t_ref, "ref_name": "pymcdm entropy_weights",
                 "ratio": ours / t_ref, "target": TARGET, "ok": ours <= TARGET})

    w = rng.uniform(0.1, 1, 200)
    types = np.array([1 if d == "+" else -1 for d in directions])
    ours = best(lambda: weighting.topsis(x, w, directions))
    method = TOPSIS(normalization_function=vector_normalization)
    t_ref = best(lambda: method(x, w / w.sum(), types))
    assert np.allclose(weighting.topsis(x, w, directions).closeness, method(x, w / w.sum(), types), atol=1e-12)
    rows.append({"what": "TOPSIS 2,000 × 200", "ours": ours, "ref": t_ref, "ref_name": "pymcdm TOPSIS (vector)",
                 "ratio": ours / t_ref, "target": TARGET, "ok": ours <= TARGET})
    for r in rows:
        r["ours"] = f"{r['ours'] * 1000:.2f} ms"
        r["ref"] = f"{r['ref'] * 1000:.2f} ms"
        r["ratio"] = f"{r['ratio']:.2f}"
        r["ok"] = "yes" if r["ok"] else "NO"
    print(table(f"weighting methods (best of {RUNS}; target ≤ {TARGET} s each)", rows,
                [("what", "what"), ("ours", "ours"), ("ref_name", "reference"), ("ref", "reference time"),
                 ("ratio", "ours / reference"), ("ok", "≤ 0.5 s")]))


if __name__ == "__main__":
    main()
