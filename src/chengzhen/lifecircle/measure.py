"""The measurement (测度): for every home, the network distance to the nearest facility of a type.

One multi-source Dijkstra per facility type (scipy.sparse.csgraph, ``min_only=True``), whatever the
number of homes; :func:`nearest_all` (and :func:`measure_all`) prepare what every type shares once.
Definitions (docs/lifecircle.md, "The network and the measurement"):

- Direction: by default the distance is from the home to the facility (the resident travels), so
  the search runs on the reversed graph from the facilities; ``direction="from_facility"`` runs
  on the graph itself. Both are the same on a network without one-way edges.
- Edge snapping: one virtual node per facility, appended after the real nodes and wired to its
  edge's ends with ``connector_f + along-edge offset`` (one-way respected: a one-way edge is
  entered only from ``u``). The search starts from all virtual nodes at once; ``sources`` names
  the virtual node, hence the facility, that gave each node its distance. A home's distance is
  ``min(d[u] + leave_u, d[v] + leave_v) + connector_h`` — and, when a facility sits on the home's
  own edge, the direct along-edge distance ``|s_h - s_f| + connector_h + connector_f`` if shorter
  (on a one-way edge only towards the direction of travel).
- Node snapping: facilities' nodes are the sources; a home's distance is ``d[node]``, no connectors.
- ``limit``: distances beyond it (connectors included) are ``inf``, as are homes on a fragment
  without a facility and points flagged ``far`` by the snapping. Ties: the facility whose offset
  reached the deciding node first; the distance is the same either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from chengzhen.lifecircle.network import Network, Snap

Direction = Literal["to_facility", "from_facility"]


@dataclass(frozen=True)
class Nearest:
    """Per home: ``distance`` (m, ``inf`` when unreachable, beyond the limit or far from the
    network), ``facility`` (the nearest facility's index in the facility snaps, -1 when none),
    ``fragment`` (the network fragment of the home's snap, -1 when far) and ``far``."""

    distance: np.ndarray
    facility: np.ndarray
    fragment: np.ndarray
    far: np.ndarray


def _check(facility_snaps: Snap, home_snaps: Snap, direction: str) -> None:
    if facility_snaps.mode != home_snaps.mode:
        raise ValueError("facilities and homes must be snapped the same way")
    if direction not in ("to_facility", "from_facility"):
        raise ValueError(f"unknown direction {direction!r}")


def nearest(network: Network, facility_snaps: Snap, home_snaps: Snap, *, limit: float | None = None,
            direction: Direction = "to_facility") -> Nearest:
    """Nearest facility of one type for every home: one multi-source shortest-path pass."""
    _check(facility_snaps, home_snaps, direction)
    lim = np.inf if limit is None else float(limit)
    f, h = facility_snaps, home_snaps
    if f.mode == "node":
        return _node_nearest(network, f, h, lim, direction)
    home = _Homes.of(network, h, direction)
    return _edge_nearest(network, _Sources.of(network, [f], direction), 0, f, home, lim, direction)


def _node_nearest(network: Network, f: Snap, h: Snap, lim: float, direction: Direction) -> Nearest:
    n = network.n_nodes
    graph = network.reverse if direction == "to_facility" else network.graph
    hu = np.maximum(h.u, 0)
    fragment = np.where(h.far, -1, network.fragment[hu])
    ok = np.flatnonzero(~f.far)
    nodes, first = np.unique(f.node[ok], return_index=True)  # one source per node: lowest facility
    distance = np.full(len(h), np.inf)
    facility = np.full(len(h), -1, dtype=np.int64)
    if len(nodes):
        dist, _, src = dijkstra(graph, directed=True, indices=nodes, min_only=True, limit=lim,
                                return_predecessors=True)
        of_node = np.full(n, -1, dtype=np.int64)
        of_node[nodes] = ok[first]
        reach = ~h.far & np.isfinite(dist[hu])
        distance[reach] = dist[hu[reach]]
        facility[reach] = of_node[src[hu[reach]]]
    return Nearest(distance, facility, fragment, h.far.copy())


@dataclass(frozen=True)
class _Homes:
    """The homes' side of edge snapping, the same for every type: snap ends ``hu``/``hv``, the costs
    from the home onto them (``inf`` for far homes and for directions one-way forbids) and the
    connector (0 for far homes)."""

    snap: Snap
    hu: np.ndarray
    hv: np.ndarray
    cost_u: np.ndarray
    cost_v: np.ndarray
    connector: np.ndarray
    fragment: np.ndarray

    @classmethod
    def of(cls, network: Network, h: Snap, direction: Direction) -> _Homes:
        h_u, h_v = (h.leave_u, h.leave_v) if direction == "to_facility" else (h.enter_u, h.enter_v)
        hu = np.maximum(h.u, 0)
        return cls(h, hu, np.maximum(h.v, 0), np.where(h.far, np.inf, h_u), np.where(h.far, np.inf, h_v),
                   np.where(h.far, 0.0, h.connector), np.where(h.far, -1, network.fragment[hu]))


@dataclass(frozen=True)
class _Sources:
    """Facilities of one or more types as virtual nodes appended to the graph (one per facility not
    far from the network, type after type): ``graph`` the augmented CSR, per type ``ok`` (indexes
    of its facilities that have a virtual node) and ``first`` (its first virtual node, counted from
    ``n_nodes``). One augmented graph serves every type — the other types' virtual nodes have no
    edges in, so a search from one type's never reaches them — instead of a copy of the whole
    graph per type."""

    graph: csr_matrix
    ok: list[np.ndarray]
    first: list[int]

    @classmethod
    def of(cls, network: Network, snaps: list[Snap], direction: Direction) -> _Sources:
        base = network.reverse if direction == "to_facility" else network.graph
        ends_u, ends_v, costs_u, costs_v, oks, firsts = [], [], [], [], [], []
        count = 0
        for f in snaps:
            f_u, f_v = (f.enter_u, f.enter_v) if direction == "to_facility" else (f.leave_u, f.leave_v)
            ok = np.flatnonzero(~f.far)
            wu = f_u[ok] + f.connector[ok]
            wv = f_v[ok] + f.connector[ok]
            loop = f.u[ok] == f.v[ok]
            wu[loop] = np.minimum(wu[loop], wv[loop])
            wv[loop] = np.inf
            ends_u.append(f.u[ok])
            ends_v.append(f.v[ok])
            costs_u.append(wu)
            costs_v.append(wv)
            oks.append(ok)
            firsts.append(count)
            count += len(ok)
        graph = _with_sources(base, np.concatenate(ends_u), np.concatenate(costs_u), np.concatenate(ends_v),
                              np.concatenate(costs_v))
        return cls(graph, oks, firsts)


def _edge_nearest(network: Network, sources: _Sources, t: int, f: Snap, home: _Homes, lim: float,
                  direction: Direction) -> Nearest:
    """Edge snapping, type ``t`` of ``sources``: one pass from its virtual nodes."""
    n = network.n_nodes
    h = home.snap
    ok, first = sources.ok[t], n + sources.first[t]
    distance = np.full(len(h), np.inf)
    facility = np.full(len(h), -1, dtype=np.int64)
    if len(ok):
        dist, _, src = dijkstra(sources.graph, directed=True, indices=np.arange(first, first + len(ok)),
                                min_only=True, limit=lim, return_predecessors=True)
        du = dist[home.hu] + home.cost_u
        dv = dist[home.hv] + home.cost_v
        pick_u = du <= dv
        distance = np.where(pick_u, du, dv)
        distance += home.connector
        s = np.where(pick_u, src[home.hu], src[home.hv])
        facility = np.where(np.isfinite(distance) & (s >= first), ok[np.clip(s - first, 0, len(ok) - 1)],
                            -1).astype(np.int64)
        _same_edge(network, f, h, ok, direction, distance, facility)
        beyond = distance > lim
        distance[beyond] = np.inf
        facility[beyond] = -1
    return Nearest(distance, facility, home.fragment, h.far.copy())


def _with_sources(graph: csr_matrix, a: np.ndarray, wa: np.ndarray, b: np.ndarray, wb: np.ndarray) -> csr_matrix:
    """The graph with one virtual node per facility appended, with edges to ``a`` and ``b``
    (infinite weights left out: a one-way edge not enterable from that end)."""
    n, k = graph.shape[0], len(a)
    dst = np.column_stack([a, b])
    w = np.column_stack([wa, wb])
    fin = np.isfinite(w)
    counts = fin.sum(axis=1)
    nnz = graph.nnz + int(counts.sum())
    itype = np.int32 if max(nnz, n + k) < 2**31 - 1 else np.int64  # SciPy's csgraph works in int32
    indptr = np.concatenate([graph.indptr.astype(itype, copy=False),
                             (graph.indptr[-1] + np.cumsum(counts)).astype(itype)])
    indices = np.concatenate([graph.indices.astype(itype, copy=False), dst[fin].astype(itype)])
    data = np.concatenate([graph.data, w[fin]])
    return csr_matrix((data, indices, indptr), shape=(n + k, n + k))


def _same_edge(network: Network, f: Snap, h: Snap, ok: np.ndarray, direction: Direction,
               distance: np.ndarray, facility: np.ndarray) -> None:
    """Homes sharing an edge with facilities: the direct along-edge distance when shorter.
    Right of the home (s_f >= s_h) the cost is s_f + c_f - s_h, left of it c_f - s_f + s_h; the
    best facility on each side is a segmented suffix / prefix minimum over facilities sorted
    along their edge. On a one-way edge only the side in the direction of travel counts."""
    fe = f.edge[ok]
    has = np.zeros(network.n_edges + 1, dtype=bool)  # the last slot stands for a far home's edge -1
    has[fe] = True
    homes = np.flatnonzero(has[h.edge] & ~h.far)
    if not len(homes):
        return
    sf, cf = f.off_u[ok], f.connector[ok]
    length = network.length
    key_f = _edge_key(fe, sf, length)
    order = np.argsort(key_f, kind="stable")
    key_f, fe, sf, cf, fid = key_f[order], fe[order], sf[order], cf[order], ok[order]
    edges, seg = np.unique(fe, return_inverse=True)
    seg_start = np.searchsorted(fe, edges, side="left")
    seg_end = np.searchsorted(fe, edges, side="right")
    he = h.edge[homes]
    hs = h.off_u[homes]
    hseg = np.searchsorted(edges, he)
    side = "left" if direction == "to_facility" else "right"  # a facility at the home's point: reachable
    i = np.searchsorted(key_f, _edge_key(he, hs, length), side=side)
    one = network.oneway[he]
    best = np.full(len(homes), np.inf)
    best_f = np.full(len(homes), -1, dtype=np.int64)
    right_ok = (i < seg_end[hseg]) & (~one | (direction == "to_facility"))
    if right_ok.any():
        arg = _segmented_argmin(sf + cf, seg, reverse=True)
        j = arg[i[right_ok]]
        best[right_ok] = sf[j] - hs[right_ok] + cf[j]
        best_f[right_ok] = fid[j]
    left_ok = (i > seg_start[hseg]) & (~one | (direction == "from_facility"))
    if left_ok.any():
        arg = _segmented_argmin(cf - sf, seg, reverse=False)
        j = arg[i[left_ok] - 1]
        cand = hs[left_ok] - sf[j] + cf[j]
        take = cand < best[left_ok]
        idx = np.flatnonzero(left_ok)[take]
        best[idx] = cand[take]
        best_f[idx] = fid[j[take]]
    best += h.connector[homes]
    better = best < distance[homes]
    distance[homes[better]] = best[better]
    facility[homes[better]] = best_f[better]


def _edge_key(edge: np.ndarray, along: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Sort key: by edge, then along it (the fraction stays in [0, 1], so edges never mix)."""
    frac = np.divide(along, length[edge], out=np.zeros(len(along)), where=length[edge] > 0)
    return edge * 2.0 + np.clip(frac, 0.0, 1.0)


def _segmented_argmin(vals: np.ndarray, seg: np.ndarray, *, reverse: bool) -> np.ndarray:
    """For each position, the index of the smallest value at or before it (after it when
    ``reverse``) within its segment; ``seg`` is non-decreasing. Segments are kept apart by
    shifting each one below the previous (the choice among values within ~1e-6 m may differ;
    the caller recomputes the exact distance of the chosen one)."""
    spread = float(vals.max() - vals.min()) + 1.0
    pos = np.arange(len(vals))
    if reverse:
        adj = (vals + seg * spread)[::-1]
        pos = pos[::-1]
    else:
        adj = vals - seg * spread
    run = np.minimum.accumulate(adj)
    at = np.where(adj == run, np.arange(len(adj)), 0)
    winner = np.maximum.accumulate(at)
    out = pos[winner]
    return out[::-1] if reverse else out


def nearest_all(network: Network, facility_snaps: Mapping[str, Snap], home_snaps: Snap, *,
                limit: float | None = None, direction: Direction = "to_facility") -> dict[str, Nearest]:
    """:func:`nearest` for every type of already snapped facilities, in their order. The same
    answers; with edge snapping the homes' side and the facilities' virtual nodes are made once
    for all types (one augmented graph, not a copy of the graph per type); their ``fragment``
    arrays are one array."""
    if direction not in ("to_facility", "from_facility"):
        raise ValueError(f"unknown direction {direction!r}")
    for f in facility_snaps.values():
        _check(f, home_snaps, direction)
    lim = np.inf if limit is None else float(limit)
    if home_snaps.mode == "node" or not facility_snaps:
        return {kind: nearest(network, f, home_snaps, limit=limit, direction=direction)
                for kind, f in facility_snaps.items()}
    home = _Homes.of(network, home_snaps, direction)
    sources = _Sources.of(network, list(facility_snaps.values()), direction)
    return {kind: _edge_nearest(network, sources, t, f, home, lim, direction)
            for t, (kind, f) in enumerate(facility_snaps.items())}


def measure_all(network: Network, facilities_by_type: Mapping[str, np.ndarray], homes: np.ndarray, *,
                snap: Literal["edge", "node"] = "edge", limit: float | None = None,
                max_distance: float | None = None, direction: Direction = "to_facility",
                as_frame: bool = False):
    """Every facility type at once: homes snapped once, one pass per type. Returns a dict of
    NumPy arrays (the library needs no pandas) with ``fragment``, ``far`` and per type
    ``<type>_m`` (float64, ``inf`` beyond ``limit``) and ``<type>_id`` (index into that type's
    facility array, -1 when none); ``as_frame=True`` gives a pandas DataFrame instead."""
    home_snaps = network.snap(homes, mode=snap, max_distance=max_distance)
    # every type's facilities in one snapping call (one spatial sort, one pass of the index)
    arrays = [np.asarray(xy, dtype=np.float64).reshape(-1, 2) for xy in facilities_by_type.values()]
    together = network.snap(np.concatenate(arrays) if arrays else np.zeros((0, 2)), mode=snap,
                            max_distance=max_distance)
    ends = np.cumsum([0, *(len(a) for a in arrays)])
    fac_snaps = {kind: together.part(int(ends[i]), int(ends[i + 1])) for i, kind in enumerate(facilities_by_type)}
    out: dict[str, np.ndarray] = {}
    for kind, res in nearest_all(network, fac_snaps, home_snaps, limit=limit, direction=direction).items():
        if not out:
            out["fragment"] = res.fragment
            out["far"] = res.far
        out[f"{kind}_m"] = res.distance
        out[f"{kind}_id"] = res.facility
    if not out:
        out["fragment"] = np.where(home_snaps.far, -1, network.fragment[np.maximum(home_snaps.u, 0)])
        out["far"] = home_snaps.far.copy()
    if as_frame:
        import pandas as pd  # optional: only when a frame is asked for

        return pd.DataFrame(out)
    return out


def within(distance_m: np.ndarray, minutes: float, speed_m_per_min: float) -> np.ndarray:
    """The circle mask: reached within ``minutes`` at ``speed_m_per_min`` (``inf`` never is)."""
    return np.asarray(distance_m) <= minutes * speed_m_per_min
