"""Sentinel Hub / CDSE source with HTTP mocked by ``responses``: token, paged Catalog search,
Process API returning GeoTIFF bytes built from the request, and the error paths (401, 429, 5xx).

The mocked Process API answers with reflectance that is a known function of the pixel-centre
coordinates of the requested bbox, so the assembled cube can be checked pixel by pixel (tiling,
orientation, band order, SCL).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import dask
import numpy as np
import pytest
import responses
import tifffile
from pyproj import Transformer
from sentinelhub.download.sentinelhub_client import SentinelHubDownloadClient
from sentinelhub.exceptions import SHRateLimitWarning
from shapely.geometry import box

from mrv.errors import InputError, MRVError
from mrv.settings import Settings
from pipelines.satellite.cube import check_cube
from pipelines.satellite.sources import SentinelHubSource, load_scenes
from pipelines.satellite.sources.sentinelhub import ENV_CLIENT_ID, ENV_CLIENT_SECRET, SERVICES

BANDS = ("B04", "B08", "B11")
TO_LONLAT = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
X0, Y0 = 756_000.0, 3_393_000.0
# an AOI of about 310 m × 250 m inside the pixel grid (edges off the 10 m lines)
LON0, LAT0 = TO_LONLAT.transform(X0 + 3, Y0 - 247)
LON1, LAT1 = TO_LONLAT.transform(X0 + 307, Y0 - 4)
AOI = box(LON0, LAT0, LON1, LAT1)
TIME = ("2024-04-01", "2024-04-30")


def reflectance_at(x: np.ndarray, y: np.ndarray, band: int, day: int) -> np.ndarray:
    """What the fake service returns for pixel centres (x, y) in EPSG:32650."""
    return (0.05 * (band + 1) + (x - X0) / 1e5 + (Y0 - y) / 1e6 + 0.001 * day).astype(np.float32)


def scl_at(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return ((np.floor((x - X0) / 10) + np.floor((Y0 - y) / 10)) % 11 + 1).astype(np.float32)


def process_callback(request: Any) -> tuple[int, dict[str, str], bytes]:
    body = json.loads(request.body)
    bounds = body["input"]["bounds"]
    assert bounds["properties"]["crs"].endswith("/EPSG/0/32650")
    minx, miny, maxx, maxy = bounds["bbox"]
    width, height = body["output"]["width"], body["output"]["height"]
    assert (maxx - minx) == pytest.approx(10 * width) and (maxy - miny) == pytest.approx(
        10 * height
    )
    day = int(body["input"]["data"][0]["dataFilter"]["timeRange"]["from"][8:10])
    x = minx + 10 * (np.arange(width) + 0.5)
    y = maxy - 10 * (np.arange(height) + 0.5)
    xx, yy = np.meshgrid(x, y)
    layers = [reflectance_at(xx, yy, b, day) for b in range(len(BANDS))] + [scl_at(xx, yy)]
    image = np.stack(layers, axis=-1)
    image[0, 0, :-1] = np.nan  # the service's no-data pixel of every tile
    image[0, 0, -1] = 0
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, image, photometric="minisblack", planarconfig="contig")
    return 200, {"Content-Type": "image/tiff"}, buffer.getvalue()


def catalog_callback(request: Any) -> tuple[int, dict[str, str], str]:
    body = json.loads(request.body)
    if body.get("next") is None:
        features = [
            {"id": "a", "properties": {"datetime": "2024-04-05T02:55:01Z"}},
            {"id": "b", "properties": {"datetime": "2024-04-05T02:55:09Z"}},  # same day, 2nd tile
            {"id": "c", "properties": {"datetime": "2024-04-10T02:55:01Z"}},
        ]
        context = {"limit": 100, "returned": 3, "next": 3}
    else:
        features = [{"id": "d", "properties": {"datetime": "2024-04-20T02:55:01Z"}}]
        context = {"limit": 100, "returned": 1}
    return (
        200,
        {},
        json.dumps({"type": "FeatureCollection", "features": features, "context": context}),
    )


TOKEN = {"access_token": "x", "expires_in": 3600, "token_type": "Bearer"}


@pytest.fixture(autouse=True)
def _fresh_sessions() -> Iterator[None]:
    SentinelHubDownloadClient.clear_cache()
    yield
    SentinelHubDownloadClient.clear_cache()


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def mock_service(rsps: responses.RequestsMock, service: str) -> None:
    base, token = SERVICES[service]
    rsps.post(token, json=TOKEN)
    rsps.add_callback(
        responses.POST, f"{base}/api/v1/catalog/1.0.0/search", callback=catalog_callback
    )
    rsps.add_callback(responses.POST, f"{base}/api/v1/process", callback=process_callback)


def source(service: str = "cdse", **kwargs: Any) -> SentinelHubSource:
    options: dict[str, Any] = {"max_download_attempts": 2, "download_sleep_time": 0.0, **kwargs}
    return SentinelHubSource("id", "secret", service=service, **options)


def _no_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("computed while building")


@pytest.mark.parametrize("service", ["cdse", "sentinel-hub"])
def test_catalog_pages_and_tiled_process_requests_build_the_cube(
    mocked: responses.RequestsMock, service: str
) -> None:
    mock_service(mocked, service)
    with dask.config.set(scheduler=_no_compute):
        cube = load_scenes(
            source(service, max_cloud_cover=30), bands=BANDS, aoi=AOI, time=TIME, chunks=16
        )
    check_cube(cube, bands=BANDS)
    base, token_url = SERVICES[service]
    # building: one token, two catalog pages, no pixels yet
    urls = [c.request.url for c in mocked.calls]
    assert urls == [
        token_url,
        f"{base}/api/v1/catalog/1.0.0/search",
        f"{base}/api/v1/catalog/1.0.0/search",
    ]
    first, second = (json.loads(c.request.body) for c in mocked.calls[1:3])
    assert (
        first["collections"] == ["sentinel-2-l2a"] and "next" not in first and second["next"] == 3
    )
    assert first["filter"] == "eo:cloud_cover <= 30" and first["bbox"][0] == pytest.approx(
        LON0, abs=1e-3
    )
    assert first["datetime"].startswith("2024-04-01T00:00:00") and first["datetime"].endswith(
        "2024-04-30T23:59:59Z"
    )

    assert [str(t)[:10] for t in cube.time.values] == ["2024-04-05", "2024-04-10", "2024-04-20"]
    assert cube.attrs["crs"] == "EPSG:32650" and cube.attrs["product_level"] == "L2A"
    # the AOI's UTM bounding box (its lon/lat box, slightly rotated) snapped out to 10 m
    a, _, left, _, e, top = cube.attrs["transform"]
    assert (a, e) == (10.0, -10.0) and left % 10 == 0 and top % 10 == 0
    assert X0 - 20 <= left <= X0 and Y0 <= top <= Y0 + 20
    nx, ny = cube.sizes["x"], cube.sizes["y"]
    assert 31 <= nx <= 34 and 25 <= ny <= 28
    ychunks = tuple(min(16, ny - s) for s in range(0, ny, 16))
    xchunks = tuple(min(16, nx - s) for s in range(0, nx, 16))
    assert cube.reflectance.chunks == ((1, 1, 1), (3,), ychunks, xchunks)

    values, scl = dask.compute(cube.reflectance, cube.scl, scheduler="synchronous")
    process = [c for c in mocked.calls if c.request.url.endswith("/api/v1/process")]
    assert len(process) == 3 * len(ychunks) * len(xchunks)  # dates × tiles, once for both arrays
    body = json.loads(process[0].request.body)
    data = body["input"]["data"][0]
    assert data["type"] == "sentinel-2-l2a" and data["dataFilter"]["maxCloudCoverage"] == 30
    assert data["dataFilter"]["mosaickingOrder"] == "leastCC"
    ranges = {
        (r["from"], r["to"])
        for r in (
            json.loads(c.request.body)["input"]["data"][0]["dataFilter"]["timeRange"]
            for c in process
        )
    }
    assert ranges == {
        (f"2024-04-{d}T00:00:00Z", f"2024-04-{d}T23:59:59Z") for d in ("05", "10", "20")
    }
    assert '"B04", "B08", "B11", "SCL", "dataMask"' in body["evalscript"]
    assert process[0].request.headers["Authorization"] == "Bearer x"
    assert sum(c.request.url == token_url for c in mocked.calls) == 1

    xx, yy = np.meshgrid(cube.x.values, cube.y.values)
    for t, day in enumerate((5, 10, 20)):
        for b in range(3):
            expected = reflectance_at(xx, yy, b, day)
            expected[::16, ::16] = np.nan  # each tile's first pixel is the service's no-data pixel
            np.testing.assert_allclose(values.values[t, b], expected, rtol=1e-6, equal_nan=True)
        expected_scl = scl_at(xx, yy).astype(np.uint8)
        expected_scl[::16, ::16] = 0
        np.testing.assert_array_equal(scl.values[t], expected_scl)
    assert scl.dtype == np.uint8


def test_credentials_from_the_environment_when_constructed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_CLIENT_ID, raising=False)
    monkeypatch.delenv(ENV_CLIENT_SECRET, raising=False)
    with pytest.raises(InputError, match="MRV_SH_CLIENT_ID"):
        SentinelHubSource()
    monkeypatch.setenv(ENV_CLIENT_ID, "env-id")
    monkeypatch.setenv(ENV_CLIENT_SECRET, "env-secret")
    found = SentinelHubSource(service="cdse")
    assert found.client_id == "env-id" and found.client_secret == "env-secret"
    assert "env-secret" not in repr(found)
    assert found.base_url == "https://sh.dataspace.copernicus.eu"
    assert SentinelHubSource("arg-id", "arg-secret").client_id == "arg-id"


def test_credentials_from_settings() -> None:
    settings = Settings(_env_file=None, sh_client_id="s-id", sh_client_secret="s-secret")  # type: ignore[call-arg]
    found = SentinelHubSource.from_settings(settings, service="cdse", max_cloud_cover=20)
    assert (found.client_id, found.client_secret, found.max_cloud_cover) == ("s-id", "s-secret", 20)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"service": "planet"}, "service must be one of"),
        ({"max_cloud_cover": 150}, "percentage"),
        ({"mosaicking": "best"}, "mosaicking must be one of"),
    ],
)
def test_bad_source_options(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        SentinelHubSource("id", "secret", **kwargs)


def test_aoi_and_time_are_required() -> None:
    with pytest.raises(InputError, match="needs an aoi and a time window"):
        load_scenes(source(), aoi=AOI)


def test_401_from_the_token_endpoint_is_a_credentials_error(mocked: responses.RequestsMock) -> None:
    mocked.post(
        SERVICES["cdse"][1],
        status=401,
        json={"error": "unauthorized_client", "error_description": "Invalid client secret"},
    )
    with pytest.raises(InputError, match=r"rejected the credentials.*Invalid client secret"):
        load_scenes(source(), bands=BANDS, aoi=AOI, time=TIME)


def test_401_from_the_process_api_at_compute(mocked: responses.RequestsMock) -> None:
    base, token = SERVICES["cdse"]
    mocked.post(token, json=TOKEN)
    mocked.add_callback(
        responses.POST, f"{base}/api/v1/catalog/1.0.0/search", callback=catalog_callback
    )
    mocked.post(f"{base}/api/v1/process", status=401, json={"error": {"message": "token expired"}})
    cube = load_scenes(source(), bands=BANDS, aoi=AOI, time=TIME)
    with pytest.raises(
        InputError, match=r"rejected the credentials for the 2024-04-\d\d image.*\(HTTP 401\)"
    ):
        cube.reflectance.compute(scheduler="synchronous")


class FakeClock:
    """Replaces ``time`` in sentinelhub's download modules: sleeping advances the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    for module in ("sentinelhub_client", "rate_limit", "handlers"):
        monkeypatch.setattr(f"sentinelhub.download.{module}.time", fake)
    return fake


