"""Life-circle maps (生活圈分析图): one facility type on one map, PNG or SVG, Chinese labels.

The road network in thin grey; every home coloured by the smallest circle of the preset that covers
it for that type (the same rule as ``coverage.covered`` and the ``<type>_<minutes>`` columns: within
``preset.reach(type, circle)``); homes no circle covers (the gaps, 未覆盖) as red crosses on top;
the facilities of that type as black triangles; a discrete legend with the number of homes per
class, a scale bar in metres, equal aspect. Pure: matplotlib through its object API (``Figure``,
never pyplot, so no GUI backend and no global figure state) and NumPy; no network access.

Chinese text needs a CJK font. It is looked up among the fonts matplotlib knows (Debian's
``fonts-noto-cjk`` gives "Noto Sans CJK SC"); nothing is downloaded, and when none is installed the
map is refused with a message saying which package to install.

Speed: the homes are one ``scatter`` per class and the roads one NaN-separated polyline, so
100,000 homes draw in about a second. In SVG the points (and the roads of networks over
``VECTOR_ROAD_LIMIT`` edges) are rasterized inside the vector file — otherwise the file would hold
one element per home — while text, legend and scale bar stay vector. SVG text is kept as text
(``svg.fonttype: none``) so it can be searched and edited; the viewer then needs a Chinese font.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import shapely

from chengzhen.problems import Problem, Refused

from .coverage import covered
from .network import Network
from .presets import Preset

CJK_FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Noto Sans CJK TC", "Noto Sans CJK JP",
             "Noto Serif CJK TC", "Noto Serif CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "AR PL UMing CN")
NO_FONT = "未找到中文字体：请安装 fonts-noto-cjk（Debian/Ubuntu：apt-get install fonts-noto-cjk）"
FORMATS = ("png", "svg")
VECTOR_ROAD_LIMIT = 20_000  # above this many edges the SVG's roads are rasterized too (file size)

ROAD_COLOUR = "#9e9e9e"
GAP_COLOUR = "#d7191c"


def find_cjk_font(names: Sequence[str] | None = None) -> str:
    """The family name of the first installed font among ``names`` (default ``CJK_FONTS``), as
    matplotlib's font manager knows it; refused with ``NO_FONT`` when none is installed."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS if names is None else names:
        if name in installed:
            return name
    raise Refused([Problem(column="font", reason=NO_FONT)])


def circle_class(distance_m: np.ndarray, preset: Preset, type_code: str) -> np.ndarray:
    """Per home, the index of the smallest circle of ``preset`` covering it for ``type_code``
    (0 = the first circle), or ``len(preset.circles)`` when none does (a gap)."""
    d = np.asarray(distance_m, dtype=float)
    out = np.full(len(d), len(preset.circles), dtype=np.int64)
    # Largest circle first, so the smallest covering circle is the one written last.
    for i in range(len(preset.circles) - 1, -1, -1):
        out[covered(d, preset.reach(type_code, preset.circles[i]))] = i
    return out


def circle_colours(n: int) -> list[str]:
    """One colour per circle, near to far: viridis (colour-blind safe, in order of lightness) short of
    its darkest purple (the facilities are black) and its palest yellow (it would vanish on white);
    red is kept for the gaps."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    return [to_hex(colormaps["viridis"](t)) for t in np.linspace(0.1, 0.85, n)]


def _road_polyline(network: Network) -> np.ndarray:
    """Every edge's vertices, edges separated by a NaN row: one path for matplotlib to stroke."""
    coords, edge = shapely.get_coordinates(network.geometry, return_index=True)
    if len(coords) == 0:
        return np.empty((0, 2))
    breaks = np.flatnonzero(edge[1:] != edge[:-1]) + 1
    return np.insert(coords, breaks, np.nan, axis=0)


def _scale_length(width_m: float) -> float:
    """A round length (1, 2 or 5 × 10^k metres) near a fifth of the map's width."""
    target = max(width_m / 5, 1.0)
    power = 10 ** np.floor(np.log10(target))
    return float(max(step * power for step in (1, 2, 5) if step * power <= target))


def _extent(*arrays: np.ndarray) -> tuple[float, float, float, float]:
    pts = np.concatenate([a for a in arrays if len(a)]) if any(len(a) for a in arrays) else np.zeros((1, 2))
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if len(pts) == 0:
        pts = np.zeros((1, 2))
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    pad = max(x1 - x0, y1 - y0, 100.0) * 0.05  # a lone point still gets a 100 m frame
    return float(x0 - pad), float(x1 + pad), float(y0 - pad), float(y1 + pad)


