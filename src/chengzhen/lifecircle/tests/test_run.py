"""``chengzhen lifecircle run`` end to end on a small street grid near Hangzhou (GeoJSON, WGS84)
with facilities and homes in CSV (GCJ-02, as a web map gives them): homes.csv with distances equal
to networkx on the same projected network, the circles' 0/1 columns, coverage per area in CSV and
.xlsx; a refused run leaves the output folder as it was."""

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
    assert Image.open(png).size[0] > 500 and (tmp_path / "out" / f"map_{kg}.svg").read_text().count("<svg") == 1


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
