"""The layers of a study's interactive map as GeoJSON (WGS84, coordinates to 6 decimals — about
0.1 m), read from a run's folder: ``lifecircle.gpkg`` (homes, facilities, gaps, areas) through
pyogrio's raw reader (arrays, no GeoDataFrame), ``siting/sites.gpkg`` and ``roads.geojson``. Pure: no
Django.

Homes carry only what the map needs: id, population and per measured type
``[distance m, minutes, nearest facility id, smallest circle covering the home or null]`` — the
circle by the same rule as the ``<type>_<minutes>`` columns (and the PNG maps' ``circle_class``).
Up to ``FEATURE_LIMIT`` homes this is one Feature per home; beyond it the layer is a single
MultiPoint Feature whose properties are arrays in the points' order (a third smaller, parsed at
once), still valid GeoJSON. ``homes_file`` keeps it as a file in the run's folder (hidden
``.map/``), written by the job and served as is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

GPKG = "lifecircle.gpkg"
SITES_GPKG = "siting/sites.gpkg"
ROADS = "roads.geojson"
CACHE = ".map"  # hidden: the homes layer as served, not an output file
FEATURE_LIMIT = 20_000
LAYERS = ("homes", "facilities", "gaps", "areas", "roads", "sites")


def _read(path: Path, layer: str, columns: Sequence[str] | None = None):
    """(field name → array, shapely geometries) of one layer."""
    import shapely
    from pyogrio import raw

    meta, _fids, geometry, fields = raw.read(str(path), layer=layer, columns=columns)
    names = list(meta["fields"])
    return dict(zip(names, fields, strict=True)), shapely.from_wkb(geometry)


def _xy(geoms) -> np.ndarray:
    import shapely

    return np.round(shapely.get_coordinates(geoms), 6)


def _num(v, digits: int = 2):
    if v is None:
        return None
    x = float(v)
    return round(x, digits) if math.isfinite(x) else None


def _text(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _numbers(values, digits: int = 2) -> list:
    """A column as Python numbers rounded to ``digits``, None where blank (whole arrays at once)."""
    v = np.asarray(values, dtype=float)
    out = np.round(v, digits).astype(object)
    out[~np.isfinite(v)] = None
    return out.tolist()


def _texts(values) -> list:
    return [None if v is None else str(v) for v in np.asarray(values, dtype=object).tolist()]


def homes(folder: Path, types: Sequence[str], circles: Sequence[int]) -> dict:
    """The homes layer (module docstring)."""
    available = set(_field_names(folder / GPKG, "homes"))
    types = [t for t in types if f"{t}_m" in available]
    wanted = ["home_id", "population"]
    for t in types:
        wanted += [f"{t}_m", f"{t}_min", f"{t}_id"] + [f"{t}_{m}" for m in circles if f"{t}_{m}" in available]
    fields, geoms = _read(folder / GPKG, "homes", wanted)
    xy = _xy(geoms)
    n = len(xy)
    ids = _texts(fields["home_id"])
    pop = _numbers(fields["population"])
    per_type = {}
    for t in types:
        circle = np.full(n, -1, dtype=np.int64)
        for m in sorted(circles, reverse=True):  # the smallest covering circle wins
            column = fields.get(f"{t}_{m}")
            if column is not None:
                circle[np.asarray(column).astype(np.int64) == 1] = m
        smallest = circle.astype(object)
        smallest[circle < 0] = None
        per_type[t] = list(map(list, zip(_numbers(fields[f"{t}_m"]), _numbers(fields[f"{t}_min"]),
                                         _texts(fields[f"{t}_id"]), smallest.tolist(), strict=True)))
    if n <= FEATURE_LIMIT:
        feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": xy[i].tolist()},
                  "properties": {"id": ids[i], "population": pop[i], **{t: per_type[t][i] for t in types}}}
                 for i in range(n)]
    else:
        feats = [{"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": xy.tolist()},
                  "properties": {"id": ids, "population": pop, **per_type}}]
    return {"type": "FeatureCollection", "types": types, "features": feats}


def homes_file(folder: Path, types: Sequence[str], circles: Sequence[int]) -> Path:
    """The homes layer written once per run folder (a run's folder never changes afterwards):
    reading 100,000 homes of 12 types from the GeoPackage takes seconds, serving the file does not."""
    import os
    import uuid

    from pyogrio import read_info

    count = int(read_info(str(folder / GPKG), layer="homes")["features"])
    path = folder / CACHE / f"homes-{'arrays' if count > FEATURE_LIMIT else 'features'}.geojson"
    if not path.is_file():
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")  # two first readers at once each write their own
        tmp.write_text(json.dumps(homes(folder, types, circles), separators=(",", ":"), ensure_ascii=False),
                       encoding="utf-8")
        os.replace(tmp, path)
    return path


def gzipped(path: Path, folder: Path) -> Path:
    """``path`` compressed once into the run's hidden ``.map/`` (what a browser that accepts gzip is
    sent): compressing 30 MB of homes on every page view would cost the server seconds each time."""
    import gzip
    import os
    import shutil
    import uuid

    target = folder / CACHE / f"{path.name}.gz"
    if not target.is_file() or target.stat().st_mtime < path.stat().st_mtime:
        target.parent.mkdir(exist_ok=True)
        tmp = target.with_name(f".{uuid.uuid4().hex}.tmp")
        with path.open("rb") as src, gzip.open(tmp, "wb", compresslevel=6) as out:
            shutil.copyfileobj(src, out, 1 << 20)
        os.replace(tmp, target)
    return target


def _field_names(path: Path, layer: str) -> list[str]:
    from pyogrio import read_info

    return list(read_info(str(path), layer=layer)["fields"])


def _points(path: Path, layer: str, columns: Sequence[str], numbers: Sequence[str] = (), **filters) -> dict:
    fields, geoms = _read(path, layer, list(columns))
    xy = _xy(geoms)
    keep = np.ones(len(xy), dtype=bool)
    for name, value in filters.items():
        if value not in (None, ""):
            keep &= np.array([str(v) == str(value) for v in fields[name]], dtype=bool)
    feats = []
    for i in np.flatnonzero(keep).tolist():
        props = {c: (_num(fields[c][i]) if c in numbers else _text(fields[c][i])) for c in columns}
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": xy[i].tolist()},
                      "properties": props})
    return {"type": "FeatureCollection", "features": feats}


def facilities(folder: Path) -> dict:
    return _points(folder / GPKG, "facilities", ["id", "type", "type_label"])


def gaps(folder: Path, type_code: str = "", circle: str = "") -> dict:
    """Home × circle × type not covered; ``type_code`` and ``circle`` filter."""
    return _points(folder / GPKG, "gaps", ["home_id", "type", "type_label", "circle", "distance_m", "population"],
                   numbers=("circle", "distance_m", "population"), type=type_code, circle=circle)


def sites(folder: Path) -> dict:
    out = _points(folder / SITES_GPKG, "sites", ["site_id", "rank", "new_population_covered"],
                  numbers=("rank", "new_population_covered"))
    for f in out["features"]:
        f["properties"]["rank"] = int(f["properties"]["rank"])
    return out


def areas(folder: Path) -> dict:
    import shapely

    fields, geoms = _read(folder / GPKG, "areas")
    feats = []
    for i, g in enumerate(geoms):
        g = shapely.transform(g, lambda c: np.round(c, 6))
        props = {k: (_text(v[i]) if k == "name" else _num(v[i], 4)) for k, v in fields.items()}
        feats.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(g)), "properties": props})
    return {"type": "FeatureCollection", "features": feats}


def available(folder: Path) -> list[str]:
    """The layers this run has."""
    out = []
    if (folder / GPKG).is_file():
        from pyogrio import list_layers

        out += [str(name) for name, _kind in list_layers(str(folder / GPKG)) if name in LAYERS]
    if (folder / ROADS).is_file():
        out.append("roads")
    if (folder / SITES_GPKG).is_file():
        out.append("sites")
    return out
