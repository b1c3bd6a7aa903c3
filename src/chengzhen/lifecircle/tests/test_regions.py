"""Region by region (分区测算): four regions whose homes' nearest facilities lie across the borders,
equal to the single-process measurement exactly — in this process and on a local Dask cluster —
for edge and node snapping, curved and straight networks; an unreachable scheduler refused."""

import numpy as np
import pytest
import shapely
from shapely import LineString, box

from chengzhen.lifecircle.measure import measure_all
from chengzhen.lifecircle.network import Network
from chengzhen.lifecircle.regions import assign, measure_by_region, plan
from chengzhen.problems import Refused

LIMIT, SNAP = 900.0, 200.0


def _study(curved: bool = True, oneway: bool = True):
    rng = np.random.default_rng(5)
    side, spacing = 30, 100.0
    xy = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1) * spacing
    xy = xy + rng.uniform(-0.25, 0.25, xy.shape) * spacing
    if curved:
        lines = [LineString(xy[i, :]) for i in range(side)] + [LineString(xy[:, i]) for i in range(side)]
        net = Network.from_lines(lines)
        if oneway:
            flags = (rng.random(net.n_edges) < 0.2).astype(int)
            net = Network.from_lines(list(net.geometry), oneway=flags)
    else:
        ids = np.arange(side * side).reshape(side, side)
        u = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
        v = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
        flags = (rng.random(len(u)) < 0.2).astype(int) if oneway else None
        net = Network.from_arrays(xy[..., 0].ravel(), xy[..., 1].ravel(), u, v, oneway=flags)
    extent = (side - 1) * spacing
    half = extent / 2
    regions = [box(0, 0, half, half), box(half, 0, extent, half), box(0, half, half, extent),
               box(half, half, extent, extent)]
    homes = rng.uniform(0, extent, (3000, 2))
    homes[:20] = [[half + rng.uniform(-40, 40), rng.uniform(0, extent)] for _ in range(20)]  # on a border
    homes[20:25] = [[extent + 30, 500], [-20, -20], [half, half], [extent / 3, extent + 50], [5, extent / 2]]
    # few facilities, so many homes' nearest lie in another region
    facilities = {"school": rng.uniform(0, extent, (7, 2)), "clinic": rng.uniform(0, extent, (4, 2))}
    return net, regions, homes, facilities


def _across_borders(result, regions, facilities, homes):
    """Homes whose nearest facility lies in another region."""
    home_region = assign(homes, regions)
    n = 0
    for t, xy in facilities.items():
        fac_region = assign(xy, regions)
        ok = result[f"{t}_id"] >= 0
        n += int((fac_region[result[f"{t}_id"][ok]] != home_region[ok]).sum())
    return n


@pytest.mark.parametrize("curved,snap", [(True, "edge"), (True, "node"), (False, "edge")])
def test_region_by_region_equals_the_whole_exactly(curved, snap):
    net, regions, homes, facilities = _study(curved)
    whole = measure_all(net, facilities, homes, snap=snap, limit=LIMIT, max_distance=SNAP)
    parts = measure_by_region(net, regions, ["西南", "东南", "西北", "东北"], facilities, homes, snap=snap,
                              limit=LIMIT, max_distance=SNAP, scheduler=None)
    for t in facilities:
        np.testing.assert_array_equal(parts[f"{t}_m"], whole[f"{t}_m"])
        np.testing.assert_array_equal(parts[f"{t}_id"], whole[f"{t}_id"])
    np.testing.assert_array_equal(parts["far"], whole["far"])
    assert np.isfinite(whole["school_m"]).sum() > 1000
    assert _across_borders(whole, regions, facilities, homes) > 100
    assert set(parts["region"]) == {0, 1, 2, 3}
    tasks = plan(net, regions, ["a", "b", "c", "d"], facilities, homes, limit=LIMIT, max_distance=SNAP)
    assert sum(len(t.homes) for t in tasks) == len(homes)  # each home in one region, none twice
    assert all(t.network.n_edges < net.n_edges for t in tasks)  # and each region keeps only part of the network


def test_on_a_local_dask_cluster_the_same_numbers():
    net, regions, homes, facilities = _study()
    whole = measure_all(net, facilities, homes, limit=LIMIT, max_distance=SNAP)
    said = []
    parts = measure_by_region(net, regions, ["西南", "东南", "西北", "东北"], facilities, homes, limit=LIMIT,
                              max_distance=SNAP, scheduler="local", workers=2, progress=said.append)
    for t in facilities:
        np.testing.assert_array_equal(parts[f"{t}_m"], whole[f"{t}_m"])
        np.testing.assert_array_equal(parts[f"{t}_id"], whole[f"{t}_id"])
    assert sum("完成（" in s for s in said) == 4 and "4 个分区" in said[-1]


