"""The files of a life-circle run (生活圈测算成果), written into a folder the caller chose (``run``
writes into a temporary one and moves it in on success). Pure: no Django (csv, openpyxl through the
platform's customary table layout, pyogrio for the GeoPackage).

Every table is built once as typed columns (``Field``) and written from them, so homes.csv and the
GeoPackage's ``homes`` layer cannot disagree: distances and minutes are rounded to 0.01 before
either is written. CSV files are UTF-8 with a BOM (Excel opens them as UTF-8).

The GeoPackage ``lifecircle.gpkg`` holds WGS84 (EPSG:4326) geometries, which every GIS opens without
a projection to pick, and these layers:

- ``homes`` (points): the columns of homes.csv;
- ``facilities`` (points): every facility read (types the preset does not ask for too): ``id``,
  ``type`` (catalogue code), ``type_label`` (Chinese name);
- ``gaps`` (points, with a preset): one feature per home × circle × required type the home is not
  covered for: ``home_id``, ``type``, ``type_label``, ``circle``, ``distance_m`` (blank: unreachable,
  beyond the cap, or a type absent from the facilities), ``population`` — filter by type and circle
  to see where a facility is missing, sum ``population`` for the residents concerned;
- ``areas`` (multipolygons, with a preset and areas): ``name``, ``homes``, ``population`` and one
  coverage-rate column (0–1) per type × circle, ``<type>_<minutes>`` and ``all_required_<minutes>``
  (全部必配). Wide polygons rather than a geometry-less long table: a planner in QGIS styles a
  polygon layer by one of its columns (graduated symbology) straight away, where a long table would
  first need a join and a filter; the long form is coverage.csv.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from .coverage import ALL, ALL_REQUIRED, ALL_REQUIRED_LABEL, CoverageRow, Supply, complete, gaps
from .presets import Preset

GPKG_NAME = "lifecircle.gpkg"
WGS84 = "EPSG:4326"
PROBLEM_HEADER = ["kind", "id", "type", "distance_m", "fragment", "fragment_nodes", "reason"]


def plain(x: float | None) -> str:
    """A number to 0.01 without trailing zeros or an exponent (1234567 stays 1234567; blank for none)."""
    if x is None or not math.isfinite(x):
        return ""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _two(x: float) -> str:
    return f"{x:.2f}"


@dataclass(frozen=True)
class Field:
    """One column: float (NaN blank), integer, or object (text; None blank); ``fmt`` writes a float in CSV."""

    name: str
    values: np.ndarray
    fmt: Callable[[float], str] = _two


@dataclass(frozen=True)
class ProblemRow:
    """One line of problems.csv: ``kind`` is ``home_far`` / ``facility_far`` (farther than the snapping
    limit from every road: ``distance_m`` to the network), ``home_fragment`` (the home's network
    fragment has no facility of ``type``), ``facility_fragment`` (no home on the facility's fragment)
    or ``type_missing`` (a type the preset requires that the facilities do not have)."""

    kind: str
    id: str
    type: str = ""
    distance_m: float | None = None
    fragment: int | None = None
    fragment_nodes: int | None = None
    reason: str = ""


def _round(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v), np.round(v, 2), np.nan)


def homes_fields(ids: Sequence[str], population: np.ndarray, types: Sequence[str], result: Mapping[str, np.ndarray],
                 ids_by_type: Mapping[str, Sequence[str]], preset: Preset | None, walk: float) -> list[Field]:
    """The columns of homes.csv and of the ``homes`` layer (module docstring of ``run``)."""
    fields = [Field("home_id", np.array(list(ids), dtype=object)),
              Field("population", _round(population), plain)]
    distances = {t: np.asarray(result[f"{t}_m"], dtype=float) for t in types}
    for t in types:
        d = distances[t]
        k = np.asarray(result[f"{t}_id"])
        names = np.array(list(ids_by_type[t]) or [""], dtype=object)
        nearest = np.where((k >= 0) & np.isfinite(d), names[np.maximum(k, 0)], None)
        fields += [Field(f"{t}_m", _round(d)), Field(f"{t}_min", _round(d / walk)), Field(f"{t}_id", nearest)]
        if preset is not None:
            for c in preset.circles:
                r = preset.reach(t, c)
                fields.append(Field(f"{t}_{c.minutes}", (np.isfinite(d) & (d <= r)).astype(np.int32)))
    if preset is not None:
        for c in preset.circles:
            if c.requirements:
                fields.append(Field(f"{ALL_REQUIRED}_{c.minutes}",
                                    complete(distances, preset, c, len(ids)).astype(np.int32)))
    return fields


def _text(field: Field) -> list[str]:
    values = field.values
    if values.dtype.kind == "f":
        return ["" if not math.isfinite(v) else field.fmt(v) for v in values.tolist()]
    if values.dtype.kind in "iub":
        return [str(v) for v in values.tolist()]
    return ["" if v is None else str(v) for v in values.tolist()]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_homes(path: Path, fields: Sequence[Field]) -> Path:
    """homes.csv: population to 0.01 (trailing zeros dropped), distances and minutes with two decimals, flags 0/1."""
    columns = [_text(f) for f in fields]
    return write_csv(path, [f.name for f in fields], zip(*columns, strict=True))


def _cell(x: float | None, fmt: str = "{:g}") -> str:
    return "" if x is None or not math.isfinite(x) else fmt.format(x)


SHEET_ROWS = 100_000  # rows per sheet in coverage.xlsx before it lists the whole study only


def write_coverage(folder: Path, rows: Sequence[CoverageRow], supplies: Sequence[Supply],
                   label: Callable[[str], str], *, sheet_rows: int = SHEET_ROWS) -> list[Path]:
    """coverage.csv, supply.csv and coverage.xlsx (sheets 覆盖率 and 配置标准, customary layout; the
    second lists the supply rows the preset gives a norm for, supply.csv every row)."""
    from openpyxl import Workbook

    from chengzhen.documents.spreadsheet import Column, write_table

    cov_csv = write_csv(folder / "coverage.csv",
                        ["area", "type", "type_label", "circle", "reach_m", "homes", "covered_homes", "population",
                         "covered_population", "rate"],
                        ([r.area, r.type, label(r.type), r.circle, _cell(r.reach_m), r.homes, r.covered_homes,
                          plain(r.population), plain(r.covered_population), _cell(r.rate, "{:.4f}")] for r in rows))
    sup_csv = write_csv(folder / "supply.csv",
                        ["area", "circle", "type", "type_label", "facilities", "population", "norm_per_1000", "unit",
                         "measure", "required", "provided", "provided_per_1000", "meets", "note"],
                        ([s.area, s.circle, s.type, label(s.type), s.facilities, plain(s.population),
                          _cell(s.norm), s.unit, s.measure, _cell(s.required, "{:.2f}"), plain(s.provided),
                          _cell(s.per_1000, "{:.4f}"), "" if s.meets is None else int(s.meets), s.note]
                         for s in supplies))
    wb = Workbook()
    ws = wb.active
    ws.title = "覆盖率"
    cols = [Column("区域", width=16), Column("设施类型", width=18), Column("生活圈（分钟）", width=10, kind="int"),
            Column("服务距离（米）", width=12, kind="number"), Column("住宅数", width=10, kind="int"),
            Column("覆盖住宅数", width=10, kind="int"), Column("人口", width=12, kind="number"),
            Column("覆盖人口", width=12, kind="number"), Column("覆盖率", width=10, kind="percent")]
    # A sheet holds 1,048,576 rows and openpyxl's time is per cell: past ``sheet_rows`` (a province's
    # thousands of areas) the sheet keeps the whole study's rows and says where the rest are.
    shown = rows if len(rows) <= sheet_rows else [r for r in rows if r.area == ALL]
    note = "" if shown is rows else f"区域过多（共 {len(rows):,} 行）：此表只列全部，各区域见 coverage.csv"
    write_table(ws, "生活圈覆盖率", note, cols,
                [[r.area, label(r.type), r.circle, None if math.isnan(r.reach_m) else r.reach_m, r.homes,
                  r.covered_homes, r.population, r.covered_population, r.rate] for r in shown])
    ws2 = wb.create_sheet("配置标准")
    cols2 = [Column("区域", width=16), Column("生活圈（分钟）", width=10, kind="int"), Column("设施类型", width=18),
             Column("设施数（处）", width=10, kind="int"), Column("人口", width=12, kind="number"),
             Column("千人指标", width=10, kind="number"), Column("单位", width=8), Column("指标内容", width=14),
             Column("应配置", width=12, kind="number"), Column("现状", width=12, kind="number"),
             Column("现状每千人", width=12, kind="number"), Column("是否达标", width=10), Column("说明", width=36)]
    # The sheet is the comparison with the norms: rows without one (counts only) stay in supply.csv,
    # which keeps the sheet readable and its cells few (openpyxl's time is per cell).
    normed = [s for s in supplies if s.norm is not None]
    if len(normed) > sheet_rows:
        normed = [s for s in normed if s.area == ALL]
    write_table(ws2, "配套设施千人指标对照", "" if normed else "预设未给出千人指标；各类设施的数量见 supply.csv", cols2,
                [[s.area, s.circle, label(s.type), s.facilities, s.population, s.norm, s.unit, s.measure, s.required,
                  s.provided, s.per_1000, "" if s.meets is None else ("达标" if s.meets else "未达标"), s.note]
                 for s in normed])
    xlsx = folder / "coverage.xlsx"
    wb.save(xlsx)
    return [cov_csv, xlsx, sup_csv]


def move_into(files: Sequence[Path], folder: Path) -> tuple[Path, ...]:
    """Move a finished run's files from its temporary folder into ``folder`` (made when missing):
    the last step of an all-or-nothing run."""
    import shutil

    folder.mkdir(exist_ok=True)
    moved = []
    for f in files:
        target = folder / f.name
        shutil.move(str(f), target)
        moved.append(target)
    return tuple(moved)


def write_problems(path: Path, problems: Sequence[ProblemRow]) -> Path:
    """problems.csv (``ProblemRow``), written even when empty so its absence never reads as “none”."""
    return write_csv(path, PROBLEM_HEADER,
                     ([p.kind, p.id, p.type, _cell(p.distance_m, "{:.2f}"), "" if p.fragment is None else p.fragment,
                       "" if p.fragment_nodes is None else p.fragment_nodes, p.reason] for p in problems))


def _write_layer(path: Path, layer: str, geometry: np.ndarray, fields: Sequence[Field], geometry_type: str) -> None:
    from pyogrio import raw  # deferred: loads GDAL

    wkb = shapely.to_wkb(geometry) if len(geometry) else np.array([], dtype=object)
    raw.write(str(path), wkb, [f.values for f in fields], [f.name for f in fields], layer=layer, driver="GPKG",
              geometry_type=geometry_type, crs=WGS84, promote_to_multi=geometry_type.startswith("Multi"))


def write_geopackage(path: Path, *, homes_lon: np.ndarray, homes_lat: np.ndarray, homes: Sequence[Field],
                     facilities_lon: np.ndarray, facilities_lat: np.ndarray, facility_ids: Sequence[str],
                     facility_types: Sequence[str], label: Callable[[str], str], preset: Preset | None,
                     distances: Mapping[str, np.ndarray], areas: tuple[Sequence[str], np.ndarray] | None = None,
                     rows: Sequence[CoverageRow] = ()) -> Path:
    """lifecircle.gpkg with the layers of the module docstring; ``areas`` is (names, WGS84 geometries)."""
    home_pts = shapely.points(np.asarray(homes_lon, dtype=float), np.asarray(homes_lat, dtype=float))
    _write_layer(path, "homes", home_pts, homes, "Point")
    kinds = list(facility_types)
    _write_layer(path, "facilities", shapely.points(np.asarray(facilities_lon, dtype=float),
                                                   np.asarray(facilities_lat, dtype=float)),
                 [Field("id", np.array(list(facility_ids), dtype=object)), Field("type", np.array(kinds, dtype=object)),
                  Field("type_label", np.array([label(t) for t in kinds], dtype=object))], "Point")
    if preset is None:
        return path
    home_ids = next(f.values for f in homes if f.name == "home_id")
    pop = next(f.values for f in homes if f.name == "population")  # as homes.csv has it
    found = gaps(distances, preset, len(home_ids))
    sizes = np.array([len(i) for *_, i in found], dtype=np.int64)
    idx = np.concatenate([i for *_, i in found] + [np.zeros(0, dtype=np.int64)]).astype(np.int64)
    kind = np.repeat(np.array([t for _, t, _ in found], dtype=object), sizes)
    circle = np.repeat(np.array([m for m, _, _ in found], dtype=np.int32), sizes)
    dist = np.concatenate([_round(distances[t][i]) if t in distances else np.full(len(i), np.nan)
                           for _, t, i in found] + [np.zeros(0)])
    labels = {t: label(t) for t in preset.types}
    _write_layer(path, "gaps", home_pts[idx],
                 [Field("home_id", home_ids[idx]), Field("type", kind),
                  Field("type_label", np.array([labels[t] for t in kind], dtype=object)), Field("circle", circle),
                  Field("distance_m", dist), Field("population", pop[idx])], "Point")
    if areas is not None:
        names, geoms = areas
        by = {(r.area, r.type, r.circle): r for r in rows}
        first: dict[str, CoverageRow] = {}
        for r in rows:
            first.setdefault(r.area, r)
        fields = [Field("name", np.array(list(names), dtype=object)),
                  Field("homes", np.array([first[n].homes if n in first else 0 for n in names], dtype=np.int64)),
                  Field("population", np.array([first[n].population if n in first else 0.0 for n in names]))]
        for t, minutes in dict.fromkeys((r.type, r.circle) for r in rows):
            rate = [by[(n, t, minutes)].rate if (n, t, minutes) in by else None for n in names]
            fields.append(Field(f"{t}_{minutes}", np.array([np.nan if v is None else round(v, 4) for v in rate])))
        _write_layer(path, "areas", np.asarray(geoms, dtype=object), fields, "MultiPolygon")
    return path


def type_label(catalogue) -> Callable[[str], str]:
    """A type's Chinese name from the catalogue (全部必配 for the complete-circle code; else the code)."""
    def label(code: str) -> str:
        if code == ALL_REQUIRED:
            return ALL_REQUIRED_LABEL
        t = catalogue.types.get(code)
        return t.name if t is not None else code
    return label
