"""Light rule sets (亮灯规则集) as data: parsed from YAML, checked, written back. Pure: no Django.

A rule set names its own levels (code, name, colour, severity, whether a transition into it
counts toward escalation, the points it deducts as an assessment candidate, and optionally a
time-based rise to another level, e.g. 蓝 提醒 → 橙 警告 after five working days), the rules
that raise a task to a level (each a conjunction of conditions on the task's facts, with the
reason text shown on the light), the reminders (催办) sent before dates, and the escalation
ladder (督办函 after two yellows, 约谈 after three reds …).

A refused rule set lists every problem with its YAML line. What is refused: unknown keys,
unknown levels or facts, duplicate codes, a condition whose bounds are inverted (``gt: 30,
lt: 10``), two rules at different levels whose conditions overlap, a cycle of time-based
rises, and a ladder step on a level that does not count.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from .workdays import CALENDAR, DAY_COUNTS

STATUSES = ("not_started", "in_progress", "completed", "closed")  # the ledger's 完成状态
# The facts rules may test, with what each is. Day counts follow the rule's day_count.
NUMERIC_FACTS = {
    "behind_schedule_points": "形象进度低于序时进度的百分点（超前为负；已完成/已销号为 0）",
    "days_overdue": "超过完成时限的天数（已完成/已销号为 0）",
    "days_to_due": "距完成时限的天数（当天为 0，已过为负）",
    "days_since_start": "自开始时间起的天数（开始当天为 0，未到为负）",
    "node_days_late": "最早一个未完成且已过计划日期的时间节点超期天数（无则 0）",
    "nodes_missed": "已过计划日期仍未完成的时间节点个数",
    "report_days_late": "最近一个已过报送日的报送期，牵头单位未报送已超过的天数（已报送或无需报送为 0）",
    "investment_behind_points": "年度投资完成率低于本年序时的百分点（无年度计划为 0）",
}
DAY_FACTS = frozenset({"days_overdue", "days_to_due", "days_since_start", "node_days_late",
                       "report_days_late"})
FACTS = {"status": "完成状态：" + "、".join(STATUSES), **NUMERIC_FACTS}
# values a reason text may show besides the facts
TEXT_VALUES = ("due_date", "first_missed_node", "report_period", "report_deadline", "escalate_days",
               "deadline")
OPERATORS = {"gt", "gte", "lt", "lte", "eq", "ne", "in", "not_in"}
ACTIONS = {"letter": "督办函", "interview": "约谈"}
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


class RuleSetError(ValueError):
    """A rule set refused, with every problem as (line, reason)."""

    def __init__(self, problems: list[tuple[int | None, str]], source: str = ""):
        self.problems = sorted(problems, key=lambda p: (p[0] or 0, p[1]))
        self.source = source
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        """``FILE:LINE: reason`` lines (parts that do not apply left out)."""
        out = []
        for line, reason in self.problems:
            where = ":".join(str(x) for x in (self.source, line) if x not in ("", None))
            out.append(f"{where}: {reason}" if where else reason)
        return out


@dataclass(frozen=True)
class Rise:
    """A time-based rise: a task left at a level for ``after_days`` rises to ``to``."""

    to: str
    after_days: int
    day_count: str = CALENDAR
    reason: str = ""


@dataclass(frozen=True)
class Level:
    code: str
    name: str
    colour: str
    severity: int
    counts: bool = False  # a transition into it counts toward escalation (and notifies)
    deduction: Decimal = Decimal(0)  # points, as an assessment deduction candidate
    rise: Rise | None = None


@dataclass(frozen=True)
class Condition:
    fact: str
    op: str
    value: Any  # a number, a status, or a tuple of them for in / not_in


@dataclass(frozen=True)
class Rule:
    code: str
    level: str
    conditions: tuple[Condition, ...]
    reason: str
    day_count: str = CALENDAR


@dataclass(frozen=True)
class Reminders:
    """Days before a date on which the reminder (催办) goes out; 0 = on the day; None = never."""

    time_node: int | None = 3
    due_date: int | None = 7
    reporting_day: int | None = 3
    day_count: str = CALENDAR


@dataclass(frozen=True)
class Step:
    """An escalation ladder step: ``count`` transitions into ``level`` for one unit in one
    programme and reporting period, not yet covered by this step, bring ``action`` (letter
    督办函 / interview 约谈) covering them all."""

    level: str
    count: int
    action: str


@dataclass(frozen=True)
class RuleSet:
    code: str
    name: str
    levels: tuple[Level, ...]
    default_level: str
    rules: tuple[Rule, ...]
    reminders: Reminders = field(default_factory=Reminders)
    escalation: tuple[Step, ...] = ()
    description: str = ""

    def level(self, code: str) -> Level:
        return next(lv for lv in self.levels if lv.code == code)

    def uses_working_days(self) -> bool:
        return (any(r.day_count != CALENDAR for r in self.rules)
                or any(lv.rise and lv.rise.day_count != CALENDAR for lv in self.levels)
                or self.reminders.day_count != CALENDAR)

    def as_dict(self) -> dict[str, Any]:
        """The rule set as plain data (stored as JSON, written back as YAML)."""
        def level(lv: Level) -> dict[str, Any]:
            out = {"code": lv.code, "name": lv.name, "colour": lv.colour, "severity": lv.severity,
                   "counts": lv.counts, "deduction": _number(lv.deduction)}
            if lv.rise:
                out["escalate"] = {"to": lv.rise.to, "after_days": lv.rise.after_days,
                                   "day_count": lv.rise.day_count, "reason": lv.rise.reason}
            return out

        def rule(r: Rule) -> dict[str, Any]:
            when: dict[str, Any] = {}
            for c in r.conditions:
                value = list(c.value) if isinstance(c.value, tuple) else c.value
                when.setdefault(c.fact, {})[c.op] = value
            return {"code": r.code, "level": r.level, "when": when, "reason": r.reason,
                    "day_count": r.day_count}

        rem = self.reminders
        return {
            "code": self.code, "name": self.name, "description": self.description,
            "default_level": self.default_level,
            "levels": [level(lv) for lv in self.levels],
            "rules": [rule(r) for r in self.rules],
            "reminders": {"time_node": rem.time_node, "due_date": rem.due_date,
                          "reporting_day": rem.reporting_day, "day_count": rem.day_count},
            "escalation": [{"level": s.level, "count": s.count, "action": s.action}
                           for s in self.escalation],
        }


def _number(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


# ---- YAML with line numbers ------------------------------------------------------------------

# libyaml's parser where PyYAML was built with it (the wheels are): the same safe constructor,
# parsing about five times faster than the pure-Python one
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """Safe YAML whose mappings remember each key's line (``_lines``) and refuse duplicates."""