def test_an_unreachable_scheduler_is_refused():
    net, regions, homes, facilities = _study()
    with pytest.raises(Refused) as caught:
        measure_by_region(net, regions, list("abcd"), facilities, homes, limit=LIMIT, max_distance=SNAP,
                          scheduler="tcp://127.0.0.1:9", connect_timeout=2)
    assert "无法连接 Dask 调度器 tcp://127.0.0.1:9" in caught.value.problems[0].reason
    assert not shapely.is_empty(regions[0])


def test_the_command_region_by_region_writes_what_one_piece_writes(tmp_path):
    """`lifecircle run --regions`: four quarters of the test grid, a local Dask cluster; homes.csv and
    coverage.csv are byte for byte those of the run in one piece."""
    import io
    import json

    from django.core.management import call_command

    from .test_run import LAT0, LON0, STEP, _grid, _tables

    _grid(tmp_path / "net.geojson")
    _tables(tmp_path)
    mid_x, mid_y = LON0 + 3.5 * STEP, LAT0 + 3.5 * STEP
    w, e, s, n = LON0 - 0.01, LON0 + 0.02, LAT0 - 0.01, LAT0 + 0.02
    quarters = [("西南", (w, s, mid_x, mid_y)), ("东南", (mid_x, s, e, mid_y)), ("西北", (w, mid_y, mid_x, n)),
                ("东北", (mid_x, mid_y, e, n))]
    feats = [{"type": "Feature", "properties": {"name": q},
              "geometry": {"type": "Polygon", "coordinates": [[[a, b], [c, b], [c, d], [a, d], [a, b]]]}}
             for q, (a, b, c, d) in quarters]
    (tmp_path / "regions.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats},
                                                         ensure_ascii=False), encoding="utf-8")
    common = ["--network", str(tmp_path / "net.geojson"), "--facilities", str(tmp_path / "f.csv"), "--homes",
              str(tmp_path / "h.csv"), "--crs", "GCJ-02", "--preset", "gb50180-2018", "--no-maps", "--no-gpkg"]
    err = io.StringIO()
    call_command("lifecircle", "run", *common, "-o", str(tmp_path / "one"), stdout=io.StringIO(), stderr=err)
    call_command("lifecircle", "run", *common, "--regions", str(tmp_path / "regions.geojson"), "-o",
                 str(tmp_path / "parts"), stdout=io.StringIO(), stderr=err)
    assert "分 4 个区域测算（local）" in err.getvalue()
    for name in ("homes.csv", "coverage.csv", "problems.csv"):
        assert (tmp_path / "parts" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name


def test_a_straight_network_stays_straight_once_its_lines_were_read():
    net, regions, homes, facilities = _study(curved=False)
    assert net.straight
    _ = net.geometry  # made from the nodes now
    assert net.straight and not _study(curved=True)[0].straight
    whole = measure_all(net, facilities, homes, limit=LIMIT, max_distance=SNAP)
    parts = measure_by_region(net, regions, list("abcd"), facilities, homes, limit=LIMIT, max_distance=SNAP,
                              scheduler=None)
    np.testing.assert_array_equal(parts["school_m"], whole["school_m"])


def test_a_region_sent_whole_or_read_from_the_store_measures_the_same(tmp_path):
    """What a remote worker gets (the region's network in its task, pickled as flat arrays) and what
    a local one reads (edge indexes and the study's network mapped from .npy files) measure alike."""
    import pickle

    from chengzhen.lifecircle.regions import measure_region, save_store

    net, regions, homes, facilities = _study()
    sent = plan(net, regions, list("abcd"), facilities, homes, limit=LIMIT, max_distance=SNAP)
    store = save_store(net, str(tmp_path / "store"))
    mapped = plan(net, regions, list("abcd"), facilities, homes, limit=LIMIT, max_distance=SNAP, store=store)
    for a, b in zip(sent, mapped, strict=True):
        a2, b2 = pickle.loads(pickle.dumps(a)), pickle.loads(pickle.dumps(b))
        assert b2.network is None and len(pickle.dumps(b)) < len(pickle.dumps(a)) / 3
        ra = measure_region(a2, snap="edge", limit=LIMIT, max_distance=SNAP)
        rb = measure_region(b2, snap="edge", limit=LIMIT, max_distance=SNAP)
        for key in ra:
            np.testing.assert_array_equal(ra[key], rb[key])
