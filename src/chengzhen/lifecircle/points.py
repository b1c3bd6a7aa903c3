"""Homes and facilities from point tables as planners have them (CSV or .xlsx with coordinate
columns). Pure: no Django (the platform's safe spreadsheet readers, NumPy, ``crs``, ``catalogue``).

- Coordinates: the columns named by the caller, else the first of 经度/lon/lng/longitude/x and
  纬度/lat/latitude/y; in the DECLARED coordinate system (``crs.declared``: WGS84, CGCS2000, GCJ-02,
  BD-09 or any pyproj CRS) — never guessed; offsets removed, swapped columns and points outside
  China under an offset system refused by ``crs``.
- Ids: the ``id_column`` (default ``home_id`` or ``id`` when present), else the row number; an empty
  or repeated id is refused.
- Population (homes): a population column (人口/population); or households × household size
  (户数/households); or floor area ÷ area per person (建筑面积/floor_area). The household size and
  the area per person are the caller's settings (``PopulationRule``); their defaults are
  configurable, not standards.
- Facility types: the ``type_column`` (default ``type``/类型) resolved by the catalogue (codes,
  Chinese names, OSM values).

Every refusal names the file, the row as the file shows it (the header is row 1) and the column;
nothing half-read is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chengzhen.documents.spreadsheet import read_csv, read_sheet
from chengzhen.problems import Problem, Refused

from . import crs as crs_module
from .catalogue import Catalogue

MAX_BYTES = 200 * 1024 * 1024
LON_NAMES = ("经度", "lon", "lng", "longitude", "x")
LAT_NAMES = ("纬度", "lat", "latitude", "y")
POPULATION_NAMES = ("人口", "population", "pop")
HOUSEHOLD_NAMES = ("户数", "households")
FLOOR_AREA_NAMES = ("建筑面积", "floor_area")
TYPE_NAMES = ("type", "类型", "设施类型")


@dataclass(frozen=True)
class PopulationRule:
    """How a home's population is read when no population column is given. Defaults are
    settings an office changes, not standards: 2.62 persons per household is the national mean of
    the 2020 census (七普 户均 2.62 人); 35 m² per person is a planning assumption to replace with
    local figures."""

    household_size: float = 2.62
    area_per_person: float = 35.0


@dataclass(frozen=True)
class Points:
    """Points in WGS84 longitude/latitude and in metres on ``metric``, with ids, the file rows they
    came from and, for homes, population; for facilities, type codes."""

    file: str
    ids: tuple[str, ...]
    rows: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    population: np.ndarray | None = None
    types: tuple[str, ...] | None = None
    population_source: str = ""


def _rows(path: Path, name: str) -> list[list]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        data = read_sheet(path, name, MAX_BYTES)
    elif suffix in (".csv", ".txt", ".tsv"):
        data = read_csv(path, name, MAX_BYTES, delimiter="auto")
    else:
        raise Refused([Problem(file=name, reason=f"点位表应为 .csv 或 .xlsx，不是 {suffix or '无扩展名'}")])
    rows = [list(r) for r in data.rows]
    while rows and all(v in (None, "") for v in rows[-1]):
        rows.pop()
    return rows


def _column(header: list[str], wanted: str | None, names: Sequence[str], file: str, what: str,
            required: bool = True) -> int | None:
    keys = [str(h or "").strip() for h in header]
    lowered = [k.lower() for k in keys]
    if wanted:
        if wanted in keys:
            return keys.index(wanted)
        reason = f"没有名为 {wanted} 的{what}列（表头：{'、'.join(keys)}）"
        raise Refused([Problem(file=file, row=1, column=wanted, reason=reason)])
    for n in names:
        if n.lower() in lowered:
            return lowered.index(n.lower())
    if required:
        raise Refused([Problem(file=file, row=1, reason=f"找不到{what}列（可用列名：{'、'.join(names)}）")])
    return None


def _numbers(rows: list[list], col: int, file: str, column: str, *, positive: bool = False,
             numbers: np.ndarray | None = None) -> np.ndarray:
    """The column as floats; ``numbers`` are the rows as the file numbers them (a table's row
    after its header by default)."""
    out = np.empty(len(rows), dtype=float)
    problems = []
    for i, r in enumerate(rows):
        v = r[col] if col < len(r) else None
        try:
            x = float(str(v).replace(",", "").strip()) if v not in (None, "") else float("nan")
        except ValueError:
            x = float("nan")
        if not np.isfinite(x) or (positive and x < 0):
            problems.append(Problem(file=file, row=int(numbers[i]) if numbers is not None else i + 2, column=column,
                                    reason=f"应为{'不小于 0 的' if positive else ''}数，不是 {v!r}"))
        out[i] = x
    if len(problems) > 20:
        problems = [*problems[:20], Problem(file=file, column=column, reason=f"另有 {len(problems) - 20} 行同样的问题")]
    if problems:
        raise Refused(problems)
    return out


def read_points(path: str | Path, *, crs: str, kind: str = "homes", metric=None, display_name: str = "",
                x_column: str | None = None, y_column: str | None = None, id_column: str | None = None,
                type_column: str | None = None, catalogue: Catalogue | None = None,
                population: PopulationRule | None = None) -> Points:
    """Read homes (``kind="homes"``, with population), facilities (``kind="facilities"``, with
    types) or candidate sites (``kind="sites"``, ids only: 候选地块) from a CSV or .xlsx point
    table whose coordinates are in the declared ``crs``."""
    path = Path(path)
    name = display_name or path.name
    if kind not in ("homes", "facilities", "sites"):
        raise ValueError(kind)
    declaration = crs_module.declared(crs, name, "--crs")
    table = _rows(path, name)
    if len(table) < 2:
        raise Refused([Problem(file=name, reason="点位表是空的（只有表头或什么也没有）")])
    header, body = [str(h or "").strip() for h in table[0]], table[1:]
    xi = _column(header, x_column, LON_NAMES, name, "经度（x）")
    yi = _column(header, y_column, LAT_NAMES, name, "纬度（y）")
    x, y = _numbers(body, xi, name, header[xi]), _numbers(body, yi, name, header[yi])
    rows = np.arange(2, len(body) + 2)
    where = crs_module.Where(file=name, lon_column=header[xi], lat_column=header[yi], rows=rows)
    lon, lat = crs_module.to_wgs84(x, y, declaration, where)
    if metric is None:
        metric = crs_module.metric_crs(lon, lat, name)
    mx, my = crs_module.to_metric(lon, lat, "WGS84", metric, where)
    ids = _ids(header, body, id_column, kind, name)
    if kind == "facilities":
        ti = _column(header, type_column, TYPE_NAMES, name, "设施类型")
        cat = catalogue or Catalogue.load()
        types = tuple(cat.resolve_all([r[ti] if ti < len(r) else None for r in body], name, header[ti],
                                      rows=list(rows)))
        return Points(name, ids, rows, lon, lat, mx, my, types=types)
    if kind == "sites":
        return Points(name, ids, rows, lon, lat, mx, my)
    pop, source = _population(header, body, name, population or PopulationRule())
    return Points(name, ids, rows, lon, lat, mx, my, population=pop, population_source=source)


def points_from_layer(layer, *, kind: str = "homes", metric=None, id_column: str | None = None,
                      type_column: str | None = None, catalogue: Catalogue | None = None,
                      population: PopulationRule | None = None, known_types_only: bool = False) -> Points:
    """Homes or facilities from a vector point layer (``layers.PointLayer``: GeoJSON, GeoPackage,
    Shapefile or an .osm.pbf's amenities), read by the same rules as a table: ids, population,
    types. With ``known_types_only`` (OpenStreetMap amenities: benches, parking …) points whose type
    the catalogue does not know are left out instead of refused — the caller says how many."""
    name = layer.file
    if not len(layer.lon):
        raise Refused([Problem(file=name, reason="点图层是空的（没有点）")])
    header = list(layer.properties)
    body = [[layer.properties[k][i] for k in header] for i in range(len(layer.lon))]
    rows = np.asarray(layer.rows)  # the feature's position in the layer
    keep = np.ones(len(body), dtype=bool)
    types = None
    if kind == "facilities":
        cat = catalogue or Catalogue.load()
        wanted = type_column or ("osm_tag" if "osm_tag" in header and not _has(header, TYPE_NAMES) else None)
        ti = _column(header, wanted, TYPE_NAMES, name, "设施类型")
        values = [r[ti] for r in body]
        if known_types_only:
            keep = np.array([_known(cat, v) for v in values], dtype=bool)
        types = tuple(cat.resolve_all([v for v, k in zip(values, keep, strict=True) if k], name, header[ti],
                                      rows=[int(r) for r, k in zip(rows, keep, strict=True) if k]))
    body = [r for r, k in zip(body, keep, strict=True) if k]
    lon, lat, rows = np.asarray(layer.lon)[keep], np.asarray(layer.lat)[keep], rows[keep]
    if not len(lon):
        raise Refused([Problem(file=name, reason="没有目录中已知类型的设施")])
    if metric is None:
        metric = crs_module.metric_crs(lon, lat, name)
    where = crs_module.Where(file=name, lon_column="geometry.x", lat_column="geometry.y", rows=rows)
    mx, my = crs_module.to_metric(lon, lat, "WGS84", metric, where)
    ids = _ids(header, body, id_column, kind, name, rows=rows)
    if kind == "facilities":
        return Points(name, ids, rows, lon, lat, mx, my, types=types)
    if kind == "sites":
        return Points(name, ids, rows, lon, lat, mx, my)
    pop, source = _population(header, body, name, population or PopulationRule(), numbers=rows)
    return Points(name, ids, rows, lon, lat, mx, my, population=pop, population_source=source)


def _has(header: list[str], names: Sequence[str]) -> bool:
    lowered = {h.lower() for h in header}
    return any(n.lower() in lowered for n in names)


def _known(cat: Catalogue, value) -> bool:
    try:
        cat.resolve(value)
    except Refused:
        return False
    return True


def _ids(header: list[str], body: list[list], id_column: str | None, kind: str, file: str,
         rows: np.ndarray | None = None) -> tuple[str, ...]:
    defaults = {"homes": ("home_id", "id"), "sites": ("site_id", "id")}.get(kind, ("facility_id", "id"))
    col = _column(header, id_column, defaults, file, "编号", required=bool(id_column))
    row_of = (lambda i: int(rows[i])) if rows is not None else (lambda i: i + 2)
    if col is None:
        return tuple(str(row_of(i)) for i in range(len(body)))  # the row number in the file
    ids, seen, problems = [], {}, []
    for i, r in enumerate(body):
        v = r[col] if col < len(r) else None
        text = str(int(v)) if isinstance(v, float) and v.is_integer() else str(v if v is not None else "").strip()
        if not text:
            problems.append(Problem(file=file, row=row_of(i), column=header[col], reason="编号为空"))
        elif text in seen:
            problems.append(Problem(file=file, row=row_of(i), column=header[col],
                                    reason=f"编号 {text} 与第 {seen[text]} 行重复"))
        seen.setdefault(text, row_of(i))
        ids.append(text)
    if problems:
        raise Refused(problems[:20])
    return tuple(ids)


def _population(header: list[str], body: list[list], file: str, rule: PopulationRule,
                numbers: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    col = _column(header, None, POPULATION_NAMES, file, "人口", required=False)
    if col is not None:
        return _numbers(body, col, file, header[col], positive=True, numbers=numbers), f"人口列“{header[col]}”"
    col = _column(header, None, HOUSEHOLD_NAMES, file, "户数", required=False)
    if col is not None:
        return (_numbers(body, col, file, header[col], positive=True, numbers=numbers) * rule.household_size,
                f"户数列“{header[col]}” × 户均 {rule.household_size:g} 人")
    col = _column(header, None, FLOOR_AREA_NAMES, file, "建筑面积", required=False)
    if col is not None:
        if rule.area_per_person <= 0:
            raise Refused([Problem(file=file, column=header[col], reason="人均建筑面积应大于 0")])
        return (_numbers(body, col, file, header[col], positive=True, numbers=numbers) / rule.area_per_person,
                f"建筑面积列“{header[col]}” ÷ 人均 {rule.area_per_person:g} 平方米")
    names = "、".join(POPULATION_NAMES + HOUSEHOLD_NAMES + FLOOR_AREA_NAMES)
    raise Refused([Problem(file=file, row=1, reason=f"找不到人口来源：人口列、户数列或建筑面积列（{names}）")])
