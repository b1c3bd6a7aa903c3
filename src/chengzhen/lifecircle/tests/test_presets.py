"""Standards as presets: every shipped preset loads; reach; refusals naming file, line and key."""

from __future__ import annotations

import pytest

from chengzhen.lifecircle.presets import Preset
from chengzhen.problems import Refused


def test_every_shipped_preset_loads_with_sources_and_unverified_marks():
    names = Preset.shipped()
    assert {"gb50180-2018", "tdt1062-2021", "zj-mlcz"} <= set(names)
    for name in names:
        preset = Preset.load(name)
        assert preset.sources and preset.circles and preset.types
        assert preset.unverified, name
        assert preset.minutes == sorted(preset.minutes)


def test_gb50180_reach():
    gb = Preset.load("gb50180-2018")
    assert gb.minutes == [5, 10, 15]
    assert gb.reach("kindergarten", 5) == 300
    assert gb.reach("primary_school", 10) == 500
    assert gb.reach("junior_middle_school", 15) == 1000
    assert gb.reach("kindergarten", 15) == 1000  # no radius in that circle: its walking distance
    assert gb.reach("convenience_store", 10) == 500  # any type: minutes × speed
    assert gb.largest_reach == 1000
    assert all(c.mode == "walk" for c in gb.circles)
    marked = dict(gb.unverified)
    assert "circles.5.facilities.kindergarten" in marked
    assert gb.circle(10).requirements["community_park"].norm.per_1000 == 1000


def test_zj_30_minute_circle_drives_by_road_class():
    zj = Preset.load("zj-mlcz")
    c30 = zj.circle(30)
    assert c30.mode == "drive" and c30.road_speeds["primary"] > c30.road_speeds["residential"]
    assert zj.reach("senior_high_school", 30) == 30 * c30.speed
    with pytest.raises(KeyError):
        zj.circle(10)


def _write(tmp_path, body: str):
    path = tmp_path / "p.yaml"
    path.write_text("code: t\nname: 测试\nsources: [测试]\n" + body, encoding="utf-8")
    return path


def test_unknown_type_refused_with_name_file_and_line(tmp_path):
    path = _write(tmp_path, "circles:\n  - minutes: 5\n    mode: walk\n    speed_m_per_min: 60\n"
                            "    facilities:\n      - kindergarten\n      - {type: 幼儿圆, radius_m: 300}\n")
    with pytest.raises(Refused) as info:
        Preset.load(path)
    [p] = info.value.problems
    assert p.file == str(path) and p.row == 10 and "幼儿圆" in p.reason and "kindergarten" in p.reason
    assert p.column == "circles.5.facilities[1].type"


def test_bad_speeds_and_order_refused(tmp_path):
    path = _write(tmp_path, "circles:\n"
                            "  - {minutes: 15, mode: walk, speed_m_per_min: 600}\n"
                            "  - {minutes: 10, mode: walk, speed_m_per_min: 60}\n"
                            "  - {minutes: 30, mode: drive, speed_m_per_min: 300, road_speeds: {primary: -5}}\n"
                            "  - {minutes: 45, mode: plane, speed_m_per_min: 9000}\n")
    with pytest.raises(Refused) as info:
        Preset.load(path)
    text = str(info.value)
    assert "600" in text and "从小到大" in text and "-5" in text and "plane" in text
    assert {p.row for p in info.value.problems} == {5, 6, 7, 8}


def test_bus_circle_labelled_approximation(tmp_path):
    path = _write(tmp_path, "circles:\n  - {minutes: 30, mode: bus, speed_m_per_min: 250, facilities: [卫生院]}\n")
    c = Preset.load(path).circle(30)
    assert c.approximate and "近似" in c.mode_label and "township_health_centre" in c.requirements


def test_unknown_preset_name_refused():
    with pytest.raises(Refused, match="gb50180-2018"):
        Preset.load("gb50180")
