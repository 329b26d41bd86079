"""The data contract between the satellite pipeline's stages.

**Scene cube** (what every scene source returns) — an :class:`xarray.Dataset` with

``reflectance``
    float32, dims ``("time", "band", "y", "x")``, dask-backed, surface (L2A, offset removed) or
    top-of-atmosphere (L1C) reflectance on the 0–1 scale; NaN where the product has no data.
``scl`` (optional)
    uint8, dims ``("time", "y", "x")``: the L2A Scene Classification (0 = no data), nearest-
    neighbour resampled to 10 m.
``cloud_probability`` (optional)
    float32, dims ``("time", "y", "x")``: cloud probability 0–1 (e.g. s2cloudless) or a given
    0/1 mask; used when there is no SCL.

coordinates ``time`` (datetime64[ns], sorted), ``band`` (S2 names such as ``"B04"``), ``y`` and
``x`` (pixel centres in the grid CRS, y decreasing); attributes ``crs`` (e.g. ``"EPSG:32650"``),
``transform`` (the 6 affine coefficients a, b, c, d, e, f of the pixel corners), ``product_level``
(``"L2A"`` or ``"L1C"``) and ``source``.

**Composite** — a Dataset with ``reflectance`` (``band, y, x``, float32 median over the valid
observations of a season), ``valid_count`` (``y, x``, uint16: how many observations entered each
pixel; 0 = no valid observation and NaN reflectance) and attributes ``season``, ``start``,
``end``, ``crs``, ``transform``.

**Features** — a DataArray (``feature, y, x``, float32) with ``crs``/``transform`` attributes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import xarray as xr
from affine import Affine

from mrv.errors import InputError

S2_BANDS: tuple[str, ...] = (
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12",
)  # fmt: skip
"""Sentinel-2 L2A bands (B10 cirrus exists only in L1C)."""

BAND_RESOLUTION_M: dict[str, int] = {
    "B01": 60, "B02": 10, "B03": 10, "B04": 10, "B05": 20, "B06": 20, "B07": 20, "B08": 10,
    "B8A": 20, "B09": 60, "B10": 60, "B11": 20, "B12": 20, "SCL": 20,
}  # fmt: skip

SCL_CLASSES: dict[int, str] = {
    0: "no_data", 1: "saturated_or_defective", 2: "dark_area_pixels", 3: "cloud_shadows",
    4: "vegetation", 5: "not_vegetated", 6: "water", 7: "unclassified",
    8: "cloud_medium_probability", 9: "cloud_high_probability", 10: "thin_cirrus", 11: "snow",
}  # fmt: skip
"""L2A Scene Classification (remote-sensing.md §5.2)."""


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid: CRS, affine transform of pixel corners, size."""

    crs: str
    """CRS as understood by rasterio/pyproj, e.g. ``"EPSG:32650"``."""
    transform: tuple[float, float, float, float, float, float]
    """Affine coefficients (a, b, c, d, e, f): x = a·col + b·row + c, y = d·col + e·row + f."""
    width: int
    height: int

    @property
    def affine(self) -> Affine:
        """The transform as an :class:`affine.Affine`."""
        return Affine(*self.transform)

    @property
    def resolution(self) -> float:
        """Pixel size in CRS units (square pixels)."""
        return abs(self.transform[0])

    @property
    def pixel_area_ha(self) -> float:
        """Area of one pixel in hectares (CRS units must be metres)."""
        return abs(self.transform[0] * self.transform[4]) / 10_000.0

    def coords(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Pixel-centre coordinates (y, x)."""
        a, _, c, _, e, f = self.transform
        x = c + a * (np.arange(self.width, dtype=np.float64) + 0.5)
        y = f + e * (np.arange(self.height, dtype=np.float64) + 0.5)
        return y.astype(np.float64), x.astype(np.float64)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in the grid CRS."""
        a, _, c, _, e, f = self.transform
        xs = (c, c + a * self.width)
        ys = (f, f + e * self.height)
        return min(xs), min(ys), max(xs), max(ys)

    def __dask_tokenize__(self) -> tuple[object, ...]:
        return ("mrv.Grid", self.crs, self.transform, self.width, self.height)


def grid_of(obj: xr.Dataset | xr.DataArray) -> Grid:
    """The grid of a cube, composite or feature array (from its attributes and shape)."""
    try:
        crs = str(obj.attrs["crs"])
        transform = tuple(float(v) for v in obj.attrs["transform"])
    except KeyError as exc:
        raise InputError(f"raster has no {exc.args[0]!r} attribute; not a pipeline raster") from exc
    if len(transform) < 6:
        raise InputError("transform attribute must have 6 coefficients")
    return Grid(crs, transform[:6], int(obj.sizes["x"]), int(obj.sizes["y"]))  # type: ignore[arg-type]


def grid_attrs(grid: Grid) -> dict[str, object]:
    """Attributes to put on a raster produced on ``grid``."""
    return {"crs": grid.crs, "transform": list(grid.transform)}


def check_cube(ds: xr.Dataset, *, bands: Iterable[str] = ()) -> None:
    """Raise :class:`InputError` if ``ds`` breaks the scene-cube contract or lacks ``bands``."""
    problems = []
    if "reflectance" not in ds:
        problems.append("no 'reflectance' variable")
    else:
        dims = ds["reflectance"].dims
        if dims != ("time", "band", "y", "x"):
            problems.append(f"reflectance dims are {dims}, expected ('time', 'band', 'y', 'x')")
        missing = [b for b in bands if b not in list(ds["band"].values)]
        if missing:
            problems.append(f"missing bands {', '.join(missing)}")
    for name in ("crs", "transform"):
        if name not in ds.attrs:
            problems.append(f"no {name!r} attribute")
    if "time" in ds.indexes and not ds.indexes["time"].is_monotonic_increasing:
        problems.append("time is not sorted")
    if problems:
        raise InputError("not a valid scene cube: " + "; ".join(problems))
