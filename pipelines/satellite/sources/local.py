"""Sentinel-2 scenes from local files.

Three layouts are recognised (they may be mixed; folders are searched recursively):

(a) **Product band files** named as in the products, ``…_YYYYMMDDTHHMMSS_B04.jp2|.tif`` or
    ``…_B04_10m.jp2`` (``GRANULE/*/IMG_DATA[/R10m|R20m|R60m]/`` of a ``.SAFE`` folder; when a band
    exists at several resolutions the finest is used). ``MTD_MSIL2A.xml``/``MTD_MSIL1C.xml``
    above the files gives the offsets. One scene = one tile and sensing time.
(b) **A folder per date** (its name contains ``YYYYMMDD``) holding ``B04.tif``-style files (and
    ``SCL.tif``). One scene = one folder.
(c) **A multi-band GeoTIFF per date** (its name contains ``YYYYMMDD``) whose band descriptions
    name the bands (``B04`` or ``B4``, ``SCL``). One scene = one file.

Scenes with the same acquisition time (tiles of one datatake) are mosaicked into one date.
Every band is read onto one grid: the ``crs`` argument's, else the CRS of the earliest scene,
pixel edges aligned with that scene's pixels, covering all scenes (or the AOI's bounding box).
**Scenes in another CRS are reprojected on the fly to that grid** (Huzhou straddles UTM 50N/51N);
20 m and 60 m bands are resampled bilinearly, SCL by nearest neighbour.

Integer files hold DN (see :mod:`._scaling` for the offset rule; DN 0 = no data); float files
hold reflectance already. Files without SCL give an L1C-style cube (TOA unless metadata says
L2A) and a :class:`NoCloudMaskWarning` unless a ``cloud_mask`` is given.
"""

from __future__ import annotations

import re
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from mrv.errors import InputError, Problem
from pipelines.satellite.cube import Grid
from pipelines.satellite.sources import _scaling
from pipelines.satellite.sources._cloudmask import load_cloud_mask
from pipelines.satellite.sources._common import (
    NoCloudMaskWarning,
    ScalingAssumptionWarning,
    check_projected,
    clip_to_aoi,
    crs_string,
    normalise_band,
    snap_grid,
    to_crs,
    union,
)
from pipelines.satellite.sources._common import assemble_cube as _assemble
from pipelines.satellite.sources._reader import Layer, RasterInfo, lazy_reflectance, lazy_single
from pipelines.satellite.sources._reader import probe as _probe

RASTER_SUFFIXES = frozenset({".tif", ".tiff", ".jp2"})
_PRODUCT_FILE = re.compile(
    r"_(?P<when>\d{8}T\d{6})_(?P<layer>[A-Za-z0-9]{2,4})(?:_(?P<res>\d{2})m)?$"
)
_BAND_FILE = re.compile(r"(?P<layer>B\d{1,2}A?|SCL)(?:_(?P<res>\d{2})m)?$", re.IGNORECASE)
_DATE = re.compile(r"(?<!\d)(?P<date>(?:19|20)\d{6})(?:T(?P<clock>\d{6}))?(?!\d)")
_LEVEL = re.compile(r"MSIL(1C|2A)|(?<![A-Za-z0-9])L(1C|2A)(?![A-Za-z0-9])", re.IGNORECASE)
_SKIP_DIRS = frozenset({"QI_DATA", "AUX_DATA", "HTML", "rep_info"})


@dataclass
class _Scene:
    """One product tile / date folder / multi-band file."""

    key: str
    time: pd.Timestamp
    anchor: Path
    """A file or folder of the scene, for metadata and messages."""
    root: Path
    """The input folder the scene was found in (names above it are not looked at)."""
    bands: dict[str, list[tuple[RasterInfo, int]]] = field(default_factory=dict)
    """Band name → (file, 1-based band index) candidates."""

    @property
    def label(self) -> str:
        return _when(self.time)

    def names(self, path: Path | None = None) -> list[str]:
        """Names of ``path`` (default: the anchor) and its folders up to the input root."""
        path = path or self.anchor
        return [path.name, *_folders_up_to(path.parent, self.root)]

    def choose(self, band: str) -> tuple[RasterInfo, int] | None:
        """The finest-resolution file of ``band``."""
        found = self.bands.get(band)
        return min(found, key=lambda c: c[0].resolution) if found else None


