"""Which observations of a scene cube are clear: cloud, shadow and no-data masking.

The mask comes, in this order of preference, from

1. the L2A Scene Classification ``scl`` (remote-sensing.md §5.2): an observation is valid when
   its class is one of the land/water classes left unmasked by :class:`MaskSpec` (by default
   2 dark area, 4 vegetation, 5 not vegetated, 6 water, 7 unclassified); classes 0 no data,
   1 saturated/defective, 3 cloud shadow, 8/9 cloud medium/high probability, 10 thin cirrus and
   11 snow are masked, as is any code outside 0–11;
2. a ``cloud_probability`` band (s2cloudless probability 0–1, or a given 0/1 mask): valid where
   the probability is at most :attr:`MaskSpec.probability_threshold` (s2cloudless and eo-learn's
   ``CloudMaskTask`` flag ``probability > threshold``); NaN probability = no data = invalid;
3. neither: every observation whose reflectance is finite in all bands is valid (L1C without a
   cloud mask — the scene reader warns about that case).

Optionally the masked area is grown by :attr:`MaskSpec.dilate_px` pixels (a disk of that radius,
as s2cloudless/eo-learn dilate their cloud masks) to catch cloud edges and thin shadows that the
classification misses. No-data (SCL class 0 or NaN probability) is not grown: its edge is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import dask.array as da
import numpy as np
import numpy.typing as npt
import xarray as xr
from scipy import ndimage

from mrv.errors import InputError
from pipelines.satellite.cube import SCL_CLASSES

__all__ = ["MaskSpec", "valid_mask"]

SCL_DARK_AREA = 2
"""SCL class of dark-area pixels (often terrain shadow on Anji's hillsides)."""
SCL_SNOW = 11
"""SCL class of snow and ice."""
SCL_NO_DATA = 0


@dataclass(frozen=True)
class MaskSpec:
    """How to decide which observations are clear.

    The SCL classes masked are :attr:`scl_classes` plus 2 when :attr:`mask_dark_area` and 11 when
    :attr:`mask_snow` (see :attr:`masked_classes`).
    """

    scl_classes: tuple[int, ...] = (0, 1, 3, 8, 9, 10)
    """SCL classes always masked: no data, saturated/defective, cloud shadow, clouds, cirrus."""
    mask_dark_area: bool = False
    """Also mask class 2 (dark area). Off by default: on hillsides it is mostly terrain shadow
    over real vegetation, and masking it would empty north slopes in winter."""
    mask_snow: bool = True
    """Also mask class 11 (snow/ice)."""
    dilate_px: int = 0
    """Grow the masked area (except no data) by a disk of this radius in pixels."""
    probability_threshold: float = 0.4
    """A ``cloud_probability`` above this masks the observation (s2cloudless default 0.4)."""

    def __post_init__(self) -> None:
        bad = [c for c in self.scl_classes if c not in SCL_CLASSES]
        if bad:
            raise InputError(
                f"unknown SCL classes {bad}; valid classes are 0-11 (remote-sensing.md §5.2)"
            )
        if self.dilate_px < 0:
            raise InputError(f"dilate_px must be >= 0, got {self.dilate_px}")
        if not 0.0 <= self.probability_threshold <= 1.0:
            raise InputError(
                f"probability_threshold must be in [0, 1], got {self.probability_threshold}"
            )

    @property
    def masked_classes(self) -> frozenset[int]:
        """All SCL classes this spec masks."""
        extra = {SCL_DARK_AREA} if self.mask_dark_area else set()
        if self.mask_snow:
            extra.add(SCL_SNOW)
        return frozenset(self.scl_classes) | extra

    def scl_lookup(self) -> npt.NDArray[np.bool_]:
        """A 256-entry table: ``table[code]`` is true when an SCL code is a valid observation."""
        table = np.zeros(256, dtype=np.bool_)
        table[[c for c in SCL_CLASSES if c not in self.masked_classes]] = True
        return table


def _disk(radius: int) -> npt.NDArray[np.bool_]:
    """Disk structuring element: offsets (dy, dx) with dy² + dx² ≤ radius²."""
    r = np.arange(-radius, radius + 1)
    return np.asarray(r[:, None] ** 2 + r[None, :] ** 2 <= radius**2)


def _dilate_block(
    cloud: npt.NDArray[np.bool_], structure: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Binary dilation of each time slice of a (t, y, x) block (outside the block = clear)."""
    return np.asarray(ndimage.binary_dilation(cloud, structure=structure[None, :, :]))


def _grow(cloud: xr.DataArray, radius: int) -> xr.DataArray:
    """Dilate a lazy (time, y, x) boolean mask by a disk of ``radius`` pixels, block-wise."""
    data = cloud.data
    if not isinstance(data, da.Array):
        data = da.from_array(data, chunks=(1, -1, -1))
    structure = _disk(radius)
    depth = {0: 0, 1: radius, 2: radius}  # dask merges blocks thinner than the depth
    grown = da.map_overlap(
        _dilate_block,
        data,
        depth=depth,
        boundary="none",
        dtype=np.bool_,
        structure=structure,
    )
    return cloud.copy(data=grown)


def valid_mask(cube: xr.Dataset, spec: MaskSpec | None = None) -> xr.DataArray:
    """Boolean (time, y, x), lazy: true where an observation is clear (see the module docstring).

    Raises :class:`InputError` when the cube has no ``reflectance`` and no mask band to go by,
    or a mask band with the wrong dims.
    """
    spec = spec if spec is not None else MaskSpec()
    if "scl" in cube:
        scl = cube["scl"]
        _check_dims(scl, "scl")
        table = spec.scl_lookup()
        data = scl.data
        if isinstance(data, da.Array):
            ok = da.map_blocks(_lookup, data, table=table, dtype=np.bool_)
        else:
            ok = _lookup(np.asarray(data), table=table)
        valid = scl.copy(data=ok)
        no_data = scl == SCL_NO_DATA
    elif "cloud_probability" in cube:
        prob = cube["cloud_probability"]
        _check_dims(prob, "cloud_probability")
        valid = prob <= spec.probability_threshold  # NaN compares False: no data is invalid
        no_data = prob.isnull()
    elif "reflectance" in cube:
        return cube["reflectance"].notnull().all("band").rename("valid")
    else:
        raise InputError("cube has neither reflectance nor a scl/cloud_probability band to mask")
    if spec.dilate_px > 0:
        cloud = ~valid & ~no_data
        valid = ~_grow(cloud, spec.dilate_px) & ~no_data
    valid.attrs = {}
    return valid.rename("valid")


def _lookup(
    codes: npt.NDArray[np.integer], *, table: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """``table[codes]`` for uint8 SCL codes (other integer types are clipped into 0–255)."""
    if codes.dtype != np.uint8:
        codes = np.where((codes >= 0) & (codes <= 255), codes, 255).astype(np.uint8)
    return table[codes]


def _check_dims(band: xr.DataArray, name: str) -> None:
    if band.dims != ("time", "y", "x"):
        raise InputError(f"{name} dims are {band.dims}, expected ('time', 'y', 'x')")
