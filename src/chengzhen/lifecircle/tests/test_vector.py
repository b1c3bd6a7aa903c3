"""GeoPackage and Shapefile layers (vector.py): real files written with pyogrio, read back."""

from __future__ import annotations

import json
import stat
import zipfile

import numpy as np
import pytest
import shapely
from pyogrio import raw
from pyproj import Transformer

from chengzhen.lifecircle import vector
from chengzhen.problems import Refused

# Two streets and a shop in 德清县 (Zhejiang), WGS84.
STREETS = [[(119.9700, 30.5400), (119.9750, 30.5400), (119.9750, 30.5440)],
           [(119.9750, 30.5440), (119.9800, 30.5450)]]
SHOPS = [(119.9710, 30.5410), (119.9760, 30.5430)]
CGCS2000_GK_120E = "EPSG:4549"  # CGCS2000 / 3-degree Gauss-Kruger CM 120E, metres


def _write(path, geoms, fields: dict, *, driver: str, crs: str | None, geometry_type: str, layer=None):
    names = list(fields)
    data = [np.asarray(fields[k], dtype=object if isinstance(fields[k][0], str) else None) for k in names]
    raw.write(str(path), np.array(shapely.to_wkb(geoms), dtype=object), data, names, driver=driver,
              geometry_type=geometry_type, crs=crs, layer=layer, append=path.exists() and driver == "GPKG")


def _lines(coords):
    return np.array([shapely.LineString(c) for c in coords], dtype=object)


def _points(coords):
    return np.array([shapely.Point(c) for c in coords], dtype=object)


def _projected(coords, epsg=CGCS2000_GK_120E):
    t = Transformer.from_crs("EPSG:4326", epsg, always_xy=True)
    return [tuple(t.transform(x, y)) for x, y in coords]


def test_gpkg_lines_wgs84_with_oneway_and_class(tmp_path):
    path = tmp_path / "roads.gpkg"
    _write(path, _lines(STREETS), {"oneway": ["yes", "no"], "highway": ["residential", "primary"]},
           driver="GPKG", crs="EPSG:4326", geometry_type="LineString")
    layer = vector.read_lines(path)
    assert layer.file == "roads.gpkg"
    assert list(layer.oneway) == [1, 0]
    assert layer.road_class == ("residential", "primary")
    assert list(layer.rows) == [1, 2]
    assert np.allclose(layer.lines[0].coords, STREETS[0], atol=1e-12)


def test_gpkg_projected_cgcs2000_comes_back_to_lon_lat(tmp_path):
    path = tmp_path / "roads_4549.gpkg"
    projected = [_projected(c) for c in STREETS]
    _write(path, _lines(projected), {"道路等级": ["支路", "主干路"]}, driver="GPKG", crs=CGCS2000_GK_120E,
           geometry_type="LineString")
    layer = vector.read_lines(path)
    assert layer.road_class == ("支路", "主干路")
    for got, want in zip(layer.lines, STREETS, strict=True):
        assert np.allclose(got.coords, want, atol=1e-8)  # about a millimetre
    # Declaring the same CRS is fine; declaring another is refused naming both.
    assert len(vector.read_lines(path, crs="EPSG:4549").lines) == 2
    with pytest.raises(Refused) as exc:
        vector.read_lines(path, crs="EPSG:4326")
    assert "EPSG:4549" in str(exc.value) and "--crs" in str(exc.value)


def test_gpkg_points_keep_fields(tmp_path):
    path = tmp_path / "shops.gpkg"
    _write(path, _points(SHOPS), {"id": ["s1", "s2"], "type": ["便利店", "amenity=kindergarten"],
                                  "area": [120.5, np.nan]},
           driver="GPKG", crs="EPSG:4326", geometry_type="Point")
    pts = vector.read_points(path)
    assert np.allclose(pts.lon, [s[0] for s in SHOPS]) and np.allclose(pts.lat, [s[1] for s in SHOPS])
    assert pts.properties["id"] == ["s1", "s2"]
    assert pts.properties["type"] == ["便利店", "amenity=kindergarten"]
    assert pts.properties["area"] == [120.5, None]


