"""The scoring engine: a framework version, subject profiles and values in; scores out, every point
explained. Pure and vectorised: one NumPy pass per leaf over all subjects, no loop over subjects.

What it returns per subject and leaf: the score (float64, never NaN), the rule applied and a
structured explanation (rule code, its inputs, its parameters as resolved for the subject's
class, the case that applied); per node the counted score after key items (关键项) zeroed their
blocks; the total; one-vote vetoes (一票否决) and failed prerequisites (前置条件). Explanations are
kept as columns (arrays per leaf) so 1,000 × 1,000 costs arrays, not a million dictionaries;
``Result.explanation(subject, code)`` builds the one a sentence needs.

Values come in the leaf's own unit (the reader converts with ``units``); a missing value scores
0 and says so. Grades and ranks are made from the totals by ``grading``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .framework import ByClass, Framework, Node
from .rules import CASES, RULES, RuleOutput, ratio

EPS = 1e-9


class EngineInputError(ValueError):
    """Inputs the engine cannot score (a subject without the class a threshold depends on)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class Values:
    """Values by (leaf code, input code) as float64 arrays over ``subjects`` (NaN where missing)."""

    subjects: list[str]
    arrays: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_records(cls, subjects: list[str], records: Iterable[tuple[str, str, str, float]]) -> Values:
        """From (subject, leaf code, input code, value) records; unknown subjects are ignored."""
        index = {s: i for i, s in enumerate(subjects)}
        n = len(subjects)
        arrays: dict[tuple[str, str], np.ndarray] = {}
        for subject, code, input_code, value in records:
            i = index.get(subject)
            if i is None:
                continue
            arr = arrays.get((code, input_code))
            if arr is None:
                arr = arrays[(code, input_code)] = np.full(n, np.nan)
            arr[i] = value
        return cls(list(subjects), arrays)

    def get(self, code: str, input_code: str) -> np.ndarray:
        arr = self.arrays.get((code, input_code))
        return arr if arr is not None else np.full(len(self.subjects), np.nan)


@dataclass
class LeafResult:
    """One leaf over all subjects: what the rule gave, and what counted after block zeroing."""

    node: Node
    output: RuleOutput
    inputs: dict[str, np.ndarray]  # what the rule read (the ratio's value for a formula)
    params: dict[str, Any]  # numbers, or per-subject arrays where class-dependent
    class_by: tuple[str, ...] = ()  # attributes the class-dependent parameters used
    formula_inputs: dict[str, np.ndarray] | None = None  # numerator, denominator
    zero_denominator: np.ndarray | None = None
    counted: np.ndarray | None = None  # score after key items zeroed the block (0 there)

    @property
    def score(self) -> np.ndarray:
        return self.output.score

    def case_name(self, s: int) -> str:
        return CASES[self.node.rule_type][int(self.output.case[s])]


