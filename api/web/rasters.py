"""An evidence package's rasters as PNG images for the review pages.

Each ``outputs/*.tif`` of a package zip is read in place (GDAL's ``/vsizip``, no extraction),
decimated to at most :data:`MAX_SIDE` pixels a side (nearest neighbour) and drawn one PNG pixel
per raster cell: land cover in the class colours of the report's maps, continuous rasters on a
colour ramp from their smallest to their largest value, no-data transparent. The PNG and its
legend are kept under ``data_dir/review-maps/`` (a package is immutable: its SHA-256 names it),
so each raster is drawn once.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from mrv.atomic import write_bytes_atomic
from mrv.errors import FileFormatError, RecordNotFoundError
from pipelines.report.labels import class_colour, class_label
from pipelines.satellite.classes import DEFAULT_CLASSES, NODATA_CLASS

MAX_SIDE = 1024
"""Longest side of a drawn raster (larger rasters are decimated)."""
CACHE = "review-maps/v1"
"""Folder of drawn maps under ``data_dir`` (versioned: a new drawing gets a new folder)."""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A map's name: the file name of the raster or PNG without its extension."""
OUTSIDE_SITE = 255
"""Land-cover code of pixels outside the site (drawn transparent, like :data:`NODATA_CLASS`)."""
CATEGORICAL = ("land_cover",)
RAMPS = {"carbon_density": "YlGn", "carbon_uncertainty": "magma_r"}
DEFAULT_RAMP = "viridis"
TITLES: dict[str, tuple[str, str]] = {
    "land_cover": ("土地覆盖", "Land cover"),
    "carbon_density": ("碳密度（t C/ha）", "Carbon density (t C/ha)"),
    "carbon_uncertainty": (
        "不确定性：90 % 预测区间宽度（t C/ha）",
        "Uncertainty: 90 % prediction-interval width (t C/ha)",
    ),
    "removals": ("地块清除量（t CO2e/ha/yr）", "Removals per parcel (t CO2e/ha/yr)"),
}
"""Bilingual titles of the maps the campaign writes (others are titled by their file name)."""


@dataclass(frozen=True)
class PackageMap:
    """A map of a package: a raster to draw (``outputs/<name>.tif``) or a report PNG
    (``report/maps/<name>.png``)."""

    name: str
    member: str
    kind: str
    """``raster`` or ``report``."""

    @property
    def title(self) -> tuple[str, str]:
        """Chinese and English title."""
        return TITLES.get(self.name, (self.name, self.name))


def package_maps(zip_path: Path) -> list[PackageMap]:
    """The rasters (``outputs/*.tif``) and report maps (``report/maps/*.png``) of a package."""
    with zipfile.ZipFile(zip_path) as zf:
        names = sorted(zf.namelist())
    found = []
    for member in names:
        path = PurePosixPath(member)
        if not NAME.fullmatch(path.stem):
            continue
        parent, suffix = str(path.parent), path.suffix.lower()
        if parent == "outputs" and suffix in (".tif", ".tiff"):
            found.append(PackageMap(path.stem, member, "raster"))
        elif parent == "report/maps" and suffix == ".png":
            found.append(PackageMap(path.stem, member, "report"))
    return found


def find_map(zip_path: Path, name: str, kind: str) -> PackageMap:
    """The package's map ``name`` of ``kind`` (not found otherwise)."""
    for item in package_maps(zip_path):
        if (item.name, item.kind) == (name, kind):
            return item
    raise RecordNotFoundError(f"the package has no {kind} map {name!r}", map=name)


def report_png(zip_path: Path, item: PackageMap) -> bytes:
    """The bytes of a report map as packaged."""
    with zipfile.ZipFile(zip_path) as zf:
        data = zf.read(item.member)
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise FileFormatError(item.member, "not a PNG image")
    return data


def _read(
    zip_path: Path, member: str
) -> tuple[npt.NDArray[np.float64], float | None, dict[str, str]]:
    """Bands (float64, decimated), the file's nodata value and its tags."""
    import rasterio
    from rasterio.enums import Resampling

    try:
        with rasterio.open(f"/vsizip/{zip_path.resolve()}/{member}") as src:
            scale = max(src.width, src.height) / MAX_SIDE
            shape = (src.count, src.height, src.width)
            if scale > 1:
                shape = (
                    src.count,
                    max(1, round(src.height / scale)),
                    max(1, round(src.width / scale)),
                )
            bands = src.read(out_shape=shape, resampling=Resampling.nearest).astype(np.float64)
            tags = {str(k): str(v) for k, v in src.tags().items()}
            for band in range(1, src.count + 1):
                tags.update({str(k): str(v) for k, v in src.tags(band).items()})
            nodata = None if src.nodata is None else float(src.nodata)
    except rasterio.errors.RasterioIOError as exc:
        raise FileFormatError(member, f"not a readable raster ({exc})") from exc
    return bands, nodata, tags


