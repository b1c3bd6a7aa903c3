"""Merging joint campaigns' frameworks into one target list (六城联创，就高不就低). Pure: no Django.

Several campaigns (创建) demand the same thing of a city — 建成区绿化覆盖率 ≥ 36 % in one, ≥ 40 % in
another. ``merge`` lays their frameworks side by side: every leaf is given its canonical measure by
the dictionary (``matching.Dictionary.lookup``, people's confirmed matches included), the leaves of
one measure become one merged indicator naming every campaign that demands it, each campaign's
threshold for the subject (or per class without a subject), the binding threshold and the campaign
that sets it, one proposed lead department (职责归口) with the others cooperating, and the conflicts a
supervisor has to settle. Leaves the dictionary does not know stay rows of their own, so the list
is complete.

Which rules carry a threshold (all in the canonical measure's unit, as Decimal):

* ``threshold`` and ``prerequisite``: ``target`` with ``op`` (default ≥ for higher, ≤ for lower),
  or ``[low, high]`` (both inclusive) for a band;
* ``linear``: the full-score ``target`` (≥ or ≤ by direction), or ``[low, high]`` for a band;
* ``steps``: the bound of the first (full-points) step, ≥ or ≤ by direction;
* ``proportional``: ``full_at`` (≥, default 100);
* ``satisfaction``: its ``target`` when given (≥);
* ``veto``: the count may not exceed ``limit`` (≤, default 0).

The others (``deduction``, ``bonus``, ``composite``, a ``satisfaction`` without target) are
qualitative: a requirement in words with the demand level the framework declares through the
fields it already has — 关键项 (``key: true``) 2, a scored item 1, a bonus item (加分项) 0.

The binding threshold (约束门槛) is the intersection of every campaign's requirement: the highest
lower bound (a strict ``> 8.0`` beats an equal ``≥ 8.0``), the lowest upper bound, so for ≥
thresholds the max, for ≤ the min, for bands their intersection; an empty intersection is a
conflict. With no numeric threshold at all the binding requirement is the qualitative one of the
highest level. Equal requirements bind together (every such campaign is named).

Order (deterministic, whatever order the campaigns come in): campaigns by framework code; merged
rows first by the dictionary's measure order, then the rows of their own by campaign and by the
frameworks' node order; sources inside a row by campaign, then node order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import product
from typing import Any

from chengzhen.problems import Problem, Refused

from . import units as unit_table
from .framework import Framework, Node
from .matching import Dictionary, Measure
from .rules import describe

OP_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
LEVELS = {2: "关键项", 1: "计分项", 0: "加分项"}  # qualitative demand levels, most demanding first
DIRECTION_NAMES = {"higher": "越高越好", "lower": "越低越好", "band": "目标区间", "": "定性"}
_GLUED_UNITS = {"%", "‰", "‱"}  # written right after the number (36%); other units after a space
_DEPARTMENT_SPLIT = re.compile(r"[、，,；;]")


# ---- thresholds ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """What one leaf demands, in the canonical unit: a lower bound, an upper bound, both (a band),
    or neither (a qualitative requirement with its demand level)."""

    low: Decimal | None = None
    low_strict: bool = False  # > rather than ≥
    high: Decimal | None = None
    high_strict: bool = False  # < rather than ≤
    requirement: str = ""  # qualitative: the requirement in words
    level: int | None = None  # qualitative: LEVELS

    @classmethod
    def one_sided(cls, op: str, value: Decimal) -> Threshold:
        if op in (">=", ">"):
            return cls(low=value, low_strict=op == ">")
        return cls(high=value, high_strict=op == "<")

    @property
    def qualitative(self) -> bool:
        return self.low is None and self.high is None

    @property
    def kind(self) -> str:
        """``min`` (≥ / >), ``max`` (≤ / <), ``band`` or ``qualitative``."""
        if self.qualitative:
            return "qualitative"
        if self.high is None:
            return "min"
        return "max" if self.low is None else "band"

    @property
    def op(self) -> str:
        """The comparison of a one-sided threshold ("" for a band or a qualitative requirement)."""
        if self.kind == "min":
            return ">" if self.low_strict else ">="
        if self.kind == "max":
            return "<" if self.high_strict else "<="
        return ""

    @property
    def value(self) -> Decimal | None:
        return {"min": self.low, "max": self.high}.get(self.kind)

    @property
    def empty(self) -> bool:
        """A band no value can meet (low above high, or equal with a strict side)."""
        if self.low is None or self.high is None:
            return False
        return self.low > self.high or (self.low == self.high and (self.low_strict or self.high_strict))

    def text(self, unit: str = "") -> str:
        """``≥ 36%``, ``> 8.0 平方米/人``, ``30–40%`` (``(30–40]%`` when a side is strict), or the
        qualitative requirement with its level."""
        if self.qualitative:
            level = LEVELS.get(self.level, "") if self.level is not None else ""
            return f"{level}：{self.requirement}" if level and self.requirement else (self.requirement or level)
        if self.kind == "band":
            left, right = "(" if self.low_strict else "", ")" if self.high_strict else ""
            band = f"{number_text(self.low)}–{number_text(self.high)}"
            band = f"{left}{band}{right}" if left or right else band
            if left and not right:
                band += "]"
            if right and not left:
                band = "[" + band
            return _with_unit(band, unit)
        return f"{OP_SYMBOL[self.op]} {_with_unit(number_text(self.value), unit)}"

    def intersect(self, other: Threshold) -> Threshold:
        """Both requirements at once (numeric ones only)."""
        low, low_strict = _tighter_low((self.low, self.low_strict), (other.low, other.low_strict))
        high, high_strict = _tighter_high((self.high, self.high_strict), (other.high, other.high_strict))
        return Threshold(low, low_strict, high, high_strict)


def _tighter_low(a: tuple[Decimal | None, bool], b: tuple[Decimal | None, bool]) -> tuple[Decimal | None, bool]:
    if a[0] is None:
        return b
    if b[0] is None:
        return a
    return max(a, b)  # (value, strict): a strict bound beats an equal inclusive one


def _tighter_high(a: tuple[Decimal | None, bool], b: tuple[Decimal | None, bool]) -> tuple[Decimal | None, bool]:
    if a[0] is None:
        return b
    if b[0] is None:
        return a
    return min(a, b, key=lambda x: (x[0], not x[1]))


def number_text(x: Decimal | None) -> str:
    """A threshold as written (``8.0`` stays ``8.0``); long converted values to 6 decimals."""
    if x is None:
        return ""
    if x.as_tuple().exponent < -6:  # type: ignore[operator]
        x = x.quantize(Decimal("0.000001")).normalize()
    text = format(x, "f")
    return "0" if text in ("-0", "-0.0") else text


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return text + unit if unit in _GLUED_UNITS else f"{text} {unit}"


# ---- inputs and results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Campaign:
    """One campaign taking part (创建): its label, framework and optional programme deadline."""

    label: str
    code: str
    version: str
    framework: Framework
    deadline: dt.date | None = None

    @property
    def name(self) -> str:
        return f"{self.code}@{self.version}"


@dataclass(frozen=True)
class LeadRule:
    """How the lead department (牵头单位) is proposed: ``binding`` — the department named by the
    campaign whose threshold binds; ``precedence`` — the first department of ``precedence`` that
    any campaign names for the indicator (falling back to ``binding`` when none does)."""

    kind: str = "binding"
    precedence: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("binding", "precedence"):
            raise ValueError(f"牵头单位规则应为 binding 或 precedence，不是 {self.kind!r}")


@dataclass(frozen=True)
class ClassThreshold:
    """A threshold for one subject class: ``key`` as in ``ByClass`` (``over_1m/south``), the class
    in words, and the threshold."""

    by: tuple[str, ...]
    key: str
    label: str
    threshold: Threshold
    names: tuple[str, ...] = ()  # each attribute value's name, in the order of ``by``


@dataclass(frozen=True)
class Source:
    """One campaign's leaf inside a merged indicator."""

    campaign: str  # the campaign's label
    framework: str  # CODE@VERSION
    node: str
    name: str
    unit: str  # the leaf's own unit (thresholds below are in the merged indicator's unit)
    rule: str
    threshold: Threshold | None  # for the subject, or when not class-dependent
    by_class: tuple[ClassThreshold, ...] = ()  # without a subject: per class
    class_label: str = ""  # with a subject: the class its threshold was taken for
    departments: tuple[str, ...] = ()

    @property
    def department(self) -> str:
        return "、".join(self.departments)

    def threshold_for(self, combo: dict[str, str]) -> Threshold | None:
        """The threshold for a class combination (attribute code → value code)."""
        if not self.by_class:
            return self.threshold
        for ct in self.by_class:
            if all(combo.get(a) == v for a, v in zip(ct.by, ct.key.split("/"), strict=True)):
                return ct.threshold
        return None


