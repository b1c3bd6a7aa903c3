"""``chengzhen lifecircle site``: the command end to end on a GeoJSON grid with GCJ-02 tables —
the chosen sites equal a brute force over the candidates with distances from the measurement, the
sites written to CSV and a GeoPackage read back, coverage before and after, the summary with its
bound and each input's SHA-256; candidates from vacant land; every bad input refused with exit 1
and nothing written."""

import csv
import hashlib
import io
import json
from itertools import combinations

import numpy as np
import pyogrio
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chengzhen.lifecircle import crs
from chengzhen.lifecircle.measure import nearest
from chengzhen.lifecircle.network import Network
from chengzhen.lifecircle.points import PopulationRule
from chengzhen.lifecircle.presets import Preset

from .test_run import LAT0, LON0, STEP, _areas, _gcj, _grid, _tables

CANDIDATES = [(0, 7), (7, 0), (3, 3), (5, 2), (2, 6), (6, 4)]


def _candidates(tmp_path, extra=()):
    rows = ["site_id,lon,lat"]
    for k, (i, j) in enumerate([*CANDIDATES, *extra]):
        lon, lat = _gcj(LON0 + i * STEP, LAT0 + j * STEP)
        rows.append(f"S{k},{lon:.8f},{lat:.8f}")
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n", encoding="utf-8-sig")


def _site(tmp_path, *extra, out="out"):
    o, e = io.StringIO(), io.StringIO()
    call_command("lifecircle", "site", "--network", str(tmp_path / "net.geojson"), "--homes", str(tmp_path / "h.csv"),
                 "--crs", "GCJ-02", *extra, "-o", str(tmp_path / out), stdout=o, stderr=e)
    return o.getvalue(), e.getvalue()


@pytest.fixture
def study(tmp_path):
    _grid(tmp_path / "net.geojson")
    _tables(tmp_path)
    _candidates(tmp_path)
    return tmp_path


def _brute(tmp_path, reach, k, existing_type="幼儿园"):
    """The best k among the candidates, from the measurement's distances (no siting code)."""
    from chengzhen.lifecircle import layers

    lines = layers.read_geojson_lines(str(tmp_path / "net.geojson"))
    coords = np.concatenate([np.asarray(line.coords)[:, :2] for line in lines.lines])
    metric = crs.metric_crs(coords[:, 0], coords[:, 1])
    net = Network.from_lines(lines.to_metric(metric))

    def table(name):
        with open(tmp_path / name, encoding="utf-8-sig") as f:
            return list(csv.DictReader(f))

    def xy(rows):
        lon, lat = crs.gcj02_to_wgs84(np.array([float(r["lon"]) for r in rows]),
                                      np.array([float(r["lat"]) for r in rows]))
        return np.column_stack(crs.to_metric(lon, lat, "WGS84", metric))

    homes = table("h.csv")
    pop = np.array([float(r["户数"]) for r in homes]) * PopulationRule().household_size
    hs = net.snap(xy(homes))
    existing = [r for r in table("f.csv") if r["type"] == existing_type]
    served = nearest(net, net.snap(xy(existing)), hs).distance <= reach
    cands = table("c.csv")
    cover = np.column_stack([nearest(net, net.snap(xy([c])), hs).distance <= reach for c in cands])
    best = max(float(pop[cover[:, list(combo)].any(axis=1) & ~served].sum())
               for combo in combinations(range(len(cands)), k))
    return best, float(pop[served].sum()), float(pop.sum())