class _Map(dict):
    lines: dict[str, int]
    line: int


class _List(list):
    line: int


def _construct(loader: _Loader, node: yaml.Node, problems: list) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = _Map()
        out.lines, out.line = {}, node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                problems.append((line, f"重复的键 {key!r}"))
                continue
            out[key] = _construct(loader, value_node, problems)
            out.lines[key] = line
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = _List(_construct(loader, n, problems) for n in node.value)
        seq.line = node.start_mark.line + 1
        return seq
    return loader.construct_object(node, deep=True)


def load_yaml(text: str) -> tuple[Any, list[tuple[int | None, str]]]:
    """Parse YAML text; returns the data (mappings as ``_Map`` with ``.lines``) and problems."""
    problems: list[tuple[int | None, str]] = []
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = _construct(loader, node, problems) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [(mark.line + 1 if mark else None, f"YAML 格式错误：{reason}")]
    return data, problems


def _line(obj: Any, key: str | None = None) -> int | None:
    if key is not None and isinstance(obj, _Map) and key in obj.lines:
        return obj.lines[key]
    return getattr(obj, "line", None)


# ---- parsing and checking --------------------------------------------------------------------

class _Checker:
    def __init__(self):
        self.problems: list[tuple[int | None, str]] = []
        self.rise_lines: dict[str, int | None] = {}  # level code → line of its escalate.to

    def add(self, line: int | None, reason: str) -> None:
        self.problems.append((line, reason))

    def mapping(self, obj: Any, where: str, allowed: set[str], required: set[str],
                line: int | None) -> dict:
        if not isinstance(obj, dict):
            self.add(line, f"{where} 应为键值映射")
            return {}
        for key in obj:
            if key not in allowed:
                self.add(_line(obj, key), f"{where} 中未知的字段 {key!r}（可用：{'、'.join(sorted(allowed))}）")
        for key in sorted(required - set(obj)):
            self.add(_line(obj), f"{where} 缺少字段 {key!r}")
        return obj

    def text(self, obj: dict, key: str, where: str, default: str | None = None) -> str:
        value = obj.get(key, default)
        if value is None or not isinstance(value, str) or not value.strip():
            if key in obj or default is None:
                self.add(_line(obj, key), f"{where}.{key} 应为非空文字")
            return default or ""
        return value.strip()

    def integer(self, obj: dict, key: str, where: str, default: int | None = None,
                minimum: int | None = None, allow_none: bool = False) -> int | None:
        if key not in obj:
            return default
        value = obj[key]
        if value is None and allow_none:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(_line(obj, key), f"{where}.{key} 应为整数：{value!r}")
            return default
        if minimum is not None and value < minimum:
            self.add(_line(obj, key), f"{where}.{key} 不能小于 {minimum}：{value}")
            return default
        return value

    def boolean(self, obj: dict, key: str, where: str, default: bool) -> bool:
        value = obj.get(key, default)
        if not isinstance(value, bool):
            self.add(_line(obj, key), f"{where}.{key} 应为 true 或 false：{value!r}")
            return default
        return value

    def day_count(self, obj: dict, where: str) -> str:
        value = obj.get("day_count", CALENDAR)
        if value not in DAY_COUNTS:
            self.add(_line(obj, "day_count"),
                     f"{where}.day_count 应为 calendar（自然日）或 working（工作日）：{value!r}")
            return CALENDAR
        return value


