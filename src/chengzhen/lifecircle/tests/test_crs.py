"""Coordinate systems: the public offset formulas against published pairs, round trips, refusals, metric projection.

Published pairs (WGS84 → GCJ-02) are those in googollee/eviltransform's tests (go/transform_test.go,
python/test.py: Shanghai, Shenzhen, Beijing) and the four conversions of the point (116.404, 39.915)
near 天安门 in wandergis/coordtransform's README.
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS, Geod, Transformer

from chengzhen.lifecircle import crs
from chengzhen.problems import Refused

# (wgs lon, wgs lat, gcj lon, gcj lat) — eviltransform's tests
EVILTRANSFORM = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]
# coordtransform README: each conversion applied to (116.404, 39.915)
TIANANMEN = (116.404, 39.915)
CT_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)  # public one-step inverse
CT_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
CT_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
CT_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)  # public one-step inverse


def _arrays(rows, *cols):
    return tuple(np.array([r[c] for r in rows]) for c in cols)


def test_wgs84_to_gcj02_matches_published_pairs():
    wlon, wlat, glon, glat = _arrays(EVILTRANSFORM, 0, 1, 2, 3)
    lon, lat = crs.wgs84_to_gcj02(wlon, wlat)
    assert np.max(np.abs(lon - glon)) < 1e-9 and np.max(np.abs(lat - glat)) < 1e-9
    lon, lat = crs.wgs84_to_gcj02(*TIANANMEN)
    assert abs(lon - CT_WGS84_TO_GCJ02[0]) < 1e-9 and abs(lat - CT_WGS84_TO_GCJ02[1]) < 1e-9


def test_gcj02_to_wgs84_inverts_exactly():
    wlon, wlat, glon, glat = _arrays(EVILTRANSFORM, 0, 1, 2, 3)
    lon, lat = crs.gcj02_to_wgs84(glon, glat)
    assert np.max(np.abs(lon - wlon)) < 1e-7 and np.max(np.abs(lat - wlat)) < 1e-7
    # the reference's one-step inverse is off by a few decimetres here; ours reproduces the input
    lon, lat = crs.gcj02_to_wgs84(*TIANANMEN)
    assert abs(lon - CT_GCJ02_TO_WGS84[0]) < 1e-5 and abs(lat - CT_GCJ02_TO_WGS84[1]) < 1e-5
    back = crs.wgs84_to_gcj02(lon, lat)
    assert abs(back[0] - TIANANMEN[0]) < 1e-9 and abs(back[1] - TIANANMEN[1]) < 1e-9


def test_bd09_matches_published_pairs():
    lon, lat = crs.gcj02_to_bd09(*TIANANMEN)
    assert abs(lon - CT_GCJ02_TO_BD09[0]) < 1e-9 and abs(lat - CT_GCJ02_TO_BD09[1]) < 1e-9
    # the public BD-09 inverse is good to about 2e-6°; ours refines it until the forward formula closes
    lon, lat = crs.bd09_to_gcj02(*TIANANMEN)
    assert abs(lon - CT_BD09_TO_GCJ02[0]) < 3e-6 and abs(lat - CT_BD09_TO_GCJ02[1]) < 3e-6
    back = crs.gcj02_to_bd09(lon, lat)
    assert abs(back[0] - TIANANMEN[0]) < 1e-9 and abs(back[1] - TIANANMEN[1]) < 1e-9


def test_round_trips_over_china():
    rng = np.random.default_rng(10)
    lon = rng.uniform(74, 135, 20_000)
    lat = rng.uniform(18, 53, 20_000)
    for forward, inverse in ((crs.wgs84_to_gcj02, crs.gcj02_to_wgs84), (crs.gcj02_to_bd09, crs.bd09_to_gcj02),
                             (crs.wgs84_to_bd09, crs.bd09_to_wgs84)):
        blon, blat = inverse(*forward(lon, lat))
        assert np.max(np.abs(blon - lon)) < 1e-6 and np.max(np.abs(blat - lat)) < 1e-6, forward.__name__
        blon, blat = forward(*inverse(lon, lat))
        assert np.max(np.abs(blon - lon)) < 1e-6 and np.max(np.abs(blat - lat)) < 1e-6, inverse.__name__


def test_out_of_china_box():
    assert list(crs.out_of_china([116.4, 24.94, 2.35, np.nan], [39.9, 60.17, 48.85, 30.0])) == [False, True, True, True]


def test_offset_point_outside_china_refused_with_file_row_and_columns():
    where = crs.Where(file="shops.csv", lon_column="经度", lat_column="纬度", rows=[2, 3, 4])
    with pytest.raises(Refused) as info:
        crs.to_wgs84([116.4, 24.94, 121.47], [39.9, 60.17, 31.23], "高德", where)
    [problem] = info.value.problems
    assert (problem.file, problem.row, problem.column) == ("shops.csv", 3, "经度/纬度")
    assert "GCJ-02" in problem.reason and "中国范围之外" in problem.reason
    with pytest.raises(Refused, match="BD-09"):
        crs.bd09_to_wgs84(24.94, 60.17)
    # WGS84 outside China is fine: no offset to remove
    lon, lat = crs.to_wgs84([24.94], [60.17], "EPSG:4326")
    assert lon[0] == 24.94 and lat[0] == 60.17


def test_swapped_columns_refused():
    where = crs.Where(file="homes.xlsx", lon_column="lon", lat_column="lat")
    with pytest.raises(Refused) as info:
        crs.to_wgs84([30.25, 30.27], [120.15, 120.17], "WGS84", where)
    [problem] = info.value.problems
    assert problem.file == "homes.xlsx" and "'lon'" in problem.reason and "'lat'" in problem.reason
    assert "互换" in problem.reason
    with pytest.raises(Refused, match="互换"):
        crs.to_wgs84([30.25, 10.0], [120.15, 170.0], "GCJ-02", where)  # latitude beyond 90°
    with pytest.raises(Refused, match="不是经纬度") as info:
        crs.to_wgs84([120.1, 500_000.0], [30.2, 3_300_000.0], "WGS84", where)
    assert info.value.problems[0].row == 2
    # one point the right way round is enough evidence against a swap (the other lies at 80°N, 40°E)
    crs.to_wgs84([40.0, 120.15], [80.0, 30.25], "WGS84", where)


def test_missing_coordinates_refused():
    with pytest.raises(Refused, match="坐标缺失") as info:
        crs.to_wgs84([120.1, np.nan], [30.2, 30.3], "GCJ-02", crs.Where(file="a.csv", rows=[7, 8]))
    assert info.value.problems[0].row == 8


def test_declarations():
    assert crs.declared("火星坐标").system == crs.GCJ02_SYSTEM
    assert crs.declared("腾讯").system == crs.GCJ02_SYSTEM
    assert crs.declared("gcj-02").system == crs.GCJ02_SYSTEM
    assert crs.declared("百度").system == crs.BD09_SYSTEM
    assert crs.declared("BD09").offset
    assert crs.declared("EPSG:4326").system == crs.WGS84_SYSTEM
    assert crs.declared("wgs 84").system == crs.WGS84_SYSTEM
    assert crs.declared("4490").system == crs.CGCS2000_SYSTEM
    assert crs.declared("CGCS2000").system == crs.CGCS2000_SYSTEM
    d = crs.declared("EPSG:4549")  # CGCS2000 / 3-degree Gauss-Kruger CM 120E
    assert d.system == crs.OTHER_SYSTEM and d.crs.is_projected and d.label == "EPSG:4549"
    for text in ("", "   ", "mars", "EPSG:999999", "bd09mc"):
        with pytest.raises(Refused) as info:
            crs.declared(text, file="homes.gpkg")
        assert info.value.problems[0].file == "homes.gpkg"
    with pytest.raises(Refused, match="'mars'"):
        crs.declared("mars")


def test_cgcs2000_treated_as_wgs84_and_projected_input_converted():
    lon, lat = crs.to_wgs84([120.15], [30.25], "EPSG:4490")
    assert (lon[0], lat[0]) == (120.15, 30.25)
    x, y = Transformer.from_crs(4326, 4549, always_xy=True).transform(120.15, 30.25)
    lon, lat = crs.to_wgs84([x], [y], "EPSG:4549")
    assert abs(lon[0] - 120.15) < 1e-6 and abs(lat[0] - 30.25) < 1e-6
    with pytest.raises(Refused, match="都像经纬度"):
        crs.to_wgs84([120.15], [30.25], "EPSG:4549")


def test_metric_crs_is_utm_of_the_area():
    assert crs.metric_crs([120.1, 120.3], [30.2, 30.3]) == CRS.from_epsg(32651)  # Hangzhou
    assert crs.metric_crs([24.93, 24.96], [60.16, 60.18]) == CRS.from_epsg(32635)  # Helsinki
    assert crs.metric_crs([-43.2], [-22.9]) == CRS.from_epsg(32723)  # Rio de Janeiro
    with pytest.raises(Refused, match="分区"):
        crs.metric_crs([75.0, 130.0], [30.0, 40.0], file="china.gpkg")


@pytest.mark.parametrize("lon0, lat0", [(120.15, 30.25), (117.4, 39.1), (122.95, 29.0), (24.94, 60.17)])
def test_metric_distances_match_geodesics(lon0, lat0):
    rng = np.random.default_rng(5)
    lon = lon0 + rng.uniform(-0.3, 0.3, 400)
    lat = lat0 + rng.uniform(-0.2, 0.2, 400)
    x, y = crs.to_metric(lon, lat, "WGS84")
    geod = Geod(ellps="WGS84")
    i, j = rng.integers(0, 400, 1000), rng.integers(0, 400, 1000)
    keep = i != j
    i, j = i[keep], j[keep]
    *_, true = geod.inv(lon[i], lat[i], lon[j], lat[j])
    planar = np.hypot(x[i] - x[j], y[i] - y[j])
    assert np.max(np.abs(planar / true - 1)) < 0.005


def test_to_metric_from_gcj02_lands_on_the_wgs84_point():
    wlon, wlat, glon, glat = _arrays(EVILTRANSFORM[:1], 0, 1, 2, 3)
    metric = crs.metric_crs(wlon, wlat)
    x1, y1 = crs.to_metric(glon, glat, "GCJ-02", metric)
    x2, y2 = crs.to_metric(wlon, wlat, "WGS84", metric)
    assert np.hypot(x1 - x2, y1 - y2)[0] < 0.01
