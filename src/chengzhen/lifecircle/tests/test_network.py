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
