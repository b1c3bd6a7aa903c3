"""Line and point layers from GeoPackage and Shapefile (矢量图层), and one entry point per kind that
picks the reader by the file's suffix. Pure: no Django (pyogrio/GDAL, shapely, NumPy, ``crs``).

Only two GDAL drivers are read — ``GPKG`` and ``ESRI Shapefile`` — whatever else the GDAL wheel
could open: the suffix must be ``.gpkg``, ``.shp`` or ``.zip``, the file must start with the
format's signature (SQLite header; shapefile code 9994) before GDAL sees it, and the driver GDAL
reports must be on the list. Paths are checked by ``layers.check_local`` first (no URLs, no
``/vsi…`` paths) and handed to GDAL as resolved absolute paths, so no connection-string syntax
applies.

A ``.zip`` holding one shapefile is unpacked into a temporary folder that is removed afterwards.
Members are refused — the whole archive with them — when a name is absolute, has a drive letter or
a ``..`` part, is a symbolic link or encrypted, when there are more than ``ZIP_MAX_MEMBERS``
members or more than ``ZIP_MAX_BYTES`` unpacked (counted while unpacking, not trusted from the
header).

Coordinates: the layer's own CRS is used. ``crs`` (``--crs``) is needed only when the file has none
(a shapefile without ``.prj``; refused without it) and otherwise must agree with the file's — with
one exception: a file marked WGS84 or CGCS2000 longitude/latitude may be declared GCJ-02 or BD-09,
because the Chinese web-map offsets have no CRS of their own and such data are routinely saved
with a WGS84 ``.prj``. Any other disagreement is refused naming both.

Rows are the feature's position in the layer, 1-based (GeoPackage fids usually agree; shapefile
fids start at 0). Lines give one-way and road class as GeoJSON does (``oneway``; ``highway`` /
``class`` / ``道路等级`` / ``fclass``); in a layer with an ``fclass`` field — the schema of
Geofabrik's OpenStreetMap shapefiles — ``oneway`` F/T/B mean forward / backward / both, as
Geofabrik defines them.
"""

from __future__ import annotations

import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import shapely

from chengzhen.problems import Problem, Refused

from . import crs as crs_module
from .layers import (
    CLASS_KEYS,
    ONEWAY_BACK,
    ONEWAY_YES,
    LineLayer,
    PointLayer,
    _to_wgs84_lines,
    check_local,
    read_geojson_lines,
    read_geojson_points,
)

DRIVERS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile"}
_SIGNATURES = {"GPKG": b"SQLite format 3\x00", "ESRI Shapefile": b"\x00\x00\x27\x0a"}
ZIP_MAX_MEMBERS = 200
ZIP_MAX_BYTES = 1024 * 1024 * 1024
_GEOFABRIK_ONEWAY = {"F": 1, "T": -1, "B": 0}
_MAX_LISTED = 20


def read_lines(path: str | Path, *, crs: str | None = None, layer: str | None = None,
               display_name: str = "") -> LineLayer:
    """Road lines (LineString / MultiLineString) from a GeoPackage, a Shapefile or a .zip holding one."""
    name = display_name or Path(str(path)).name
    geoms, fields, decl = _read(path, name, crs, layer)
    lines, oneway, classes, rows, problems = [], [], [], [], []
    geofabrik = "fclass" in fields
    oneway_values = fields.get("oneway")
    for i, geom in enumerate(geoms):
        row = i + 1
        if not _usable(geom, name, row, problems):
            continue
        if geom.geom_type not in ("LineString", "MultiLineString"):
            reason = f"道路图层应为线，不是 {geom.geom_type}"
            problems.append(Problem(file=name, row=row, column="geometry", reason=reason))
            continue
        direction = _oneway(None if oneway_values is None else oneway_values[i], geofabrik)
        road_class = next((str(fields[k][i]) for k in CLASS_KEYS if k in fields and _present(fields[k][i])), "")
        for part in getattr(geom, "geoms", [geom]):
            if part.is_empty:
                continue
            lines.append(part)
            oneway.append(direction)
            classes.append(road_class)
            rows.append(row)
    _raise(problems)
    if not lines:
        raise Refused([Problem(file=name, reason="道路图层没有线要素")])
    lines = _to_wgs84_lines(lines, decl, name, rows)
    return LineLayer(name, lines, np.array(oneway, dtype=np.int8), tuple(classes), np.array(rows, dtype=np.int64))


