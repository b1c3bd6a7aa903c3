"""The measurement: hand-made graphs with known answers, node snapping equal to networkx, edge
snapping equal to a brute-force networkx graph with every point inserted into its edge."""

from collections import defaultdict

import networkx as nx
import numpy as np
import pytest
import shapely
from shapely import LineString

from chengzhen.lifecircle.measure import measure_all, nearest, nearest_all, within
from chengzhen.lifecircle.network import Network


def _measure(net, fac, homes, mode="edge", **kw):
    return nearest(net, net.snap(fac, mode=mode, max_distance=kw.pop("max_distance", None)),
                   net.snap(homes, mode=mode), **kw)


def test_a_line_home_and_facility_on_the_same_edge():
    net = Network.from_lines([LineString([(0, 0), (10, 0)])])
    r = _measure(net, [[2, 1], [9, 5]], [[7, 2]])
    assert r.distance[0] == pytest.approx(1 + 5 + 2)  # direct along the edge, both connectors
    assert r.facility[0] == 0


def test_same_edge_prefers_a_farther_facility_with_a_shorter_connector():
    net = Network.from_lines([LineString([(0, 0), (100, 0)])])
    r = _measure(net, [[12, 50], [40, 0], [0, 30]], [[10, 0]])
    assert r.distance[0] == pytest.approx(30) and r.facility[0] == 1


def test_a_t_through_the_junction():
    net = Network.from_lines([LineString([(0, 0), (10, 0), (20, 0)]), LineString([(10, 0), (10, 10)])])
    r = _measure(net, [[2, -1]], [[15, 1], [10, 8]])
    np.testing.assert_allclose(r.distance, [1 + 8 + 5 + 1, 1 + 8 + 8])


def test_a_square_with_a_one_way_side():
    # Square 0..10; the bottom side runs east only (0,0) -> (10,0).
    sides = [LineString([(0, 0), (10, 0)]), LineString([(10, 0), (10, 10)]),
             LineString([(10, 10), (0, 10)]), LineString([(0, 10), (0, 0)])]
    net = Network.from_lines(sides, oneway=[1, 0, 0, 0])
    fac, home = [[8, 0]], [[2, 0]]
    to = _measure(net, fac, home)
    assert to.distance[0] == pytest.approx(6)  # with the one-way along the edge
    back = _measure(net, home, fac)
    assert back.distance[0] == pytest.approx(2 + 10 + 10 + 10 + 2)  # on to (10, 0), round the other three sides
    frm = _measure(net, fac, home, direction="from_facility")
    assert frm.distance[0] == pytest.approx(back.distance[0])
    # Facility on the one-way side, home on the left side: enter only from (0, 0).
    r = _measure(net, fac, [[0, 5]])
    assert r.distance[0] == pytest.approx(5 + 8)


def test_two_fragments_the_empty_one_is_reported_unreached():
    net = Network.from_lines([LineString([(0, 0), (10, 0)]), LineString([(100, 0), (110, 0)])])
    r = _measure(net, [[1, 0]], [[5, 0], [105, 0]])
    assert r.distance[0] == pytest.approx(4) and np.isinf(r.distance[1])
    assert r.facility.tolist() == [0, -1]
    assert r.fragment[0] != r.fragment[1] and r.fragment.min() >= 0


def test_points_beyond_max_distance_are_flagged_and_never_reach():
    net = Network.from_lines([LineString([(0, 0), (10, 0)])])
    homes = net.snap([[5, 1], [5, 80]], max_distance=50)
    fac = net.snap([[1, 0], [9, 60]], max_distance=50)
    r = nearest(net, fac, homes)
    assert r.far.tolist() == [False, True] and r.fragment[1] == -1
    assert r.distance[0] == pytest.approx(5) and r.facility[0] == 0 and np.isinf(r.distance[1])


def test_limit_counts_the_connectors():
    net = Network.from_lines([LineString([(0, 0), (100, 0)])])
    r = _measure(net, [[0, 0]], [[50, 10], [45, 0]], limit=55)
    assert np.isinf(r.distance[0]) and r.facility[0] == -1
    assert r.distance[1] == pytest.approx(45)


def test_coincident_ends_within_tolerance_are_one_road():
    net = Network.from_lines([LineString([(0, 0), (10, 0)]), LineString([(10.0004, 0), (20, 0)])])
    r = _measure(net, [[1, 0]], [[19, 0]])
    assert r.distance[0] == pytest.approx(18, abs=1e-3)


# --- random planar graph: a jittered grid drawn as long row and column lines ---------------------

