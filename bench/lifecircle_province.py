"""Figures: the life-circle engine (生活圈测度) at province scale — issue 10's goal of ≤ 2 minutes and
≤ 6 GB on 2 cores for 5 million nodes, 1 million homes, 20 facility types × 4 circles, network read
from a prepared file excluded. Outside CI on purpose (minutes, gigabytes): not in ``run_all.py``.

The synthetic province (seeded, made once and cached in ``/tmp/chengzhen-bench-cache``), 400 × 350 km:

- 1,200 towns and cities: jittered street grids (50–90 m spacing, vertices moved by up to ±25 %,
  turned by a random angle), sizes heavy-tailed (Pareto: from ~700 nodes, median ~1,300, to ~280,000 for
  the largest city), with holes (lakes, parks, works: a few removed rectangles each), 4 % of streets missing (dead
  ends) and 3 % one-way; placed without overlapping;
- 18,000 villages: small jittered grids (3–7 × 3–7 lanes, 45–70 m) in the countryside between the towns;
- rural roads: a jittered 2.5 km lattice of winding roads with a node every ≤ 200 m, 12 % of its links
  missing (rivers, hills), cut where it enters a town and joined there to the nearest street; each
  village joined to the nearest road or street by an access road (2 % of villages have none: their own
  network fragments).

1,000,000 homes: 75 % in the towns (in proportion to their streets, 10–120 residents: blocks of flats),
25 % around the villages (2–8 residents); homes more than 120 m from every node are drawn again (no homes
in lakes). 20 facility types of the shipped catalogue, from 400 hospitals to 40,000 bus stops, placed
near homes (town-weighted by residents, or spread over all homes for the rural types). Edge snapping,
points more than 500 m from a road flagged (as the run does), 4 circles of 5/10/15/30 minutes walking
at 80 m/min (cap 2,400 m), coverage per settlement (19,200 areas).

The prepared file is a NumPy ``.npz`` of node coordinates, edges (node indexes, one-way flags), homes,
residents, settlement and facilities. Loading it is not timed. Timed, in one process: the network
(``Network.from_arrays``), the snapping (``Network.snap`` of the homes and every type's facilities,
the segment index built on the way), the measurement (``measure.nearest_all``: one pass per type,
what ``measure_all`` does after snapping), the 80 circle masks (``measure.within``) and the coverage rows
per area and type and circle (``coverage.coverage`` with a preset of the 20 types in 4 circles), then
the same coverage as bare ``np.bincount`` for comparison. Wall and CPU seconds of this process are
both printed, with the load average: on a machine shared with other work the wall time grows, the
CPU time does not. Memory: the process's peak resident set (``ru_maxrss``, loading the prepared file
included) and, from a second run of the same steps under ``-X tracemalloc`` (from interpreter start),
tracemalloc's peak of what Python and NumPy allocate (GEOS's and SciPy's own C allocations are not
traced; tracing slows the Python-object work, so that run gives memory only).

Run: ``.venv/bin/python bench/lifecircle_province.py [--no-tracemalloc] [--regenerate]`` (the first
run generates the province in a child process, ~30 s, so its memory is not counted); ``--from-lines``
instead times ``Network.from_lines`` on the same network given as two-point LineStrings.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import table  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

CACHE = Path("/tmp/chengzhen-bench-cache")
VERSION, SEED = 1, 20240610  # bump VERSION whenever generate() changes: it names the cached file
WIDTH, HEIGHT = 400_000.0, 350_000.0  # m
N_TOWNS, TOWN_NODES = 1_200, 4_730_000
N_VILLAGES = 18_000
RURAL_LATTICE, RURAL_STEP = 2_500.0, 200.0
N_HOMES, TOWN_HOME_SHARE = 1_000_000, 0.75
MAX_SNAP, WALK, CIRCLES = 500.0, 80.0, (5, 10, 15, 30)
GOAL_S, GOAL_GB = 120.0, 6.0
# 20 catalogue types: count, and placed by residents (True, the town services) or over all homes.
TYPES = {
    "bus_stop": (40_000, False), "convenience_store": (30_000, False), "fitness_point": (20_000, False),
    "pharmacy": (12_000, True), "kindergarten": (8_000, True), "community_health_station": (8_000, False),
    "elderly_service_station": (6_000, False), "community_service_station": (6_000, True),
    "market": (4_000, True), "community_park": (4_000, True), "primary_school": (3_500, False),
    "supermarket": (3_000, True), "bank": (3_000, True), "post_office": (1_500, False),
    "junior_middle_school": (1_500, True), "community_health_centre": (1_200, True),
    "township_health_centre": (1_000, False), "culture_sports_centre": (1_000, True),
    "senior_high_school": (500, True), "hospital": (400, True),
}


def cache_file() -> Path:
    return CACHE / f"province-v{VERSION}-seed{SEED}.npz"


# --- the synthetic province ------------------------------------------------------------------------

def _grids(rng: np.random.Generator, cx, cy, nx, ny, spacing, theta, jitter: float):
    """Many jittered, turned grids at once: node coordinates, owning grid, grid position (i, j), and
    the row and column edges as pairs of node indexes."""
    count = nx * ny
    start = np.cumsum(count) - count
    g = np.repeat(np.arange(len(nx)), count)
    k = np.arange(count.sum()) - start[g]
    i, j = k % nx[g], k // nx[g]
    sp = spacing[g]
    lx = (i - (nx[g] - 1) / 2) * sp + rng.uniform(-jitter, jitter, len(k)) * sp
    ly = (j - (ny[g] - 1) / 2) * sp + rng.uniform(-jitter, jitter, len(k)) * sp
    c, s = np.cos(theta)[g], np.sin(theta)[g]
    x, y = cx[g] + lx * c - ly * s, cy[g] + lx * s + ly * c
    node = np.arange(len(k))
    row = i < nx[g] - 1
    col = j < ny[g] - 1
    eu = np.concatenate([node[row], node[col]])
    ev = np.concatenate([node[row] + 1, node[col] + nx[g][col]])
    return x, y, g, i, j, eu, ev


def generate(path: Path) -> None:
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(SEED)
    t0 = time.perf_counter()
    # Towns: sizes, shapes, places (largest first, no overlaps of their circumscribed circles + 1 km).
    weight = np.minimum(rng.pareto(1.1, N_TOWNS) + 1, 400)
    size = np.maximum(weight / weight.sum() * TOWN_NODES, 100)
    spacing = rng.uniform(50, 90, N_TOWNS)
    aspect = rng.uniform(0.6, 1.6, N_TOWNS)
    nx = np.maximum(np.rint(np.sqrt(size * aspect)), 5).astype(np.int64)
    ny = np.maximum(np.rint(size / nx), 5).astype(np.int64)
    hx, hy = (nx - 1) * spacing / 2, (ny - 1) * spacing / 2
    radius = np.hypot(hx, hy) + 1_000
    theta = rng.uniform(0, np.pi / 2, N_TOWNS)
    cx, cy = np.zeros(N_TOWNS), np.zeros(N_TOWNS)
    placed = np.zeros(N_TOWNS, dtype=bool)
    for t in np.argsort(-size):
        for _ in range(10_000):
            px = rng.uniform(radius[t], WIDTH - radius[t])
            py = rng.uniform(radius[t], HEIGHT - radius[t])
            if not np.any(placed & (np.hypot(cx - px, cy - py) < radius + radius[t])):
                break
        else:
            raise SystemExit("towns do not fit")
        cx[t], cy[t], placed[t] = px, py, True
    tx, ty, tg, ti, tj, teu, tev = _grids(rng, cx, cy, nx, ny, spacing, theta, 0.25)
    keep = np.ones(len(tx), dtype=bool)
    start = np.cumsum(nx * ny) - nx * ny
    for t in range(N_TOWNS):  # holes: a few removed rectangles per town
        for _ in range(1 + rng.poisson(nx[t] * ny[t] / 8_000)):
            wi, wj = max(1, int(nx[t] * rng.uniform(0.05, 0.2))), max(1, int(ny[t] * rng.uniform(0.05, 0.2)))
            i0, j0 = rng.integers(0, nx[t] - wi + 1), rng.integers(0, ny[t] - wj + 1)
            block = start[t] + (np.arange(j0, j0 + wj)[:, None] * nx[t] + np.arange(i0, i0 + wi)[None, :])
            keep[block.ravel()] = False
    te = keep[teu] & keep[tev] & (rng.random(len(teu)) >= 0.04)
    teu, tev = teu[te], tev[te]
    town_oneway = np.where(rng.random(len(teu)) < 0.03, rng.choice(np.array([-1, 1], dtype=np.int8), len(teu)), 0)

    # Villages: one per free 1 km cell at most, none within a town's circle.
    cells = np.stack(np.meshgrid(np.arange(500, WIDTH, 1000), np.arange(500, HEIGHT, 1000), indexing="ij"), -1)
    cells = cells.reshape(-1, 2)
    near_town = np.zeros(len(cells), dtype=bool)
    cell_tree = cKDTree(cells)
    for t in range(N_TOWNS):
        near_town[cell_tree.query_ball_point([cx[t], cy[t]], radius[t] + 500)] = True
    pick = rng.choice(np.flatnonzero(~near_town), N_VILLAGES, replace=False)
    vcx, vcy = cells[pick, 0] + rng.uniform(-300, 300, N_VILLAGES), cells[pick, 1] + rng.uniform(-300, 300, N_VILLAGES)
    vnx, vny = rng.integers(3, 8, N_VILLAGES), rng.integers(3, 8, N_VILLAGES)
    vsp = rng.uniform(45, 70, N_VILLAGES)
    vx, vy, vg, _, _, veu, vev = _grids(rng, vcx, vcy, vnx, vny, vsp, rng.uniform(0, np.pi / 2, N_VILLAGES), 0.2)
    ve = rng.random(len(veu)) >= 0.05
    veu, vev = veu[ve], vev[ve]

    # Rural lattice: jittered junctions every 2.5 km, winding links with a node every <= 200 m.
    li, lj = np.meshgrid(np.arange(int(WIDTH / RURAL_LATTICE) + 1), np.arange(int(HEIGHT / RURAL_LATTICE) + 1),
                         indexing="ij")
    lx = (li * RURAL_LATTICE + rng.uniform(-0.3, 0.3, li.shape) * RURAL_LATTICE).ravel()
    ly = (lj * RURAL_LATTICE + rng.uniform(-0.3, 0.3, lj.shape) * RURAL_LATTICE).ravel()
    lid = np.arange(li.size).reshape(li.shape)
    la = np.concatenate([lid[:-1, :].ravel(), lid[:, :-1].ravel()])
    lb = np.concatenate([lid[1:, :].ravel(), lid[:, 1:].ravel()])
    link = rng.random(len(la)) >= 0.12
    la, lb = la[link], lb[link]
    dxl, dyl = lx[lb] - lx[la], ly[lb] - ly[la]
    llen = np.hypot(dxl, dyl)
    steps = np.ceil(llen / RURAL_STEP).astype(np.int64)
    inner = steps - 1
    owner = np.repeat(np.arange(len(la)), inner)
    s = (np.arange(inner.sum()) - np.repeat(np.cumsum(inner) - inner, inner) + 1) / steps[owner]
    amp = rng.normal(0, 0.05, (len(la), 3)) * llen[:, None] / np.arange(1, 4)
    wiggle = sum(amp[owner, k] * np.sin((k + 1) * np.pi * s) for k in range(3))
    ix = lx[la][owner] + s * dxl[owner] - wiggle * dyl[owner] / llen[owner]
    iy = ly[la][owner] + s * dyl[owner] + wiggle * dxl[owner] / llen[owner]
    n_lat = len(lx)
    rx, ry = np.concatenate([lx, ix]), np.concatenate([ly, iy])
    first_inner = n_lat + np.cumsum(inner) - inner
    chain = [np.column_stack([la, np.where(inner > 0, first_inner, lb)])]
    mid = np.flatnonzero(inner > 1)
    for d in range(int(inner.max()) - 1):  # consecutive inner nodes of each link
        m = mid[inner[mid] > d + 1]
        chain.append(np.column_stack([first_inner[m] + d, first_inner[m] + d + 1]))
    last = np.flatnonzero(inner > 0)
    chain.append(np.column_stack([first_inner[last] + inner[last] - 1, lb[last]]))
    re = np.concatenate(chain)
    # Cut the rural roads inside towns (+100 m) and join the cut ends to the nearest street.
    rkeep = np.ones(len(rx), dtype=bool)
    rtree = cKDTree(np.column_stack([rx, ry]))
    for t in range(N_TOWNS):
        cand = np.asarray(rtree.query_ball_point([cx[t], cy[t]], radius[t]), dtype=np.int64)
        if not len(cand):
            continue
        ex, ey = rx[cand] - cx[t], ry[cand] - cy[t]
        c, s_ = np.cos(theta[t]), np.sin(theta[t])
        inside = (np.abs(ex * c + ey * s_) <= hx[t] + 100) & (np.abs(-ex * s_ + ey * c) <= hy[t] + 100)
        rkeep[cand[inside]] = False
    cut = rkeep[re[:, 0]] != rkeep[re[:, 1]]
    dangling = np.where(rkeep[re[cut, 0]], re[cut, 0], re[cut, 1])
    re = re[rkeep[re[:, 0]] & rkeep[re[:, 1]]]

    # One numbering: towns, villages, rural. Then the joins.
    n_t, n_v = len(tx), len(vx)
    x = np.concatenate([tx, vx, rx])
    y = np.concatenate([ty, vy, ry])
    alive = np.concatenate([keep, np.ones(n_v, dtype=bool), rkeep])
    edges = [np.column_stack([teu, tev]), np.column_stack([veu, vev]) + n_t, re + n_t + n_v]
    oneway = [town_oneway.astype(np.int8), np.zeros(len(veu), dtype=np.int8), np.zeros(len(re), dtype=np.int8)]
    town_nodes = np.flatnonzero(keep)
    street_tree = cKDTree(np.column_stack([tx[town_nodes], ty[town_nodes]]))
    dist, hit = street_tree.query(np.column_stack([rx[dangling], ry[dangling]]), distance_upper_bound=2_000)
    ok = np.isfinite(dist)
    edges.append(np.column_stack([dangling[ok] + n_t + n_v, town_nodes[hit[ok]]]))
    oneway.append(np.zeros(ok.sum(), dtype=np.int8))
    # Village access roads: from the village lane nearest to the nearest road or street.
    road_nodes = np.concatenate([town_nodes, n_t + n_v + np.flatnonzero(rkeep)])
    road_tree = cKDTree(np.column_stack([x[road_nodes], y[road_nodes]]))
    _, near = road_tree.query(np.column_stack([vcx, vcy]))
    target = road_nodes[near]
    gap = np.hypot(vx - x[target][vg], vy - y[target][vg])
    vstart = np.cumsum(vnx * vny) - vnx * vny
    order = np.lexsort((gap, vg))
    from_node = order[vstart]  # per village, its lane node nearest to the target
    joined = rng.random(N_VILLAGES) >= 0.02
    a_x, a_y = vx[from_node], vy[from_node]
    b_x, b_y = x[target], y[target]
    alen = np.hypot(b_x - a_x, b_y - a_y)
    ainner = np.where(joined, np.maximum(np.ceil(alen / RURAL_STEP).astype(np.int64) - 1, 0), 0)
    aowner = np.repeat(np.arange(N_VILLAGES), ainner)
    k = np.arange(ainner.sum()) - np.repeat(np.cumsum(ainner) - ainner, ainner) + 1
    frac = k / (ainner[aowner] + 1)
    axs = a_x[aowner] + frac * (b_x - a_x)[aowner] + rng.normal(0, 10, len(k))
    ays = a_y[aowner] + frac * (b_y - a_y)[aowner] + rng.normal(0, 10, len(k))
    base = len(x)
    x, y = np.concatenate([x, axs]), np.concatenate([y, ays])
    alive = np.concatenate([alive, np.ones(len(axs), dtype=bool)])
    anode = base + np.arange(len(axs))
    seq_start = base + np.cumsum(ainner) - ainner
    j = np.flatnonzero(joined)
    path_first = np.where(ainner[j] > 0, seq_start[j], target[j])
    links = [np.column_stack([from_node[j] + n_t, path_first])]
    inner_pairs = np.flatnonzero(np.repeat(np.arange(N_VILLAGES), ainner)[1:] == aowner[:-1])
    links.append(np.column_stack([anode[inner_pairs], anode[inner_pairs + 1]]))
    lastk = np.flatnonzero(ainner > 0)
    links.append(np.column_stack([seq_start[lastk] + ainner[lastk] - 1, target[lastk]]))
    for e in links:
        edges.append(e)
        oneway.append(np.zeros(len(e), dtype=np.int8))
    e = np.concatenate(edges)
    ow = np.concatenate(oneway)
    # Drop removed and isolated nodes; renumber.
    degree = np.bincount(e.ravel(), minlength=len(x))
    alive &= degree > 0
    assert alive[e].all()
    new = np.cumsum(alive) - 1
    e = new[e].astype(np.int32)
    x, y = x[alive], y[alive]
    settlement_of_node = np.concatenate([tg, N_TOWNS + vg, np.full(len(alive) - n_t - n_v, -1)])[alive]

    # Homes: towns by their streets, villages around their centres; none more than 120 m from a node.
    node_tree = cKDTree(np.column_stack([x, y]))
    town_size = np.bincount(settlement_of_node[settlement_of_node >= 0], minlength=N_TOWNS + N_VILLAGES)
    homes, settle = [], []
    need = N_HOMES
    while need > 0:
        n_town = rng.binomial(need, TOWN_HOME_SHARE)
        t = rng.choice(N_TOWNS, n_town, p=town_size[:N_TOWNS] / town_size[:N_TOWNS].sum())
        ux = rng.uniform(-1, 1, n_town) * (hx[t] + spacing[t] / 2)
        uy = rng.uniform(-1, 1, n_town) * (hy[t] + spacing[t] / 2)
        c, s_ = np.cos(theta[t]), np.sin(theta[t])
        p_town = np.column_stack([cx[t] + ux * c - uy * s_, cy[t] + ux * s_ + uy * c])
        v = rng.integers(0, N_VILLAGES, need - n_town)
        spread = (np.maximum(vnx, vny) * vsp / 3)[v]
        p_vil = np.column_stack([vcx[v], vcy[v]]) + rng.normal(0, 1, (len(v), 2)) * spread[:, None]
        p = np.concatenate([p_town, p_vil])
        st = np.concatenate([t, N_TOWNS + v])
        d, _ = node_tree.query(p, distance_upper_bound=120)
        good = np.isfinite(d)
        homes.append(p[good])
        settle.append(st[good])
        need -= int(good.sum())
    homes = np.concatenate(homes)[:N_HOMES]
    settle = np.concatenate(settle)[:N_HOMES].astype(np.int32)
    in_town = settle < N_TOWNS
    population = np.where(in_town, rng.integers(10, 121, N_HOMES), rng.integers(2, 9, N_HOMES)).astype(np.float64)

    # Facilities near homes: town services by residents, rural ones over all homes.
    fac_xy, fac_type = [], []
    for k, (count, by_residents) in enumerate(TYPES.values()):
        p = population / population.sum() if by_residents else None
        at = rng.choice(N_HOMES, count, p=p)
        fac_xy.append(homes[at] + rng.normal(0, 60, (count, 2)))
        fac_type.append(np.full(count, k, dtype=np.int16))
    meta = {"towns": N_TOWNS, "villages": N_VILLAGES,
            "town_nodes": int(np.sum((settlement_of_node >= 0) & (settlement_of_node < N_TOWNS))),
            "village_nodes": int(np.sum(settlement_of_node >= N_TOWNS)),
            "rural_nodes": int(np.sum(settlement_of_node < 0)), "oneway_edges": int((ow != 0).sum()),
            "generate_s": round(time.perf_counter() - t0, 1)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, x=x, y=y, u=e[:, 0], v=e[:, 1], oneway=ow, homes=homes, population=population,
             settlement=settle, fac_xy=np.concatenate(fac_xy), fac_type=np.concatenate(fac_type),
             types=np.array(list(TYPES)), meta=np.array(json.dumps(meta)))
    os.replace(tmp, path)


# --- the measurement ------------------------------------------------------------------------------

def rss_gb() -> float:
    """Current resident set (GB)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # KiB on Linux


