"""The landscape truth: classes, carbon density, vigour, terrain, bamboo on/off year."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from mrv.errors import InputError
from pipelines.satellite import _spectra
from pipelines.satellite.classes import LandCoverClass
from pipelines.satellite.cube import Grid
from pipelines.satellite.synthetic._noise import (
    Field,
    centres,
    hash_uniform,
    sample_axes,
    tile_draws,
)
from pipelines.satellite.synthetic._spec import (
    F32,
    F64,
    OFF_YEAR,
    ON_YEAR,
    RESOLUTION_M,
    U8,
    SyntheticSpec,
)


@dataclass(frozen=True, eq=False)
class Truth:
    """The known truth of a synthetic scene (numpy arrays on the 10 m grid, ``(y, x)``)."""

    grid: Grid
    classes: tuple[LandCoverClass, ...]
    class_map: U8
    """Land-cover class code per pixel (codes of :attr:`classes`)."""
    carbon_tc_per_ha: F32
    """Living-biomass carbon density, t C/ha."""
    vigour: F32
    """Latent canopy vigour 0–1; drives NIR/red-edge and (with an unseen part) the carbon."""
    bamboo_year: U8
    """0 = not moso bamboo, :data:`ON_YEAR` or :data:`OFF_YEAR`."""
    elevation_m: F32
    slope_deg: F32
    aspect_deg: F32
    """Direction the slope faces, degrees clockwise from north."""
    mix: F32
    """Class-specific sub-pixel share 0–1 (deciduous share of other forest, bare share of
    other, greenery of built-up, turbidity of water)."""
    shift_days: F32
    """Parcel timing offset of paddy transplanting / tea pruning, days."""
    winter_crop: npt.NDArray[np.bool_]
    """Paddy parcel with a winter crop."""
    seed: int

    def class_names(self) -> dict[int, str]:
        """Code → class name."""
        return {c.code: c.name for c in self.classes}

    def area_ha(self) -> dict[str, float]:
        """Area of each class in hectares."""
        counts = np.bincount(self.class_map.ravel(), minlength=256)
        return {c.name: float(counts[c.code]) * self.grid.pixel_area_ha for c in self.classes}

    def carbon_total_tc(self) -> float:
        """Total living-biomass carbon of the scene, t C."""
        return float(self.carbon_tc_per_ha.sum(dtype=np.float64)) * self.grid.pixel_area_ha

    def carbon_by_class(self) -> dict[str, dict[str, float]]:
        """Per class: ``area_ha``, ``total_tc`` and ``mean_tc_per_ha``."""
        codes = self.class_map.ravel()
        counts = np.bincount(codes, minlength=256)
        sums = np.bincount(codes, weights=self.carbon_tc_per_ha.ravel(), minlength=256)
        pa = self.grid.pixel_area_ha
        out = {}
        for c in self.classes:
            n = int(counts[c.code])
            out[c.name] = {
                "area_ha": n * pa,
                "total_tc": float(sums[c.code]) * pa,
                "mean_tc_per_ha": float(sums[c.code]) / n if n else math.nan,
            }
        return out


class _TruthModel:
    """Fields and global thresholds of the landscape (built once per spec)."""

    def __init__(self, spec: SyntheticSpec) -> None:
        self.spec = spec
        shape = spec.shape
        s = spec.seed
        self.elev = Field((s, 1), (3200, 1600, 800, 400, 200), (1, 0.55, 0.3, 0.16, 0.08), shape)
        self.n_built = Field((s, 2), (900, 450, 200), (1, 0.5, 0.25), shape)
        self.n_other = Field((s, 3), (600, 300, 150), (1, 0.5, 0.25), shape)
        self.n_tea = Field((s, 4), (700, 350, 150), (1, 0.5, 0.25), shape)
        self.n_bamboo = Field((s, 5), (1500, 700, 300, 150), (1, 0.6, 0.3, 0.15), shape)
        self.n_vigour = Field((s, 6), (400, 200, 80), (1, 0.6, 0.35), shape)
        self.n_hidden = Field((s, 7), (500, 250, 100), (1, 0.6, 0.35), shape)
        self.n_mix = Field((s, 8), (600, 300, 120), (1, 0.6, 0.3), shape)
        self.n_phase = Field((s, 9), (2500, 1200, 600), (1, 0.5, 0.2), shape)
        sy, sx = sample_axes(shape)
        e = self.elev(sy, sx).ravel()
        self.e_quantiles = np.quantile(e, np.linspace(0.0, 1.0, 1025)).astype(np.float64)
        u = self._rank(e)
        shares = spec.class_shares
        self.t_water = shares["open_water"]
        self.t_wet = self.t_water + shares["wetland_vegetation"]
        low_share = shares["paddy_farmland"] + shares["built_up"] + shares["other"]
        self.t_low = self.t_wet + low_share
        nb, no = self.n_built(sy, sx).ravel(), self.n_other(sy, sx).ravel()
        nt, nm = self.n_tea(sy, sx).ravel(), self.n_bamboo(sy, sx).ravel()
        low = (u >= self.t_wet) & (u < self.t_low)
        self.th_built = float(np.quantile(nb[low], 1.0 - shares["built_up"] / low_share))
        rest = low & (nb < self.th_built)
        frac_other = shares["other"] / (shares["other"] + shares["paddy_farmland"])
        self.th_other = float(np.quantile(no[rest], 1.0 - frac_other))
        up = u >= self.t_low
        up_share = 1.0 - self.t_low
        s_tea = self._tea_score(nt, u)
        self.th_tea = float(np.quantile(s_tea[up], 1.0 - shares["tea_garden"] / up_share))
        rest_up = up & (s_tea < self.th_tea)
        s_bam = self._bamboo_score(nm, u)
        frac_bam = shares["moso_bamboo"] / (shares["moso_bamboo"] + shares["other_forest"])
        self.th_bamboo = float(np.quantile(s_bam[rest_up], 1.0 - frac_bam))
        self.stats = {
            name: (float(v.mean()), float(v.std()))
            for name, v in (
                ("vigour", self.n_vigour(sy, sx)),
                ("hidden", self.n_hidden(sy, sx)),
                ("mix", self.n_mix(sy, sx)),
                ("phase", self.n_phase(sy, sx)),
            )
        }
        self.codes = {c.name: c.code for c in spec.classes}

    def _rank(self, e: F32) -> F64:
        levels = np.linspace(0.0, 1.0, self.e_quantiles.size)
        return np.interp(e, self.e_quantiles, levels)

    def _tea_score(self, n: F32, u: F64) -> F64:
        return n - 3.0 * np.clip(u - self.t_low, 0.0, None)  # tea on the lower slopes

    def _bamboo_score(self, n: F32, u: F64) -> F64:
        return n - 2.0 * np.clip(u - self.t_low, 0.0, None)  # bamboo below broadleaf forest

    def _elevation(self, u: F64) -> F64:
        low = 5.0 + 15.0 * (u / self.t_low) ** 2  # flat valley floors
        high = 20.0 + 780.0 * ((u - self.t_low) / (1.0 - self.t_low)).clip(0.0, 1.0) ** 1.4
        return np.where(u < self.t_low, low, high)

    def _z(self, name: str, f: Field, rows: F64, cols: F64, r: slice, c: slice) -> F32:
        """Standard-normal score: smooth field (72 %) plus pixel noise (28 % of variance)."""
        mu, sd = self.stats[name]
        smooth = (f(rows, cols) - mu) / sd
        stream = {"vigour": 101, "hidden": 102}[name]
        noise = tile_draws((self.spec.seed, stream), r, c, "normal")
        return (0.85 * smooth + 0.53 * noise).astype(np.float32)

    def window(self, r: slice, c: slice) -> dict[str, Any]:
        """All truth arrays of a window of the grid."""
        spec = self.spec
        rows, cols = centres(r.start, r.stop), centres(c.start, c.stop)
        e = self.elev(rows, cols)
        u = self._rank(e)
        elev = self._elevation(u)

        # slope and aspect from central differences of the same field (window-independent)
        def height(dr: float, dc: float) -> F64:
            return self._elevation(self._rank(self.elev(rows + dr, cols + dc)))

        dz_e = (height(0, 1) - height(0, -1)) / (2 * RESOLUTION_M)
        dz_n = (height(-1, 0) - height(1, 0)) / (2 * RESOLUTION_M)
        slope = np.degrees(np.arctan(np.hypot(dz_e, dz_n)))
        aspect = np.mod(np.degrees(np.arctan2(-dz_e, -dz_n)), 360.0)

        k = self.codes
        cls = np.full(u.shape, k["other_forest"], dtype=np.uint8)
        low = u < self.t_low
        nb = self.n_built(rows, cols)
        built = low & (nb >= self.th_built)
        cls[low] = k["paddy_farmland"]
        cls[low & ~built & (self.n_other(rows, cols) >= self.th_other)] = k["other"]
        cls[built] = k["built_up"]
        cls[u < self.t_wet] = k["wetland_vegetation"]
        cls[u < self.t_water] = k["open_water"]
        up = ~low
        tea = up & (self._tea_score(self.n_tea(rows, cols), u) >= self.th_tea)
        bam = up & ~tea & (self._bamboo_score(self.n_bamboo(rows, cols), u) >= self.th_bamboo)
        cls[tea] = k["tea_garden"]
        cls[bam] = k["moso_bamboo"]

        z_vig = self._z("vigour", self.n_vigour, rows, cols, r, c)
        z_hid = self._z("hidden", self.n_hidden, rows, cols, r, c)
        vigour = ndtr(z_vig).astype(np.float32)
        quality = ndtr(0.88 * z_vig + 0.47 * z_hid).astype(np.float32)
        lo = np.zeros(256, np.float32)
        span = np.zeros(256, np.float32)
        for name, (a, b) in _spectra.CARBON_RANGE_TC_PER_HA.items():
            lo[k[name]], span[k[name]] = a, b - a
        carbon = (lo[cls] + span[cls] * quality).astype(np.float32)

        mu, sd = self.stats["mix"]
        mix = ndtr((self.n_mix(rows, cols) - mu) / sd).astype(np.float32)
        mu, sd = self.stats["phase"]
        off = (self.n_phase(rows, cols) - mu) / sd > 0.0
        year = np.where(cls == k["moso_bamboo"], np.where(off, OFF_YEAR, ON_YEAR), 0)

        # parcels of 60 × 40 m in a brick layout carry their own calendar
        pr = (np.arange(r.start, r.stop) // 4)[:, None]
        pc = (np.arange(c.start, c.stop)[None, :] + 3 * (pr % 2)) // 6
        pr, pc = np.broadcast_arrays(pr, pc)
        shift = (hash_uniform(spec.seed, 1, pr, pc) - 0.5) * 24.0
        winter = hash_uniform(spec.seed, 2, pr, pc) < 0.35
        return {
            "class_map": cls,
            "carbon_tc_per_ha": carbon,
            "vigour": vigour,
            "bamboo_year": year.astype(np.uint8),
            "elevation_m": elev.astype(np.float32),
            "slope_deg": slope.astype(np.float32),
            "aspect_deg": aspect.astype(np.float32),
            "mix": mix,
            "shift_days": shift.astype(np.float32),
            "winter_crop": winter,
        }


@lru_cache(maxsize=4)
def _truth_model(spec: SyntheticSpec) -> _TruthModel:
    return _TruthModel(spec)


def strips(height: int, strip_rows: int) -> Iterator[slice]:
    """Row slices of ``strip_rows`` rows (even, ≥ 2) covering ``height`` rows."""
    if strip_rows < 2 or strip_rows % 2:
        raise InputError(f"strip_rows must be an even number ≥ 2, got {strip_rows}")
    for r0 in range(0, height, strip_rows):
        yield slice(r0, min(height, r0 + strip_rows))


def generate_truth(spec: SyntheticSpec, *, strip_rows: int = 512) -> Truth:
    """The landscape truth: classes, carbon density, vigour, terrain, bamboo on/off year.

    Generated in strips of ``strip_rows`` rows; the result does not depend on ``strip_rows``.
    """
    model = _truth_model(spec)
    h, w = spec.shape
    arrays: dict[str, Any] = {}
    for r in strips(h, strip_rows):
        part = model.window(r, slice(0, w))
        for name, values in part.items():
            if name not in arrays:
                arrays[name] = np.empty((h, w), dtype=values.dtype)
            arrays[name][r] = values
    return Truth(grid=spec.grid, classes=spec.classes, seed=spec.seed, **arrays)


def truth_arrays(truth: Truth, r: slice, c: slice) -> dict[str, Any]:
    """The truth arrays the observation model reads, cut to a window."""
    return {
        "class_map": truth.class_map[r, c],
        "vigour": truth.vigour[r, c],
        "mix": truth.mix[r, c],
        "shift_days": truth.shift_days[r, c],
        "winter_crop": truth.winter_crop[r, c],
        "bamboo_year": truth.bamboo_year[r, c],
        "slope_deg": truth.slope_deg[r, c],
        "aspect_deg": truth.aspect_deg[r, c],
    }


def check_truth(truth: Truth, spec: SyntheticSpec) -> None:
    """Refuse a truth generated for another grid than ``spec``'s."""
    if truth.class_map.shape != spec.shape or truth.grid != spec.grid:
        raise InputError("truth was generated for another grid than this spec")