@dataclass
class Result:
    framework: Framework
    subjects: list[str]
    profiles: dict[str, dict[str, str]]
    leaves: dict[str, LeafResult]
    node_scores: dict[str, np.ndarray]  # counted score of every node
    failed_key: dict[str, np.ndarray]  # internal node → index of the first failed key child (−1: none)
    total: np.ndarray
    vetoed_by: dict[str, np.ndarray]  # veto leaf → triggered
    prerequisite_failed_by: dict[str, np.ndarray]

    @property
    def vetoed(self) -> np.ndarray:
        out = np.zeros(len(self.subjects), dtype=bool)
        for flag in self.vetoed_by.values():
            out |= flag
        return out

    @property
    def prerequisite_failed(self) -> np.ndarray:
        out = np.zeros(len(self.subjects), dtype=bool)
        for flag in self.prerequisite_failed_by.values():
            out |= flag
        return out

    def zeroed_by(self, s: int, code: str) -> str | None:
        """The key item whose failure zeroed a block containing ``code`` (nearest block first)."""
        fw = self.framework
        for ancestor in reversed(fw.node(code).path[:-1]):
            failed = self.failed_key.get(ancestor)
            if failed is not None and failed[s] >= 0:
                key = fw.node(ancestor).children[int(failed[s])]
                return f"{key.code} {key.name}"
        return None

    def explanation(self, s: int, code: str) -> dict[str, Any]:
        """The structured explanation of subject ``s`` (index) on leaf ``code``."""
        leaf = self.leaves[code]
        node = leaf.node
        params = {}
        for k, v in leaf.params.items():
            params[k] = float(v[s]) if isinstance(v, np.ndarray) else v
        ex: dict[str, Any] = {
            "code": node.code,
            "name": node.name,
            "unit": node.unit,
            "points": node.points,
            "rule": node.rule_type,
            "case": leaf.case_name(s),
            "direction": node.direction,
            "inputs": {k: _num(v[s]) for k, v in leaf.inputs.items()},
            "input_labels": {i.code: i.label for i in node.inputs},
            "params": params,
            "score": float(leaf.score[s]),
            "counted": float(leaf.counted[s]) if leaf.counted is not None else float(leaf.score[s]),
            "extra": {k: _num(v[s]) for k, v in leaf.output.extra.items()},
            "class": None,
            "formula": None,
            "zeroed_by": self.zeroed_by(s, code),
        }
        if leaf.output.flag is not None:
            ex["flag"] = bool(leaf.output.flag[s])
        if leaf.class_by:
            ex["class"] = self.framework.class_label(self.profiles.get(self.subjects[s], {}), leaf.class_by)
        if leaf.formula_inputs is not None:
            f = node.formula
            ex["formula"] = {
                "numerator": _num(leaf.formula_inputs["numerator"][s]),
                "denominator": _num(leaf.formula_inputs["denominator"][s]),
                "scale": f.scale,
                "numerator_label": f.numerator,
                "denominator_label": f.denominator,
                "numerator_unit": f.numerator_unit,
                "denominator_unit": f.denominator_unit,
                "zero_denominator": bool(leaf.zero_denominator[s]),
            }
        return ex

    def leaf_explanations(self, code: str) -> list[dict[str, Any]]:
        """The explanations of every subject on leaf ``code``, built column-wise (what storing a
        whole run uses: the same dicts as ``explanation``, several times faster)."""
        leaf = self.leaves[code]
        node = leaf.node
        n = len(self.subjects)
        names = CASES[node.rule_type]
        cases = [names[c] for c in leaf.output.case.tolist()]
        scores = leaf.score.tolist()
        counted = leaf.counted.tolist() if leaf.counted is not None else scores
        inputs = {k: _nums(v) for k, v in leaf.inputs.items()}
        extra = {k: _nums(v) for k, v in leaf.output.extra.items()}
        fixed = {k: v for k, v in leaf.params.items() if not isinstance(v, np.ndarray)}
        varying = {k: v.tolist() for k, v in leaf.params.items() if isinstance(v, np.ndarray)}
        flags = leaf.output.flag.tolist() if leaf.output.flag is not None else None
        classes = None
        if leaf.class_by:
            classes = [self.framework.class_label(self.profiles.get(s, {}), leaf.class_by) for s in self.subjects]
        zeroed = [None] * n
        for ancestor in node.path[:-1]:  # outermost first, so the nearest block wins
            failed = self.failed_key.get(ancestor)
            if failed is not None:
                block = self.framework.node(ancestor)
                for i in np.flatnonzero(failed >= 0).tolist():
                    key = block.children[int(failed[i])]
                    zeroed[i] = f"{key.code} {key.name}"
        formula = None
        if leaf.formula_inputs is not None:
            f = node.formula
            nums, dens = _nums(leaf.formula_inputs["numerator"]), _nums(leaf.formula_inputs["denominator"])
            zero = leaf.zero_denominator.tolist()
            formula = [
                {
                    "numerator": nums[i],
                    "denominator": dens[i],
                    "scale": f.scale,
                    "numerator_label": f.numerator,
                    "denominator_label": f.denominator,
                    "numerator_unit": f.numerator_unit,
                    "denominator_unit": f.denominator_unit,
                    "zero_denominator": zero[i],
                }
                for i in range(n)
            ]
        labels = {i.code: i.label for i in node.inputs}
        out = []
        for i in range(n):
            params = {**fixed, **{k: v[i] for k, v in varying.items()}} if varying else fixed
            ex = {
                "code": node.code,
                "name": node.name,
                "unit": node.unit,
                "points": node.points,
                "rule": node.rule_type,
                "case": cases[i],
                "direction": node.direction,
                "inputs": {k: v[i] for k, v in inputs.items()},
                "input_labels": labels,
                "params": params,
                "score": scores[i],
                "counted": counted[i],
                "extra": {k: v[i] for k, v in extra.items()},
                "class": classes[i] if classes else None,
                "formula": formula[i] if formula else None,
                "zeroed_by": zeroed[i],
            }
            if flags is not None:
                ex["flag"] = flags[i]
            out.append(ex)
        return out