def read_points(path: str | Path, *, crs: str | None = None, layer: str | None = None,
                display_name: str = "") -> PointLayer:
    """Points (Point features; a MultiPoint is refused) and every field from a GeoPackage or Shapefile."""
    name = display_name or Path(str(path)).name
    geoms, fields, decl = _read(path, name, crs, layer)
    xs, ys, keep, problems = [], [], [], []
    for i, geom in enumerate(geoms):
        row = i + 1
        if not _usable(geom, name, row, problems):
            continue
        if geom.geom_type != "Point":
            reason = f"点图层应为点，不是 {geom.geom_type}"
            problems.append(Problem(file=name, row=row, column="geometry", reason=reason))
            continue
        xs.append(geom.x)
        ys.append(geom.y)
        keep.append(i)
    _raise(problems)
    rows = np.array(keep, dtype=np.int64) + 1
    where = crs_module.Where(file=name, lon_column="geometry.x", lat_column="geometry.y", rows=rows)
    lon, lat = crs_module.to_wgs84(np.array(xs, dtype=float), np.array(ys, dtype=float), decl, where)
    props = {k: [v[i] for i in keep] for k, v in fields.items()}
    return PointLayer(name, lon, lat, props, rows)


def read_any_lines(path: str | Path, *, crs: str | None = None, layer: str | None = None,
                   mode: str = "walking", display_name: str = "") -> LineLayer:
    """Road lines from any supported file, by suffix: ``.geojson``/``.json`` (layers), ``.osm.pbf``
    (osm, for travel ``mode``), ``.gpkg``/``.shp``/``.zip`` (this module)."""
    name = display_name or Path(str(path)).name
    kind = _kind(path, name)
    if kind == "geojson":
        return read_geojson_lines(path, crs=crs, display_name=name)
    if kind == "osm":
        _osm_crs(crs, name)
        from .osm import read_osm_network

        return read_osm_network(path, mode=mode, display_name=name)
    return read_lines(path, crs=crs, layer=layer, display_name=name)


def read_any_points(path: str | Path, *, crs: str | None = None, layer: str | None = None,
                    display_name: str = "") -> PointLayer:
    """Points from any supported vector file, by suffix: ``.geojson``/``.json``, ``.gpkg``/``.shp``/
    ``.zip``, and ``.osm.pbf`` (its amenities). CSV and .xlsx tables are read by ``points``."""
    name = display_name or Path(str(path)).name
    kind = _kind(path, name)
    if kind == "geojson":
        return read_geojson_points(path, crs=crs, display_name=name)
    if kind == "osm":
        _osm_crs(crs, name)
        from .osm import read_osm_amenities

        return read_osm_amenities(path, display_name=name)
    return read_points(path, crs=crs, layer=layer, display_name=name)


# ---- dispatch ---------------------------------------------------------------------------------

def _kind(path: str | Path, name: str) -> str:
    low = Path(str(path)).name.lower()
    if low.endswith((".geojson", ".json")):
        return "geojson"
    if low.endswith(".osm.pbf"):
        return "osm"
    if low.endswith((".gpkg", ".shp", ".zip")):
        return "ogr"
    known = "、".join([".geojson", ".json", ".osm.pbf", ".gpkg", ".shp", ".zip（含 Shapefile）"])
    raise Refused([Problem(file=name, reason=f"不支持的文件类型（可用：{known}）")])


def _osm_crs(crs: str | None, name: str) -> None:
    """OpenStreetMap is WGS84 by definition; a different declaration is a mistake, not a conversion."""
    if crs and crs_module.declared(crs, name, "--crs").system != crs_module.WGS84_SYSTEM:
        reason = "OpenStreetMap 数据按定义为 WGS84 经纬度，不能声明其他坐标系"
        raise Refused([Problem(file=name, column="--crs", reason=reason)])


# ---- reading through GDAL ---------------------------------------------------------------------