def jittered_grid(n=30, spacing=50.0, seed=7, drop=0.1, oneway_share=0.0):
    rng = np.random.default_rng(seed)
    xy = np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"), -1) * spacing
    xy = xy + rng.uniform(-0.3, 0.3, xy.shape) * spacing
    lines = []
    for i in range(n):  # rows and columns as multi-vertex lines, split where they meet
        lines.append(LineString(xy[i, :]))
        lines.append(LineString(xy[:, i]))
    # Short pieces, some of them removed: dead ends and irregular blocks.
    for _ in range(int(drop * n * n)):
        i, j = rng.integers(0, n - 1, 2)
        lines.append(LineString([xy[i, j], xy[i + 1, j + 1]]))  # diagonals through two grid vertices
    oneway = np.where(rng.random(len(lines)) < oneway_share, rng.choice([-1, 1], len(lines)), 0)
    return lines, oneway, rng


def _nx_reference_graph(lines, oneway):
    """Directed networkx graph from the lines' own segments, nodes keyed by rounded coordinates."""
    g = nx.DiGraph()
    for line, ow in zip(lines, oneway, strict=True):
        c = np.round(shapely.get_coordinates(line), 3)
        for a, b in zip(map(tuple, c[:-1]), map(tuple, c[1:]), strict=True):
            w = float(np.hypot(*np.subtract(a, b)))
            for s, t in ([(a, b)] if ow == 1 else [(b, a)] if ow == -1 else [(a, b), (b, a)]):
                if not g.has_edge(s, t) or g[s][t]["weight"] > w:
                    g.add_edge(s, t, weight=w)
    return g


def test_node_snap_equals_networkx_multi_source_dijkstra():
    lines, oneway, rng = jittered_grid(oneway_share=0.0)
    net = Network.from_lines(lines)
    fac = rng.uniform(0, 1450, (25, 2))
    homes = rng.uniform(0, 1450, (400, 2))
    r = nearest(net, net.snap(fac, mode="node"), net.snap(homes, mode="node"))
    g = _nx_reference_graph(lines, oneway)
    keys = np.array(list(g.nodes))
    near = lambda p: tuple(keys[np.argmin(np.hypot(*(keys - p).T))])  # noqa: E731
    fac_nodes = [near(p) for p in fac]
    dist, paths = nx.multi_source_dijkstra(g, set(fac_nodes))
    fac_of = {}
    for k, node in enumerate(fac_nodes):
        fac_of.setdefault(node, k)
    for h, p in enumerate(homes):
        node = near(p)
        assert r.distance[h] == pytest.approx(dist[node], abs=0.01)
        ref = fac_of[paths[node][0]]
        if r.facility[h] != ref:  # an exact tie: the same distance to both
            alt = nx.dijkstra_path_length(g, node, fac_nodes[r.facility[h]])
            assert alt == pytest.approx(dist[node], abs=0.01)


def _brute_force_edge(net, fac, homes, direction="to_facility"):
    """Every snapped point inserted as a node splitting its edge, joined by its connector."""
    g = nx.DiGraph()
    on_edge = defaultdict(list)
    for tag, snaps in (("f", fac), ("h", homes)):
        for k in range(len(snaps)):
            if not snaps.far[k]:
                on_edge[int(snaps.edge[k])].append((float(snaps.off_u[k]), (tag, k)))
                g.add_edge((tag, k), ("p", tag, k), weight=float(snaps.connector[k]))
                g.add_edge(("p", tag, k), (tag, k), weight=float(snaps.connector[k]))
    for e in range(net.n_edges):
        pts = sorted(on_edge.get(e, []))
        chain = [(0.0, ("n", int(net.u[e])))] + [(s, ("p",) + who) for s, who in pts] + \
                [(float(net.length[e]), ("n", int(net.v[e])))]
        for (s1, a), (s2, b) in zip(chain[:-1], chain[1:], strict=True):
            for x, y in ([(a, b)] if net.oneway[e] else [(a, b), (b, a)]):
                if x != y and (not g.has_edge(x, y) or g[x][y]["weight"] > s2 - s1):
                    g.add_edge(x, y, weight=s2 - s1)
    if direction == "to_facility":
        g = g.reverse()
    sources = {("f", k) for k in range(len(fac)) if not fac.far[k]}
    dist = nx.multi_source_dijkstra_path_length(g, sources)
    return np.array([dist.get(("h", k), np.inf) for k in range(len(homes))])


