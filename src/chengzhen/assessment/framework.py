"""Indicator frameworks (测评体系) as data: parsed from YAML, checked, written back. Pure: no Django.

A framework is a tree of any depth (dimension → indicator → item). Each node has a code, a name,
its points (or a weight its parent turns into points), and — on leaves — the unit, direction
(higher better, lower better, target band), data source (数据来源), responsible department
(责任部门), evidence requirement (佐证材料要求) and a scoring rule from ``rules.RULES``. A ratio
indicator carries a ``formula`` (numerator ÷ denominator × scale, e.g. 无害化处理量/产生量);
a key item (关键项) zeroes its block when it fails; thresholds may depend on the subject's class
(population band, south/north, region, terrain), declared under ``profile``.

A refused framework lists every problem with its path (``YLCS@2005 › A 综合管理 › A01 人均公共绿地
› rule.target``) and, for YAML, its line; nothing of it is stored. ``as_dict`` is the canonical
plain form (stored as JSON, hashed to tell versions apart); ``dump_framework`` writes it as YAML
that loads back to the same ``as_dict``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import product
from typing import Any

import yaml

from chengzhen.supervision.rules import load_yaml  # the project's duplicate-refusing, line-keeping YAML reader

from . import units as unit_table
from .measures import MEASURES
from .rules import RULES

CODE = re.compile(r"^[A-Z][A-Z0-9_-]{0,39}$")
VERSION = re.compile(r"^[0-9A-Za-z._-]{1,20}$")
NODE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
STATUSES = {"complete": "完整", "sample": "示例"}
DIRECTIONS = {"higher": "越高越好", "lower": "越低越好", "band": "目标区间"}
SEP = " › "
TOLERANCE = 1e-9  # points and weights are compared with this slack (they are written as decimals)

TOP_KEYS = {
    "code",
    "version",
    "name",
    "status",
    "sources",
    "description",
    "levels",
    "total",
    "profile",
    "grades",
    "nodes",
}
NODE_KEYS = {
    "code",
    "name",
    "points",
    "weight",
    "unit",
    "direction",
    "range",
    "data_source",
    "department",
    "evidence",
    "method",
    "note",
    "unverified",
    "key",
    "key_pass",
    "rule",
    "formula",
    "children",
    "measure",
}
TEXT_FIELDS = ("data_source", "department", "evidence", "method", "note")
DEFAULT_LEVELS = ("维度", "指标", "评分项")


class FrameworkError(ValueError):
    """A framework refused, with every problem as (path, reason, line, node code)."""

    def __init__(self, problems: list[Problem], source: str = ""):
        self.problems = problems
        self.source = source
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        out = []
        for p in self.problems:
            where = ":".join(str(x) for x in (self.source, p.line) if x not in ("", None))
            text = f"{p.path}: {p.reason}" if p.path else p.reason
            out.append(f"{where}: {text}" if where else text)
        return out


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str
    line: int | None = None
    node: str | None = None  # the node's code, so a sheet reader can name the row


@dataclass(frozen=True)
class Attribute:
    """A subject attribute thresholds may depend on (e.g. 城市人口规模), with its value codes and names."""

    code: str
    name: str
    values: dict[str, str]


@dataclass(frozen=True)
class ByClass:
    """A parameter that depends on the subject's class: ``values`` keyed by attribute value codes
    joined with "/" in the order of ``by``; ``default`` for combinations not listed."""

    by: tuple[str, ...]
    values: dict[str, float]
    default: float | None = None

    def value_for(self, key: str) -> float | None:
        return self.values.get(key, self.default)


@dataclass(frozen=True)
class Input:
    """A value a leaf reads: ``value``/``count``, ``numerator``/``denominator``, an option, a year."""

    code: str
    label: str
    unit: str


@dataclass(frozen=True)
class Formula:
    """Ratio indicator (比率): value = numerator ÷ denominator × scale."""

    numerator: str
    numerator_unit: str
    denominator: str
    denominator_unit: str
    scale: float = 100.0


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    points: float
    path: tuple[str, ...]  # codes from the top level down to this node
    depth: int
    weight: float | None = None
    unit: str = ""
    direction: str = "higher"
    range: tuple[float | None, float | None] | None = None
    data_source: str = ""
    department: str = ""
    evidence: str = ""
    method: str = ""
    note: str = ""
    unverified: bool = False
    key: bool = False
    key_pass: float | None = None
    rule: dict[str, Any] | None = None  # as written (type and parameters)
    params: dict[str, Any] = field(default_factory=dict)  # numbers converted to the node's unit; ByClass kept
    formula: Formula | None = None
    measure: str = ""  # 平台取数: a measure of ``measures.MEASURES`` the platform fills in
    inputs: tuple[Input, ...] = ()
    children: tuple[Node, ...] = ()
    bonus: bool = False  # 加分: on top of the parent's points
    awards_points: bool = True  # False for veto (一票否决) and prerequisite (前置条件)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def rule_type(self) -> str:
        return self.rule["type"] if self.rule else ""

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class GradeBand:
    name: str
    min: Decimal | None  # None: everything below the band above it


@dataclass(frozen=True)
class GradeScheme:
    """Grades (等次) on half-open bands [min, next min), optional quotas (e.g. 优秀 ≤ 30%)."""

    bands: tuple[GradeBand, ...]
    quota: dict[str, float] = field(default_factory=dict)
    quota_ties: str = "exclude"  # exclude: all tied at the cut drop to the next grade; include: all stay
    unverified: bool = False

    @property
    def fail_grade(self) -> str:
        return self.bands[-1].name


DEFAULT_GRADES = {
    "bands": [
        {"name": "优秀", "min": 90},
        {"name": "良好", "min": 80},
        {"name": "合格", "min": 60},
        {"name": "不合格"},
    ],
    "quota_ties": "exclude",
    "unverified": True,
}


@dataclass(frozen=True)
class Framework:
    code: str
    version: str
    name: str
    status: str
    sources: tuple[str, ...]
    description: str
    levels: tuple[str, ...]
    total: float
    profile: dict[str, Attribute]
    grades: GradeScheme
    nodes: tuple[Node, ...]
    definition: dict[str, Any]  # canonical plain form

    @property
    def full_name(self) -> str:
        return f"{self.code}@{self.version}"

    def as_dict(self) -> dict[str, Any]:
        return self.definition

    def walk(self) -> Iterator[Node]:
        for n in self.nodes:
            yield from n.walk()

    def leaves(self) -> list[Node]:
        return [n for n in self.walk() if n.is_leaf]

    def node(self, code: str) -> Node:
        return self._index()[code]

    def _index(self) -> dict[str, Node]:
        index = self.__dict__.get("_index_cache")
        if index is None:
            index = {n.code: n for n in self.walk()}
            object.__setattr__(self, "_index_cache", index)
        return index

    def path_label(self, code: str, with_framework: bool = True) -> str:
        """``CODE@VERSION › A 综合管理 › A01 人均公共绿地`` (without the first part when asked)."""
        idx = self._index()
        parts = [f"{c} {idx[c].name}" for c in idx[code].path]
        return SEP.join([self.full_name, *parts] if with_framework else parts)

    def class_label(self, profile: dict[str, str], by: tuple[str, ...]) -> str:
        """The subject's class in words, e.g. ``50–100万、南方``."""
        return "、".join(self.profile[a].values.get(profile.get(a, ""), profile.get(a, "?")) for a in by)


