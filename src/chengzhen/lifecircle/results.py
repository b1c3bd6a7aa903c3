"""A run's coverage as assessment values (生活圈覆盖率 → 考核数值). Pure: no Django.

``coverage_rates`` reads the ``coverage.csv`` that ``chengzhen lifecircle run`` writes (or rows of
the same columns) and picks, for one facility type and one circle, each area's population-weighted
coverage as a percentage (rate × 100, to 0.01) with the derivation in one Chinese sentence — what a
verifier reads beside the value. The service that submits them to a round is ``services``.

coverage.csv records neither the preset nor the time of the run. The time is the file's
modification time unless given. The preset, unless given, is recognised from the file itself: the
one shipped preset that has every circle of the file, requires each facility type in exactly the
circles the file reports it in (a run reports a type in the circles requiring it) and gives it the
file's service distance (``reach_m``); when none or several fit, the sentence says the preset is not
recorded. Given a preset, a file that does not fit it is refused: the values would not be what the
preset says they are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from chengzhen.problems import Problem, Refused

from .catalogue import Catalogue
from .coverage import ALL
from .presets import Preset

COVERAGE_FILE = "coverage.csv"
COLUMNS = ("area", "type", "circle", "reach_m", "homes", "covered_homes", "population", "covered_population",
           "rate")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CoverageRecord:
    """One row of coverage.csv (``row`` is its line in the file, the header being line 1)."""

    row: int
    area: str
    type: str
    circle: int
    reach_m: float | None  # blank for a complete-circle row (each type has its own)
    homes: int
    covered_homes: int
    population: str  # as written, so the sentence repeats the file's figures exactly
    covered_population: str
    rate: Decimal | None
    type_label: str = ""  # the optional type_label column


@dataclass(frozen=True)
class CoverageTable:
    """A run's coverage rows with where they came from."""

    file: str
    records: tuple[CoverageRecord, ...]
    measured_at: dt.datetime | None = None

    def types(self) -> list[str]:
        return list(dict.fromkeys(r.type for r in self.records))

    def circles(self, type_code: str) -> list[int]:
        return sorted({r.circle for r in self.records if r.type == type_code})

    def areas(self) -> list[str]:
        return list(dict.fromkeys(r.area for r in self.records))


@dataclass(frozen=True)
class AreaRate:
    """One area's coverage as an assessment value: ``amount`` in percent (0.01), ``derivation`` the
    sentence saying how it was measured."""

    area: str
    type: str
    circle: int
    amount: Decimal
    reach_m: float | None
    homes: int
    covered_homes: int
    population: str
    covered_population: str
    row: int
    derivation: str


def read_coverage(source: str | Path | Sequence[Mapping[str, object]], *, file: str = "") -> CoverageTable:
    """coverage.csv from a run folder (or the file itself), or rows of the same columns; refused with
    file, row and column on a missing file, a missing column or a value that is not a number."""
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            path = path / COVERAGE_FILE
        name = file or str(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise Refused([Problem(file=name, reason="没有覆盖率文件 coverage.csv：请先用 chengzhen lifecircle run "
                                                     "（带 --preset）测算，再给出其输出文件夹")]) from None
        except OSError as exc:
            raise Refused([Problem(file=name, reason=f"无法读取：{exc}")]) from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Refused([Problem(file=name, reason="不是 UTF-8 编码的 CSV")]) from None
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip() for h in (reader.fieldnames or [])]
        rows: Iterable[Mapping[str, object]] = reader
        measured = dt.datetime.fromtimestamp(path.stat().st_mtime)
    else:
        name = file or COVERAGE_FILE
        rows = list(source)
        header = list(rows[0].keys()) if rows else list(COLUMNS)
        measured = None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise Refused([Problem(file=name, row=1, column=c, reason=f"缺少列 {c}") for c in missing])
    records, problems = [], []
    for line, raw in enumerate(rows, start=2):
        rec = _record(name, line, {k.strip(): v for k, v in raw.items() if k is not None}, problems)
        if rec is not None:
            records.append(rec)
    if problems:
        raise Refused(problems)
    if not records:
        raise Refused([Problem(file=name, reason="覆盖率文件没有数据行")])
    return CoverageTable(name, tuple(records), measured)


