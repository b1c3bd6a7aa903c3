"""The road network: nodes, edges, tolerance, one-way, fragments and snapping, on hand-made lines."""

import numpy as np
import pytest
import shapely
from shapely import LineString, MultiLineString, Point

from chengzhen.lifecircle.network import TOLERANCE_M, Network
from chengzhen.problems import Refused


def _node(net, x, y):
    hit = np.flatnonzero((np.abs(net.x - x) < 1e-6) & (np.abs(net.y - y) < 1e-6))
    assert len(hit) == 1, (x, y)
    return int(hit[0])


def test_a_line_is_one_edge_between_its_ends():
    net = Network.from_lines([LineString([(0, 0), (3, 4), (3, 10)])])
    assert net.n_nodes == 2 and net.n_edges == 1
    assert net.length[0] == pytest.approx(11.0)
    assert net.n_fragments == 1


def test_a_t_splits_the_bar_at_the_shared_vertex():
    net = Network.from_lines([LineString([(0, 0), (10, 0), (20, 0)]), LineString([(10, 0), (10, 10)])])
    assert net.n_nodes == 4 and net.n_edges == 3
    mid = _node(net, 10, 0)
    assert sorted(np.bincount(np.concatenate([net.u, net.v]))) == [1, 1, 1, 3]
    assert np.bincount(np.concatenate([net.u, net.v]))[mid] == 3
    np.testing.assert_allclose(sorted(net.length), [10, 10, 10])


def test_lines_crossing_without_a_shared_vertex_do_not_join():
    net = Network.from_lines([LineString([(0, 0), (10, 0)]), LineString([(5, -5), (5, 5)])])
    assert net.n_nodes == 4 and net.n_edges == 2 and net.n_fragments == 2


def test_coincident_ends_within_the_tolerance_join_and_beyond_do_not():
    assert TOLERANCE_M == 0.001
    near = Network.from_lines([LineString([(0, 0), (10, 0)]), LineString([(10.0004, 0), (20, 0)])])
    assert near.n_nodes == 3 and near.n_fragments == 1
    apart = Network.from_lines([LineString([(0, 0), (10, 0)]), LineString([(10.002, 0), (20, 0)])])
    assert apart.n_nodes == 4 and apart.n_fragments == 2


def test_two_fragments_are_labelled():
    net = Network.from_lines([LineString([(0, 0), (10, 0)]), LineString([(10, 0), (10, 10)]),
                              LineString([(100, 0), (110, 0)])])
    assert net.n_fragments == 2
    assert net.fragment[_node(net, 0, 0)] == net.fragment[_node(net, 10, 10)]
    assert net.fragment[_node(net, 0, 0)] != net.fragment[_node(net, 100, 0)]


def test_one_way_forward_backward_and_both():
    lines = [LineString([(0, 0), (10, 0)]), LineString([(10, 0), (10, 10)]), LineString([(10, 10), (0, 10)])]
    net = Network.from_lines(lines, oneway=[1, -1, 0])
    g = net.graph.toarray()
    a, b, c, d = _node(net, 0, 0), _node(net, 10, 0), _node(net, 10, 10), _node(net, 0, 10)
    assert g[a, b] == 10 and g[b, a] == 0  # forward only
    assert g[c, b] == 10 and g[b, c] == 0  # against the digitised direction only
    assert g[c, d] == 10 and g[d, c] == 10
    np.testing.assert_array_equal(net.reverse.toarray(), g.T)
    backward = int(np.flatnonzero(net.line == 1)[0])
    assert net.u[backward] == c and net.v[backward] == b  # stored reversed: one-way edges run u -> v
    assert shapely.get_coordinates(net.geometry[backward])[0].tolist() == [10, 10]


def test_allowed_drops_lines_and_parallel_edges_keep_the_shortest():
    lines = [LineString([(0, 0), (10, 0)]), LineString([(0, 0), (5, 5), (10, 0)]), LineString([(10, 0), (20, 0)])]
    net = Network.from_lines(lines, allowed=[True, True, False])
    assert net.n_nodes == 2 and net.n_edges == 2
    assert net.graph.toarray()[_node(net, 0, 0), _node(net, 10, 0)] == 10


def test_multilinestrings_are_split_and_empty_skipped_and_points_refused():
    net = Network.from_lines([MultiLineString([[(0, 0), (1, 0)], [(1, 0), (2, 0)]]), LineString()])
    assert net.n_edges == 2 and net.n_nodes == 3
    with pytest.raises(Refused) as exc:
        Network.from_lines([LineString([(0, 0), (1, 0)]), Point(0, 0)])
    assert exc.value.problems[0].row == 1 and exc.value.problems[0].column == "geometry"