def preset_of(types: list[str]):
    """A preset requiring the 20 types in each of the 4 walking circles (no service radii: reach is
    minutes × 80 m/min, 2,400 m at 30 minutes)."""
    from chengzhen.lifecircle.presets import Circle, Preset, Requirement

    reqs = {t: Requirement(t) for t in types}
    circles = tuple(Circle(minutes=m, name=f"{m}分钟生活圈", mode="walk", speed=WALK, requirements=reqs)
                    for m in CIRCLES)
    return Preset(code="province-bench", name="省域基准", circles=circles)


def measure(traced: dict | None, child: bool = False) -> None:
    """The timed steps and the table (``traced``: the traced child's figures); as the traced child
    (``child``), only a JSON line with its peaks."""
    from chengzhen.lifecircle.coverage import coverage
    from chengzhen.lifecircle.measure import nearest_all, within
    from chengzhen.lifecircle.network import Network

    data = dict(np.load(cache_file()))
    meta = json.loads(str(data["meta"]))
    types = [str(t) for t in data["types"]]
    homes, population, settlement = data["homes"], data["population"], data["settlement"]
    facilities = {t: data["fac_xy"][data["fac_type"] == k] for k, t in enumerate(types)}
    area_names = [f"镇{s:04d}" if s < N_TOWNS else f"村{s - N_TOWNS:05d}" for s in settlement.tolist()]
    preset = preset_of(types)
    cap = preset.largest_reach
    rows, marks = [], {"loaded": rss_gb()}
    load = os.getloadavg()

    def step(name: str, fn):
        start, cpu = time.perf_counter(), time.process_time()
        out = fn()
        rows.append({"step": name, "s": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                     "rss": rss_gb()})
        return out

    arrays = {k: data.pop(k) for k in ("x", "y", "u", "v", "oneway")}
    net = step("network: Network.from_arrays", lambda: Network.from_arrays(
        arrays["x"], arrays["y"], arrays["u"], arrays["v"], oneway=arrays["oneway"]))
    arrays.clear()  # the network holds its own (rounded, reordered) copies
    home_snaps = step(f"snap {len(homes):,} homes to edges (segment index built)",
                      lambda: net.snap(homes, max_distance=MAX_SNAP))
    n_fac = sum(len(f) for f in facilities.values())
    fac_snaps = step(f"snap {n_fac:,} facilities ({len(types)} types)",
                     lambda: {t: net.snap(xy, max_distance=MAX_SNAP) for t, xy in facilities.items()})
    results = step(f"measure: {len(types)} multi-source passes (nearest_all), cap {cap:,.0f} m",
                   lambda: nearest_all(net, fac_snaps, home_snaps, limit=cap))
    distances = {t: r.distance for t, r in results.items()}
    step(f"{len(types) * len(CIRCLES)} circle masks (within)",
         lambda: {(t, m): within(distances[t], m, WALK) for t in types for m in CIRCLES})
    cov = step(f"coverage per area: coverage.coverage ({len(set(settlement.tolist())):,} areas)",
               lambda: coverage(distances, population, preset, areas=area_names))
    total, total_cpu = sum(r["s"] for r in rows), sum(r["cpu"] for r in rows)

    def bare():
        n_areas = int(settlement.max()) + 1
        people = np.bincount(settlement, weights=population, minlength=n_areas)
        out = {}
        for t in types:
            for m in CIRCLES:
                got = np.bincount(settlement, weights=population * within(distances[t], m, WALK), minlength=n_areas)
                out[t, m] = np.divide(got, people, out=np.zeros(n_areas), where=people > 0)
        return out

    t0, c0 = time.perf_counter(), time.process_time()
    bare()
    t_bare, c_bare = time.perf_counter() - t0, time.process_time() - c0
    peak = peak_gb()
    if child:
        print(json.dumps({"traced_gb": tracemalloc.get_traced_memory()[1] / 1e9, "rss_gb": peak}))
        return

    table_rows = [{"step": r["step"], "s": r["s"], "cpu": r["cpu"], "gb": r["rss"], "goal": ""} for r in rows]
    table_rows.append({"step": "**total (network reading excluded)**", "s": total, "cpu": total_cpu, "gb": "",
                       "goal": f"<= {GOAL_S:.0f} s: {'met' if total <= GOAL_S else 'MISSED'}"})
    table_rows.append({"step": "**peak resident set, whole process (ru_maxrss)**", "s": "", "cpu": "", "gb": peak,
                       "goal": f"<= {GOAL_GB:.0f} GB: {'met' if peak <= GOAL_GB else 'MISSED'}"})
    if traced is not None:
        table_rows.append({"step": "peak traced by tracemalloc, whole process (Python + NumPy allocations; "
                                   "a second, traced run)", "s": "", "cpu": "", "gb": traced["traced_gb"], "goal": ""})
        table_rows.append({"step": "  peak resident set of that traced run (tracing's own bookkeeping included)",
                           "s": "", "cpu": "", "gb": traced["rss_gb"], "goal": ""})
    table_rows.append({"step": "for comparison: the same coverage as bare np.bincount (not in the total)",
                       "s": t_bare, "cpu": c_bare, "gb": "", "goal": ""})
    print(table(f"Life circles at province scale: {net.n_nodes:,} nodes, {net.n_edges:,} edges "
                f"({net.n_fragments:,} fragments), {len(homes):,} homes, {len(types)} types x {len(CIRCLES)} circles, "
                f"{os.cpu_count()} cores", table_rows,
                [("step", "step"), ("s", "s (wall)"), ("cpu", "s (CPU)"), ("gb", "GB (resident after)"),
                 ("goal", "goal")]))
    print(f"load average (1 min) at the start / end: {load[0]:.2f} / {os.getloadavg()[0]:.2f} — "
          f"with other work on the machine the wall time grows and the CPU time of this process does not")
    reached = np.mean([np.isfinite(d).mean() for d in distances.values()])
    walk15 = {t: float(np.sum(population * within(d, 15, WALK)) / population.sum()) for t, d in distances.items()}
    print(f"resident after loading the prepared file: {marks['loaded']:.2f} GB; "
          f"network: {meta['town_nodes']:,} town, {meta['village_nodes']:,} village, {meta['rural_nodes']:,} rural "
          f"nodes, {meta['oneway_edges']:,} one-way edges; homes > {MAX_SNAP:.0f} m from a road: "
          f"{int(home_snaps.far.sum()):,}; coverage rows: {len(cov):,}")
    print(f"homes reached within {cap:,.0f} m, mean over types: {reached:.1%}; residents within 15 min: "
          f"bus_stop {walk15['bus_stop']:.1%}, primary_school {walk15['primary_school']:.1%}, "
          f"hospital {walk15['hospital']:.1%}")