def parse_rule_set(text: str, source: str = "") -> RuleSet:
    """The rule set written in ``text`` (YAML); ``RuleSetError`` listing every problem."""
    data, problems = load_yaml(text)
    if problems:
        raise RuleSetError(problems, source)
    return build_rule_set(data, source)


def build_rule_set(data: Any, source: str = "") -> RuleSet:
    """A rule set from plain data (as ``parse_rule_set`` after YAML, or stored JSON)."""
    ck = _Checker()
    top = ck.mapping(data, "规则集", {"code", "name", "description", "default_level", "levels",
                                     "rules", "reminders", "escalation"},
                     {"code", "name", "levels", "rules", "default_level"}, 1)
    if not top:
        raise RuleSetError(ck.problems or [(1, "规则集为空")], source)
    code = ck.text(top, "code", "规则集")
    if code and not CODE.match(code):
        ck.add(_line(top, "code"), f"规则集代码 {code!r} 只能用字母开头的字母、数字、- 和 _（最长 40）")
    name = ck.text(top, "name", "规则集")
    description = top.get("description") or ""
    if not isinstance(description, str):
        ck.add(_line(top, "description"), "description 应为文字")
        description = ""

    levels = _levels(ck, top.get("levels"), _line(top, "levels"))
    codes = {lv.code for lv in levels}
    default_level = top.get("default_level")
    if "default_level" in top and default_level not in codes:
        ck.add(_line(top, "default_level"), f"default_level {default_level!r} 不是已定义的等级")
    rules = _rules(ck, top.get("rules"), _line(top, "rules"), codes)
    reminders = _reminders(ck, top.get("reminders"), _line(top, "reminders"))
    by_code = {lv.code: lv for lv in levels}
    escalation = _ladder(ck, top.get("escalation"), _line(top, "escalation"), by_code)
    _check_rises(ck, levels, _line(top, "levels"))
    _check_overlaps(ck, rules, by_code)
    if ck.problems:
        raise RuleSetError(ck.problems, source)
    return RuleSet(code=code, name=name, levels=tuple(levels), default_level=default_level,
                   rules=tuple(rules), reminders=reminders, escalation=tuple(escalation),
                   description=description.strip())