def test_edge_snap_offsets_connector_and_far_points():
    net = Network.from_lines([LineString([(0, 0), (10, 0), (20, 0)]), LineString([(10, 0), (10, 10)])])
    s = net.snap([[4, 3], [10, 7], [50, 50]], mode="edge", max_distance=20)
    assert s.far.tolist() == [False, False, True]
    assert s.connector[:2].tolist() == pytest.approx([3, 0])
    e = s.edge[0]
    assert {s.off_u[0], s.off_v[0]} == {4.0, 6.0}
    assert s.off_u[0] == pytest.approx(abs(4 - net.x[net.u[e]]))
    assert s.edge[2] == -1 and np.isinf(s.off_u[2])


def test_one_way_snap_costs():
    net = Network.from_lines([LineString([(0, 0), (10, 0)])], oneway=[-1])
    s = net.snap([[3, 1]])
    assert net.x[s.u[0]] == 10  # travel runs from x=10 to x=0
    assert s.leave_v[0] == 3 and np.isinf(s.leave_u[0])
    assert s.enter_u[0] == 7 and np.isinf(s.enter_v[0])


def test_node_snap_picks_the_nearest_node():
    net = Network.from_lines([LineString([(0, 0), (10, 0), (20, 0)]), LineString([(10, 0), (10, 10)])])
    s = net.snap([[9, 2], [19, 0], [100, 0]], mode="node", max_distance=30)
    assert s.node[0] == _node(net, 10, 0) and s.node[1] == _node(net, 20, 0)
    assert s.far.tolist() == [False, False, True]
    assert s.connector[:2].tolist() == [0, 0]


def test_edge_snap_matches_brute_force_distance_to_every_edge():
    rng = np.random.default_rng(3)
    lines = [LineString(rng.uniform(0, 500, (rng.integers(2, 6), 2))) for _ in range(60)]
    net = Network.from_lines(lines)
    pts = rng.uniform(-50, 550, (300, 2))
    s = net.snap(pts)
    brute = shapely.distance(shapely.points(pts)[:, None], net.geometry[None, :]).min(axis=1)
    np.testing.assert_allclose(s.connector, brute, atol=1e-9)
    snapped = shapely.line_interpolate_point(net.geometry[s.edge], s.off_u)
    np.testing.assert_allclose(shapely.distance(snapped, shapely.points(pts)), s.connector, atol=1e-6)
    np.testing.assert_allclose(s.off_u + s.off_v, net.length[s.edge])


def _assert_snap_equals_the_strtree(net, pts, max_distance=None):
    """Our k-d tree snapping against shapely's STRtree.query_nearest over the edges: the same
    far flags, the same distance, and the same edge or, on an exact tie, an equally near one."""
    s = net.snap(pts, max_distance=max_distance)
    geoms = shapely.points(pts)
    (pi, ei), dist = shapely.STRtree(net.geometry).query_nearest(
        geoms, max_distance=max_distance, return_distance=True, all_matches=False)
    ref_edge = np.full(len(pts), -1)
    ref_edge[pi] = ei
    ref_dist = np.full(len(pts), np.inf)
    ref_dist[pi] = dist
    np.testing.assert_array_equal(s.far, ref_edge < 0)
    ok = ~s.far
    np.testing.assert_allclose(s.connector[ok], ref_dist[ok], rtol=0, atol=1e-9)
    assert np.all(np.isinf(s.connector[s.far]))
    other = ok & (s.edge != ref_edge)
    mine = shapely.distance(geoms[other], net.geometry[s.edge[other]])
    np.testing.assert_allclose(mine, ref_dist[other], rtol=0, atol=1e-9)
    same = ok & (s.edge == ref_edge)
    along = shapely.line_locate_point(net.geometry[s.edge[same]], geoms[same])
    np.testing.assert_allclose(s.off_u[same], along, rtol=0, atol=1e-6)
    np.testing.assert_allclose(s.off_u[ok] + s.off_v[ok], net.length[s.edge[ok]])
    return s, other


