"""Life-circle maps drawn for real: a 2 km street grid measured with the real measurement under the
GB 50180 preset, written as PNG (opened with Pillow: size, colours, not blank) and SVG (the Chinese
legend and title are in the file as text), and refused — nothing written — without a CJK font."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from shapely import LineString

from chengzhen.lifecircle.maps import GAP_COLOUR, NO_FONT, circle_class, circle_colours, draw_map, find_cjk_font
from chengzhen.lifecircle.measure import measure_all
from chengzhen.lifecircle.network import Network
from chengzhen.lifecircle.presets import Preset
from chengzhen.problems import Refused


@pytest.fixture(scope="module")
def gb():
    return Preset.load("gb50180-2018")


def _grid(size_m: float = 2000, step: float = 100) -> Network:
    ticks = np.arange(0, size_m + step, step)  # every line through every crossing: streets join at shared vertices
    rows = [LineString([(x, t) for x in ticks]) for t in ticks]
    return Network.from_lines(rows + [LineString([(t, y) for y in ticks]) for t in ticks])


@pytest.fixture(scope="module")
def town(gb):
    net = _grid()
    rng = np.random.default_rng(10)
    homes = rng.uniform(0, 2000, (3000, 2))
    schools = np.array([[300.0, 300.0], [1500.0, 700.0]])
    d = measure_all(net, {"primary_school": schools}, homes, snap="edge", limit=gb.largest_reach)["primary_school_m"]
    return net, homes, schools, d


def _draw(path, town, gb, fmt, **kw):
    net, homes, schools, d = town
    return draw_map(path, network=net, homes_xy=homes, distance_m=d, preset=gb, type_code="primary_school",
                    type_label="小学", facilities_xy=schools, title="小学 生活圈覆盖（测试镇）", fmt=fmt, **kw)


def test_circle_class_is_the_smallest_covering_circle(gb):
    # primary_school: 5 min → the circle's 300 m, 10 min → its 500 m radius, 15 min → 1000 m.
    d = np.array([0, 300, 300.5, 500, 999, 1000, 1000.1, np.inf, np.nan])
    np.testing.assert_array_equal(circle_class(d, gb, "primary_school"), [0, 0, 1, 1, 2, 2, 3, 3, 3])


def test_png_is_drawn_with_several_colours(tmp_path, town, gb):
    out = _draw(tmp_path / "maps" / "school.png", town, gb, "png")
    assert out == tmp_path / "maps" / "school.png" and out.is_file()
    assert [p.name for p in out.parent.iterdir()] == ["school.png"]  # no temporary file left behind
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert out.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777  # the umask's mode, not a temp file's 0600
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (1800, 1500)  # 12 × 10 in at 150 dpi
        assert im.info.get("Title") == "小学 生活圈覆盖（测试镇）"
        rgb = np.asarray(im.convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(rgb, axis=0, return_counts=True)
    assert (rgb != 255).any(axis=1).mean() > 0.05  # not blank
    frequent = {tuple(int(v) for v in c) for c, k in zip(colours, counts, strict=True) if k > 200}
    for hex_colour in [*circle_colours(3), GAP_COLOUR]:  # three circles and the gaps
        want = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        assert any(max(abs(a - b) for a, b in zip(c, want, strict=True)) <= 8 for c in frequent), hex_colour


def test_svg_keeps_the_chinese_legend_as_text(tmp_path, town, gb):
    net, homes, schools, d = town
    out = _draw(tmp_path / "school.svg", town, gb, "svg")
    text = out.read_text(encoding="utf-8")
    ET.fromstring(text)  # well-formed XML
    cls = circle_class(d, gb, "primary_school")
    for label in ("5分钟内", "10分钟内", "15分钟内", "未覆盖", "小学 生活圈覆盖（测试镇）", "住宅所在生活圈", "米"):
        assert label in text, label
    assert f"未覆盖：{int((cls == 3).sum()):,} 处" in text
    assert "<dc:title>小学 生活圈覆盖（测试镇）</dc:title>" in text
    assert "<image" in text  # the homes are rasterized inside the SVG, not one element each
    assert text.count("<use") < 50


def test_refused_without_a_cjk_font(tmp_path, town, gb):
    with pytest.raises(Refused) as exc:
        find_cjk_font(["No Such CJK Font 无此字体"])
    assert exc.value.problems[0].reason == NO_FONT and "fonts-noto-cjk" in NO_FONT
    with pytest.raises(Refused):
        _draw(tmp_path / "out" / "school.png", town, gb, "png", fonts=["No Such CJK Font 无此字体"])
    assert not (tmp_path / "out").exists()  # nothing written


def test_unknown_format_is_refused(tmp_path, town, gb):
    with pytest.raises(Refused, match="png 或 svg"):
        _draw(tmp_path / "school.pdf", town, gb, "pdf")
    assert not list(tmp_path.iterdir())


def test_a_hundred_thousand_homes_draw_fast(tmp_path, gb):
    net = _grid(5000, 100)
    rng = np.random.default_rng(1)
    homes = rng.uniform(0, 5000, (100_000, 2))
    d = rng.uniform(0, 1500, 100_000)
    for fmt in ("png", "svg"):
        t0 = time.perf_counter()
        out = draw_map(tmp_path / f"big.{fmt}", network=net, homes_xy=homes, distance_m=d, preset=gb,
                       type_code="primary_school", type_label="小学", facilities_xy=homes[:20], title="十万住宅",
                       fmt=fmt)
        elapsed = time.perf_counter() - t0
        assert out.stat().st_size < 8_000_000
        assert elapsed < 15, f"{fmt}: {elapsed:.1f} s"