@dataclass(frozen=True)
class Binding:
    """The binding requirement and the sources (indexes into the row's sources) that set it."""

    threshold: Threshold
    sources: tuple[int, ...]
    campaigns: tuple[str, ...]
    low_by: tuple[str, ...] = ()  # the campaigns setting the lower bound
    high_by: tuple[str, ...] = ()  # … and the upper bound

    @property
    def empty(self) -> bool:
        return self.threshold.empty


@dataclass(frozen=True)
class ClassBinding:
    combo: tuple[tuple[str, str], ...]  # (attribute code, value code)
    label: str
    binding: Binding | None


@dataclass(frozen=True)
class Conflict:
    kind: str  # empty (区间无交集) | departments (责任部门不一致)
    text: str


@dataclass(frozen=True)
class MergedIndicator:
    key: str  # the measure's code, or CODE:NODE for a leaf of its own
    measure: str  # "" for a leaf of its own
    name: str
    unit: str
    direction: str
    sources: tuple[Source, ...]
    binding: Binding | None  # for the subject, or when no source depends on the class
    by_class: tuple[ClassBinding, ...] = ()  # without a subject, when some source depends on the class
    conflicts: tuple[Conflict, ...] = ()
    lead: str = ""
    cooperating: tuple[str, ...] = ()
    proposals: tuple[Any, ...] = ()  # the matcher's proposals for a leaf of its own

    @property
    def campaigns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.campaign for s in self.sources))

    @property
    def binding_campaigns(self) -> tuple[str, ...]:
        if self.binding is not None:
            return self.binding.campaigns
        return tuple(dict.fromkeys(c for cb in self.by_class if cb.binding for c in cb.binding.campaigns))

    @property
    def numeric(self) -> bool:
        """Whether a numeric binding threshold was found (for the subject or for some class)."""
        if self.binding is not None:
            return not self.binding.threshold.qualitative
        return any(cb.binding and not cb.binding.threshold.qualitative for cb in self.by_class)