def _read(path: str | Path, name: str, crs_text: str | None, layer: str | None):
    """Geometries (shapely, in the file's coordinates), fields by name and the declaration to use."""
    p = check_local(path, name)
    suffix = p.suffix.lower()
    if suffix == ".zip":
        with tempfile.TemporaryDirectory(prefix="chengzhen-zip-") as tmp:
            shp = _unzip_shapefile(p, name, Path(tmp), layer)
            return _read_ogr(shp, name, crs_text, None)
    if suffix not in DRIVERS:
        raise Refused([Problem(file=name, reason="只读取 GeoPackage（.gpkg）或 Shapefile（.shp，或装有它的 .zip）")])
    return _read_ogr(p, name, crs_text, layer)


def _read_ogr(p: Path, name: str, crs_text: str | None, layer: str | None):
    driver = DRIVERS[p.suffix.lower()]
    with p.open("rb") as fh:
        head = fh.read(16)
    if not head.startswith(_SIGNATURES[driver]):
        raise Refused([Problem(file=name, reason=f"文件内容不是 {driver} 格式")])
    import pyogrio  # deferred: loads GDAL
    from pyogrio import raw
    from pyogrio.errors import CRSError, DataLayerError, DataSourceError, FeatureError, FieldError, GeometryError

    target = str(p.resolve())
    try:
        layer = _layer_name(pyogrio.list_layers(target), name, layer) if driver == "GPKG" else None
        info = pyogrio.read_info(target, layer=layer)
        if info.get("driver") not in _SIGNATURES:
            raise Refused([Problem(file=name, reason=f"不允许的 GDAL 驱动 {info.get('driver')!r}")])
        meta, _fids, wkb, field_data = raw.read(target, layer=layer, datetime_as_string=True)
    except (DataSourceError, DataLayerError, FeatureError, FieldError, GeometryError, CRSError) as exc:
        detail = str(exc).replace(str(p.resolve().parent) + "/", "")  # no server (or temporary) folders
        raise Refused([Problem(file=name, reason=f"无法读取图层：{detail}")]) from None
    if wkb is None or len(wkb) == 0:
        raise Refused([Problem(file=name, reason="图层是空的（没有要素）")])
    decl = _declaration(meta.get("crs"), crs_text, name)
    geoms = shapely.from_wkb(wkb)
    fields = {str(f): _values(v) for f, v in zip(meta["fields"], field_data, strict=True)}
    return geoms, fields, decl


def _layer_name(layers, name: str, wanted: str | None) -> str:
    spatial = [str(n) for n, g in layers if g is not None]
    if wanted is not None:
        if wanted not in [str(n) for n, _ in layers]:
            raise Refused([Problem(file=name, column="--layer",
                                   reason=f"没有图层 {wanted!r}（有：{'、'.join(map(str, spatial)) or '无'}）")])
        return wanted
    if len(spatial) == 1:
        return spatial[0]
    if not spatial:
        raise Refused([Problem(file=name, reason="GeoPackage 中没有带几何的图层")])
    reason = f"GeoPackage 有多个图层，请指定其一：{'、'.join(spatial)}"
    raise Refused([Problem(file=name, column="--layer", reason=reason)])


def _declaration(file_crs: str | None, crs_text: str | None, name: str) -> crs_module.Declaration:
    """The layer's CRS, or ``--crs`` when it has none; refused when both are given and disagree."""
    given = crs_module.declared(crs_text, name, "--crs") if crs_text else None
    if not file_crs:
        if given is None:
            reason = "文件没有坐标系信息（如缺少 .prj），请用 --crs 声明（如 EPSG:4549、WGS84、GCJ-02）"
            raise Refused([Problem(file=name, column="--crs", reason=reason)])
        return given
    try:
        own = crs_module.declared(file_crs, name, "crs")
    except Refused:
        raise Refused([Problem(file=name, column="crs", reason=f"无法识别文件的坐标系：{file_crs[:200]}")]) from None
    if given is None:
        return own
    lon_lat = (crs_module.WGS84_SYSTEM, crs_module.CGCS2000_SYSTEM)
    if own.system in lon_lat and given.system in (*lon_lat, crs_module.GCJ02_SYSTEM, crs_module.BD09_SYSTEM):
        return given  # the offset systems have no CRS of their own; WGS84 is how such files are marked
    if own.system == crs_module.OTHER_SYSTEM and given.system == crs_module.OTHER_SYSTEM and _same(own.crs, given.crs):
        return own
    reason = f"文件的坐标系 {own.label} 与 --crs 声明的 {given.label} 不一致；文件带有坐标系时不必声明"
    raise Refused([Problem(file=name, column="--crs", reason=reason)])