def _when(time: pd.Timestamp) -> str:
    return str(time.date()) if time == time.normalize() else time.isoformat()


def _parse_time(date: str, clock: str | None) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(
            pd.to_datetime(date + (clock or ""), format="%Y%m%d%H%M%S" if clock else "%Y%m%d")
        )
    except ValueError:
        return None


def _dated(parts: Iterable[str]) -> pd.Timestamp | None:
    """The first valid ``YYYYMMDD[THHMMSS]`` found in ``parts`` (checked in order)."""
    for part in parts:
        for match in _DATE.finditer(part):
            found = _parse_time(match["date"], match["clock"])
            if found is not None:
                return found
    return None


def _raster_files(paths: Sequence[Path]) -> list[tuple[Path, Path]]:
    """(file, input root) of every raster under the inputs, sorted, metadata folders skipped."""
    found: list[tuple[Path, Path]] = []
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise InputError(
            "scene source not found: " + ", ".join(str(p) for p in missing),
            [Problem("does not exist", file=str(p)) for p in missing],
        )
    for root in paths:
        if root.is_file():
            found.append((root, root.parent))
            continue
        for path in sorted(root.rglob("*")):
            if (
                path.suffix.lower() in RASTER_SUFFIXES
                and path.is_file()
                and not _SKIP_DIRS.intersection(path.relative_to(root).parts[:-1])
            ):
                found.append((path, root))
    return found


def _folders_up_to(folder: Path, root: Path) -> list[str]:
    """Names of ``folder`` and its parents up to ``root`` (inclusive), nearest first."""
    names = [folder.name]
    current = folder
    while current != root and current.parent != current:
        current = current.parent
        names.append(current.name)
    return names


def _names_bands(path: Path) -> bool:
    """True when ``path`` is a raster whose band descriptions name Sentinel-2 bands."""
    try:
        info = _probe(path)
    except InputError:
        return False
    return any(normalise_band(d or "") for d in info.descriptions)


def discover(paths: Sequence[Path]) -> tuple[list[_Scene], list[Path]]:
    """Group the raster files under ``paths`` into scenes; returns (scenes, ignored files)."""
    scenes: dict[str, _Scene] = {}
    ignored: list[Path] = []
    problems: list[Problem] = []

    def add(
        key: str, time: pd.Timestamp, anchor: Path, band: str, info: RasterInfo, idx: int
    ) -> None:
        scene = scenes.setdefault(key, _Scene(key, time, anchor, root))
        scene.bands.setdefault(band, []).append((info, idx))

    def probe(path: Path, what: str) -> RasterInfo | None:
        try:
            return _probe(path, what=what)
        except InputError as exc:
            problems.extend(exc.problems or [Problem(str(exc), file=str(path))])
            return None

    for path, root in _raster_files(paths):
        stem = path.stem
        product = _PRODUCT_FILE.search(stem)
        if product is not None:  # (a) product band file
            band = normalise_band(product["layer"])
            when = _parse_time(product["when"][:8], product["when"][9:])
            if band is None or when is None:
                ignored.append(path)  # TCI, AOT, WVP, …
                continue
            info = probe(path, f"band {band}, {_when(when)}")
            if info is not None:
                tile = stem[: product.start()]
                folder = path.parent
                if re.fullmatch(r"R\d{2}m", folder.name):  # IMG_DATA/R10m, R20m, R60m
                    folder = folder.parent
                anchor = folder / stem[: product.end("when")]  # …/IMG_DATA/T50RQU_2023…T023551
                add(f"{folder}|{tile}|{product['when']}", when, anchor, band, info, 1)
            continue
        plain = _BAND_FILE.fullmatch(stem)
        if plain is not None and normalise_band(plain["layer"]) is not None:  # (b)
            band = normalise_band(plain["layer"])
            assert band is not None
            when = _dated(_folders_up_to(path.parent, root))
            if when is None:
                problems.append(
                    Problem(
                        f"band {band}: no date (YYYYMMDD) in the folder name; put each date's "
                        "band files in a folder named with its date",
                        file=str(path),
                    )
                )
                continue
            info = probe(path, f"band {band}, {_when(when)}")
            if info is not None:
                add(str(path.parent), when, path.parent, band, info, 1)
            continue
        when = _dated([stem, *_folders_up_to(path.parent, root)])
        if when is None:
            if _names_bands(path):
                problems.append(
                    Problem(
                        "band descriptions name Sentinel-2 bands but neither the file nor its "
                        "folder names a date (YYYYMMDD)",
                        file=str(path),
                    )
                )
            else:
                ignored.append(path)
            continue
        info = probe(path, _when(when))  # (c) multi-band file
        if info is None:
            continue
        named = [(normalise_band(d or ""), i) for i, d in enumerate(info.descriptions, start=1)]
        named = [(b, i) for b, i in named if b is not None]
        if not named:
            if info.count > 1:
                problems.append(
                    Problem(
                        f"{info.count} bands but no band descriptions naming Sentinel-2 bands "
                        "(B02, B03, …, SCL); cannot tell which band is which",
                        file=str(path),
                    )
                )
            else:
                ignored.append(path)
            continue
        for band, idx in named:
            assert band is not None
            add(str(path), when, path, band, info, idx)
    if problems:
        raise InputError(f"{len(problems)} unreadable or unrecognised scene files", problems)
    return sorted(scenes.values(), key=lambda s: (s.time, s.key)), ignored


