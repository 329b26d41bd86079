"""Multi-season feature stacks for classification and carbon regression.

Each season's composite contributes its bands and spectral indices, named ``"<season>:<name>"``
(``"spring:B04"``, ``"spring:NDVI"``, ``"winter:NDVI"``); optional cross-season differences of
the indices are named ``"<a>-<b>:<index>"`` (``"spring-winter:NDVI"`` = spring minus winter).
The spring–winter contrast is what separates moso bamboo from other forest and on-year from
off-year stands (best windows April–May and December–February; remote-sensing.md §3, RSE 2019
doi:10.1016/j.rse.2019.111265; Chen et al. 2019, Remote Sens. 11(1):7).

The result is lazy and chunked with all features in one block, so a model can predict whole
``(feature, rows, cols)`` blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dask.array as da
import numpy as np
import xarray as xr

from mrv.errors import InputError
from pipelines.satellite.cube import grid_attrs, grid_of
from pipelines.satellite.indices import DEFAULT_INDICES, compute_indices

__all__ = ["build_features"]


def _check_composites(composites: Mapping[str, xr.Dataset]) -> None:
    if not composites:
        raise InputError("no composites to build features from")
    grids = {name: grid_of(ds) for name, ds in composites.items()}
    first_name, first = next(iter(grids.items()))
    for name, grid in grids.items():
        if grid != first:
            raise InputError(
                f"composite {name!r} is on a different grid than {first_name!r}: "
                f"{grid.crs} {grid.width}×{grid.height} px, transform {grid.transform} vs "
                f"{first.crs} {first.width}×{first.height} px, transform {first.transform}"
            )
    for name, ds in composites.items():
        if "reflectance" not in ds or ds["reflectance"].dims != ("band", "y", "x"):
            raise InputError(f"composite {name!r} has no reflectance (band, y, x)")
        if ":" in name:
            raise InputError(f"season name {name!r} may not contain ':' (used in feature names)")


def build_features(
    composites: Mapping[str, xr.Dataset],
    *,
    bands: Sequence[str] | None = None,
    indices: Sequence[str] = DEFAULT_INDICES,
    differences: Sequence[tuple[str, str]] = (),
) -> xr.DataArray:
    """Stack seasonal composites into a float32 ``(feature, y, x)`` array (lazy).

    ``composites`` maps a season name to its composite (Composite contract, cube.py), all on one
    grid. For each season in mapping order come its ``bands`` (default: all bands of the first
    composite) then its ``indices``; then, for each ``(a, b)`` in ``differences``, each index of
    season ``a`` minus season ``b``. The result carries the composites' ``crs``/``transform``
    and a ``feature`` coordinate of names. Raises :class:`InputError` for composites on
    different grids, a missing band (naming season and band), unknown seasons in
    ``differences`` or a difference without indices.
    """
    _check_composites(composites)
    first = next(iter(composites.values()))
    wanted_bands = (
        [str(b) for b in first["band"].values] if bands is None else list(dict.fromkeys(bands))
    )
    indices = list(dict.fromkeys(indices))
    for a, b in differences:
        if "-" in a or "-" in b:
            raise InputError(f"difference {a}-{b}: season names in differences may not contain '-'")
        unknown = [s for s in (a, b) if s not in composites]
        if unknown:
            raise InputError(
                f"difference {a}-{b}: no composite for season(s) {', '.join(unknown)}; "
                f"seasons are {', '.join(composites)}"
            )
    if differences and not indices:
        raise InputError("differences are taken of indices, but no indices were requested")

    names: list[str] = []
    layers: list[xr.DataArray] = []
    season_indices: dict[str, xr.DataArray] = {}
    for season, ds in composites.items():
        refl = ds["reflectance"]
        present = [str(b) for b in refl["band"].values]
        missing = [b for b in wanted_bands if b not in present]
        if missing:
            raise InputError(f"composite {season!r} lacks bands {', '.join(missing)}")
        for band in wanted_bands:
            names.append(f"{season}:{band}")
            layers.append(refl.sel(band=band, drop=True))
        if indices:
            try:
                idx = compute_indices(refl, indices)
            except InputError as exc:
                raise InputError(f"composite {season!r}: {exc}") from exc
            season_indices[season] = idx
            for name in indices:
                names.append(f"{season}:{name}")
                layers.append(idx.sel(index=name, drop=True))
    for a, b in differences:
        for name in indices:
            names.append(f"{a}-{b}:{name}")
            layers.append(
                season_indices[a].sel(index=name, drop=True)
                - season_indices[b].sel(index=name, drop=True)
            )
    if not layers:
        raise InputError("no features requested (no bands and no indices)")

    stacked = xr.concat(
        [layer.astype(np.float32) for layer in layers],
        dim="feature",
        coords="minimal",
        compat="override",
        join="override",
    )
    if isinstance(stacked.data, da.Array):
        stacked = stacked.chunk({"feature": -1})
    stacked = stacked.assign_coords(feature=np.array(names, dtype=str)).rename("features")
    stacked.attrs = {**grid_attrs(grid_of(first)), "seasons": list(composites)}
    return stacked.transpose("feature", "y", "x")
