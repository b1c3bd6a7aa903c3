"""The unit table of assessment indicators: recognising what offices write in a 单位 column,
converting between units of one dimension, and spotting values filled in the wrong unit.
Pure: no Django (PyYAML, decimal, stdlib).

The table is data, ``data/units.yaml``: dimensions (比率, 金额, 面积, 人均面积 …) each with a base
unit, and units with a factor to that base and the other spellings they go by. Text is matched
after normalising it: spaces dropped, NFKC (full-width ``％`` ``／`` ``ｍ`` become ASCII, the
squared-metre sign ``㎡`` becomes ``m2``), superscripts ``²³`` read as ``2 3`` (so ``m²`` = ``m2``
= ``㎡``), ASCII case ignored (``KWH`` = ``kWh``), ``μ``/``µ``/``u`` one letter, and ``每`` read as
``/`` (``座每万人`` = ``座/万人``). Blank, ``None``, ``无`` and ``-`` are the dimensionless unit ``""``.

Why our own small table and not pint: pint knows no Chinese unit names and none of the units
Chinese indicator tables are written in (万元, 亿元, 亩, 座每万人, 吨标煤/万元); its registry is
global and slow to load; and it would convert 个 into 处 as happily as metres into kilometres.
Here a unit is a line of data an office can read.

Decisions the table encodes:

* Count words (个 处 项 次 起 座 部 张 家 条 所 件 栋 台) are each their own dimension: 3 个 and
  3 处 count different things, so ``factor("个", "处")`` is refused and ``same_dimension`` says no.
* 月/季度/年 convert among themselves but not to 天 (months are not a fixed number of days);
  工作日 does not convert to 天; 百分点 (a difference of two percentages) does not convert to %.
* A dimension marked ``convertible: false`` (等级: 级) refuses conversion between different units.
* Factors are exact fractions (亩 is ``10000/15`` m², so 15 亩 = 1 公顷 exactly); ``Unit.factor``
  and ``factor()`` give them as Decimal (28 significant digits when not a finite decimal).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Context, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

TABLE_FILE = Path(__file__).parent / "data" / "units.yaml"
DIMENSIONLESS = ""  # the code of the dimensionless unit
WAN = 10000  # 万: the factor offices most often get wrong (元 for 万元, 人 for 万人)
_CTX = Context(prec=28)  # fixed, so results do not depend on the caller's decimal context
# dropped before matching: spaces (NFKC turns U+3000 into a space), zero-width characters, the
# middle dots of ``kW·h`` and carets of ``m^2``
_DROP = re.compile(r"[\s\u200b\u200c\u200d\ufeff·⋅•・^]+")
_NUMBER = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)")
_DIMENSION_KEYS = {"name", "base", "convertible", "check_10000"}
_UNIT_KEYS = {"code", "name", "dimension", "factor", "aliases"}


class UnitError(ValueError):
    """A unit that is unknown or cannot be converted; the message is Chinese, for users."""


@dataclass(frozen=True)
class Unit:
    """One unit: its code (how it is written and stored), Chinese name, dimension and factor
    to the dimension's base unit. ``aliases`` are the other spellings, as written in the table."""

    code: str
    name: str
    dimension: str
    factor: Decimal
    aliases: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class _Dimension:
    code: str
    name: str
    base: str
    convertible: bool
    check_10000: bool


@dataclass(frozen=True)
class _Table:
    units: tuple[Unit, ...]
    by_code: dict[str, Unit]
    by_key: dict[str, str]  # normalised spelling → code
    exact: dict[str, Fraction]  # code → factor to base, exactly
    dimensions: dict[str, _Dimension]


def _key(text: str) -> str:
    """The normalised spelling used for matching (see the module docstring)."""
    s = unicodedata.normalize("NFKC", text)  # full-width → ASCII, ² → 2, ㎡ → m2, µ → μ
    s = _DROP.sub("", s).lower()
    s = s.replace("μ", "u").replace("每", "/")
    return re.sub("/{2,}", "/", s)


def _fraction(raw: Any, where: str) -> Fraction:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise UnitError(f'{where}：factor 应为正数或分数（如 "10000/15"）')
    try:
        value = Fraction(str(raw).strip())  # str() keeps a YAML 0.1 as the decimal 0.1
    except (ValueError, ZeroDivisionError):
        raise UnitError(f"{where}：factor“{raw}”不是数") from None
    if value <= 0:
        raise UnitError(f"{where}：factor 应大于 0")
    return value