@dataclass(frozen=True)
class Merged:
    campaigns: tuple[Campaign, ...]
    rows: tuple[MergedIndicator, ...]
    lead_rule: LeadRule
    subject: str = ""
    profile: dict[str, str] | None = None

    @property
    def conflicts(self) -> int:
        return sum(1 for r in self.rows if r.conflicts)

    @property
    def binding_count(self) -> int:
        return sum(1 for r in self.rows if r.numeric)

    @property
    def shared(self) -> int:
        return sum(1 for r in self.rows if len(r.campaigns) > 1)


# ---- the merge ----------------------------------------------------------------------------------


def merge(
    campaigns: Iterable[Campaign],
    dictionary: Dictionary,
    profile: dict[str, str] | None = None,
    *,
    lead_rule: LeadRule | None = None,
    subject: str = "",
    proposals: bool = False,
) -> Merged:
    """Merge the campaigns' frameworks into one list (see the module docstring). ``profile`` is the
    subject's class (attribute code → value code or name); without it class-dependent thresholds
    are given per class. With ``proposals`` the matcher's proposals are attached to leaves the
    dictionary does not know. Raises ``Refused`` naming every problem (two versions of one
    framework, a unit that cannot be converted, a class the subject lacks); nothing half-merged."""
    lead_rule = lead_rule or LeadRule()
    ordered = tuple(sorted(campaigns, key=lambda c: (c.code, c.version, c.label)))
    problems: list[Problem] = []
    seen: dict[str, Campaign] = {}
    for c in ordered:
        if c.code in seen:
            other = seen[c.code]
            reason = (
                f"同一测评体系 {c.code} 列了两个版本（{other.version} 与 {c.version}），只能选一个"
                if other.version != c.version
                else f"测评体系 {c.name} 重复列出"
            )
            problems.append(Problem(file=c.name, reason=reason))
        seen.setdefault(c.code, c)
    if problems:
        raise Refused(problems)

    measure_order = {code: i for i, code in enumerate(dictionary.measures)}
    grouped: dict[str, list[tuple[Source, Node]]] = {}
    own: list[tuple[str, Source, Node, Measure | None]] = []
    for c in ordered:
        fw = c.framework
        for node in fw.leaves():
            where = Problem(file=c.name, column=fw.path_label(node.code, with_framework=False))
            try:
                unit_table.unit(node.unit)
            except unit_table.UnitError as exc:  # a framework parsed against an older unit table
                problems.append(_at(where, f"指标单位：{exc}（单位表中没有）"))
                continue
            rough = _rule_threshold_kind(node)
            measure = dictionary.lookup(node.name, node.unit, "" if rough == "qualitative" else node.direction)
            if measure is None and rough == "qualitative":
                measure = dictionary.lookup(node.name, node.unit, node.direction)
            target_unit = node.unit
            if measure is not None:
                try:
                    target_unit = unit_table.unit(measure.unit).code
                except unit_table.UnitError as exc:
                    problems.append(_at(where, f"规范指标 {measure.code}（{measure.name}）的单位：{exc}"))
                    continue
            source = _source(c, node, target_unit, profile, subject, where, problems)
            if source is None:
                continue
            if measure is not None:
                grouped.setdefault(measure.code, []).append((source, node))
            else:
                own.append((f"{c.code}:{node.code}", source, node, None))
    if problems:
        raise Refused(problems)

    rows: list[MergedIndicator] = []
    for code in sorted(grouped, key=lambda k: measure_order[k]):
        m = dictionary.measures[code]
        unit = unit_table.unit(m.unit).code
        rows.append(_row(code, code, m.name, unit, m.direction, [s for s, _n in grouped[code]], lead_rule, profile))
    propose = _proposer(dictionary) if proposals else None
    for key, source, node, _m in own:
        direction = "" if _rule_threshold_kind(node) == "qualitative" else node.direction
        row = _row(key, "", node.name, node.unit, direction, [source], lead_rule, profile)
        if propose is not None:
            row = _with_proposals(row, propose(node.name, node.unit, direction))
        rows.append(row)
    return Merged(ordered, tuple(rows), lead_rule, subject, dict(profile) if profile is not None else None)


