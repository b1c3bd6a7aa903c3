"""The road network (路网) as a directed sparse graph, and points snapped onto it.

Conventions (docs/lifecircle.md, "The network and the measurement"):

- Coordinates are metres in a metric CRS. They are rounded to ``TOLERANCE_M`` (1 mm) before
  anything else, so line ends closer than that join; two lines join only where they share a
  vertex (after rounding) — lines that cross without a shared vertex (a bridge over a road) do not.
- Nodes are every line's end points and every vertex shared by two or more lines (or met twice by
  one line). Edges are the polylines between consecutive nodes along a line; an edge's length is
  its polyline length.
- One-way: ``oneway=+1`` travels in the digitised direction only, ``-1`` against it (the edge is
  stored reversed, so every one-way edge runs from ``u`` to ``v``), ``0`` both ways.
- Fragments (连通片) are the weakly connected components of the directed graph.
- :meth:`Network.from_arrays` is the fast path for prepared networks (node coordinates and straight
  edges, a province's 5 million nodes): no LineStrings are made unless ``geometry`` is asked for.
- A point snapped onto an edge keeps its along-edge offsets to both ends as geometry; the travel
  costs that respect one-way are :meth:`Snap.leave_u` … :meth:`Snap.enter_v` (``inf`` where the
  direction is not allowed: on a one-way edge a point can be left only towards ``v`` and entered
  only from ``u``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from chengzhen.problems import Problem, Refused

# k-d tree queries of the snapping on every core (SciPy's threads; the answers do not depend on it)
SNAP_WORKERS = int(os.environ.get("CHENGZHEN_SNAP_WORKERS", "-1"))
TOLERANCE_M = 0.001  # coordinates are rounded to 1 mm: touching ends within that join


@dataclass(frozen=True)
class Snap:
    """Points snapped onto a network (one row per point, in the input order).

    Edge mode: ``edge`` is the edge index, ``u``/``v`` its end nodes, ``off_u``/``off_v`` the
    along-edge distances from the snap point to ``u`` and to ``v`` (geometry, ignoring one-way),
    ``connector`` the straight line from the point to its snap point. Node mode: ``node`` is the
    nearest node, ``u == v == node``, offsets and connector 0 (the peers' convention). Points
    farther than ``max_distance`` from the network have ``far`` set, ``edge``/``node``/``u``/``v``
    = -1 and ``inf`` offsets: they are kept, flagged, and never reach anything.
    """

    mode: Literal["edge", "node"]
    edge: np.ndarray
    node: np.ndarray
    u: np.ndarray
    v: np.ndarray
    off_u: np.ndarray
    off_v: np.ndarray
    connector: np.ndarray
    oneway: np.ndarray
    far: np.ndarray

    def __len__(self) -> int:
        return len(self.u)

    def part(self, start: int, stop: int) -> Snap:
        """The snaps of points ``start`` … ``stop - 1`` (one snapping call for several point sets)."""
        cut = slice(start, stop)
        return Snap(self.mode, self.edge[cut], self.node[cut], self.u[cut], self.v[cut], self.off_u[cut],
                    self.off_v[cut], self.connector[cut], self.oneway[cut], self.far[cut])

    # Travel costs from / to the snap point, respecting one-way (edges run u -> v when one-way).
    @property
    def leave_u(self) -> np.ndarray:
        return np.where(self.oneway, np.inf, self.off_u)

    @property
    def leave_v(self) -> np.ndarray:
        return self.off_v

    @property
    def enter_u(self) -> np.ndarray:
        return self.off_u

    @property
    def enter_v(self) -> np.ndarray:
        return np.where(self.oneway, np.inf, self.off_v)


class _EdgeGeometry:
    """The ``geometry`` field of :class:`Network`. ``from_lines`` gives the LineStrings; a network of
    straight edges (``from_arrays``, geometry ``None``) makes them from the nodes on first use only —
    8 million LineStrings cost ~10 s and ~2 GB, and snapping and measuring never need them."""

    def __get__(self, obj, owner=None):
        if obj is None:
            raise AttributeError("geometry")  # no class-level default: the field stays required
        geometry = obj.__dict__["_geometry"]
        if geometry is None:
            ax, ay, bx, by = obj._straight_ends()
            coords = np.column_stack([ax, ay, bx, by]).reshape(-1, 2)
            geometry = shapely.linestrings(coords, indices=np.repeat(np.arange(len(ax)), 2))
            obj.__dict__["_geometry"] = geometry
        return geometry

    def __set__(self, obj, value) -> None:
        obj.__dict__["_geometry"] = value
        obj.__dict__["_straight"] = value is None  # kept when the LineStrings are made later


@dataclass(frozen=True, repr=False)
class Network:
    """A directed road graph. Arrays: node ``x``/``y``, edge ``u``/``v``/``length``/``oneway``/
    ``geometry`` (LineStrings, one-way ones digitised u -> v; ``None`` when constructing means
    straight edges, made on first access) and ``line`` (the input line each edge came from);
    ``graph`` (CSR, u -> v, the shortest parallel edge kept) and ``reverse`` (its transpose);
    ``fragment`` per node."""

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    oneway: np.ndarray
    line: np.ndarray
    geometry: np.ndarray = _EdgeGeometry()
    graph: csr_matrix
    reverse: csr_matrix
    fragment: np.ndarray
    n_fragments: int

    def __repr__(self) -> str:  # the dataclass repr would print (and make) every LineString
        return f"Network({self.n_nodes} nodes, {self.n_edges} edges, {self.n_fragments} fragments)"

    @property
    def straight(self) -> bool:
        """The edges are straight between their nodes (``from_arrays``; their LineStrings, if read,
        were made from the nodes) rather than carrying their own (``from_lines``)."""
        return bool(self.__dict__.get("_straight", False))

    @property
    def n_nodes(self) -> int:
        return len(self.x)

    @property
    def n_edges(self) -> int:
        return len(self.u)

    @classmethod
    def from_lines(cls, lines: Sequence, *, oneway: Sequence[int] | None = None,
                   allowed: Sequence[bool] | None = None) -> Network:
        """Build the network from LineStrings (MultiLineStrings are split into their parts) in
        metres. ``oneway``: per line +1 / -1 / 0; ``allowed``: per line, False drops the line
        (not open to this travel mode). Empty geometries are skipped; other geometry types are
        refused."""
        geoms = np.asarray(list(lines), dtype=object)
        n_lines = len(geoms)
        flags = np.zeros(n_lines, dtype=np.int8) if oneway is None else np.asarray(oneway, dtype=np.int8)
        keep = np.ones(n_lines, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
        if len(flags) != n_lines or len(keep) != n_lines:
            raise ValueError("oneway and allowed need one value per line")
        if np.any(~np.isin(flags, (-1, 0, 1))):
            bad = int(np.flatnonzero(~np.isin(flags, (-1, 0, 1)))[0])
            raise Refused([Problem(row=bad, column="oneway", reason="单行标记只能是 1、-1 或 0")])
        types = shapely.get_type_id(geoms)
        wrong = np.flatnonzero(~np.isin(types, (1, 5)) & ~shapely.is_empty(geoms) & (types >= 0))
        if len(wrong):
            raise Refused([Problem(row=int(i), column="geometry", reason="道路须为线要素")
                           for i in wrong[:20]])
        line_id = np.arange(n_lines)
        sel = keep & (types >= 0) & ~shapely.is_empty(geoms)
        parts, part_of = shapely.get_parts(geoms[sel], return_index=True)
        part_line = line_id[sel][part_of]
        coords, vert_part = shapely.get_coordinates(parts, return_index=True)
        q = np.rint(coords / TOLERANCE_M).astype(np.int64)
        # Drop vertices repeating the previous one of the same part (zero-length segments).
        same = np.zeros(len(q), dtype=bool)
        same[1:] = (vert_part[1:] == vert_part[:-1]) & np.all(q[1:] == q[:-1], axis=1)
        q, vert_part = q[~same], vert_part[~same]
        if len(q) == 0:
            raise Refused([Problem(column="geometry", reason="路网没有可用的线")])
        # One id per distinct rounded vertex.
        order = np.lexsort((q[:, 1], q[:, 0]))
        qs = q[order]
        new = np.ones(len(qs), dtype=bool)
        new[1:] = np.any(qs[1:] != qs[:-1], axis=1)
        vid_sorted = np.cumsum(new) - 1
        vid = np.empty(len(q), dtype=np.int64)
        vid[order] = vid_sorted
        count = np.bincount(vid)
        first = np.ones(len(q), dtype=bool)
        first[1:] = vert_part[1:] != vert_part[:-1]
        last = np.ones(len(q), dtype=bool)
        last[:-1] = vert_part[1:] != vert_part[:-1]
        is_node = first | last | (count[vid] >= 2)
        # Parts reduced to one point after rounding give no edge.
        node_pos = np.flatnonzero(is_node)
        pair = vert_part[node_pos[1:]] == vert_part[node_pos[:-1]]
        start, end = node_pos[:-1][pair], node_pos[1:][pair]
        # Node numbering: distinct vertices that are nodes, in rounded-coordinate order.
        node_vid = np.unique(vid[node_pos])
        node_of_vid = np.full(len(count), -1, dtype=np.int64)
        node_of_vid[node_vid] = np.arange(len(node_vid))
        uq = qs[new][node_vid]
        x, y = uq[:, 0] * TOLERANCE_M, uq[:, 1] * TOLERANCE_M
        u = node_of_vid[vid[start]]
        v = node_of_vid[vid[end]]
        # Edge polylines: vertices start..end inclusive, from the rounded coordinates.
        n_vert = end - start + 1
        edge_of_vert = np.repeat(np.arange(len(start)), n_vert)
        offs = np.arange(n_vert.sum()) - np.repeat(np.cumsum(n_vert) - n_vert, n_vert)
        pts = q[np.repeat(start, n_vert) + offs] * TOLERANCE_M
        geometry = shapely.linestrings(pts, indices=edge_of_vert)
        length = shapely.length(geometry)
        line = part_line[vert_part[start]]
        flag = flags[line]
        back = flag == -1
        if back.any():
            geometry[back] = shapely.reverse(geometry[back])
            u[back], v[back] = v[back].copy(), u[back].copy()
        one = flag != 0
        return cls._assemble(x, y, u, v, length, one, line, geometry)

    @classmethod
    def from_arrays(cls, x: Sequence[float], y: Sequence[float], u: Sequence[int], v: Sequence[int], *,
                    oneway: Sequence[int] | None = None) -> Network:
        """Build the network from node coordinates (metres) and straight edges between nodes — the
        fast path for a prepared network (a province's 5 million nodes in seconds, where
        ``from_lines`` first makes and then takes apart millions of LineStrings).

        Node ``i`` is at ``(x[i], y[i])``, rounded to ``TOLERANCE_M``; nodes are taken as given, not
        merged, so two nodes are joined only by an edge. Edge ``j`` runs straight from node ``u[j]``
        to node ``v[j]`` (a curved road is given by its vertices as nodes); ``oneway`` per edge as
        in ``from_lines``; ``line`` is the edge's row. Refused: coordinates that are not finite,
        end indexes outside the nodes, and edges of zero length (both ends one node or one point).
        ``geometry`` is made only when first asked for."""
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        u = np.asarray(u).ravel()
        v = np.asarray(v).ravel()
        n, m = len(x), len(u)
        flags = np.zeros(m, dtype=np.int8) if oneway is None else np.asarray(oneway, dtype=np.int8).ravel()
        if len(y) != n or len(v) != m or len(flags) != m:
            raise ValueError("x and y need one value per node; u, v and oneway one per edge")
        if m == 0:
            raise Refused([Problem(column="u", reason="路网没有边")])
        if u.dtype.kind not in "iu" or v.dtype.kind not in "iu":
            raise Refused([Problem(column="u", reason="边的端点须为节点序号（整数）")])
        # Each check is one reduction when the input is good; the rows are looked for only when not.
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            bad = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
            raise Refused([Problem(row=int(i), column="x", reason="节点坐标须为有限数值") for i in bad[:20]])
        if flags.min() < -1 or flags.max() > 1:
            bad = np.flatnonzero((flags < -1) | (flags > 1))
            raise Refused([Problem(row=int(bad[0]), column="oneway", reason="单行标记只能是 1、-1 或 0")])
        if min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n:
            bad = np.flatnonzero((u < 0) | (u >= n) | (v < 0) | (v >= n))
            raise Refused([Problem(row=int(j), column="u" if not 0 <= u[j] < n else "v",
                                   reason=f"边的端点序号超出节点范围（共 {n} 个节点）") for j in bad[:20]])
        x = np.rint(x / TOLERANCE_M) * TOLERANCE_M
        y = np.rint(y / TOLERANCE_M) * TOLERANCE_M
        # Node indexes: int32 where they fit (half the memory of every per-edge index array).
        itype = np.int32 if n < 2**31 - 1 else np.int64
        u, v = u.astype(itype), v.astype(itype)
        back = flags == -1
        if back.any():  # stored reversed, so every one-way edge runs u -> v
            u, v = np.where(back, v, u), np.where(back, u, v)
        length = np.hypot(x[v] - x[u], y[v] - y[u])
        bad = np.flatnonzero(length == 0)
        if len(bad):
            raise Refused([Problem(row=int(j), column="v", reason="边的两端是同一节点或同一点（长度为 0）")
                           for j in bad[:20]])
        line = np.arange(m, dtype=itype)
        return cls._assemble(x, y, u, v, length, flags != 0, line, None)

    def subnetwork(self, edges: np.ndarray) -> Network:
        """The network of some of the edges: their nodes renumbered, their lengths, one-way flags
        and geometry as they are here (so a shortest path on it that uses only these edges has the
        same length to the last bit, and points snap onto them the same way)."""
        edges = np.asarray(edges, dtype=np.int64)
        k = len(edges)
        nodes, inverse = np.unique(np.concatenate([self.u[edges], self.v[edges]]), return_inverse=True)
        u, v = inverse[:k].astype(self.u.dtype), inverse[k:].astype(self.v.dtype)
        geometry = None if self.straight else self.geometry[edges]
        return self._assemble(self.x[nodes], self.y[nodes], u, v, self.length[edges], self.oneway[edges],
                              self.line[edges], geometry)

    @classmethod
    def _assemble(cls, x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, length: np.ndarray,
                  one: np.ndarray, line: np.ndarray, geometry: np.ndarray | None) -> Network:
        # Self-loops (closed rings) stay as edges to snap onto but carry no travel in the graph.
        n = len(x)
        loop = u == v
        two = ~loop & ~one
        src = np.concatenate([u[~loop], v[two]])
        dst = np.concatenate([v[~loop], u[two]])
        w = np.concatenate([length[~loop], length[two]])
        graph = _csr_min(src, dst, w, n)
        del src, dst, w
        reverse = graph.T.tocsr()  # the transpose: the same parallel-edge minimum, rows sorted
        n_frag, fragment = connected_components(graph, directed=True, connection="weak")
        return cls(x=x, y=y, u=u, v=v, length=length, oneway=one, line=line, geometry=geometry,
                   graph=graph, reverse=reverse, fragment=fragment, n_fragments=int(n_frag))

    def _straight_ends(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Straight edges' start (``u``) and end (``v``) coordinates: ax, ay, bx, by."""
        return self.x[self.u], self.y[self.u], self.x[self.v], self.y[self.v]

    def snap(self, points_xy: np.ndarray, mode: Literal["edge", "node"] = "edge",
             max_distance: float | None = None) -> Snap:
        """Snap points (an (n, 2) array in metres) onto the nearest edge (``"edge"``: exact
        point-to-polyline distance, candidates from a cKDTree over segment pieces, the STRtree for
        the points they cannot prove — see :meth:`_nearest_edges`; exact ties go to the lowest
        edge index) or the nearest node (``"node"``: cKDTree). Points farther than
        ``max_distance`` are flagged ``far``, not dropped."""
        pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
        n = len(pts)
        edge = np.full(n, -1, dtype=np.int64)
        node = np.full(n, -1, dtype=np.int64)
        off_u = np.full(n, np.inf)
        off_v = np.full(n, np.inf)
        connector = np.full(n, np.inf)
        limit = np.inf if max_distance is None else float(max_distance)
        if mode == "node":
            dist, idx = self._kdtree().query(pts, distance_upper_bound=limit, workers=SNAP_WORKERS)
            hit = np.isfinite(dist)
            node[hit] = idx[hit]
            off_u[hit] = off_v[hit] = connector[hit] = 0.0
            return Snap("node", edge, node, node.copy(), node.copy(), off_u, off_v, connector,
                        np.zeros(n, dtype=bool), ~hit)
        if mode != "edge":
            raise ValueError(f"unknown snap mode {mode!r}")
        edge, connector, along = self._nearest_edges(pts, limit)
        hit = edge >= 0
        ei = edge[hit]
        along = np.clip(along[hit], 0.0, self.length[ei])
        off_u[hit] = along
        off_v[hit] = self.length[ei] - along
        far = edge < 0
        u = np.where(far, -1, self.u[np.maximum(edge, 0)])
        v = np.where(far, -1, self.v[np.maximum(edge, 0)])
        oneway = ~far & self.oneway[np.maximum(edge, 0)]
        return Snap("edge", edge, node, u, v, off_u, off_v, connector, oneway, far)

    def _nearest_edges(self, pts: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per point: the nearest edge (-1 beyond ``limit``), the exact distance to it and the
        along-edge offset of the snap point from ``u``. Exact ties go to the lowest edge index.

        Every segment is cut into pieces no longer than ``2·half``; a cKDTree holds the pieces'
        midpoints. The segment's point nearest to P lies in one of its pieces, within ``half`` of
        that piece's midpoint M, so a segment's distance is at least ``|PM| - half`` for its
        nearest piece. The k nearest midpoints (distance r_k to the k-th) name the candidate
        segments; every other segment is at least ``r_k - half`` away. So the best exact
        candidate distance d* is proven nearest when ``d* + ε < r_k - half`` (ε guards rounding),
        or when fewer than k midpoints lie within ``limit + half + ε`` (every other segment is then
        beyond the limit). Unproven points ask again with 4k, then every piece within their best
        distance decides (:meth:`_nearest_edges_ball`), and the STRtree only where that is too many."""
        pc = self._pieces()
        n = len(pts)
        edge = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        along = np.zeros(n)
        # Queries in spatial order (cells of a few pieces' length): the tree walks stay in cache.
        cell = 8 * pc.half + TOLERANCE_M
        todo = np.lexsort((np.floor(pts[:, 1] / cell), np.floor(pts[:, 0] / cell))) if n else np.arange(0)
        n_pieces = len(pc.piece_seg)
        bound = limit + pc.half + _SNAP_EPS_M
        seen = np.zeros(0)
        for k in (_SNAP_NEIGHBOURS, 4 * _SNAP_NEIGHBOURS):
            if not len(todo):
                break
            k = min(k, n_pieces)
            left, left_best = [], []
            for chunk in np.array_split(todo, max(1, len(todo) // _SNAP_CHUNK + 1)):
                q = pts[chunk]
                r, idx = self._piece_tree().query(q, k=k, distance_upper_bound=bound, workers=SNAP_WORKERS)
                r, idx = r.reshape(len(q), k), idx.reshape(len(q), k)
                valid = idx < n_pieces
                seg = pc.piece_seg[np.where(valid, idx, 0)]
                d, s = pc.distance(q, seg)
                d[~valid] = np.inf
                best = d.min(axis=1)
                # Lowest edge index among the (exactly) equal best candidates.
                key = np.where(d == best[:, None], pc.seg_edge[seg], np.iinfo(np.int64).max)
                col = np.argmin(key, axis=1)
                rows = np.arange(len(q))
                proven = (best + _SNAP_EPS_M < r[:, -1] - pc.half) | ~valid[:, -1] | (k == n_pieces)
                hit = proven & (best <= limit)
                edge[chunk[hit]] = pc.seg_edge[seg[rows, col]][hit]
                dist[chunk[hit]] = best[hit]
                along[chunk[hit]] = (pc.seg_along[seg[rows, col]] + s[rows, col])[hit]
                left.append(chunk[~proven])
                left_best.append(best[~proven])
            todo, seen = np.concatenate(left), np.concatenate(left_best)
        if len(todo):
            todo = self._nearest_edges_ball(pts, todo, seen, limit, edge, dist, along)
        if len(todo):
            self._nearest_edges_strtree(pts, todo, limit, edge, dist, along)
        return edge, dist, along

    def _nearest_edges_ball(self, pts: np.ndarray, todo: np.ndarray, seen: np.ndarray, limit: float,
                            edge: np.ndarray, dist: np.ndarray, along: np.ndarray) -> np.ndarray:
        """The points the k nearest midpoints could not prove, with ``seen`` the best distance found
        for them: every segment within ``R = min(seen, limit)`` has a piece midpoint within
        ``R + half``, so all pieces in that ball decide exactly, in the same arithmetic as the k-d
        rounds (and without making LineStrings). Points whose ball holds more than
        ``_SNAP_BALL_MAX`` pieces (far from a dense network with no ``limit``) are returned for
        the STRtree (which needs the LineStrings)."""
        pc, tree = self._pieces(), self._piece_tree()
        radius = np.minimum(seen, limit) + pc.half + _SNAP_EPS_M
        count = tree.query_ball_point(pts[todo], radius, return_length=True)
        small = count <= _SNAP_BALL_MAX
        rest, todo, radius, count = todo[~small], todo[small], radius[small], count[small]
        batch = np.cumsum(count) // (_SNAP_CHUNK * 4 * _SNAP_NEIGHBOURS)  # ~as many pairs as a k-d round
        for part in np.split(np.arange(len(todo)), np.flatnonzero(np.diff(batch)) + 1):
            if not len(part):
                continue
            q = pts[todo[part]]
            found = tree.query_ball_point(q, radius[part], return_sorted=False)
            lens = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(found))
            piece = np.fromiter(itertools.chain.from_iterable(found), dtype=np.int64, count=int(lens.sum()))
            owner = np.repeat(np.arange(len(part)), lens)
            seg = pc.piece_seg[piece]
            d, s = pc.distance(q[owner], seg[:, None])
            d, s = d[:, 0], s[:, 0]
            order = np.lexsort((pc.seg_edge[seg], d, owner))  # per point: nearest, then lowest edge
            first = order[np.concatenate([[True], owner[order][1:] != owner[order][:-1]])]
            pt = todo[part[owner[first]]]
            hit = d[first] <= limit
            edge[pt[hit]] = pc.seg_edge[seg[first]][hit]
            dist[pt[hit]] = d[first][hit]
            along[pt[hit]] = (pc.seg_along[seg[first]] + s[first])[hit]
        return rest

    def _nearest_edges_strtree(self, pts: np.ndarray, todo: np.ndarray, limit: float, edge: np.ndarray,
                               dist: np.ndarray, along: np.ndarray) -> None:
        """The fallback: shapely STRtree over the edges, all equally near ones, the lowest kept."""
        geoms = shapely.points(pts[todo])
        (pi, ei), d = self._strtree().query_nearest(
            geoms, max_distance=None if np.isinf(limit) else limit, return_distance=True, all_matches=True)
        order = np.lexsort((ei, pi))
        pi, ei, d = pi[order], ei[order], d[order]
        first = np.ones(len(pi), dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        pi, ei, d = pi[first], ei[first], d[first]
        edge[todo[pi]] = ei
        dist[todo[pi]] = d
        along[todo[pi]] = shapely.line_locate_point(self.geometry[ei], geoms[pi])

    def _pieces(self) -> _Pieces:
        pieces = self.__dict__.get("_pc")
        if pieces is None:
            if self.__dict__["_geometry"] is None:  # straight edges: one segment each, from the nodes
                pieces = _Pieces.of(*self._straight_ends(), np.arange(self.n_edges, dtype=np.int64),
                                    np.zeros(self.n_edges))
            else:
                coords, owner = shapely.get_coordinates(self.geometry, return_index=True)
                pair = np.flatnonzero(owner[1:] == owner[:-1])
                seg_edge = owner[pair].astype(np.int64)
                seg_len = np.hypot(*(coords[pair + 1] - coords[pair]).T)
                csum = np.cumsum(seg_len) - seg_len
                first = np.searchsorted(seg_edge, seg_edge, side="left")
                a, b = coords[pair], coords[pair + 1]
                pieces = _Pieces.of(a[:, 0], a[:, 1], b[:, 0], b[:, 1], seg_edge, csum - csum[first])
            object.__setattr__(self, "_pc", pieces)
        return pieces

    def _piece_tree(self) -> cKDTree:
        tree = self.__dict__.get("_pkd")
        if tree is None:
            # Unbalanced (sliding midpoint), uncompacted: twice as fast to build, queries as fast.
            tree = cKDTree(self._pieces().midpoints, balanced_tree=False, compact_nodes=False)
            object.__setattr__(self, "_pkd", tree)
        return tree

    def _strtree(self) -> shapely.STRtree:
        tree = self.__dict__.get("_tree")
        if tree is None:
            tree = shapely.STRtree(self.geometry)
            object.__setattr__(self, "_tree", tree)
        return tree

    def _kdtree(self) -> cKDTree:
        tree = self.__dict__.get("_kd")
        if tree is None:
            tree = cKDTree(np.column_stack([self.x, self.y]))
            object.__setattr__(self, "_kd", tree)
        return tree


_SNAP_NEIGHBOURS = 10  # midpoints asked of the k-d tree per point (a second round asks 4×)
_SNAP_EPS_M = 1e-6  # margin on the nearest-segment proof, far above the rounding of the distances
_SNAP_CHUNK = 65_536  # points per k-d query round: bounds the (points × k) candidate arrays
_SNAP_BALL_MAX = 100_000  # pieces in one point's exact ball beyond which the STRtree decides instead


@dataclass(frozen=True)
class _Pieces:
    """The edges' straight segments (start ``ax, ay``, end ``bx, by``, ``seg_len``, ``seg_edge``, offset
    ``seg_along`` of the start along its edge) and the pieces they are cut into for the k-d tree:
    ``piece_seg`` and ``midpoints``; no piece is longer than ``2·half``."""

    ax: np.ndarray
    ay: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    seg_len: np.ndarray
    seg_edge: np.ndarray
    seg_along: np.ndarray
    piece_seg: np.ndarray
    midpoints: np.ndarray
    half: float

    @classmethod
    def of(cls, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, seg_edge: np.ndarray,
           seg_along: np.ndarray) -> _Pieces:
        """Segments from ``(ax, ay)`` to ``(bx, by)`` of edges ``seg_edge``, starting ``seg_along`` into
        them. One-dimensional arrays throughout: at 10⁷ segments every temporary costs."""
        dx, dy = bx - ax, by - ay
        seg_len = np.hypot(dx, dy)
        # Piece length: about the typical segment, but never so short that long roads explode.
        target = max(float(np.median(seg_len)), float(seg_len.sum()) / (4 * len(seg_len)), TOLERANCE_M)
        m = np.maximum(np.ceil(seg_len / target), 1)
        n_pieces = int(m.sum())
        midpoints = np.empty((n_pieces, 2))
        if n_pieces == len(seg_len):  # every segment is one piece: its midpoint
            piece_seg = np.arange(len(seg_len), dtype=np.int64)
            midpoints[:, 0] = ax + 0.5 * dx
            midpoints[:, 1] = ay + 0.5 * dy
        else:
            count = m.astype(np.int64)
            piece_seg = np.repeat(np.arange(len(seg_len), dtype=np.int64), count)
            start = np.cumsum(count) - count
            frac = np.arange(n_pieces, dtype=np.float64)
            frac -= start[piece_seg]
            frac += 0.5
            frac /= m[piece_seg]
            midpoints[:, 0] = ax[piece_seg] + frac * dx[piece_seg]
            midpoints[:, 1] = ay[piece_seg] + frac * dy[piece_seg]
        half = float((seg_len / m).max()) / 2 * (1 + 1e-12)
        return cls(ax, ay, bx, by, seg_len, seg_edge, seg_along, piece_seg, midpoints, half)

    def distance(self, q: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact distances from points ``q`` (m, 2) to segments ``seg`` (m, k), and the along-segment
        offsets of the nearest points (the segment's own ends taken exactly at t = 0 and 1)."""
        px, py = q[:, 0:1], q[:, 1:2]
        ax, ay, bx, by = self.ax[seg], self.ay[seg], self.bx[seg], self.by[seg]
        dx, dy = bx - ax, by - ay
        ln = self.seg_len[seg]
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / (ln * ln), 0.0, 1.0)
        cx = np.where(t == 1.0, bx, ax + t * dx)
        cy = np.where(t == 1.0, by, ay + t * dy)
        return np.hypot(px - cx, py - cy), t * ln


def _csr_min(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int) -> csr_matrix:
    """CSR with the smallest weight of parallel edges, columns sorted within rows. SciPy's COO → CSR
    conversion (a counting sort, O(edges), ~10× faster than sorting at millions of edges) adds
    parallel edges up; the rows that lost entries to that hold the parallel pairs, and only their
    entries are sorted to put the minimum in place of the sum."""
    graph = csr_matrix((w, (src, dst)), shape=(n, n))
    if graph.nnz == len(src):
        return graph
    rows = np.flatnonzero(np.bincount(src, minlength=n) != np.diff(graph.indptr))
    in_row = np.zeros(n, dtype=bool)
    in_row[rows] = True
    sel = np.flatnonzero(in_row[src])
    key = src[sel].astype(np.int64) * n + dst[sel]
    order = np.lexsort((w[sel], key))
    key, ws = key[order], w[sel][order]
    first = np.concatenate([[True], key[1:] != key[:-1]])
    # The CSR positions of those rows' entries, in (row, column) order: the same order as key[first].
    starts, counts = graph.indptr[rows], np.diff(graph.indptr)[rows]
    pos = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
    graph.data[pos] = ws[first]
    return graph
