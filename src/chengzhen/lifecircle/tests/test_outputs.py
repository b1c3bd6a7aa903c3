"""The files of ``chengzhen lifecircle run`` beyond homes.csv, on the street grid of test_run with
two islands (a street with a home and none of the facilities; a street with a kindergarten and no
home), a home and a school far from every road, parks with their area: the GeoPackage read back
(layers, WGS84, every homes number equal to homes.csv, gaps equal to homes.csv's 0 flags, area rates
equal to coverage.csv), problems.csv (distances to the network equal to shapely's on the projected
grid), complete-circle coverage (全部必配) equal to homes.csv's flags, and supply per area against
a count norm and an m² norm."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pyogrio
import pytest
import shapely
from django.core.management import call_command
from openpyxl import load_workbook

from chengzhen.lifecircle import crs
from chengzhen.lifecircle.run import run
from chengzhen.lifecircle.tests.test_run import LAT0, LON0, STEP, _areas, _gcj, _grid

PRESET = """\
code: h2-test
name: 测试标准
sources: [测试]
circles:
  - minutes: 5
    mode: walk
    speed_m_per_min: 60
    facilities:
      - {type: kindergarten, radius_m: 300, norm: {per_1000: 0.5, unit: 所}}
      - {type: community_park, norm: {per_1000: 1000, unit: m², measure: 公园绿地面积}}
  - minutes: 15
    mode: walk
    distance_m: 1000
    facilities: [kindergarten, primary_school, market]