def from_lines() -> None:
    """The general constructor on the same network: every edge a two-point LineString (making them
    is not timed), for comparison with ``from_arrays``."""
    import shapely

    from chengzhen.lifecircle.network import Network

    data = np.load(cache_file())
    x, y, u, v = data["x"], data["y"], data["u"], data["v"]
    lines = shapely.linestrings(np.column_stack([x[u], y[u], x[v], y[v]]).reshape(-1, 2),
                                indices=np.repeat(np.arange(len(u)), 2))
    before = rss_gb()
    start, cpu = time.perf_counter(), time.process_time()
    net = Network.from_lines(lines, oneway=data["oneway"])
    print(f"Network.from_lines, {net.n_nodes:,} nodes, {net.n_edges:,} edges: {time.perf_counter() - start:.1f} s "
          f"wall, {time.process_time() - cpu:.1f} s CPU; resident {before:.2f} GB with the LineStrings, "
          f"{rss_gb():.2f} GB after, peak {peak_gb():.2f} GB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the second, traced run")
    parser.add_argument("--regenerate", action="store_true", help="make the province again")
    parser.add_argument("--from-lines", action="store_true",
                        help="only time Network.from_lines on the same network as 2-point LineStrings, for comparison")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)  # child processes
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(cache_file())
        return
    if args.traced:
        measure(None, child=True)
        return
    if args.regenerate or not cache_file().exists():
        print(f"generating the province into {cache_file()} (once) …", file=sys.stderr)
        subprocess.run([sys.executable, __file__, "--generate"], check=True)
    if args.from_lines:
        from_lines()
        return
    traced = None
    if not args.no_tracemalloc:  # tracing slows Python-object work (coverage rows ~4×): its own run
        print("the traced run (memory only) …", file=sys.stderr)
        out = subprocess.run([sys.executable, "-X", "tracemalloc=1", __file__, "--traced"], check=True,
                             capture_output=True, text=True)
        traced = json.loads(out.stdout.strip().splitlines()[-1])
    measure(traced)


if __name__ == "__main__":
    main()