def draw_map(path: str | Path, *, network: Network, homes_xy: np.ndarray, distance_m: np.ndarray, preset: Preset,
             type_code: str, type_label: str, facilities_xy: np.ndarray, title: str, fmt: str = "png",
             fonts: Sequence[str] | None = None, dpi: int = 150, size_in: tuple[float, float] = (12.0, 10.0)) -> Path:
    """Draw the map of one facility type and write it to ``path`` (``fmt`` ``"png"`` or ``"svg"``);
    see the module docstring. Coordinates are metres in the run's metric CRS (``homes_xy`` and
    ``facilities_xy`` (n, 2) arrays, the network's own); ``distance_m`` is each home's network
    distance to the nearest facility of the type (``inf``/NaN: unreachable). ``fonts`` overrides
    the CJK font names tried. The file is written whole or not at all; returns its path."""
    if fmt not in FORMATS:
        raise Refused([Problem(file=str(path), column="fmt", reason=f"地图格式应为 png 或 svg，而不是 {fmt!r}")])
    homes = np.asarray(homes_xy, dtype=float).reshape(-1, 2)
    fac = np.asarray(facilities_xy, dtype=float).reshape(-1, 2)
    d = np.asarray(distance_m, dtype=float)
    if len(d) != len(homes):
        raise ValueError(f"distance_m has {len(d)} values for {len(homes)} homes")
    font = find_cjk_font(fonts)  # before anything is drawn or written

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    rc = {"font.family": [font], "axes.unicode_minus": False, "svg.fonttype": "none", "path.simplify": True}
    raster = fmt == "svg"
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=size_in, dpi=dpi, layout="constrained")
        FigureCanvasAgg(fig)  # Agg, whatever backend the process has chosen (SVG output switches to its own)
        ax = fig.add_subplot()
        # Frame the homes and facilities (the network may reach far beyond them); the network when there are none.
        framed = (homes, fac) if len(homes) or len(fac) else (np.column_stack([network.x, network.y]),)
        x0, x1, y0, y1 = _extent(*framed)
        roads = _road_polyline(network)
        if len(roads):
            ax.plot(roads[:, 0], roads[:, 1], color=ROAD_COLOUR, linewidth=0.4, zorder=1,
                    rasterized=raster and network.n_edges > VECTOR_ROAD_LIMIT)
        cls = circle_class(d, preset, type_code)
        n_circles = len(preset.circles)
        marker = float(np.clip(16 / np.sqrt(max(len(homes), 1) / 100), 1.0, 16.0))  # smaller when dense
        handles = []
        for i, (c, colour) in enumerate(zip(preset.circles, circle_colours(n_circles), strict=True)):
            mask = cls == i
            if mask.any():
                ax.scatter(homes[mask, 0], homes[mask, 1], s=marker, c=colour, linewidths=0, zorder=2,
                           rasterized=raster)
            reach = preset.reach(type_code, c)
            handles.append(Line2D([], [], linestyle="", marker="o", markersize=7, markerfacecolor=colour,
                                  markeredgewidth=0,
                                  label=f"{c.minutes}分钟内（≤{reach:,.0f} 米）：{int(mask.sum()):,} 处"))
        gaps = cls == n_circles
        if gaps.any():
            ax.scatter(homes[gaps, 0], homes[gaps, 1], s=max(marker * 2, 6.0), c=GAP_COLOUR, marker="x",
                       linewidths=0.8, zorder=3, rasterized=raster)
        handles.append(Line2D([], [], linestyle="", marker="x", markersize=7, markeredgecolor=GAP_COLOUR,
                              markeredgewidth=1.2, label=f"未覆盖：{int(gaps.sum()):,} 处"))
        if len(fac):
            ax.scatter(fac[:, 0], fac[:, 1], s=60, c="black", marker="^", linewidths=0.5, edgecolors="white",
                       zorder=4)
        handles.append(Line2D([], [], linestyle="", marker="^", markersize=8, markerfacecolor="black",
                              markeredgecolor="white", label=f"{type_label}（{len(fac):,} 处）"))
        handles.append(Line2D([], [], color=ROAD_COLOUR, linewidth=1.0, label="道路"))
        # Outside the frame: it hides no home, and loc="best" would test every point (slow at 100,000).
        fig.legend(handles=handles, loc="outside right upper", title="住宅所在生活圈", fontsize=9, title_fontsize=9,
                   frameon=False, alignment="left")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=14)
        length = _scale_length(x1 - x0)
        ax.add_artist(AnchoredSizeBar(ax.transData, length, f"{length:,.0f} 米", loc="lower left", pad=0.6,
                                      borderpad=0.8, sep=4, frameon=True, size_vertical=(y1 - y0) / 300))
        ax.text(0.99, 0.01, f"{preset.name}；距离按路网计算", transform=ax.transAxes, ha="right", va="bottom",
                fontsize=7, color="#555555")
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # A hidden name beside the target, renamed over it when complete (not mkstemp: its 0600 would stick).
        tmp = target.with_name(f".{target.stem}-{secrets.token_hex(6)}.{fmt}")
        try:
            fig.savefig(tmp, format=fmt, metadata={"Title": title})
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target
