"""Random building blocks: value-noise fields, window-independent pixel noise, hashes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt

from pipelines.satellite.synthetic._spec import F32, F64, RESOLUTION_M

_TILE = 256  # pixel-noise tile (global grid)
_SAMPLE = 256  # sub-grid side for global quantiles


def smoothstep(t: F32) -> F32:
    """3t² − 2t³, the interpolation kernel of the value noise."""
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


class Field:
    """Fractal value noise on the 10 m pixel grid (coordinates in pixel units, centre = i+0.5).

    One seeded random lattice per octave; evaluation on a rectilinear set of positions is
    separable (interpolate lattice rows along x, then along y), so it costs O(pixels).
    """

    def __init__(
        self,
        words: tuple[int, ...],
        cells_m: Sequence[float],
        amps: Sequence[float],
        shape: tuple[int, int],
        pad_px: int = 8,
    ) -> None:
        h, w = shape
        self.pad = float(pad_px)
        self.octaves: list[tuple[float, float, F32]] = []
        norm = math.sqrt(sum(a * a for a in amps))
        for k, (cell_m, amp) in enumerate(zip(cells_m, amps, strict=True)):
            cell = cell_m / RESOLUTION_M
            ny = math.ceil((h + 2 * pad_px) / cell) + 3
            nx = math.ceil((w + 2 * pad_px) / cell) + 3
            lat = np.random.default_rng([*words, k]).standard_normal((ny, nx), dtype=np.float32)
            self.octaves.append((cell, amp / norm, lat))

    def __call__(self, rows: F64, cols: F64) -> F32:
        out = np.zeros((rows.size, cols.size), dtype=np.float32)
        for cell, amp, lat in self.octaves:
            py = (rows + self.pad) / cell
            px = (cols + self.pad) / cell
            iy = np.clip(np.floor(py).astype(np.intp), 0, lat.shape[0] - 2)
            ix = np.clip(np.floor(px).astype(np.intp), 0, lat.shape[1] - 2)
            fy = smoothstep(np.clip(py - iy, 0.0, 1.0).astype(np.float32))
            fx = smoothstep(np.clip(px - ix, 0.0, 1.0).astype(np.float32))
            lo, hi = int(iy.min()), int(iy.max()) + 2
            sub = lat[lo:hi]
            along_x = sub[:, ix] * (1.0 - fx) + sub[:, ix + 1] * fx
            j = iy - lo
            val = along_x[j] * (1.0 - fy)[:, None] + along_x[j + 1] * fy[:, None]
            out += np.float32(amp) * val
        return out


def centres(start: int, stop: int, step: int = 1) -> F64:
    """Pixel-centre coordinates (10 m pixel units) of pixels start…stop at ``step`` × 10 m."""
    return (np.arange(start, stop, dtype=np.float64) + 0.5) * step


def sample_axes(shape: tuple[int, int]) -> tuple[F64, F64]:
    """A fixed sub-grid (≤ 256 × 256 points) covering the whole scene, for global quantiles."""
    h, w = shape
    ny, nx = min(h, _SAMPLE), min(w, _SAMPLE)
    return (np.arange(ny) + 0.5) * h / ny, (np.arange(nx) + 0.5) * w / nx


_MASK64 = (1 << 64) - 1
_POOL = 1 << 22  # pixel-noise pool size (values); tiles read 65,536-value runs from it


def _mix64(*words: int) -> int:
    """A 64-bit hash of a tuple of integers (splitmix64 finaliser over the words)."""
    z = 0x9E3779B97F4A7C15
    for w in words:
        z = (z ^ (w & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _MASK64
        z ^= z >> 31
    return z


@lru_cache(maxsize=8)
def _noise_pool(seed: int, kind: str) -> F32:
    """A pool of standard-normal or uniform draws; each tile copies a run at a hashed offset
    (drawing normals tile by tile costs ~18 ns each, copying ~1 ns)."""
    rng = np.random.default_rng([seed, 999, 0 if kind == "normal" else 1])
    if kind == "normal":
        return rng.standard_normal(_POOL + _TILE * _TILE, dtype=np.float32)
    return rng.random(_POOL + _TILE * _TILE, dtype=np.float32)


def tile_draws(
    words: tuple[int, ...], rows: slice, cols: slice, kind: Literal["normal", "uniform"]
) -> F32:
    """Standard-normal or uniform draws for a window, from fixed 256-px tiles of the grid.

    ``words[0]`` is the spec seed; the rest name the stream (date, band, ...)."""
    r0, r1, c0, c1 = rows.start, rows.stop, cols.start, cols.stop
    pool = _noise_pool(words[0], kind)
    out = np.empty((r1 - r0, c1 - c0), dtype=np.float32)
    for ti in range(r0 // _TILE, (r1 - 1) // _TILE + 1):
        for tj in range(c0 // _TILE, (c1 - 1) // _TILE + 1):
            start = _mix64(*words, ti, tj) % _POOL
            tile = pool[start : start + _TILE * _TILE].reshape(_TILE, _TILE)
            y0, y1 = max(r0, ti * _TILE), min(r1, (ti + 1) * _TILE)
            x0, x1 = max(c0, tj * _TILE), min(c1, (tj + 1) * _TILE)
            out[y0 - r0 : y1 - r0, x0 - c0 : x1 - c0] = tile[
                y0 - ti * _TILE : y1 - ti * _TILE, x0 - tj * _TILE : x1 - tj * _TILE
            ]
    return out


def hash_uniform(seed: int, stream: int, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> F32:
    """Uniform [0, 1) per integer pair (splitmix64 finaliser; Steele et al. 2014)."""
    z = (a.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ (
        b.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
    )
    z = z ^ np.uint64((seed * 0x165667B19E3779F9 + stream * 0x27D4EB2F165667C5) % 2**64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(40)).astype(np.float64) / float(1 << 24)).astype(np.float32)
