"""Coordinate systems (坐标系): declarations, the offset systems of Chinese web maps, metric projections.

Coordinates are never guessed. A layer's coordinates carry a declared system (``declared``):
WGS84 (EPSG:4326), CGCS2000 (EPSG:4490, 2000国家大地坐标系), GCJ-02 (火星坐标, used by 高德 and
腾讯), BD-09 (百度) or any CRS pyproj knows. Everything is brought to WGS84 longitude/latitude
(``to_wgs84``) and then to one metric projection chosen for the area (``metric_crs``,
``to_metric``), in which the network and the distances are computed.

GCJ-02 and BD-09 are converted by the public formulas (the Krasovsky-ellipsoid offset with
a = 6378245.0, ee = 0.00669342162296594323, as in the ``eviltransform`` and ``coordtransform``
projects; BD-09 adds a rotation and shift with x_pi = π·3000/180). The formulas only hold inside
China, so a point declared GCJ-02 or BD-09 outside China's bounding box is refused rather than
passed through unchanged, as the reference implementations do. The inverse directions have no
closed form: ``gcj02_to_wgs84`` and ``bd09_to_gcj02`` start from the usual one-step
approximation (which is off by up to about 2 m and 20 cm respectively) and refine it by
fixed-point iteration until the forward formula reproduces the input to within
``INVERSE_TOLERANCE`` degrees (1e-9°, about 0.1 mm, well below the 1e-7° asked for).

CGCS2000 and WGS84 (as realised today) differ by centimetres, far below what life circles
measure, so CGCS2000 longitude/latitude is taken as WGS84 without a datum shift.

All functions are vectorised over NumPy arrays (scalars work too and give 0-d arrays).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from chengzhen.problems import Problem, Refused

# Krasovsky 1940 ellipsoid, as the GCJ-02 formula uses it.
KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
X_PI = math.pi * 3000.0 / 180.0

# China's bounding box as eviltransform and coordtransform use it (lon 72.004–137.8347, lat 0.8293–55.8271).
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)

INVERSE_TOLERANCE = 1e-9  # degrees; the forward formula must reproduce the input this closely
_MAX_ITERATIONS = 30
_MAX_LISTED = 20  # refused points listed one by one; the rest are counted

WGS84 = CRS.from_epsg(4326)


# ---- the offset formulas --------------------------------------------------------------------

def _pair(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if lon.shape != lat.shape:
        raise ValueError(f"longitude and latitude differ in shape: {lon.shape} and {lat.shape}")
    return lon, lat


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (Δlon, Δlat) in degrees at a WGS84 point."""
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def _invert(forward, lon: np.ndarray, lat: np.ndarray, start: tuple[np.ndarray, np.ndarray]):
    """Solve forward(p) = (lon, lat) for p by fixed-point iteration from ``start``.

    The offsets change slowly with position (their derivative is of order 1e-3), so each step
    gains about three digits; inside China two or three steps reach INVERSE_TOLERANCE.
    """
    plon, plat = (np.array(s, dtype=float, copy=True) for s in start)
    for _ in range(_MAX_ITERATIONS):
        flon, flat = forward(plon, plat)
        elon, elat = lon - flon, lat - flat
        if np.all(np.abs(elon) < INVERSE_TOLERANCE) and np.all(np.abs(elat) < INVERSE_TOLERANCE):
            break
        plon += elon
        plat += elat
    return plon, plat


def _wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def out_of_china(lon, lat) -> np.ndarray:
    """True where a point lies outside China's bounding box (where the offset formulas do not apply).

    Non-finite coordinates count as outside."""
    lon, lat = _pair(lon, lat)
    with np.errstate(invalid="ignore"):
        inside = (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])
    return ~inside


@dataclass(frozen=True)
class Where:
    """Where points came from, to name them when refused: the file, the two coordinate columns and
    each point's row as the file shows it (1-based positions when ``rows`` is not given)."""

    file: str = ""
    lon_column: str = "lon"
    lat_column: str = "lat"
    rows: Sequence[int] | None = None

    def row(self, i: int) -> int:
        return int(self.rows[i]) if self.rows is not None else i + 1

    @property
    def columns(self) -> str:
        return f"{self.lon_column}/{self.lat_column}"


def _refuse_points(bad: np.ndarray, where: Where, reason) -> None:
    """Refuse the points where ``bad`` is true, listing the first ones by row."""
    idx = np.flatnonzero(bad)
    if not len(idx):
        return
    problems = [Problem(file=where.file, row=where.row(int(i)), column=where.columns, reason=reason(int(i)))
                for i in idx[:_MAX_LISTED]]
    if len(idx) > _MAX_LISTED:
        problems.append(Problem(file=where.file, column=where.columns,
                                reason=f"另有 {len(idx) - _MAX_LISTED} 行同样的问题（共 {len(idx)} 行）"))
    raise Refused(problems)


