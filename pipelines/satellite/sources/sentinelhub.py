"""Sentinel-2 L2A from the Sentinel Hub Catalog and Process APIs (sentinel-hub.com or the
Copernicus Data Space Ecosystem), through ``sentinelhub``.

The Catalog API (STAC search, paged) lists the acquisition dates over the AOI in the period
with cloud cover ≤ ``max_cloud_cover`` % — that happens when :func:`load_sentinelhub` runs. The
pixels are fetched lazily: one Process API request per date and block (``chunks`` pixels, at most
2500, the service's limit), returning float32 reflectance of the requested bands (units
REFLECTANCE, already harmonised to the pre-04.00 scale by the service, so no offset is applied)
plus SCL, NaN where the service has no data. The service resamples 20/60 m bands to the output
grid by nearest neighbour (its default, which keeps SCL classes exact). A date's tiles are
mosaicked by the service (``mosaicking``: ``leastCC``, ``mostRecent`` or ``leastRecent``).

Credentials: the ``client_id``/``client_secret`` arguments, else the environment variables
``MRV_SH_CLIENT_ID``/``MRV_SH_CLIENT_SECRET`` read when the source is constructed. Errors: HTTP
401/403 or a refused token → :class:`InputError` about the credentials; 429 → waited and
retried by ``sentinelhub`` (Retry-After) up to ``max_rate_limit_retries``; 5xx and connection
errors → retried ``max_download_attempts`` times, then :class:`MRVError`.

The reflectance and SCL arrays share their download tasks: computing both in one
``dask.compute`` (or ``cube.compute()``) downloads each block once.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from mrv.errors import InputError, MRVError
from pipelines.satellite.cube import Grid
from pipelines.satellite.sources._common import (
    assemble_cube,
    block_starts,
    check_aoi,
    check_projected,
    crs_string,
    snap_grid,
    to_crs,
    utm_crs,
)

if TYPE_CHECKING:
    from mrv.settings import Settings

ENV_CLIENT_ID = "MRV_SH_CLIENT_ID"
ENV_CLIENT_SECRET = "MRV_SH_CLIENT_SECRET"
SERVICES: dict[str, tuple[str, str]] = {
    "sentinel-hub": (
        "https://services.sentinel-hub.com",
        "https://services.sentinel-hub.com/auth/realms/main/protocol/openid-connect/token",
    ),
    "cdse": (
        "https://sh.dataspace.copernicus.eu",
        "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token",
    ),
}
"""Base URL and OAuth token URL of each service (remote-sensing.md §1.1)."""
MOSAICKING = ("leastCC", "mostRecent", "leastRecent")
MAX_REQUEST_PX = 2500
"""Largest width/height of one Process API request."""

__all__ = ["SentinelHubSource", "load_sentinelhub"]


@dataclass(frozen=True)
class SentinelHubSource:
    """Where and how to fetch Sentinel-2 L2A from Sentinel Hub / CDSE (pass to ``load_scenes``)."""

    client_id: str | None = None
    """OAuth client id; default ``$MRV_SH_CLIENT_ID``."""
    client_secret: str | None = field(default=None, repr=False)
    """OAuth client secret; default ``$MRV_SH_CLIENT_SECRET``."""
    _: KW_ONLY
    service: str = "sentinel-hub"
    """``"sentinel-hub"`` (services.sentinel-hub.com) or ``"cdse"`` (Copernicus Data Space)."""
    base_url: str | None = None
    """Override of the service's base URL."""
    token_url: str | None = None
    """Override of the service's OAuth token URL."""
    max_cloud_cover: float = 100.0
    """Largest scene cloud cover in percent (Catalog filter and Process ``maxCloudCoverage``)."""
    mosaicking: str = "leastCC"
    """Which tile wins where a date's tiles overlap."""
    max_download_attempts: int = 4
    """Attempts per request on 5xx/connection errors."""
    download_sleep_time: float = 5.0
    """Seconds before the second attempt (tripled for each further one)."""
    max_rate_limit_retries: int = 20
    """Attempts per request while the service answers 429 (rate limited)."""

    def __post_init__(self) -> None:
        if self.client_id is None:
            object.__setattr__(self, "client_id", os.environ.get(ENV_CLIENT_ID))
        if self.client_secret is None:
            object.__setattr__(self, "client_secret", os.environ.get(ENV_CLIENT_SECRET))
        if not self.client_id or not self.client_secret:
            raise InputError(
                "Sentinel Hub credentials missing: pass client_id and client_secret or set "
                f"{ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}"
            )
        if self.service not in SERVICES:
            raise InputError(f"service must be one of {', '.join(SERVICES)}, got {self.service!r}")
        base, token = SERVICES[self.service]
        object.__setattr__(self, "base_url", (self.base_url or base).rstrip("/"))
        object.__setattr__(self, "token_url", self.token_url or token)
        if not 0.0 <= self.max_cloud_cover <= 100.0:
            raise InputError(f"max_cloud_cover is a percentage, got {self.max_cloud_cover}")
        if self.mosaicking not in MOSAICKING:
            raise InputError(f"mosaicking must be one of {', '.join(MOSAICKING)}")
        if self.max_download_attempts < 1 or self.max_rate_limit_retries < 1:
            raise InputError("max_download_attempts and max_rate_limit_retries must be >= 1")

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> SentinelHubSource:
        """A source with the credentials of :class:`mrv.settings.Settings` (``MRV_SH_*``)."""
        return cls(settings.sh_client_id, settings.sh_client_secret, **options)

    def config(self) -> Any:
        """A ``sentinelhub.SHConfig`` for this source (never reads ~/.config/sentinelhub)."""
        from sentinelhub.config import SHConfig

        return SHConfig(
            use_defaults=True,
            sh_client_id=self.client_id,
            sh_client_secret=self.client_secret,
            sh_base_url=self.base_url,
            sh_token_url=self.token_url,
            max_download_attempts=self.max_download_attempts,
            download_sleep_time=self.download_sleep_time,
            max_retries=self.max_rate_limit_retries,
        )

    def collection(self) -> Any:
        """Sentinel-2 L2A bound to this service's URL (the built-in collection pins
        services.sentinel-hub.com, which would send CDSE tokens to the wrong host)."""
        from sentinelhub.data_collections import DataCollection

        assert self.base_url is not None
        builtin = DataCollection.SENTINEL2_L2A
        if (builtin.service_url or "").rstrip("/") == self.base_url:
            return builtin
        digest = hashlib.sha1(self.base_url.encode(), usedforsecurity=False).hexdigest()[:12]
        return DataCollection.SENTINEL2_L2A.define_from(
            f"MRV_S2L2A_{digest}", service_url=self.base_url
        )

    def search_dates(
        self, bbox_wgs84: tuple[float, float, float, float], start: pd.Timestamp, end: pd.Timestamp
    ) -> list[pd.Timestamp]:
        """Distinct UTC acquisition days over ``bbox_wgs84`` between ``start`` and ``end``."""
        from sentinelhub.api.catalog import SentinelHubCatalog
        from sentinelhub.constants import CRS
        from sentinelhub.geometry import BBox

        catalog = SentinelHubCatalog(config=self.config())
        cql = f"eo:cloud_cover <= {self.max_cloud_cover:g}" if self.max_cloud_cover < 100 else None
        with _service_errors("catalog search", self):
            features = list(
                catalog.search(
                    self.collection(),
                    bbox=BBox(bbox_wgs84, crs=CRS.WGS84),
                    time=(start.floor("s").to_pydatetime(), end.floor("s").to_pydatetime()),
                    filter=cql,
                    fields={"include": ["id", "properties.datetime"], "exclude": []},
                )
            )
        days = set()
        for feature in features:
            stamp = pd.Timestamp(feature["properties"]["datetime"])
            stamp = stamp.tz_convert(None) if stamp.tzinfo else stamp
            days.add(stamp.normalize())
        return sorted(days)

    def fetch(
        self,
        day: str,
        bounds: tuple[float, float, float, float],
        epsg: int,
        size: tuple[int, int],
        bands: tuple[str, ...],
    ) -> npt.NDArray[np.float32]:
        """One Process API request: ``(height, width, len(bands) + 1)`` float32, SCL last."""
        from sentinelhub.api.process import SentinelHubRequest
        from sentinelhub.constants import CRS, MimeType, MosaickingOrder
        from sentinelhub.geometry import BBox

        start = pd.Timestamp(day)
        request = SentinelHubRequest(
            evalscript=evalscript(bands),
            input_data=[
                SentinelHubRequest.input_data(
                    data_collection=self.collection(),
                    time_interval=(
                        start.to_pydatetime(),
                        (start + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)).to_pydatetime(),
                    ),
                    maxcc=self.max_cloud_cover / 100.0,
                    mosaicking_order=MosaickingOrder(self.mosaicking),
                )
            ],
            responses=[SentinelHubRequest.output_response("default", MimeType.TIFF)],
            bbox=BBox(bounds, crs=CRS(epsg)),
            size=size,
            config=self.config(),
        )
        with _service_errors(f"the {day} image", self):
            data = request.get_data(max_threads=1)
        array = np.asarray(data[0] if data else None, dtype=np.float32)
        expected = (size[1], size[0], len(bands) + 1)
        if array.shape != expected:
            raise MRVError(
                f"Sentinel Hub returned an image of shape {array.shape} for {day}, "
                f"expected {expected}"
            )
        return array


