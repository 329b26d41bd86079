"""STAC catalog / ItemCollection → scene cube through pystac + odc-stac.

A tiny catalog is built in tmp_path: two dates of 60 × 60 px 10 m (and 30 × 30 px 20 m) GeoTIFF
assets near Anji, with Earth Search-style keys and raster:bands scale/offset, or plain band keys
with an ``s2:processing_baseline`` property. Expected reflectance is computed by hand.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import dask
import numpy as np
import pandas as pd
import pystac
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from shapely.geometry import box, mapping

from mrv.errors import InputError
from pipelines.satellite.cube import check_cube
from pipelines.satellite.sources import NoCloudMaskWarning, ScalingAssumptionWarning, load_scenes

# odc-geo 0.5.3 multiplies affine.Affine with `*` inside its load tasks (affine 3 deprecates it)
pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")

EPSG = 32650
X0, Y0 = 756_000.0, 3_393_000.0
TO_LONLAT = Transformer.from_crs(f"EPSG:{EPSG}", "EPSG:4326", always_xy=True)
EARTH_SEARCH = {
    "B02": "blue",
    "B04": "red",
    "B08": "nir",
    "B05": "rededge1",
    "B11": "swir16",
    "SCL": "scl",
}
RES = {"B02": 10, "B04": 10, "B08": 10, "B05": 20, "B11": 20, "SCL": 20}


def dn(band: str, k: int) -> np.ndarray:
    res = RES[band]
    n = 600 // res
    r, c = np.mgrid[0:n, 0:n]
    if band == "SCL":
        return ((r + 2 * c + k) % 11 + 1).astype(np.uint8)
    b = int(band[1:3])
    if res == 10:
        out = 1500 + 100 * b + 7 * r + c + 50 * k
        out[2, 2] = 0
    else:
        out = 2000 + 100 * b + 3 * r + 20 * c + 50 * k
    return out.astype(np.uint16)


def expected_dn(band: str, k: int) -> np.ndarray:
    r, c = np.mgrid[0:60, 0:60].astype(np.float64)
    b = int(band[1:3])
    if RES[band] == 10:
        out = 1500 + 100 * b + 7 * r + c + 50 * k
        out[2, 2] = np.nan
        return out
    u, v = (c + 0.5) / 2 - 0.5, (r + 0.5) / 2 - 0.5
    return 2000 + 100 * b + 3 * v + 20 * u + 50 * k


INTERIOR = (slice(4, -4), slice(4, -4))


def write_tif(path: Path, data: np.ndarray, res: int, *, x0: float = X0, y0: float = Y0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
        dtype=data.dtype.name, crs=f"EPSG:{EPSG}", transform=Affine(res, 0, x0, 0, -res, y0),
        nodata=0, tiled=True, blockxsize=16, blockysize=16, compress="deflate",
    ) as dst:  # fmt: skip
        dst.write(data, 1)


def make_item(
    folder: Path,
    item_id: str,
    when: str,
    k: int,
    *,
    bands: Sequence[str] = ("B02", "B04", "B05", "SCL"),
    keys: dict[str, str] | None = None,
    scale_offset: tuple[float, float] | None = None,
    properties: dict[str, object] | None = None,
    relative: bool = False,
) -> pystac.Item:
    lon0, lat0 = TO_LONLAT.transform(X0, Y0 - 600)
    lon1, lat1 = TO_LONLAT.transform(X0 + 600, Y0)
    footprint = box(lon0, lat0, lon1, lat1)
    item = pystac.Item(
        item_id, mapping(footprint), list(footprint.bounds), pd.Timestamp(when).to_pydatetime(),
        properties=dict(properties or {}),
    )  # fmt: skip
    for band in bands:
        res = RES[band]
        path = folder / item_id / f"{band}.tif"
        write_tif(path, dn(band, k), res)
        raster: dict[str, object] = {
            "nodata": 0,
            "data_type": "uint8" if band == "SCL" else "uint16",
        }
        if scale_offset is not None and band != "SCL":
            raster.update(scale=scale_offset[0], offset=scale_offset[1])
        key = (keys or {}).get(band, band)
        href = f"{item_id}/{band}.tif" if relative else str(path)
        item.add_asset(
            key,
            pystac.Asset(
                href, media_type=pystac.MediaType.GEOTIFF, roles=["data"],
                extra_fields={
                    "proj:code": f"EPSG:{EPSG}", "proj:shape": [600 // res] * 2,
                    "proj:transform": [res, 0, X0, 0, -res, Y0], "raster:bands": [raster],
                },
            ),
        )  # fmt: skip
    return item


def earth_search_catalog(root: Path) -> Path:
    """A catalog (catalog.json → items) with Earth Search keys and raster:bands scale/offset:
    the 2021 item before baseline 04.00 (offset 0), the 2023 item after (offset −0.1)."""
    catalog = pystac.Catalog("s2", "test catalog")
    catalog.add_item(
        make_item(
            root,
            "S2A_50RQU_20210615_0_L2A",
            "2021-06-15T02:45:00Z",
            0,
            keys=EARTH_SEARCH,
            scale_offset=(0.0001, 0.0),
        )
    )
    catalog.add_item(
        make_item(
            root,
            "S2B_50RQU_20230615_0_L2A",
            "2023-06-15T02:45:00Z",
            1,
            keys=EARTH_SEARCH,
            scale_offset=(0.0001, -0.1),
        )
    )
    catalog.normalize_hrefs(str(root / "stac"))
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return root / "stac" / "catalog.json"


def item_collection(root: Path, items: Sequence[pystac.Item]) -> Path:
    path = root / "items.json"
    path.write_text(json.dumps(pystac.ItemCollection(items).to_dict(transform_hrefs=False)))
    return path


def _no_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("computed while building")


def test_catalog_with_earth_search_keys_and_raster_scale_offset(tmp_path: Path) -> None:
    href = earth_search_catalog(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with dask.config.set(scheduler=_no_compute):
            cube = load_scenes(href, bands=["B04", "B05", "B02"], chunks=32)
    check_cube(cube, bands=["B04", "B05", "B02"])
    assert cube.attrs["crs"] == f"EPSG:{EPSG}" and cube.attrs["product_level"] == "L2A"
    assert cube.attrs["transform"] == [10.0, 0.0, X0, 0.0, -10.0, Y0]
    assert cube.reflectance.chunks == ((1, 1), (3,), (32, 28), (32, 28))
    assert [str(t)[:10] for t in cube.time.values] == ["2021-06-15", "2023-06-15"]
    values = cube.reflectance.values
    assert values.dtype == np.float32
    for k, offset in ((0, 0.0), (1, -0.1)):
        np.testing.assert_allclose(
            values[k, 0], expected_dn("B04", k) * 1e-4 + offset, rtol=1e-5, equal_nan=True
        )
        np.testing.assert_allclose(
            values[k, 2], expected_dn("B02", k) * 1e-4 + offset, rtol=1e-5, equal_nan=True
        )
        np.testing.assert_allclose(
            values[k, 1][INTERIOR], (expected_dn("B05", k) * 1e-4 + offset)[INTERIOR], rtol=1e-5
        )
        scl = cube.scl.values[k]
        assert scl.dtype == np.uint8
        np.testing.assert_array_equal(scl, np.repeat(np.repeat(dn("SCL", k), 2, 0), 2, 1))
    # by hand: B04 of 2023, row 10, col 20: DN 1500 + 400 + 70 + 20 + 50 = 2040 → 0.1040
    assert values[1, 0, 10, 20] == pytest.approx(0.104, rel=1e-5)


def test_item_collection_with_relative_hrefs_and_baseline_property(tmp_path: Path) -> None:
    items = [
        make_item(tmp_path, "a", "2021-06-15T02:45:00Z", 0, relative=True,
                  properties={"s2:processing_baseline": "05.00"}),  # reprocessed: offset
        make_item(tmp_path, "b", "2023-06-15T02:45:00Z", 1, relative=True,
                  properties={"s2:processing_baseline": "03.01"}),  # (not real; no offset)
    ]  # fmt: skip
    cube = load_scenes(item_collection(tmp_path, items), bands=["B04"])
    values = cube.reflectance.values[:, 0]
    np.testing.assert_allclose(
        values[0], (expected_dn("B04", 0) - 1000) / 1e4, rtol=1e-5, equal_nan=True
    )
    np.testing.assert_allclose(values[1], expected_dn("B04", 1) / 1e4, rtol=1e-5, equal_nan=True)


def test_date_rule_and_argument_when_items_say_nothing(tmp_path: Path) -> None:
    items = [make_item(tmp_path, "a", "2023-06-15T02:45:00Z", 1)]
    href = item_collection(tmp_path, items)
    with pytest.warns(ScalingAssumptionWarning, match="2023-06-15"):
        cube = load_scenes(href, bands=["B04"])
    np.testing.assert_allclose(
        cube.reflectance.values[0, 0],
        (expected_dn("B04", 1) - 1000) / 1e4,
        rtol=1e-5,
        equal_nan=True,
    )
    cube = load_scenes(href, bands=["B04"], processing_baseline="02.14")
    np.testing.assert_allclose(
        cube.reflectance.values[0, 0], expected_dn("B04", 1) / 1e4, rtol=1e-5, equal_nan=True
    )


def test_same_day_tiles_with_different_scaling_are_not_mixed(tmp_path: Path) -> None:
    items = [
        make_item(tmp_path, "a", "2023-06-15T02:45:00Z", 0, scale_offset=(0.0001, -0.1)),
        make_item(tmp_path, "b", "2023-06-15T02:45:10Z", 1, scale_offset=(0.0001, 0.0)),
    ]
    cube = load_scenes(item_collection(tmp_path, items), bands=["B04"])
    assert cube.sizes["time"] == 2
    assert pd.DatetimeIndex(cube.time.values).is_monotonic_increasing
    values = cube.reflectance.values[:, 0]
    np.testing.assert_allclose(
        values[0], expected_dn("B04", 0) * 1e-4 - 0.1, rtol=1e-5, equal_nan=True
    )
    np.testing.assert_allclose(values[1], expected_dn("B04", 1) * 1e-4, rtol=1e-5, equal_nan=True)


def test_aoi_clip_and_aoi_outside(tmp_path: Path) -> None:
    href = earth_search_catalog(tmp_path)
    lon0, lat0 = TO_LONLAT.transform(X0 + 105, Y0 - 395)
    lon1, lat1 = TO_LONLAT.transform(X0 + 295, Y0 - 205)
    cube = load_scenes(
        href, bands=["B04"], aoi=box(lon0, lat0, lon1, lat1), time=("2023-01-01", "2023-12-31")
    )
    assert cube.sizes["time"] == 1
    left, top = cube.attrs["transform"][2], cube.attrs["transform"][5]
    col, row = int((left - X0) / 10), int((Y0 - top) / 10)
    assert 9 <= col <= 11 and 19 <= row <= 21
    expected = (expected_dn("B04", 1) * 1e-4 - 0.1)[
        row : row + cube.sizes["y"], col : col + cube.sizes["x"]
    ]
    np.testing.assert_allclose(cube.reflectance.values[0, 0], expected, rtol=1e-5)
    with pytest.raises(
        InputError, match=r"AOI \(lon 121\.0000–121\.1000.*outside the scenes \(lon 119\."
    ):
        load_scenes(href, bands=["B04"], aoi=box(121.0, 30.0, 121.1, 30.1))


def test_missing_asset_and_missing_file_name_the_item(tmp_path: Path) -> None:
    items = [
        make_item(tmp_path, "a", "2023-06-05T02:45:00Z", 0),
        make_item(tmp_path, "b", "2023-06-15T02:45:00Z", 1, bands=("B02", "B04", "SCL")),
    ]
    href = item_collection(tmp_path, items)
    with pytest.raises(InputError) as err:
        load_scenes(href, bands=["B04", "B05"], processing_baseline="04.00")
    assert [p.reason for p in err.value.problems] == ["item b: no asset for band B05"]
    (tmp_path / "a" / "B04.tif").unlink()
    with pytest.raises(InputError) as err:
        load_scenes(href, bands=["B04"], processing_baseline="04.00")
    assert "item a, band B04" in str(err.value) and str(tmp_path / "a" / "B04.tif") in str(
        err.value
    )


def test_l1c_items_without_scl_warn(tmp_path: Path) -> None:
    properties = {"s2:product_type": "S2MSI1C", "s2:processing_baseline": "04.00"}
    items = [
        make_item(tmp_path, "L1C", "2023-06-15T02:45:00Z", 0, bands=("B04",), properties=properties)
    ]
    with pytest.warns(NoCloudMaskWarning):
        cube = load_scenes(item_collection(tmp_path, items), bands=["B04"])
    assert cube.attrs["product_level"] == "L1C" and "scl" not in cube


def test_not_stac(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"type": "Something"}')
    with pytest.raises(InputError, match="not a STAC"):
        load_scenes(bad)
    bad.write_text("{not json")
    with pytest.raises(InputError, match="cannot read STAC"):
        load_scenes(bad)