# ---- loading -----------------------------------------------------------------------------------


def load_framework(text: str, source: str = "") -> Framework:
    """Parse and check a framework written as YAML; raises ``FrameworkError`` listing every problem."""
    data, yaml_problems = load_yaml(text)
    if yaml_problems:
        raise FrameworkError([Problem("", reason, line) for line, reason in yaml_problems], source)
    return from_dict(data, source)


def from_dict(data: Any, source: str = "") -> Framework:
    """Check a framework given as plain data (from YAML, a workbook or stored JSON)."""
    checker = _Checker()
    fw = checker.framework(data)
    if checker.problems or fw is None:
        raise FrameworkError(checker.problems or [Problem("", "测评体系为空")], source)
    return fw


def dump_framework(fw: Framework) -> str:
    """The framework as YAML (loads back to the same ``as_dict``)."""
    return yaml.safe_dump(fw.as_dict(), allow_unicode=True, sort_keys=False, width=100, default_flow_style=None)


def split_name(name: str) -> tuple[str, str | None]:
    """``CODE@VERSION`` → (CODE, VERSION); ``CODE`` → (CODE, None)."""
    code, _, version = name.strip().partition("@")
    return code, version or None


def _line(obj: Any, key: str | None = None) -> int | None:
    lines = getattr(obj, "lines", None)
    if key is not None and lines and key in lines:
        return lines[key]
    return getattr(obj, "line", None)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, Decimal)) and not isinstance(x, bool) and math.isfinite(float(x))