def _levels(ck: _Checker, raw: Any, line: int | None) -> list[Level]:
    if not isinstance(raw, list) or not raw:
        ck.add(line, "levels 应为至少一个等级的列表")
        return []
    levels, seen = [], set()
    for i, item in enumerate(raw, 1):
        where = f"levels 第 {i} 项"
        obj = ck.mapping(item, where, {"code", "name", "colour", "severity", "counts",
                                       "deduction", "escalate"},
                         {"code", "name", "colour", "severity"}, _line(item) or line)
        if not obj:
            continue
        code = ck.text(obj, "code", where)
        if code in seen:
            ck.add(_line(obj, "code"), f"等级代码 {code!r} 重复")
        seen.add(code)
        colour = obj.get("colour")
        if not isinstance(colour, str) or not COLOUR.match(colour):
            ck.add(_line(obj, "colour"), f"{where}.colour 应写作 #RRGGBB：{colour!r}")
        severity = ck.integer(obj, "severity", where, default=0)
        deduction = Decimal(0)
        if "deduction" in obj:
            raw_d = obj["deduction"]
            try:
                if isinstance(raw_d, bool):
                    raise InvalidOperation
                deduction = Decimal(str(raw_d))
                if not deduction.is_finite() or deduction < 0:
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                ck.add(_line(obj, "deduction"), f"{where}.deduction 应为不小于 0 的分值：{raw_d!r}")
                deduction = Decimal(0)
        rise = None
        if "escalate" in obj:
            esc = ck.mapping(obj["escalate"], f"{where}.escalate", {"to", "after_days", "day_count",
                                                                    "reason"},
                             {"to", "after_days"}, _line(obj, "escalate"))
            if esc:
                rise = Rise(to=str(esc.get("to")),
                            after_days=ck.integer(esc, "after_days", f"{where}.escalate", 1, 1) or 1,
                            day_count=ck.day_count(esc, f"{where}.escalate"),
                            reason=str(esc.get("reason") or ""))
                ck.rise_lines[code] = _line(esc, "to")
        levels.append(Level(code=code, name=ck.text(obj, "name", where), colour=str(colour),
                            severity=severity or 0, counts=ck.boolean(obj, "counts", where, False),
                            deduction=deduction, rise=rise))
    return levels


def _conditions(ck: _Checker, when: Any, where: str, line: int | None) -> tuple[Condition, ...]:
    if not isinstance(when, dict) or not when:
        ck.add(line, f"{where}.when 应为至少一个条件的映射")
        return ()
    out = []
    for fact, test in when.items():
        fline = _line(when, fact)
        if fact not in FACTS:
            ck.add(fline, f"{where} 中未知的事实 {fact!r}（可用：{'、'.join(FACTS)}）")
            continue
        if isinstance(test, dict):
            ops = test
        elif isinstance(test, list):
            ops = {"in": test}
        else:
            ops = {"eq": test}
        for op, value in ops.items():
            if op not in OPERATORS:
                ck.add(_line(ops, op) or fline,
                       f"{where}.{fact} 中未知的比较 {op!r}（可用：{'、'.join(sorted(OPERATORS))}）")
                continue
            values = value if op in ("in", "not_in") else [value]
            if op in ("in", "not_in") and (not isinstance(value, list) or not value):
                ck.add(fline, f"{where}.{fact}.{op} 应为非空列表")
                continue
            ok = True
            for v in values:
                if fact == "status":
                    if v not in STATUSES:
                        ck.add(fline, f"{where}.status 的取值 {v!r} 不是完成状态（{'、'.join(STATUSES)}）")
                        ok = False
                    elif op not in ("eq", "ne", "in", "not_in"):
                        ck.add(fline, f"{where}.status 只能比较相等或属于")
                        ok = False
                elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    ck.add(fline, f"{where}.{fact}.{op} 应为数字：{v!r}")
                    ok = False
            if ok:
                out.append(Condition(fact, op, tuple(values) if op in ("in", "not_in") else value))
    return tuple(out)


def _rules(ck: _Checker, raw: Any, line: int | None, levels: set[str]) -> list[Rule]:
    if not isinstance(raw, list):
        ck.add(line, "rules 应为规则列表")
        return []
    rules, seen = [], set()
    for i, item in enumerate(raw, 1):
        where = f"rules 第 {i} 项"
        obj = ck.mapping(item, where, {"code", "level", "when", "reason", "day_count"},
                         {"code", "level", "when", "reason"}, _line(item) or line)
        if not obj:
            continue
        code = ck.text(obj, "code", where)
        where = f"规则 {code or i}"
        if code in seen:
            ck.add(_line(obj, "code"), f"规则代码 {code!r} 重复")
        seen.add(code)
        level = obj.get("level")
        if level not in levels:
            ck.add(_line(obj, "level"), f"{where} 的等级 {level!r} 未定义")
        conditions = _conditions(ck, obj.get("when"), where, _line(obj, "when"))
        reason = ck.text(obj, "reason", where)
        _check_template(ck, reason, where, _line(obj, "reason"))
        rule = Rule(code=code, level=str(level), conditions=conditions, reason=reason,
                    day_count=ck.day_count(obj, where))
        if _interval_problems(ck, rule, _line(obj, "when")):
            continue
        rules.append(rule)
    return rules


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _check_template(ck: _Checker, text: str, where: str, line: int | None) -> None:
    for name in _PLACEHOLDER.findall(text or ""):
        if name not in FACTS and name not in TEXT_VALUES:
            ck.add(line, f"{where} 的说明中 {{{name}}} 不是可用的值（{'、'.join((*NUMERIC_FACTS, *TEXT_VALUES))}）")