def _same(a, b) -> bool:
    if a.equals(b, ignore_axis_order=True):
        return True
    ea, eb = a.to_epsg(min_confidence=70), b.to_epsg(min_confidence=70)
    return ea is not None and ea == eb


def _values(array) -> list:
    """A field as Python values, None for nulls (NaN in float fields)."""
    values = array.tolist()
    if getattr(array, "dtype", None) is not None and array.dtype.kind == "f":
        values = [None if isinstance(v, float) and v != v else v for v in values]
    return values


def _present(value) -> bool:
    return value is not None and str(value).strip() != ""


def _oneway(value, geofabrik: bool) -> int:
    text = "" if value is None else str(value).strip()
    if geofabrik and text in _GEOFABRIK_ONEWAY:
        return _GEOFABRIK_ONEWAY[text]
    text = text.lower()
    return 1 if text in ONEWAY_YES else -1 if text in ONEWAY_BACK else 0


def _usable(geom, name: str, row: int, problems: list) -> bool:
    if geom is None:
        problems.append(Problem(file=name, row=row, column="geometry", reason="要素没有几何"))
        return False
    if geom.is_empty:
        problems.append(Problem(file=name, row=row, column="geometry", reason="几何为空"))
        return False
    return True


def _raise(problems: list[Problem]) -> None:
    if not problems:
        return
    listed = problems[:_MAX_LISTED]
    if len(problems) > _MAX_LISTED:
        listed.append(Problem(file=problems[0].file, reason=f"另有 {len(problems) - _MAX_LISTED} 个要素有问题"))
    raise Refused(listed)


# ---- safe unpacking ---------------------------------------------------------------------------

def _unzip_shapefile(p: Path, name: str, into: Path, layer: str | None) -> Path:
    """Unpack a .zip into ``into`` after checking every member; the one shapefile it holds."""
    try:
        archive = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise Refused([Problem(file=name, reason=f"不是有效的 zip 文件：{exc}")]) from None
    with archive:
        members = archive.infolist()
        if len(members) > ZIP_MAX_MEMBERS:
            raise Refused([Problem(file=name, reason=f"压缩包成员过多（{len(members)} 个，上限 {ZIP_MAX_MEMBERS}）")])
        problems = [Problem(file=name, column=m.filename, reason=reason)
                    for m in members if (reason := _unsafe(m))]
        _raise(problems)
        total = 0
        for m in members:
            target = into.joinpath(*PurePosixPath(m.filename).parts)
            if m.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(m) as src, target.open("wb") as dst:
                while chunk := src.read(1024 * 1024):
                    total += len(chunk)
                    if total > ZIP_MAX_BYTES:
                        raise Refused([Problem(file=name, reason="压缩包解压后过大（上限 1 GB）")])
                    dst.write(chunk)
    shapefiles = sorted(q for q in into.rglob("*") if q.suffix.lower() == ".shp" and q.is_file())
    if layer is not None:
        shapefiles = [q for q in shapefiles if q.stem == layer]
    if len(shapefiles) != 1:
        found = "、".join(str(q.relative_to(into)) for q in shapefiles) or "无"
        wanted = "压缩包中应恰好有一个 Shapefile（.shp）" if layer is None else f"压缩包中没有图层 {layer!r}"
        reason = f"{wanted}；找到：{found}"
        raise Refused([Problem(file=name, column="--layer" if len(shapefiles) > 1 else "", reason=reason)])
    return shapefiles[0]


def _unsafe(member: zipfile.ZipInfo) -> str:
    """Why a zip member may not be unpacked, or ''."""
    raw_name = member.filename
    parts = PurePosixPath(raw_name.replace("\\", "/")).parts
    if raw_name.startswith(("/", "\\")) or (len(raw_name) > 1 and raw_name[1] == ":"):
        return "压缩包成员使用绝对路径，拒绝解压"
    if ".." in parts:
        return "压缩包成员路径含 ..，拒绝解压"
    if "\\" in raw_name:
        return "压缩包成员路径含反斜杠，拒绝解压"
    if stat.S_ISLNK(member.external_attr >> 16):
        return "压缩包成员是符号链接，拒绝解压"
    if member.flag_bits & 0x1:
        return "压缩包成员已加密，无法读取"
    return ""