def _decimal(value: Fraction) -> Decimal:
    if value.denominator == 1:
        return Decimal(value.numerator)
    return _CTX.divide(Decimal(value.numerator), Decimal(value.denominator))


def _build(data: Any) -> _Table:
    """Check and index a parsed unit table (the structure of ``data/units.yaml``)."""
    if not isinstance(data, dict) or set(data) != {"dimensions", "units"}:
        raise UnitError("单位表应只有 dimensions 和 units 两项")
    if not isinstance(data["dimensions"], dict) or not isinstance(data["units"], list):
        raise UnitError("单位表：dimensions 应为映射，units 应为列表")
    dimensions: dict[str, _Dimension] = {}
    for code, spec in data["dimensions"].items():
        where = f"量纲 {code}"
        if not isinstance(spec, dict) or not {"name", "base"} <= set(spec) <= _DIMENSION_KEYS:
            raise UnitError(f"{where}：应有 name、base（可选 convertible、check_10000）")
        dimensions[str(code)] = _Dimension(
            str(code),
            str(spec["name"]),
            str(spec["base"]),
            bool(spec.get("convertible", True)),
            bool(spec.get("check_10000", False)),
        )
    units: list[Unit] = []
    by_code: dict[str, Unit] = {}
    by_key: dict[str, str] = {}
    exact: dict[str, Fraction] = {}
    for i, spec in enumerate(data["units"], start=1):
        where = f"第 {i} 个单位"
        if not isinstance(spec, dict) or not {"code", "dimension", "factor"} <= set(spec) <= _UNIT_KEYS:
            raise UnitError(f"{where}：应有 code、dimension、factor（可选 name、aliases）")
        code = str(spec["code"])
        where = f"单位“{code}”"
        if code in by_code:
            raise UnitError(f"{where}重复")
        if spec["dimension"] not in dimensions:
            raise UnitError(f"{where}：未知量纲 {spec['dimension']}")
        aliases = spec.get("aliases") or []
        if not isinstance(aliases, list):
            raise UnitError(f"{where}：aliases 应为列表")
        exact[code] = _fraction(spec["factor"], where)
        item = Unit(
            code,
            str(spec.get("name") or code or "无单位"),
            str(spec["dimension"]),
            _decimal(exact[code]),
            tuple(str(a) for a in aliases),
        )
        for spelling in (code, *item.aliases):
            key = _key(spelling)
            if by_key.get(key, code) != code:  # m² and m2 of one unit are the same key: fine
                raise UnitError(f"{where}：写法“{spelling}”已用于单位“{by_key[key]}”")
            by_key[key] = code
        units.append(item)
        by_code[code] = item
    if by_key.get("") != DIMENSIONLESS:
        raise UnitError("单位表应有无单位（code 为空）")
    for dim in dimensions.values():
        if dim.base not in by_code or by_code[dim.base].dimension != dim.code:
            raise UnitError(f"量纲 {dim.code}：基准单位“{dim.base}”不在该量纲的单位中")
        if exact[dim.base] != 1:
            raise UnitError(f"量纲 {dim.code}：基准单位“{dim.base}”的 factor 应为 1")
    return _Table(tuple(units), by_code, by_key, exact, dimensions)


@functools.cache
def _table() -> _Table:
    return _build(yaml.safe_load(TABLE_FILE.read_text(encoding="utf-8")))


def _show(code: str) -> str:
    return code or "无"


