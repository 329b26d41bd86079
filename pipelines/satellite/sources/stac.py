"""Sentinel-2 scenes from a STAC catalog, collection or ItemCollection (local file or URL), read
with ``pystac`` and loaded lazily with ``odc.stac.load``.

Asset keys are matched to bands by name (``B04``, ``B4``, ``B04_10m``), by Earth Search common
names (``red``, ``nir08``, ``swir16``, ``scl`` …) or by the asset's ``eo:bands`` name; the finest
asset wins when a band comes at several resolutions. Items of one solar day are mosaicked.

DN → reflectance per item and band (see :mod:`._scaling`): the asset's ``raster:bands``
``scale``/``offset`` when present (Earth Search: 0.0001 and −0.1 from baseline 04.00); else the
item's ``s2:processing_baseline``; else the ``processing_baseline`` argument; else the
acquisition-date rule with a :class:`ScalingAssumptionWarning`. Float assets are reflectance
already. DN 0 (or the asset's nodata) → NaN. Items whose scaling differs are never mixed in one
mosaic: a day with two scalings becomes two time steps.

Local asset files are opened (headers only) when the cube is built, so missing, corrupt or
truncated files are reported then, naming the item and band.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import numpy as np
import pandas as pd
import xarray as xr

from mrv.errors import InputError, Problem
from pipelines.satellite.cube import Grid
from pipelines.satellite.sources import _scaling
from pipelines.satellite.sources._common import (
    NoCloudMaskWarning,
    ScalingAssumptionWarning,
    assemble_cube,
    check_projected,
    clip_to_aoi,
    crs_string,
    normalise_band,
    snap_grid,
    to_crs,
    union,
    utm_crs,
)
from pipelines.satellite.sources._reader import probe

COMMON_NAMES: dict[str, str] = {
    "coastal": "B01", "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05",
    "rededge2": "B06", "rededge3": "B07", "nir": "B08", "nir08": "B8A", "nir09": "B09",
    "cirrus": "B10", "swir16": "B11", "swir22": "B12", "scl": "SCL",
}  # fmt: skip
"""Earth Search (element84) asset keys → Sentinel-2 band names."""

_KEY = re.compile(r"(?P<band>B\d{1,2}A?|SCL)(?:_(?P<res>\d{2})m)?", re.IGNORECASE)
_LIBRARY_DEPRECATIONS = r"The 'shapely\.ops\.transform\(\)' function is deprecated|Use `@` matmul"
_BASELINE_PROPERTIES = (
    "s2:processing_baseline",
    "processing:version",
    "sentinel:processing_baseline",
)


def _is_url(href: str) -> bool:
    return urlparse(href).scheme in ("http", "https", "s3", "gs")


def _absolute(href: str, base: str) -> str:
    if _is_url(href) or os.path.isabs(href):
        return href
    if _is_url(base):
        return urljoin(base, href)
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(base)), href))


def read_items(href: str) -> list[Any]:
    """Every item of a STAC catalog/collection (recursively), ItemCollection or single item at
    ``href``, with absolute asset hrefs."""
    import pystac

    try:
        data = pystac.StacIO.default().read_json(href)
        kind = data.get("type")
        if kind == "FeatureCollection":
            items = list(pystac.ItemCollection.from_dict(data).items)
        elif kind == "Feature":
            items = [pystac.Item.from_dict(data)]
        elif kind in ("Catalog", "Collection"):
            root = pystac.read_file(href)
            items = list(root.get_items(recursive=True))  # type: ignore[attr-defined]
        else:
            raise InputError(f"{href}: not a STAC catalog, collection, item or ItemCollection")
    except InputError:
        raise
    except Exception as exc:  # pystac/urllib/json raise many unrelated classes
        raise InputError(f"{href}: cannot read STAC: {exc}") from exc
    for item in items:
        base = item.get_self_href() or href
        for asset in item.assets.values():
            asset.href = _absolute(asset.href, base)
    return items


def _item_time(item: Any) -> pd.Timestamp:
    when = item.datetime or item.common_metadata.start_datetime
    if when is None:
        raise InputError(f"STAC item {item.id} has no datetime")
    stamp = pd.Timestamp(when)
    return stamp.tz_convert(None) if stamp.tzinfo else stamp


def _solar_day(item: Any) -> pd.Timestamp:
    """The item's local solar day (UTC time + longitude/15 h), as odc-stac's ``solar_day``."""
    lon = 0.0 if item.bbox is None else (item.bbox[0] + item.bbox[2]) / 2.0
    return (_item_time(item) + pd.Timedelta(hours=lon / 15.0)).normalize()


def _asset_bands(item: Any) -> dict[str, list[tuple[float, str]]]:
    """Band name → [(resolution or 0, asset key)] of an item's assets."""
    found: dict[str, list[tuple[float, str]]] = {}
    for key, asset in item.assets.items():
        band: str | None = COMMON_NAMES.get(key.lower())
        res = 0.0
        match = _KEY.fullmatch(key)
        if band is None and match is not None:
            band = normalise_band(match["band"])
            res = float(match["res"] or 0)
        if band is None:
            for entry in asset.extra_fields.get("eo:bands", []) or []:
                band = normalise_band(str(entry.get("name", "")))
                if band is not None:
                    break
        if band is not None:
            res = res or float(asset.extra_fields.get("gsd", item.properties.get("gsd", 0)) or 0)
            found.setdefault(band, []).append((res, key))
    return found


