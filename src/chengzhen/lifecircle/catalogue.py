"""The facility-type catalogue (设施类型目录): what a facilities file's type column may say.

A shipped, editable YAML file (``data/facility_types.yaml``) lists each facility type with its
code, its Chinese name, the synonyms offices write (农贸市场 for 菜市场, 口袋公园 for 社区公园 …) and
the OpenStreetMap tags that mark it (``amenity=school``, ``shop=convenience``, ``leisure=park``).
``Catalogue.resolve`` maps any of these to the type code.

Some OSM tags stand for several types: ``amenity=school`` is used for 小学, 初中 and 高中 alike.
Such a tag resolves to the type named under ``osm_defaults`` in the catalogue when there is one;
otherwise it is refused, asking for a type column with catalogue codes — the shipped catalogue
names no default for ``amenity=school``, because a 500 m 小学 radius applied to a 初中 (1000 m), or
the reverse, would misstate coverage. Edit ``osm_defaults`` (or pass your own catalogue) to change it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chengzhen.problems import Problem, Refused
from chengzhen.supervision.rules import load_yaml  # the project's duplicate-refusing, line-keeping YAML reader

DEFAULT_PATH = Path(__file__).with_name("data") / "facility_types.yaml"

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
OSM_RE = re.compile(r"^[a-z][a-z0-9_:]*=[A-Za-z0-9_:;.\-]+$")
TYPE_KEYS = {"code", "name", "synonyms", "osm", "note"}
TOP_KEYS = {"version", "sources", "types", "osm_defaults"}


def normalise(text: str) -> str:
    """The form values are compared in: NFKC (full-width letters and brackets folded), case-folded, no spaces."""
    return "".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def _osm_tag(text: str) -> str:
    key, _, value = normalise(text).partition("=")
    return f"{key}={value}"


@dataclass(frozen=True)
class FacilityType:
    """One facility type: ``code`` (identifier in files and columns), ``name`` (the Chinese name),
    ``synonyms`` (other Chinese names), ``osm`` (``key=value`` tags) and a free ``note``."""

    code: str
    name: str
    synonyms: tuple[str, ...] = ()
    osm: tuple[str, ...] = ()
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.name}（{self.code}）"


@dataclass
class Catalogue:
    """Facility types by code, with the look-ups ``resolve`` uses. Build with ``Catalogue.load``."""

    types: dict[str, FacilityType]
    osm_defaults: dict[str, str | None] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        self._names: dict[str, str] = {}
        self._osm: dict[str, list[str]] = {}
        self._osm_values: dict[str, set[str]] = {}  # bare OSM value → tags having it
        for t in self.types.values():
            self._names[normalise(t.code)] = t.code
            for name in (t.name, *t.synonyms):
                self._names[normalise(name)] = t.code
            for tag in t.osm:
                self._osm.setdefault(tag, []).append(t.code)
                self._osm_values.setdefault(tag.partition("=")[2], set()).add(tag)

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None) -> Catalogue:
        """Read and check a catalogue file (the shipped one by default); refuse it with every problem
        named by file, line and key path."""
        path = Path(path) if path is not None else DEFAULT_PATH
        name = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise Refused([Problem(file=name, reason=f"无法读取设施类型目录：{exc}")]) from None
        data, yaml_problems = load_yaml(text)
        if yaml_problems:
            raise Refused([Problem(file=name, row=line, reason=reason) for line, reason in yaml_problems])
        return _CatalogueChecker(name).check(data)

    # -- look-ups --------------------------------------------------------------------------

    def __contains__(self, code: object) -> bool:
        return code in self.types

    def __getitem__(self, code: str) -> FacilityType:
        return self.types[code]

    @property
    def codes(self) -> list[str]:
        return list(self.types)

    def label(self, code: str) -> str:
        return self.types[code].label if code in self.types else code

    def resolve(self, value: Any, file: str = "", row: int | None = None, column: str = "type",
                osm: bool = True) -> str:
        """A type column's value → the type code.

        Accepts a code, a Chinese name or synonym, and (unless ``osm`` is false) an OSM ``key=value``
        tag or a bare OSM value (``school``). Refuses an empty or unknown value naming the nearest
        known ones, and an OSM tag shared by several types that ``osm_defaults`` does not settle."""
        code, reason = self._lookup(value, osm)
        if code is None:
            raise Refused([Problem(file=file, row=row, column=column, reason=reason)])
        return code

    def resolve_all(self, values: Iterable[Any], file: str = "", column: str = "type",
                    rows: Sequence[int] | None = None) -> list[str]:
        """Resolve a whole column, refusing it with one problem per bad row (rows 1-based when not given)."""
        codes: list[str] = []
        problems: list[Problem] = []
        seen: dict[str, tuple[str | None, str]] = {}
        for i, value in enumerate(values):
            key = repr(value)
            if key not in seen:
                seen[key] = self._lookup(value, True)
            code, reason = seen[key]
            if code is not None:
                codes.append(code)
            else:
                problems.append(Problem(file=file, row=rows[i] if rows is not None else i + 1, column=column,
                                        reason=reason))
        if problems:
            raise Refused(problems)
        return codes

    def _lookup(self, value: Any, osm: bool) -> tuple[str | None, str]:
        """(the code for ``value``, "") or (None, the reason it is refused)."""
        if value is None or (isinstance(value, float) and value != value) or not str(value).strip():
            return None, "设施类型为空"
        text = str(value).strip()
        key = normalise(text)
        if key in self._names:
            return self._names[key], ""
        if osm:
            if "=" in key:
                tag = _osm_tag(text)
                if tag in self._osm:
                    return self._settle(text, tag, self._osm[tag])
            elif key in self._osm_values:
                tags = sorted(self._osm_values[key])
                candidates = [c for c in self.types if any(c in self._osm[t] for t in tags)]
                if len(tags) == 1:
                    return self._settle(text, tags[0], candidates)
                if len(candidates) == 1:
                    return candidates[0], ""
                return None, (f"OSM 值 {text!r} 出现在多个标签（{'、'.join(tags)}）中，可指 "
                        f"{'、'.join(self.label(c) for c in candidates)}；请写成 key=value 或写类型代码")
        return None, f"未知的设施类型 {text!r}{self._nearest(key)}"

    def _settle(self, text: str, tag: str, candidates: list[str]) -> tuple[str | None, str]:
        if len(candidates) == 1:
            return candidates[0], ""
        default = self.osm_defaults.get(tag)
        if default:
            return default, ""
        labels = "、".join(self.label(c) for c in candidates)
        return None, f"OSM 标签 {tag}（{text!r}）可指 {labels}，目录未设默认类型；请在类型列中写明设施类型代码"

    def _nearest(self, key: str) -> str:
        pool = {**self._names, **{t: cs[0] for t, cs in self._osm.items()}}
        near = difflib.get_close_matches(key, list(pool), n=5, cutoff=0.4)
        if not near:
            near = [k for k in pool if key and (key in k or k in key)][:5]
        labels = list(dict.fromkeys(self.label(pool[k]) for k in near))[:3]
        return f"（最接近的：{'、'.join(labels)}）" if labels else ""


class _CatalogueChecker:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, line: int | None, where: str, reason: str) -> None:
        self.problems.append(Problem(file=self.file, row=line, column=where, reason=reason))

    def check(self, data: Any) -> Catalogue:
        if not isinstance(data, dict):
            raise Refused([Problem(file=self.file, reason="设施类型目录应为键值映射（含 types 列表）")])
        for key in data:
            if key not in TOP_KEYS:
                self.add(_line(data, key), key, f"未知的字段（可用：{'、'.join(sorted(TOP_KEYS))}）")
        raw_types = data.get("types")
        types: dict[str, FacilityType] = {}
        names: dict[str, str] = {}
        if not isinstance(raw_types, list) or not raw_types:
            self.add(_line(data, "types"), "types", "应为非空的设施类型列表")
            raw_types = []
        for i, raw in enumerate(raw_types):
            t = self.facility_type(raw, f"types[{i}]")
            if t is None:
                continue
            where = f"types.{t.code}"
            if t.code in types:
                self.add(_line(raw, "code"), where, f"类型代码 {t.code} 重复")
                continue
            for n in (t.code, t.name, *t.synonyms):
                other = names.get(normalise(n))
                if other is not None and other != t.code:
                    self.add(_line(raw), where, f"名称 {n!r} 已用于类型 {other}")
                names.setdefault(normalise(n), t.code)
            types[t.code] = t
        defaults = self.defaults(data.get("osm_defaults"), _line(data, "osm_defaults"), types)
        if self.problems:
            raise Refused(self.problems)
        return Catalogue(types, defaults, self.file)

    def facility_type(self, raw: Any, where: str) -> FacilityType | None:
        if not isinstance(raw, dict):
            self.add(_line(raw), where, "设施类型应为键值映射（code、name、synonyms、osm）")
            return None
        for key in raw:
            if key not in TYPE_KEYS:
                self.add(_line(raw, key), f"{where}.{key}", f"未知的字段（可用：{'、'.join(sorted(TYPE_KEYS))}）")
        code, name = raw.get("code"), raw.get("name")
        if not isinstance(code, str) or not CODE_RE.match(code):
            self.add(_line(raw, "code") or _line(raw), f"{where}.code",
                     f"类型代码 {code!r} 应以小写字母开头，仅含小写字母、数字和下划线（至多 40 个字符）")
            return None
        where = f"types.{code}"
        if not isinstance(name, str) or not name.strip():
            self.add(_line(raw, "name") or _line(raw), f"{where}.name", "缺少中文名称")
            return None
        synonyms = self.texts(raw, "synonyms", where)
        osm = self.texts(raw, "osm", where)
        for tag in osm:
            if not OSM_RE.match(tag):
                self.add(_line(raw, "osm"), f"{where}.osm", f"OSM 标签 {tag!r} 应写成 key=value（如 amenity=school）")
        note = raw.get("note", "")
        return FacilityType(code, name.strip(), tuple(synonyms), tuple(_osm_tag(t) for t in osm),
                            str(note or "").strip())

    def texts(self, raw: dict, key: str, where: str) -> list[str]:
        value = raw.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add(_line(raw, key), f"{where}.{key}", "应为文字列表")
            return []
        return [v.strip() for v in value]

    def defaults(self, raw: Any, line: int | None, types: dict[str, FacilityType]) -> dict[str, str | None]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.add(line, "osm_defaults", "应为 OSM 标签: 类型代码 的映射")
            return {}
        owners: dict[str, list[str]] = {}
        for t in types.values():
            for tag in t.osm:
                owners.setdefault(tag, []).append(t.code)
        out: dict[str, str | None] = {}
        for tag, code in raw.items():
            norm = _osm_tag(tag)
            where = f"osm_defaults.{tag}"
            if norm not in owners:
                self.add(_line(raw, tag), where, f"OSM 标签 {tag} 不属于任何设施类型")
            elif code is not None and code not in owners[norm]:
                self.add(_line(raw, tag), where,
                         f"默认类型 {code!r} 应为使用该标签的类型之一：{'、'.join(owners[norm])}（或留空表示拒绝）")
            else:
                out[norm] = code
        return out


def _line(obj: Any, key: str | None = None) -> int | None:
    lines = getattr(obj, "lines", None)
    if key is not None and lines and key in lines:
        return lines[key]
    return getattr(obj, "line", None)
