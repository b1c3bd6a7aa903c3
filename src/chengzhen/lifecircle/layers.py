"""Vector layers as planners have them, read into plain structures the rest of the library uses.
Pure: no Django (json, NumPy, shapely, ``crs``).

GeoJSON is read here with the standard library and shapely (no GDAL): it is WGS84 by definition
(RFC 7946), so a declared CRS other than WGS84/CGCS2000/GCJ-02/BD-09 is refused for it. Other
formats (GeoPackage, Shapefile, OpenStreetMap .osm.pbf) are read by their own modules into the
same structures. Only local files are read: URLs, ``/vsi…`` virtual paths and directories are
refused.

A road layer gives lines and, per line, the one-way flag (+1 forward, −1 backward, 0 both) and the
road class (OSM ``highway`` or a ``class``/``道路等级`` property); a point layer gives coordinates
and every property by name, for the point readers (ids, population, types).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

from chengzhen.problems import Problem, Refused

from . import crs as crs_module

MAX_BYTES = 1024 * 1024 * 1024
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|/vsi)", re.IGNORECASE)
ONEWAY_YES = {"yes", "true", "1", "是", "单行"}
ONEWAY_BACK = {"-1", "reverse"}
CLASS_KEYS = ("highway", "class", "道路等级", "fclass")


@dataclass(frozen=True)
class LineLayer:
    """Road lines in WGS84 longitude/latitude with their one-way flags and road classes."""

    file: str
    lines: list  # shapely LineStrings, lon/lat
    oneway: np.ndarray  # int8: +1 forward only, −1 backward only, 0 both
    road_class: tuple[str, ...]
    rows: np.ndarray  # the feature's position in the file (1-based)

    def to_metric(self, metric) -> list:
        """The lines in metres on ``metric`` (a pyproj CRS)."""
        from pyproj import Transformer

        t = Transformer.from_crs(crs_module.WGS84, metric, always_xy=True)
        return [shapely.transform(line, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
                for line in self.lines]


@dataclass(frozen=True)
class PointLayer:
    """Points in WGS84 longitude/latitude with every property by name (None where missing)."""

    file: str
    lon: np.ndarray
    lat: np.ndarray
    properties: dict[str, list] = field(default_factory=dict)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def check_local(path: str | Path, name: str = "") -> Path:
    """A local regular file, or a refusal naming it (URLs, virtual paths, missing files, folders)."""
    text = str(path)
    name = name or Path(text).name
    if _REMOTE.match(text):
        raise Refused([Problem(file=name, reason="只读取本机文件，不读取网址或虚拟路径")])
    p = Path(text)
    if not p.is_file():
        raise Refused([Problem(file=name, reason="文件不存在或不是普通文件")])
    if p.stat().st_size > MAX_BYTES:
        raise Refused([Problem(file=name, reason="文件过大（上限 1 GB）")])
    return p


def _features(path: Path, name: str) -> list[dict]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused([Problem(file=name, reason=f"不是有效的 GeoJSON：{exc}")]) from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        feats = data.get("features") or []
    elif isinstance(data, dict) and data.get("type") == "Feature":
        feats = [data]
    else:
        raise Refused([Problem(file=name, reason="GeoJSON 应为 FeatureCollection 或 Feature")])
    if not feats:
        raise Refused([Problem(file=name, reason="图层是空的（没有要素）")])
    return feats


def _geojson_declaration(crs_text: str | None, name: str):
    decl = crs_module.declared(crs_text or "WGS84", name, "--crs")
    if decl.system == crs_module.OTHER_SYSTEM:
        reason = (f"GeoJSON 按定义为 WGS84 经纬度（RFC 7946），不能声明为 {decl.label}；"
                  "可声明 WGS84、CGCS2000、GCJ-02 或 BD-09")
        raise Refused([Problem(file=name, column="--crs", reason=reason)])
    return decl


def read_geojson_lines(path: str | Path, *, crs: str | None = None, display_name: str = "") -> LineLayer:
    """Road lines from a GeoJSON file (LineString / MultiLineString features)."""
    name = display_name or Path(str(path)).name
    p = check_local(path, name)
    decl = _geojson_declaration(crs, name)
    lines, oneway, classes, rows, problems = [], [], [], [], []
    for i, feat in enumerate(_features(p, name), start=1):
        geom = _geometry(feat, name, i, problems)
        if geom is None:
            continue
        if geom.geom_type not in ("LineString", "MultiLineString"):
            reason = f"道路图层应为线，不是 {geom.geom_type}"
            problems.append(Problem(file=name, row=i, column="geometry", reason=reason))
            continue
        props = feat.get("properties") or {}
        flag = str(props.get("oneway", "")).strip().lower()
        direction = 1 if flag in ONEWAY_YES else -1 if flag in ONEWAY_BACK else 0
        road_class = next((str(props[k]) for k in CLASS_KEYS if props.get(k) not in (None, "")), "")
        for part in getattr(geom, "geoms", [geom]):
            lines.append(part)
            oneway.append(direction)
            classes.append(road_class)
            rows.append(i)
    if problems:
        raise Refused(problems[:20])
    if not lines:
        raise Refused([Problem(file=name, reason="道路图层没有线要素")])
    lines = _to_wgs84_lines(lines, decl, name, rows)
    return LineLayer(name, lines, np.array(oneway, dtype=np.int8), tuple(classes), np.array(rows))


def read_geojson_points(path: str | Path, *, crs: str | None = None, display_name: str = "") -> PointLayer:
    """Points (Point features; a MultiPoint is refused) and their properties from a GeoJSON file."""
    name = display_name or Path(str(path)).name
    p = check_local(path, name)
    decl = _geojson_declaration(crs, name)
    lon, lat, props_rows, problems = [], [], [], []
    for i, feat in enumerate(_features(p, name), start=1):
        geom = _geometry(feat, name, i, problems)
        if geom is None:
            continue
        if geom.geom_type != "Point":
            reason = f"点图层应为点，不是 {geom.geom_type}"
            problems.append(Problem(file=name, row=i, column="geometry", reason=reason))
            continue
        lon.append(geom.x)
        lat.append(geom.y)
        props_rows.append(feat.get("properties") or {})
    if problems:
        raise Refused(problems[:20])
    keys = list(dict.fromkeys(k for r in props_rows for k in r))
    rows = np.arange(1, len(lon) + 1)
    where = crs_module.Where(file=name, lon_column="geometry.x", lat_column="geometry.y", rows=rows)
    x, y = crs_module.to_wgs84(np.array(lon, dtype=float), np.array(lat, dtype=float), decl, where)
    return PointLayer(name, x, y, {k: [r.get(k) for r in props_rows] for k in keys}, rows)


def _geometry(feat: dict, name: str, row: int, problems: list):
    g = feat.get("geometry") if isinstance(feat, dict) else None
    if not g:
        problems.append(Problem(file=name, row=row, column="geometry", reason="要素没有几何"))
        return None
    try:
        geom = shape(g)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        problems.append(Problem(file=name, row=row, column="geometry", reason=f"几何无效：{exc}"))
        return None
    if geom.is_empty:
        problems.append(Problem(file=name, row=row, column="geometry", reason="几何为空"))
        return None
    return geom


def _to_wgs84_lines(lines: list, decl, name: str, rows: list[int]) -> list:
    coords = [np.asarray(line.coords)[:, :2] for line in lines]
    flat = np.concatenate(coords)
    point_rows = np.concatenate([np.full(len(c), r) for c, r in zip(coords, rows, strict=True)])
    where = crs_module.Where(file=name, lon_column="geometry.x", lat_column="geometry.y", rows=point_rows)
    lon, lat = crs_module.to_wgs84(flat[:, 0], flat[:, 1], decl, where)
    out, k = [], 0
    for c in coords:
        out.append(shapely.LineString(np.column_stack([lon[k:k + len(c)], lat[k:k + len(c)]])))
        k += len(c)
    return out
