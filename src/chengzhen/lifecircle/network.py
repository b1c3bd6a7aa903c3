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
- A point snapped onto an edge keeps its along-edge offsets to both ends as geometry; the travel
  costs that respect one-way are :meth:`Snap.leave_u` … :meth:`Snap.enter_v` (``inf`` where the
  direction is not allowed: on a one-way edge a point can be left only towards ``v`` and entered
  only from ``u``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from chengzhen.problems import Problem, Refused

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


@dataclass(frozen=True)
class Network:
    """A directed road graph. Arrays: node ``x``/``y``, edge ``u``/``v``/``length``/``oneway``/
    ``geometry`` (LineStrings, one-way ones digitised u -> v) and ``line`` (the input line each
    edge came from); ``graph`` (CSR, u -> v, the shortest parallel edge kept) and ``reverse``
    (its transpose); ``fragment`` per node."""

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    oneway: np.ndarray
    line: np.ndarray
    geometry: np.ndarray
    graph: csr_matrix
    reverse: csr_matrix
    fragment: np.ndarray
    n_fragments: int

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
        # Self-loops (closed rings) stay as edges to snap onto but carry no travel in the graph.
        n = len(x)
        loop = u == v
        src = np.concatenate([u[~loop], v[~loop & ~one]])
        dst = np.concatenate([v[~loop], u[~loop & ~one]])
        w = np.concatenate([length[~loop], length[~loop & ~one]])
        graph = _csr_min(src, dst, w, n)
        reverse = _csr_min(dst, src, w, n)
        n_frag, fragment = connected_components(graph, directed=True, connection="weak")
        return cls(x=x, y=y, u=u, v=v, length=length, oneway=one, line=line, geometry=geometry,
                   graph=graph, reverse=reverse, fragment=fragment, n_fragments=int(n_frag))

    def snap(self, points_xy: np.ndarray, mode: Literal["edge", "node"] = "edge",
             max_distance: float | None = None) -> Snap:
        """Snap points (an (n, 2) array in metres) onto the nearest edge (``"edge"``: shapely
        STRtree, exact point-to-polyline distance) or the nearest node (``"node"``: cKDTree).
        Points farther than ``max_distance`` are flagged ``far``, not dropped."""
        pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
        n = len(pts)
        edge = np.full(n, -1, dtype=np.int64)
        node = np.full(n, -1, dtype=np.int64)
        off_u = np.full(n, np.inf)
        off_v = np.full(n, np.inf)
        connector = np.full(n, np.inf)
        limit = np.inf if max_distance is None else float(max_distance)
        if mode == "node":
            dist, idx = self._kdtree().query(pts, distance_upper_bound=limit)
            hit = np.isfinite(dist)
            node[hit] = idx[hit]
            off_u[hit] = off_v[hit] = connector[hit] = 0.0
            return Snap("node", edge, node, node.copy(), node.copy(), off_u, off_v, connector,
                        np.zeros(n, dtype=bool), ~hit)
        if mode != "edge":
            raise ValueError(f"unknown snap mode {mode!r}")
        geoms = shapely.points(pts)
        (pi, ei), dist = self._strtree().query_nearest(
            geoms, max_distance=None if max_distance is None else limit, return_distance=True, all_matches=False)
        edge[pi] = ei
        connector[pi] = dist
        along = shapely.line_locate_point(self.geometry[ei], geoms[pi])
        along = np.clip(along, 0.0, self.length[ei])
        off_u[pi] = along
        off_v[pi] = self.length[ei] - along
        far = edge < 0
        u = np.where(far, -1, self.u[np.maximum(edge, 0)])
        v = np.where(far, -1, self.v[np.maximum(edge, 0)])
        oneway = ~far & self.oneway[np.maximum(edge, 0)]
        return Snap("edge", edge, node, u, v, off_u, off_v, connector, oneway, far)

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


def _csr_min(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int) -> csr_matrix:
    """CSR with the smallest weight of parallel edges (a COO sum would add them up)."""
    order = np.lexsort((w, dst, src))
    src, dst, w = src[order], dst[order], w[order]
    keep = np.ones(len(src), dtype=bool)
    keep[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    src, dst, w = src[keep], dst[keep], w[keep]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return csr_matrix((w, dst.astype(np.int32), indptr.astype(np.int32)), shape=(n, n))
