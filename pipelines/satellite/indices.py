"""Spectral indices from Sentinel-2 reflectance (0–1 scale), lazily on xarray/dask.

Formulas (remote-sensing.md §5.3; identical to the Awesome Spectral Indices entries used by
spyndex, Montero et al. 2023, Sci. Data 10:197, which the tests cross-check):

========  ==================================================  ============================
name      formula (S2 bands)                                  source
========  ==================================================  ============================
NDVI      (B08 − B04) / (B08 + B04)                           Rouse et al. 1974
EVI       2.5 (B08 − B04) / (B08 + 6 B04 − 7.5 B02 + 1)       Huete et al. 2002
SAVI      1.5 (B08 − B04) / (B08 + B04 + 0.5)                 Huete 1988 (L = 0.5)
NDWI      (B03 − B08) / (B03 + B08)                           McFeeters 1996 (open water)
MNDWI     (B03 − B11) / (B03 + B11)                           Xu 2006
NDRE      (B08 − B05) / (B08 + B05)                           Gitelson & Merzlyak 1994
LSWI      (B08 − B11) / (B08 + B11)                           Xiao et al. 2004 (= NDMI)
NBR       (B08 − B12) / (B08 + B12)                           Key & Benson 2006
========  ==================================================  ============================

NDRE uses the first red-edge band B05 (705 nm) with broad NIR B08, as spyndex ``NDREI``: B05 is
the red-edge band most sensitive to chlorophyll, and B08 is 10 m (B8A/B06/B07 variants exist in
the literature; the moso on/off-year signal of Chen et al. 2019 sits between B06 and B08, which
the classifier also sees as raw bands).

Reflectance is clipped at 0 before any ratio: after the L2A BOA offset (−0.1) dark pixels can be
slightly negative, which would flip the sign of normalised differences (remote-sensing.md §5.1).
A zero denominator gives NaN (never ±inf, never a warning); NaN inputs give NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import xarray as xr

from mrv.errors import InputError

__all__ = ["DEFAULT_INDICES", "INDICES", "SpectralIndex", "compute_indices"]

Bands = Mapping[str, xr.DataArray]


def _ratio(num: xr.DataArray, den: xr.DataArray) -> xr.DataArray:
    """``num / den`` with NaN where ``den == 0`` (no division-by-zero warning)."""
    return num / den.where(den != 0)


def _normalised_difference(a: str, b: str) -> Callable[[Bands], xr.DataArray]:
    def nd(r: Bands) -> xr.DataArray:
        return _ratio(r[a] - r[b], r[a] + r[b])

    return nd


def _evi(r: Bands) -> xr.DataArray:
    return _ratio(2.5 * (r["B08"] - r["B04"]), r["B08"] + 6.0 * r["B04"] - 7.5 * r["B02"] + 1.0)


def _savi(r: Bands) -> xr.DataArray:
    return _ratio(1.5 * (r["B08"] - r["B04"]), r["B08"] + r["B04"] + 0.5)


@dataclass(frozen=True)
class SpectralIndex:
    """One index: the S2 bands it needs and how to compute it from clipped reflectance."""

    name: str
    bands: tuple[str, ...]
    formula: str
    compute: Callable[[Bands], xr.DataArray]


def _nd_index(name: str, a: str, b: str) -> SpectralIndex:
    return SpectralIndex(name, (a, b), f"({a}-{b})/({a}+{b})", _normalised_difference(a, b))


INDICES: dict[str, SpectralIndex] = {
    i.name: i
    for i in (
        _nd_index("NDVI", "B08", "B04"),
        SpectralIndex("EVI", ("B08", "B04", "B02"), "2.5*(B08-B04)/(B08+6*B04-7.5*B02+1)", _evi),
        SpectralIndex("SAVI", ("B08", "B04"), "1.5*(B08-B04)/(B08+B04+0.5)", _savi),
        _nd_index("NDWI", "B03", "B08"),
        _nd_index("MNDWI", "B03", "B11"),
        _nd_index("NDRE", "B08", "B05"),
        _nd_index("LSWI", "B08", "B11"),
        _nd_index("NBR", "B08", "B12"),
    )
}
"""The indices :func:`compute_indices` knows, by name."""

DEFAULT_INDICES: tuple[str, ...] = ("NDVI", "EVI", "NDWI", "MNDWI", "NDRE", "LSWI")
"""The indices of issue 3 §2."""


def compute_indices(
    reflectance: xr.DataArray, names: Iterable[str] = DEFAULT_INDICES
) -> xr.DataArray:
    """Spectral indices of ``reflectance`` (dims ``(band, y, x)`` or ``(time, band, y, x)``).

    Returns float32 ``(index, y, x)`` or ``(index, time, y, x)`` with an ``index`` coordinate of
    the names, lazy if the input is, keeping the input's ``crs``/``transform`` attributes.
    Raises :class:`InputError` for an unknown index or a missing band (naming both).
    """
    wanted = list(dict.fromkeys(names))
    if "band" not in reflectance.dims:
        raise InputError(f"reflectance has no 'band' dimension (dims {reflectance.dims})")
    unknown = [n for n in wanted if n not in INDICES]
    if unknown:
        raise InputError(f"unknown indices {unknown}; known: {', '.join(INDICES)}")
    if not wanted:
        raise InputError("no index requested")
    present = {str(b) for b in reflectance["band"].values}
    missing = [f"{n} needs {b}" for n in wanted for b in INDICES[n].bands if b not in present]
    if missing:
        raise InputError(f"missing bands for indices: {'; '.join(missing)}")
    needed = sorted({b for n in wanted for b in INDICES[n].bands})
    bands: dict[str, xr.DataArray] = {
        b: reflectance.sel(band=b, drop=True).astype(np.float32).clip(min=0.0) for b in needed
    }
    layers = [INDICES[n].compute(bands).astype(np.float32) for n in wanted]
    out = xr.concat(layers, dim="index", coords="minimal", compat="override")
    out = out.assign_coords(index=np.array(wanted, dtype=str)).rename("indices")
    out.attrs = {k: reflectance.attrs[k] for k in ("crs", "transform") if k in reflectance.attrs}
    return out
