"""Figures: a four-region life-circle study on a local Dask cluster against the single-process
measurement of the same total size (issue 11: no slower than 1.3×).

The jittered 448 × 448 grid of ``lifecircle_engine.py`` (200,704 nodes), 100,000 homes, 12 types,
edge snapping, cut-off 1,200 m (GB 50180's largest reach is 1,000 m); the four regions are the
quarters of the grid. Printed: the single process (building the network and ``measure_all``);
``measure_by_region`` in this process (the network built, then each padded region rebuilt from its
edges and measured: the cost of splitting alone); the same on a local cluster of 2 worker processes
(the machine's 2 cores) once started (the cluster's start-up, about a second once per session,
shown apart); the ratio; and that the numbers are equal. Run: ``.venv/bin/python bench/lifecircle_regions.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import jittered_grid, table, timed  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

SIDE, SPACING, HOMES, TYPES, LIMIT, SNAP = 448, 50.0, 100_000, 12, 1200.0, 500.0


def main() -> None:
    import shapely
    from distributed import Client, LocalCluster

    from chengzhen.lifecircle.measure import measure_all
    from chengzhen.lifecircle.network import Network
    from chengzhen.lifecircle.regions import measure_by_region

    rng = np.random.default_rng(2024)
    lines, extent = jittered_grid(rng, SIDE, SPACING)
    net = Network.from_lines(lines)
    homes = rng.uniform(0, extent, (HOMES, 2))
    facilities = {f"t{k}": rng.uniform(0, extent, (HOMES // (50 * (k + 1)), 2)) for k in range(TYPES)}
    h = extent / 2
    quarters = [shapely.box(0, 0, h, h), shapely.box(h, 0, extent, h), shapely.box(0, h, h, extent),
                shapely.box(h, h, extent, extent)]
    names = ["西南", "东南", "西北", "东北"]

    t_build, _ = timed(runs=2, fn=lambda: Network.from_lines(lines))  # both runs need it (the regions to plan)
    t_measure, whole = timed(runs=2, fn=lambda: measure_all(net, facilities, homes, limit=LIMIT, max_distance=SNAP))
    t_one = t_build + t_measure
    t_inproc, _ = timed(runs=2, fn=lambda: measure_by_region(net, quarters, names, facilities, homes, limit=LIMIT,
                                                  max_distance=SNAP, scheduler=None))
    t_inproc += t_build
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    t_start = time.perf_counter() - start
    try:
        t_dask, parts = timed(runs=2, fn=lambda: measure_by_region(net, quarters, names, facilities, homes, limit=LIMIT,
                                                        max_distance=SNAP, scheduler=client))
        t_dask += t_build
    finally:
        client.close()
        cluster.close()
    equal = all(np.array_equal(parts[f"{t}_m"], whole[f"{t}_m"]) for t in facilities)
    rows = [{"what": "single process: build the network + measure_all", "s": t_one,
             "note": f"build {t_build:.2f} + measure {t_measure:.2f}"},
            {"what": "build + 4 regions in this process (plan, each region rebuilt and measured)", "s": t_inproc,
             "note": f"{t_inproc / t_one:.2f}× the single process"},
            {"what": "local Dask cluster start-up (once per session)", "s": t_start, "note": "not in the ratio"},
            {"what": "build + 4 regions on the local cluster (2 worker processes)", "s": t_dask,
             "note": f"{t_dask / t_one:.2f}× the single process (goal ≤ 1.3×: "
                     f"{'met' if t_dask <= 1.3 * t_one else 'NOT met'})"},
            {"what": "numbers equal to the single process", "s": float("nan"), "note": "yes" if equal else "NO"}]
    print(table(f"Four-region study on {net.n_nodes:,} nodes, {HOMES:,} homes, {TYPES} types, cut-off {LIMIT:g} m",
                rows, [("what", "step"), ("s", "seconds"), ("note", "")]))


if __name__ == "__main__":
    main()