def _plain(x: Any) -> Any:
    """Numbers as int when whole, else float; containers recursively; mappings as plain dicts."""
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, (int, float, Decimal)):
        f = float(x)
        return int(f) if f.is_integer() and abs(f) < 2**53 else f
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.codes: dict[str, str] = {}
        self.name = ""
        self.profile: dict[str, Attribute] = {}

    def add(self, path: str, reason: str, line: int | None = None, node: str | None = None) -> None:
        self.problems.append(Problem(path, reason, line, node))

    def text(self, obj: dict, key: str, where: str, required: bool = False) -> str:
        value = obj.get(key)
        if value is None or value == "":
            if required:
                self.add(where, f"缺少 {key}", _line(obj))
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.add(f"{where}{SEP}{key}", "应为文字", _line(obj, key))
            return ""
        return str(value).strip()

    def framework(self, data: Any) -> Framework | None:
        if not isinstance(data, dict):
            self.add("", "测评体系应为键值映射（code、version、name、nodes …）")
            return None
        for key in data:
            if key not in TOP_KEYS:
                self.add(str(key), f"未知的字段（可用：{'、'.join(sorted(TOP_KEYS))}）", _line(data, key))
        code = self.text(data, "code", "code", required=True)
        version = self.text(data, "version", "version", required=True)
        if code and not CODE.match(code):
            self.add(
                "code",
                f"代码 {code!r} 应以大写字母开头，仅含大写字母、数字、- 和 _（至多 40 个字符）",
                _line(data, "code"),
            )
        if version and not VERSION.match(version):
            self.add("version", f"版本 {version!r} 仅可含字母、数字、. - _（至多 20 个字符）", _line(data, "version"))
        self.name = f"{code}@{version}"
        name = self.text(data, "name", self.name, required=True)
        status = self.text(data, "status", f"{self.name}{SEP}status", required=True)
        if status and status not in STATUSES:
            self.add(
                f"{self.name}{SEP}status",
                f"应为 complete（完整）或 sample（示例），不是 {status!r}",
                _line(data, "status"),
            )
        sources = data.get("sources") or []
        if isinstance(sources, str):
            sources = [sources]
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            self.add(f"{self.name}{SEP}sources", "应为文字列表", _line(data, "sources"))
            sources = []
        if not sources:
            self.add(f"{self.name}{SEP}sources", "缺少来源（所依据的文件及出处）", _line(data))
        description = self.text(data, "description", self.name)
        levels = data.get("levels") or list(DEFAULT_LEVELS)
        if not isinstance(levels, list) or not all(isinstance(s, str) for s in levels):
            self.add(f"{self.name}{SEP}levels", "应为层级名称列表", _line(data, "levels"))
            levels = list(DEFAULT_LEVELS)
        self.profile = self.attributes(data.get("profile"), _line(data, "profile"))
        grades, grades_plain = self.grades(data.get("grades"), _line(data, "grades"))
        total = data.get("total")
        if total is not None and (not _is_number(total) or float(total) <= 0):
            self.add(f"{self.name}{SEP}total", "总分应为正数", _line(data, "total"))
            total = None
        raw_nodes = data.get("nodes")
        if not isinstance(raw_nodes, list) or not raw_nodes:
            self.add(f"{self.name}{SEP}nodes", "缺少指标（nodes 应为非空列表）", _line(data, "nodes"))
            return None
        plain_nodes: list[dict] = []
        nodes = self.siblings(
            raw_nodes, (), float(total) if total is not None else None, self.name, plain_nodes, _line(data, "nodes")
        )
        regular = [n for n in nodes if not n.bonus]
        top = sum(n.points for n in regular)
        if total is None:
            total_points = top
        else:
            total_points = float(total)
            if nodes and not any(n.weight is not None for n in nodes) and abs(top - total_points) > TOLERANCE:
                self.add(
                    f"{self.name}{SEP}total",
                    f"一级指标分值合计 {_show(top)}，与声明的总分 {_show(total)} 不符",
                    _line(data, "total"),
                )
        definition: dict[str, Any] = {
            "code": code,
            "version": version,
            "name": name,
            "status": status,
            "sources": list(sources),
        }
        if description:
            definition["description"] = description
        if data.get("levels"):
            definition["levels"] = list(levels)
        if total is not None:
            definition["total"] = _plain(total)
        if data.get("profile"):
            definition["profile"] = {a.code: {"name": a.name, "values": dict(a.values)} for a in self.profile.values()}
        if grades_plain:
            definition["grades"] = grades_plain
        definition["nodes"] = plain_nodes
        if self.problems:
            return None
        return Framework(
            code,
            version,
            name,
            status,
            tuple(sources),
            description,
            tuple(levels),
            total_points,
            self.profile,
            grades,
            tuple(nodes),
            definition,
        )

    def attributes(self, raw: Any, line: int | None) -> dict[str, Attribute]:
        if raw is None:
            return {}
        where = f"{self.name}{SEP}profile"
        if not isinstance(raw, dict):
            self.add(where, "应为 属性代码: {name, values} 的映射", line)
            return {}
        out = {}
        for code, spec in raw.items():
            here = f"{where}{SEP}{code}"
            if not isinstance(spec, dict) or not isinstance(spec.get("values"), dict) or not spec["values"]:
                self.add(here, "应有 name 和非空的 values（取值代码: 名称）", _line(raw, code))
                continue
            unknown = set(spec) - {"name", "values"}
            if unknown:
                self.add(here, f"未知的字段 {'、'.join(sorted(map(str, unknown)))}", _line(raw, code))
            values = {str(k): str(v) for k, v in spec["values"].items()}
            bad = [k for k in values if "/" in k]
            if bad:
                self.add(here, f"取值代码不能含“/”：{'、'.join(bad)}", _line(raw, code))
            out[str(code)] = Attribute(str(code), str(spec.get("name") or code), values)
        return out

    def grades(self, raw: Any, line: int | None) -> tuple[GradeScheme, dict | None]:
        where = f"{self.name}{SEP}grades"
        plain = None
        if raw is None:
            raw = DEFAULT_GRADES
        else:
            plain = raw
        scheme = grade_scheme(raw, lambda reason: self.add(where, reason, line))
        if scheme is None:
            scheme = grade_scheme(DEFAULT_GRADES, lambda reason: None)
        return scheme, (_plain(plain) if plain is not None else None)

    def siblings(
        self,
        raw: list,
        parent_path: tuple[str, ...],
        parent_points: float | None,
        where: str,
        plain_out: list,
        line: int | None,
    ) -> list[Node]:
        """Check one parent's children; ``parent_points`` is what weights are turned into."""
        items = [r for r in raw if isinstance(r, dict)]
        if len(items) != len(raw):
            self.add(where, "指标应为键值映射", line)
        weighted = [("weight" in r) for r in items]
        if any(weighted) and not all(weighted):
            self.add(where, "同一上级下的指标要么都写 weight（权重），要么都写 points（分值）", line)
        weights: list[float] = []
        if items and all(weighted):
            for r in items:
                w = r.get("weight")
                if not _is_number(w) or float(w) <= 0:
                    self.add(f"{where}{SEP}{r.get('code', '?')}", "权重应为正数", _line(r, "weight"))
                    weights.append(0.0)
                else:
                    weights.append(float(w))
            total_w = sum(weights)
            if weights and all(weights) and not (abs(total_w - 1) <= TOLERANCE or abs(total_w - 100) <= 1e-7):
                self.add(where, f"权重合计 {_show(total_w)}，应为 1 或 100", line)
            if parent_points is None:
                parent_points = 100.0
        nodes = []
        for i, r in enumerate(items):
            points = None
            if weights and sum(weights) > 0:
                points = parent_points * weights[i] / sum(weights)
            plain: dict[str, Any] = {}
            node = self.node(r, parent_path, where, points, plain)
            plain_out.append(plain)
            if node is not None:
                nodes.append(node)
        return nodes

    def node(
        self, r: dict, parent_path: tuple[str, ...], parent_where: str, weighted_points: float | None, plain: dict
    ) -> Node | None:
        code = self.text(r, "code", parent_where, required=True)
        name = self.text(r, "name", f"{parent_where}{SEP}{code}", required=True)
        where = f"{parent_where}{SEP}{code} {name}".rstrip()
        line = _line(r)
        for key in r:
            if key not in NODE_KEYS:
                self.add(where, f"未知的字段 {key!r}（可用：{'、'.join(sorted(NODE_KEYS))}）", _line(r, key), code)
        if not code:
            return None
        if not NODE_CODE.match(code):
            self.add(where, f"指标代码 {code!r} 仅可含字母、数字、. - _（至多 40 个字符）", line, code)
        if code in self.codes:
            self.add(where, f"指标代码 {code} 重复（已用于 {self.codes[code]}）", line, code)
        self.codes.setdefault(code, where)
        path = (*parent_path, code)
        plain.update({"code": code, "name": name})
        for key in ("points", "weight"):
            if key in r:
                plain[key] = _plain(r[key])
        declared = r.get("points")
        if declared is not None and (not _is_number(declared) or float(declared) < 0):
            self.add(f"{where}{SEP}points", "分值应为不小于 0 的数", _line(r, "points"), code)
            declared = None
        unit_text = r.get("unit")
        unit = ""
        if unit_text not in (None, ""):
            try:
                unit = unit_table.unit(str(unit_text)).code
                plain["unit"] = str(unit_text)
            except unit_table.UnitError as exc:
                self.add(f"{where}{SEP}unit", str(exc), _line(r, "unit"), code)
        direction = r.get("direction", "higher")
        if direction not in DIRECTIONS:
            self.add(
                f"{where}{SEP}direction",
                f"应为 higher（越高越好）、lower（越低越好）或 band（目标区间），不是 {direction!r}",
                _line(r, "direction"),
                code,
            )
            direction = "higher"
        if "direction" in r:
            plain["direction"] = direction
        rng = self.range(r, where, code, plain)
        texts = {}
        for key in TEXT_FIELDS:
            texts[key] = self.text(r, key, where)
            if texts[key]:
                plain[key] = texts[key]
        flags = {}
        for key in ("unverified", "key"):
            value = r.get(key, False)
            if not isinstance(value, bool):
                self.add(f"{where}{SEP}{key}", "应为 true 或 false", _line(r, key), code)
                value = False
            flags[key] = value
            if value:
                plain[key] = True
        key_pass = r.get("key_pass")
        if key_pass is not None:
            if not _is_number(key_pass):
                self.add(f"{where}{SEP}key_pass", "应为数值", _line(r, "key_pass"), code)
                key_pass = None
            elif not flags["key"]:
                self.add(f"{where}{SEP}key_pass", "只有关键项（key: true）才有 key_pass", _line(r, "key_pass"), code)
            else:
                plain["key_pass"] = _plain(key_pass)
        raw_children = r.get("children")
        children: list[Node] = []
        if raw_children is not None:
            if not isinstance(raw_children, list) or not raw_children:
                self.add(f"{where}{SEP}children", "下级指标应为非空列表", _line(r, "children"), code)
                raw_children = None
        common = dict(
            code=code,
            name=name,
            path=path,
            depth=len(path),
            weight=_opt_float(r.get("weight")),
            unit=unit,
            direction=direction,
            range=rng,
            unverified=flags["unverified"],
            key=flags["key"],
            key_pass=None if key_pass is None else float(key_pass),
            **texts,
        )
        if raw_children is not None:
            if "rule" in r or "formula" in r:
                self.add(where, "有下级指标的节点不能有评分规则或计算公式（规则写在末级指标上）", line, code)
            own = (
                weighted_points if weighted_points is not None else (float(declared) if declared is not None else None)
            )
            plain_children: list[dict] = []
            children = self.siblings(raw_children, path, own, where, plain_children, _line(r, "children"))
            plain["children"] = plain_children
            regular = [c for c in children if not c.bonus and c.awards_points]
            is_bonus = (
                bool(children)
                and all(c.bonus or not c.awards_points for c in children)
                and any(c.bonus for c in children)
            )
            summed = sum(c.points for c in (children if is_bonus else regular))
            if is_bonus:
                if declared is None and weighted_points is None:
                    points = summed
                else:
                    points = weighted_points if weighted_points is not None else float(declared)
            elif weighted_points is not None:
                points = weighted_points
                if declared is not None and abs(float(declared) - points) > TOLERANCE:
                    self.add(
                        f"{where}{SEP}points",
                        f"按权重应为 {_show(points)} 分，写的是 {_show(declared)}",
                        _line(r, "points"),
                        code,
                    )
            elif declared is not None:
                points = float(declared)
                if children and not any(c.weight is not None for c in children) and abs(summed - points) > TOLERANCE:
                    self.add(
                        f"{where}{SEP}points",
                        f"下级指标分值合计 {_show(summed)}（加分项除外），与本项分值 {_show(points)} 不符",
                        _line(r, "points"),
                        code,
                    )
            else:
                points = summed
            if flags["key"]:
                self.add(where, "关键项应为末级指标", line, code)
            return Node(**common, points=points, children=tuple(children), bonus=is_bonus)
        # a leaf
        rule = r.get("rule")
        if rule is None:
            self.add(where, "末级指标缺少评分规则（rule）", line, code)
            return None
        if not isinstance(rule, dict) or not isinstance(rule.get("type"), str):
            self.add(f"{where}{SEP}rule", "评分规则应为带 type 的映射", _line(r, "rule"), code)
            return None
        rtype = rule["type"]
        spec = RULES.get(rtype)
        if spec is None:
            self.add(
                f"{where}{SEP}rule.type",
                f"未知的评分规则 {rtype!r}（可用：{'、'.join(sorted(RULES))}）",
                _line(rule, "type"),
                code,
            )
            return None
        formula = self.formula(r.get("formula"), where, code, plain, _line(r, "formula"))
        params = self.params(rule, spec, where, code, unit, direction)
        plain["rule"] = {"type": rtype, **{k: _plain(v) for k, v in rule.items() if k != "type"}}
        # which values the rule reads, each with its unit
        try:
            wanted = spec.inputs(params)
        except Exception:  # a malformed parameter was already reported
            wanted = ()
        if formula is not None:
            if tuple(c for c, _ in wanted) not in (("value",),):
                self.add(
                    f"{where}{SEP}formula", f"规则 {rtype} 不读取单个数值，不能配计算公式", _line(r, "formula"), code
                )
            inputs = (
                Input("numerator", formula.numerator, formula.numerator_unit),
                Input("denominator", formula.denominator, formula.denominator_unit),
            )
        else:
            inputs = tuple(Input(c, label, _input_unit(rtype, c, unit)) for c, label in wanted)
        needs_unit = formula is None and any(c in ("value",) for c, _ in wanted)
        if needs_unit and not unit and unit_text in (None, ""):
            self.add(f"{where}{SEP}unit", "读取数值的指标应写明单位（unit）", line, code)
        if spec.awards_points:
            if spec.bonus:
                cap = params.get("cap")
                if declared is None and weighted_points is None:
                    points = float(cap) if _is_number(cap) else 0.0
                else:
                    points = weighted_points if weighted_points is not None else float(declared)
                    if _is_number(cap) and abs(points - float(cap)) > TOLERANCE:
                        self.add(
                            f"{where}{SEP}points", f"加分项的分值应等于加分上限 {_show(cap)}", _line(r, "points"), code
                        )
            elif weighted_points is not None:
                points = weighted_points
            elif declared is None:
                self.add(f"{where}{SEP}points", "末级指标缺少分值（points）或权重（weight）", line, code)
                points = 0.0
            else:
                points = float(declared)
        else:
            if (declared not in (None, 0)) or weighted_points is not None:
                self.add(f"{where}{SEP}points", f"{spec.name}不计分，不应写分值或权重", _line(r, "points"), code)
            points = 0.0
        if rng is not None and rtype in ("threshold", "linear"):
            self.in_range(params, rng, where, code, _line(r, "rule"))
        measure = self.measure(r, where, code, unit, formula, inputs, plain)
        return Node(
            **common,
            points=points,
            rule=plain["rule"],
            params=params,
            formula=formula,
            measure=measure,
            inputs=inputs,
            bonus=spec.bonus,
            awards_points=spec.awards_points,
        )

    def measure(self, r: dict, where: str, code: str, unit: str, formula, inputs, plain: dict) -> str:
        raw = r.get("measure")
        if raw in (None, ""):
            return ""
        here, line = f"{where}{SEP}measure", _line(r, "measure")
        m = MEASURES.get(str(raw))
        if m is None:
            self.add(here, f"未知的平台取数 {raw!r}（可用：{'、'.join(MEASURES)}）", line, code)
            return ""
        if formula is not None or len(inputs) != 1:
            self.add(here, "平台取数的指标只读取一个数值，不能配计算公式或多项输入", line, code)
            return ""
        if unit and not unit_table.same_dimension(m.unit, unit):
            self.add(here, f"平台取数 {m.code}（{m.name}）以“{m.unit}”计，与指标单位“{unit}”不可换算", line, code)
            return ""
        plain["measure"] = m.code
        return m.code

    def range(self, r: dict, where: str, code: str, plain: dict) -> tuple[float | None, float | None] | None:
        raw = r.get("range")
        if raw is None:
            return None
        if not isinstance(raw, list) or len(raw) != 2 or not all(x is None or _is_number(x) for x in raw):
            self.add(f"{where}{SEP}range", "取值范围应为 [下限, 上限]（可为 null）", _line(r, "range"), code)
            return None
        low, high = (None if x is None else float(x) for x in raw)
        if low is not None and high is not None and low > high:
            self.add(f"{where}{SEP}range", f"取值范围下限 {_show(low)} 大于上限 {_show(high)}", _line(r, "range"), code)
            return None
        plain["range"] = _plain(raw)
        return low, high

    def in_range(self, params: dict, rng: tuple, where: str, code: str, line: int | None) -> None:
        low, high = rng
        for name, value in params.items():
            values = value.values.values() if isinstance(value, ByClass) else [value]
            for v in values:
                if isinstance(v, float) and ((low is not None and v < low) or (high is not None and v > high)):
                    self.add(f"{where}{SEP}rule.{name}", f"{_show(v)} 超出该指标的取值范围", line, code)

    def formula(self, raw: Any, where: str, code: str, plain: dict, line: int | None) -> Formula | None:
        if raw is None:
            return None
        here = f"{where}{SEP}formula"
        if not isinstance(raw, dict):
            self.add(here, "计算公式应为 {numerator, denominator, scale} 的映射", line, code)
            return None
        unknown = set(raw) - {"numerator", "denominator", "scale"}
        if unknown:
            self.add(here, f"未知的字段 {'、'.join(sorted(map(str, unknown)))}", line, code)
        parts = {}
        for part in ("numerator", "denominator"):
            spec = raw.get(part)
            label = "分子" if part == "numerator" else "分母"
            if isinstance(spec, str):
                spec = {"name": spec}
            if not isinstance(spec, dict) or not spec.get("name"):
                self.add(f"{here}.{part}", f"缺少{label}的名称", line, code)
                return None
            unit = ""
            if spec.get("unit") not in (None, ""):
                try:
                    unit = unit_table.unit(str(spec["unit"])).code
                except unit_table.UnitError as exc:
                    self.add(f"{here}.{part}.unit", str(exc), line, code)
            parts[part] = (str(spec["name"]), unit)
        scale = raw.get("scale", 100)
        if not _is_number(scale) or float(scale) <= 0:
            self.add(f"{here}.scale", "比例系数应为正数（百分比为 100）", line, code)
            return None
        if (
            parts["numerator"][1]
            and parts["denominator"][1]
            and unit_table.same_dimension(parts["numerator"][1], parts["denominator"][1])
            and parts["numerator"][1] != parts["denominator"][1]
        ):
            self.add(here, "分子与分母同类时应使用同一单位（如都用 万吨）", line, code)
        plain["formula"] = _plain(raw)
        return Formula(
            parts["numerator"][0], parts["numerator"][1], parts["denominator"][0], parts["denominator"][1], float(scale)
        )

    def params(self, rule: dict, spec, where: str, code: str, unit: str, direction: str) -> dict[str, Any]:
        known = {p.name: p for p in spec.params}
        out: dict[str, Any] = {}
        for key in rule:
            if key != "type" and key not in known:
                self.add(
                    f"{where}{SEP}rule.{key}",
                    f"规则 {spec.code}（{spec.name}）没有参数 {key!r}（可用：{'、'.join(known) or '无'}）",
                    _line(rule, key),
                    code,
                )
        for p in spec.params:
            here = f"{where}{SEP}rule.{p.name}"
            line = _line(rule, p.name)
            if p.name not in rule:
                if p.required and _required(p.name, spec.code, direction):
                    self.add(here, f"缺少参数 {p.name}（{p.help or p.name}）", _line(rule), code)
                elif p.default is not None:
                    out[p.name] = p.default
                continue
            value = self.param(rule[p.name], p, here, line, code, unit)
            if value is not None:
                out[p.name] = value
        if spec.check is not None and not any(pr.node == code for pr in self.problems):
            view = {
                k: ({"by": list(v.by), "values": v.values, "default": v.default} if isinstance(v, ByClass) else v)
                for k, v in out.items()
            }
            try:
                reasons = spec.check(view, direction)
            except Exception as exc:  # a check must not take the loader down
                reasons = [f"参数无法检查：{exc}"]
            for reason in reasons:
                self.add(f"{where}{SEP}rule", reason, _line(rule), code)
        return out

    def param(self, raw: Any, p, here: str, line: int | None, code: str, unit: str) -> Any:
        kind = p.kind
        if kind == "number":
            if isinstance(raw, dict):
                if not p.by_class:
                    self.add(here, "该参数不能按对象类别取值", line, code)
                    return None
                return self.by_class(raw, here, line, code, unit)
            return self.number(raw, here, line, code, unit)
        if kind == "count":
            if not _is_number(raw) or float(raw) < 0 or not float(raw).is_integer():
                self.add(here, "应为不小于 0 的整数", line, code)
                return None
            return int(raw)
        if kind == "op":
            op = {"≥": ">=", "≤": "<=", "＞": ">", "＜": "<"}.get(str(raw), str(raw))
            if op not in (">=", ">", "<=", "<"):
                self.add(here, f"比较方式应为 >=、>、<= 或 <，不是 {raw!r}", line, code)
                return None
            return op
        if kind == "choice":
            if raw not in p.choices:
                self.add(here, f"应为 {'、'.join(p.choices)} 之一，不是 {raw!r}", line, code)
                return None
            return raw
        if kind == "bool":
            if not isinstance(raw, bool):
                self.add(here, "应为 true 或 false", line, code)
                return None
            return raw
        if kind == "steps":
            ok = (
                isinstance(raw, list)
                and raw
                and all(isinstance(s, list) and len(s) == 2 and all(_is_number(x) for x in s) for s in raw)
            )
            if not ok:
                self.add(here, "分档应为 [[界值, 得分], …] 的非空列表", line, code)
                return None
            return [(float(b), float(s)) for b, s in raw]
        if kind == "options":
            ok = isinstance(raw, dict) and raw and all(_is_number(v) and 0 <= float(v) <= 100 for v in raw.values())
            if not ok:
                self.add(here, "选项应为 选项名称: 分值（0–100）的非空映射", line, code)
                return None
            return {str(k): float(v) for k, v in raw.items()}
        if kind == "years":
            ok = (
                isinstance(raw, list)
                and raw
                and all(isinstance(y, dict) and y.get("label") and _is_number(y.get("weight")) for y in raw)
            )
            if not ok:
                self.add(here, "年度应为 [{label: 第一年, weight: 0.15}, …] 的非空列表", line, code)
                return None
            return [{"label": str(y["label"]), "weight": float(y["weight"])} for y in raw]
        return raw

    def number(self, raw: Any, here: str, line: int | None, code: str, unit: str) -> float | None:
        if _is_number(raw):
            return float(raw)
        if isinstance(raw, str):
            try:
                value, given = unit_table.parse_quantity(raw)
                if given and unit:
                    return float(unit_table.convert(value, given, unit))
                if given and not unit:
                    self.add(here, f"指标未写单位，参数不能带单位（{raw}）", line, code)
                    return None
                return float(value)
            except (unit_table.UnitError, ValueError) as exc:
                self.add(here, f"{raw!r} 不是数值：{exc}", line, code)
                return None
        self.add(here, f"应为数值，不是 {raw!r}", line, code)
        return None

    def by_class(self, raw: dict, here: str, line: int | None, code: str, unit: str) -> ByClass | None:
        unknown = set(raw) - {"by", "values", "default"}
        if unknown:
            self.add(
                here, f"按类别取值只有 by、values、default，不认识 {'、'.join(sorted(map(str, unknown)))}", line, code
            )
        by = raw.get("by")
        by = [by] if isinstance(by, str) else by
        if not isinstance(by, list) or not by or not all(isinstance(b, str) for b in by):
            self.add(here, "by 应为对象属性代码（或其列表）", line, code)
            return None
        missing = [b for b in by if b not in self.profile]
        if missing:
            self.add(here, f"未在 profile 中声明的对象属性：{'、'.join(missing)}", line, code)
            return None
        values_raw = raw.get("values")
        if not isinstance(values_raw, dict) or not values_raw:
            self.add(here, "values 应为 类别: 数值 的非空映射", line, code)
            return None
        values: dict[str, float] = {}
        for key, v in values_raw.items():
            parts = str(key).split("/")
            if len(parts) != len(by) or any(
                part not in self.profile[a].values for part, a in zip(parts, by, strict=False)
            ):
                self.add(here, f"类别 {key!r} 不是 {'/'.join(by)} 的取值组合", line, code)
                continue
            number = self.number(v, f"{here}.{key}", line, code, unit)
            if number is not None:
                values[str(key)] = number
        default = None
        if "default" in raw:
            default = self.number(raw["default"], f"{here}.default", line, code, unit)
        else:
            combos = ["/".join(c) for c in product(*(self.profile[a].values for a in by))]
            absent = [c for c in combos if c not in values]
            if absent and len(values) == len(values_raw):
                self.add(here, f"缺少类别 {'、'.join(absent)} 的取值（或写 default）", line, code)
        return ByClass(tuple(by), values, default)