def evalscript(bands: Sequence[str]) -> str:
    """Evalscript returning float32 reflectance of ``bands`` then SCL; NaN/0 where no data."""
    names = ", ".join(f'"{b}"' for b in bands)
    units = ", ".join('"REFLECTANCE"' for _ in bands)
    values = ", ".join(f"s.{b}" for b in bands)
    nans = ", ".join("NaN" for _ in bands)
    return f"""//VERSION=3
function setup() {{
  return {{
    input: [{{bands: [{names}, "SCL", "dataMask"], units: [{units}, "DN", "DN"]}}],
    output: {{bands: {len(bands) + 1}, sampleType: "FLOAT32"}}
  }};
}}
function evaluatePixel(s) {{
  if (s.dataMask === 0) {{ return [{nans}, 0]; }}
  return [{values}, s.SCL];
}}
"""


@contextmanager
def _service_errors(what: str, source: SentinelHubSource) -> Iterator[None]:
    """Translate ``sentinelhub``/HTTP failures into project errors."""
    import requests
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error
    from sentinelhub.exceptions import DownloadFailedException, OutOfRequestsException

    credentials = (
        f"Sentinel Hub ({source.service}, {source.base_url}) rejected the credentials for {what}"
        f"; check the client id/secret ({ENV_CLIENT_ID}/{ENV_CLIENT_SECRET})"
    )
    try:
        yield
    except OAuth2Error as exc:
        raise InputError(f"{credentials}: {exc.description or exc.error}") from exc
    except OutOfRequestsException as exc:
        raise MRVError(
            f"Sentinel Hub kept answering 429 (rate limited) for {what} after "
            f"{source.max_rate_limit_retries} attempts; try again later"
        ) from exc
    except DownloadFailedException as exc:
        response = getattr(exc.request_exception, "response", None)
        status = getattr(response, "status_code", None)
        if status in (401, 403):
            raise InputError(f"{credentials} (HTTP {status})") from exc
        if status is not None and status >= 500:
            raise MRVError(
                f"Sentinel Hub service error (HTTP {status}) for {what} after "
                f"{source.max_download_attempts} attempts"
            ) from exc
        raise MRVError(f"Sentinel Hub request for {what} failed: {exc}") from exc
    except requests.RequestException as exc:
        raise MRVError(f"Sentinel Hub request for {what} failed: {exc}") from exc