def _band_info(asset: Any) -> dict[str, Any]:
    """``raster:bands[0]`` (STAC ≤ 1.0) or ``bands[0]`` / asset-level fields (STAC 1.1)."""
    fields = asset.extra_fields
    entry = dict((fields.get("raster:bands") or fields.get("bands") or [{}])[0] or {})
    for name in ("scale", "offset", "nodata", "data_type"):
        for key in (f"raster:{name}", name):
            if key in fields and name not in entry:
                entry[name] = fields[key]
            if key in entry and name not in entry:
                entry[name] = entry[key]
    return entry


def _item_scaling(
    item: Any, band: str, key: str, baseline_arg: tuple[int, int] | None
) -> _scaling.Scaling:
    info = _band_info(item.assets[key])
    if "scale" in info or "offset" in info:
        return _scaling.Scaling(
            float(info.get("scale", 1.0)), float(info.get("offset", 0.0)), "raster:bands"
        )
    if str(info.get("data_type", "")).startswith("float"):
        return _scaling.REFLECTANCE_AS_IS
    for prop in _BASELINE_PROPERTIES:
        if item.properties.get(prop) not in (None, ""):
            found = _scaling.parse_baseline(item.properties[prop])
            assert found is not None
            text = _scaling.format_baseline(found)
            return _scaling.from_baseline(found, f"baseline {text} ({prop})")
    if baseline_arg is not None:
        text = _scaling.format_baseline(baseline_arg)
        return _scaling.from_baseline(baseline_arg, f"baseline {text} (argument)")
    return _scaling.from_date(_item_time(item))


def _item_crs(item: Any, key: str) -> str | None:
    for fields in (item.assets[key].extra_fields, item.properties):
        code = fields.get("proj:code") or (
            f"EPSG:{fields['proj:epsg']}" if fields.get("proj:epsg") else None
        )
        if code:
            return crs_string(code)
    return None


def _asset_grid(item: Any, key: str) -> tuple[str, tuple[float, ...], tuple[int, int]] | None:
    """(CRS, transform, (height, width)) of an asset from the projection extension."""
    fields = {**item.properties, **item.assets[key].extra_fields}
    crs = _item_crs(item, key)
    transform, shape = fields.get("proj:transform"), fields.get("proj:shape")
    if crs is None or not transform or not shape or len(transform) < 6:
        return None
    return crs, tuple(float(v) for v in transform[:6]), (int(shape[0]), int(shape[1]))


def _grid(
    items: Sequence[Any], keys: Sequence[str], target: str, *, resolution: float, aoi: Any
) -> Grid:
    """Output grid: the union of the assets' footprints (projection extension, else the items'
    bbox) in ``target``, clipped to the AOI, pixel edges on the first asset's pixel edges."""
    footprints = []
    anchor = (0.0, 0.0)
    for n, item in enumerate(items):
        for m, key in enumerate(keys):
            found = _asset_grid(item, key)
            if found is None:
                if item.bbox is None:
                    raise InputError(f"STAC item {item.id} has neither bbox nor proj:transform")
                footprints.append(to_crs(tuple(item.bbox[:4]), "EPSG:4326", target))
                continue
            crs, (a, _, c, _, e, f), (height, width) = found
            xs, ys = (c, c + a * width), (f, f + e * height)
            footprints.append(to_crs((min(xs), min(ys), max(xs), max(ys)), crs, target))
            if n == 0 and m == 0 and crs == target:
                anchor = (c, f)
    extent = union(footprints)
    if aoi is not None:
        extent = clip_to_aoi(extent, target, aoi)
    return snap_grid(extent, target, resolution, anchor=anchor)