def test_gpkg_with_two_layers_needs_a_layer_name(tmp_path):
    path = tmp_path / "two.gpkg"
    _write(path, _points(SHOPS), {"id": ["a", "b"]}, driver="GPKG", crs="EPSG:4326", geometry_type="Point",
           layer="shops")
    _write(path, _points(SHOPS[:1]), {"id": ["c"]}, driver="GPKG", crs="EPSG:4326", geometry_type="Point",
           layer="schools")
    with pytest.raises(Refused) as exc:
        vector.read_points(path)
    assert "shops" in str(exc.value) and "schools" in str(exc.value)
    assert vector.read_points(path, layer="schools").properties["id"] == ["c"]
    with pytest.raises(Refused, match="没有图层"):
        vector.read_points(path, layer="parks")


def test_shapefile_projected_and_without_prj(tmp_path):
    path = tmp_path / "shops.shp"
    _write(path, _points(_projected(SHOPS)), {"name": ["甲店", "乙店"]}, driver="ESRI Shapefile",
           crs=CGCS2000_GK_120E, geometry_type="Point")
    pts = vector.read_points(path)
    assert np.allclose(pts.lon, [s[0] for s in SHOPS], atol=1e-8)
    assert pts.properties["name"] == ["甲店", "乙店"]
    # The same file without its .prj: refused unless the CRS is declared.
    path.with_suffix(".prj").unlink()
    with pytest.raises(Refused) as exc:
        vector.read_points(path)
    assert "--crs" in str(exc.value) and "shops.shp" in str(exc.value)
    assert np.allclose(vector.read_points(path, crs="EPSG:4549").lat, [s[1] for s in SHOPS], atol=1e-8)


def test_gcj02_may_be_declared_on_a_wgs84_marked_file(tmp_path):
    path = tmp_path / "gaode.shp"
    _write(path, _points(SHOPS), {"name": ["甲", "乙"]}, driver="ESRI Shapefile", crs="EPSG:4326",
           geometry_type="Point")
    plain = vector.read_points(path)
    shifted = vector.read_points(path, crs="GCJ-02")
    # The GCJ-02 offset here is a few hundred metres: the points moved.
    assert np.all(np.abs(plain.lon - shifted.lon) > 1e-3)