STATIC_KEYS = frozenset({"code", "name", "unit", "points", "rule", "direction", "input_labels"})


def compact(ex: dict[str, Any]) -> dict[str, Any]:
    """What is stored of an explanation: the parts that differ between subjects (the rest — name,
    unit, points, rule, direction, input labels — is in the framework version the run names)."""
    out = {k: v for k, v in ex.items() if k not in STATIC_KEYS and v is not None}
    formula = out.get("formula")
    if formula:
        out["formula"] = {k: formula[k] for k in ("numerator", "denominator", "zero_denominator")}
    return out


def _nums(a: np.ndarray) -> list[float | None]:
    return [None if x != x else x for x in np.asarray(a, dtype=float).tolist()]


def _num(x: Any) -> float | None:
    f = float(x)
    return None if np.isnan(f) else f


def score(fw: Framework, subjects: list[str], profiles: dict[str, dict[str, str]], values: Values) -> Result:
    """Score every subject on every leaf of ``fw``. Raises ``EngineInputError`` when a subject lacks
    the class a class-dependent parameter needs."""
    if values.subjects != list(subjects):
        raise ValueError("values are not for these subjects")
    n = len(subjects)
    resolver = _ClassResolver(fw, subjects, profiles)
    leaves: dict[str, LeafResult] = {}
    for node in fw.leaves():
        leaves[node.code] = _score_leaf(node, n, values, resolver)
    if resolver.problems:
        raise EngineInputError(sorted(set(resolver.problems)))
    node_scores: dict[str, np.ndarray] = {}
    failed_key: dict[str, np.ndarray] = {}

    def aggregate(node: Node) -> np.ndarray:
        if node.is_leaf:
            leaf = leaves[node.code]
            node_scores[node.code] = leaf.score
            return leaf.score
        child_scores = [aggregate(c) for c in node.children]
        regular = np.zeros(n)
        bonus = np.zeros(n)
        for c, sc in zip(node.children, child_scores, strict=True):
            if c.bonus:
                bonus += sc
            elif c.awards_points:
                regular += sc
        if node.bonus:
            total = np.minimum(bonus, node.points)
        else:
            total = np.minimum(regular, node.points) + bonus
        failed = np.full(n, -1, dtype=np.int16)
        for i in range(len(node.children) - 1, -1, -1):  # the first failing key child wins
            c = node.children[i]
            if c.key:
                bar = c.key_pass if c.key_pass is not None else c.points
                fails = child_scores[i] < bar - EPS * max(1.0, abs(bar))
                failed = np.where(fails, i, failed)
        if (failed >= 0).any():
            total = np.where(failed >= 0, 0.0, total)
            failed_key[node.code] = failed
        node_scores[node.code] = total
        return total

    total = np.zeros(n)
    top_bonus = np.zeros(n)
    for top in fw.nodes:
        sc = aggregate(top)
        if top.bonus:
            top_bonus += sc
        elif top.awards_points:
            total += sc
    total = np.minimum(total, fw.total) + top_bonus
    # what counts after zeroing: a block zeroed zeroes everything under it
    zero = np.zeros(n, dtype=bool)

    def push(node: Node, zeroed: np.ndarray) -> None:
        here = zeroed | (failed_key[node.code] >= 0) if node.code in failed_key else zeroed
        if node.is_leaf:
            leaf = leaves[node.code]
            leaf.counted = np.where(zeroed, 0.0, leaf.score) if zeroed.any() else leaf.score
            node_scores[node.code] = leaf.counted
            return
        if zeroed.any():
            node_scores[node.code] = np.where(zeroed, 0.0, node_scores[node.code])
        for c in node.children:
            push(c, here)

    for top in fw.nodes:
        push(top, zero)
    vetoed_by = {c: leaves[c].output.flag for c in leaves if leaves[c].node.rule_type == "veto"}
    prereq = {c: leaves[c].output.flag for c in leaves if leaves[c].node.rule_type == "prerequisite"}
    return Result(fw, list(subjects), profiles, leaves, node_scores, failed_key, _finite(total), vetoed_by, prereq)