def _at(where: Problem, reason: str) -> Problem:
    return Problem(file=where.file, column=where.column, reason=reason)


def _proposer(dictionary: Dictionary):
    """The matcher's ``propose`` over the dictionary's measures, when the matcher has one."""
    from . import matching

    fn = getattr(matching, "propose", None)
    if fn is None:
        return None
    candidates = list(dictionary.measures.values())
    return lambda name, unit, direction: tuple(fn(name, unit, direction, candidates))


def _with_proposals(row: MergedIndicator, proposals: tuple) -> MergedIndicator:
    return replace(row, proposals=proposals)


# ---- one leaf's threshold -----------------------------------------------------------------------


def _rule_threshold_kind(node: Node) -> str:
    """``numeric`` when the leaf's rule carries a threshold (see the module docstring)."""
    rtype, rule = node.rule_type, node.rule or {}
    if rtype in ("threshold", "prerequisite", "linear", "steps", "proportional", "veto"):
        return "numeric"
    if rtype == "satisfaction" and rule.get("target") is not None:
        return "numeric"
    return "qualitative"


def _level(node: Node) -> int:
    if node.key:
        return 2
    return 0 if node.bonus else 1


def _parts(node: Node) -> list[tuple[str, str, Any]]:
    """The threshold's parts as (role, op, value as written): role low/high/one."""
    rtype, rule, direction = node.rule_type, node.rule or {}, node.direction
    ge_or_le = "<=" if direction == "lower" else ">="
    if rtype in ("threshold", "prerequisite", "linear") and direction == "band":
        return [("low", ">=", rule.get("low", node.params.get("low"))),
                ("high", "<=", rule.get("high", node.params.get("high")))]
    if rtype in ("threshold", "prerequisite"):
        op = node.params.get("op") or ge_or_le
        return [("one", op, rule.get("target", node.params.get("target")))]
    if rtype == "linear":
        return [("one", ge_or_le, rule.get("target", node.params.get("target")))]
    if rtype == "steps":  # the first step is the full-points one (the framework checks the order)
        return [("one", ge_or_le, rule["steps"][0][0])]
    if rtype == "proportional":
        return [("one", ">=", rule.get("full_at", node.params.get("full_at", 100)))]
    if rtype == "satisfaction":
        return [("one", ">=", rule.get("target", node.params.get("target")))]
    if rtype == "veto":
        return [("one", "<=", rule.get("limit", node.params.get("limit", 0)))]
    return []


