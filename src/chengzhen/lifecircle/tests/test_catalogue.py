"""The shipped facility-type catalogue: resolution of codes, Chinese names, OSM tags; refusals; file checks."""

from __future__ import annotations

import pytest

from chengzhen.lifecircle.catalogue import Catalogue
from chengzhen.problems import Refused

ISSUE_TYPES = ["幼儿园", "小学", "初中", "社区卫生服务站", "卫生院", "养老服务站", "菜市场", "农贸市场", "便利店",
               "社区公园", "口袋公园", "文体活动中心", "公交站", "邻里中心"]


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return Catalogue.load()


def test_issue_types_present(cat):
    for name in ISSUE_TYPES:
        assert cat.resolve(name) in cat
    assert cat.resolve("菜市场") == cat.resolve("农贸市场") == "market"
    assert cat.resolve("社区公园") == cat.resolve("口袋公园") == "community_park"


def test_resolve_code_name_synonym_and_osm(cat):
    assert cat.resolve("kindergarten") == "kindergarten"
    assert cat.resolve(" 幼儿园 ") == "kindergarten"
    assert cat.resolve("amenity=kindergarten") == "kindergarten"
    assert cat.resolve("shop = convenience") == "convenience_store"
    assert cat.resolve("convenience") == "convenience_store"
    assert cat.resolve("leisure=park") == "community_park"
    assert cat.resolve("highway=bus_stop") == "bus_stop"
    assert cat.resolve("ＫＩＮＤＥＲＧＡＲＴＥＮ") == "kindergarten"  # full-width letters folded


def test_ambiguous_osm_school_refused_asking_for_codes(cat):
    for value in ("school", "amenity=school"):
        with pytest.raises(Refused) as info:
            cat.resolve(value, file="poi.csv", row=5, column="type")
        [p] = info.value.problems
        assert (p.file, p.row, p.column) == ("poi.csv", 5, "type")
        assert "小学" in p.reason and "初中" in p.reason and "类型代码" in p.reason


def test_osm_default_settles_school(tmp_path):
    text = Catalogue.load().source
    shipped = open(text, encoding="utf-8").read().replace("amenity=school: null", "amenity=school: primary_school")
    path = tmp_path / "types.yaml"
    path.write_text(shipped, encoding="utf-8")
    assert Catalogue.load(path).resolve("school") == "primary_school"


def test_unknown_value_names_nearest(cat):
    with pytest.raises(Refused) as info:
        cat.resolve("幼儿圆", file="poi.xlsx", row=9)
    [p] = info.value.problems
    assert "'幼儿圆'" in p.reason and "幼儿园（kindergarten）" in p.reason and p.row == 9
    with pytest.raises(Refused, match="为空"):
        cat.resolve("  ")


def test_resolve_all_reports_every_bad_row(cat):
    with pytest.raises(Refused) as info:
        cat.resolve_all(["幼儿园", "school", "便利店", "xyz"], file="poi.csv", rows=[2, 3, 4, 5])
    assert [p.row for p in info.value.problems] == [3, 5]
    assert cat.resolve_all(["幼儿园", "shop=convenience"]) == ["kindergarten", "convenience_store"]


def test_bad_catalogue_files_refused_with_lines(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "types:\n"
        "  - {code: shop, name: 商店, osm: [shop=convenience]}\n"
        "  - {code: shop, name: 另一个}\n"
        "  - {code: Bad-Code, name: x}\n"
        "  - {code: kiosk, name: 商店}\n"
        "  - {code: stall, name: 摊位, osm: [not a tag], colour: red}\n"
        "osm_defaults:\n"
        "  leisure=park: shop\n",
        encoding="utf-8")
    with pytest.raises(Refused) as info:
        Catalogue.load(path)
    text = str(info.value)
    assert "重复" in text and "Bad-Code" in text and "已用于类型 shop" in text
    assert "key=value" in text and "colour" in text and "leisure=park" in text
    assert all(p.file == str(path) and p.row for p in info.value.problems)