def _scene_level(scene: _Scene, meta: _scaling.ProductMetadata | None) -> str | None:
    if meta is not None and meta.level is not None:
        return meta.level
    for part in scene.names():
        match = _LEVEL.search(part)
        if match:
            return "L" + (match[1] or match[2]).upper()
    return None


def _scaling_for(
    scene: _Scene,
    band: str,
    info: RasterInfo,
    idx: int,
    meta: _scaling.ProductMetadata | None,
    baseline_arg: tuple[int, int] | None,
) -> _scaling.Scaling:
    gdal_scale, gdal_offset = info.scales[idx - 1], info.offsets[idx - 1]
    if gdal_scale != 1.0 or gdal_offset != 0.0:
        return _scaling.Scaling(gdal_scale, gdal_offset, f"{info.path.name} scale/offset")
    if info.is_float:
        return _scaling.REFLECTANCE_AS_IS
    if meta is not None:
        found = meta.scaling(band)
        if found is not None:
            return found
    found = _scaling.from_tags(info.tags, band, info.path.name)
    if found is not None:
        return found
    named = _scaling.baseline_from_names(scene.names(info.path))
    if named is not None:
        text = _scaling.format_baseline(named)
        return _scaling.from_baseline(named, f"baseline {text} (product name)")
    if baseline_arg is not None:
        text = _scaling.format_baseline(baseline_arg)
        return _scaling.from_baseline(baseline_arg, f"baseline {text} (argument)")
    return _scaling.from_date(scene.time)