def _exact(raw: Any, node_unit: str) -> Decimal:
    """A parameter as written, exactly, in the leaf's unit (``"8.0 平方米/人"`` → 8.0)."""
    if isinstance(raw, str):
        value, given = unit_table.parse_quantity(raw)
        return unit_table.convert(value, given, node_unit) if given else value
    if isinstance(raw, Decimal):
        return raw
    return Decimal(str(raw))  # str of a float is its shortest repr: 7.5 stays 7.5


def _source(
    c: Campaign, node: Node, unit: str, profile: dict[str, str] | None, subject: str, where: Problem,
    problems: list[Problem],
) -> Source | None:
    fw = c.framework
    base = dict(
        campaign=c.label,
        framework=c.name,
        node=node.code,
        name=node.name,
        unit=node.unit,
        rule=node.rule_type,
        departments=split_departments(node.department),
    )
    if _rule_threshold_kind(node) == "qualitative":
        requirement = describe(node.rule or {}, node.unit, node.direction)
        return Source(**base, threshold=Threshold(requirement=requirement, level=_level(node)))
    parts = _parts(node)
    before = len(problems)

    def convert(raw: Any) -> Decimal | None:
        try:
            return unit_table.convert(_exact(raw, node.unit), node.unit, unit)
        except (unit_table.UnitError, ValueError, ArithmeticError) as exc:
            here, there = node.unit or "无单位", unit or "无单位"
            problems.append(_at(where, f"门槛 {raw}（{here}）不能换算为规范单位“{there}”：{exc}"))
            return None

    by = tuple(dict.fromkeys(a for _r, _op, raw in parts if isinstance(raw, dict) for a in _by(raw)))
    if not by:
        values = [(role, op, convert(raw)) for role, op, raw in parts]
        if len(problems) > before:
            return None
        return Source(**base, threshold=_build(values))
    if profile is not None:
        combo, label = _subject_class(fw, node, by, profile, subject, where, problems)
        if combo is None:
            return None
        values = []
        for role, op, raw in parts:
            picked = _pick(raw, combo)
            if picked is None:
                key = "/".join(combo[a] for a in _by(raw))
                problems.append(_at(where, f"门槛按类别取值，类别 {key}（{label}）没有取值"))
                return None
            values.append((role, op, convert(picked)))
        if len(problems) > before:
            return None
        return Source(**base, threshold=_build(values), class_label=label)
    per_class = []
    for combo_values in product(*(fw.profile[a].values for a in by)):
        combo = dict(zip(by, combo_values, strict=True))
        values = []
        for role, op, raw in parts:
            picked = _pick(raw, combo)
            if picked is None:
                break
            values.append((role, op, convert(picked)))
        else:
            if len(problems) > before:
                return None
            names = tuple(fw.profile[a].values[v] for a, v in combo.items())
            per_class.append(ClassThreshold(by, "/".join(combo_values), "、".join(names), _build(values), names))
    return Source(**base, threshold=None, by_class=tuple(per_class))