def test_edge_snap_equals_the_strtree_on_a_jittered_grid():
    rng = np.random.default_rng(17)
    n, spacing = 40, 50.0
    xy = np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"), -1) * spacing
    xy = xy + rng.uniform(-0.3, 0.3, xy.shape) * spacing
    net = Network.from_lines([LineString(xy[i, :]) for i in range(n)] + [LineString(xy[:, i]) for i in range(n)])
    pts = np.concatenate([
        rng.uniform(-300, 2250, (4000, 2)),             # inside and around the grid
        rng.uniform(-5000, 7000, (200, 2)),             # far outside: the k nearest cannot prove it
        np.column_stack([net.x, net.y])[:300],          # exactly on nodes: ties between the edges there
        shapely.get_coordinates(shapely.line_interpolate_point(net.geometry[:300], 0.5, normalized=True)),
    ])
    _, ties = _assert_snap_equals_the_strtree(net, pts)
    assert ties.any()  # nodes are equally near to all their edges
    s, _ = _assert_snap_equals_the_strtree(net, pts, max_distance=20.0)
    assert s.far.any() and not s.far.all()


def test_edge_snap_equals_the_strtree_with_long_and_short_segments_mixed():
    rng = np.random.default_rng(23)
    lines = [LineString([(0, y), (5000, y + rng.uniform(-30, 30))]) for y in range(0, 3000, 600)]  # long, straight
    for _ in range(150):  # short, wiggly: metre-long segments
        start = rng.uniform(0, 5000), rng.uniform(0, 3000)
        steps = np.cumsum(rng.normal(0, 1, (rng.integers(3, 40), 2)), axis=0)
        lines.append(LineString(np.asarray(start) + steps))
    lines.append(LineString([(-2000, -2000), (7000, 5000)]))  # one very long diagonal across all
    net = Network.from_lines(lines)
    pts = np.concatenate([rng.uniform(-500, 5500, (4000, 2)), rng.uniform(-20000, 20000, (200, 2))])
    _assert_snap_equals_the_strtree(net, pts)
    s, _ = _assert_snap_equals_the_strtree(net, pts, max_distance=50.0)
    assert s.far.any() and not s.far.all()


# --- Network.from_arrays: node coordinates and straight edges (prepared networks) ---------------

def _grid_arrays(n, spacing=50.0, seed=29, drop=0.1):
    """A jittered n × n grid as node coordinates and straight edges, some edges missing."""
    rng = np.random.default_rng(seed)
    xy = (np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"), -1) * spacing
          + rng.uniform(-0.3, 0.3, (n, n, 2)) * spacing).reshape(-1, 2)
    idx = np.arange(n * n).reshape(n, n)
    u = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    v = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    keep = rng.random(len(u)) >= drop
    return xy[:, 0], xy[:, 1], u[keep], v[keep], rng


def test_from_arrays_is_the_network_of_the_same_straight_lines():
    x, y, u, v, rng = _grid_arrays(25)
    oneway = rng.choice([-1, 0, 0, 0, 1], len(u))
    net = Network.from_arrays(x, y, u, v, oneway=oneway)
    lines = shapely.linestrings(np.column_stack([x[u], y[u], x[v], y[v]]).reshape(-1, 2),
                                indices=np.repeat(np.arange(len(u)), 2))
    ref = Network.from_lines(lines, oneway=oneway)
    assert (net.n_nodes, net.n_edges, net.n_fragments) == (ref.n_nodes, ref.n_edges, ref.n_fragments)
    np.testing.assert_allclose(net.length, ref.length, rtol=0, atol=1e-9)
    assert net.line.tolist() == list(range(len(u))) and net.oneway.tolist() == ref.oneway.tolist()
    # Nodes as given (rounded to the tolerance); one-way -1 edges stored reversed.
    np.testing.assert_allclose(net.x, np.round(x, 3), rtol=0, atol=1e-9)
    back = oneway == -1
    assert np.array_equal(net.u[back], v[back]) and np.array_equal(net.v[~back], v[~back])
    # The same graph under the node numbering of each: node i of net is the ref node at its point.
    key = {(a, b): i for i, (a, b) in enumerate(zip(np.round(ref.x, 3), np.round(ref.y, 3), strict=True))}
    of = np.array([key[(a, b)] for a, b in zip(np.round(net.x, 3), np.round(net.y, 3), strict=True)])
    mine = net.graph.tocoo()
    np.testing.assert_allclose(np.asarray(ref.graph[of[mine.row], of[mine.col]]).ravel(), mine.data, atol=1e-9)
    assert net.graph.nnz == ref.graph.nnz
    np.testing.assert_array_equal(net.reverse.toarray(), net.graph.toarray().T)
    # Snapping: the same distances; the geometry, made on first use, is the straight lines.
    pts = rng.uniform(-100, 1300, (2000, 2))
    s, r = net.snap(pts, max_distance=60), ref.snap(pts, max_distance=60)
    np.testing.assert_array_equal(s.far, r.far)
    np.testing.assert_allclose(s.connector[~s.far], r.connector[~r.far], rtol=0, atol=1e-9)
    assert "_geometry" in net.__dict__ and net.__dict__["_geometry"] is None
    assert repr(net) == f"Network({net.n_nodes} nodes, {net.n_edges} edges, {net.n_fragments} fragments)"
    assert shapely.equals_exact(net.geometry, shapely.linestrings(
        np.column_stack([net.x[net.u], net.y[net.u], net.x[net.v], net.y[net.v]]).reshape(-1, 2),
        indices=np.repeat(np.arange(net.n_edges), 2))).all()
    np.testing.assert_allclose(shapely.length(net.geometry), net.length, rtol=0, atol=1e-9)
    assert net.geometry is net.geometry  # made once


