"""Scene sources: Sentinel-2 scenes from local files, a STAC catalog, or Sentinel Hub, as one lazy
scene cube (:mod:`pipelines.satellite.cube`).

>>> cube = load_scenes("scenes/", aoi=anji, time=("2024-03-01", "2024-05-31"))  # doctest: +SKIP
>>> cube.reflectance.dims  # doctest: +SKIP
('time', 'band', 'y', 'x')

Every source returns float32 reflectance on the 0–1 scale (Sentinel-2 DN offsets removed as
described in :mod:`._scaling`), NaN where there is no data, chunked one date × all bands ×
``chunks`` × ``chunks`` pixels; nothing is read but headers and metadata until the cube is
computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from mrv.errors import InputError
from pipelines.satellite.sources._common import (
    DEFAULT_BANDS,
    NoCloudMaskWarning,
    ScalingAssumptionWarning,
    SceneWarning,
    check_aoi,
    check_bands,
    check_options,
    time_window,
)
from pipelines.satellite.sources.sentinelhub import SentinelHubSource

__all__ = [
    "DEFAULT_BANDS",
    "NoCloudMaskWarning",
    "ScalingAssumptionWarning",
    "SceneWarning",
    "SentinelHubSource",
    "load_scenes",
]


def _is_stac(item: str | Path) -> bool:
    text = str(item)
    return text.startswith(("http://", "https://")) or text.lower().endswith(".json")


def load_scenes(
    source: str | Path | Sequence[str | Path] | SentinelHubSource,
    *,
    bands: Sequence[str] = DEFAULT_BANDS,
    aoi: Any = None,
    time: tuple[str, str] | None = None,
    resolution: float = 10.0,
    crs: str | None = None,
    chunks: int = 512,
    cloud_mask: Path | None = None,
    processing_baseline: str | None = None,
) -> xr.Dataset:
    """Load Sentinel-2 scenes as a lazy scene cube.

    ``source``
        a folder, a raster file or a list of them (:mod:`.local`); a STAC catalog, collection
        or ItemCollection as a ``.json`` path or URL (:mod:`.stac`); or a
        :class:`SentinelHubSource` (:mod:`.sentinelhub`).
    ``bands``
        reflectance bands to return, in this order (default :data:`DEFAULT_BANDS`).
    ``aoi``
        shapely geometry in WGS84 lon/lat; the cube is clipped to its bounding box. An AOI
        outside the scenes raises :class:`~mrv.errors.InputError` naming both extents.
        Required for Sentinel Hub.
    ``time``
        ``(start, end)`` dates, both inclusive. Required for Sentinel Hub.
    ``resolution``, ``crs``
        output grid (metres; CRS default: the earliest scene's, for Sentinel Hub the AOI's UTM
        zone). Scenes in other CRSs are reprojected to it.
    ``chunks``
        block size in pixels (y and x).
    ``cloud_mask``
        a cloud mask / probability raster or folder (:mod:`._cloudmask`), returned as the
        ``cloud_probability`` variable; without it and without SCL a
        :class:`NoCloudMaskWarning` is emitted.
    ``processing_baseline``
        baseline (``"04.00"``) of local/STAC products whose metadata does not say it; see
        :mod:`._scaling` for the order of precedence and the date rule used otherwise.
    """
    band_names = check_bands(bands)
    check_options(resolution=resolution, chunks=chunks)
    window = time_window(time)
    if aoi is not None:
        check_aoi(aoi)
    if isinstance(source, SentinelHubSource):
        from pipelines.satellite.sources.sentinelhub import load_sentinelhub

        return load_sentinelhub(
            source, bands=band_names, aoi=aoi, time=window, resolution=resolution, crs=crs,
            chunks=chunks, cloud_mask=cloud_mask,
        )  # fmt: skip
    items: list[str | Path] = [source] if isinstance(source, str | Path) else list(source)
    if not items:
        raise InputError("no scene source given")
    stac = [_is_stac(i) for i in items]
    if any(stac):
        if not all(stac):
            raise InputError("give either STAC .json sources or local rasters/folders, not both")
        from pipelines.satellite.sources.stac import load_stac

        return load_stac(
            [str(i) for i in items], bands=band_names, aoi=aoi, time=window,
            resolution=resolution, crs=crs, chunks=chunks, cloud_mask=cloud_mask,
            processing_baseline=processing_baseline,
        )  # fmt: skip
    from pipelines.satellite.sources.local import load_local

    return load_local(
        [Path(i) for i in items], bands=band_names, aoi=aoi, time=window, resolution=resolution,
        crs=crs, chunks=chunks, cloud_mask=cloud_mask, processing_baseline=processing_baseline,
    )  # fmt: skip