def _finite(a: np.ndarray) -> np.ndarray:
    return np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)


def _score_leaf(node: Node, n: int, values: Values, resolver: _ClassResolver) -> LeafResult:
    spec = RULES[node.rule_type]
    params: dict[str, Any] = {}
    class_by: tuple[str, ...] = ()
    for name, value in node.params.items():
        if isinstance(value, ByClass):
            params[name] = resolver.resolve(node, name, value)
            class_by = tuple(dict.fromkeys(class_by + value.by))
        else:
            params[name] = value
    formula_inputs = zero_den = None
    if node.formula is not None:
        num, den = values.get(node.code, "numerator"), values.get(node.code, "denominator")
        value, zero_den = ratio(num, den, node.formula.scale)
        formula_inputs = {"numerator": num, "denominator": den}
        inputs = {"value": np.where(zero_den, np.nan, value)}  # a zero denominator scores as no value
    else:
        inputs = {i.code: values.get(node.code, i.code) for i in node.inputs}
    out = spec.fn(inputs, params, node.points, node.direction)
    out.score = _finite(np.asarray(out.score, dtype=float))
    return LeafResult(node, out, inputs, params, class_by, formula_inputs, zero_den)


class _ClassResolver:
    """Class-dependent parameters as per-subject arrays; subjects' class keys computed once per
    attribute combination."""

    def __init__(self, fw: Framework, subjects: list[str], profiles: dict[str, dict[str, str]]):
        self.fw = fw
        self.subjects = subjects
        self.profiles = profiles
        self.keys: dict[tuple[str, ...], tuple[np.ndarray, list[str]]] = {}
        self.problems: list[str] = []

    def _keys(self, by: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
        got = self.keys.get(by)
        if got is None:
            keys = []
            for s in self.subjects:
                profile = self.profiles.get(s, {})
                parts = []
                for a in by:
                    v = profile.get(a)
                    attr = self.fw.profile[a]
                    if v not in attr.values:
                        # the value's name is accepted for its code (people write 南方, not south)
                        v = next((c for c, name in attr.values.items() if name == v), v)
                    if v not in attr.values:
                        self.problems.append(
                            f"对象 {s} 的属性 {a}（{attr.name}）"
                            + ("未填写" if v in (None, "") else f"取值 {v!r} 无效")
                            + f"，可选：{'、'.join(f'{c}（{nm}）' for c, nm in attr.values.items())}"
                        )
                    parts.append(str(v))
                keys.append("/".join(parts))
            uniq, inverse = np.unique(np.array(keys, dtype=object), return_inverse=True)
            got = self.keys[by] = (inverse, list(uniq))
        return got

    def resolve(self, node: Node, name: str, param: ByClass) -> np.ndarray:
        inverse, uniq = self._keys(param.by)
        table = np.empty(len(uniq))
        for i, key in enumerate(uniq):
            v = param.value_for(key)
            if v is None:
                if "?" not in key and all(
                    p in self.fw.profile[a].values for p, a in zip(key.split("/"), param.by, strict=False)
                ):
                    self.problems.append(f"{self.fw.path_label(node.code)} › rule.{name}: 类别 {key} 没有取值")
                v = 0.0
            table[i] = v
        return table[inverse] if len(self.subjects) else np.zeros(0)