def _by(raw: dict) -> tuple[str, ...]:
    by = raw.get("by")
    return (by,) if isinstance(by, str) else tuple(by or ())


def _pick(raw: Any, combo: dict[str, str]) -> Any:
    """A parameter's value for a class combination (a ``{by, values, default}`` table or a number)."""
    if not isinstance(raw, dict):
        return raw
    key = "/".join(combo[a] for a in _by(raw))
    values = raw.get("values") or {}
    return values[key] if key in values else raw.get("default")


def _subject_class(
    fw: Framework, node: Node, by: tuple[str, ...], profile: dict[str, str], subject: str, where: Problem,
    problems: list[Problem],
) -> tuple[dict[str, str] | None, str]:
    combo: dict[str, str] = {}
    who = f"对象 {subject} " if subject else "对象"
    for a in by:
        attr = fw.profile[a]
        v = profile.get(a)
        if v not in attr.values:  # the value's name is accepted for its code (南方 for south)
            v = next((code for code, name in attr.values.items() if name == v), v)
        if v not in attr.values:
            state = "未填写" if v in (None, "") else f"取值 {v!r} 无效"
            choices = "、".join(f"{code}（{name}）" for code, name in attr.values.items())
            problems.append(_at(where, f"门槛按对象类别取值，{who}的属性 {a}（{attr.name}）{state}，可选：{choices}"))
            return None, ""
        combo[a] = v
    return combo, fw.class_label(combo, by)


def _build(values: Sequence[tuple[str, str, Decimal | None]]) -> Threshold:
    t = Threshold()
    for role, op, value in values:
        assert value is not None
        if role == "low":
            t = t.intersect(Threshold(low=value))
        elif role == "high":
            t = t.intersect(Threshold(high=value))
        else:
            t = t.intersect(Threshold.one_sided(op, value))
    return t


def split_departments(text: str) -> tuple[str, ...]:
    """``市爱卫办、疾控中心`` → (市爱卫办, 疾控中心); separators inside brackets are kept."""
    out, depth, current = [], 0, ""
    for ch in text or "":
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(0, depth - 1)
        if depth == 0 and _DEPARTMENT_SPLIT.match(ch):
            out.append(current)
            current = ""
        else:
            current += ch
    out.append(current)
    return tuple(dict.fromkeys(d.strip() for d in out if d.strip()))


# ---- one merged row -----------------------------------------------------------------------------


def _bind(thresholds: Sequence[tuple[int, Threshold]], sources: Sequence[Source]) -> Binding | None:
    numeric = [(i, t) for i, t in thresholds if not t.qualitative]
    if numeric:
        result = Threshold()
        for _i, t in numeric:
            result = result.intersect(t)
        low = [i for i, t in numeric if t.low is not None and (t.low, t.low_strict) == (result.low, result.low_strict)]
        high = [i for i, t in numeric
                if t.high is not None and (t.high, t.high_strict) == (result.high, result.high_strict)]
        setters = tuple(sorted(set(low) | set(high)))
        return Binding(result, setters, _campaigns(sources, setters), _campaigns(sources, low),
                       _campaigns(sources, high))
    if not thresholds:
        return None
    top = max(t.level or 0 for _i, t in thresholds)
    setters = tuple(i for i, t in thresholds if (t.level or 0) == top)
    return Binding(thresholds[setters[0]][1], setters, _campaigns(sources, setters))


def _campaigns(sources: Sequence[Source], indexes: Iterable[int]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(sources[i].campaign for i in indexes))


