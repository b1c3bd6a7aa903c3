"""Studies of many regions (分区测算): the measurement region by region — on Dask, a local cluster by
default or a scheduler's address — each region padded so homes near a border see facilities across
it, the results stitched back in the homes' order without duplicates. Pure: no Django (NumPy,
Shapely; Dask only when asked to run on it).

Why the numbers equal the single-process run exactly: a home's result within the cap ``limit`` needs
only what lies within ``limit`` of it — every path counted is at most ``limit`` long, connectors
included, so the facility point and every edge on the path lie within ``limit`` (Euclidean) of the
home — plus, for the facility and the home, their nearest edge (or node), which lies within
``max_distance`` (the snapping limit) of them. So a region keeps the edges whose bounds meet its box
(its polygon and its homes) padded by ``limit + max_distance``, and the facilities within the box
padded by ``limit``; its network is ``Network.subnetwork`` of those edges — each edge with its
length and geometry as they are in the whole network, hence the same snapping — and every shortest
path within the cap is the same sequence of the same edges. Each home is measured in exactly one
region (the first polygon holding it; a home outside every polygon goes to the nearest one), so
nothing is counted twice. Fragment numbers are per region and are not returned; facility indexes are
the whole study's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely

from chengzhen.problems import Problem, Refused

from .measure import measure_all
from .network import Network


@dataclass(frozen=True)
class RegionTask:
    """One region's share of a study: its name, its homes (indexes into the study's homes and
    their coordinates), the network of the edges it keeps (``Network.subnetwork``: the same
    lengths and geometry) and the facilities per type (global indexes and coordinates)."""

    name: str
    index: int  # the region's position in the study's regions
    homes: np.ndarray
    homes_xy: np.ndarray
    network: Network | None  # None: built by the worker from ``edges`` of the study's network in ``store``
    facilities: dict[str, tuple[np.ndarray, np.ndarray]]
    edges: np.ndarray | None = None
    store: str | None = None

    def __reduce__(self):
        if self.network is None:  # a few arrays: the network is read from the shared store
            return (RegionTask, (self.name, self.index, self.homes, self.homes_xy, None, self.facilities, self.edges,
                                 self.store))
        # Sent to a Dask worker as flat arrays — the edges' vertices and where each edge starts —
        # not as 100,000 LineStrings pickled one by one (seconds); the worker rebuilds the same
        # LineStrings from the same coordinates and the graphs from the same lengths.
        net = self.network
        vertices = index = None
        if not net.straight:
            vertices, index = shapely.get_coordinates(net.geometry, return_index=True)
        return (_unpack, (self.name, self.index, self.homes, self.homes_xy, self.facilities, net.x, net.y, net.u, net.v,
                          net.length, net.oneway, net.line, vertices, index))


def _unpack(name, index, homes, homes_xy, facilities, x, y, u, v, length, oneway, line, vertices, edge_of
            ) -> RegionTask:
    geometry = None if vertices is None else shapely.linestrings(vertices, indices=edge_of)
    net = Network._assemble(x, y, u, v, length, oneway, line, geometry)
    return RegionTask(name, index, homes, homes_xy, net, facilities)


_STORE_ARRAYS = ("x", "y", "u", "v", "length", "oneway", "line")


def save_store(network: Network, folder: str) -> str:
    """The network as .npy files a local cluster's workers map from disk (no copy through the
    scheduler): the arrays of ``Network.subnetwork`` and, for curved edges, their vertices with
    each edge's first vertex (``starts``)."""
    from pathlib import Path

    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for name in _STORE_ARRAYS:
        np.save(path / f"{name}.npy", getattr(network, name))
    if not network.straight:
        vertices, edge_of = shapely.get_coordinates(network.geometry, return_index=True)
        np.save(path / "vertices.npy", vertices)
        np.save(path / "starts.npy", np.searchsorted(edge_of, np.arange(network.n_edges + 1)))
    return str(path)


