"""One life-circle run (生活圈测算): read the network, facilities and homes, measure every type,
mark every circle, compute coverage per area, and write the results into a folder — all or
nothing. Pure: no Django (the command ``chengzhen lifecircle run`` is a thin shell over ``run``).

Outputs in the folder (written to a temporary folder beside it and moved in only when everything
succeeded, so a refused or failed run leaves the folder as it was):

- ``homes.csv`` (UTF-8 with a BOM, so Excel opens it): ``home_id, population``, then per type
  ``<type>_m`` (network metres), ``<type>_min`` (minutes at the walking speed: the preset's first
  circle, else ``speed``), ``<type>_id`` (the nearest facility's id) and per circle
  ``<type>_<minutes>`` (1 within the type's service radius where the preset gives one, else within
  the circle's reach; 0 otherwise). Distances beyond the cap — the preset's largest reach, else
  ``max_distance`` — are left blank, as are homes with no road within ``max_snap``.
- ``coverage.csv`` and ``coverage.xlsx``: area, type, circle, reach, homes, covered homes,
  population, covered population, rate.
- ``map_<type>.png`` and ``.svg`` per type (with a preset, unless ``maps`` is off): homes coloured by
  the smallest circle that covers them, gaps marked, Chinese labels (``maps.draw_map``).
"""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chengzhen.problems import Problem, Refused

from . import crs as crs_module
from . import layers
from .catalogue import Catalogue
from .coverage import coverage
from .measure import measure_all
from .network import Network
from .points import PopulationRule, read_points
from .presets import Preset

DEFAULT_SPEED = 80.0  # m/min walking when no preset says: a configurable default (4.8 km/h)
DEFAULT_MAX_DISTANCE = 3000.0


@dataclass(frozen=True)
class RunResult:
    folder: Path
    files: tuple[Path, ...]
    homes: int
    types: tuple[str, ...]
    unreachable: dict[str, int]
    far_homes: int


def _read_lines(path: str, crs: str | None):
    suffix = "".join(Path(path).suffixes[-2:]).lower()
    if suffix.endswith((".geojson", ".json")):
        return layers.read_geojson_lines(path)  # WGS84 by definition: --crs is the point tables'

    try:
        from .vector import read_any_lines
    except ImportError:  # pragma: no cover - the GDAL-backed readers are optional
        read_any_lines = None
    if read_any_lines is None:
        raise Refused([Problem(file=Path(path).name, reason="路网应为 GeoJSON（.geojson）")])
    return read_any_lines(path, crs=crs)


def _areas(path: str | None, lon: np.ndarray, lat: np.ndarray) -> list[str] | None:
    """Each home's area (the name of the polygon of ``path`` it lies in; "" outside every one)."""
    if not path:
        return None
    import shapely
    from shapely.geometry import shape

    name = Path(path).name
    feats = layers._features(layers.check_local(path, name), name)
    polys, names = [], []
    for i, f in enumerate(feats, start=1):
        g = shape(f.get("geometry") or {}) if f.get("geometry") else None
        if g is None or g.geom_type not in ("Polygon", "MultiPolygon"):
            raise Refused([Problem(file=name, row=i, column="geometry", reason="区域图层应为面（Polygon）")])
        props = f.get("properties") or {}
        label = next((str(props[k]) for k in ("名称", "name", "area", "区域") if props.get(k) not in (None, "")), "")
        if not label:
            raise Refused([Problem(file=name, row=i, column="name", reason="区域没有名称（名称/name）")])
        polys.append(g)
        names.append(label)
    tree = shapely.STRtree(polys)
    pts = shapely.points(lon, lat)
    hit = tree.query(pts, predicate="within")
    out = [""] * len(lon)
    for home, poly in zip(hit[0], hit[1], strict=True):
        if not out[home]:
            out[home] = names[poly]
    return out