def _png(rgba: npt.NDArray[np.uint8]) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, format="PNG")
    return out.getvalue()


def _hex(rgba: npt.NDArray[np.uint8]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgba[:3]))


def _classes(
    band: npt.NDArray[np.float64], nodata: float | None, tags: dict[str, str]
) -> tuple[npt.NDArray[np.uint8], dict[str, Any]]:
    from pipelines.report.mapdata import class_names_from_tags

    names = class_names_from_tags(tags) or {c.code: c.name for c in DEFAULT_CLASSES}
    valid = np.isfinite(band) & ~np.isin(band, [NODATA_CLASS, OUTSIDE_SITE])
    if nodata is not None:
        valid &= band != nodata
    codes = np.where(valid, band, 0).astype(np.int64)
    rgba = np.zeros((*band.shape, 4), dtype=np.uint8)
    legend = []
    total = int(valid.sum())
    for code in sorted(int(c) for c in np.unique(codes[valid])):
        name = names.get(code, str(code))
        colour = class_colour(name, code)
        where = valid & (codes == code)
        rgba[where] = [int(colour[i : i + 2], 16) for i in (1, 3, 5)] + [255]
        label = class_label(name)
        legend.append({"code": code, "name": name, "zh": label.zh, "en": label.en,
                       "colour": colour, "share": int(where.sum()) / total})  # fmt: skip
    return rgba, {"kind": "classes", "classes": legend}


def _ramp(
    values: npt.NDArray[np.float64], ramp: str
) -> tuple[npt.NDArray[np.uint8], dict[str, Any]]:
    import matplotlib as mpl

    cmap = mpl.colormaps[ramp]
    valid = np.isfinite(values)
    rgba = np.zeros((*values.shape, 4), dtype=np.uint8)
    stops = [_hex(np.asarray(cmap(x, bytes=True), dtype=np.uint8)) for x in np.linspace(0, 1, 5)]
    if not valid.any():
        return rgba, {"kind": "ramp", "ramp": ramp, "min": None, "max": None, "stops": stops}
    lo, hi = float(values[valid].min()), float(values[valid].max())
    scaled = (values[valid] - lo) / (hi - lo) if hi > lo else np.full(int(valid.sum()), 0.5)
    rgba[valid] = np.asarray(cmap(scaled, bytes=True), dtype=np.uint8)
    rgba[valid, 3] = 255
    return rgba, {"kind": "ramp", "ramp": ramp, "min": lo, "max": hi, "stops": stops}


def render_raster(zip_path: Path, item: PackageMap) -> tuple[bytes, dict[str, Any]]:
    """Draw a packaged raster: ``(PNG bytes, legend)``.

    The legend is ``{"kind": "classes", "classes": [{code, name, zh, en, colour, share}]}`` for
    land cover (classes present, share of the drawn pixels) or ``{"kind": "ramp", "ramp", "min",
    "max", "stops"}`` for a continuous raster; both also carry ``shape`` (rows, columns drawn)
    and ``band`` (what is drawn).
    """
    bands, nodata, tags = _read(zip_path, item.member)
    if item.name in CATEGORICAL or "classes" in tags:
        rgba, legend = _classes(bands[0], nodata, tags)
        legend["band"] = "classes"
    else:
        if nodata is not None:
            bands[bands == nodata] = np.nan
        if "uncertainty" in item.name and bands.shape[0] >= 2:
            values, what = bands[1] - bands[0], "upper - lower"
        else:
            values, what = bands[0], "band 1"
        rgba, legend = _ramp(values, RAMPS.get(item.name, DEFAULT_RAMP))
        legend["band"] = what
    legend["shape"] = [int(rgba.shape[0]), int(rgba.shape[1])]
    return _png(rgba), legend


def drawn_map(
    data_dir: Path, sha256: str, zip_path: Path, item: PackageMap
) -> tuple[Path, dict[str, Any]]:
    """The PNG file and legend of a packaged raster, drawn on first use into ``data_dir``."""
    folder = data_dir / CACHE / sha256
    png, meta = folder / f"{item.name}.png", folder / f"{item.name}.json"
    if png.is_file() and meta.is_file():
        legend: dict[str, Any] = json.loads(meta.read_text(encoding="utf-8"))
        return png, legend
    data, legend = render_raster(zip_path, item)
    write_bytes_atomic(png, data)
    write_bytes_atomic(meta, json.dumps(legend).encode("utf-8"))
    return png, legend


__all__ = [
    "MAX_SIDE",
    "NAME",
    "PackageMap",
    "drawn_map",
    "find_map",
    "package_maps",
    "render_raster",
    "report_png",
]