def test_from_arrays_parallel_edges_keep_the_shortest_and_nodes_are_not_merged():
    # Nodes 0 and 3 at the same point are two nodes: only an edge joins them.
    net = Network.from_arrays([0, 10, 5, 0], [0, 0, 5, 0], [0, 0, 2, 1], [1, 2, 1, 3])
    assert net.n_nodes == 4 and net.n_fragments == 1
    assert net.graph[0, 1] == 10 and net.graph[1, 0] == 10
    net = Network.from_arrays([0, 10, 5, 0], [0, 0, 5, 0], [0, 1, 2], [1, 0, 1], oneway=[0, 0, 0])
    assert net.graph[0, 1] == 10 and net.graph.nnz == 4 and net.n_fragments == 2  # node 3 alone
    with pytest.raises(Refused):
        Network.from_arrays([0, 10, 5, 0], [0, 0, 5, 0], [0, 3], [1, 0])  # 0 and 3: one point


def test_from_arrays_refuses_bad_input_naming_the_row():
    x, y = [0.0, 10.0, 10.0], [0.0, 0.0, 10.0]
    cases = [
        (dict(x=x, y=y, u=[0, 1], v=[1, 3]), 1, "v", "超出节点范围"),
        (dict(x=x, y=y, u=[-1, 1], v=[1, 2]), 0, "u", "超出节点范围"),
        (dict(x=x, y=y, u=[0, 1], v=[1, 1]), 1, "v", "长度为 0"),
        (dict(x=[0.0, np.nan, 10.0], y=y, u=[0, 1], v=[1, 2]), 1, "x", "有限数值"),
        (dict(x=x, y=y, u=[0, 1], v=[1, 2], oneway=[0, 2]), 1, "oneway", "单行标记"),
        (dict(x=x, y=y, u=[0.0, 1.0], v=[1, 2]), None, "u", "整数"),
        (dict(x=x, y=y, u=[], v=[]), None, "u", "没有边"),
    ]
    for kw, row, column, reason in cases:
        with pytest.raises(Refused) as exc:
            Network.from_arrays(kw.pop("x"), kw.pop("y"), kw.pop("u"), kw.pop("v"), **kw)
        p = exc.value.problems[0]
        assert (p.row, p.column) == (row, column) and reason in p.reason, (p, reason)
    with pytest.raises(ValueError):
        Network.from_arrays(x, y, [0, 1], [1])


def _ring(k, radius):
    a = np.linspace(0, 2 * np.pi, k, endpoint=False) + np.random.default_rng(3).uniform(0, 1e-6, k)
    return Network.from_arrays(radius * np.cos(a), radius * np.sin(a), np.arange(k), (np.arange(k) + 1) % k)


@pytest.mark.parametrize(("k", "radius", "limit"), [(2_000, 500.0, 600.0), (120_000, 20_000.0, 400.0)])
def test_edge_snap_near_the_centre_of_a_ring_where_the_k_nearest_prove_nothing(k, radius, limit):
    # Every piece of the ring is about equally near its centre, so the k nearest pieces cannot
    # prove the nearest edge. With 2,000 edges every piece within the best distance + half a piece
    # decides (the exact "ball"); with 120,000 that ball would hold more than _SNAP_BALL_MAX
    # pieces and the STRtree decides. Both exactly as the STRtree over all edges.
    net = _ring(k, radius)
    assert k < 100_000 or len(net._pieces().piece_seg) > 100_000
    rng = np.random.default_rng(k)
    pts = np.concatenate([[[0.0, 0.0], [3.0, -4.0]], rng.normal(0, 2, (50, 2))])
    _assert_snap_equals_the_strtree(net, pts)
    s, _ = _assert_snap_equals_the_strtree(net, pts, max_distance=limit)
    assert s.far.all() == (limit < radius)
