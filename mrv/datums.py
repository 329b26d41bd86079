"""Chinese web-map datums → WGS84, vectorised.

GCJ-02 (AMap/高德, Tencent) is WGS84 shifted by a published obfuscation polynomial on the
Krasovsky 1940 ellipsoid; BD-09 (Baidu) is GCJ-02 with a further polar-coordinate offset. The
inverse has no closed form: we start from the one-step approximation and refine by fixed-point
iteration until the forward transform reproduces the input to 1e-9 degrees (millimetres).
The formulas are the ones implemented by ``prcoords`` (public domain), which the tests use as the
independent reference; this module exists because that library converts one point per Python
call. CGCS2000 and WGS84 differ by centimetres and are treated as identical.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import numpy.typing as npt

from mrv.errors import InputError

FloatArray = npt.NDArray[np.float64]
Datum = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
LonLat = tuple[FloatArray, FloatArray]
DATUMS: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")

_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_BD_DLAT = 0.0060
_BD_DLON = 0.0065
_TOL_DEG = 1e-9
_MAX_ITER = 30


def _in_china(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    return (lat >= 0.8293) & (lat <= 55.8271) & (lon >= 72.004) & (lon <= 137.8347)


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 → GCJ-02; points outside China's bounding box are returned unchanged."""
    lo = np.asarray(lon, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)
    x, y = lo - 105.0, la - 35.0
    pi = np.pi
    dlat_m = (
        -100
        + 2 * x
        + 3 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (
            2 * np.sin(x * 6 * pi)
            + 2 * np.sin(x * 2 * pi)
            + 2 * np.sin(y * pi)
            + 4 * np.sin(y / 3 * pi)
            + 16 * np.sin(y / 12 * pi)
            + 32 * np.sin(y / 30 * pi)
        )
        * 20
        / 3
    )
    dlon_m = (
        300
        + x
        + 2 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (
            2 * np.sin(x * 6 * pi)
            + 2 * np.sin(x * 2 * pi)
            + 2 * np.sin(x * pi)
            + 4 * np.sin(x / 3 * pi)
            + 15 * np.sin(x / 12 * pi)
            + 30 * np.sin(x / 30 * pi)
        )
        * 20
        / 3
    )
    rad_lat = np.radians(la)
    magic = 1 - _GCJ_EE * np.sin(rad_lat) ** 2
    lat_deg_m = np.radians(_GCJ_A * (1 - _GCJ_EE) / magic**1.5)
    lon_deg_m = np.radians(_GCJ_A * np.cos(rad_lat) / np.sqrt(magic))
    inside = _in_china(lo, la)
    return (
        np.where(inside, lo + dlon_m / lon_deg_m, lo),
        np.where(inside, la + dlat_m / lat_deg_m, la),
    )


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → BD-09."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    r = np.hypot(x, y) + 0.00002 * np.sin(np.radians(y) * 3000)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(np.radians(x) * 3000)
    return r * np.cos(theta) + _BD_DLON, r * np.sin(theta) + _BD_DLAT


def _bd09_to_gcj02_rough(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x, y = lon - _BD_DLON, lat - _BD_DLAT
    r = np.hypot(x, y) - 0.00002 * np.sin(np.radians(y) * 3000)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(np.radians(x) * 3000)
    return r * np.cos(theta), r * np.sin(theta)


def _invert(
    forward: Callable[[FloatArray, FloatArray], LonLat],
    lon: FloatArray,
    lat: FloatArray,
    start: LonLat,
) -> LonLat:
    """Solve forward(w) = (lon, lat) for w by fixed-point iteration from ``start``."""
    w_lon, w_lat = start
    for _ in range(_MAX_ITER):
        f_lon, f_lat = forward(w_lon, w_lat)
        d_lon, d_lat = f_lon - lon, f_lat - lat
        w_lon, w_lat = w_lon - d_lon, w_lat - d_lat
        if np.all(np.hypot(d_lon, d_lat) < _TOL_DEG):
            break
    return w_lon, w_lat


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → WGS84 (iterated inverse; residual < 1e-9 degrees)."""
    lo = np.asarray(lon, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)
    g_lon, g_lat = wgs84_to_gcj02(lo, la)
    return _invert(wgs84_to_gcj02, lo, la, (2 * lo - g_lon, 2 * la - g_lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 → WGS84 (iterated inverse of WGS84 → GCJ-02 → BD-09)."""
    lo = np.asarray(lon, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)

    def forward(w_lon: FloatArray, w_lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        return gcj02_to_bd09(*wgs84_to_gcj02(w_lon, w_lat))

    start = gcj02_to_wgs84(*_bd09_to_gcj02_rough(lo, la))
    return _invert(forward, lo, la, start)


def to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, datum: str) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates declared in ``datum`` (wgs84, cgcs2000, gcj02, bd09) to WGS84."""
    key = datum.strip().lower().replace("-", "").replace("_", "")
    if key in ("wgs84", "cgcs2000", "epsg4326", "epsg4490"):
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if key == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if key == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise InputError(f"unknown datum {datum!r}; use one of {', '.join(DATUMS)}")