def test_zip_with_a_shapefile(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    shp = folder / "roads.shp"
    _write(shp, _lines(STREETS), {"oneway": ["-1", ""], "fclass": ["service", "tertiary"]},
           driver="ESRI Shapefile", crs="EPSG:4326", geometry_type="LineString")
    archive = tmp_path / "roads.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f"data/{f.name}")
    layer = vector.read_lines(archive)
    assert layer.file == "roads.zip"
    assert list(layer.oneway) == [-1, 0]
    assert layer.road_class == ("service", "tertiary")


def test_geofabrik_oneway_letters(tmp_path):
    path = tmp_path / "gis_osm_roads_free_1.shp"
    _write(path, _lines(STREETS), {"oneway": ["T", "F"], "fclass": ["primary", "residential"]},
           driver="ESRI Shapefile", crs="EPSG:4326", geometry_type="LineString")
    assert list(vector.read_lines(path).oneway) == [-1, 1]


@pytest.mark.parametrize(("member", "why"), [("../evil.shp", ".."), ("/etc/evil.shp", "绝对路径"),
                                             ("a/../../evil.shp", "..")])
def test_zip_with_escaping_member_refused(tmp_path, member, why):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("ok.txt", "fine")
        z.writestr(member, b"\x00\x00\x27\x0a")
    with pytest.raises(Refused) as exc:
        vector.read_lines(archive)
    assert why in str(exc.value) and member in str(exc.value)
    assert not (tmp_path / "evil.shp").exists()


def test_zip_with_symlink_refused(tmp_path):
    archive = tmp_path / "link.zip"
    info = zipfile.ZipInfo("roads.shp")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(info, "/etc/passwd")
    with pytest.raises(Refused, match="符号链接"):
        vector.read_lines(archive)


def test_zip_without_shapefile_refused(tmp_path):
    archive = tmp_path / "none.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "no layers here")
    with pytest.raises(Refused, match="恰好有一个"):
        vector.read_points(archive)


def test_zip_too_many_members_refused(tmp_path):
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(vector.ZIP_MAX_MEMBERS + 1):
            z.writestr(f"f{i}.txt", "")
    with pytest.raises(Refused, match="成员过多"):
        vector.read_points(archive)


def test_wrong_geometry_type_names_the_row(tmp_path):
    path = tmp_path / "mixed.gpkg"
    geoms = np.array([shapely.LineString(STREETS[0]), shapely.Point(SHOPS[0])], dtype=object)
    _write(path, geoms, {"id": ["a", "b"]}, driver="GPKG", crs="EPSG:4326", geometry_type="Unknown")
    with pytest.raises(Refused) as exc:
        vector.read_lines(path)
    [problem] = exc.value.problems
    assert (problem.file, problem.row, problem.column) == ("mixed.gpkg", 2, "geometry")
    assert "Point" in problem.reason
    with pytest.raises(Refused) as exc:
        vector.read_points(path)
    assert exc.value.problems[0].row == 1 and "LineString" in exc.value.problems[0].reason


def test_remote_and_virtual_paths_refused():
    for path in ("https://example.org/roads.gpkg", "/vsicurl/https://example.org/roads.gpkg",
                 "/vsizip//tmp/roads.zip/roads.shp"):
        with pytest.raises(Refused, match="只读取本机文件"):
            vector.read_any_lines(path)


def test_other_formats_refused_even_if_gdal_could_read_them(tmp_path):
    kml = tmp_path / "roads.kml"
    kml.write_text("<kml/>")
    with pytest.raises(Refused, match="不支持的文件类型"):
        vector.read_any_lines(kml)
    fake = tmp_path / "roads.gpkg"
    fake.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(Refused, match="不是 GPKG"):
        vector.read_lines(fake)


def test_dispatch_geojson(tmp_path):
    path = tmp_path / "roads.geojson"
    features = [{"type": "Feature", "properties": {"oneway": "yes", "highway": "primary"},
                 "geometry": {"type": "LineString", "coordinates": STREETS[0]}}]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    layer = vector.read_any_lines(path)
    assert list(layer.oneway) == [1] and layer.road_class == ("primary",)
    pts_path = tmp_path / "shops.json"
    features = [{"type": "Feature", "properties": {"id": i}, "geometry": {"type": "Point", "coordinates": s}}
                for i, s in enumerate(SHOPS)]
    pts_path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    assert vector.read_any_points(pts_path).properties["id"] == [0, 1]


def test_dispatch_gpkg_and_shapefile(tmp_path):
    gpkg = tmp_path / "shops.gpkg"
    _write(gpkg, _points(SHOPS), {"id": ["a", "b"]}, driver="GPKG", crs="EPSG:4326", geometry_type="Point")
    assert vector.read_any_points(gpkg).properties["id"] == ["a", "b"]
    shp = tmp_path / "roads.shp"
    _write(shp, _lines(STREETS), {"oneway": ["no", "no"]}, driver="ESRI Shapefile", crs="EPSG:4326",
           geometry_type="LineString")
    assert len(vector.read_any_lines(shp).lines) == 2


def test_empty_layer_refused(tmp_path):
    path = tmp_path / "empty.gpkg"
    raw.write(str(path), np.array([], dtype=object), [np.array([], dtype=object)], ["id"], driver="GPKG",
              geometry_type="Point", crs="EPSG:4326")
    with pytest.raises(Refused, match="空"):
        vector.read_points(path)


def test_shapefile_missing_its_index_refused_without_server_paths(tmp_path):
    path = tmp_path / "roads.shp"
    _write(path, _lines(STREETS), {"oneway": ["no", "no"]}, driver="ESRI Shapefile", crs="EPSG:4326",
           geometry_type="LineString")
    path.with_suffix(".shx").unlink()
    with pytest.raises(Refused) as exc:
        vector.read_lines(path)
    assert exc.value.problems[0].file == "roads.shp" and str(tmp_path) not in str(exc.value)