def _record(name: str, line: int, raw: Mapping[str, object], problems: list[Problem]) -> CoverageRecord | None:
    def text(column: str) -> str:
        value = raw.get(column)
        return "" if value is None else str(value).strip()

    def number(column: str, kind=float):
        value = text(column)
        try:
            return kind(value) if kind is not int else int(Decimal(value))
        except (ValueError, InvalidOperation):
            problems.append(Problem(file=name, row=line, column=column, reason=f"{value!r} 不是数值"))
            return None

    before = len(problems)
    circle, homes, covered = number("circle", int), number("homes", int), number("covered_homes", int)
    reach = number("reach_m") if text("reach_m") else None
    population, covered_pop = text("population"), text("covered_population")
    for column, value in (("population", population), ("covered_population", covered_pop)):
        if value:
            number(column)
    rate_text = text("rate")
    rate = None
    if rate_text:
        try:
            rate = Decimal(rate_text)
            if not rate.is_finite() or not 0 <= rate <= 1:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(Problem(file=name, row=line, column="rate", reason=f"{rate_text!r} 不是 0–1 之间的覆盖率"))
    if not text("type"):
        problems.append(Problem(file=name, row=line, column="type", reason="设施类型为空"))
    if len(problems) > before:
        return None
    return CoverageRecord(line, text("area"), text("type"), circle, reach, homes, covered, population, covered_pop,
                          rate, text("type_label"))


