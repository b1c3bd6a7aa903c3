"""Road networks (路网) and amenities from a local OpenStreetMap ``.osm.pbf`` extract, offline.
Pure: no Django (pyrosm, NumPy, shapely).

Read with pyrosm (MIT, compiled wheels for Python 3.13 on PyPI); it is imported only when a file is
read, so the rest of the library does not pay for geopandas. Nothing is downloaded: only a local
file that ``layers.check_local`` accepts is opened.

Networks. ``mode`` picks pyrosm's predefined way filter, which follows OSMnx's ``walk`` / ``bike`` /
``drive`` and OSM's access hierarchy (docs/lifecircle.md, "Reading networks and layers"):

- every mode drops ``area=yes`` and ``highway`` = abandoned, construction, no, planned, platform,
  proposed, raceway, razed, rest_area, services;
- ``walking`` also drops cycleway, bus_guideway, motorway(_link), ``service=private`` and ways whose
  sidewalk is mapped separately (``sidewalk[:both|:left|:right]=separate``); closed by ``foot``, else
  ``access`` = no/private;
- ``cycling`` also drops footway, steps, corridor, elevator, escalator, bus_guideway, motorway(_link),
  ``service=private``; closed by ``bicycle``, else ``vehicle``, else ``access``;
- ``driving`` also drops footway, path, pedestrian, steps, track, trail, cycleway, bridleway,
  corridor, elevator, escalator, ladder, busway, bus_guideway and service roads; closed by
  ``motorcar``, else ``motor_vehicle``, else ``vehicle``, else ``access``.

One-way (``LineLayer.oneway``: +1 with the way's direction, −1 against it, 0 both):

- ``walking`` ignores one-way entirely: pedestrians may walk both ways on a one-way street;
- ``driving``: ``oneway`` = yes/true/1 → +1, −1/reverse → −1; ``highway=motorway`` and
  ``junction=roundabout|circular`` imply +1 unless ``oneway=no``; ``reversible``/``alternating``
  (direction by time of day) count as two-way, there being no timetable;
- ``cycling``: as driving, except that ``oneway:bicycle=no`` or a ``cycleway[:left|:right]`` of
  ``opposite``/``opposite_lane``/``opposite_track`` opens the way both ways (contraflow), and
  ``oneway:bicycle`` = yes/−1 sets the direction for cyclists.

Road class is the ``highway`` value. A way is one line through all its nodes; the network joins
lines where they share a vertex, so OSM's shared nodes become graph nodes. Ways whose geometry
could not be built (nodes cut off by the extract's boundary) are skipped; ``rows`` numbers the kept
ways 1, 2, … in pyrosm's order.

Amenities: every node, way or relation tagged with one of ``AMENITY_KEYS`` (and ``highway=bus_stop``,
``railway=station``) becomes one point — a node where it is, an area or line at its
``representative_point`` (a point inside it; computed on longitude/latitude, which for buildings
and parks is well inside the same shape in metres). Properties: ``id`` (the OSM id), ``osm_type``
(node/way/relation), ``name``, each tag key of ``AMENITY_KEYS`` (None where absent), ``osm_tag``
(the first ``key=value`` among them, in ``AMENITY_KEYS`` order, for the facility catalogue) and
``tags`` (every other tag as a dict).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import shapely

from chengzhen.problems import Problem, Refused

from .layers import LineLayer, PointLayer, check_local

Mode = Literal["walking", "cycling", "driving"]
MODES: tuple[str, ...] = ("walking", "cycling", "driving")

# The keys that make a point a candidate facility; the order decides ``osm_tag`` (the first present).
AMENITY_KEYS = ("amenity", "shop", "healthcare", "social_facility", "leisure", "public_transport",
                "highway", "railway", "station")
_AMENITY_FILTER = {"amenity": True, "shop": True, "healthcare": True, "social_facility": True, "leisure": True,
                   "public_transport": True, "highway": ["bus_stop"], "railway": ["station"]}

_YES = {"yes", "true", "1"}
_BACK = {"-1", "reverse"}
_CONTRAFLOW = {"opposite", "opposite_lane", "opposite_track", "opposite_share_busway"}
_WAY_TAGS = ["junction", "oneway:bicycle", "cycleway", "cycleway:left", "cycleway:right", "cycleway:both"]


def read_osm_network(path: str | Path, *, mode: Mode = "walking", display_name: str = "") -> LineLayer:
    """The road network of one travel mode from a local ``.osm.pbf`` extract (WGS84 lon/lat)."""
    name = display_name or Path(str(path)).name
    if mode not in MODES:
        reason = f"未知的出行方式 {mode!r}（可用：{'、'.join(MODES)}）"
        raise Refused([Problem(file=name, column="mode", reason=reason)])
    osm = _open(path, name)
    try:
        ways = osm.get_network(network_type=mode, extra_attributes=_WAY_TAGS)
    except Exception as exc:  # a corrupt extract may fail anywhere in the decoder
        raise Refused([Problem(file=name, reason=f"无法读取 OpenStreetMap 路网：{exc}")]) from None
    if ways is None or len(ways) == 0:
        raise Refused([Problem(file=name, reason=f"文件中没有可用于{_MODE_LABEL[mode]}的道路")])
    lines, oneway, classes, rows = [], [], [], []
    records = ways.drop(columns="geometry").to_dict("records")
    for k, (geom, rec) in enumerate(zip(ways.geometry.array, records, strict=True), start=1):
        if geom is None or geom.is_empty:
            continue
        tags = _way_tags(rec)
        direction = oneway_flag(tags, mode)
        road_class = str(tags.get("highway") or "")
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type != "LineString" or len(part.coords) < 2:
                continue
            lines.append(shapely.LineString(np.asarray(part.coords)[:, :2]))
            oneway.append(direction)
            classes.append(road_class)
            rows.append(k)
    if not lines:
        raise Refused([Problem(file=name, reason=f"文件中没有可用于{_MODE_LABEL[mode]}的道路")])
    return LineLayer(name, lines, np.array(oneway, dtype=np.int8), tuple(classes), np.array(rows, dtype=np.int64))


def read_osm_amenities(path: str | Path, *, display_name: str = "") -> PointLayer:
    """Amenities, shops, health care, leisure and public-transport stops from a local ``.osm.pbf``."""
    name = display_name or Path(str(path)).name
    osm = _open(path, name)
    try:
        pois = osm.get_pois(custom_filter=_AMENITY_FILTER)
    except Exception as exc:  # as above
        raise Refused([Problem(file=name, reason=f"无法读取 OpenStreetMap 设施点：{exc}")]) from None
    if pois is None or len(pois) == 0:
        raise Refused([Problem(file=name, reason="文件中没有设施点（amenity、shop、leisure 等标签）")])
    keys = ["id", "osm_type", "name", *AMENITY_KEYS, "osm_tag", "tags"]
    props: dict[str, list] = {k: [] for k in keys}
    lon, lat = [], []
    records = pois.drop(columns="geometry").to_dict("records")
    for geom, rec in zip(pois.geometry.array, records, strict=True):
        if geom is None or geom.is_empty:
            continue
        point = geom if geom.geom_type == "Point" else geom.representative_point()
        tags = _way_tags(rec)
        lon.append(point.x)
        lat.append(point.y)
        props["id"].append(int(rec["id"]))
        props["osm_type"].append(str(rec.get("osm_type") or ""))
        props["name"].append(tags.pop("name", None))
        for k in AMENITY_KEYS:
            props[k].append(tags.pop(k, None))
        props["osm_tag"].append(next((f"{k}={props[k][-1]}" for k in AMENITY_KEYS if props[k][-1]), None))
        props["tags"].append(tags)
    if not lon:
        raise Refused([Problem(file=name, reason="文件中没有设施点（amenity、shop、leisure 等标签）")])
    return PointLayer(name, np.array(lon, dtype=float), np.array(lat, dtype=float), props,
                      np.arange(1, len(lon) + 1))


def oneway_flag(tags: dict, mode: str) -> int:
    """The one-way flag of a way for a travel mode (+1, −1 or 0), from its OSM tags (module docstring)."""
    if mode == "walking":
        return 0
    value = str(tags.get("oneway") or "").strip().lower()
    if value in _YES:
        flag = 1
    elif value in _BACK:
        flag = -1
    elif value == "no":
        flag = 0
    else:
        implied = tags.get("highway") == "motorway" or tags.get("junction") in ("roundabout", "circular")
        flag = 1 if implied else 0
    if mode == "cycling":
        bike = str(tags.get("oneway:bicycle") or "").strip().lower()
        if bike == "no" or any(tags.get(k) in _CONTRAFLOW
                               for k in ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both")):
            return 0
        if bike in _YES:
            return 1
        if bike in _BACK:
            return -1
    return flag


_MODE_LABEL = {"walking": "步行", "cycling": "骑行", "driving": "驾车"}


def _open(path: str | Path, name: str):
    p = check_local(path, name)
    if not p.name.lower().endswith(".pbf"):
        raise Refused([Problem(file=name, reason="OpenStreetMap 数据应为 .osm.pbf 文件")])
    import pyrosm  # deferred: pulls in geopandas

    target = str(p.resolve())
    try:
        return pyrosm.OSM(target)
    except Exception as exc:  # pyrosm raises assorted errors for a file it cannot parse
        detail = str(exc).replace(target, name)  # the message names the file; keep server paths out of it
        raise Refused([Problem(file=name, reason=f"不是有效的 .osm.pbf 文件：{detail}")]) from None


def _way_tags(record: dict) -> dict:
    """A feature's OSM tags as one dict: pyrosm's tag columns plus its ``tags`` JSON (other keys)."""
    structural = {"id", "osm_type", "timestamp", "version", "changeset", "visible", "length", "lon", "lat", "tags"}
    tags = {k: v for k, v in record.items() if k not in structural and _present(v)}
    extra = record.get("tags")
    if isinstance(extra, str) and extra:
        try:
            parsed = json.loads(extra)
        except json.JSONDecodeError:
            parsed = {}
        for k, v in parsed.items():
            tags.setdefault(k, v)
    elif isinstance(extra, dict):
        for k, v in extra.items():
            tags.setdefault(k, v)
    return tags


def _present(value) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and np.isnan(value):
        return False
    return value != ""