def _check_finite(lon: np.ndarray, lat: np.ndarray, where: Where) -> None:
    _refuse_points(~(np.isfinite(lon) & np.isfinite(lat)), where,
                   lambda i: f"坐标缺失或不是数字（{lon.flat[i]!r}, {lat.flat[i]!r}）")


def _check_in_china(lon: np.ndarray, lat: np.ndarray, system: str, where: Where) -> None:
    _refuse_points(out_of_china(lon, lat), where,
                   lambda i: f"声明为 {system} 的点（{lon.flat[i]:.6f}, {lat.flat[i]:.6f}）在中国范围之外，"
                             f"{system} 偏移公式不适用；请核对坐标系声明")


def _refusal(file: str, column: str, reason: str) -> Refused:
    return Refused([Problem(file=file, column=column, reason=reason)])


def _where(where: Where | None) -> Where:
    return where if where is not None else Where()


# ---- public conversions ---------------------------------------------------------------------

def _checked(lon, lat, where: Where | None, system: str) -> tuple[np.ndarray, np.ndarray]:
    """The points as arrays, refused when missing or (for an offset system) outside China."""
    lon, lat = _pair(lon, lat)
    where = _where(where)
    _check_finite(lon, lat, where)
    _check_in_china(lon, lat, system, where)
    return lon, lat