"""
HOME_ISLAND = (LON0 + 0.03, LON0 + 0.031)  # a street of two nodes with one home on it
FACILITY_ISLAND = (LON0 + 0.05, LON0 + 0.051)  # a street of two nodes with a kindergarten on it
FAR_HOME = (LON0 + 3 * STEP, LAT0 - 0.009)  # ≈1 km south of the grid
FAR_SCHOOL = (LON0 + 3 * STEP, LAT0 + 0.02)  # ≈1.4 km north of it


def _study(tmp_path):
    net = _grid(tmp_path / "net.geojson")
    data = json.loads(net.read_text(encoding="utf-8"))
    for a, b in (HOME_ISLAND, FACILITY_ISLAND):
        data["features"].append({"type": "Feature", "properties": {"highway": "residential"},
                                 "geometry": {"type": "LineString", "coordinates": [[a, LAT0], [b, LAT0]]}})
    net.write_text(json.dumps(data), encoding="utf-8")
    fac = ["id,type,lon,lat,面积"]
    places = [("F0", "幼儿园", LON0 + STEP, LAT0 + STEP, ""), ("F1", "幼儿园", LON0 + 6 * STEP, LAT0 + 6 * STEP, ""),
              ("F2", "小学", LON0 + 3 * STEP, LAT0 + 4 * STEP, ""),
              ("P1", "社区公园", LON0 + 2 * STEP, LAT0 + 2 * STEP, "8000"),
              ("P2", "社区公园", LON0 + 5 * STEP, LAT0 + 5 * STEP, "3,000"),
              ("F9", "幼儿园", sum(FACILITY_ISLAND) / 2, LAT0, ""), ("F8", "小学", *FAR_SCHOOL, "")]
    for fid, t, lon, lat, area in places:
        x, y = _gcj(lon, lat)
        fac.append(f'{fid},{t},{x:.8f},{y:.8f},"{area}"')
    homes = ["home_id,lon,lat,户数"]
    rng = np.random.default_rng(3)
    for k in range(40):
        i, j = rng.integers(0, 8, 2)
        x, y = _gcj(LON0 + i * STEP + (0.0003 if k % 2 else 0), LAT0 + j * STEP + (0.0001 if k % 3 == 0 else 0))
        homes.append(f"H{k},{x:.8f},{y:.8f},{10 + k}")
    for hid, (lon, lat) in (("HFAR", FAR_HOME), ("HISLAND", (sum(HOME_ISLAND) / 2, LAT0 + 0.0001))):
        x, y = _gcj(lon, lat)
        homes.append(f"{hid},{x:.8f},{y:.8f},20")
    (tmp_path / "f.csv").write_text("\n".join(fac) + "\n", encoding="utf-8-sig")
    (tmp_path / "h.csv").write_text("\n".join(homes) + "\n", encoding="utf-8-sig")
    (tmp_path / "p.yaml").write_text(PRESET, encoding="utf-8")
    _areas(tmp_path / "areas.geojson")


def _csv(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    base = tmp_path_factory.mktemp("outputs")
    _study(base)
    out = io.StringIO()
    call_command("lifecircle", "run", "--network", str(base / "net.geojson"), "--facilities", str(base / "f.csv"),
                 "--homes", str(base / "h.csv"), "--crs", "GCJ-02", "--preset", str(base / "p.yaml"),
                 "--areas", str(base / "areas.geojson"), "--no-maps", "-o", str(base / "out"), stdout=out,
                 stderr=io.StringIO())
    return base, base / "out", out.getvalue()


def test_the_geopackage_layers_equal_homes_csv(done):
    base, out, _said = done
    gpkg = out / "lifecircle.gpkg"
    assert [list(x) for x in pyogrio.list_layers(gpkg)] == [["homes", "Point"], ["facilities", "Point"],
                                                            ["gaps", "Point"], ["areas", "MultiPolygon"]]
    homes = _csv(out / "homes.csv")
    layer = pyogrio.read_dataframe(gpkg, layer="homes")
    assert layer.crs.to_epsg() == 4326
    assert list(layer.columns[:-1]) == list(homes[0].keys())
    assert "kindergarten_m" in layer.columns and "all_required_5" in layer.columns
    for row, (_i, feat) in zip(homes, layer.iterrows(), strict=True):
        for key, text in row.items():
            value = feat[key]
            if key.endswith("_id") or key == "home_id":
                assert (text or None) == (None if value is None or value != value else value), key
            elif text == "":
                assert math.isnan(value), key
            else:
                assert float(text) == pytest.approx(float(value), abs=1e-9), key
    # the points are the homes in WGS84 (GCJ-02 offset removed)
    given = _csv(base / "h.csv")
    lon, lat = crs.gcj02_to_wgs84(np.array([float(h["lon"]) for h in given]),
                                  np.array([float(h["lat"]) for h in given]))
    assert np.allclose(layer.geometry.x, lon, atol=1e-9) and np.allclose(layer.geometry.y, lat, atol=1e-9)
    fac = pyogrio.read_dataframe(gpkg, layer="facilities")
    assert list(fac["id"]) == ["F0", "F1", "F2", "P1", "P2", "F9", "F8"]
    assert list(fac["type_label"])[:4] == ["幼儿园", "幼儿园", "小学", "社区公园"]
    assert set(fac["type"]) == {"kindergarten", "primary_school", "community_park"}


def test_gaps_are_the_zero_flags_and_the_missing_type(done):
    _base, out, _said = done
    homes = _csv(out / "homes.csv")
    expected = set()
    for h in homes:
        for t, minutes in (("kindergarten", 5), ("community_park", 5), ("kindergarten", 15), ("primary_school", 15)):
            if h[f"{t}_{minutes}"] == "0":
                expected.add((h["home_id"], t, minutes))
        expected.add((h["home_id"], "market", 15))  # no market at all: every home is a gap
    gaps = pyogrio.read_dataframe(out / "lifecircle.gpkg", layer="gaps")
    assert {(r.home_id, r.type, int(r.circle)) for r in gaps.itertuples()} == expected
    assert len(gaps) == len(expected)
    market = gaps[gaps["type"] == "market"]
    assert market["distance_m"].isna().all() and set(market["type_label"]) == {"菜市场"}
    kg = gaps[(gaps["type"] == "kindergarten") & (gaps["circle"] == 5)]
    by_home = {h["home_id"]: h for h in homes}
    for r in kg.itertuples():
        text = by_home[r.home_id]["kindergarten_m"]
        assert (math.isnan(r.distance_m) if text == "" else r.distance_m == float(text))
        assert r.population == pytest.approx(float(by_home[r.home_id]["population"]))


def test_complete_circle_coverage_and_the_areas_layer(done):
    _base, out, _said = done
    homes = _csv(out / "homes.csv")
    for h in homes:
        assert h["all_required_5"] == str(int(h["kindergarten_5"] == h["community_park_5"] == "1"))
        assert h["all_required_15"] == "0"  # no market
    cov = _csv(out / "coverage.csv")
    complete = {(r["area"], r["circle"]): r for r in cov if r["type"] == "all_required"}
    assert {a for a, _c in complete} == {"全部", "西区", "东区", "区域外"}
    assert all(r["type_label"] == "全部必配" and r["reach_m"] == "" for r in complete.values())
    pop = np.array([float(h["population"]) for h in homes])
    flag = np.array([h["all_required_5"] == "1" for h in homes])
    assert 0 < flag.sum() < len(homes)
    assert float(complete[("全部", "5")]["rate"]) == pytest.approx(pop[flag].sum() / pop.sum(), abs=5e-5)
    assert float(complete[("全部", "15")]["rate"]) == 0
    areas = pyogrio.read_dataframe(out / "lifecircle.gpkg", layer="areas")
    assert areas.crs.to_epsg() == 4326 and sorted(areas["name"]) == ["东区", "西区"]
    for a in areas.itertuples():
        rows = {(r["type"], r["circle"]): r for r in cov if r["area"] == a.name}
        assert a.homes == int(rows[("kindergarten", "5")]["homes"])
        for (t, c), r in rows.items():
            assert getattr(a, f"{t}_{c}") == pytest.approx(float(r["rate"]))
    ws = load_workbook(out / "coverage.xlsx")["覆盖率"]
    assert "全部必配" in [c.value for c in ws["C"]]


def test_problems_list_far_points_fragments_and_missing_types(done):
    base, out, said = done
    problems = _csv(out / "problems.csv")
    assert list(problems[0]) == ["kind", "id", "type", "distance_m", "fragment", "fragment_nodes", "reason"]
    assert (out / "problems.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    by = {(p["kind"], p["id"], p["type"]): p for p in problems}
    assert [p["kind"] for p in problems] == ["type_missing", "home_far", "facility_far", "home_fragment",
                                             "home_fragment", "home_fragment", "facility_fragment"]
    assert ("type_missing", "", "market") in by
    # distances to the network: shapely on the grid projected the way the run projects it
    lines = [f["geometry"]["coordinates"] for f in json.loads((base / "net.geojson").read_text())["features"]]
    allc = np.concatenate([np.array(c) for c in lines])
    metric = crs.metric_crs(allc[:, 0], allc[:, 1])
    roads = shapely.MultiLineString([np.column_stack(crs.to_metric(np.array(c)[:, 0], np.array(c)[:, 1], "WGS84",
                                                                   metric)) for c in lines])
    for kind, pid, (lon, lat) in (("home_far", "HFAR", FAR_HOME), ("facility_far", "F8", FAR_SCHOOL)):
        gx, gy = _gcj(lon, lat)
        x, y = crs.to_metric(np.array([float(f"{gx:.8f}")]), np.array([float(f"{gy:.8f}")]), "GCJ-02", metric)
        row = next(p for p in problems if p["kind"] == kind and p["id"] == pid)
        assert float(row["distance_m"]) == pytest.approx(shapely.Point(x[0], y[0]).distance(roads), abs=0.01)
        assert float(row["distance_m"]) > 500 and "超过 500 米" in row["reason"]
    assert by[("facility_far", "F8", "primary_school")]
    island = [p for p in problems if p["kind"] == "home_fragment"]
    assert {p["id"] for p in island} == {"HISLAND"}
    assert [p["type"] for p in island] == ["kindergarten", "community_park", "primary_school"]
    assert {p["fragment_nodes"] for p in island} == {"2"} and len({p["fragment"] for p in island}) == 1
    lone = by[("facility_fragment", "F9", "kindergarten")]
    assert lone["fragment_nodes"] == "2" and lone["fragment"] != island[0]["fragment"]
    # what problems.csv lists is unreachable in homes.csv, not dropped from it
    homes = {h["home_id"]: h for h in _csv(out / "homes.csv")}
    assert homes["HFAR"]["kindergarten_m"] == "" and homes["HISLAND"]["primary_school_m"] == ""
    assert "已测算 42 处住宅" in said


def test_the_summary_counts_the_problems(tmp_path):
    _study(tmp_path)
    done = run(network=str(tmp_path / "net.geojson"), facilities=str(tmp_path / "f.csv"),
               homes=str(tmp_path / "h.csv"), crs="GCJ-02", preset=str(tmp_path / "p.yaml"), maps=False,
               output=tmp_path / "out", progress=lambda _text: None)
    assert (done.far_homes, done.far_facilities, done.fragment_homes, done.fragment_facilities) == (1, 1, 1, 1)
    assert done.missing_types == ("market",) and done.problems == 7
    assert done.summary == ("已测算 42 处住宅、3 类设施；离路网过远 1 处住宅、1 处设施；"
                            "所在连通片缺少某类设施的住宅 1 处；所在连通片没有住宅的设施 1 处；"
                            "设施文件缺少预设要求的 1 类（明细见 problems.csv）")
    assert [p.name for p in done.files] == ["homes.csv", "coverage.csv", "coverage.xlsx", "supply.csv",
                                            "problems.csv", "lifecircle.gpkg"]
    # without areas: no areas layer
    assert [x[0] for x in pyogrio.list_layers(tmp_path / "out" / "lifecircle.gpkg")] == ["homes", "facilities",
                                                                                        "gaps"]


def test_supply_per_area_against_count_and_area_norms(done):
    _base, out, _said = done
    homes = _csv(out / "homes.csv")
    pop = {h["home_id"]: float(h["population"]) for h in homes}
    supply = {(r["area"], r["circle"], r["type"]): r for r in _csv(out / "supply.csv")}
    assert {a for a, _c, _t in supply} == {"全部", "西区", "东区", "区域外"}
    total = sum(pop.values())
    kg = supply[("全部", "5", "kindergarten")]
    assert (kg["facilities"], kg["unit"], kg["norm_per_1000"]) == ("3", "所", "0.5")
    assert float(kg["population"]) == pytest.approx(total, rel=1e-5)
    assert float(kg["provided_per_1000"]) == pytest.approx(3000 / total, abs=1e-4) and kg["meets"] == "1"
    park_w, park_e = supply[("西区", "5", "community_park")], supply[("东区", "5", "community_park")]
    assert (park_w["facilities"], park_w["provided"], park_w["measure"]) == ("1", "8000", "公园绿地面积")
    assert park_e["provided"] == "3000"
    cov = {(r["area"], r["type"], r["circle"]): r for r in _csv(out / "coverage.csv")}
    west_pop = float(cov[("西区", "kindergarten", "5")]["population"])
    assert float(park_w["required"]) == pytest.approx(west_pop, rel=1e-4)  # 1000 m² per 1,000 people
    assert park_w["meets"] == str(int(8000 * 1000 / west_pop >= 1000))
    assert supply[("全部", "15", "market")]["facilities"] == "0"
    assert supply[("全部", "15", "primary_school")]["norm_per_1000"] == ""
    ws = load_workbook(out / "coverage.xlsx")["配置标准"]
    assert ws["A1"].value == "配套设施千人指标对照"
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=5)]
    assert {v[3] for v in values} == {"幼儿园", "社区公园"}  # the rows with a norm; supply.csv has them all
    park = next(v for v in values if v[1] == "西区" and v[3] == "社区公园" and v[2] == 5)
    assert park[10] == 8000 and park[12] == ("达标" if 8000 * 1000 / west_pop >= 1000 else "未达标")


def test_an_area_drawn_as_two_polygons_is_one_area(tmp_path):
    _study(tmp_path)
    data = json.loads((tmp_path / "areas.geojson").read_text(encoding="utf-8"))
    west = data["features"][0]
    (w, s_), (half, _), (_, n_) = west["geometry"]["coordinates"][0][:3]
    mid = (s_ + n_) / 2
    data["features"][0:1] = [
        {"type": "Feature", "properties": {"名称": "西区"},
         "geometry": {"type": "Polygon", "coordinates": [[[w, a], [half, a], [half, b], [w, b], [w, a]]]}}
        for a, b in ((s_, mid), (mid, n_))]
    (tmp_path / "areas2.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    for name in ("areas.geojson", "areas2.geojson"):
        run(network=str(tmp_path / "net.geojson"), facilities=str(tmp_path / "f.csv"), homes=str(tmp_path / "h.csv"),
            crs="GCJ-02", preset=str(tmp_path / "p.yaml"), areas=str(tmp_path / name), maps=False,
            output=tmp_path / name.replace(".geojson", ""), progress=lambda _text: None)
    one, two = (_csv(tmp_path / d / "coverage.csv") for d in ("areas", "areas2"))
    assert one == two  # the same figures, 西区 once
    layer = pyogrio.read_dataframe(tmp_path / "areas2" / "lifecircle.gpkg", layer="areas")
    assert sorted(layer["name"]) == ["东区", "西区"]
    assert layer.set_index("name").geometry["西区"].area == pytest.approx(
        pyogrio.read_dataframe(tmp_path / "areas" / "lifecircle.gpkg", layer="areas").set_index("name")
        .geometry["西区"].area)


def test_numbers_are_written_plainly():
    from chengzhen.lifecircle.outputs import plain

    assert [plain(x) for x in (1234567.0, 26.2, 1234 / 35, 0.0, 8000.0, float("inf"), None)] == [
        "1234567", "26.2", "35.26", "0", "8000", "", ""]


def test_a_coverage_sheet_too_long_for_excel_keeps_the_whole_study(tmp_path):
    from chengzhen.lifecircle.coverage import ALL, CoverageRow
    from chengzhen.lifecircle.outputs import write_coverage

    rows = [CoverageRow(area, "kindergarten", 5, 300.0, 10, 5, 20.0, 10.0) for area in (ALL, "甲", "乙", "丙")]
    write_coverage(tmp_path, rows, [], str, sheet_rows=3)
    ws = load_workbook(tmp_path / "coverage.xlsx")["覆盖率"]
    cells = [c.value for r in ws.iter_rows() for c in r if c.value is not None]
    assert ALL in cells and "甲" not in cells and any("各区域见 coverage.csv" in str(c) for c in cells)
    with open(tmp_path / "coverage.csv", encoding="utf-8-sig") as f:
        assert [r["area"] for r in csv.DictReader(f)] == [ALL, "甲", "乙", "丙"]  # the CSV keeps every row
