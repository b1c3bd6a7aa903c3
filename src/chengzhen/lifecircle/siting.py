"""Where to build (设施选址): choose k new sites among candidates so that the most people not yet
served come within reach — the maximal covering location problem (MCLP, Church & ReVelle 1974),
existing facilities kept. Pure: NumPy and SciPy, no Django.

Steps:

1. **Cover matrix** (``cover_matrix``): for every candidate, the homes within ``reach`` metres of
   network distance, by one bounded Dijkstra per candidate (``scipy.sparse.csgraph.dijkstra`` with
   ``limit``, candidates in chunks so memory stays bounded), with the same edge snapping and
   one-way rules as the measurement (``measure``): a virtual node per candidate wired to its edge's
   ends, the connector legs counted, the direct along-edge distance when home and candidate share
   an edge. The result is a sparse homes × candidates boolean matrix.
2. **Demand** (``demand``): homes already within reach of an existing facility are served and
   count for nothing; homes no candidate reaches neither; the rest are grouped by the exact set of
   candidates that reach them (an exact reduction: the model's rows are the distinct sets, each
   weighted by its population).
3. **Solve**: ``greedy`` takes each time the candidate covering the most new population (ties:
   the lowest index), one sparse matrix-vector product per pick; ``exact`` solves the
   mixed-integer model — maximise Σ wᵢyᵢ subject to yᵢ ≤ Σ_{j∈Nᵢ} xⱼ, Σ xⱼ = k, x binary,
   0 ≤ y ≤ 1 — with HiGHS (``scipy.optimize.milp``) within a time limit, keeping greedy's answer
   when HiGHS finds none better in time.
4. **Bound and gap**: every answer carries an upper bound on the best possible objective and the
   gap (bound − objective) / bound. The bound is the tightest available of: the LP relaxation's
   value by its Lagrangian dual (``lagrangian_bound``: the coverage rows relaxed, subgradient
   steps; equal to the LP optimum at convergence and a valid bound at every step, in milliseconds
   where HiGHS's LP took 13–23 s on the benchmark instance; ``lp_bound`` solves the LP itself), the
   MIP's dual bound (exact), and the greedy online bound (for any step i: covered(Sᵢ) + the k
   largest marginal gains at Sᵢ — valid because coverage is submodular; Nemhauser, Wolsey & Fisher
   1978). The gap is never negative.

Why our own code: PySAL spopt builds MCLP from a dense demand × candidate matrix through PuLP
(about 30 s of model construction per 3 million pairs, Euclidean distances unless a cost matrix is
passed), infeasible at 100,000 homes × 2,000 candidates; the sparse model here goes to HiGHS
directly. spopt is the reference in the tests (same objective on small instances).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.sparse import csr_matrix, hstack, identity, vstack
from scipy.sparse.csgraph import dijkstra

from .measure import Direction, _with_sources
from .network import Network, Snap

Method = Literal["exact", "greedy"]
CHUNK = 64  # candidates per bounded search: K × (nodes + candidates) float64 at a time


def cover_matrix(network: Network, candidates: Snap, homes: Snap, reach: float, *,
                 direction: Direction = "to_facility", chunk: int = CHUNK) -> csr_matrix:
    """Homes × candidates, True where the home is within ``reach`` metres of network distance of
    the candidate (home → candidate by default, as a resident travels). Far points reach nothing.

    Only the nodes a bounded search reaches are expanded to the homes attached to them (homes
    grouped by end node once), so the cost is the searches plus the pairs found, not
    candidates × homes."""
    if candidates.mode != homes.mode:
        raise ValueError("candidates and homes must be snapped the same way")
    n, nh, nc = network.n_nodes, len(homes), len(candidates)
    reach = float(reach)
    graph = network.reverse if direction == "to_facility" else network.graph
    h, c = homes, candidates
    near = np.flatnonzero(~h.far)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    ok = np.flatnonzero(~c.far)
    if c.mode == "node":
        ends = [(_by_key(h.node[near], near, n), np.zeros(nh))]
        sources, graph_used = c.node[ok], graph
    else:
        if direction == "to_facility":
            h_u, h_v, c_u, c_v = h.leave_u, h.leave_v, c.enter_u, c.enter_v
        else:
            h_u, h_v, c_u, c_v = h.enter_u, h.enter_v, c.leave_u, c.leave_v
        wu, wv = c_u[ok] + c.connector[ok], c_v[ok] + c.connector[ok]
        loop = c.u[ok] == c.v[ok]
        wu[loop] = np.minimum(wu[loop], wv[loop])
        wv[loop] = np.inf
        graph_used = _with_sources(graph, c.u[ok], wu, c.v[ok], wv)
        sources = n + np.arange(len(ok))
        ends = [(_by_key(h.u[near], near, n), h_u + h.connector), (_by_key(h.v[near], near, n), h_v + h.connector)]
        on_edge = _by_key(h.edge[near], near, network.n_edges)
    # Chunks of nearby candidates (Z-order of cells), each searched on the subgraph of nodes within
    # ``reach`` of the chunk's snap points: a path no longer than ``reach`` never leaves it (an
    # edge is at least as long as its chord), so the answers are the same as on the whole graph.
    lo, hi = _snap_bounds(network, c, ok)
    order = np.argsort(_z_order((lo + hi) / 2, max(reach, 1.0)), kind="stable")
    xs, ys = network.x, network.y
    for start in range(0, len(ok), chunk):
        pick = order[start:start + chunk]
        (x0, y0), (x1, y1) = lo[pick].min(axis=0) - reach, hi[pick].max(axis=0) + reach
        local = np.flatnonzero((xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1))
        keep_nodes = np.concatenate([local, sources[pick]]) if c.mode == "edge" else local
        sub = graph_used[keep_nodes][:, keep_nodes]
        position = np.full(graph_used.shape[0], -1, dtype=np.int64)
        position[keep_nodes] = np.arange(len(keep_nodes))
        dist = dijkstra(sub, directed=True, indices=position[sources[pick]], limit=reach)[:, :len(local)]
        kk, at = np.nonzero(dist <= reach)
        node, dd = local[at], dist[kk, at]
        for (ptr, items), leave in ends:
            rep, found = _expand(ptr, items, node)
            keep = dd[rep] + leave[found] <= reach
            rows.append(found[keep])
            cols.append(ok[pick][kk[rep[keep]]])
        if c.mode == "edge":
            j = ok[pick]
            rep, found = _expand(*on_edge, c.edge[j])
            cand = j[rep]
            sh, sc = h.off_u[found], c.off_u[cand]
            one = network.oneway[c.edge[cand]].astype(bool)
            right = sc >= sh  # the candidate lies further along the edge than the home
            # one-way edges run u -> v: towards the candidate (to_facility) only when it lies ahead
            allowed = (right | ~one) if direction == "to_facility" else (~right | ~one)
            direct = np.abs(sc - sh) + c.connector[cand] + h.connector[found]
            keep = allowed & (direct <= reach)
            rows.append(found[keep])
            cols.append(cand[keep])
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    q = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    out = csr_matrix((np.ones(len(r), dtype=bool), (r, q)), shape=(nh, nc))
    out.sum_duplicates()
    return out


def _snap_bounds(network: Network, c: Snap, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds containing each candidate's snap point: its edge's geometry (edge mode) or node."""
    if c.mode == "node":
        xy = np.column_stack([network.x[c.node[ok]], network.y[c.node[ok]]])
        return xy, xy
    import shapely

    b = shapely.bounds(network.geometry[c.edge[ok]])
    return b[:, :2], b[:, 2:]


