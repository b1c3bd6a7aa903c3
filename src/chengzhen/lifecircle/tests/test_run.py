"""``chengzhen lifecircle run`` end to end on a small street grid near Hangzhou (GeoJSON, WGS84)
with facilities and homes in CSV (GCJ-02, as a web map gives them): homes.csv with distances equal
to networkx on the same projected network, the circles' 0/1 columns, coverage per area in CSV and
.xlsx; a refused run leaves the output folder as it was — for every kind of bad input (empty
layers, wrong geometry types, a network away from the homes or the facilities, a preset naming an
unknown type, a park area that is not a number), each named by file and feature, exit 1."""

from __future__ import annotations

import csv
import io
import json

import networkx as nx
import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from chengzhen.lifecircle import crs
from chengzhen.lifecircle.catalogue import Catalogue

LON0, LAT0, STEP = 120.15, 30.28, 0.001  # a 1° grid of about 100 m blocks


def _grid(path, n=8):
    """Streets as OSM draws them: every crossing is a vertex both streets share."""
    feats = []
    for i in range(n):
        row = [[LON0 + k * STEP, LAT0 + i * STEP] for k in range(n)]
        col = [[LON0 + i * STEP, LAT0 + k * STEP] for k in range(n)]
        for coords in (row, col):
            feats.append({"type": "Feature", "properties": {"highway": "residential"},
                          "geometry": {"type": "LineString", "coordinates": coords}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return path


def _gcj(lon, lat):
    x, y = crs.wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    return float(x[0]), float(y[0])


def _tables(tmp_path):
    fac = ["id,type,lon,lat"]
    for k, (t, i, j) in enumerate([("幼儿园", 1, 1), ("幼儿园", 6, 6), ("小学", 3, 4)]):
        lon, lat = _gcj(LON0 + i * STEP, LAT0 + j * STEP)
        fac.append(f"F{k},{t},{lon:.8f},{lat:.8f}")
    homes = ["home_id,lon,lat,户数"]
    rng = np.random.default_rng(3)
    for k in range(40):  # on the streets: at a node, offset along a street
        i, j = rng.integers(0, 8, 2)
        lon, lat = _gcj(LON0 + i * STEP + (0.0003 if k % 2 else 0), LAT0 + j * STEP)
        homes.append(f"H{k},{lon:.8f},{lat:.8f},{10 + k}")
    (tmp_path / "f.csv").write_text("\n".join(fac) + "\n", encoding="utf-8-sig")
    (tmp_path / "h.csv").write_text("\n".join(homes) + "\n", encoding="utf-8-sig")


def _areas(path):
    half, w, e, s_, n_ = LON0 + 3.5 * STEP, LON0 - 0.01, LON0 + 0.02, LAT0 - 0.01, LAT0 + 0.02
    polys = [("西区", [[w, s_], [half, s_], [half, n_], [w, n_]]), ("东区", [[half, s_], [e, s_], [e, n_], [half, n_]])]
    feats = [{"type": "Feature", "properties": {"名称": n},
              "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]}} for n, ring in polys]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    return path


def _run(tmp_path, *extra):
    out = io.StringIO()
    call_command("lifecircle", "run", "--network", str(tmp_path / "net.geojson"),
                 "--facilities", str(tmp_path / "f.csv"), "--homes", str(tmp_path / "h.csv"), "--crs", "GCJ-02",
                 *extra, "-o", str(tmp_path / "out"), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_run_writes_homes_and_coverage(tmp_path):
    _grid(tmp_path / "net.geojson")
    _tables(tmp_path)
    _areas(tmp_path / "areas.geojson")
    said = _run(tmp_path, "--preset", "gb50180-2018", "--snap", "node", "--areas", str(tmp_path / "areas.geojson"))
    assert "已测算 40 处住宅" in said
    text = (tmp_path / "out" / "homes.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    kg = Catalogue.load().resolve("幼儿园")
    # the same distances from networkx on the same projected grid (node snap: nearest node)
    lon = np.array([LON0 + i * STEP for i in range(8) for _ in range(8)])
    lat = np.array([LAT0 + j * STEP for _ in range(8) for j in range(8)])
    metric = crs.metric_crs(lon, lat)
    x, y = crs.to_metric(lon, lat, "WGS84", metric)
    node = {(i, j): i * 8 + j for i in range(8) for j in range(8)}
    g = nx.Graph()
    for i in range(8):
        for j in range(8):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < 8 and j + dj < 8:
                    a, b = node[(i, j)], node[(i + di, j + dj)]
                    g.add_edge(a, b, weight=float(np.hypot(x[a] - x[b], y[a] - y[b])))
    dist = nx.multi_source_dijkstra_path_length(g, {node[(1, 1)], node[(6, 6)]}, weight="weight")
    homes = list(csv.DictReader(io.StringIO((tmp_path / "h.csv").read_text(encoding="utf-8-sig"))))
    hx, hy = crs.to_metric(np.array([float(h["lon"]) for h in homes]), np.array([float(h["lat"]) for h in homes]),
                           "GCJ-02", metric)
    for r, px, py in zip(rows, hx, hy, strict=True):
        nearest_node = int(np.argmin(np.hypot(x - px, y - py)))
        assert float(r[f"{kg}_m"]) == pytest.approx(dist[nearest_node], abs=0.01)
        assert r[f"{kg}_5"] == str(int(float(r[f"{kg}_m"]) <= 300))
    cov = list(csv.DictReader(io.StringIO((tmp_path / "out" / "coverage.csv").read_text(encoding="utf-8-sig"))))
    assert {c["area"] for c in cov} == {"全部", "东区", "西区"}
    ws = load_workbook(tmp_path / "out" / "coverage.xlsx").active
    assert ws["A1"].value == "生活圈覆盖率"
    from PIL import Image

    png = tmp_path / "out" / f"map_{kg}.png"
    with Image.open(png) as image:
        assert image.size[0] > 500
    assert (tmp_path / "out" / f"map_{kg}.svg").read_text().count("<svg") == 1


def test_a_refused_run_writes_nothing(tmp_path):
    _grid(tmp_path / "net.geojson")
    _tables(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("earlier")
    with pytest.raises(CommandError):
        _run(tmp_path, "--preset", "no-such-preset")
    with pytest.raises(CommandError):  # a missing homes file
        call_command("lifecircle", "run", "--network", str(tmp_path / "net.geojson"), "--facilities",
                     str(tmp_path / "f.csv"), "--homes", str(tmp_path / "missing.csv"), "--crs", "GCJ-02", "-o",
                     str(tmp_path / "out"), stdout=io.StringIO(), stderr=io.StringIO())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["keep.txt"]


# ---- bad input: refused naming the file and the feature, exit 1, the output folder untouched ----------

def _collection(path, geometries, props=None):
    feats = [{"type": "Feature", "properties": dict(props or {}, home_id=f"G{k}", 户数=10), "geometry": g}
             for k, g in enumerate(geometries)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def _gpkg(path, geoms, geometry_type):
    import shapely
    from pyogrio import raw

    wkb = shapely.to_wkb(np.array(geoms, dtype=object)) if geoms else np.array([], dtype=object)
    raw.write(str(path), wkb, [np.array([f"G{k}" for k in range(len(geoms))], dtype=object),
                               np.full(len(geoms), 10.0)], ["home_id", "户数"], layer="layer", driver="GPKG",
              geometry_type=geometry_type, crs="EPSG:4326")
    return path


def _shift(path, dlon):
    """The same table with every longitude moved by ``dlon`` degrees (another place)."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    lon = rows[0].index("lon")
    for r in rows[1:]:
        r[lon] = f"{float(r[lon]) + dlon:.8f}"
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")


POINT = {"type": "Point", "coordinates": [LON0, LAT0]}
LINE = {"type": "LineString", "coordinates": [[LON0, LAT0], [LON0 + STEP, LAT0]]}
BAD_PRESET = """\
code: bad
name: 有错的标准
sources: [测试]
circles:
  - minutes: 5
    mode: walk
    speed_m_per_min: 60
    facilities: [kindergarten, {type: 幼儿圆, radius_m: 300}]
"""


def _empty_network(p):
    _collection(p / "net.geojson", [])


def _empty_network_gpkg(p):
    _gpkg(p / "net.gpkg", [], "LineString")
    return {"--network": "net.gpkg"}


def _empty_facilities(p):
    (p / "f.csv").write_text("id,type,lon,lat\n", encoding="utf-8-sig")


def _empty_homes(p):
    _collection(p / "h.geojson", [])
    return {"--homes": "h.geojson"}


def _empty_areas(p):
    _collection(p / "a.geojson", [])
    return {"--areas": "a.geojson"}


def _points_as_network(p):
    _collection(p / "net.geojson", [POINT, POINT])


def _lines_as_homes(p):
    _collection(p / "h.geojson", [LINE])
    return {"--homes": "h.geojson"}


def _lines_as_homes_gpkg(p):
    import shapely

    _gpkg(p / "h.gpkg", [shapely.LineString([(LON0, LAT0), (LON0 + STEP, LAT0)])], "LineString")
    return {"--homes": "h.gpkg"}


def _points_as_areas(p):
    _collection(p / "a.geojson", [POINT])
    return {"--areas": "a.geojson"}


def _homes_elsewhere(p):
    _shift(p / "h.csv", 0.1)  # ≈10 km east of every street


def _facilities_elsewhere(p):
    _shift(p / "f.csv", -0.1)


def _unknown_type_in_preset(p):
    (p / "p.yaml").write_text(BAD_PRESET, encoding="utf-8")
    return {"--preset": "p.yaml"}


def _park_area_not_a_number(p):
    lines = (p / "f.csv").read_text(encoding="utf-8-sig").splitlines()
    lon, lat = _gcj(LON0 + 2 * STEP, LAT0 + 2 * STEP)
    rows = [lines[0] + ",面积", *(x + "," for x in lines[1:]), f"P1,社区公园,{lon:.8f},{lat:.8f},约3000"]
    (p / "f.csv").write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    return {"--preset": "gb50180-2018"}


BAD = [
    (_empty_network, ["net.geojson", "图层是空的"]),
    (_empty_network_gpkg, ["net.gpkg", "图层是空的"]),
    (_empty_facilities, ["f.csv", "点位表是空的"]),
    (_empty_homes, ["h.geojson", "图层是空的"]),
    (_empty_areas, ["a.geojson", "图层是空的"]),
    (_points_as_network, ["net.geojson:1:geometry: 道路图层应为线，不是 Point"]),
    (_lines_as_homes, ["h.geojson:1:geometry: 点图层应为点，不是 LineString"]),
    (_lines_as_homes_gpkg, ["h.gpkg:1:geometry: 点图层应为点，不是 LineString"]),
    (_points_as_areas, ["a.geojson:1:geometry: 区域图层应为面（Polygon），不是 Point"]),
    (_homes_elsewhere, ["h.csv: 路网与住宅不重叠", "net.geojson", "500 米以内", "--crs"]),
    (_facilities_elsewhere, ["f.csv: 路网与设施不重叠", "net.geojson"]),
    (_unknown_type_in_preset, ["p.yaml:8:circles.5.facilities[1].type:", "幼儿圆", "幼儿园（kindergarten）"]),
    (_park_area_not_a_number, ["f.csv:5:面积: 应为不小于 0 的数，不是 '约3000'"]),
]


@pytest.mark.parametrize(("spoil", "said"), BAD, ids=[f.__name__.strip("_") for f, _ in BAD])
def test_bad_input_is_refused_and_nothing_is_written(tmp_path, spoil, said):
    _grid(tmp_path / "net.geojson")
    _tables(tmp_path)
    _areas(tmp_path / "areas.geojson")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("earlier")
    given = {"--network": "net.geojson", "--facilities": "f.csv", "--homes": "h.csv", "--areas": "areas.geojson",
             "--preset": "gb50180-2018"}
    given.update(spoil(tmp_path) or {})
    shipped = given["--preset"] == "gb50180-2018"  # a shipped preset by name, the others are files here
    args = [x for k, v in given.items() for x in (k, v if k == "--preset" and shipped else str(tmp_path / v))]
    err = io.StringIO()
    with pytest.raises(CommandError, match="已拒绝") as refused:
        call_command("lifecircle", "run", *args, "--crs", "GCJ-02", "--no-maps", "-o", str(tmp_path / "out"),
                     stdout=io.StringIO(), stderr=err)
    assert refused.value.returncode == 1
    for text in said:
        assert text in err.getvalue()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]
    assert (tmp_path / "out" / "keep.txt").read_text() == "earlier"
    assert not list(tmp_path.glob(".lifecircle-*"))  # no temporary folder left beside it


def test_the_command_exits_1_when_the_network_misses_the_homes(tmp_path):
    import os
    import subprocess
    import sys

    _grid(tmp_path / "net.geojson")
    _tables(tmp_path)
    _homes_elsewhere(tmp_path)
    done = subprocess.run([sys.executable, "-m", "chengzhen.manage", "lifecircle", "run", "--network",
                           str(tmp_path / "net.geojson"), "--facilities", str(tmp_path / "f.csv"), "--homes",
                           str(tmp_path / "h.csv"), "--crs", "GCJ-02", "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, env=dict(os.environ), check=False)
    assert done.returncode == 1
    assert "h.csv: 路网与住宅不重叠：h.csv 中没有一处住宅在 net.geojson 的道路 500 米以内" in done.stderr
    assert not (tmp_path / "out").exists()