def test_429_is_waited_out_and_retried(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    base, token = SERVICES["cdse"]
    mocked.post(token, json=TOKEN)
    mocked.add_callback(
        responses.POST, f"{base}/api/v1/catalog/1.0.0/search", callback=catalog_callback
    )
    process = f"{base}/api/v1/process"
    mocked.post(process, status=429, headers={"Retry-After": "2500"})  # milliseconds
    mocked.add_callback(responses.POST, process, callback=process_callback)
    cube = load_scenes(source(), bands=BANDS, aoi=AOI, time=TIME, chunks=512)
    with pytest.warns(SHRateLimitWarning):
        values = cube.reflectance.isel(time=0).compute(scheduler="synchronous").values
    assert [c.response.status_code for c in mocked.calls if c.request.url == process] == [429, 200]
    assert sum(clock.slept) >= 2.5  # waited for Retry-After before the second attempt
    assert np.isfinite(values).sum() == 3 * (cube.sizes["x"] * cube.sizes["y"] - 1)


def test_persistent_429_gives_up(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    base, token = SERVICES["cdse"]
    mocked.post(token, json=TOKEN)
    mocked.add_callback(
        responses.POST, f"{base}/api/v1/catalog/1.0.0/search", callback=catalog_callback
    )
    mocked.post(f"{base}/api/v1/process", status=429, headers={"Retry-After": "100"})
    cube = load_scenes(
        source(max_rate_limit_retries=3), bands=BANDS, aoi=AOI, time=TIME, chunks=512
    )
    with pytest.warns(SHRateLimitWarning), pytest.raises(MRVError, match="kept answering 429"):
        cube.reflectance.isel(time=0).compute(scheduler="synchronous")


def test_5xx_is_retried_then_a_clear_error(
    mocked: responses.RequestsMock, clock: FakeClock
) -> None:
    base, token = SERVICES["cdse"]
    mocked.post(token, json=TOKEN)
    mocked.add_callback(
        responses.POST, f"{base}/api/v1/catalog/1.0.0/search", callback=catalog_callback
    )
    mocked.post(f"{base}/api/v1/process", status=503, body="unavailable")
    cube = load_scenes(source(max_download_attempts=3), bands=BANDS, aoi=AOI, time=TIME, chunks=512)
    with pytest.raises(
        MRVError, match=r"service error \(HTTP 503\) for the 2024-04-05 image after 3 attempts"
    ):
        cube.reflectance.isel(time=0).compute(scheduler="synchronous")
    assert sum(c.request.url.endswith("/process") for c in mocked.calls) == 3


def test_5xx_from_the_catalog(mocked: responses.RequestsMock, clock: FakeClock) -> None:
    base, token = SERVICES["cdse"]
    mocked.post(token, json=TOKEN)
    mocked.post(f"{base}/api/v1/catalog/1.0.0/search", status=500)
    with pytest.raises(MRVError, match=r"HTTP 500\) for catalog search after 2 attempts"):
        load_scenes(source(), bands=BANDS, aoi=AOI, time=TIME)


def test_no_scene_in_the_period(mocked: responses.RequestsMock) -> None:
    base, token = SERVICES["cdse"]
    mocked.post(token, json=TOKEN)
    mocked.post(
        f"{base}/api/v1/catalog/1.0.0/search",
        json={
            "type": "FeatureCollection",
            "features": [],
            "context": {"limit": 100, "returned": 0},
        },
    )
    with pytest.raises(InputError, match="no Sentinel-2 L2A scene"):
        load_scenes(source(), bands=BANDS, aoi=AOI, time=TIME)
