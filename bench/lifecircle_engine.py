"""Figures: the life-circle network engine (生活圈测度) on a synthetic jittered grid.

A 448 × 448 grid (200,704 nodes, ~401,000 edges, 50 m spacing, vertices jittered by up to ±15 m)
drawn as 896 long row and column lines split where they meet; 100,000 homes and 12 facility
types of N/500 … N/50 facilities at random points; edge snapping; cut-off 3,000 m. Printed:
network build, snapping (homes once, every type's facilities), the bare SciPy multi-source passes
alone on the same graph (facilities on random nodes, 12 types), the whole measurement
(``measure_all``: snapping, virtual sources, same-edge shortcuts, every type) and the ratio
whole / bare (goal ≤ 2×); networkx ``multi_source_dijkstra`` for 2 types side by side with node
snapping (ratio, and the largest disagreement with ours). pandana and cityseer are AGPL and not
installed: they come later as benchmark extras.

Pure computation, no database. Best of 3 for the SciPy figures. Run: ``.venv/bin/python bench/lifecircle_engine.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import table  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

SIDE, SPACING, HOMES, TYPES, LIMIT, RUNS = 448, 50.0, 100_000, 12, 3000.0, 3


def timed(fn, runs: int = 1):
    best, out = np.inf, None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    import networkx as nx
    import shapely
    from scipy.sparse.csgraph import dijkstra

    from chengzhen.lifecircle.measure import measure_all, nearest
    from chengzhen.lifecircle.network import Network

    rng = np.random.default_rng(2024)
    xy = np.stack(np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij"), -1) * SPACING
    xy = xy + rng.uniform(-0.3, 0.3, xy.shape) * SPACING
    lines = [shapely.LineString(xy[i, :]) for i in range(SIDE)] + [shapely.LineString(xy[:, i]) for i in range(SIDE)]
    extent = (SIDE - 1) * SPACING
    homes = rng.uniform(0, extent, (HOMES, 2))
    t_build, net = timed(lambda: Network.from_lines(lines))
    n = net.n_nodes
    counts = np.geomspace(n / 500, n / 50, TYPES).round().astype(int)
    facilities = {f"type{k:02d}": rng.uniform(0, extent, (c, 2)) for k, c in enumerate(counts)}
    node_sets = [rng.choice(n, c, replace=False) for c in counts]

    t_snap, _ = timed(lambda: [net.snap(homes)] + [net.snap(f) for f in facilities.values()], RUNS)

    def bare():
        for nodes in node_sets:
            dijkstra(net.reverse, directed=True, indices=nodes, min_only=True, limit=LIMIT, return_predecessors=True)

    t_bare, _ = timed(bare, RUNS)
    t_whole, result = timed(lambda: measure_all(net, facilities, homes, snap="edge", limit=LIMIT), RUNS)

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
        {"step": f"snap {HOMES:,} homes + {counts.sum():,} facilities to edges", "s": t_snap},
        {"step": f"bare scipy multi-source, {TYPES} types", "s": t_bare},
        {"step": f"whole measure_all, {TYPES} types, edge snapping (snapping included)", "s": t_whole},
        {"step": "ratio whole / bare (goal <= 2)", "s": t_whole / t_bare},
        {"step": "networkx multi_source_dijkstra, 2 types", "s": t_nx},
        {"step": "scipy multi-source, same 2 types", "s": t_sp2},
        {"step": "ratio networkx / scipy", "s": t_nx / t_sp2},
    ]
    print(table(f"Life-circle engine: jittered {SIDE}x{SIDE} grid, {HOMES:,} homes, {TYPES} types "
                f"({counts[0]}..{counts[-1]} facilities), cut-off {LIMIT:.0f} m", rows, [("step", "step"), ("s", "s")]))
    print(f"homes reached within the cut-off, mean over types: {reached:.1%}; "
          f"node snapping vs networkx, largest disagreement: {worst:.2e} m")
    print("pandana and cityseer: not installed (AGPL; they come later as benchmark extras)")


if __name__ == "__main__":
    main()