def _row(
    key: str, measure: str, name: str, unit: str, direction: str, sources: list[Source], rule: LeadRule,
    profile: dict[str, str] | None,
) -> MergedIndicator:
    conflicts: list[Conflict] = []
    binding: Binding | None = None
    by_class: list[ClassBinding] = []
    if all(not s.by_class for s in sources):
        binding = _bind([(i, s.threshold) for i, s in enumerate(sources) if s.threshold is not None], sources)
        if binding is not None and binding.empty:
            conflicts.append(Conflict("empty", _empty_text(binding, unit)))
        setter_counts = {i: 1 for i in (binding.sources if binding else ())}
    else:
        attrs: dict[str, tuple[str, ...]] = {}
        labels: dict[str, dict[str, str]] = {}
        for s in sources:
            for ct in s.by_class:
                for a, v in zip(ct.by, ct.key.split("/"), strict=True):
                    attrs.setdefault(a, ())
                    if v not in attrs[a]:
                        attrs[a] = (*attrs[a], v)
                for a, v, value_name in zip(ct.by, ct.key.split("/"), ct.names, strict=True):
                    labels.setdefault(a, {}).setdefault(v, value_name)
        setter_counts = {}
        empties = []
        for values in product(*attrs.values()):
            combo = dict(zip(attrs, values, strict=True))
            thresholds = [(i, t) for i, s in enumerate(sources) if (t := s.threshold_for(combo)) is not None]
            if not thresholds:
                continue
            label = "、".join(labels[a].get(v, v) for a, v in combo.items())
            b = _bind(thresholds, sources)
            by_class.append(ClassBinding(tuple(combo.items()), label, b))
            if b is not None:
                for i in b.sources:
                    setter_counts[i] = setter_counts.get(i, 0) + 1
                if b.empty:
                    empties.append(f"{label}：{_empty_text(b, unit)}")
        if empties:
            conflicts.append(Conflict("empty", "；".join(empties)))
    department_sets = list(dict.fromkeys(s.departments for s in sources if s.departments))
    if len(department_sets) > 1:
        named = "；".join(f"{s.campaign} {s.department}" for s in sources if s.departments)
        conflicts.append(Conflict("departments", f"责任部门不一致：{named}"))
    lead = _lead(sources, setter_counts, rule)
    cooperating = tuple(d for d in dict.fromkeys(d for s in sources for d in s.departments) if d != lead)
    return MergedIndicator(key, measure, name, unit, direction, tuple(sources), binding, tuple(by_class),
                           tuple(conflicts), lead, cooperating)


def _empty_text(binding: Binding, unit: str) -> str:
    t = binding.threshold
    low = Threshold(low=t.low, low_strict=t.low_strict).text(unit)
    high = Threshold(high=t.high, high_strict=t.high_strict).text(unit)
    return f"区间无交集：{low}（{'、'.join(binding.low_by)}）与 {high}（{'、'.join(binding.high_by)}）"


def _lead(sources: Sequence[Source], setter_counts: dict[int, int], rule: LeadRule) -> str:
    if rule.kind == "precedence":
        named = [d for s in sources for d in s.departments]
        for wanted in rule.precedence:
            for d in named:
                if d == wanted or _bare(d) == wanted:
                    return d
    # the binding source naming a department, the one binding in most classes first
    ranked = sorted(setter_counts, key=lambda i: (-setter_counts[i], i))
    for i in ranked:
        if sources[i].departments:
            return sources[i].departments[0]
    for s in sources:
        if s.departments:
            return s.departments[0]
    return ""


def _bare(department: str) -> str:
    """``市城管局（环卫）`` → ``市城管局``: a precedence entry names the department without its section."""
    return re.sub(r"[（(].*?[）)]$", "", department).strip()


def campaign_threshold_text(row: MergedIndicator, campaign: str) -> str:
    """What one campaign demands in a merged row, as shown in the matrix sheet."""
    parts = []
    for s in row.sources:
        if s.campaign != campaign:
            continue
        if s.by_class:
            parts.append("\n".join(f"{ct.label} {ct.threshold.text(row.unit)}" for ct in s.by_class))
        elif s.threshold is not None:
            text = s.threshold.text(row.unit)
            parts.append(f"{text}（{s.class_label}）" if s.class_label else text)
    return "\n".join(parts)


def binding_text(row: MergedIndicator) -> str:
    if row.binding is not None:
        return row.binding.threshold.text(row.unit)
    return "\n".join(f"{cb.label} {cb.binding.threshold.text(row.unit)}" for cb in row.by_class if cb.binding)
