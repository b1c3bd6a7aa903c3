"""Figures: the scoring engine alone, 1,000 subjects × 1,000 indicators, returning scores and
structured explanations (rendering excluded), target ≤ 2 s; and rendering every sentence and
storing every score for 200 subjects × 1,000 indicators, target ≤ 15 s on PostgreSQL.

The framework is synthetic: ten dimensions of a hundred leaves cycling through every rule type
(threshold with a class-dependent target, linear, steps, deduction, proportional, bonus, veto,
prerequisite, satisfaction with four options, a three-year composite) and ratio formulas on a
tenth of the leaves, so every code path of the engine runs. Values are random, a few missing.
Part one runs in-process (no database); part two on SQLite and on PostgreSQL, each in a fresh
database, and includes grading, ranking and building the explanation of every cell.
Run: ``.venv/bin/python bench/assessment_engine.py`` (or ``make bench``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_each, setup_django, table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

RULES = [
    {"type": "threshold", "target": {"by": "band", "values": {"big": 30, "small": 35}}},
    {"type": "linear", "floor": 20, "target": 60},
    {"type": "steps", "steps": [[80, 10], [60, 6], [40, 3]]},
    {"type": "deduction", "per": 1},
    {"type": "proportional"},
    {"type": "bonus", "per": 1, "cap": 2},
    {"type": "veto"},
    {"type": "prerequisite", "target": 5},
    {"type": "satisfaction", "options": {"满意": 100, "基本满意": 60, "不满意": 0, "不了解": 50}},
    {"type": "composite", "years": [{"label": "第一年", "weight": 0.15}, {"label": "第二年", "weight": 0.25},
                                    {"label": "第三年", "weight": 0.6}]},
]


def framework(leaves: int = 1000):
    from chengzhen.assessment.framework import from_dict

    dims = []
    per_dim = leaves // 10
    for d in range(10):
        children = []
        regular = 0
        for i in range(per_dim):
            rule = RULES[i % len(RULES)]
            code = f"D{d}I{i:03d}"
            node = {"code": code, "name": f"指标{d}-{i}", "unit": "%", "rule": dict(rule)}
            if rule["type"] in ("deduction", "veto", "bonus"):
                node["unit"] = "处"
            if rule["type"] == "composite":
                node["unit"] = "分"
            if rule["type"] == "bonus":
                node["points"] = 2
            elif rule["type"] not in ("veto", "prerequisite"):
                node["points"] = 10
                regular += 10
            if rule["type"] == "linear" and i % 20 == 1:
                node["formula"] = {"numerator": {"name": "分子", "unit": "万吨"},
                                   "denominator": {"name": "分母", "unit": "万吨"}, "scale": 100}
            children.append(node)
        dims.append({"code": f"D{d}", "name": f"维度{d}", "points": regular, "children": children})
    total = sum(d["points"] for d in dims)
    profile = {"band": {"name": "规模", "values": {"big": "大", "small": "小"}}}
    return from_dict({"code": "BENCH", "version": "1", "name": "基准测评体系", "status": "sample",
                      "sources": ["synthetic"], "profile": profile, "total": total, "nodes": dims})


def inputs(fw, n: int, seed: int = 7):
    import numpy as np

    from chengzhen.assessment.engine import Values

    rng = np.random.default_rng(seed)
    subjects = [f"{330100000000 + i}" for i in range(n)]
    profiles = {s: {"band": "big" if i % 3 else "small"} for i, s in enumerate(subjects)}
    arrays = {}
    for leaf in fw.leaves():
        for inp in leaf.inputs:
            if leaf.rule_type in ("deduction", "bonus"):
                a = rng.integers(0, 6, n).astype(float)
            elif leaf.rule_type == "veto":
                a = (rng.random(n) < 0.002).astype(float)
            elif leaf.rule_type == "satisfaction":
                a = rng.integers(0, 200, n).astype(float)
            else:
                a = rng.uniform(0, 100, n)
            a[rng.random(n) < 0.01] = np.nan  # a few missing
            arrays[(leaf.code, inp.code)] = a
    return subjects, profiles, Values(subjects, arrays)


def engine_alone(n: int = 1000, repeats: int = 3) -> dict:
    from chengzhen.assessment.engine import score

    fw = framework()
    subjects, profiles, values = inputs(fw, n)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        result = score(fw, subjects, profiles, values)
        best = min(best, time.perf_counter() - t)
    # the structured explanation of any cell is there without further computation
    ex = result.explanation(n - 1, fw.leaves()[-1].code)
    assert ex["rule"] == "composite"
    return {"subjects": n, "indicators": len(fw.leaves()), "engine_s": best}


def measure(n: int = 200) -> dict:
    setup_django()
    from chengzhen.assessment import services
    from chengzhen.assessment.engine import score
    from chengzhen.assessment.models import IndicatorScore
    from chengzhen.org.models import system_user

    system = system_user()
    fw = framework()
    version = services.import_framework(system, fw).version
    subjects, profiles, values = inputs(fw, n)
    t = time.perf_counter()
    result = score(fw, subjects, profiles, values)
    engine_s = time.perf_counter() - t
    t = time.perf_counter()
    scored = services.store_scoring(system, version, result, {s: f"对象{s}" for s in subjects}, keep_cards=False)
    store_s = time.perf_counter() - t
    rows = IndicatorScore.objects.filter(scoring=scored.scoring).count()
    return {"subjects": n, "indicators": len(fw.leaves()), "rows": rows, "engine_s": engine_s,
            "store_s": store_s, "total_s": engine_s + store_s}


def main() -> None:
    if "--measure" in sys.argv:
        print(json.dumps(measure()))
        return
    import django  # noqa: F401  (the engine is pure; this only checks the environment)

    alone = engine_alone()
    print(table("assessment engine alone (scores + structured explanations, no rendering; target ≤ 2 s)",
                [alone], [("subjects", "subjects"), ("indicators", "indicators"), ("engine_s", "engine (s)")]))
    print()
    results = run_each(__file__)
    print(table("render every sentence and store every score, 200 × 1,000 (target ≤ 15 s on PostgreSQL)",
                results, [("database", "database"), ("rows", "indicator scores"), ("engine_s", "engine (s)"),
                          ("store_s", "grade, render, store (s)"), ("total_s", "total (s)")]))


if __name__ == "__main__":
    main()
