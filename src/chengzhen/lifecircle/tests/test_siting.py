"""Siting (设施选址): the cover matrix equal to the measurement's distances candidate by candidate
(edge and node snapping, one-way), the MCLP answer equal to brute force on tiny instances and to
PySAL spopt's objective on small ones, greedy's gap never negative, existing facilities kept."""

from itertools import combinations

import numpy as np
import pytest
import shapely
from shapely import LineString

from chengzhen.lifecircle.measure import nearest
from chengzhen.lifecircle.network import Network
from chengzhen.lifecircle.siting import cover_matrix, demand, greedy, lagrangian_bound, lp_bound, solve

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PuLP 3.3 warns of its own 4.0 API


def _grid(side: int, spacing: float = 100.0, seed: int = 7, oneway_share: float = 0.0):
    rng = np.random.default_rng(seed)
    xy = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1) * spacing
    xy = xy + rng.uniform(-0.2, 0.2, xy.shape) * spacing
    lines = [LineString(xy[i, :]) for i in range(side)] + [LineString(xy[:, i]) for i in range(side)]
    net = Network.from_lines(lines)
    if oneway_share:  # split into edges, some one-way
        edges = list(net.geometry)
        flags = (rng.random(len(edges)) < oneway_share).astype(int)
        net = Network.from_lines(edges, oneway=flags)
    return net, rng, (side - 1) * spacing


@pytest.mark.parametrize("mode,oneway", [("edge", 0.0), ("edge", 0.3), ("node", 0.0)])
def test_the_cover_matrix_is_the_measurement_candidate_by_candidate(mode, oneway):
    net, rng, extent = _grid(12, oneway_share=oneway)
    homes = rng.uniform(0, extent, (400, 2))
    cands = rng.uniform(0, extent, (25, 2))
    reach = 350.0
    hs, cs = net.snap(homes, mode=mode), net.snap(cands, mode=mode)
    cover = cover_matrix(net, cs, hs, reach, chunk=7).toarray()
    for j in range(len(cands)):
        one = net.snap(cands[j:j + 1], mode=mode)
        d = nearest(net, one, hs).distance
        np.testing.assert_array_equal(cover[:, j], d <= reach, err_msg=f"candidate {j}")
    assert cover.any() and not cover.all()


def _brute(cover: np.ndarray, pop: np.ndarray, k: int, served: np.ndarray) -> float:
    best = 0.0
    for combo in combinations(range(cover.shape[1]), k):
        hit = cover[:, list(combo)].any(axis=1) & ~served
        best = max(best, float(pop[hit].sum()))
    return best


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_exact_equals_brute_force_and_greedy_never_beats_the_bound(seed):
    net, rng, extent = _grid(8, seed=seed)
    homes = rng.uniform(0, extent, (150, 2))
    pop = rng.integers(1, 6, len(homes)).astype(float)
    cands = rng.uniform(0, extent, (12, 2))
    existing = rng.uniform(0, extent, (2, 2))
    hs = net.snap(homes)
    cover = cover_matrix(net, net.snap(cands), hs, 220.0)
    served = cover_matrix(net, net.snap(existing), hs, 220.0).toarray().any(axis=1)
    d = demand(cover, pop, served)
    assert d.served == pytest.approx(pop[served].sum())
    for k in (1, 3):
        best = _brute(cover.toarray(), pop, k, served)
        exact = solve(d, k, method="exact", time_limit=30)
        assert exact.objective == pytest.approx(best) and exact.optimal and exact.gap == pytest.approx(0, abs=1e-9)
        assert len(exact.sites) == min(k, (np.asarray(cover.sum(axis=0)).ravel() > 0).sum())
        # the ranked gains add up, each site's marginal gain in order
        assert exact.gains.sum() == pytest.approx(exact.objective)
        assert (np.diff(exact.gains) <= 1e-9).all()
        g = solve(d, k, method="greedy")
        assert g.objective <= best + 1e-9 and g.bound >= best - 1e-9 and g.gap >= 0
        assert g.bound >= g.objective


def test_greedy_online_bound_and_lp_bound_are_upper_bounds():
    net, rng, extent = _grid(10, seed=11)
    homes = rng.uniform(0, extent, (300, 2))
    pop = rng.integers(1, 9, len(homes)).astype(float)
    cover = cover_matrix(net, net.snap(rng.uniform(0, extent, (14, 2))), net.snap(homes), 200.0)
    d = demand(cover, pop)
    best = _brute(cover.toarray(), pop, 4, np.zeros(len(pop), dtype=bool))
    sites, gains, online = greedy(d, 4)
    assert gains.sum() <= best + 1e-9 <= online + 1e-9
    lp = lp_bound(d, 4)
    assert lp >= best - 1e-6
    # the Lagrangian dual is an upper bound at every step, and reaches the LP optimum
    assert lp - 1e-6 <= lagrangian_bound(d, 4, iterations=5)
    assert lagrangian_bound(d, 4, lower=float(gains.sum())) == pytest.approx(lp, rel=0.01)
    # grouping is exact: the groups' weights are the open population
    assert d.weight.sum() + d.unreachable == pytest.approx(pop.sum())


def test_the_same_objective_as_pysal_spopt():
    import pulp
    from spopt.locate import MCLP

    net, rng, extent = _grid(10, seed=21)
    homes = rng.uniform(0, extent, (250, 2))
    pop = rng.integers(1, 6, len(homes)).astype(float)
    cands = rng.uniform(0, extent, (30, 2))
    reach = 250.0
    hs, cs = net.snap(homes), net.snap(cands)
    cost = np.column_stack([nearest(net, net.snap(cands[j:j + 1]), hs).distance for j in range(len(cands))])
    cost = np.where(np.isfinite(cost), cost, 1e9)
    d = demand(cover_matrix(net, cs, hs, reach), pop)
    for k in (3, 6):
        model = MCLP.from_cost_matrix(cost, pop, service_radius=reach, p_facilities=k, name="t")
        model = model.solve(pulp.HiGHS(msg=False) if pulp.HiGHS().available() else pulp.PULP_CBC_CMD(msg=False))
        theirs = float(pop[[bool(model.cli2fac[i]) for i in range(len(homes))]].sum())
        ours = solve(d, k, method="exact", time_limit=30)
        assert ours.optimal and ours.objective == pytest.approx(theirs)


def test_nothing_to_cover_and_k_beyond_the_candidates():
    net, rng, extent = _grid(5)
    homes = rng.uniform(0, extent, (20, 2))
    cover = cover_matrix(net, net.snap([[1e6, 1e6]], max_distance=50), net.snap(homes), 100.0)
    d = demand(cover, np.ones(20))
    s = solve(d, 3)
    assert s.objective == 0 and s.gap == 0 and len(s.sites) == 0
    assert d.unreachable == 20
    assert not shapely.is_empty(shapely.points(homes)).any()