def _required(name: str, rule: str, direction: str) -> bool:
    """Band indicators read low/high instead of target (and the reverse)."""
    if rule in ("threshold", "prerequisite", "linear"):
        if direction == "band":
            return name not in ("target", "op", "floor")
        return name not in ("low", "high", "margin")
    return True


def _input_unit(rule: str, code: str, unit: str) -> str:
    if rule == "composite":
        return "分"
    if rule == "satisfaction" and code != "value":
        return ""
    return unit


def _opt_float(x: Any) -> float | None:
    return float(x) if _is_number(x) else None


def _show(x: Any) -> str:
    f = float(x)
    return str(int(f)) if f.is_integer() else f"{f:.6g}"


def grade_scheme(raw: Any, complain) -> GradeScheme | None:
    """A grade scheme from plain data (a framework's ``grades`` or the settings default)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("bands"), list) or len(raw["bands"]) < 2:
        complain("等次应有 bands（至少两档：[{name, min}, …, {name}]）")
        return None
    bands = []
    for i, b in enumerate(raw["bands"]):
        if not isinstance(b, dict) or not b.get("name"):
            complain(f"第 {i + 1} 档等次缺少名称")
            return None
        last = i == len(raw["bands"]) - 1
        minimum = b.get("min")
        if last:
            if minimum is not None:
                complain(f"最后一档“{b['name']}”不写 min（低于上一档即为此档）")
                return None
        elif not _is_number(minimum):
            complain(f"等次“{b['name']}”缺少分数下限 min")
            return None
        bands.append(GradeBand(str(b["name"]), None if last else Decimal(str(minimum))))
    mins = [b.min for b in bands[:-1]]
    if any(a <= b for a, b in zip(mins, mins[1:], strict=False)):
        complain("等次下限应从高到低排列")
        return None
    quota = raw.get("quota") or {}
    names = {b.name for b in bands}
    if not isinstance(quota, dict) or any(
        k not in names or not _is_number(v) or not 0 < float(v) <= 1 for k, v in quota.items()
    ):
        complain("quota 应为 等次: 比例（0–1）")
        return None
    ties = raw.get("quota_ties", "exclude")
    if ties not in ("exclude", "include"):
        complain("quota_ties 应为 exclude 或 include")
        return None
    return GradeScheme(tuple(bands), {k: float(v) for k, v in quota.items()}, ties, bool(raw.get("unverified")))