def _reflectance_of(raw: npt.NDArray[np.float32], nbands: int) -> npt.NDArray[np.float32]:
    return np.ascontiguousarray(np.moveaxis(raw[..., :nbands], -1, 0)[np.newaxis], np.float32)


def _scl_of(raw: npt.NDArray[np.float32], nbands: int) -> npt.NDArray[np.uint8]:
    scl = np.nan_to_num(raw[..., nbands], nan=0.0)
    return np.clip(np.rint(scl), 0, 255).astype(np.uint8)[np.newaxis]


def load_sentinelhub(
    source: SentinelHubSource,
    *,
    bands: tuple[str, ...],
    aoi: Any,
    time: tuple[pd.Timestamp, pd.Timestamp] | None,
    resolution: float,
    crs: str | None,
    chunks: int,
    cloud_mask: Path | None = None,
) -> xr.Dataset:
    """Scene cube from Sentinel Hub (see the module docstring)."""
    if aoi is None or time is None:
        raise InputError("Sentinel Hub needs an aoi and a time window")
    aoi_wgs84 = check_aoi(aoi)
    centre = ((aoi_wgs84[0] + aoi_wgs84[2]) / 2, (aoi_wgs84[1] + aoi_wgs84[3]) / 2)
    target = crs_string(crs) if crs is not None else utm_crs(*centre)
    check_projected(target)
    if not target.startswith("EPSG:"):
        raise InputError(f"Sentinel Hub needs an EPSG CRS, got {target}")
    grid = snap_grid(to_crs(aoi_wgs84, "EPSG:4326", target), target, resolution)
    days = source.search_dates(aoi_wgs84, *time)
    if not days:
        raise InputError(
            f"Sentinel Hub ({source.service}) has no Sentinel-2 L2A scene with cloud cover "
            f"<= {source.max_cloud_cover:g} % over lon {aoi_wgs84[0]:.4f}–{aoi_wgs84[2]:.4f}, "
            f"lat {aoi_wgs84[1]:.4f}–{aoi_wgs84[3]:.4f} between {time[0]} and {time[1]}"
        )
    block = min(chunks, MAX_REQUEST_PX)
    refl, scl = _graphs(source, days, grid, block, bands)
    probability = None
    if cloud_mask is not None:
        from pipelines.satellite.sources._cloudmask import load_cloud_mask

        probability = load_cloud_mask(cloud_mask, days, grid, block)
    return assemble_cube(
        refl,
        times=days,
        bands=bands,
        grid=grid,
        product_level="L2A",
        source=f"sentinelhub:{source.base_url}",
        scl=scl,
        cloud_probability=probability,
    )