def _reminders(ck: _Checker, raw: Any, line: int | None) -> Reminders:
    if raw is None:
        return Reminders()
    obj = ck.mapping(raw, "reminders", {"time_node", "due_date", "reporting_day", "day_count"},
                     set(), line)
    if not obj:
        return Reminders()
    d = Reminders()
    return Reminders(
        time_node=ck.integer(obj, "time_node", "reminders", d.time_node, 0, allow_none=True),
        due_date=ck.integer(obj, "due_date", "reminders", d.due_date, 0, allow_none=True),
        reporting_day=ck.integer(obj, "reporting_day", "reminders", d.reporting_day, 0,
                                 allow_none=True),
        day_count=ck.day_count(obj, "reminders"))


def _ladder(ck: _Checker, raw: Any, line: int | None, levels: dict[str, Level]) -> list[Step]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        ck.add(line, "escalation 应为升级步骤列表")
        return []
    steps = []
    for i, item in enumerate(raw, 1):
        where = f"escalation 第 {i} 项"
        obj = ck.mapping(item, where, {"level", "count", "action"}, {"level", "count", "action"},
                         _line(item) or line)
        if not obj:
            continue
        level = obj.get("level")
        if level not in levels:
            ck.add(_line(obj, "level"), f"{where} 的等级 {level!r} 未定义")
        elif not levels[level].counts:
            ck.add(_line(obj, "level"), f"{where} 的等级 {level!r} 不计入升级（counts: false）")
        action = obj.get("action")
        if action not in ACTIONS:
            ck.add(_line(obj, "action"), f"{where}.action 应为 letter（督办函）或 interview（约谈）：{action!r}")
        count = ck.integer(obj, "count", where, 1, 1) or 1
        if any(s.level == level and s.action == action for s in steps):
            ck.add(_line(obj), f"{where} 与前面的步骤重复（{level} → {action}）")
        steps.append(Step(level=str(level), count=count, action=str(action)))
    return steps


def _check_rises(ck: _Checker, levels: list[Level], line: int | None) -> None:
    by_code = {lv.code: lv for lv in levels}
    lines = ck.rise_lines
    for lv in levels:
        if lv.rise is None:
            continue
        if lv.rise.to not in by_code:
            ck.add(lines.get(lv.code, line), f"等级 {lv.code} 的 escalate.to {lv.rise.to!r} 未定义")
            continue
        if by_code[lv.rise.to].severity <= lv.severity:
            ck.add(lines.get(lv.code, line),
                   f"等级 {lv.code} 升至 {lv.rise.to}，但后者的 severity 不更高")
    for start in levels:  # a cycle of rises: follow each chain
        seen, lv = [start.code], start
        while lv.rise is not None and lv.rise.to in by_code:
            nxt = lv.rise.to
            if nxt in seen:
                if nxt == start.code:
                    ck.add(lines.get(start.code, line),
                           f"等级升级构成循环：{' → '.join([*seen, nxt])}")
                break
            seen.append(nxt)
            lv = by_code[nxt]


# ---- intervals: inverted bounds and overlaps -------------------------------------------------

@dataclass(frozen=True)
class Interval:
    lo: float = -math.inf
    lo_open: bool = True
    hi: float = math.inf
    hi_open: bool = True

    def empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and (self.lo_open or self.hi_open))

    def meet(self, other: Interval) -> Interval:
        if (self.lo, not self.lo_open) >= (other.lo, not other.lo_open):
            lo, lo_open = self.lo, self.lo_open
        else:
            lo, lo_open = other.lo, other.lo_open
        if (self.hi, self.hi_open) <= (other.hi, other.hi_open):
            hi, hi_open = self.hi, self.hi_open
        else:
            hi, hi_open = other.hi, other.hi_open
        return Interval(lo, lo_open, hi, hi_open)

    def __str__(self) -> str:
        lo = "−∞" if self.lo == -math.inf else f"{self.lo:g}"
        hi = "+∞" if self.hi == math.inf else f"{self.hi:g}"
        return f"{'(' if self.lo_open else '['}{lo}, {hi}{')' if self.hi_open else ']'}"


