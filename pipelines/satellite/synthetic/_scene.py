"""Observations: sun, clouds, shadows, cirrus, terrain illumination, surface mixture, noise
and the Scene Classification of each date."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from pipelines.satellite import _spectra
from pipelines.satellite.cube import BAND_RESOLUTION_M
from pipelines.satellite.synthetic._noise import Field, centres, sample_axes, smoothstep, tile_draws
from pipelines.satellite.synthetic._spec import (
    DEFAULT_BANDS,
    F32,
    F64,
    MASKED_SCL,
    OFF_YEAR,
    RESOLUTION_M,
    U8,
    U16,
    SyntheticSpec,
    from_dn,
    to_dn,
)
from pipelines.satellite.synthetic._truth import Truth, check_truth, strips, truth_arrays

_SHADOW_PAD_PX = 600  # lattice margin: shadows are cast up to ~6 km from their clouds
_ILLUM_C = 0.3  # diffuse-light constant of the illumination factor


@dataclass(frozen=True)
class _DateModel:
    doy: float
    sun_zenith_deg: float
    sun_azimuth_deg: float
    cloud: Callable[[F64, F64], F32]
    cloud_tau: float
    shadow_drow: float
    shadow_dcol: float
    cirrus: Callable[[F64, F64], F32] | None
    cirrus_tau: float
    gains: F32


def solar_position(when: datetime, lat_deg: float) -> tuple[float, float]:
    """Sun zenith and azimuth (degrees, azimuth clockwise from north) at Sentinel-2's 10:30
    local-solar-time overpass: declination after Cooper (1969), spherical astronomy for the
    rest."""
    doy = when.timetuple().tm_yday
    decl = math.radians(23.44) * math.sin(2 * math.pi * (284 + doy) / 365.0)
    lat = math.radians(lat_deg)
    hour = math.radians(15.0 * (10.5 - 12.0))
    cos_z = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(hour)
    zen = math.acos(max(-1.0, min(1.0, cos_z)))
    sin_a = -math.cos(decl) * math.sin(hour) / math.sin(zen)
    cos_a = (math.sin(decl) - math.sin(lat) * cos_z) / (math.cos(lat) * math.sin(zen))
    return math.degrees(zen), math.degrees(math.atan2(sin_a, cos_a)) % 360.0


_X35 = 0.3995  # smoothstep(x) = 0.35: opacity threshold of SCL medium-probability cloud
_CLOUD_EDGE = 0.25  # width of the cloud edge in standard units of the cloud field


def _opacity(n: F32, tau: float) -> F32:
    return smoothstep(np.clip((n - tau) / _CLOUD_EDGE + 0.5, 0.0, 1.0).astype(np.float32))


class _SceneModel:
    """Per-date atmosphere (clouds, shadows, cirrus, sun) of a spec, built once."""

    def __init__(self, spec: SyntheticSpec) -> None:
        self.spec = spec
        shape = spec.shape
        lat = spec.aoi.centroid.y
        sy, sx = sample_axes(shape)
        self.matrix = _spectra.spectra_matrix(DEFAULT_BANDS)  # (band, endmember)
        self.dates: list[_DateModel] = []
        for ti, (when, cover) in enumerate(zip(spec.dates, spec.cloud_covers, strict=True)):
            rng = np.random.default_rng([spec.seed, 50, ti])
            zen, az = solar_position(when, lat)
            cloud = Field(
                (spec.seed, 20, ti), (2500, 1250, 600, 300, 150, 75),
                (1, 0.6, 0.35, 0.2, 0.12, 0.07), shape, _SHADOW_PAD_PX,
            )  # fmt: skip
            cs = cloud(sy, sx)
            mu, sd = float(cs.mean()), float(cs.std())
            std_cloud = _Standardised(cloud, mu, sd)
            if cover > 0:
                q = float(np.quantile((cs - mu) / sd, 1.0 - cover))
                tau = q + _CLOUD_EDGE * (0.5 - _X35)
            else:
                tau = math.inf
            height_m = float(rng.uniform(1_000.0, 3_000.0))
            length_px = height_m * math.tan(math.radians(zen)) / RESOLUTION_M
            # shadow of a cloud at p falls at p + L·(direction away from the sun)
            drow = length_px * math.cos(math.radians(az))  # away from sun: north is -row
            dcol = -length_px * math.sin(math.radians(az))
            has_cirrus = bool(rng.random() < 0.35)
            cirrus: _Standardised | None = None
            ctau = math.inf
            if has_cirrus:
                raw = Field((spec.seed, 30, ti), (4000, 2000, 800), (1, 0.5, 0.25), shape)
                cs2 = raw(sy, sx)
                cirrus = _Standardised(raw, float(cs2.mean()), float(cs2.std()))
                ctau = float(np.quantile(cirrus(sy, sx), 0.80))
            gains = (1.0 + 0.015 * rng.standard_normal(len(DEFAULT_BANDS))).astype(np.float32)
            self.dates.append(
                _DateModel(
                    float(when.timetuple().tm_yday),
                    zen,
                    az,
                    std_cloud,
                    tau,
                    drow,
                    dcol,
                    cirrus,
                    ctau,
                    gains,
                )
            )


class _Standardised:
    """A field rescaled to zero mean and unit standard deviation (over the sample grid)."""

    def __init__(self, inner: Field, mu: float, sd: float) -> None:
        self.inner, self.mu, self.sd = inner, mu, sd

    def __call__(self, rows: F64, cols: F64) -> F32:
        return ((self.inner(rows, cols) - self.mu) / self.sd).astype(np.float32)


@lru_cache(maxsize=4)
def scene_model(spec: SyntheticSpec) -> _SceneModel:
    """The scene model of a spec (cached)."""
    return _SceneModel(spec)


def _illumination(dm: _DateModel, slope_deg: F32, aspect_deg: F32) -> F32:
    """(cos i + c)/(cos θz + c): Lambertian terrain illumination with a diffuse term."""
    z = math.radians(dm.sun_zenith_deg)
    s = np.radians(slope_deg)
    cos_i = math.cos(z) * np.cos(s) + math.sin(z) * np.sin(s) * np.cos(
        np.radians(dm.sun_azimuth_deg - aspect_deg)
    )
    f = (cos_i + _ILLUM_C) / (math.cos(z) + _ILLUM_C)
    return np.clip(f, 0.1, 2.0).astype(np.float32)


def _block_mean(a: F32) -> F32:
    """2 × 2 block mean over the last two axes (10 m → 20 m)."""
    s = a[..., 0::2, 0::2] + a[..., 0::2, 1::2]
    s += a[..., 1::2, 0::2]
    s += a[..., 1::2, 1::2]
    s *= np.float32(0.25)
    return s


def _surface(spec: SyntheticSpec, tw: Mapping[str, Any], doy: float, matrix: F32) -> F32:
    """Clean surface reflectance (all 10 bands, y, x) on a day of the year."""
    cls = tw["class_map"]
    h, w = cls.shape
    flat = cls.ravel()
    surf = np.zeros((matrix.shape[0], h * w), dtype=np.float32)
    names = _spectra.ENDMEMBER_NAMES
    for c in spec.classes:
        idx = np.flatnonzero(flat == c.code)
        if idx.size == 0:
            continue
        mods = _spectra.PixelModifiers(
            vigour=tw["vigour"].ravel()[idx],
            mix=tw["mix"].ravel()[idx],
            shift_days=tw["shift_days"].ravel()[idx],
            winter_crop=tw["winter_crop"].ravel()[idx],
            off_year=tw["bamboo_year"].ravel()[idx] == OFF_YEAR,
        )
        fr = _spectra.endmember_fractions(c.name, doy, mods)
        used = [e for e, name in enumerate(names) if name in fr]
        weights = np.stack([fr[names[e]] for e in used])
        _mix_into(surf, np.ascontiguousarray(matrix[:, used]), weights, idx)
    return surf.reshape(-1, h, w)


@numba.njit(nogil=True, cache=True)
def _mix_into(
    surf: F32, matrix: F32, weights: F32, idx: npt.NDArray[np.intp]
) -> None:  # pragma: no cover - compiled
    """``surf[:, idx] = matrix @ weights``, summed in a fixed order (bit-identical in any
    window, unlike BLAS)."""
    nb, ne = matrix.shape
    for j in range(idx.shape[0]):
        p = idx[j]
        for b in range(nb):
            acc = np.float32(0.0)
            for e in range(ne):
                acc += matrix[b, e] * weights[e, j]
            surf[b, p] = acc


@dataclass(frozen=True)
class _Sky:
    """Cloud opacity α, cloud brightness, shadow opacity and cirrus opacity (20 m pixels)."""

    alpha: F32
    bright: F32
    shadow: F32
    cirrus: F32

    def up(self) -> _Sky:
        """The same on the 10 m grid (each 20 m value replicated 2 × 2)."""
        return _Sky(*(up2(a) for a in (self.alpha, self.bright, self.shadow, self.cirrus)))


def up2(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Replicate each value 2 × 2 over the last two axes (20 m → 10 m)."""
    return np.repeat(np.repeat(a, 2, axis=-2), 2, axis=-1)


