"""One life-circle run (生活圈测算): read the network, facilities and homes, measure every type,
mark every circle, compute coverage and supply per area, list what could not be measured, and
write the results into a folder — all or nothing. Pure: no Django (the command
``chengzhen lifecircle run`` is a thin shell over ``run``).

Outputs in the folder (written to a temporary folder beside it and moved in only when everything
succeeded, so a refused or failed run leaves the folder as it was); CSV files are UTF-8 with a BOM,
so Excel opens them:

- ``homes.csv``: ``home_id, population``, then per type ``<type>_m`` (network metres), ``<type>_min``
  (minutes at the walking speed: the preset's first circle, else ``speed``), ``<type>_id`` (the
  nearest facility's id) and per circle ``<type>_<minutes>`` (1 within the type's service radius
  where the preset gives one, else within the circle's reach; 0 otherwise); then per circle
  ``all_required_<minutes>`` (全部必配: 1 when the home reaches every type the circle requires).
  Distances beyond the cap — the preset's largest reach, else ``max_distance`` — are left blank, as
  are homes with no road within ``max_snap``.
- ``coverage.csv`` and ``coverage.xlsx`` (sheet 覆盖率): area, type, type label, circle, reach, homes,
  covered homes, population, covered population, rate; with the rows of type ``all_required``
  (全部必配, the complete-circle coverage of ``coverage.py``) after each circle's types. Areas are the
  polygons of ``areas`` by name; homes outside all of them form 区域外; 全部 is always there.
- ``supply.csv``: per circle × required type × area, the facilities inside the area (by the
  facility's own position) against the preset's per-1,000 norm (``coverage.supply``); a norm in m²
  is compared with the facility table's column named by the norm's ``measure`` or else a 面积 /
  用地面积 / 占地面积 / area_m2 column, when it has one (not compared otherwise). The sheet 配置标准 of
  coverage.xlsx holds the rows that have a norm.
- ``problems.csv``: what was measured as unreachable rather than silently dropped
  (``outputs.ProblemRow``): homes and facilities farther than ``max_snap`` from every road with
  their distance to the network, homes on a network fragment (连通片, a weakly connected component,
  ``Network.fragment``) with no facility of a type, facilities on a fragment with no home, and types
  the preset requires that the facilities lack. ``RunResult.summary`` counts them.
- ``lifecircle.gpkg``: layers ``homes``, ``facilities``, ``gaps`` and ``areas`` in WGS84
  (``outputs`` module docstring).
- ``map_<type>.png`` and ``.svg`` per type (with a preset, unless ``maps`` is off): homes coloured by
  the smallest circle that covers them, gaps marked, Chinese labels (``maps.draw_map``).

Refused before anything is written (``Refused`` naming the file): empty or unreadable layers, wrong
geometry types (the readers), a network with no road within ``max_snap`` of any home (路网与住宅不重叠)
or of any facility of a measured type, and presets naming unknown types (``presets``).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chengzhen.problems import Problem, Refused

from . import crs as crs_module
from . import layers, outputs
from .catalogue import Catalogue
from .coverage import OUTSIDE, amount_key, counted, coverage, supply
from .measure import measure_all
from .network import Network, Snap
from .outputs import ProblemRow
from .points import Points, PopulationRule, read_points
from .presets import Preset

DEFAULT_SPEED = 80.0  # m/min walking when no preset says: a configurable default (4.8 km/h)
DEFAULT_MAX_DISTANCE = 3000.0
AREA_UNITS = frozenset({"m²", "㎡", "m2", "平方米"})
AREA_COLUMNS = ("面积", "用地面积", "占地面积", "area_m2")  # m²-norm amounts when no column is named by the measure


@dataclass(frozen=True)
class RunResult:
    """What a run wrote and counted: the files moved into ``folder``, the homes and types measured,
    per type the homes left without a distance, and the problems of problems.csv by kind
    (``summary`` is the command's line)."""

    folder: Path
    files: tuple[Path, ...]
    homes: int
    types: tuple[str, ...]
    unreachable: dict[str, int]
    far_homes: int
    far_facilities: int = 0
    fragment_homes: int = 0  # homes whose fragment lacks at least one measured type
    fragment_facilities: int = 0  # facilities on a fragment without homes
    missing_types: tuple[str, ...] = ()
    problems: int = 0  # lines of problems.csv

    @property
    def summary(self) -> str:
        """The command's one-line summary."""
        text = (f"已测算 {self.homes} 处住宅、{len(self.types)} 类设施；离路网过远 {self.far_homes} 处住宅、"
                f"{self.far_facilities} 处设施；所在连通片缺少某类设施的住宅 {self.fragment_homes} 处；"
                f"所在连通片没有住宅的设施 {self.fragment_facilities} 处")
        if self.missing_types:
            text += f"；设施文件缺少预设要求的 {len(self.missing_types)} 类"
        return text + ("（明细见 problems.csv）" if self.problems else "")


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


@dataclass(frozen=True)
class Areas:
    """The polygons of an areas layer (WGS84): per feature ``polygons`` and ``of`` (its area's index),
    and per area (features of one name dissolved) ``names`` and ``geometries``, in first-seen order."""

    file: str
    polygons: tuple
    of: np.ndarray
    names: tuple[str, ...]
    geometries: np.ndarray

    def assign(self, lon: np.ndarray, lat: np.ndarray) -> list[str]:
        """Each point's area name (区域外 outside every polygon; on a shared border, the first feature's)."""
        import shapely

        hit = shapely.STRtree(list(self.polygons)).query(shapely.points(lon, lat), predicate="intersects")
        order = np.lexsort((hit[1], hit[0]))
        pt, poly = hit[0][order], hit[1][order]
        first = np.ones(len(pt), dtype=bool)
        first[1:] = pt[1:] != pt[:-1]
        out = [OUTSIDE] * len(lon)
        for i, k in zip(pt[first].tolist(), poly[first].tolist(), strict=True):
            out[i] = self.names[self.of[k]]
        return out


def read_areas(path: str) -> Areas:
    """An areas layer (GeoJSON polygons named by 名称/name/area/区域); refused when empty, not
    polygons or unnamed."""
    import shapely
    from shapely.geometry import shape

    name = Path(path).name
    feats = layers._features(layers.check_local(path, name), name)
    polys, labels, problems = [], [], []
    for i, f in enumerate(feats, start=1):
        try:
            g = shape(f.get("geometry")) if isinstance(f, dict) and f.get("geometry") else None
        except (ValueError, TypeError, AttributeError, KeyError):
            g = None
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            kind = "没有几何" if g is None else g.geom_type
            reason = f"区域图层应为面（Polygon），不是 {kind}"
            problems.append(Problem(file=name, row=i, column="geometry", reason=reason))
            continue
        props = f.get("properties") or {}
        label = next((str(props[k]) for k in ("名称", "name", "area", "区域") if props.get(k) not in (None, "")), "")
        if not label:
            problems.append(Problem(file=name, row=i, column="name", reason="区域没有名称（名称/name）"))
            continue
        polys.append(g)
        labels.append(label)
    if problems:
        raise Refused(problems[:20])
    names = list(dict.fromkeys(labels))
    index = {n: k for k, n in enumerate(names)}
    of = np.array([index[n] for n in labels], dtype=np.int64)
    geoms = np.array([shapely.union_all([p for p, k in zip(polys, of, strict=True) if k == j])
                      for j in range(len(names))], dtype=object)
    return Areas(name, tuple(polys), of, tuple(names), geoms)


def _network_distance(net: Network, xy: np.ndarray, snap: str) -> np.ndarray:
    """Metres from each point to the network as the snapping measures it (nearest road, or node)."""
    if not len(xy):
        return np.zeros(0)
    s = net.snap(xy, mode=snap)
    if snap == "edge":
        return s.connector
    return np.hypot(xy[:, 0] - net.x[s.node], xy[:, 1] - net.y[s.node])


def find_problems(net: Network, *, snap: str, max_snap: float, home_ids: Sequence[str], home_xy: np.ndarray,
                  home_far: np.ndarray, home_fragment: np.ndarray, facility_ids: Sequence[str],
                  facility_types: Sequence[str], facility_xy: np.ndarray, facility_snaps: Snap,
                  types: Sequence[str], missing: Sequence[str] = (),
                  label: Callable[[str], str] = str) -> list[ProblemRow]:
    """The lines of problems.csv (module docstring), in this order: types missing, homes far from the
    network, facilities far from it, homes whose fragment lacks a type (by home, then type), facilities
    on fragments without homes."""
    nodes = np.bincount(net.fragment, minlength=net.n_fragments)
    where = "道路" if snap == "edge" else "路网节点"
    out = [ProblemRow("type_missing", "", t, reason=f"设施文件中没有预设要求的{label(t)}：未测算，住宅均计为未覆盖，"
                                                   "全部必配覆盖率因此为 0") for t in missing]
    far_h = np.flatnonzero(home_far)
    for i, d in zip(far_h.tolist(), _network_distance(net, home_xy[far_h], snap).tolist(), strict=True):
        out.append(ProblemRow("home_far", home_ids[i], distance_m=d,
                              reason=f"距最近{where} {d:.0f} 米，超过 {max_snap:g} 米：未测算"))
    far_f = np.flatnonzero(facility_snaps.far)
    kinds = np.asarray(list(facility_types), dtype=object)
    for i, d in zip(far_f.tolist(), _network_distance(net, facility_xy[far_f], snap).tolist(), strict=True):
        out.append(ProblemRow("facility_far", facility_ids[i], kinds[i], distance_m=d,
                              reason=f"距最近{where} {d:.0f} 米，超过 {max_snap:g} 米：不服务任何住宅"))
    fac_frag = np.where(facility_snaps.far, -1, net.fragment[np.maximum(facility_snaps.u, 0)])
    hf = np.asarray(home_fragment)
    on = hf >= 0
    homes_k, types_k = [], []
    for k, t in enumerate(types):
        has = np.zeros(net.n_fragments, dtype=bool)
        has[fac_frag[(kinds == t) & (fac_frag >= 0)]] = True
        bad = np.flatnonzero(on & ~has[np.maximum(hf, 0)])
        homes_k.append(bad)
        types_k.append(np.full(len(bad), k))
    if homes_k:
        h, k = np.concatenate(homes_k), np.concatenate(types_k)
        order = np.lexsort((k, h))
        for i, j in zip(h[order].tolist(), k[order].tolist(), strict=True):
            f = int(hf[i])
            out.append(ProblemRow("home_fragment", home_ids[i], types[j], fragment=f, fragment_nodes=int(nodes[f]),
                                  reason=f"所在路网连通片（{int(nodes[f])} 个节点）没有{label(types[j])}：该类不可达"))
    with_homes = np.zeros(net.n_fragments, dtype=bool)
    with_homes[hf[on]] = True
    for i in np.flatnonzero((fac_frag >= 0) & ~with_homes[np.maximum(fac_frag, 0)]).tolist():
        f = int(fac_frag[i])
        out.append(ProblemRow("facility_fragment", facility_ids[i], kinds[i], fragment=f, fragment_nodes=int(nodes[f]),
                              reason=f"所在路网连通片（{int(nodes[f])} 个节点）没有住宅"))
    return out


def _overlap(net: Network, xy: np.ndarray, far: np.ndarray, snap: str, max_snap: float, what: str, file: str,
             network_file: str) -> None:
    """Refuse a run in which no point of a layer is within ``max_snap`` of the network: a wrong CRS or
    the wrong area, never a result."""
    if len(far) and far.all():
        nearest = float(_network_distance(net, xy, snap).min())
        reason = (f"路网与{what}不重叠：{file} 中没有一处{what}在 {network_file} 的道路 {max_snap:g} 米以内"
                  f"（最近的相距 {nearest:,.0f} 米）；请检查两者的坐标系（--crs）与范围")
        raise Refused([Problem(file=file, reason=reason)])


def run(*, network: str, facilities: str, homes: str, output: str | Path, crs: str | None = None,
        preset: str | None = None, type_column: str | None = None, id_column: str | None = None,
        snap: str = "edge", areas: str | None = None, max_distance: float = DEFAULT_MAX_DISTANCE,
        max_snap: float = 500.0, speed: float = DEFAULT_SPEED, population: PopulationRule | None = None,
        maps: bool = True, geopackage: bool = True, regions: str | None = None, scheduler: str | None = "local",
        workers: int = 2, progress: Callable[[str], None] | None = None) -> RunResult:
    """Measure and write one run; see the module docstring. With ``regions`` (a polygon layer:
    counties, towns) the measurement runs region by region (``regions.measure_by_region``: on a
    local Dask cluster of ``workers`` processes, on the scheduler at ``scheduler``, or in this
    process when ``scheduler`` is None) — the same numbers as in one piece."""
    say = progress or (lambda text: print(text, file=sys.stderr))
    if snap not in ("edge", "node"):
        raise Refused([Problem(column="--snap", reason="--snap 应为 edge 或 node")])
    out_dir = Path(output)
    if out_dir.exists() and not out_dir.is_dir():
        raise Refused([Problem(file=str(out_dir), reason="输出位置已存在且不是文件夹")])
    catalogue = Catalogue.load()
    label = outputs.type_label(catalogue)
    chosen = Preset.load(preset, catalogue) if preset else None
    say("读取路网…")
    lines = _read_lines(network, crs)
    coords = np.concatenate([np.asarray(line.coords)[:, :2] for line in lines.lines])
    metric = crs_module.metric_crs(coords[:, 0], coords[:, 1], lines.file)  # one plane for every layer
    say("读取设施与住宅…")
    fac_points, fac_columns = _read_points(facilities, "facilities", crs, metric, catalogue=catalogue,
                                           type_column=type_column, say=say, columns=_wants_amounts(chosen))
    home_points, _ = _read_points(homes, "homes", crs, metric, id_column=id_column, population=population, say=say)
    amounts = _amounts(chosen, fac_columns, fac_points) if chosen is not None else {}
    regions_layer = read_areas(regions) if regions else None  # split for Dask; read first, like the areas
    regions = read_areas(areas) if areas else None  # before the measurement: a bad layer costs nothing
    net = Network.from_lines(lines.to_metric(metric), oneway=lines.oneway)
    types = list(dict.fromkeys(fac_points.types))
    missing: list[str] = []
    if chosen is not None:
        missing = [t for t in chosen.types if t not in types]
        types = [t for t in chosen.types if t in types]
        for t in missing:
            say(f"设施文件中没有预设要求的“{catalogue.label(t)}”，该类不测算（计为未覆盖）")
    if not types:
        raise Refused([Problem(file=fac_points.file, reason="没有可测算的设施类型")])
    cap = chosen.largest_reach if chosen is not None else max_distance
    walk = chosen.circles[0].speed if chosen is not None else speed
    fac_types = np.array(fac_points.types, dtype=object)
    fac_xy = np.column_stack([fac_points.x, fac_points.y])
    by_type = {t: fac_xy[fac_types == t] for t in types}
    ids_by_type = {t: [i for i, tt in zip(fac_points.ids, fac_points.types, strict=True) if tt == t] for t in types}
    homes_xy = np.column_stack([home_points.x, home_points.y])
    say(f"测算 {len(types)} 类设施、{len(home_points.ids)} 处住宅…")
    if regions_layer is None:
        result = measure_all(net, by_type, homes_xy, snap=snap, limit=cap, max_distance=max_snap)
    else:
        result = _by_region(net, regions_layer, metric, by_type, homes_xy, snap=snap, limit=cap, max_snap=max_snap,
                            scheduler=scheduler, workers=workers, say=say)
    _overlap(net, homes_xy, np.asarray(result["far"]), snap, max_snap, "住宅", home_points.file, lines.file)
    measured = np.isin(fac_types, types)
    m_idx = np.flatnonzero(measured)
    fac_snaps = net.snap(fac_xy[m_idx], mode=snap, max_distance=max_snap)
    _overlap(net, fac_xy[m_idx], fac_snaps.far, snap, max_snap, "设施", fac_points.file, lines.file)
    distances = {t: result[f"{t}_m"] for t in types}
    problems = find_problems(net, snap=snap, max_snap=max_snap, home_ids=home_points.ids, home_xy=homes_xy,
                             home_far=np.asarray(result["far"]), home_fragment=np.asarray(result["fragment"]),
                             facility_ids=[fac_points.ids[i] for i in m_idx], facility_types=list(fac_types[m_idx]),
                             facility_xy=fac_xy[m_idx], facility_snaps=fac_snaps, types=types, missing=missing,
                             label=catalogue.label)
    home_areas = regions.assign(home_points.lon, home_points.lat) if regions is not None else None
    fac_areas = regions.assign(fac_points.lon, fac_points.lat) if regions is not None else None
    rows = coverage(distances, home_points.population, chosen, areas=home_areas) if chosen is not None else []
    supplies = (supply(chosen, home_points.population, fac_points.types, home_areas=home_areas,
                       facility_areas=fac_areas, amounts=amounts) if chosen is not None else [])
    fields = outputs.homes_fields(home_points.ids, home_points.population, types, result, ids_by_type, chosen, walk)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".lifecircle-", dir=out_dir.parent))
    try:
        files = [outputs.write_homes(tmp / "homes.csv", fields)]
        if chosen is not None:
            files += outputs.write_coverage(tmp, rows, supplies, label)
        files.append(outputs.write_problems(tmp / "problems.csv", problems))
        if geopackage:
            say("写入 GeoPackage…")
            files.append(outputs.write_geopackage(
                tmp / outputs.GPKG_NAME, homes_lon=home_points.lon, homes_lat=home_points.lat, homes=fields,
                facilities_lon=fac_points.lon, facilities_lat=fac_points.lat, facility_ids=fac_points.ids,
                facility_types=fac_points.types, label=label, preset=chosen, distances=distances,
                areas=(regions.names, regions.geometries) if regions is not None and chosen is not None else None,
                rows=rows))
        if chosen is not None and maps:
            from .maps import draw_map

            for k, t in enumerate(types, start=1):
                say(f"绘制地图 {catalogue.label(t)}（{k}/{len(types)}）…")
                for fmt in ("png", "svg"):
                    files.append(draw_map(tmp / f"map_{t}.{fmt}", network=net, homes_xy=homes_xy,
                                          distance_m=distances[t], preset=chosen, type_code=t,
                                          type_label=catalogue.label(t), facilities_xy=by_type[t],
                                          title=f"{chosen.name}：{catalogue.label(t)}", fmt=fmt))
        moved = outputs.move_into(files, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    unreachable = {t: int((~np.isfinite(distances[t])).sum()) for t in types}
    kinds = [p.kind for p in problems]
    say("完成。")
    return RunResult(out_dir, moved, len(home_points.ids), tuple(types), unreachable,
                     int(np.asarray(result["far"]).sum()), far_facilities=kinds.count("facility_far"),
                     fragment_homes=len({p.id for p in problems if p.kind == "home_fragment"}),
                     fragment_facilities=kinds.count("facility_fragment"), missing_types=tuple(missing),
                     problems=len(problems))


def _by_region(net: Network, layer: Areas, metric, by_type, homes_xy, *, snap, limit, max_snap, scheduler, workers,
               say) -> dict[str, np.ndarray]:
    """The measurement region by region, with the fragments read on the whole network (a
    region's own fragment numbers mean nothing across regions)."""
    import shapely
    from pyproj import Transformer

    from .regions import measure_by_region

    forward = Transformer.from_crs("EPSG:4326", metric, always_xy=True)
    polygons = [shapely.transform(g, lambda xy: np.column_stack(forward.transform(xy[:, 0], xy[:, 1])))
                for g in layer.geometries]
    say(f"分 {len(polygons)} 个区域测算（{'本进程' if scheduler is None else scheduler}）…")
    result = measure_by_region(net, polygons, list(layer.names), by_type, homes_xy, snap=snap, limit=limit,
                               max_distance=max_snap, scheduler=scheduler, workers=workers, progress=say)
    hs = net.snap(homes_xy, mode=snap, max_distance=max_snap)
    result["fragment"] = np.where(hs.far, -1, net.fragment[np.maximum(hs.u, 0)])
    return result


def _tabular(path: str) -> bool:
    return Path(path).suffix.lower() in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")


def _read_points(path: str, kind: str, crs: str | None, metric, *, say, columns: bool = False,
                 **options) -> tuple[Points, dict[str, list] | None]:
    """A point table (CSV/.xlsx, coordinates in ``crs``) or a vector layer (GeoJSON, GeoPackage,
    Shapefile; an .osm.pbf gives its amenities, those of unknown types left out and counted). With
    ``columns``, also every column by name, one value per point (None for an .osm.pbf)."""
    from .points import _rows, points_from_layer

    if _tabular(path):
        pts = read_points(path, crs=crs or "", kind=kind, metric=metric, **options)
        if not columns:
            return pts, None
        table = _rows(Path(path), pts.file)  # read_points keeps every body row, so the rows align
        header = [str(h or "").strip() for h in table[0]]
        return pts, {h: [r[i] if i < len(r) else None for r in table[1:]] for i, h in enumerate(header) if h}
    from .vector import read_any_points

    osm = str(path).lower().endswith(".osm.pbf")
    layer = read_any_points(path, crs=None if osm else crs)
    pts = points_from_layer(layer, kind=kind, metric=metric, known_types_only=osm, **options)
    if osm and kind == "facilities":
        say(f"{layer.file}：{len(layer.lon)} 个 OSM 设施点中 {len(pts.ids)} 个属于设施目录，其余不计")
    return pts, (dict(layer.properties) if columns and not osm else None)


def _wants_amounts(preset: Preset | None) -> bool:
    return preset is not None and any(not counted(r.norm) for c in preset.circles for r in c.requirements.values())


def _amounts(preset: Preset, columns: Mapping[str, list] | None, pts: Points) -> dict[str, np.ndarray]:
    """Per norm not counted in facilities, its amount per facility from the column named by the
    norm's measure (or, for m², a 面积 column); NaN where empty. A value that is not a number ≥ 0 in
    a facility of a type the norm applies to is refused, naming its row."""
    if not columns:
        return {}
    uses: dict[str, tuple[list[str], set[str]]] = {}
    for c in preset.circles:
        for t, r in c.requirements.items():
            if counted(r.norm):
                continue
            names = [r.norm.measure] if r.norm.measure else []
            if r.norm.unit.strip() in AREA_UNITS:
                names += list(AREA_COLUMNS)
            uses.setdefault(amount_key(r.norm), (names, set()))[1].add(t)
    out: dict[str, np.ndarray] = {}
    problems = []
    for key, (names, kinds) in uses.items():
        column = next((n for n in names if n in columns), None)
        if column is None:
            continue
        values = np.full(len(pts.ids), np.nan)
        for i, (v, t) in enumerate(zip(columns[column], pts.types, strict=True)):
            if v is None or str(v).strip() == "":
                continue
            try:
                x = float(str(v).replace(",", "").strip())
            except ValueError:
                x = float("nan")
            if not np.isfinite(x) or x < 0:
                if t in kinds:
                    problems.append(Problem(file=pts.file, row=int(pts.rows[i]), column=column,
                                            reason=f"应为不小于 0 的数，不是 {v!r}"))
                continue
            values[i] = x
        out[key] = values
    if problems:
        raise Refused(problems[:20])
    return out