def _graphs(
    source: SentinelHubSource,
    days: Sequence[pd.Timestamp],
    grid: Grid,
    block: int,
    bands: tuple[str, ...],
) -> tuple[da.Array, da.Array]:
    """Dask arrays of reflectance and SCL sharing one download task per date and block."""
    rows, cols = block_starts(grid.height, block), block_starts(grid.width, block)
    epsg = int(grid.crs.split(":", 1)[1])
    a, _, c, _, e, f = grid.transform
    token = tokenize(source, [str(d) for d in days], grid, block, bands)
    raw = f"sentinelhub-fetch-{token}"
    refl_name = f"sentinelhub-reflectance-{token}"
    scl_name = f"sentinelhub-scl-{token}"
    fetches: dict[Any, Any] = {}
    refl_dsk: dict[Any, Any] = {}
    scl_dsk: dict[Any, Any] = {}
    for t, day in enumerate(days):
        for i, (r0, h) in enumerate(rows):
            for j, (c0, w) in enumerate(cols):
                left, top = c + a * c0, f + e * r0
                bounds = (left, top + e * h, left + a * w, top)
                key = (raw, t, i, j)
                fetches[key] = (_fetch, source, str(day.date()), bounds, epsg, (w, h), bands)
                refl_dsk[(refl_name, t, 0, i, j)] = (_reflectance_of, key, len(bands))
                scl_dsk[(scl_name, t, i, j)] = (_scl_of, key, len(bands))
    heights = tuple(h for _, h in rows)
    widths = tuple(w for _, w in cols)
    refl_graph = HighLevelGraph({raw: fetches, refl_name: refl_dsk}, {raw: set(), refl_name: {raw}})
    scl_graph = HighLevelGraph({raw: fetches, scl_name: scl_dsk}, {raw: set(), scl_name: {raw}})
    refl = da.Array(
        refl_graph, refl_name, chunks=((1,) * len(days), (len(bands),), heights, widths),
        dtype=np.float32, meta=np.empty((0, 0, 0, 0), np.float32),
    )  # fmt: skip
    scl = da.Array(
        scl_graph, scl_name, chunks=((1,) * len(days), heights, widths),
        dtype=np.uint8, meta=np.empty((0, 0, 0), np.uint8),
    )  # fmt: skip
    return refl, scl


def _fetch(
    source: SentinelHubSource,
    day: str,
    bounds: tuple[float, float, float, float],
    epsg: int,
    size: tuple[int, int],
    bands: tuple[str, ...],
) -> npt.NDArray[np.float32]:
    return source.fetch(day, bounds, epsg, size, bands)