def _interval(conditions: Iterable[Condition]) -> Interval:
    iv = Interval()
    for c in conditions:
        v = float(c.value) if c.op in ("gt", "gte", "lt", "lte", "eq") else None
        if c.op == "gt":
            iv = iv.meet(Interval(lo=v, lo_open=True))
        elif c.op == "gte":
            iv = iv.meet(Interval(lo=v, lo_open=False))
        elif c.op == "lt":
            iv = iv.meet(Interval(hi=v, hi_open=True))
        elif c.op == "lte":
            iv = iv.meet(Interval(hi=v, hi_open=False))
        elif c.op == "eq":
            iv = iv.meet(Interval(v, False, v, False))
    return iv


def _range_ops(conditions: Iterable[Condition]) -> bool:
    return all(c.op in ("gt", "gte", "lt", "lte", "eq") for c in conditions)


def _interval_problems(ck: _Checker, rule: Rule, line: int | None) -> bool:
    bad = False
    for fact in {c.fact for c in rule.conditions if c.fact != "status"}:
        conds = [c for c in rule.conditions if c.fact == fact]
        if _range_ops(conds) and _interval(conds).empty():
            ck.add(line, f"规则 {rule.code} 对 {fact} 的阈值颠倒或为空：{_interval(conds)}")
            bad = True
    return bad


def _status_set(conditions: Iterable[Condition]) -> frozenset[str] | None:
    conds = [c for c in conditions if c.fact == "status"]
    if not conds:
        return None
    allowed = set(STATUSES)
    for c in conds:
        vals = set(c.value) if isinstance(c.value, tuple) else {c.value}
        if c.op in ("eq", "in"):
            allowed &= vals
        else:
            allowed -= vals
    return frozenset(allowed)


def _check_overlaps(ck: _Checker, rules: list[Rule], levels: dict[str, Level]) -> None:
    """Two rules at different levels overlap when they test the same facts and, for every
    fact, their ranges meet: then one task could be raised to both by the same cause.

    Rules on different facts are different causes (a task late on a node and behind
    schedule), and the most severe level wins; that is not an overlap.
    """
    for i, a in enumerate(rules):
        for b in rules[i + 1:]:
            if a.level == b.level or a.level not in levels or b.level not in levels:
                continue
            facts = {c.fact for c in a.conditions}
            if facts != {c.fact for c in b.conditions}:
                continue
            if a.day_count != b.day_count and facts & DAY_FACTS:
                continue
            meets, shown = True, []
            for fact in sorted(facts):
                ca = [c for c in a.conditions if c.fact == fact]
                cb = [c for c in b.conditions if c.fact == fact]
                if fact == "status":
                    if not (_status_set(ca) & _status_set(cb)):
                        meets = False
                    continue
                if not (_range_ops(ca) and _range_ops(cb)):
                    if ca != cb:
                        meets = False
                    continue
                ia, ib = _interval(ca), _interval(cb)
                if ia.meet(ib).empty():
                    meets = False
                else:
                    shown.append(f"{fact} {ia} 与 {ib}")
            if meets:
                detail = "；".join(shown) or "条件相同"
                ck.add(None, f"规则 {a.code}（{a.level}）与 {b.code}（{b.level}）的条件重叠：{detail}")


# ---- writing ---------------------------------------------------------------------------------

def dump_rule_set(rule_set: RuleSet, header: str = "") -> str:
    """The rule set as YAML that ``parse_rule_set`` reads back to the same rule set."""
    text = yaml.safe_dump(rule_set.as_dict(), allow_unicode=True, sort_keys=False, width=100)
    lines = [f"# {h}" for h in header.splitlines()] if header else []
    return "\n".join([*lines, text]) if lines else text


def fact_help() -> list[tuple[str, str]]:
    """The facts rules may test, for the help text and docs."""
    return list(FACTS.items())