def read_area_map(path: str | Path) -> dict[str, str]:
    """A mapping file (CSV, columns ``area,unit_code``): area name → unit code; refused with row and
    column on a missing column, an empty cell or an area given twice."""
    p = Path(path)
    name = str(path)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise Refused([Problem(file=name, reason="没有这个区域对应表文件")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused([Problem(file=name, reason=f"无法读取区域对应表（应为 UTF-8 CSV）：{exc}")]) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("area", "unit_code") if c not in header]
    if missing:
        raise Refused([Problem(file=name, row=1, column=c, reason=f"缺少列 {c}（应为 area,unit_code）")
                       for c in missing])
    out: dict[str, str] = {}
    problems = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        area, code = row.get("area", ""), row.get("unit_code", "")
        if not area and not code:
            continue
        if not area or not code:
            problems.append(Problem(file=name, row=line, column="area" if not area else "unit_code",
                                    reason="区域名称和单位代码都须填写"))
        elif area in out and out[area] != code:
            problems.append(Problem(file=name, row=line, column="area",
                                    reason=f"区域“{area}”已对应 {out[area]}，不能再对应 {code}"))
        else:
            out[area] = code
    if problems:
        raise Refused(problems)
    return out


def resolve_type(table: CoverageTable, type_code: str, catalogue: Catalogue | None = None) -> str:
    """The type as coverage.csv writes it: any type string in the file (a catalogue code, or the
    complete-circle code), or its ``type_label`` (全部必配), else a catalogue name or synonym that
    resolves to a type in the file."""
    wanted = str(type_code).strip()
    present = table.types()
    if wanted in present:
        return wanted
    labelled = list(dict.fromkeys(r.type for r in table.records if r.type_label == wanted))
    if len(labelled) == 1:
        return labelled[0]
    try:
        code = (catalogue or Catalogue.load()).resolve(wanted, file=table.file, column="type")
    except Refused:
        code = None
    if code in present:
        return code
    raise Refused([Problem(file=table.file, column="type", reason=(
        f"覆盖率文件中没有设施类型 {wanted!r}（有：{'、'.join(present)}）"))])


def pick(table: CoverageTable, type_code: str, circle: int | str,
         catalogue: Catalogue | None = None) -> tuple[str, int]:
    """(type as the file writes it, minutes), refused naming the types or circles the file has."""
    catalogue = catalogue or Catalogue.load()
    code = resolve_type(table, type_code, catalogue)
    try:
        minutes = int(str(circle).strip().removesuffix("分钟"))
    except ValueError:
        raise Refused([Problem(column="circle", reason=f"生活圈应为分钟数，如 15；收到 {circle!r}")]) from None
    if minutes not in table.circles(code):
        raise Refused([Problem(file=table.file, column="circle", reason=(
            f"覆盖率文件中 {catalogue.label(code)} 没有 {minutes} 分钟生活圈"
            f"（有：{'、'.join(f'{m} 分钟' for m in table.circles(code))}）"))])
    return code, minutes


def recognise_preset(table: CoverageTable, presets: Iterable[Preset] | None = None,
                     catalogue: Catalogue | None = None) -> Preset | None:
    """The one shipped preset (or one of ``presets``) the file fits, else None (module docstring)."""
    catalogue = catalogue or Catalogue.load()
    candidates = presets if presets is not None else [Preset.load(n, catalogue) for n in Preset.shipped()]
    found = [p for p in candidates if _disagreement(table, p, catalogue) is None]
    return found[0] if len(found) == 1 else None


def _disagreement(table: CoverageTable, preset: Preset, catalogue: Catalogue) -> tuple[CoverageRecord, str] | None:
    """None when the file could come from ``preset``; else the first row that could not, and why: its
    circle is not the preset's, a catalogue type the preset does not require in that circle (a run
    reports a type in exactly the circles requiring it), or another service distance."""
    minutes = set(preset.minutes)
    for r in table.records:
        if r.circle not in minutes:
            return r, f"预设 {preset.code} 没有 {r.circle} 分钟生活圈"
        required = preset.circle(r.circle).requirements
        if r.type in catalogue and r.type not in required:
            return r, f"预设 {preset.code} 的 {r.circle} 分钟生活圈不要求 {catalogue.label(r.type)}"
        if r.reach_m is not None and r.type in required and abs(preset.reach(r.type, r.circle) - r.reach_m) > 0.005:
            return r, (f"预设 {preset.code} 中 {catalogue.label(r.type)} 的服务距离是 "
                       f"{preset.reach(r.type, r.circle):g} 米，文件中是 {r.reach_m:g} 米")
    for t in table.types():
        if t not in catalogue:
            continue  # a complete-circle row, not a facility type
        wanted = {c.minutes for c in preset.circles if t in c.requirements}
        if set(table.circles(t)) != wanted:
            first = next(r for r in table.records if r.type == t)
            return first, (f"预设 {preset.code} 在 {'、'.join(f'{m} 分钟' for m in sorted(wanted))}生活圈要求 "
                           f"{catalogue.label(t)}，文件中是 {'、'.join(f'{m} 分钟' for m in table.circles(t))}")
    return None


def coverage_rates(source: str | Path | Sequence[Mapping[str, object]] | CoverageTable, type_code: str,
                   circle: int | str, *, areas: Iterable[str] | None = None, preset: str | Path | Preset | None = None,
                   measured_at: dt.datetime | None = None, catalogue: Catalogue | None = None) -> list[AreaRate]:
    """Each area's coverage of ``type_code`` within ``circle`` minutes, in the file's order (only
    ``areas`` when given). Refused: an unknown type or circle (naming those present), an area asked
    for that is not in the file, an area without population, a preset the file disagrees with."""
    table = source if isinstance(source, CoverageTable) else read_coverage(source)
    catalogue = catalogue or Catalogue.load()
    code, minutes = pick(table, type_code, circle, catalogue)
    chosen = _preset(table, preset, catalogue)
    rows = [r for r in table.records if r.type == code and r.circle == minutes]
    if areas is not None:
        wanted = list(dict.fromkeys(areas))
        by_area = {r.area: r for r in rows}
        absent = [a for a in wanted if a not in by_area]
        if absent:
            raise Refused([Problem(file=table.file, column="area", reason=f"覆盖率文件中没有区域“{a}”")
                           for a in absent])
        rows = [by_area[a] for a in wanted]
    problems = [Problem(file=table.file, row=r.row, column="population", reason=(
        f"区域“{r.area or '（区域外）'}”没有人口（住宅 {r.homes} 处），无法计算覆盖率")) for r in rows
        if r.rate is None or not _positive(r.population)]
    if problems:
        raise Refused(problems)
    when = measured_at or table.measured_at
    preset_text = (f"预设 {chosen.name}（{chosen.code}）" if chosen is not None else
                   "预设未记录（coverage.csv 不含预设名称）")
    circle_name = f"{minutes}分钟生活圈"
    if chosen is not None and minutes in chosen.minutes:
        circle_name = chosen.circle(minutes).name or circle_name
    out = []
    for r in rows:
        amount = (r.rate * 100).quantize(CENT, rounding=ROUND_HALF_UP)
        where = r.area or "区域外"
        when_text = f"测算于 {when:%Y-%m-%d %H:%M}，" if when else ""
        if code in catalogue:
            label = catalogue.label(code)
        else:
            label = f"{r.type_label}（{code}）" if r.type_label and r.type_label != code else code
        reach = "各类设施按各自服务距离" if r.reach_m is None else f"服务距离 {r.reach_m:g} 米"
        sentence = (f"{where} {circle_name}（{label}，{reach}）：覆盖人口 "
                    f"{r.covered_population} / 总人口 {r.population}，覆盖率 {amount}%（住宅 {r.covered_homes} / "
                    f"{r.homes} 处）；{when_text}{preset_text}；来源 {table.file} 第 {r.row} 行")
        out.append(AreaRate(r.area, code, minutes, amount, r.reach_m, r.homes, r.covered_homes, r.population,
                            r.covered_population, r.row, sentence))
    return out


def _positive(text: str) -> bool:
    try:
        return Decimal(text) > 0
    except InvalidOperation:
        return False


def _preset(table: CoverageTable, preset: str | Path | Preset | None, catalogue: Catalogue) -> Preset | None:
    if preset is None:
        return recognise_preset(table, catalogue=catalogue)
    chosen = preset if isinstance(preset, Preset) else Preset.load(preset, catalogue)
    found = _disagreement(table, chosen, catalogue)
    if found is not None:
        row, why = found
        raise Refused([Problem(file=table.file, row=row.row, column="reach_m" if "服务距离" in why else "circle",
                               reason=f"{why}：覆盖率文件不是按此预设测算的")])
    return chosen


__all__ = ["ALL", "AreaRate", "CoverageRecord", "CoverageTable", "coverage_rates", "read_area_map", "read_coverage",
           "pick", "recognise_preset", "resolve_type"]