def _check_local_assets(items: Sequence[Any], keys: dict[str, str]) -> None:
    problems: list[Problem] = []
    for item in items:
        for band, key in keys.items():
            href = item.assets[key].href
            if _is_url(href):
                continue
            path = Path(href[7:] if href.startswith("file://") else href)
            try:
                probe(path, what=f"item {item.id}, band {band}")
            except InputError as exc:
                problems.extend(
                    Problem(f"item {item.id}, band {band}: {p.reason}", file=p.file)
                    for p in (exc.problems or [Problem(str(exc), file=str(path))])
                )
    if problems:
        raise InputError(f"{len(problems)} unreadable STAC assets", problems)


def load_stac(
    hrefs: Sequence[str],
    *,
    bands: tuple[str, ...],
    aoi: Any = None,
    time: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    resolution: float = 10.0,
    crs: str | None = None,
    chunks: int = 512,
    cloud_mask: Path | None = None,
    processing_baseline: str | None = None,
) -> xr.Dataset:
    """Scene cube from STAC (see the module docstring)."""
    import odc.stac

    baseline_arg = _scaling.parse_baseline(processing_baseline)
    items = [item for href in hrefs for item in read_items(href)]
    if time is not None:
        items = [i for i in items if time[0] <= _item_time(i) <= time[1]]
    if not items:
        raise InputError(
            f"no STAC items in {', '.join(hrefs)}" + (" in the period" if time else "")
        )

    keys: dict[str, str] = {}
    problems: list[Problem] = []
    per_item = [_asset_bands(item) for item in items]
    for band in (*bands, "SCL"):
        chosen = {min(found[band])[1] for found in per_item if band in found}
        lacking = [
            item.id for item, found in zip(items, per_item, strict=True) if band not in found
        ]
        if band == "SCL":
            if chosen and lacking:
                problems.extend(Problem(f"item {i}: no SCL asset", column="SCL") for i in lacking)
        elif lacking:
            problems.extend(
                Problem(f"item {i}: no asset for band {band}", column=band) for i in lacking
            )
        if len(chosen) > 1:
            problems.append(Problem(f"band {band} has different asset keys {sorted(chosen)}"))
        if chosen and not lacking:
            keys[band] = chosen.pop()
    if problems:
        raise InputError(f"STAC items do not provide the bands: {len(problems)} problems", problems)
    _check_local_assets(items, keys)

    scalings = [
        tuple(_item_scaling(item, band, keys[band], baseline_arg) for band in bands)
        for item in items
    ]
    signatures = [tuple((s.scale, s.offset) for s in row) for row in scalings]
    group_of = [(_solar_day(item), sig) for item, sig in zip(items, signatures, strict=True)]
    groups = sorted(set(group_of))
    assumed = sorted({str(_item_time(i).date()) for i, r in zip(items, scalings, strict=True)
                      if any(s.assumed for s in r)})  # fmt: skip

    target = crs_string(crs) if crs is not None else _item_crs(items[0], keys[bands[0]])
    if target is None:
        bbox = items[0].bbox or (0.0, 0.0, 0.0, 0.0)
        target = utm_crs((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
    check_projected(target)
    grid = _grid(items, [keys[b] for b in bands], target, resolution=resolution, aoi=aoi)

    index_of = {id(item): n for n, item in enumerate(items)}

    def group_key(item: Any, parsed: Any, idx: int) -> Any:
        return group_of[index_of[id(item)]]

    load_keys = [keys[b] for b in bands] + ([keys["SCL"]] if "SCL" in keys else [])
    resampling = {keys[b]: "bilinear" for b in bands}
    if "SCL" in keys:
        resampling[keys["SCL"]] = "nearest"
    from affine import Affine
    from odc.geo.geobox import GeoBox

    geobox = GeoBox((grid.height, grid.width), Affine(*grid.transform), grid.crs)
    try:
        with _quiet_odc():
            ds = odc.stac.load(
                items, bands=load_keys, groupby=group_key, resampling=resampling,
                chunks={"time": 1, "y": chunks, "x": chunks}, geobox=geobox,
                dtype="float32",  # resample DN in float, not uint16 (a per-band dict breaks chunks)
                fail_on_error=True, stac_cfg={"*": {"warnings": "ignore"}},
            )  # fmt: skip
    except (ValueError, KeyError) as exc:
        raise InputError(f"odc-stac cannot load the STAC items: {exc}") from exc
    scale = np.array([[v[0] for v in sig] for _, sig in groups], dtype=np.float64)
    offset = np.array([[v[1] for v in sig] for _, sig in groups], dtype=np.float64)
    pieces = []
    for b, band in enumerate(bands):
        dn = ds[keys[band]]  # float32, NaN where the source has no data or no coverage
        valid = np.isfinite(dn)
        if not str(_band_info(items[0].assets[keys[band]]).get("data_type", "")).startswith(
            "float"
        ):
            valid = valid & (dn != 0)  # Sentinel-2 DN 0 = no data, even if undeclared
        s = xr.DataArray(scale[:, b], dims="time")
        o = xr.DataArray(offset[:, b], dims="time")
        pieces.append(xr.where(valid, dn.astype(np.float64) * s + o, np.nan).astype(np.float32))
    refl = xr.concat(pieces, dim="band").transpose("time", "band", "y", "x")
    refl = refl.chunk({"time": 1, "band": -1, "y": chunks, "x": chunks})
    scl = None
    if "SCL" in keys:
        scl_raw = ds[keys["SCL"]]
        scl = scl_raw.fillna(0).clip(0, 255).astype(np.uint8)  # loaded as float32, NaN = none
    order = np.argsort(ds["time"].values, kind="stable")
    times = pd.DatetimeIndex(ds["time"].values[order])
    refl_data = refl.data[order] if (order != np.arange(order.size)).any() else refl.data
    scl_data = None
    if scl is not None:
        scl_data = scl.data[order] if (order != np.arange(order.size)).any() else scl.data
    probability = None
    if cloud_mask is not None:
        from pipelines.satellite.sources._cloudmask import load_cloud_mask

        probability = load_cloud_mask(cloud_mask, list(times), grid, chunks)
    level = _level(items, has_scl=scl is not None)
    if assumed:
        warnings.warn(
            "no processing baseline or raster:bands scale/offset for the STAC items of "
            + ", ".join(assumed)
            + f"; assumed the offset of −1000 DN from {_scaling.OFFSET_START.date()} on "
            "(baseline 04.00) and none before. Pass processing_baseline= if this is wrong.",
            ScalingAssumptionWarning,
            stacklevel=3,
        )
    if scl_data is None and probability is None:
        warnings.warn(
            "the STAC items have no SCL asset (L1C or bands only) and no cloud_mask was "
            "given: no cloud mask is applied",
            NoCloudMaskWarning,
            stacklevel=3,
        )
    return assemble_cube(
        refl_data,
        times=times,
        bands=bands,
        grid=grid,
        product_level=level,
        source="stac:" + ";".join(hrefs),
        scl=scl_data,
        cloud_probability=probability,
    )


@contextmanager
def _quiet_odc() -> Iterator[None]:
    """odc-geo still calls ``shapely.ops.transform`` and multiplies ``Affine`` with ``*``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_LIBRARY_DEPRECATIONS)
        yield


def _level(items: Sequence[Any], *, has_scl: bool) -> str:
    levels = set()
    for item in items:
        text = " ".join(
            str(item.properties.get(k, ""))
            for k in ("s2:product_type", "processing:level", "product_type")
        ).upper()
        text += " " + str(item.collection_id or "").upper()
        if "2A" in text or "L2" in text:
            levels.add("L2A")
        elif "1C" in text or "L1" in text:
            levels.add("L1C")
    if len(levels) > 1:
        raise InputError("STAC items mix L1C and L2A products; load them apart")
    return levels.pop() if levels else ("L2A" if has_scl else "L1C")