def _z_order(xy: np.ndarray, cell: float) -> np.ndarray:
    """Morton code of each point's cell: nearby points get nearby codes."""
    g = np.floor((xy - xy.min(axis=0)) / cell).astype(np.uint64) if len(xy) else np.zeros((0, 2), np.uint64)
    code = np.zeros(len(xy), dtype=np.uint64)
    for bit in range(21):
        for axis in (0, 1):
            code |= ((g[:, axis] >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + axis)
    return code


def _by_key(keys: np.ndarray, items: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``items`` grouped by ``keys`` in [0, size): (indptr, items in key order)."""
    order = np.argsort(keys, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=size))])
    return ptr, items[order]


def _expand(ptr: np.ndarray, items: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each key in ``keys``, every item of its group: (position in ``keys``, item)."""
    counts = ptr[keys + 1] - ptr[keys]
    total = int(counts.sum())
    rep = np.repeat(np.arange(len(keys)), counts)
    at = np.repeat(ptr[keys] - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(total)
    return rep, items[at]


@dataclass(frozen=True)
class Demand:
    """The model's rows: distinct sets of candidates reaching unserved homes, each with its
    population (``weight``); ``cover`` is groups × candidates; ``group`` maps each home to its row
    (-1: already served, or reached by no candidate); ``served`` the population already served."""

    cover: csr_matrix
    weight: np.ndarray
    group: np.ndarray
    served: float
    total: float
    unreachable: float


def demand(cover: csr_matrix, population: np.ndarray, served: np.ndarray | None = None) -> Demand:
    """Group the homes not yet ``served`` by the exact set of candidates that reach them."""
    pop = np.asarray(population, dtype=float)
    nh = cover.shape[0]
    served = np.zeros(nh, dtype=bool) if served is None else np.asarray(served, dtype=bool)
    cover = cover.tocsr()
    cover.sort_indices()
    counts = np.diff(cover.indptr)
    open_ = ~served & (counts > 0)
    group = np.full(nh, -1, dtype=np.int64)
    keys: dict[bytes, int] = {}
    rows_indptr, rows_indices, weight = [0], [], []
    indptr, indices = cover.indptr, cover.indices
    for i in np.flatnonzero(open_):
        cols = indices[indptr[i]:indptr[i + 1]]
        key = cols.tobytes()
        g = keys.get(key)
        if g is None:
            g = keys[key] = len(weight)
            rows_indices.append(cols)
            rows_indptr.append(rows_indptr[-1] + len(cols))
            weight.append(0.0)
        weight[g] += pop[i]
        group[i] = g
    idx = np.concatenate(rows_indices) if rows_indices else np.zeros(0, dtype=np.int32)
    grouped = csr_matrix((np.ones(len(idx), dtype=bool), idx, np.asarray(rows_indptr)),
                         shape=(len(weight), cover.shape[1]))
    unreached = ~served & (counts == 0)
    return Demand(grouped, np.asarray(weight, dtype=float), group, float(pop[served].sum()), float(pop.sum()),
                  float(pop[unreached].sum()))


@dataclass(frozen=True)
class Siting:
    """The chosen ``sites`` (candidate indices, in rank order), the new population each covers in
    that order (``gains``: marginal, so they sum to ``objective``), the best upper bound found
    (``bound``, of kind ``bound_kind``: lp, mip or greedy-online), the ``method`` used and whether
    the answer is proven ``optimal``; ``notes`` says what happened (time limit, fallback)."""

    sites: np.ndarray
    gains: np.ndarray
    objective: float
    bound: float
    bound_kind: str
    method: str
    optimal: bool
    seconds: float
    notes: tuple[str, ...] = field(default=())

    @property
    def gap(self) -> float:
        """(bound − objective) / bound, 0 when nothing can be covered; never negative."""
        return max(0.0, (self.bound - self.objective) / self.bound) if self.bound > 0 else 0.0


def greedy(d: Demand, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Greedy picks (each the largest new population, ties to the lowest index), their gains and
    the online bound min_i [covered(Sᵢ) + sum of the k largest gains at Sᵢ]."""
    nc = d.cover.shape[1]
    by_candidate = d.cover.T.tocsr().astype(np.float64)
    left = d.weight.copy()
    picked, gains = [], []
    covered, bound = 0.0, np.inf
    chosen = np.zeros(nc, dtype=bool)
    for _ in range(min(k, nc)):
        gain = by_candidate @ left
        gain[chosen] = -1.0
        top = np.sort(gain[~chosen])[::-1][:k]
        bound = min(bound, covered + float(top[top > 0].sum()))
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        picked.append(j)
        gains.append(float(gain[j]))
        covered += float(gain[j])
        chosen[j] = True
        left[by_candidate.indices[by_candidate.indptr[j]:by_candidate.indptr[j + 1]]] = 0.0
    bound = min(bound, covered) if not np.isfinite(bound) else bound
    return np.asarray(picked, dtype=np.int64), np.asarray(gains), max(bound, covered)


def _model(d: Demand, k: int):
    """Variables [x (candidates), y (groups)]; rows y_i − Σ_{j∈N_i} x_j ≤ 0 and Σ x_j = k."""
    ng, nc = d.cover.shape
    a = hstack([-d.cover.astype(np.float64), identity(ng, format="csr")], format="csr")
    b = csr_matrix(np.concatenate([np.ones(nc), np.zeros(ng)])[None, :])
    c = np.concatenate([np.zeros(nc), -d.weight])
    return c, vstack([a, b], format="csr"), ng, nc


def lp_bound(d: Demand, k: int, *, time_limit: float | None = None) -> float | None:
    """The LP relaxation's optimum (an upper bound on the MCLP's), None when HiGHS does not
    finish in time."""
    from scipy.optimize import linprog

    ng, nc = d.cover.shape
    if ng == 0:
        return 0.0
    k = min(k, nc)
    c, a, ng, nc = _model(d, k)
    options = {} if time_limit is None else {"time_limit": float(time_limit)}
    res = linprog(c, A_ub=a[:ng], b_ub=np.zeros(ng), A_eq=a[ng:], b_eq=[k], bounds=(0, 1), method="highs",
                  options=options)
    return float(-res.fun) if res.status == 0 else None


def lagrangian_bound(d: Demand, k: int, *, lower: float = 0.0, iterations: int = 300) -> float:
    """An upper bound from relaxing the coverage rows with multipliers u ≥ 0: L(u) = Σ max(0, wᵢ − uᵢ)
    + the k largest Σ_{i∈N_j} uᵢ. Every u gives a valid bound; its minimum over u equals the LP
    relaxation's optimum (the subproblem has integral vertices), so a few hundred subgradient steps
    (one sparse product each, Polyak steps towards ``lower``, the best known objective) give the LP
    bound or a little above it in milliseconds where HiGHS's LP takes seconds to minutes."""
    ng, nc = d.cover.shape
    if ng == 0 or k <= 0:
        return 0.0
    k = min(k, nc)
    a = d.cover.astype(np.float64).tocsr()
    at = a.T.tocsr()
    w = d.weight
    u = w * 0.5
    best, theta, stall = np.inf, 2.0, 0
    for _ in range(iterations):
        gain = at @ u
        top = np.argpartition(-gain, k - 1)[:k] if k < nc else np.arange(nc)
        value = float(np.maximum(w - u, 0).sum() + gain[top].sum())
        if value < best - 1e-9:
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 20:
                theta, stall = theta / 2, 0
        x = np.zeros(nc)
        x[top] = 1.0
        g = (w > u).astype(np.float64) - a @ x
        norm = float(np.square(g).sum())  # not BLAS: its threads spin against the other core for 20,000 numbers
        if norm == 0 or best - lower <= 1e-9 * max(1.0, best):
            break
        u = np.maximum(0.0, u + theta * (value - lower) / norm * g)
    return best


def order_by_gain(d: Demand, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank chosen sites greedily within the set (largest new population first), with the gains."""
    by_candidate = d.cover.T.tocsr().astype(np.float64)
    left = d.weight.copy()
    rest = [int(s) for s in sites]
    ranked, gains = [], []
    while rest:
        g = [float(left[by_candidate.indices[by_candidate.indptr[j]:by_candidate.indptr[j + 1]]].sum()) for j in rest]
        best = int(np.argmax(g))
        j = rest.pop(best)
        ranked.append(j)
        gains.append(g[best])
        left[by_candidate.indices[by_candidate.indptr[j]:by_candidate.indptr[j + 1]]] = 0.0
    return np.asarray(ranked, dtype=np.int64), np.asarray(gains)


def solve(d: Demand, k: int, *, method: Method = "exact", time_limit: float = 60.0) -> Siting:
    """Choose ``k`` sites (see the module docstring). ``k`` larger than the candidates is the
    caller's to refuse; here it is capped."""
    if method not in ("exact", "greedy"):
        raise ValueError(f"unknown method {method!r}")
    start = time.perf_counter()
    nc = d.cover.shape[1]
    k = min(int(k), nc)
    sites, gains, online = greedy(d, k)
    objective = float(gains.sum())
    notes: list[str] = []
    bound, kind = online, "greedy-online"
    lagrangian = lagrangian_bound(d, k, lower=objective)
    if lagrangian < bound:
        bound, kind = lagrangian, "lp"
    used, optimal = "greedy", objective >= bound - 1e-9
    if method == "exact" and not optimal:
        from scipy.optimize import Bounds, LinearConstraint, milp

        c, a, ng, nc = _model(d, k)
        remaining = max(1.0, time_limit - (time.perf_counter() - start))
        res = milp(c, constraints=[LinearConstraint(a[:ng], -np.inf, 0), LinearConstraint(a[ng:], k, k)],
                   integrality=np.concatenate([np.ones(nc), np.zeros(ng)]), bounds=Bounds(0, 1),
                   options={"time_limit": remaining, "mip_rel_gap": 0.0})
        if res.x is not None:
            used = "exact"
            found = np.flatnonzero(res.x[:nc] > 0.5)
            if float(d.weight @ np.minimum(1.0, d.cover @ (res.x[:nc] > 0.5))) > objective + 1e-9:
                sites, gains = order_by_gain(d, found)
                objective = float(gains.sum())
        if res.status == 0 and res.x is not None:
            optimal, bound, kind = True, objective, "mip"
        else:
            dual = getattr(res, "mip_dual_bound", None)
            if dual is not None and np.isfinite(dual) and -dual < bound:
                bound, kind = float(-dual), "mip"
            notes.append("混合整数模型在时限内未证最优" + ("" if res.x is not None else "，取贪心结果"))
    return Siting(sites, gains, objective, max(bound, objective), kind, used, bool(optimal),
                  time.perf_counter() - start, tuple(notes))