def test_sites_are_chosen_written_and_equal_brute_force(study):
    out, err = _site(study, "--type", "幼儿园", "--candidates", str(study / "c.csv"), "-k", "2", "--radius", "250",
                     "--existing", str(study / "f.csv"), "--areas", str(_areas(study / "areas.geojson")))
    assert "选出 2 处幼儿园" in out and "已证最优" in out and "求解" in err
    best, before, total = _brute(study, 250.0, 2)
    summary = json.loads((study / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"] == pytest.approx(best) and summary["optimal"] and summary["gap"] == pytest.approx(0)
    assert summary["covered_before"] == pytest.approx(before) and summary["population"] == pytest.approx(total)
    assert summary["covered_after"] == pytest.approx(before + best)
    assert summary["inputs"]["homes"]["sha256"] == hashlib.sha256((study / "h.csv").read_bytes()).hexdigest()
    assert summary["existing"] == 2 and summary["candidates"] == len(CANDIDATES) and summary["reach_m"] == 250
    with open(study / "out" / "sites.csv", encoding="utf-8-sig") as f:
        sites = list(csv.DictReader(f))
    assert [s["rank"] for s in sites] == ["1", "2"] and [s["site_id"] for s in sites] == summary["sites"]
    gains = [float(s["new_population_covered"]) for s in sites]
    assert sum(gains) == pytest.approx(best, abs=0.02) and gains[0] >= gains[1]
    frame = pyogrio.read_dataframe(study / "out" / "sites.gpkg", layer="sites")
    assert list(frame["site_id"]) == summary["sites"] and frame.crs.to_epsg() == 4326
    with open(study / "out" / "coverage.csv", encoding="utf-8-sig") as f:
        cov = {r["area"]: r for r in csv.DictReader(f)}
    assert set(cov) >= {"全部", "西区", "东区"}
    assert float(cov["全部"]["covered_after"]) == pytest.approx(before + best, abs=0.02)
    assert sum(float(cov[a]["covered_after"]) for a in cov if a != "全部") == pytest.approx(
        float(cov["全部"]["covered_after"]), abs=0.05)


def test_greedy_the_preset_circle_and_vacant_land(study):
    reach = Preset.load("gb50180-2018").reach("kindergarten", 5)
    out, _ = _site(study, "--type", "kindergarten", "--candidates", str(study / "c.csv"), "-k", "3",
                   "--preset", "gb50180-2018", "--circle", "5", "--method", "greedy")
    summary = json.loads((study / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["reach_m"] == reach and summary["method_asked"] == "greedy"
    best, _before, _total = _brute(study, reach, 3, existing_type="none")
    assert summary["objective"] <= best + 1e-6 and best <= summary["bound"] + 1e-6 and summary["gap"] >= 0
    # vacant land: a polygon around two blocks gives its network nodes as candidates
    w, s = LON0 + 1.5 * STEP, LAT0 + 1.5 * STEP
    ring = [[w, s], [w + 2 * STEP, s], [w + 2 * STEP, s + 2 * STEP], [w, s + 2 * STEP], [w, s]]
    (study / "vacant.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"vacant": "是"}, "geometry": {"type": "Polygon", "coordinates": [ring]}},
        {"type": "Feature", "properties": {"vacant": "否"}, "geometry": {"type": "Polygon", "coordinates": [
            [[LON0 + 5.5 * STEP, LAT0 + 5.5 * STEP], [LON0 + 6.5 * STEP, LAT0 + 5.5 * STEP],
             [LON0 + 6.5 * STEP, LAT0 + 6.5 * STEP], [LON0 + 5.5 * STEP, LAT0 + 5.5 * STEP]]]}}]}), encoding="utf-8")
    _site(study, "--type", "小学", "--vacant", str(study / "vacant.geojson"), "-k", "2", "--radius", "300", out="v")
    summary = json.loads((study / "v" / "summary.json").read_text(encoding="utf-8"))
    assert summary["candidates"] == 4 and all(s.startswith("node-") for s in summary["sites"])


@pytest.mark.parametrize("extra,said", [
    (("--type", "幼儿园", "--candidates", "c.csv", "-k", "7", "--radius", "250"), "多于候选点数 6"),
    (("--type", "幼儿园", "--candidates", "far.csv", "-k", "1", "--radius", "250"), "不在路网范围内"),
    (("--type", "菜市场", "--candidates", "c.csv", "-k", "1", "--radius", "250", "--existing", "f.csv"),
     "现有设施中没有“菜市场"),
    (("--type", "飞机场", "--candidates", "c.csv", "-k", "1", "--radius", "250"), "飞机场"),
    (("--type", "幼儿园", "--candidates", "c.csv", "-k", "1"), "须给出 --preset 与 --circle"),
    (("--type", "幼儿园", "--candidates", "c.csv", "-k", "1", "--preset", "gb50180-2018", "--circle", "20"),
     "没有 20 分钟生活圈"),
    (("--type", "幼儿园", "--candidates", "c.csv", "-k", "0", "--radius", "250"), "正整数"),
])
def test_bad_input_is_refused_and_nothing_is_written(study, extra, said):
    lon, lat = _gcj(LON0 + 30 * STEP, LAT0 + 30 * STEP)  # some 3 km from any street
    (study / "far.csv").write_text(f"site_id,lon,lat\nX1,{lon:.8f},{lat:.8f}\n", encoding="utf-8-sig")
    (study / "out").mkdir()
    (study / "out" / "keep.txt").write_text("earlier")
    args = [str(study / a) if a.endswith(".csv") else a for a in extra]
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("lifecircle", "site", "--network", str(study / "net.geojson"), "--homes", str(study / "h.csv"),
                     "--crs", "GCJ-02", *args, "-o", str(study / "out"), stdout=io.StringIO(), stderr=err)
    assert refused.value.returncode == 1
    assert said in err.getvalue() + str(refused.value)
    assert [p.name for p in (study / "out").iterdir()] == ["keep.txt"]
    assert not [p for p in study.iterdir() if p.name.startswith(".lifecircle")]
