"""Standards as presets (生活圈标准预设): circles, travel modes and speeds, required facilities.

A preset is a YAML file (shipped ones in ``data/presets/``: ``gb50180-2018``, ``tdt1062-2021``,
``zj-mlcz``) naming, per circle (minutes, strictly increasing), the travel mode and speed and the
facility types required within it, each with an optional service radius (服务半径) and an optional
per-1,000-people provision norm (千人指标). Values not checked against the standard's text carry an
``unverified:`` mark saying so; they are configurable defaults, not the standard's word.

``preset.reach(type, circle)`` is the distance in metres a home may be from the nearest facility of
a type to count as within that circle: the type's service radius where that circle gives one,
otherwise the circle's minutes × its speed (or its ``distance_m`` when the circle is given as a
distance, as GB 50180 gives its circles; the speed is then distance ÷ minutes). For a ``drive``
circle the measurement uses time by road class (``road_speeds``); its ``speed`` is the speed on
roads of other classes and what ``reach`` uses.
A ``bus`` circle without timetable data is an approximation (a constant door-to-door speed) and is
labelled so (``Circle.approximate``).

Travel modes and the speeds accepted (metres per minute): walk 30–120, cycle 100–500, bus
100–1,000, drive 100–2,000.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chengzhen.problems import Problem, Refused
from chengzhen.supervision.rules import load_yaml  # the project's duplicate-refusing, line-keeping YAML reader

from .catalogue import Catalogue

PRESET_DIR = Path(__file__).with_name("data") / "presets"

MODES = {"walk": "步行", "cycle": "骑行", "bus": "公交", "drive": "驾车"}
SPEED_RANGE = {"walk": (30.0, 120.0), "cycle": (100.0, 500.0), "bus": (100.0, 1000.0), "drive": (100.0, 2000.0)}
TOP_KEYS = {"code", "name", "sources", "unverified", "note", "circles"}
CIRCLE_KEYS = {"minutes", "name", "mode", "speed_m_per_min", "distance_m", "road_speeds", "facilities", "unverified",
               "note"}
FACILITY_KEYS = {"type", "radius_m", "norm", "unverified", "note"}
NORM_KEYS = {"per_1000", "unit", "measure", "unverified"}
ROAD_CLASS_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Norm:
    """A provision norm: ``per_1000`` ``unit`` of ``measure`` per 1,000 residents (e.g. 1000 m² of park)."""

    per_1000: float
    unit: str
    measure: str = ""
    unverified: str = ""


@dataclass(frozen=True)
class Requirement:
    """A facility type required within a circle, with its service radius (m) and norm when given."""

    type: str
    radius_m: float | None = None
    norm: Norm | None = None
    unverified: str = ""
    note: str = ""


@dataclass(frozen=True)
class Circle:
    """One life circle: ``minutes``, travel ``mode``, ``speed`` (m/min), per-road-class speeds for
    driving, and the facility types required within it (in file order)."""

    minutes: int
    name: str
    mode: str
    speed: float
    road_speeds: dict[str, float] = field(default_factory=dict)
    requirements: dict[str, Requirement] = field(default_factory=dict)
    unverified: str = ""
    note: str = ""
    distance_m: float | None = None  # the circle given as a distance; speed is then distance ÷ minutes

    @property
    def approximate(self) -> bool:
        """A bus circle has no timetable behind it: a constant speed stands in for waiting and riding."""
        return self.mode == "bus"

    @property
    def mode_label(self) -> str:
        return MODES[self.mode] + ("（无时刻表数据，近似）" if self.approximate else "")

    @property
    def reach_m(self) -> float:
        """The circle's reach: its distance when given, else minutes × speed."""
        return self.distance_m if self.distance_m is not None else self.minutes * self.speed


