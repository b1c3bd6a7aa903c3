"""The notebook API of the life-circle library: read a network, facilities and homes, measure,
cover and site, each returning a (Geo)DataFrame — the same code the command runs, in six calls::

    from chengzhen.lifecircle import lib as lc

    roads = lc.read_network("streets.geojson")
    facilities = lc.read_facilities("设施.csv", roads, crs="GCJ-02")
    homes = lc.read_homes("住宅.xlsx", roads, crs="GCJ-02")
    distances = lc.measure(roads, facilities, homes, limit=1200)        # home_id × <type>_m, <type>_id
    rates = lc.cover(distances, homes, "gb50180-2018", areas="社区.geojson")
    sites = lc.site(roads, homes, candidates, "幼儿园", k=3, radius=300, existing=facilities)

Frames carry WGS84 geometry (EPSG:4326) and the metric coordinates ``x``/``y`` of the plane the
network was read in (``RoadNetwork.metric``), so every layer is measured in one plane. Pure: no
Django; GeoPandas for the frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import crs as crs_module
from .catalogue import Catalogue
from .network import Network
from .points import Points, PopulationRule
from .presets import Preset


@dataclass(frozen=True)
class RoadNetwork:
    """A network read from a file, with the metric plane its coordinates are in."""

    network: Network
    metric: object  # a pyproj CRS
    file: str

    def __repr__(self) -> str:
        return f"RoadNetwork({self.file}: {self.network!r}, {self.metric})"


def read_network(path: str | Path, *, crs: str | None = None) -> RoadNetwork:
    """A road network from GeoJSON, GeoPackage, Shapefile or an .osm.pbf (walking), in the UTM plane
    of its area; ``crs`` declares a layer that carries none."""
    from .run import _read_lines

    lines = _read_lines(str(path), crs)
    coords = np.concatenate([np.asarray(line.coords)[:, :2] for line in lines.lines])
    metric = crs_module.metric_crs(coords[:, 0], coords[:, 1], lines.file)
    return RoadNetwork(Network.from_lines(lines.to_metric(metric), oneway=lines.oneway), metric, lines.file)


def _frame(points: Points, **columns):
    import geopandas as gpd

    data = {"id": list(points.ids), **columns, "x": points.x, "y": points.y}
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(points.lon, points.lat), crs="EPSG:4326")


def read_facilities(path: str | Path, roads: RoadNetwork, *, crs: str | None = None, type_column: str | None = None):
    """Facilities from a point table (CSV/.xlsx, coordinates in ``crs``) or a point layer: a
    GeoDataFrame of ``id``, ``type`` (catalogue code), ``type_label``, ``x``, ``y``, geometry."""
    from .run import _read_points

    cat = Catalogue.load()
    pts, _ = _read_points(str(path), "facilities", crs, roads.metric, catalogue=cat, type_column=type_column,
                          say=lambda _t: None)
    return _frame(pts, type=list(pts.types), type_label=[cat.label(t) for t in pts.types])


def read_homes(path: str | Path, roads: RoadNetwork, *, crs: str | None = None, id_column: str | None = None,
               population: PopulationRule | None = None):
    """Homes from a point table or a point layer: a GeoDataFrame of ``id``, ``population``, ``x``,
    ``y``, geometry (population from a column, households × size or floor area ÷ area per person)."""
    from .run import _read_points

    pts, _ = _read_points(str(path), "homes", crs, roads.metric, id_column=id_column, population=population,
                          say=lambda _t: None)
    return _frame(pts, population=pts.population)


def read_sites(path: str | Path, roads: RoadNetwork, *, crs: str | None = None):
    """Candidate sites (``site_id``/``id``) from a point table or layer: ``id``, ``x``, ``y``, geometry."""
    from .run import _read_points

    pts, _ = _read_points(str(path), "sites", crs, roads.metric, say=lambda _t: None)
    return _frame(pts)


def _xy(frame) -> np.ndarray:
    return np.column_stack([np.asarray(frame["x"], dtype=float), np.asarray(frame["y"], dtype=float)])


def measure(roads: RoadNetwork, facilities, homes, *, snap: str = "edge", limit: float | None = None,
            max_snap: float = 500.0, types=None):
    """Per home (index ``home_id``): ``fragment``, ``far``, and per type ``<type>_m`` (network metres,
    ``inf`` beyond ``limit``) and ``<type>_id`` (the nearest facility's id, "" when none)."""
    import pandas as pd

    from .measure import measure_all

    kinds = list(dict.fromkeys(facilities["type"])) if types is None else list(types)
    by_type = {t: _xy(facilities[facilities["type"] == t]) for t in kinds}
    ids = {t: np.asarray(facilities.loc[facilities["type"] == t, "id"], dtype=object) for t in kinds}
    result = measure_all(roads.network, by_type, _xy(homes), snap=snap, limit=limit, max_distance=max_snap)
    out = {"fragment": result["fragment"], "far": result["far"]}
    for t in kinds:
        k = result[f"{t}_id"]
        out[f"{t}_m"] = result[f"{t}_m"]
        out[f"{t}_id"] = np.where(k >= 0, ids[t][np.maximum(k, 0)] if len(ids[t]) else "", "")
    return pd.DataFrame(out, index=pd.Index(np.asarray(homes["id"], dtype=object), name="home_id"))


def cover(distances, homes, preset: str | Preset, *, areas=None):
    """Population-weighted coverage per type × circle × area (and 全部必配): a DataFrame of the
    columns of coverage.csv. ``areas`` is an areas layer's path (polygons named 名称/name) or a
    sequence of each home's area name."""
    import pandas as pd

    from .coverage import coverage
    from .run import read_areas

    chosen = preset if isinstance(preset, Preset) else Preset.load(preset)
    if isinstance(areas, str | Path):
        lon = np.asarray(homes.geometry.x)
        lat = np.asarray(homes.geometry.y)
        areas = read_areas(str(areas)).assign(lon, lat)
    d = {t: np.asarray(distances[f"{t}_m"], dtype=float) for t in chosen.types if f"{t}_m" in distances}
    rows = coverage(d, np.asarray(homes["population"], dtype=float), chosen, areas=areas)
    label = Catalogue.load().label
    return pd.DataFrame([{"area": r.area, "type": r.type, "type_label": label(r.type), "circle": r.circle,
                          "reach_m": r.reach_m, "homes": r.homes, "covered_homes": r.covered_homes,
                          "population": r.population, "covered_population": r.covered_population, "rate": r.rate}
                         for r in rows])


def site(roads: RoadNetwork, homes, candidates, type_code: str, *, k: int, radius: float | None = None,
         preset: str | Preset | None = None, circle: int | None = None, existing=None, snap: str = "edge",
         method: str = "exact", time_limit: float = 60.0, max_snap: float = 500.0):
    """The k candidates (``read_sites``) bringing the most unserved people within reach of a type
    (``radius`` metres, or the preset's reach of the type in ``circle``), ``existing`` facilities
    kept: a GeoDataFrame of the chosen sites with ``rank`` and ``new_population_covered``; the
    objective, bound, gap and method are in its ``attrs``."""
    from . import siting

    code = Catalogue.load().resolve(type_code)
    if radius is None:
        chosen = preset if isinstance(preset, Preset) else Preset.load(preset)
        radius = chosen.reach(code, circle)
    net = roads.network
    hs = net.snap(_xy(homes), mode=snap, max_distance=max_snap)
    cover_ = siting.cover_matrix(net, net.snap(_xy(candidates), mode=snap, max_distance=max_snap), hs, radius)
    served = np.zeros(len(homes), dtype=bool)
    if existing is not None:
        mine = existing[existing["type"] == code]
        if len(mine):
            es = net.snap(_xy(mine), mode=snap, max_distance=max_snap)
            served = np.asarray(siting.cover_matrix(net, es, hs, radius).sum(axis=1)).ravel() > 0
    result = siting.solve(siting.demand(cover_, np.asarray(homes["population"], dtype=float), served), k,
                          method=method, time_limit=time_limit)
    chosen_sites = candidates.iloc[result.sites].copy()
    chosen_sites["rank"] = np.arange(1, len(result.sites) + 1)
    chosen_sites["new_population_covered"] = result.gains
    chosen_sites.attrs.update({"objective": result.objective, "bound": result.bound, "bound_kind": result.bound_kind,
                               "gap": result.gap, "method": result.method, "optimal": result.optimal,
                               "reach_m": float(radius)})
    return chosen_sites
