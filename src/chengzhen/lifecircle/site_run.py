"""One siting run (设施选址测算): read the network, homes, candidate sites and existing facilities,
choose k new sites of one facility type that bring the most people within reach, and write the
results into a folder — all or nothing. Pure: no Django (the command ``chengzhen lifecircle site``
is a thin shell over ``site``); the optimisation is ``siting``.

Coverage means within the reach of the type: the preset's service radius of the type in the chosen
circle (or the circle's minutes × speed), or ``radius`` metres. Existing facilities of the type are
kept and the homes they already serve count for nothing. Candidates are points (a table or a
layer, ids from ``site_id``/``id``), or every network node inside the polygons of a vacant-land
layer (空闲用地: all of its polygons, or those whose ``vacant``/``空闲`` property is true).

Outputs (a temporary folder beside DIR, moved in only when everything succeeded):

- ``sites.csv`` (UTF-8 with BOM): ``site_id, rank, new_population_covered, lon, lat``;
- ``sites.gpkg``: layer ``sites`` (WGS84 points with the same columns);
- ``coverage.csv``: population and covered population before and after, for the whole study and
  per area when ``areas`` is given;
- ``summary.json``: the objective (new population covered), the upper bound and its kind, the gap,
  the method used and whether proven optimal, k, the reach, the counts and each input's SHA-256.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chengzhen.problems import Problem, Refused

from . import crs as crs_module
from . import outputs, siting
from .catalogue import Catalogue
from .network import Network
from .points import Points, PopulationRule
from .presets import Preset
from .run import _read_lines, _read_points, read_areas

SITES_CSV, SITES_GPKG, COVERAGE_CSV, SUMMARY_JSON = "sites.csv", "sites.gpkg", "coverage.csv", "summary.json"


@dataclass(frozen=True)
class SiteResult:
    folder: Path
    files: tuple[Path, ...]
    summary: dict

    @property
    def text(self) -> str:
        s = self.summary
        return (f"选出 {len(s['sites'])} 处{s['type_label']}新址：新增覆盖人口 {s['objective']:.0f}，"
                f"上界 {s['bound']:.0f}（{s['bound_kind']}），差距 {s['gap']:.2%}，方法 {s['method']}"
                + ("（已证最优）" if s["optimal"] else ""))


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _to_wgs84(x: np.ndarray, y: np.ndarray, metric) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(metric, "EPSG:4326", always_xy=True).transform(x, y)
    return np.asarray(lon), np.asarray(lat)


VACANT_FLAGS = ("vacant", "空闲", "闲置")


def _vacant_polygons(path: str) -> list:
    """The vacant polygons of a GeoJSON layer: all of them, or — when a feature has a
    ``vacant``/``空闲``/``闲置`` property — those where it is true (1, true, 是, y)."""
    from shapely.geometry import shape

    from . import layers

    name = Path(path).name
    feats = layers._features(layers.check_local(path, name), name)
    polys, problems = [], []
    for i, f in enumerate(feats, start=1):
        try:
            g = shape(f.get("geometry")) if isinstance(f, dict) and f.get("geometry") else None
        except (ValueError, TypeError, AttributeError, KeyError):
            g = None
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(Problem(file=name, row=i, column="geometry", reason="空闲用地图层应为面（Polygon）"))
            continue
        props = f.get("properties") or {}
        flag = next((props[k] for k in VACANT_FLAGS if k in props), True)
        if str(flag).strip().lower() in ("1", "true", "是", "y", "yes"):
            polys.append(g)
    if problems:
        raise Refused(problems[:20])
    if not polys:
        raise Refused([Problem(file=name, reason="空闲用地图层中没有标为空闲的面")])
    return polys


def _vacant_nodes(path: str, net: Network, metric) -> tuple[np.ndarray, tuple[str, ...]]:
    """Every network node inside the vacant polygons of ``path`` (GeoJSON)."""
    import shapely

    polys = _vacant_polygons(path)
    lon, lat = _to_wgs84(net.x, net.y, metric)
    hit = shapely.STRtree(polys).query(shapely.points(lon, lat), predicate="within")[0]
    nodes = np.unique(hit)
    if not len(nodes):
        raise Refused([Problem(file=Path(path).name, reason="空闲用地内没有路网节点，无法作为候选点")])
    return nodes, tuple(f"node-{int(n)}" for n in nodes)


def site(*, network: str, homes: str, type_code: str, k: int, output: str | Path, candidates: str | None = None,
         vacant: str | None = None, preset: str | None = None, circle: int | None = None,
         radius: float | None = None, existing: str | None = None, type_column: str | None = None,
         id_column: str | None = None, snap: str = "edge", method: str = "exact", time_limit: float = 60.0,
         crs: str | None = None, max_snap: float = 500.0, areas: str | None = None,
         population: PopulationRule | None = None, progress: Callable[[str], None] | None = None) -> SiteResult:
    """Choose and write one siting; see the module docstring."""
    say = progress or (lambda text: print(text, file=sys.stderr))
    problems = []
    if snap not in ("edge", "node"):
        problems.append(Problem(column="--snap", reason="--snap 应为 edge 或 node"))
    if method not in ("exact", "greedy"):
        problems.append(Problem(column="--method", reason="--method 应为 exact 或 greedy"))
    if not isinstance(k, int) or k < 1:
        problems.append(Problem(column="-k", reason="新址个数 k 应为正整数"))
    if (candidates is None) == (vacant is None):
        problems.append(Problem(column="--candidates", reason="须给出候选点（--candidates）或空闲用地（--vacant）之一"))
    if radius is None and (preset is None or circle is None):
        problems.append(Problem(column="--radius", reason="须给出 --preset 与 --circle，或 --radius（米）"))
    if radius is not None and (preset is not None or circle is not None):
        problems.append(Problem(column="--radius", reason="--radius 与 --preset/--circle 只能选一种"))
    if radius is not None and not radius > 0:
        problems.append(Problem(column="--radius", reason="--radius 应为正数（米）"))
    if time_limit <= 0:
        problems.append(Problem(column="--time-limit", reason="--time-limit 应为正数（秒）"))
    out_dir = Path(output)
    if out_dir.exists() and not out_dir.is_dir():
        problems.append(Problem(file=str(out_dir), reason="输出位置已存在且不是文件夹"))
    if problems:
        raise Refused(problems)
    catalogue = Catalogue.load()
    code = catalogue.resolve(type_code, column="--type")
    label = catalogue.label(code)
    if radius is not None:
        reach = float(radius)
    else:
        chosen = Preset.load(preset, catalogue)
        if circle not in chosen.minutes:
            raise Refused([Problem(column="--circle", reason=f"预设“{chosen.name}”没有 {circle} 分钟生活圈"
                                                             f"（有 {'/'.join(map(str, chosen.minutes))}）")])
        reach = chosen.reach(code, circle)
    say("读取路网…")
    lines = _read_lines(network, crs)
    coords = np.concatenate([np.asarray(line.coords)[:, :2] for line in lines.lines])
    metric = crs_module.metric_crs(coords[:, 0], coords[:, 1], lines.file)
    say("读取住宅、候选点与现有设施…")
    home_points, _ = _read_points(homes, "homes", crs, metric, id_column=id_column, population=population, say=say)
    net = Network.from_lines(lines.to_metric(metric), oneway=lines.oneway)
    if candidates is not None:
        cand_points, _ = _read_points(candidates, "sites", crs, metric, say=say)
        cand_xy = np.column_stack([cand_points.x, cand_points.y])
        cand_ids, cand_lon, cand_lat, cand_file = cand_points.ids, cand_points.lon, cand_points.lat, cand_points.file
    else:
        nodes, cand_ids = _vacant_nodes(vacant, net, metric)
        cand_xy = np.column_stack([net.x[nodes], net.y[nodes]])
        cand_lon, cand_lat = _to_wgs84(cand_xy[:, 0], cand_xy[:, 1], metric)
        cand_file = Path(vacant).name
    if k > len(cand_ids):
        raise Refused([Problem(file=cand_file, column="-k", reason=f"新址个数 k = {k} 多于候选点数 {len(cand_ids)}")])
    existing_xy = np.zeros((0, 2))
    if existing is not None:
        fac_points, _ = _read_points(existing, "facilities", crs, metric, catalogue=catalogue,
                                     type_column=type_column, say=say)
        mine = np.array(fac_points.types, dtype=object) == code
        if not mine.any():
            present = "、".join(catalogue.label(t) for t in dict.fromkeys(fac_points.types))
            raise Refused([Problem(file=fac_points.file, column=type_column or "type",
                                   reason=f"现有设施中没有“{label}”（有：{present}）")])
        existing_xy = np.column_stack([fac_points.x, fac_points.y])[mine]
    regions = read_areas(areas) if areas else None
    hs = net.snap(np.column_stack([home_points.x, home_points.y]), mode=snap, max_distance=max_snap)
    if hs.far.all():
        raise Refused([Problem(file=home_points.file,
                               reason=f"住宅都离路网（{lines.file}）超过 {max_snap:g} 米：请检查坐标系")])
    cs = net.snap(cand_xy, mode=snap, max_distance=max_snap)
    if cs.far.any():
        bad = np.flatnonzero(cs.far)
        raise Refused([Problem(file=cand_file, row=int(cand_points.rows[i]) if candidates is not None else None,
                               column="site_id",
                               reason=f"候选点 {cand_ids[i]} 不在路网范围内（离道路超过 {max_snap:g} 米）")
                       for i in bad[:20]])
    say(f"计算覆盖关系：{len(cand_ids)} 个候选点 × {len(home_points.ids)} 处住宅，服务距离 {reach:g} 米…")
    cover = siting.cover_matrix(net, cs, hs, reach)
    served = np.zeros(len(home_points.ids), dtype=bool)
    if len(existing_xy):
        es = net.snap(existing_xy, mode=snap, max_distance=max_snap)
        served = np.asarray(siting.cover_matrix(net, es, hs, reach).sum(axis=1)).ravel() > 0
    demand = siting.demand(cover, home_points.population, served)
    say(f"求解：k = {k}，方法 {method}…")
    result = siting.solve(demand, k, method=method, time_limit=time_limit)
    covered_after = served | (np.asarray(cover[:, result.sites].sum(axis=1)).ravel() > 0 if len(result.sites)
                              else np.zeros_like(served))
    summary = {
        "type": code, "type_label": label, "k": k, "reach_m": reach, "snap": snap, "method_asked": method,
        "method": result.method, "optimal": result.optimal, "objective": result.objective, "bound": result.bound,
        "bound_kind": result.bound_kind, "gap": result.gap, "seconds": round(result.seconds, 3),
        "notes": list(result.notes), "homes": len(home_points.ids), "candidates": len(cand_ids),
        "existing": int(len(existing_xy)), "population": float(home_points.population.sum()),
        "covered_before": float(home_points.population[served].sum()),
        "covered_after": float(home_points.population[covered_after].sum()),
        "unreachable_population": demand.unreachable,
        "sites": [cand_ids[j] for j in result.sites],
        "inputs": {kind: {"file": Path(p).name, "sha256": _sha256(p)} for kind, p in
                   (("network", network), ("homes", homes), ("candidates", candidates), ("vacant", vacant),
                    ("existing", existing), ("areas", areas)) if p},
        "preset": preset, "circle": circle, "radius": radius,
    }
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".lifecircle-site-", dir=out_dir.parent))
    try:
        rows = [(cand_ids[j], rank, round(float(g), 2), round(float(cand_lon[j]), 7), round(float(cand_lat[j]), 7))
                for rank, (j, g) in enumerate(zip(result.sites, result.gains, strict=True), start=1)]
        files = [_write_sites(tmp / SITES_CSV, rows), _write_sites_gpkg(tmp / SITES_GPKG, rows),
                 _write_before_after(tmp / COVERAGE_CSV, home_points, served, covered_after, regions, label, reach)]
        (tmp / SUMMARY_JSON).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        files.append(tmp / SUMMARY_JSON)
        moved = outputs.move_into(files, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done = SiteResult(out_dir, moved, summary)
    say(done.text)
    return done


def _write_sites(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["site_id", "rank", "new_population_covered", "lon", "lat"])
        w.writerows(rows)
    return path


def _write_sites_gpkg(path: Path, rows) -> Path:
    import geopandas as gpd
    import pyogrio
    import shapely

    frame = gpd.GeoDataFrame(
        {"site_id": [r[0] for r in rows], "rank": [r[1] for r in rows],
         "new_population_covered": [r[2] for r in rows]},
        geometry=shapely.points([r[3] for r in rows], [r[4] for r in rows]) if rows else [], crs="EPSG:4326")
    pyogrio.write_dataframe(frame, path, layer="sites", driver="GPKG")
    return path


def _write_before_after(path: Path, homes: Points, before: np.ndarray, after: np.ndarray, regions, label: str,
                        reach: float) -> Path:
    pop = homes.population
    names = regions.assign(homes.lon, homes.lat) if regions is not None else None
    groups = [("全部", np.ones(len(pop), dtype=bool))]
    if names is not None:
        arr = np.array(names, dtype=object)
        groups += [(n, arr == n) for n in sorted(set(names), key=lambda n: (n == "区域外", n))]
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["area", "type_label", "reach_m", "homes", "population", "covered_before", "covered_after",
                    "rate_before", "rate_after"])
        for name, mask in groups:
            total = float(pop[mask].sum())
            b, a = float(pop[mask & before].sum()), float(pop[mask & after].sum())
            w.writerow([name, label, f"{reach:g}", int(mask.sum()), f"{total:.2f}", f"{b:.2f}", f"{a:.2f}",
                        f"{b / total:.4f}" if total else "", f"{a / total:.4f}" if total else ""])
    return path