def load_subnetwork(folder: str, edges: np.ndarray) -> Network:
    """``Network.subnetwork(edges)`` of the network ``save_store`` wrote — the same arrays, so the
    same lengths, geometry and answers."""
    from pathlib import Path

    path = Path(folder)
    a = {name: np.load(path / f"{name}.npy", mmap_mode="r") for name in _STORE_ARRAYS}
    edges = np.asarray(edges, dtype=np.int64)
    k = len(edges)
    u_all, v_all = np.asarray(a["u"][edges]), np.asarray(a["v"][edges])
    nodes, inverse = np.unique(np.concatenate([u_all, v_all]), return_inverse=True)
    geometry = None
    if (path / "vertices.npy").exists():
        starts = np.load(path / "starts.npy", mmap_mode="r")
        first, last = np.asarray(starts[edges]), np.asarray(starts[edges + 1])
        counts = last - first
        at = np.repeat(first - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(int(counts.sum()))
        vertices = np.asarray(np.load(path / "vertices.npy", mmap_mode="r")[at])
        geometry = shapely.linestrings(vertices, indices=np.repeat(np.arange(k), counts))
    return Network._assemble(np.asarray(a["x"][nodes]), np.asarray(a["y"][nodes]),
                             inverse[:k].astype(u_all.dtype), inverse[k:].astype(v_all.dtype),
                             np.asarray(a["length"][edges]), np.asarray(a["oneway"][edges]),
                             np.asarray(a["line"][edges]), geometry)


def assign(homes_xy: np.ndarray, regions: Sequence) -> np.ndarray:
    """Each home's region: the first polygon containing it, else the nearest polygon."""
    pts = shapely.points(homes_xy)
    tree = shapely.STRtree(list(regions))
    out = np.full(len(homes_xy), -1, dtype=np.int64)
    home, poly = tree.query(pts, predicate="within")
    order = np.lexsort((poly, home))
    home, poly = home[order], poly[order]
    first = np.concatenate([[True], home[1:] != home[:-1]]) if len(home) else np.zeros(0, dtype=bool)
    out[home[first]] = poly[first]
    rest = np.flatnonzero(out < 0)
    if len(rest):
        out[rest] = tree.query_nearest(pts[rest], all_matches=False)[1]
    return out


def plan(network: Network, regions: Sequence, names: Sequence[str], facilities_by_type: Mapping[str, np.ndarray],
         homes_xy: np.ndarray, *, limit: float, max_distance: float, store: str | None = None) -> list[RegionTask]:
    """The tasks of a study (see the module docstring); regions without homes are left out. With
    ``store`` (a folder ``save_store`` wrote) the tasks carry edge indexes and the worker builds
    its region's network from the store."""
    if len(regions) != len(names):
        raise ValueError("one name per region")
    if not np.isfinite(limit) or not np.isfinite(max_distance):
        raise Refused([Problem(column="limit", reason="分区测算须有距离上限（预设的最大服务距离或 --max-distance）")])
    homes_xy = np.asarray(homes_xy, dtype=float)
    which = assign(homes_xy, regions)
    if not network.straight:
        bounds = shapely.bounds(network.geometry)
    else:
        xu, yu, xv, yv = network.x[network.u], network.y[network.u], network.x[network.v], network.y[network.v]
        bounds = np.column_stack([np.minimum(xu, xv), np.minimum(yu, yv), np.maximum(xu, xv), np.maximum(yu, yv)])
    fac = {t: np.asarray(xy, dtype=float).reshape(-1, 2) for t, xy in facilities_by_type.items()}
    tasks = []
    for r, (poly, name) in enumerate(zip(regions, names, strict=True)):
        mine = np.flatnonzero(which == r)
        if not len(mine):
            continue
        pb = np.asarray(shapely.bounds(poly))
        lo = np.minimum(pb[:2], homes_xy[mine].min(axis=0))
        hi = np.maximum(pb[2:], homes_xy[mine].max(axis=0))
        pad = limit + max_distance
        keep = np.flatnonzero((bounds[:, 2] >= lo[0] - pad) & (bounds[:, 0] <= hi[0] + pad)
                              & (bounds[:, 3] >= lo[1] - pad) & (bounds[:, 1] <= hi[1] + pad))
        facilities = {}
        for t, xy in fac.items():
            inside = np.flatnonzero((xy[:, 0] >= lo[0] - limit) & (xy[:, 0] <= hi[0] + limit)
                                    & (xy[:, 1] >= lo[1] - limit) & (xy[:, 1] <= hi[1] + limit))
            facilities[t] = (inside, xy[inside])
        if store is None:
            tasks.append(RegionTask(str(name), r, mine, homes_xy[mine], network.subnetwork(keep), facilities))
        else:
            tasks.append(RegionTask(str(name), r, mine, homes_xy[mine], None, facilities, keep, store))
    return tasks


def measure_region(task: RegionTask, *, snap: Literal["edge", "node"], limit: float, max_distance: float
                   ) -> dict[str, np.ndarray]:
    """One region measured on its own edges; facility indexes mapped back to the study's."""
    net = task.network if task.network is not None else load_subnetwork(task.store, task.edges)
    result = measure_all(net, {t: xy for t, (_ids, xy) in task.facilities.items()}, task.homes_xy, snap=snap,
                         limit=limit, max_distance=max_distance)
    out = {"far": result["far"]}
    for t, (ids, _xy) in task.facilities.items():
        local = result[f"{t}_id"]
        out[f"{t}_m"] = result[f"{t}_m"]
        out[f"{t}_id"] = np.where(local >= 0, ids[np.maximum(local, 0)] if len(ids) else -1, -1)
    return out


def stitch(n_homes: int, types: Sequence[str], tasks: Sequence[RegionTask], results: Sequence[dict]
           ) -> dict[str, np.ndarray]:
    """The regions' results in the homes' order, with each home's region index."""
    out: dict[str, np.ndarray] = {"region": np.full(n_homes, -1, dtype=np.int64),
                                  "far": np.zeros(n_homes, dtype=bool)}
    for t in types:
        out[f"{t}_m"] = np.full(n_homes, np.inf)
        out[f"{t}_id"] = np.full(n_homes, -1, dtype=np.int64)
    for task, res in zip(tasks, results, strict=True):
        if (out["region"][task.homes] >= 0).any():
            raise ValueError("a home in two regions")
        out["region"][task.homes] = task.index
        out["far"][task.homes] = res["far"]
        for t in types:
            out[f"{t}_m"][task.homes] = res[f"{t}_m"]
            out[f"{t}_id"][task.homes] = res[f"{t}_id"]
    return out


def measure_by_region(network: Network, regions: Sequence, names: Sequence[str],
                      facilities_by_type: Mapping[str, np.ndarray], homes_xy: np.ndarray, *,
                      snap: Literal["edge", "node"] = "edge", limit: float, max_distance: float = 500.0,
                      scheduler: object = "local", workers: int = 2, connect_timeout: float = 10.0,
                      progress: Callable[[str], None] | None = None) -> dict[str, np.ndarray]:
    """Measure a study region by region: ``scheduler=None`` in this process, ``"local"`` on a
    local Dask cluster of ``workers`` processes, a ``distributed.Client`` on its cluster, else on
    the Dask scheduler at that address. The
    result has the keys of ``measure_all`` (but no fragments) and ``region`` (index into
    ``regions``)."""
    import tempfile

    say = progress or (lambda _text: None)
    # A local cluster's workers read the network from .npy files (mapped, not sent through the
    # scheduler); a remote one gets each region's network in its task.
    local = scheduler == "local" or _is_local_client(scheduler)
    types = list(facilities_by_type)
    options = {"snap": snap, "limit": limit, "max_distance": max_distance}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="chengzhen-regions-") as scratch:
        store = save_store(network, scratch) if local else None
        tasks = plan(network, regions, names, facilities_by_type, homes_xy, limit=limit, max_distance=max_distance,
                     store=store)
        if scheduler is None:
            results = []
            for k, task in enumerate(tasks, start=1):
                results.append(measure_region(task, **options))
                say(f"分区 {task.name} 完成（{k}/{len(tasks)}）")
        else:
            results = _on_dask(tasks, options, scheduler, workers, connect_timeout, say)
    out = stitch(len(homes_xy), types, tasks, results)
    say(f"{len(tasks)} 个分区测算完成，用时 {time.perf_counter() - start:.1f} 秒")
    return out