def _sky(dm: _DateModel, rows: F64, cols: F64) -> _Sky:
    """Clouds, shadows and cirrus at the given (20 m) pixel centres."""
    if math.isinf(dm.cloud_tau):
        alpha = np.zeros((rows.size, cols.size), np.float32)
        bright = shadow = alpha
    else:
        n = dm.cloud(rows, cols)
        alpha = _opacity(n, dm.cloud_tau)
        bright = 0.8 + 0.3 * np.clip((n - dm.cloud_tau) / (4 * _CLOUD_EDGE), 0, 1)
        # only the thicker cloud cores cast a shadow dark enough to flag
        shadow = _opacity(
            dm.cloud(rows - dm.shadow_drow, cols - dm.shadow_dcol), dm.cloud_tau + 0.3
        )
    if dm.cirrus is None:
        cirrus = np.zeros_like(alpha)
    else:
        cirrus = 0.10 * _opacity(dm.cirrus(rows, cols), dm.cirrus_tau)
    return _Sky(alpha, bright.astype(np.float32), shadow, cirrus.astype(np.float32))


def _observe(
    surf: F32, sky: _Sky, dm: _DateModel, band_idx: list[int], words: tuple[int, ...],
    r: slice, c: slice, offset: int,
) -> U16:  # fmt: skip
    """L2A DN of the bands ``band_idx`` of ``surf`` seen through ``sky``, with noise."""
    cloud = np.asarray(_spectra.CLOUD, np.float32)
    ci = np.asarray(_spectra.CIRRUS, np.float32)
    dark = 1.0 - 0.7 * sky.shadow
    clear = 1.0 - sky.cirrus
    out = np.empty((len(band_idx), *surf.shape[1:]), np.uint16)
    for k, b in enumerate(band_idx):
        o = surf[k] * dark
        o *= clear
        o += sky.cirrus * ci[b]
        o *= 1.0 - sky.alpha
        o += sky.alpha * (cloud[b] * sky.bright)
        o *= dm.gains[b]
        o += (0.003 + 0.015 * o) * tile_draws((*words, b), r, c, "normal")
        out[k] = to_dn(np.clip(o, 0.0, 1.0, out=o), offset=offset)
    return out