@dataclass(frozen=True)
class Preset:
    """A life-circle standard as loaded from a preset file; see the module docstring."""

    code: str
    name: str
    circles: tuple[Circle, ...]
    sources: tuple[str, ...] = ()
    notes_unverified: tuple[str, ...] = ()
    note: str = ""
    source: str = ""

    @classmethod
    def load(cls, name_or_path: str | Path, catalogue: Catalogue | None = None) -> Preset:
        """Load a shipped preset by name (``gb50180-2018``) or a preset file by path; refuse it with
        every problem named by file, line and key path (unknown facility types, bad speeds,
        circles out of order …)."""
        path = _find(name_or_path)
        text = None
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise Refused([Problem(file=str(path), reason=f"无法读取预设：{exc}")]) from None
        data, yaml_problems = load_yaml(text)
        if yaml_problems:
            raise Refused([Problem(file=str(path), row=line, reason=reason) for line, reason in yaml_problems])
        return _PresetChecker(str(path), catalogue or Catalogue.load()).check(data)

    @staticmethod
    def shipped() -> list[str]:
        """Names of the presets shipped with the library."""
        return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))

    def circle(self, minutes: int | Circle) -> Circle:
        if isinstance(minutes, Circle):
            return minutes
        for c in self.circles:
            if c.minutes == minutes:
                return c
        raise KeyError(f"preset {self.code} has no {minutes}-minute circle "
                       f"(it has {', '.join(str(c.minutes) for c in self.circles)})")

    @property
    def minutes(self) -> list[int]:
        return [c.minutes for c in self.circles]

    @property
    def types(self) -> list[str]:
        """Every facility type some circle requires, in first-mentioned order."""
        return list(dict.fromkeys(t for c in self.circles for t in c.requirements))

    def reach(self, type_code: str, circle: int | Circle) -> float:
        """Metres a home may be from the nearest facility of ``type_code`` to count as within ``circle``:
        the type's service radius in that circle when given, else the circle's minutes × speed."""
        c = self.circle(circle)
        req = c.requirements.get(type_code)
        if req is not None and req.radius_m is not None:
            return req.radius_m
        return c.reach_m

    @property
    def largest_reach(self) -> float:
        """The farthest any type counts as within any circle — the distance cap of a run under this preset."""
        return max(max([c.reach_m, *(r.radius_m for r in c.requirements.values() if r.radius_m is not None)])
                   for c in self.circles)

    @property
    def unverified(self) -> list[tuple[str, str]]:
        """Every value marked unverified, as (key path, what is unverified)."""
        out = [("unverified", text) for text in self.notes_unverified]
        for c in self.circles:
            where = f"circles.{c.minutes}"
            if c.unverified:
                out.append((where, c.unverified))
            for r in c.requirements.values():
                if r.unverified:
                    out.append((f"{where}.facilities.{r.type}", r.unverified))
                if r.norm is not None and r.norm.unverified:
                    out.append((f"{where}.facilities.{r.type}.norm", r.norm.unverified))
        return out


def _find(name_or_path: str | Path) -> Path:
    text = str(name_or_path).strip()
    shipped = {p.stem.casefold(): p for p in PRESET_DIR.glob("*.yaml")}
    if text.casefold() in shipped:
        return shipped[text.casefold()]
    path = Path(text)
    if text and path.is_file():
        return path
    names = "、".join(sorted(shipped))
    raise Refused([Problem(file=text, reason=f"未知的预设 {text!r}（内置：{names}，或给出预设文件路径）")])


def _line(obj: Any, key: str | None = None) -> int | None:
    lines = getattr(obj, "lines", None)
    if key is not None and lines and key in lines:
        return lines[key]
    return getattr(obj, "line", None)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