def _is_local_client(scheduler) -> bool:
    """A Dask client whose cluster runs on this machine (its workers can read our files)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover
        return False
    return isinstance(scheduler, Client) and isinstance(getattr(scheduler, "cluster", None), LocalCluster)


def _on_dask(tasks, options, scheduler: str, workers: int, connect_timeout: float, say) -> list[dict]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is a dependency
        raise Refused([Problem(column="--scheduler", reason=f"没有安装 Dask（distributed）：{exc}")]) from exc
    cluster = None
    try:
        if isinstance(scheduler, Client):  # the caller's own client (kept open: a notebook's, a bench's)
            return _gather(scheduler, tasks, options, say)
        if scheduler == "local":
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout=f"{connect_timeout:g}s")
            except (OSError, TimeoutError) as exc:
                reason = f"无法连接 Dask 调度器 {scheduler}：{exc}"
                raise Refused([Problem(column="--scheduler", reason=reason)]) from exc
        with client:
            return _gather(client, tasks, options, say)
    finally:
        if cluster is not None:
            cluster.close()


def _gather(client, tasks, options, say) -> list[dict]:
    from distributed import as_completed

    futures = [client.submit(measure_region, task, pure=False, **options) for task in tasks]
    order = {f.key: k for k, f in enumerate(futures)}
    results: list[dict | None] = [None] * len(tasks)
    for done, fut in enumerate(as_completed(futures), start=1):
        k = order[fut.key]
        results[k] = fut.result()
        say(f"分区 {tasks[k].name} 完成（{done}/{len(tasks)}）")
    return results  # type: ignore[return-value]