def run(*, network: str, facilities: str, homes: str, output: str | Path, crs: str | None = None,
        preset: str | None = None, type_column: str | None = None, id_column: str | None = None,
        snap: str = "edge", areas: str | None = None, max_distance: float = DEFAULT_MAX_DISTANCE,
        max_snap: float = 500.0, speed: float = DEFAULT_SPEED, population: PopulationRule | None = None,
        maps: bool = True, progress: Callable[[str], None] | None = None) -> RunResult:
    """Measure and write one run; see the module docstring."""
    say = progress or (lambda text: print(text, file=sys.stderr))
    if snap not in ("edge", "node"):
        raise Refused([Problem(column="--snap", reason="--snap 应为 edge 或 node")])
    out_dir = Path(output)
    if out_dir.exists() and not out_dir.is_dir():
        raise Refused([Problem(file=str(out_dir), reason="输出位置已存在且不是文件夹")])
    catalogue = Catalogue.load()
    chosen = Preset.load(preset, catalogue) if preset else None
    say("读取路网…")
    lines = _read_lines(network, crs)
    coords = np.concatenate([np.asarray(line.coords)[:, :2] for line in lines.lines])
    metric = crs_module.metric_crs(coords[:, 0], coords[:, 1], lines.file)  # one plane for every layer
    say("读取设施与住宅…")
    fac_points = _read_points(facilities, "facilities", crs, metric, catalogue=catalogue, type_column=type_column,
                              say=say)
    home_points = _read_points(homes, "homes", crs, metric, id_column=id_column, population=population, say=say)
    net = Network.from_lines(lines.to_metric(metric), oneway=lines.oneway)
    types = list(dict.fromkeys(fac_points.types))
    if chosen is not None:
        missing = [t for t in chosen.types if t not in types]
        types = [t for t in chosen.types if t in types]
        for t in missing:
            say(f"设施文件中没有预设要求的“{catalogue.label(t)}”，该类不测算")
    if not types:
        raise Refused([Problem(file=fac_points.file, reason="没有可测算的设施类型")])
    cap = chosen.largest_reach if chosen is not None else max_distance
    walk = chosen.circles[0].speed if chosen is not None else speed
    by_type = {t: np.column_stack([fac_points.x, fac_points.y])[np.array(fac_points.types) == t] for t in types}
    ids_by_type = {t: [i for i, tt in zip(fac_points.ids, fac_points.types, strict=True) if tt == t] for t in types}
    say(f"测算 {len(types)} 类设施、{len(home_points.ids)} 处住宅…")
    result = measure_all(net, by_type, np.column_stack([home_points.x, home_points.y]), snap=snap, limit=cap,
                         max_distance=max_snap)
    distances = {t: result[f"{t}_m"] for t in types}
    area_names = _areas(areas, home_points.lon, home_points.lat)
    rows = coverage(distances, home_points.population, chosen, areas=area_names) if chosen is not None else []
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".lifecircle-", dir=out_dir.parent))
    try:
        files = [_write_homes(tmp / "homes.csv", home_points, types, result, ids_by_type, chosen, walk)]
        if chosen is not None:
            files += _write_coverage(tmp, rows)
            if maps:
                from .maps import draw_map

                homes_xy = np.column_stack([home_points.x, home_points.y])
                for k, t in enumerate(types, start=1):
                    say(f"绘制地图 {catalogue.label(t)}（{k}/{len(types)}）…")
                    for fmt in ("png", "svg"):
                        files.append(draw_map(tmp / f"map_{t}.{fmt}", network=net, homes_xy=homes_xy,
                                              distance_m=distances[t], preset=chosen, type_code=t,
                                              type_label=catalogue.label(t), facilities_xy=by_type[t],
                                              title=f"{chosen.name}：{catalogue.label(t)}", fmt=fmt))
        out_dir.mkdir(exist_ok=True)
        moved = []
        for f in files:
            target = out_dir / f.name
            shutil.move(str(f), target)
            moved.append(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    unreachable = {t: int((~np.isfinite(distances[t])).sum()) for t in types}
    say("完成。")
    return RunResult(out_dir, tuple(moved), len(home_points.ids), tuple(types), unreachable, int(result["far"].sum()))


def _tabular(path: str) -> bool:
    return Path(path).suffix.lower() in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")


def _read_points(path: str, kind: str, crs: str | None, metric, *, say, **options):
    """A point table (CSV/.xlsx, coordinates in ``crs``) or a vector layer (GeoJSON, GeoPackage,
    Shapefile; an .osm.pbf gives its amenities, those of unknown types left out and counted)."""
    from .points import points_from_layer

    if _tabular(path):
        return read_points(path, crs=crs or "", kind=kind, metric=metric, **options)
    from .vector import read_any_points

    osm = str(path).lower().endswith(".osm.pbf")
    layer = read_any_points(path, crs=None if osm else crs)
    pts = points_from_layer(layer, kind=kind, metric=metric, known_types_only=osm, **options)
    if osm and kind == "facilities":
        say(f"{layer.file}：{len(layer.lon)} 个 OSM 设施点中 {len(pts.ids)} 个属于设施目录，其余不计")
    return pts


def _number(x: float) -> str:
    return "" if not np.isfinite(x) else f"{x:.2f}"


def _write_homes(path: Path, homes, types, result, ids_by_type, preset, walk: float) -> Path:
    header = ["home_id", "population"]
    for t in types:
        header += [f"{t}_m", f"{t}_min", f"{t}_id"]
        if preset is not None:
            header += [f"{t}_{c.minutes}" for c in preset.circles]
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i, home_id in enumerate(homes.ids):
            row = [home_id, f"{homes.population[i]:g}"]
            for t in types:
                d = float(result[f"{t}_m"][i])
                k = int(result[f"{t}_id"][i])
                row += [_number(d), _number(d / walk), ids_by_type[t][k] if k >= 0 and np.isfinite(d) else ""]
                if preset is not None:
                    row += [int(np.isfinite(d) and d <= preset.reach(t, c)) for c in preset.circles]
            w.writerow(row)
    return path


def _write_coverage(folder: Path, rows) -> list[Path]:
    from openpyxl import Workbook

    from chengzhen.documents.spreadsheet import Column, write_table

    header = ["area", "type", "circle", "reach_m", "homes", "covered_homes", "population", "covered_population",
              "rate"]
    values = [[r.area, r.type, r.circle, f"{r.reach_m:g}", r.homes, r.covered_homes, f"{r.population:g}",
               f"{r.covered_population:g}", "" if r.rate is None else f"{r.rate:.4f}"] for r in rows]
    csv_path = folder / "coverage.csv"
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(values)
    wb = Workbook()
    ws = wb.active
    ws.title = "覆盖率"
    cols = [Column("区域", width=16), Column("设施类型", width=14), Column("生活圈（分钟）", width=10, kind="int"),
            Column("服务距离（米）", width=12, kind="number"), Column("住宅数", width=10, kind="int"),
            Column("覆盖住宅数", width=10, kind="int"), Column("人口", width=12, kind="number"),
            Column("覆盖人口", width=12, kind="number"), Column("覆盖率", width=10, kind="percent")]
    write_table(ws, "生活圈覆盖率", "", cols, [[r.area, r.type, r.circle, r.reach_m, r.homes, r.covered_homes,
                                                 r.population, r.covered_population, r.rate] for r in rows])
    xlsx_path = folder / "coverage.xlsx"
    wb.save(xlsx_path)
    return [csv_path, xlsx_path]
