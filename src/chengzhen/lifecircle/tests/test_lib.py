"""The notebook API: six calls give the numbers the command writes (homes.csv, coverage.csv) and
the sites ``site`` chooses."""

import csv
import io

import numpy as np
import pytest
from django.core.management import call_command

from chengzhen.lifecircle import lib as lc

from .test_run import _areas, _grid, _tables
from .test_site_run import _candidates


def test_six_calls_give_what_the_command_writes(tmp_path):
    _grid(tmp_path / "net.geojson")
    _tables(tmp_path)
    _candidates(tmp_path)
    areas = _areas(tmp_path / "areas.geojson")
    roads = lc.read_network(tmp_path / "net.geojson")
    facilities = lc.read_facilities(tmp_path / "f.csv", roads, crs="GCJ-02")
    homes = lc.read_homes(tmp_path / "h.csv", roads, crs="GCJ-02")
    assert facilities.crs.to_epsg() == 4326 and set(facilities["type"]) == {"kindergarten", "primary_school"}
    from chengzhen.lifecircle.presets import Preset

    distances = lc.measure(roads, facilities, homes, limit=Preset.load("gb50180-2018").largest_reach)
    rates = lc.cover(distances, homes, "gb50180-2018", areas=str(areas))
    call_command("lifecircle", "run", "--network", str(tmp_path / "net.geojson"), "--facilities",
                 str(tmp_path / "f.csv"), "--homes", str(tmp_path / "h.csv"), "--crs", "GCJ-02", "--preset",
                 "gb50180-2018", "--areas", str(areas), "--no-maps", "--no-gpkg", "-o", str(tmp_path / "out"),
                 stdout=io.StringIO(), stderr=io.StringIO())
    with open(tmp_path / "out" / "homes.csv", encoding="utf-8-sig") as f:
        written = {r["home_id"]: r for r in csv.DictReader(f)}
    for home_id, row in distances.iterrows():
        m = row["kindergarten_m"]
        assert (written[home_id]["kindergarten_m"] == "") == (not np.isfinite(m))
        if np.isfinite(m):
            assert float(written[home_id]["kindergarten_m"]) == pytest.approx(m, abs=0.005)
            assert written[home_id]["kindergarten_id"] == row["kindergarten_id"]
    with open(tmp_path / "out" / "coverage.csv", encoding="utf-8-sig") as f:
        cov = [(r["area"], r["type"], int(r["circle"]), r["rate"]) for r in csv.DictReader(f)]
    mine = [(r.area, r.type, r.circle, "" if r.rate is None else f"{r.rate:.4f}") for r in rates.itertuples()]
    assert mine == cov
    sites = lc.site(roads, homes, lc.read_sites(tmp_path / "c.csv", roads, crs="GCJ-02"), "幼儿园", k=2,
                    radius=250, existing=facilities)
    assert list(sites["rank"]) == [1, 2] and sites.attrs["optimal"]
    assert sites["new_population_covered"].sum() == pytest.approx(sites.attrs["objective"])
