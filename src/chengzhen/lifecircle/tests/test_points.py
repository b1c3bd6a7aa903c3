"""Point tables as planners have them: CSV (with a BOM, GCJ-02) and .xlsx (WGS84), ids, population
from a column, households or floor area, facility types from Chinese names; every refusal names the
file, row and column."""

from __future__ import annotations

import numpy as np
import pytest
from openpyxl import Workbook

from chengzhen.lifecircle import crs
from chengzhen.lifecircle.points import PopulationRule, read_points
from chengzhen.problems import Refused


def _csv(path, text: str):
    path.write_bytes(("\ufeff" + text).encode("utf-8"))
    return path


def test_homes_from_a_gcj02_csv_with_households(tmp_path):
    f = _csv(tmp_path / "homes.csv", "home_id,经度,纬度,户数\nH1,116.404,39.915,120\nH2,116.41,39.92,80\n")
    homes = read_points(f, crs="GCJ-02")
    lon, lat = crs.gcj02_to_wgs84(np.array([116.404, 116.41]), np.array([39.915, 39.92]))
    np.testing.assert_allclose(homes.lon, lon, atol=1e-9)
    np.testing.assert_allclose(homes.lat, lat, atol=1e-9)
    assert homes.ids == ("H1", "H2") and list(homes.rows) == [2, 3]
    np.testing.assert_allclose(homes.population, [120 * 2.62, 80 * 2.62])
    assert "户均 2.62 人" in homes.population_source
    # metres on one plane: the two homes are about 800 m apart
    assert 700 < float(np.hypot(homes.x[1] - homes.x[0], homes.y[1] - homes.y[0])) < 900
    other = read_points(f, crs="GCJ-02", population=PopulationRule(household_size=3))
    np.testing.assert_allclose(other.population, [360, 240])


def test_facilities_from_an_xlsx_with_chinese_type_names(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["名称", "类型", "lon", "lat"])
    ws.append(["实验幼儿园", "幼儿园", 120.15, 30.28])
    ws.append(["第一小学", "小学", 120.16, 30.29])
    wb.save(tmp_path / "f.xlsx")
    fac = read_points(tmp_path / "f.xlsx", crs="EPSG:4326", kind="facilities")
    assert len(fac.types) == 2 and fac.types[0] != fac.types[1]
    assert fac.ids == ("2", "3")  # no id column: the rows


def test_bad_tables_are_refused_naming_file_row_and_column(tmp_path):
    f = _csv(tmp_path / "h.csv", "id,lon,lat,人口\nA,116.4,39.9,10\nA,116.5,39.9,5\n")
    with pytest.raises(Refused, match="编号 A 与第 2 行重复"):
        read_points(f, crs="WGS84")
    f = _csv(tmp_path / "h2.csv", "id,lon,lat,人口\nA,东经116,39.9,10\n")
    with pytest.raises(Refused) as e:
        read_points(f, crs="WGS84")
    p = e.value.problems[0]
    assert (p.file, p.row, p.column) == ("h2.csv", 2, "lon")
    f = _csv(tmp_path / "h3.csv", "id,lon,lat\nA,116.4,39.9\n")
    with pytest.raises(Refused, match="找不到人口来源"):
        read_points(f, crs="WGS84")
    with pytest.raises(Refused, match="未声明坐标系"):
        read_points(f, crs="")
    f = _csv(tmp_path / "h4.csv", "id,lon,lat,人口\nA,2.35,48.85,10\n")
    with pytest.raises(Refused, match="中国范围之外"):
        read_points(f, crs="GCJ-02")  # a declared GCJ-02 point in Paris
    f = _csv(tmp_path / "h5.csv", "id,lon,lat,人口\nA,39.9,116.4,10\nB,39.8,116.3,10\n")
    with pytest.raises(Refused):
        read_points(f, crs="WGS84")  # longitude and latitude swapped
    f = _csv(tmp_path / "f.csv", "id,lon,lat,type\nA,116.4,39.9,飞机场\n")
    with pytest.raises(Refused, match="飞机场"):
        read_points(f, crs="WGS84", kind="facilities")
    with pytest.raises(Refused, match=r"\.csv 或 \.xlsx"):
        read_points(tmp_path / "x.shp", crs="WGS84")