@pytest.mark.parametrize("direction", ["to_facility", "from_facility"])
@pytest.mark.parametrize("oneway_share", [0.0, 0.3])
def test_edge_snap_equals_the_brute_force_reference(direction, oneway_share):
    lines, oneway, rng = jittered_grid(n=20, oneway_share=oneway_share, seed=11)
    net = Network.from_lines(lines, oneway=oneway)
    fac = net.snap(rng.uniform(-40, 1000, (30, 2)), max_distance=40)
    homes_xy = rng.uniform(-40, 1000, (500, 2))
    # Some homes on facility edges: the same-edge shortcut, on two-way and one-way edges.
    on = net.geometry[fac.edge[~fac.far][:10]]
    homes_xy[:10] = shapely.get_coordinates(shapely.line_interpolate_point(on, 0.3, normalized=True))
    homes = net.snap(homes_xy, max_distance=40)
    assert fac.far.any() and homes.far.any()
    r = nearest(net, fac, homes, direction=direction)
    ref = _brute_force_edge(net, fac, homes, direction)
    np.testing.assert_allclose(r.distance, ref, atol=0.01)
    assert np.isinf(ref).sum() == np.isinf(r.distance).sum()
    # The named facility really is at that distance.
    got = np.flatnonzero(r.facility >= 0)
    for h in got[:40]:
        one = nearest(net, _subset(fac, [r.facility[h]]), _subset(homes, [h]), direction=direction)
        assert one.distance[0] == pytest.approx(r.distance[h], abs=0.01)


def _subset(snaps, idx):
    return type(snaps)(snaps.mode, *(getattr(snaps, f)[idx] for f in
                                     ("edge", "node", "u", "v", "off_u", "off_v", "connector", "oneway", "far")))


def test_measure_all_is_deterministic_and_gives_the_columns():
    lines, oneway, rng = jittered_grid(n=15, oneway_share=0.2, seed=5)
    net = Network.from_lines(lines, oneway=oneway)
    homes = rng.uniform(0, 700, (300, 2))
    facs = {"kindergarten": rng.uniform(0, 700, (5, 2)), "school": rng.uniform(0, 700, (2, 2))}
    a = measure_all(net, facs, homes, limit=600, max_distance=100)
    b = measure_all(Network.from_lines(lines, oneway=oneway), facs, homes, limit=600, max_distance=100)
    assert list(a) == ["fragment", "far", "kindergarten_m", "kindergarten_id", "school_m", "school_id"]
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert np.all(a["kindergarten_m"][np.isfinite(a["kindergarten_m"])] <= 600)
    frame = measure_all(net, facs, homes, snap="node", as_frame=True)
    assert frame.shape == (300, 6) and frame["school_id"].dtype == np.int64


@pytest.mark.parametrize("snap", ["edge", "node"])
@pytest.mark.parametrize("direction", ["to_facility", "from_facility"])
def test_nearest_all_gives_what_nearest_gives_type_by_type(snap, direction):
    lines, oneway, rng = jittered_grid(n=20, oneway_share=0.3, seed=13)
    net = Network.from_lines(lines, oneway=oneway)
    homes = net.snap(rng.uniform(-40, 1000, (800, 2)), mode=snap, max_distance=40)
    facs = {f"t{k}": net.snap(rng.uniform(-40, 1000, (c, 2)), mode=snap, max_distance=40)
            for k, c in enumerate([1, 3, 12, 40])}
    facs["none_near"] = net.snap([[5000.0, 5000.0]], mode=snap, max_distance=40)  # a type with no usable facility
    together = nearest_all(net, facs, homes, limit=700, direction=direction)
    assert list(together) == list(facs)
    for kind, fac in facs.items():
        alone = nearest(net, fac, homes, limit=700, direction=direction)
        for field in ("distance", "facility", "fragment", "far"):
            np.testing.assert_array_equal(getattr(together[kind], field), getattr(alone, field))
    assert np.isinf(together["none_near"].distance).all()
    with pytest.raises(ValueError):
        nearest_all(net, facs, homes, direction="sideways")


def test_from_arrays_measures_as_the_same_straight_lines_do():
    rng = np.random.default_rng(21)
    n = 25
    xy = (np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"), -1) * 50.0
          + rng.uniform(-15, 15, (n, n, 2))).reshape(-1, 2)
    idx = np.arange(n * n).reshape(n, n)
    u = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    v = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    oneway = rng.choice([-1, 0, 0, 1], len(u))
    arrays = Network.from_arrays(xy[:, 0], xy[:, 1], u, v, oneway=oneway)
    lines = Network.from_lines([LineString([xy[a], xy[b]]) for a, b in zip(u, v, strict=True)], oneway=oneway)
    homes = rng.uniform(-30, 1250, (1000, 2))
    facs = {"a": rng.uniform(0, 1200, (4, 2)), "b": rng.uniform(0, 1200, (30, 2))}
    for snap in ("edge", "node"):
        got = measure_all(arrays, facs, homes, snap=snap, limit=900, max_distance=50)
        ref = measure_all(lines, facs, homes, snap=snap, limit=900, max_distance=50)
        for k in ("a", "b"):
            np.testing.assert_allclose(got[f"{k}_m"], ref[f"{k}_m"], rtol=0, atol=1e-9)
            np.testing.assert_array_equal(got[f"{k}_id"], ref[f"{k}_id"])
        np.testing.assert_array_equal(got["far"], ref["far"])


def test_within_is_the_circle_mask():
    d = np.array([0.0, 300.0, 300.1, np.inf])
    assert within(d, 5, 60).tolist() == [True, True, False, False]
