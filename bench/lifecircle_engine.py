"""Figures: the life-circle network engine (生活圈测度) on a synthetic jittered grid.

A 448 × 448 grid (200,704 nodes, ~401,000 edges, 50 m spacing, vertices jittered by up to ±15 m)
drawn as 896 long row and column lines split where they meet; 100,000 homes (1–5 residents each,
in 1 km square areas) and 12 facility types of N/500 … N/50 facilities at random points; edge
snapping; cut-off 3,000 m. Printed: network build, snapping (homes once, every type's facilities;
the first call also builds the k-d index, and shapely's STRtree for comparison), the bare SciPy
multi-source passes alone on the same graph (facilities on random nodes, 12 types), the whole
measurement as issue 10 defines it (network reading excluded: ``measure_all`` — snapping, virtual
sources, same-edge shortcuts, every type — then the masks of 4 circles, 5/10/15/30 min at 80 m/min,
and the population-weighted coverage of every type and circle per area, ``np.bincount``) and the
ratio whole / bare (goal ≤ 2×); networkx ``multi_source_dijkstra`` for 2 types side by side with node
snapping (ratio, and the largest disagreement with ours). pandana and cityseer (AGPL, benchmark
extras) run side by side in ``bench/lifecircle_peers.py`` on the pinned tiled-Helsinki instance.

Pure computation, no database. Best of 3 for the SciPy figures. Run: ``.venv/bin/python bench/lifecircle_engine.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import jittered_grid, table, timed  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

SIDE, SPACING, HOMES, TYPES, LIMIT, RUNS = 448, 50.0, 100_000, 12, 3000.0, 3
CIRCLES_MIN, WALK_M_PER_MIN, AREA_M = (5, 10, 15, 30), 80.0, 1000.0


def main() -> None:
    import networkx as nx
    import shapely
    from scipy.sparse.csgraph import dijkstra

    from chengzhen.lifecircle.measure import measure_all, nearest, within
    from chengzhen.lifecircle.network import Network

    rng = np.random.default_rng(2024)
    lines, extent = jittered_grid(rng, SIDE, SPACING)
    homes = rng.uniform(0, extent, (HOMES, 2))
    t_build, net = timed(lambda: Network.from_lines(lines))
    n = net.n_nodes
    counts = np.geomspace(n / 500, n / 50, TYPES).round().astype(int)
    facilities = {f"type{k:02d}": rng.uniform(0, extent, (c, 2)) for k, c in enumerate(counts)}
    node_sets = [rng.choice(n, c, replace=False) for c in counts]

    population = rng.integers(1, 6, HOMES).astype(np.float64)
    cells = int(np.ceil(extent / AREA_M))
    area = (homes[:, 0] // AREA_M).astype(np.int64) * cells + (homes[:, 1] // AREA_M).astype(np.int64)
    n_areas = cells * cells

    def snap_all():
        return [net.snap(homes)] + [net.snap(f) for f in facilities.values()]

    t_snap_first, _ = timed(snap_all)  # builds the k-d index of segment pieces on the way
    t_snap, _ = timed(snap_all, RUNS)

    def strtree_snap():
        for pts in [homes, *facilities.values()]:
            geoms = shapely.points(pts)
            (_, ei), _ = net._strtree().query_nearest(geoms, return_distance=True, all_matches=False)
            shapely.line_locate_point(net.geometry[ei], geoms)

    net._strtree()
    t_strtree, _ = timed(strtree_snap)

    def bare():
        for nodes in node_sets:
            dijkstra(net.reverse, directed=True, indices=nodes, min_only=True, limit=LIMIT, return_predecessors=True)

    t_bare, _ = timed(bare, RUNS)
    def whole():
        cols = measure_all(net, facilities, homes, snap="edge", limit=LIMIT)
        people = np.bincount(area, weights=population, minlength=n_areas)
        share = {}
        for kind in facilities:
            for minutes in CIRCLES_MIN:
                inside = within(cols[f"{kind}_m"], minutes, WALK_M_PER_MIN)
                covered = np.bincount(area, weights=population * inside, minlength=n_areas)
                share[kind, minutes] = np.divide(covered, people, out=np.zeros(n_areas), where=people > 0)
        return cols, share

    t_whole, (result, coverage) = timed(whole, RUNS)

    # networkx side by side: 2 types (the fewest and the most facilities), node snapping.
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(net.u.tolist(), net.v.tolist(), net.length.tolist(), strict=True))
    g.add_weighted_edges_from(zip(net.v.tolist(), net.u.tolist(), net.length.tolist(), strict=True))
    pair = [node_sets[0], node_sets[-1]]
    t_nx, nx_dist = timed(lambda: [nx.multi_source_dijkstra_path_length(g, set(s.tolist()), cutoff=LIMIT)
                                   for s in pair])
    t_sp2, _ = timed(lambda: [dijkstra(net.reverse, directed=True, indices=s, min_only=True, limit=LIMIT,
                                       return_predecessors=True) for s in pair], RUNS)
    home_nodes = net.snap(homes, mode="node")
    worst = 0.0
    for s, ref in zip(pair, nx_dist, strict=True):
        fac = net.snap(np.column_stack([net.x[s], net.y[s]]), mode="node")
        ours = nearest(net, fac, home_nodes, limit=LIMIT).distance
        theirs = np.array([ref.get(int(v), np.inf) for v in home_nodes.node])
        both = np.isfinite(ours) & np.isfinite(theirs)
        assert np.array_equal(np.isfinite(ours), np.isfinite(theirs))
        worst = max(worst, float(np.abs(ours[both] - theirs[both]).max()))

    reached = np.mean([np.isfinite(result[f"{k}_m"]).mean() for k in facilities])
    rows = [
        {"step": f"build Network.from_lines ({n:,} nodes, {net.n_edges:,} edges)", "s": t_build},
        {"step": f"snap {HOMES:,} homes + {counts.sum():,} facilities to edges, first call (k-d index built)",
         "s": t_snap_first},
        {"step": f"snap {HOMES:,} homes + {counts.sum():,} facilities to edges", "s": t_snap},
        {"step": "  the same with shapely STRtree.query_nearest (the exact reference)", "s": t_strtree},
        {"step": f"bare scipy multi-source, {TYPES} types", "s": t_bare},
        {"step": f"whole: measure_all, {TYPES} types, edge snapping, {len(CIRCLES_MIN)} circles, "
                 f"coverage per area", "s": t_whole},
        {"step": "ratio whole / bare (goal <= 2)", "s": t_whole / t_bare},
        {"step": "networkx multi_source_dijkstra, 2 types", "s": t_nx},
        {"step": "scipy multi-source, same 2 types", "s": t_sp2},
        {"step": "ratio networkx / scipy", "s": t_nx / t_sp2},
    ]
    print(table(f"Life-circle engine: jittered {SIDE}x{SIDE} grid, {HOMES:,} homes, {TYPES} types "
                f"({counts[0]}..{counts[-1]} facilities), cut-off {LIMIT:.0f} m", rows, [("step", "step"), ("s", "s")]))
    print(f"homes reached within the cut-off, mean over types: {reached:.1%}; "
          f"node snapping vs networkx, largest disagreement: {worst:.2e} m")
    people = np.bincount(area, weights=population, minlength=n_areas)
    walk15 = np.mean([(coverage[k, 15] * people).sum() / people.sum() for k in facilities])
    print(f"whole = snapping + {TYPES} passes + {len(CIRCLES_MIN)} circle masks ({'/'.join(map(str, CIRCLES_MIN))} min "
          f"at {WALK_M_PER_MIN:.0f} m/min) + population-weighted coverage per {AREA_M:.0f} m area ({n_areas} areas); "
          f"residents within 15 min, mean over types: {walk15:.1%}")
    print("pandana and cityseer side by side: bench/lifecircle_peers.py (the pinned tiled-Helsinki instance)")


if __name__ == "__main__":
    main()