def wgs84_to_gcj02(lon, lat, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → GCJ-02 (火星坐标) by the public formula; points outside China are refused."""
    lon, lat = _checked(lon, lat, where, "GCJ-02")
    return _wgs84_to_gcj02(lon, lat)


def gcj02_to_wgs84(lon, lat, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS84, inverting the public formula by iteration to INVERSE_TOLERANCE degrees."""
    lon, lat = _checked(lon, lat, where, "GCJ-02")
    dlon, dlat = _gcj_offset(lon, lat)
    return _invert(_wgs84_to_gcj02, lon, lat, (lon - dlon, lat - dlat))


def gcj02_to_bd09(lon, lat, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (百度坐标) by the public formula; points outside China are refused."""
    lon, lat = _checked(lon, lat, where, "BD-09")
    return _gcj02_to_bd09(lon, lat)


def bd09_to_gcj02(lon, lat, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02: the public formula (good to about 2e-6°), refined by iteration to INVERSE_TOLERANCE."""
    lon, lat = _checked(lon, lat, where, "BD-09")
    return _invert(_gcj02_to_bd09, lon, lat, _bd09_to_gcj02_approx(lon, lat))


def bd09_to_wgs84(lon, lat, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS84 (through GCJ-02)."""
    glon, glat = bd09_to_gcj02(lon, lat, where)
    return gcj02_to_wgs84(glon, glat, where)


def wgs84_to_bd09(lon, lat, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat, where), where)


# ---- declarations ---------------------------------------------------------------------------

WGS84_SYSTEM, CGCS2000_SYSTEM, GCJ02_SYSTEM, BD09_SYSTEM, OTHER_SYSTEM = "WGS84", "CGCS2000", "GCJ-02", "BD-09", "CRS"


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch not in " -_:/()（）")


_ALIASES = {
    WGS84_SYSTEM: ("wgs84", "epsg4326", "4326", "gps", "wgs1984", "ogccrs84", "crs84"),
    CGCS2000_SYSTEM: ("cgcs2000", "epsg4490", "4490", "国家2000", "2000国家大地坐标系", "国家大地坐标系2000"),
    GCJ02_SYSTEM: ("gcj02", "gcj", "火星坐标", "火星坐标系", "国测局", "国测局坐标", "高德", "高德地图", "amap",
                   "腾讯", "腾讯地图", "tencent"),
    BD09_SYSTEM: ("bd09", "bd09ll", "百度", "百度坐标", "百度地图", "百度经纬度", "baidu"),
}
_KNOWN = "WGS84、CGCS2000、GCJ-02、BD-09 或 EPSG 代码"
_ALIAS_TO_SYSTEM = {_key(a): system for system, aliases in _ALIASES.items() for a in aliases}
# Baidu's own Mercator metres: a different thing from BD-09 longitude/latitude, refused by name.
_BD09MC = {_key(a) for a in ("bd09mc", "百度墨卡托", "bd09mercator")}


@dataclass(frozen=True)
class Declaration:
    """A normalised coordinate-system declaration.

    ``system`` is WGS84, CGCS2000, GCJ-02, BD-09 or CRS (any other pyproj CRS, kept in ``crs``);
    ``text`` is what was declared. For the first four ``crs`` is WGS84 longitude/latitude, which the
    coordinates become after the offset (if any) is removed."""

    system: str
    text: str
    crs: CRS

    @property
    def offset(self) -> bool:
        """Whether the coordinates carry a Chinese web-map offset (GCJ-02 or BD-09)."""
        return self.system in (GCJ02_SYSTEM, BD09_SYSTEM)

    @property
    def geographic(self) -> bool:
        return self.crs.is_geographic

    @property
    def label(self) -> str:
        if self.system == OTHER_SYSTEM:
            code = self.crs.to_authority()
            return ":".join(code) if code else self.crs.name
        return self.system


def declared(crs_text: str | int | Declaration, file: str = "", column: str = "crs") -> Declaration:
    """Normalise a declared coordinate system; refuse empty or unknown text (never guess).

    Accepts WGS84 / EPSG:4326, CGCS2000 / EPSG:4490, GCJ-02 (aliases 火星坐标, 高德, 腾讯), BD-09
    (百度) and anything pyproj knows (``EPSG:4549``, a WKT, a PROJ string). ``file`` and ``column``
    name where the declaration came from (a file, ``--crs``) when it is refused."""
    if isinstance(crs_text, Declaration):
        return crs_text
    text = str(crs_text).strip()
    if not text:
        raise _refusal(file, column, f"未声明坐标系（{_KNOWN}）")
    key = _key(text)
    system = _ALIAS_TO_SYSTEM.get(key)
    if system is not None:
        return Declaration(system, text, WGS84)
    if key in _BD09MC:
        raise _refusal(file, column, f"不支持百度墨卡托坐标 {text!r}；请改用百度经纬度（BD-09）")
    try:
        crs = CRS.from_user_input(f"EPSG:{text}" if text.isdigit() else text)
    except CRSError:
        raise _refusal(file, column, f"未知的坐标系 {text!r}（可用：{_KNOWN}）") from None
    if not (crs.is_geographic or crs.is_projected) or crs.is_vertical:
        raise _refusal(file, column, f"坐标系 {text!r}（{crs.name}）不是平面或经纬度坐标系")
    if crs.is_geographic and crs.to_epsg() == 4326:
        return Declaration(WGS84_SYSTEM, text, WGS84)
    if crs.is_geographic and crs.to_epsg() == 4490:
        return Declaration(CGCS2000_SYSTEM, text, WGS84)
    return Declaration(OTHER_SYSTEM, text, crs)


# ---- checks on declared longitude/latitude --------------------------------------------------

def check_lon_lat(lon, lat, where: Where | None = None) -> None:
    """Refuse longitude/latitude that cannot be what the columns claim.

    The rules, each refusing the whole layer and naming the columns:
    - a "latitude" beyond ±90° or a "longitude" beyond ±180°: not degrees (or swapped);
    - swapped columns: every "longitude" lies in China's latitude range (0.83–55.83) and every
      "latitude" in China's longitude range (72.0–137.8). The two ranges do not overlap, so inside
      China this is unambiguous; only a layer entirely north of 72°N between 0.8°E and 55.8°E would be
      mistaken for it.
    """
    lon, lat = _pair(lon, lat)
    where = _where(where)
    if lon.size == 0:
        return
    ok = np.isfinite(lon) & np.isfinite(lat)
    flon, flat = lon[ok], lat[ok]
    if flon.size == 0:
        return
    cols = f"经度列 {where.lon_column!r} 与纬度列 {where.lat_column!r}"
    in_lat_range = (flon >= CHINA_LAT[0]) & (flon <= CHINA_LAT[1])
    in_lon_range = (flat >= CHINA_LON[0]) & (flat <= CHINA_LON[1])
    if np.all(in_lat_range & in_lon_range):
        raise Refused([Problem(file=where.file, column=where.columns,
                               reason=f"{cols} 似乎互换了：经度值都在中国的纬度范围内，纬度值都在中国的经度范围内"
                                      f"（如第 {where.row(int(np.flatnonzero(ok)[0]))} 行 {flon[0]}, {flat[0]}）")])
    if np.any(np.abs(flat) > 90) and np.all(np.abs(flon) <= 90):
        raise Refused([Problem(file=where.file, column=where.columns,
                               reason=f"{cols} 似乎互换了：纬度值超出 ±90°，而经度值都在 ±90° 之内")])
    bad = ok & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    _refuse_points(bad, where, lambda i: f"不是经纬度（{lon.flat[i]}, {lat.flat[i]}）：纬度应在 ±90°、"
                                         "经度应在 ±180° 之内；投影坐标请声明其坐标系（如 EPSG:4549）")


def _check_projected(x: np.ndarray, y: np.ndarray, decl: Declaration, where: Where) -> None:
    """Refuse a layer declared in a projected CRS whose values all look like degrees."""
    if x.size and np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90):
        raise _refusal(where.file, where.columns,
                       f"坐标系声明为投影坐标 {decl.label}（单位米），但所有坐标值都像经纬度；请核对坐标系声明")


def to_wgs84(x, y, declaration: str | Declaration, where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates as a file has them, in their declared system → WGS84 longitude/latitude.

    Refuses missing values, swapped or impossible longitude/latitude, GCJ-02/BD-09 points outside
    China, projected coordinates that look like degrees and points the projection cannot convert."""
    where = _where(where)
    decl = declared(declaration, where.file)
    x, y = _pair(x, y)
    _check_finite(x, y, where)
    if decl.geographic:
        check_lon_lat(x, y, where)
    else:
        _check_projected(x, y, decl, where)
    if decl.system == GCJ02_SYSTEM:
        return gcj02_to_wgs84(x, y, where)
    if decl.system == BD09_SYSTEM:
        return bd09_to_wgs84(x, y, where)
    if decl.system in (WGS84_SYSTEM, CGCS2000_SYSTEM):
        return x.copy(), y.copy()
    lon, lat = Transformer.from_crs(decl.crs, WGS84, always_xy=True).transform(x, y)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    _refuse_points(~(np.isfinite(lon) & np.isfinite(lat)), where,
                   lambda i: f"坐标（{x.flat[i]}, {y.flat[i]}）无法从 {decl.label} 转换为经纬度")
    return lon, lat


# ---- the metric projection ------------------------------------------------------------------

MAX_LON_SPAN = 12.0  # degrees; beyond two UTM zones the scale error passes about 0.5 %


def utm_zone(lon: float) -> int:
    """The UTM zone number (1–60) of a longitude (the regular 6° grid; Norway's exceptions ignored)."""
    return int(min(max(math.floor((lon + 180.0) / 6.0) + 1, 1), 60))


def metric_crs(lon, lat, file: str = "") -> CRS:
    """The metric projection for an area given by WGS84 points: the WGS 84 / UTM zone of the centre
    of their bounding box (EPSG:326zz north of the equator, 327zz south).

    UTM is chosen over CGCS2000 3-degree Gauss–Krüger because it covers the whole world (real test
    extracts lie outside China) with a standard EPSG code any GIS opens. Its scale error is −0.04 %
    at the central meridian and under +0.15 % three degrees away, so a county or a province measured
    in one zone is within the 0.5 % the distances allow. Areas wider than MAX_LON_SPAN degrees are
    refused: run them region by region."""
    lon, lat = _pair(lon, lat)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not np.any(ok):
        raise Refused([Problem(file=file, reason="没有有效坐标，无法选择投影")])
    lo, hi = float(lon[ok].min()), float(lon[ok].max())
    if hi - lo > MAX_LON_SPAN:
        raise _refusal(file, "", f"范围跨经度 {hi - lo:.1f}°，超过 {MAX_LON_SPAN:g}°，单一投影误差过大；请分区计算")
    centre_lon = (lo + hi) / 2.0
    centre_lat = (float(lat[ok].min()) + float(lat[ok].max())) / 2.0
    zone = utm_zone(centre_lon)
    return CRS.from_epsg((32600 if centre_lat >= 0 else 32700) + zone)


def to_metric(x, y, declaration: str | Declaration, metric: CRS | None = None,
              where: Where | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in their declared system → x, y in metres in ``metric`` (pyproj, always_xy=True).

    Without ``metric`` the projection is ``metric_crs`` of these points; to put several layers
    (network, facilities, homes) in the same plane, choose it once and pass it to each."""
    where = _where(where)
    lon, lat = to_wgs84(x, y, declaration, where)
    if metric is None:
        metric = metric_crs(lon, lat, where.file)
    mx, my = Transformer.from_crs(WGS84, metric, always_xy=True).transform(lon, lat)
    mx, my = np.asarray(mx, dtype=float), np.asarray(my, dtype=float)
    _refuse_points(~(np.isfinite(mx) & np.isfinite(my)), where,
                   lambda i: f"坐标（{lon.flat[i]}, {lat.flat[i]}）无法投影到 {metric.name}")
    return mx, my