class _PresetChecker:
    def __init__(self, file: str, catalogue: Catalogue):
        self.file = file
        self.catalogue = catalogue
        self.problems: list[Problem] = []

    def add(self, line: int | None, where: str, reason: str) -> None:
        self.problems.append(Problem(file=self.file, row=line, column=where, reason=reason))

    def keys(self, obj: dict, allowed: set[str], where: str) -> None:
        for key in obj:
            if key not in allowed:
                self.add(_line(obj, key), f"{where}.{key}" if where else key,
                         f"未知的字段（可用：{'、'.join(sorted(allowed))}）")

    def text(self, obj: dict, key: str, where: str, required: bool = False) -> str:
        value = obj.get(key)
        if value is None:
            if required:
                self.add(_line(obj), f"{where}.{key}" if where else key, "缺少此项")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.add(_line(obj, key), f"{where}.{key}" if where else key, "应为非空文字")
            return ""
        return value.strip()

    def texts(self, obj: dict, key: str) -> tuple[str, ...]:
        value = obj.get(key, [])
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add(_line(obj, key), key, "应为文字列表")
            return ()
        return tuple(v.strip() for v in value)

    def check(self, data: Any) -> Preset:
        if not isinstance(data, dict):
            raise Refused([Problem(file=self.file, reason="预设应为键值映射（含 code、name、circles）")])
        self.keys(data, TOP_KEYS, "")
        code = self.text(data, "code", "", required=True)
        name = self.text(data, "name", "", required=True)
        sources = self.texts(data, "sources")
        if not sources:
            self.add(_line(data, "sources") or _line(data), "sources", "缺少来源（所依据的标准及出处）")
        unverified = self.texts(data, "unverified")
        note = self.text(data, "note", "")
        raw = data.get("circles")
        circles: list[Circle] = []
        if not isinstance(raw, list) or not raw:
            self.add(_line(data, "circles") or _line(data), "circles", "应为非空的生活圈列表")
            raw = []
        last: int | None = None  # order is checked on the minutes as written, even of refused circles
        for i, rc in enumerate(raw):
            minutes = rc.get("minutes") if isinstance(rc, dict) else None
            if isinstance(minutes, int) and not isinstance(minutes, bool):
                if last is not None and minutes <= last:
                    self.add(_line(rc, "minutes"), f"circles[{i}].minutes",
                             f"生活圈应按分钟数从小到大排列且不重复：{minutes} 分钟排在 {last} 分钟之后")
                last = minutes
            c = self.circle(rc, f"circles[{i}]")
            if c is not None:
                circles.append(c)
        if self.problems:
            raise Refused(self.problems)
        return Preset(code, name, tuple(circles), sources, unverified, note, self.file)

    def speed(self, value: Any, mode: str, line: int | None, where: str) -> float | None:
        speed = _number(value)
        lo, hi = SPEED_RANGE.get(mode, (0.0, math.inf))
        if speed is None or not lo <= speed <= hi:
            self.add(line, where, f"{MODES.get(mode, mode)}速度 {value!r} 米/分钟不合理（应在 {lo:g}–{hi:g} 之间）")
            return None
        return speed

    def circle(self, rc: Any, where: str) -> Circle | None:
        if not isinstance(rc, dict):
            self.add(_line(rc), where, "生活圈应为键值映射（minutes、mode、speed_m_per_min、facilities）")
            return None
        self.keys(rc, CIRCLE_KEYS, where)
        minutes = rc.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            self.add(_line(rc, "minutes") or _line(rc), f"{where}.minutes", f"分钟数 {minutes!r} 应为正整数")
            return None
        where = f"circles.{minutes}"
        mode = rc.get("mode")
        if mode not in MODES:
            self.add(_line(rc, "mode") or _line(rc), f"{where}.mode",
                     f"出行方式 {mode!r} 未知（可用：{'、'.join(f'{k}（{v}）' for k, v in MODES.items())}）")
            return None
        distance = None
        if "distance_m" in rc:
            distance = _number(rc["distance_m"])
            if distance is None or distance <= 0:
                self.add(_line(rc, "distance_m"), f"{where}.distance_m", f"距离 {rc['distance_m']!r} 应为正数（米）")
                return None
            if "speed_m_per_min" in rc:
                self.add(_line(rc, "distance_m"), f"{where}.distance_m", "distance_m 与 speed_m_per_min 只能写一个")
            speed = self.speed(distance / minutes, mode, _line(rc, "distance_m"), f"{where}.distance_m")
        else:
            speed = self.speed(rc.get("speed_m_per_min"), mode, _line(rc, "speed_m_per_min") or _line(rc),
                               f"{where}.speed_m_per_min")
        road_speeds: dict[str, float] = {}
        raw_roads = rc.get("road_speeds")
        if raw_roads is not None:
            if mode != "drive":
                self.add(_line(rc, "road_speeds"), f"{where}.road_speeds", "只有驾车（drive）生活圈按道路等级设速度")
            elif not isinstance(raw_roads, dict) or not raw_roads:
                self.add(_line(rc, "road_speeds"), f"{where}.road_speeds", "应为 道路等级: 速度（米/分钟） 的映射")
            else:
                for road, value in raw_roads.items():
                    here = f"{where}.road_speeds.{road}"
                    if not ROAD_CLASS_RE.match(road):
                        self.add(_line(raw_roads, road), here, f"道路等级 {road!r} 应为 OSM highway 值（如 primary）")
                    s = self.speed(value, "drive", _line(raw_roads, road), here)
                    if s is not None:
                        road_speeds[road] = s
        requirements: dict[str, Requirement] = {}
        raw_facilities = rc.get("facilities", [])
        if not isinstance(raw_facilities, list):
            self.add(_line(rc, "facilities"), f"{where}.facilities", "应为设施列表")
            raw_facilities = []
        for j, rf in enumerate(raw_facilities):
            req = self.requirement(rf, f"{where}.facilities[{j}]")
            if req is None:
                continue
            if req.type in requirements:
                self.add(_line(rf, "type"), f"{where}.facilities.{req.type}", f"设施类型 {req.type} 在此生活圈中重复")
                continue
            requirements[req.type] = req
        if speed is None:
            return None
        return Circle(minutes, self.text(rc, "name", where) or f"{minutes}分钟生活圈", mode, speed, road_speeds,
                      requirements, self.text(rc, "unverified", where), self.text(rc, "note", where), distance)

    def requirement(self, rf: Any, where: str) -> Requirement | None:
        if isinstance(rf, str):
            rf_type, rf = rf, {}
        elif isinstance(rf, dict):
            self.keys(rf, FACILITY_KEYS, where)
            rf_type = rf.get("type")
        else:
            self.add(_line(rf), where, "设施应为类型代码或 {type, radius_m, norm} 映射")
            return None
        try:
            code = self.catalogue.resolve(rf_type, osm=False)
        except Refused as exc:
            self.add(_line(rf, "type") or _line(rf), f"{where}.type", exc.problems[0].reason)
            return None
        radius = None
        if "radius_m" in rf:
            radius = _number(rf["radius_m"])
            if radius is None or radius <= 0:
                self.add(_line(rf, "radius_m"), f"{where}.radius_m", f"服务半径 {rf['radius_m']!r} 应为正数（米）")
                radius = None
        norm = self.norm(rf.get("norm"), _line(rf, "norm"), f"{where}.norm") if "norm" in rf else None
        return Requirement(code, radius, norm, self.text(rf, "unverified", where), self.text(rf, "note", where))

    def norm(self, raw: Any, line: int | None, where: str) -> Norm | None:
        if not isinstance(raw, dict):
            self.add(line, where, "千人指标应为 {per_1000, unit, measure} 映射")
            return None
        self.keys(raw, NORM_KEYS, where)
        per = _number(raw.get("per_1000"))
        if per is None or per <= 0:
            self.add(_line(raw, "per_1000") or line, f"{where}.per_1000", f"千人指标 {raw.get('per_1000')!r} 应为正数")
            return None
        unit = self.text(raw, "unit", where, required=True)
        return Norm(per, unit, self.text(raw, "measure", where), self.text(raw, "unverified", where))