def unit(text: str | None) -> Unit:
    """The unit ``text`` names (a code or an alias, in any of the spellings the normalisation
    allows); blank, ``None``, ``无`` and ``-`` are the dimensionless unit. Raises UnitError."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise UnitError(f"未知单位“{text}”")
    table = _table()
    code = table.by_key.get(_key(text))
    if code is None:
        raise UnitError(f"未知单位“{text.strip()}”")
    return table.by_code[code]


def known(text: str | None) -> bool:
    """Whether ``text`` names a unit in the table."""
    try:
        unit(text)
    except UnitError:
        return False
    return True


def describe(unit_code: str | None) -> str:
    """The Chinese name of a unit (``平方米/人`` → ``平方米每人``; blank → ``无单位``)."""
    return unit(unit_code).name


def same_dimension(a: str | None, b: str | None) -> bool:
    """Whether two units measure the same thing (个 and 处 do not). Unknown units raise UnitError.
    A dimension marked non-convertible still counts as the same dimension."""
    return unit(a).dimension == unit(b).dimension


def _ratio(from_unit: str | None, to_unit: str | None) -> Fraction:
    a, b = unit(from_unit), unit(to_unit)
    table = _table()
    if a.dimension != b.dimension or (a.code != b.code and not table.dimensions[a.dimension].convertible):
        raise UnitError(f"单位“{_show(a.code)}”与“{_show(b.code)}”不可换算")
    return table.exact[a.code] / table.exact[b.code]


def factor(from_unit: str | None, to_unit: str | None) -> Decimal:
    """What to multiply a value in ``from_unit`` by to get it in ``to_unit`` (万元 → 元: 10000).
    Raises UnitError for unknown units or units of different dimensions."""
    return _decimal(_ratio(from_unit, to_unit))


def convert[N](value: N, from_unit: str | None, to_unit: str | None) -> N:
    """``value`` in ``from_unit`` expressed in ``to_unit``, of the same type: Decimal stays Decimal
    and is exact (15 亩 → 1 公顷; rounded to 28 significant digits only when the result is not a
    finite decimal), float stays float (multiplied by the factor's numerator, then divided by its
    denominator, so 3.5‰ → 0.35% and not 0.35000000000000003). Works on numpy arrays too; an int
    gives a float. The same unit returns ``value`` unchanged. Raises UnitError."""
    ratio = _ratio(from_unit, to_unit)
    if ratio == 1:
        return value
    if isinstance(value, Decimal):
        result = _CTX.multiply(value, Decimal(ratio.numerator))
        if ratio.denominator != 1:
            result = _CTX.divide(result, Decimal(ratio.denominator))
        return result  # type: ignore[return-value]
    return value * ratio.numerator / ratio.denominator  # type: ignore[operator]


def parse_quantity(text: str) -> tuple[Decimal, str | None]:
    """A number with an optional unit: ``"8.0 平方米/人"`` → ``(Decimal("8.0"), "平方米/人")``,
    ``"35%"`` → ``(Decimal("35"), "%")``, ``"1,200 万元"`` → ``(Decimal("1200"), "万元")``, ``"8"`` →
    ``(Decimal("8"), None)``. The unit comes back as its code. Comparisons (``"> 8"``), ranges and
    words are refused with UnitError."""
    if not isinstance(text, str):
        raise UnitError(f"无法识别数量“{text}”")
    s = _DROP.sub("", unicodedata.normalize("NFKC", text)).replace("−", "-")
    match = _NUMBER.match(s)
    rest = s[match.end() :] if match else ""
    if not match or rest[:1] in set("0123456789.,+-"):
        raise UnitError(f"无法识别数量“{text.strip()}”：应为数值加单位，如“8.0 平方米/人”")
    number = Decimal(match.group().replace(",", ""))
    if not rest:
        return number, None
    try:
        return number, unit(rest).code
    except UnitError:
        raise UnitError(f"无法识别数量“{text.strip()}”：未知单位“{rest}”") from None


def suspicious_factor(value: float, unit_code: str | None, low: float | None, high: float | None) -> str | None:
    """A Chinese hint when ``value`` looks filled in a unit 10000 times off: for dimensions marked
    ``check_10000`` (金额, 人数, 户数, 面积, 重量 …), if ``value`` lies outside ``[low, high]`` (a missing
    bound is open) but ``value / 10000`` or ``value * 10000`` lies inside. E.g. 35000 where the
    indicator is in 万元 and the range is [0, 1000] → 数值可能以“元”填写而指标单位为“万元”（相差 10000
    倍），请确认. Otherwise None."""
    meant = unit(unit_code)
    table = _table()
    if not table.dimensions[meant.dimension].check_10000 or value is None or math.isnan(value):
        return None
    lo = -math.inf if low is None else low
    hi = math.inf if high is None else high
    if lo <= value <= hi:
        return None
    for shifted, filled_factor in (
        (value / WAN, table.exact[meant.code] / WAN),
        (value * WAN, table.exact[meant.code] * WAN),
    ):
        if lo <= shifted <= hi:
            filled = next(
                (
                    u.code
                    for u in table.units
                    if u.dimension == meant.dimension and table.exact[u.code] == filled_factor
                ),
                None,
            )
            if filled is None:
                return f"数值可能相差 10000 倍（指标单位为“{meant.code}”），请确认"
            return f"数值可能以“{filled}”填写而指标单位为“{meant.code}”（相差 10000 倍），请确认"
    return None


def table() -> list[Unit]:
    """Every unit in table order, the dimensionless unit (code ``""``) first; for docs and pages."""
    return list(_table().units)


def dimensions() -> dict[str, str]:
    """Dimension code → Chinese name (比率, 金额 …), in table order."""
    return {d.code: d.name for d in _table().dimensions.values()}