def load_local(
    paths: Sequence[Path],
    *,
    bands: Sequence[str],
    aoi: Any = None,
    time: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    resolution: float = 10.0,
    crs: str | None = None,
    chunks: int = 512,
    cloud_mask: Path | None = None,
    processing_baseline: str | None = None,
) -> xr.Dataset:
    """Scene cube from local files (see the module docstring); arguments as
    :func:`pipelines.satellite.sources.load_scenes` (``time`` already parsed)."""
    baseline_arg = _scaling.parse_baseline(processing_baseline)
    scenes, ignored = discover(paths)
    if time is not None:
        found_dates = sorted({s.label for s in scenes})
        scenes = [s for s in scenes if time[0] <= s.time <= time[1]]
        if not scenes:
            raise InputError(
                f"no scene between {time[0]} and {time[1]}; scenes found: "
                + (", ".join(found_dates) or "none")
            )
    if not scenes:
        where = ", ".join(str(p) for p in paths)
        raise InputError(
            f"no Sentinel-2 scenes found in {where} ({len(ignored)} other raster files); "
            "expected …_YYYYMMDDTHHMMSS_B04.jp2/.tif band files, a folder per date (YYYYMMDD) "
            "with B04.tif-style files, or a multi-band GeoTIFF per date with band descriptions"
        )

    problems = [
        Problem(f"band {band} missing for {scene.label}", file=str(scene.anchor), column=band)
        for scene in scenes
        for band in bands
        if band not in scene.bands
    ]
    if problems:
        raise InputError(f"{len(problems)} missing bands", problems)

    with_scl = [s for s in scenes if "SCL" in s.bands]
    if with_scl and len(with_scl) != len(scenes):
        lacking = [s for s in scenes if "SCL" not in s.bands]
        raise InputError(
            "some scenes have an SCL layer and others do not; missing for "
            + ", ".join(sorted({s.label for s in lacking})),
            [Problem("no SCL layer", file=str(s.anchor), column="SCL") for s in lacking],
        )

    metas: dict[str, _scaling.ProductMetadata | None] = {}
    levels: set[str] = set()
    layers: dict[pd.Timestamp, list[list[Layer]]] = defaultdict(lambda: [[] for _ in bands])
    scl_layers: dict[pd.Timestamp, list[Layer]] = defaultdict(list)
    assumed: list[str] = []
    for scene in scenes:
        mtd_path = _scaling.find_product_metadata(scene.anchor)
        meta = None
        if mtd_path is not None:
            if str(mtd_path) not in metas:
                metas[str(mtd_path)] = _scaling.read_product_metadata(mtd_path)
            meta = metas[str(mtd_path)]
        level = _scene_level(scene, meta)
        levels.add(level or ("L2A" if with_scl else "L1C"))
        for b, band in enumerate(bands):
            chosen = scene.choose(band)
            assert chosen is not None
            info, idx = chosen
            scaling = _scaling_for(scene, band, info, idx, meta, baseline_arg)
            if scaling.assumed and scene.label not in assumed:
                assumed.append(scene.label)
            nodata = info.nodata if info.nodata is not None else (None if info.is_float else 0.0)
            layers[scene.time][b].append(
                Layer(
                    str(info.path),
                    idx,
                    band,
                    scene.label,
                    scaling.scale,
                    scaling.offset,
                    nodata,
                    info.stamp,
                )
            )
        if with_scl:
            chosen = scene.choose("SCL")
            assert chosen is not None
            info, idx = chosen
            scl_layers[scene.time].append(
                Layer(str(info.path), idx, "SCL", scene.label, nodata=0.0, stamp=info.stamp)
            )
    if len(levels) > 1:
        raise InputError(
            "scenes mix processing levels " + " and ".join(sorted(levels)) + "; load them apart"
        )

    grid = _grid(scenes, bands, aoi=aoi, resolution=resolution, crs=crs)
    times = sorted(layers)
    reflectance = lazy_reflectance([layers[t] for t in times], grid, chunks)
    scl = (
        lazy_single([scl_layers[t] for t in times], grid, chunks, categorical=True)
        if with_scl
        else None
    )
    probability = (
        load_cloud_mask(cloud_mask, times, grid, chunks) if cloud_mask is not None else None
    )
    if assumed:
        warnings.warn(
            "no processing baseline known for the scenes of "
            + ", ".join(assumed)
            + f"; assumed the BOA/TOA offset of −1000 DN from {_scaling.OFFSET_START.date()} on "
            "(baseline 04.00) and none before. Pass processing_baseline= if this is wrong.",
            ScalingAssumptionWarning,
            stacklevel=3,
        )
    if scl is None and probability is None:
        warnings.warn(
            "the scenes have no SCL layer (L1C or bands only) and no cloud_mask was given: "
            "no cloud mask is applied",
            NoCloudMaskWarning,
            stacklevel=3,
        )
    return _assemble(
        reflectance,
        times=times,
        bands=bands,
        grid=grid,
        product_level=levels.pop(),
        source="local:" + ";".join(str(p) for p in paths),
        scl=scl,
        cloud_probability=probability,
    )


def _grid(
    scenes: Sequence[_Scene], bands: Sequence[str], *, aoi: Any, resolution: float, crs: str | None
) -> Grid:
    """The cube grid: target CRS, pixel edges aligned with the earliest scene's finest band."""
    ref_info = min(
        (scenes[0].choose(b) for b in bands), key=lambda c: c[0].resolution if c else 1e99
    )
    assert ref_info is not None
    ref = ref_info[0]
    target = crs_string(crs) if crs is not None else ref.crs
    check_projected(target)
    footprints = []
    for scene in scenes:
        for band in bands:
            chosen = scene.choose(band)
            assert chosen is not None
            footprints.append(to_crs(chosen[0].bounds, chosen[0].crs, target))
    extent = union(footprints)
    if aoi is not None:
        extent = clip_to_aoi(extent, target, aoi)
    anchor = (ref.transform[2], ref.transform[5]) if target == ref.crs else (0.0, 0.0)
    return snap_grid(extent, target, resolution, anchor=anchor)