@dataclass(frozen=True)
class Block:
    """One date's observations in a window: DN at 10 m and 20 m, SCL at 20 m."""

    dn10: U16  # (10 m bands of spec.bands, h, w)
    dn20: U16  # (20 m bands of spec.bands, h/2, w/2)
    scl: U8  # (h/2, w/2)


def simulate_window(
    spec: SyntheticSpec, tw: Mapping[str, Any], ti: int, r: slice, c: slice
) -> Block:
    """Observations of one date in a window (even-aligned rows ``r`` and cols ``c``)."""
    model = scene_model(spec)
    dm = model.dates[ti]
    surf = _surface(spec, tw, dm.doy, model.matrix)
    illum = _illumination(dm, tw["slope_deg"], tw["aspect_deg"])
    surf *= illum[None]
    b10 = [DEFAULT_BANDS.index(b) for b in spec.bands if BAND_RESOLUTION_M[b] == 10]
    b20 = [DEFAULT_BANDS.index(b) for b in spec.bands if BAND_RESOLUTION_M[b] == 20]
    r20 = slice(r.start // 2, r.stop // 2)
    c20 = slice(c.start // 2, c.stop // 2)
    sky = _sky(dm, centres(r20.start, r20.stop, 2), centres(c20.start, c20.stop, 2))
    seed, offset = spec.seed, spec.boa_offset
    dn10 = _observe(surf[b10], sky.up(), dm, b10, (seed, 60, ti, 10), r, c, offset)
    surf20 = _block_mean(surf)
    dn20 = _observe(surf20[b20], sky, dm, b20, (seed, 60, ti, 20), r20, c20, offset)
    # Scene classification at 20 m (priority: cloud > cirrus > shadow > surface classes)
    i3, i4, i8 = (DEFAULT_BANDS.index(b) for b in ("B03", "B04", "B08"))
    g, red, nir = surf20[i3], surf20[i4], surf20[i8]
    ndvi = (nir - red) / np.maximum(nir + red, 1e-6)
    ndwi = (g - nir) / np.maximum(g + nir, 1e-6)
    scl = np.where(ndvi >= 0.4, 4, 5).astype(np.uint8)
    scl[_block_mean(illum) < 0.5] = 2
    scl[ndwi > 0.0] = 6
    scl[tile_draws((seed, 70, ti), r20, c20, "uniform") < 0.003] = 7
    scl[sky.shadow >= 0.4] = 3
    scl[sky.cirrus >= 0.04] = 10
    scl[sky.alpha >= 0.35] = 8
    scl[sky.alpha >= 0.7] = 9
    return Block(dn10, dn20, scl)


def to_10m(block: Block, spec: SyntheticSpec) -> tuple[F32, U8]:
    """Reflectance in ``spec.bands`` order on the 10 m grid (20 m bands and SCL replicated)."""
    offset = spec.boa_offset
    out = np.empty((len(spec.bands), *block.dn10.shape[-2:]), np.float32)
    i10 = i20 = 0
    for k, b in enumerate(spec.bands):
        if BAND_RESOLUTION_M[b] == 10:
            out[k], i10 = from_dn(block.dn10[i10], offset=offset), i10 + 1
        else:
            out[k], i20 = up2(from_dn(block.dn20[i20], offset=offset)), i20 + 1
    return out, up2(block.scl)


def simulate_reflectance(
    truth: Truth, spec: SyntheticSpec, *, strip_rows: int = 512
) -> tuple[F32, U8]:
    """The whole stack in memory: reflectance ``(time, band, y, x)`` float32 on the 10 m grid
    (20 m bands generated at 20 m and replicated) and SCL ``(time, y, x)`` uint8.

    Values are quantised exactly as the written L2A DN (reading :func:`write_scenes` output back
    gives the same numbers). For large grids use :func:`write_scenes` or :func:`synthetic_cube`.
    """
    check_truth(truth, spec)
    h, w = spec.shape
    refl = np.empty((len(spec.dates), len(spec.bands), h, w), np.float32)
    scl = np.empty((len(spec.dates), h, w), np.uint8)
    cols = slice(0, w)
    for ti in range(len(spec.dates)):
        for r in strips(h, strip_rows):
            block = simulate_window(spec, truth_arrays(truth, r, cols), ti, r, cols)
            refl[ti, :, r], scl[ti, r] = to_10m(block, spec)
    return refl, scl


def cloud_fraction(scl: npt.ArrayLike) -> float:
    """Share of observations flagged cloudy or shadowed (SCL 3, 8, 9, 10)."""
    return float(np.isin(np.asarray(scl), MASKED_SCL).mean())
