"""Local Sentinel-2 files → scene cube: layouts, DN → reflectance, resampling, laziness, bad input.

The synthetic scenes are 600 m × 600 m near Anji (EPSG:32650): 10 m bands 60 × 60 px, 20 m
bands 30 × 30 px, 60 m bands 10 × 10 px. Digital numbers are linear ramps, so the expected
reflectance of every pixel — including bilinear 20 m → 10 m resampling, which reproduces a
linear ramp exactly away from the edges — is computed by hand below.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import dask
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.warp import Resampling, reproject, transform_bounds
from shapely.geometry import box

from mrv.errors import InputError
from pipelines.satellite.cube import S2_BANDS, check_cube
from pipelines.satellite.sources import (
    DEFAULT_BANDS,
    NoCloudMaskWarning,
    ScalingAssumptionWarning,
    load_scenes,
)
from pipelines.satellite.sources._scaling import read_product_metadata

EPSG = "EPSG:32650"
X0, Y0 = 756_000.0, 3_393_000.0
SIZE_M = 600
RES = {"B01": 60, "B09": 60, "B02": 10, "B03": 10, "B04": 10, "B08": 10, "SCL": 20}
"""Native resolution per band (the rest are 20 m)."""


def res_of(band: str) -> int:
    return RES.get(band, 20)


def dn_grid(band: str, k: int, res: int | None = None) -> np.ndarray:
    """DN of ``band`` on date ``k`` at ``res`` metres: a ramp in row and column."""
    res = res or res_of(band)
    n = SIZE_M // res
    r, c = np.mgrid[0:n, 0:n].astype(np.int64)
    b = S2_BANDS.index(band)
    if res == 10:
        dn = 1500 + 100 * b + 7 * r + c + 50 * k
        dn[3, 4] = 0  # no data
    elif res == 20:
        dn = 2000 + 100 * b + 3 * r + 20 * c + 50 * k
    else:
        dn = 2500 + 100 * b + 30 * r + 60 * c + 50 * k
    return dn.astype(np.uint16)


def scl_grid(k: int, res: int = 20) -> np.ndarray:
    n = SIZE_M // res
    r, c = np.mgrid[0:n, 0:n]
    scl = ((r + 2 * c + k) % 11 + 1).astype(np.uint8)
    scl[-1, -1] = 0
    return scl


def expected_dn(band: str, k: int) -> np.ndarray:
    """The DN a correct reader puts on the 10 m grid (interior pixels for coarse bands)."""
    r, c = np.mgrid[0:60, 0:60].astype(np.float64)
    b = S2_BANDS.index(band)
    res = res_of(band)
    if res == 10:
        dn = 1500 + 100 * b + 7 * r + c + 50 * k
        dn[3, 4] = np.nan
        return dn
    f = res / 10
    u = (c + 0.5) / f - 0.5  # column of the 10 m pixel centre in source pixel units
    v = (r + 0.5) / f - 0.5
    if res == 20:
        return 2000 + 100 * b + 3 * v + 20 * u + 50 * k
    return 2500 + 100 * b + 30 * v + 60 * u + 50 * k


def write_raster(
    path: Path,
    data: np.ndarray,
    res: float,
    *,
    crs: str = EPSG,
    x0: float = X0,
    y0: float = Y0,
    nodata: float | None = None,
    descriptions: Sequence[str] = (),
    tags: dict[str, str] | None = None,
    transform: Affine | None = None,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = data if data.ndim == 3 else data[np.newaxis]
    jp2 = path.suffix == ".jp2"
    profile = {
        "driver": "JP2OpenJPEG" if jp2 else "GTiff",
        "width": arr.shape[2], "height": arr.shape[1], "count": arr.shape[0],
        "dtype": arr.dtype.name, "crs": crs,
        "transform": transform or Affine(res, 0, x0, 0, -res, y0), "nodata": nodata,
    }  # fmt: skip
    if jp2:
        profile.update(QUALITY=100, REVERSIBLE="YES")
    else:
        profile.update(compress="deflate", tiled=True, blockxsize=16, blockysize=16)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr)
        for i, name in enumerate(descriptions, start=1):
            dst.set_band_description(i, name)
        if tags:
            dst.update_tags(**tags)
    return path


DATES = ("20210615", "20230615")


def make_date_folders(
    root: Path, *, dates: Sequence[str] = DATES, bands: Sequence[str] = (*DEFAULT_BANDS, "SCL")
) -> Path:
    """Layout (b): ``root/S2_<date>/B04.tif``."""
    for k, date in enumerate(dates):
        for band in bands:
            data = scl_grid(k) if band == "SCL" else dn_grid(band, k)
            write_raster(root / f"S2_{date}" / f"{band}.tif", data, res_of(band))
    return root


MTD = """<?xml version="1.0" encoding="UTF-8"?>
<n1:Level-2A_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-2A.xsd">
<n1:General_Info><Product_Info>
<PROCESSING_LEVEL>Level-2A</PROCESSING_LEVEL><PRODUCT_TYPE>S2MSI2A</PRODUCT_TYPE>
<PROCESSING_BASELINE>{baseline}</PROCESSING_BASELINE></Product_Info>
<Product_Image_Characteristics>
<QUANTIFICATION_VALUES_LIST><BOA_QUANTIFICATION_VALUE unit="none">{quant}</BOA_QUANTIFICATION_VALUE>
<AOT_QUANTIFICATION_VALUE unit="none">1000.0</AOT_QUANTIFICATION_VALUE></QUANTIFICATION_VALUES_LIST>
{offsets}
<Spectral_Information_List>{spectral}</Spectral_Information_List>
</Product_Image_Characteristics></n1:General_Info></n1:Level-2A_User_Product>
"""
PHYSICAL = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")


def mtd_text(baseline: str, offsets: dict[int, int] | None, quant: int = 10000) -> str:
    offset_xml = ""
    if offsets is not None:
        offset_xml = (
            "<BOA_ADD_OFFSET_VALUES_LIST>"
            + "".join(
                f'<BOA_ADD_OFFSET band_id="{i}">{v}</BOA_ADD_OFFSET>' for i, v in offsets.items()
            )
            + "</BOA_ADD_OFFSET_VALUES_LIST>"
        )
    spectral = "".join(
        f'<Spectral_Information bandId="{i}" physicalBand="{p}"/>' for i, p in enumerate(PHYSICAL)
    )
    return MTD.format(baseline=baseline, quant=quant, offsets=offset_xml, spectral=spectral)


def make_safe(root: Path, date: str, k: int, *, baseline: str, offsets: bool) -> Path:
    """Layout (a): an L2A .SAFE tree with R10m/R20m/R60m JPEG 2000 band files and MTD."""
    code = baseline.replace(".", "")
    safe = root / f"S2A_MSIL2A_{date}T023551_N{code}_R089_T50RQU_{date}T061501.SAFE"
    img = safe / "GRANULE" / f"L2A_T50RQU_A031234_{date}T023551" / "IMG_DATA"
    stem = f"T50RQU_{date}T023551"
    layout = {
        "R10m": ("B02", "B03", "B04", "B08", "AOT"),
        "R20m": ("B02", "B05", "B06", "B07", "B8A", "B11", "B12", "SCL"),
        "R60m": ("B01", "B09", "B05", "SCL"),
    }
    for folder, bands in layout.items():
        res = int(folder[1:3])
        for band in bands:
            if band == "AOT":
                data = np.full((60, 60), 7, np.uint16)
            elif band == "SCL":
                data = scl_grid(k, res) if res == 20 else np.full((10, 10), 9, np.uint8)
            elif res == res_of(band):
                data = dn_grid(band, k)
            else:  # a coarser duplicate the reader must not prefer
                data = np.full((SIZE_M // res,) * 2, 9999, np.uint16)
            write_raster(img / folder / f"{stem}_{band}_{res}m.jp2", data, res)
    table = {i: -1000 for i in range(13)} if offsets else None
    (safe / "MTD_MSIL2A.xml").write_text(mtd_text(baseline, table))
    qi = safe / "GRANULE" / f"L2A_T50RQU_A031234_{date}T023551" / "QI_DATA"
    write_raster(qi / f"MSK_CLDPRB_20m_{date}.tif", np.zeros((30, 30), np.uint8), 20)
    return safe


def refl(band: str, k: int, offset_dn: float) -> np.ndarray:
    return (expected_dn(band, k) + offset_dn) / 10_000.0


INTERIOR = (slice(6, -6), slice(6, -6))


def _no_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("the cube was computed while it was being built")


# ----------------------------------------------------------------------------------------------
# layouts and values


def test_date_folders_with_explicit_baseline_give_hand_computed_reflectance(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "scenes")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no scaling assumption, SCL present: no warning at all
        with dask.config.set(scheduler=_no_compute):
            cube = load_scenes(root, processing_baseline="04.00", chunks=32)
    check_cube(cube, bands=DEFAULT_BANDS)
    assert list(cube.band.values) == list(DEFAULT_BANDS)
    assert cube.reflectance.dtype == np.float32
    assert cube.reflectance.chunks == ((1, 1), (10,), (32, 28), (32, 28))
    assert cube.scl.chunks == ((1, 1), (32, 28), (32, 28))
    assert cube.attrs["crs"] == EPSG and cube.attrs["product_level"] == "L2A"
    assert cube.attrs["transform"] == [10.0, 0.0, X0, 0.0, -10.0, Y0]
    assert str(cube.time.values[0])[:10] == "2021-06-15"
    np.testing.assert_allclose(cube.x.values[:2], [X0 + 5, X0 + 15])
    np.testing.assert_allclose(cube.y.values[:2], [Y0 - 5, Y0 - 15])

    values = cube.reflectance.values
    for k in range(2):
        for b, band in enumerate(DEFAULT_BANDS):
            expected = refl(band, k, -1000.0)  # the argument says 04.00 for both dates
            got = values[k, b]
            if res_of(band) == 10:
                np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True)
                assert np.isnan(got[3, 4])  # DN 0 → NaN
            else:
                np.testing.assert_allclose(got[INTERIOR], expected[INTERIOR], rtol=1e-5)
    # one pixel by hand: B04 date 2 row 10 col 20 → DN 1500 + 300 + 70 + 20 + 50 = 1940
    assert values[1, 2, 10, 20] == pytest.approx((1940 - 1000) / 10_000, rel=1e-6)


def test_scl_is_nearest_neighbour(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s")
    cube = load_scenes(root, processing_baseline="04.00", bands=["B04"], chunks=16)
    scl = cube.scl.values
    assert scl.dtype == np.uint8
    for k in range(2):
        np.testing.assert_array_equal(scl[k], np.repeat(np.repeat(scl_grid(k), 2, 0), 2, 1))


def test_no_data_in_a_20m_band_is_not_smeared(tmp_path: Path) -> None:
    """A 20 m no-data pixel stays no data at 10 m; its neighbours' bilinear weights are
    renormalised over the valid source pixels (as GDAL does)."""
    folder = tmp_path / "S2_20230615"
    b05 = dn_grid("B05", 0)
    b05[10, 10] = 0
    write_raster(folder / "B05.tif", b05, 20)
    write_raster(folder / "SCL.tif", scl_grid(0), 20)
    cube = load_scenes(tmp_path, bands=["B05"], processing_baseline="04.00", chunks=16)
    got = cube.reflectance.values[0, 0]
    assert np.isnan(got[20:22, 20:22]).all()  # the 10 m pixels inside the missing 20 m pixel
    assert np.isfinite(got).sum() == 3600 - 4
    # 10 m pixel (20, 22): its centre is at 20 m column 10.75, row 9.75 → neighbours rows 9/10,
    # columns 10/11 with weights 0.25/0.75 × 0.75/0.25; (10, 10) is missing
    dn = b05.astype(np.float64)
    weights = {(9, 10): 0.25 * 0.25, (9, 11): 0.25 * 0.75, (10, 11): 0.75 * 0.75}
    expected = sum(w * dn[rc] for rc, w in weights.items()) / sum(weights.values())
    assert got[20, 22] == pytest.approx((expected - 1000) / 10_000, rel=1e-6)


def test_date_rule_when_nothing_is_known_warns(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", bands=("B04", "B05", "SCL"))
    with pytest.warns(ScalingAssumptionWarning, match="2021-06-15, 2023-06-15"):
        cube = load_scenes(root, bands=["B04", "B05"])
    values = cube.reflectance.values
    # 2021 is before 2022-01-25 (no offset), 2023 after (offset −1000)
    np.testing.assert_allclose(values[0, 0], refl("B04", 0, 0.0), rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(values[1, 0], refl("B04", 1, -1000.0), rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(values[1, 1][INTERIOR], refl("B05", 1, -1000.0)[INTERIOR], rtol=1e-5)


def test_safe_tree_uses_mtd_offsets_finest_resolution_and_jp2(tmp_path: Path) -> None:
    root = tmp_path / "products"
    # 2021 product reprocessed with baseline 05.00: the metadata, not the date, decides
    make_safe(root, "20210615", 0, baseline="05.00", offsets=True)
    make_safe(root, "20230615", 1, baseline="05.09", offsets=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cube = load_scenes(root, bands=["B02", "B05", "B01"], chunks=64)
    values = cube.reflectance.values
    for k in range(2):
        np.testing.assert_allclose(values[k, 0], refl("B02", k, -1000), rtol=1e-6, equal_nan=True)
        np.testing.assert_allclose(
            values[k, 1][INTERIOR], refl("B05", k, -1000)[INTERIOR], rtol=1e-5
        )
        np.testing.assert_allclose(
            values[k, 2][INTERIOR], refl("B01", k, -1000)[INTERIOR], rtol=1e-5
        )
    assert cube.attrs["product_level"] == "L2A"
    assert cube.sizes["time"] == 2
    np.testing.assert_array_equal(cube.scl.values[0, ::2, ::2], scl_grid(0))


def test_safe_before_baseline_4_has_no_offset(tmp_path: Path) -> None:
    make_safe(tmp_path, "20210615", 0, baseline="03.00", offsets=False)
    cube = load_scenes(tmp_path, bands=["B04"])
    np.testing.assert_allclose(
        cube.reflectance.values[0, 0], refl("B04", 0, 0), rtol=1e-6, equal_nan=True
    )


def test_mtd_parser_reads_per_band_offsets_and_quantification(tmp_path: Path) -> None:
    path = tmp_path / "MTD_MSIL2A.xml"
    path.write_text(mtd_text("04.00", {3: -900, 4: -1000}, quant=20000))
    meta = read_product_metadata(path)
    assert meta.level == "L2A" and meta.baseline == (4, 0)
    assert meta.offsets == {"B04": -900.0, "B05": -1000.0}
    b04 = meta.scaling("B04")
    assert b04 is not None
    assert b04.scale == pytest.approx(1 / 20000) and b04.offset == pytest.approx(-900 / 20000)


def test_product_band_files_with_baseline_in_folder_name(tmp_path: Path) -> None:
    folder = tmp_path / "S2B_MSIL2A_20230615T023551_N0509_R089_T50RQU_20230615T050000"
    for band in ("B04", "B11", "SCL"):
        data = scl_grid(0) if band == "SCL" else dn_grid(band, 0)
        write_raster(folder / f"T50RQU_20230615T023551_{band}.tif", data, res_of(band))
    cube = load_scenes(folder, bands=["B04", "B11"])
    assert str(cube.time.values[0]) == "2023-06-15T02:35:51.000000000"
    np.testing.assert_allclose(
        cube.reflectance.values[0, 0], refl("B04", 0, -1000), rtol=1e-6, equal_nan=True
    )


def test_multiband_geotiff_per_date_with_tags(tmp_path: Path) -> None:
    bands = ("B02", "B04", "B08", "SCL")
    for k, date in enumerate(DATES):
        stack = np.stack(
            [
                dn_grid(b, k)
                if b != "SCL"
                else np.repeat(np.repeat(scl_grid(k), 2, 0), 2, 1).astype(np.uint16)
                for b in bands
            ]
        )
        write_raster(
            tmp_path / f"huzhou_{date}.tif", stack, 10, descriptions=("B2", "b04", "B08", "SCL"),
            tags={"PROCESSING_BASELINE": "02.14" if k == 0 else "04.00"},
        )  # fmt: skip
    cube = load_scenes(tmp_path, bands=["B08", "B02"])
    values = cube.reflectance.values
    np.testing.assert_allclose(values[0, 0], refl("B08", 0, 0), rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(values[1, 1], refl("B02", 1, -1000), rtol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(cube.scl.values[1, ::2, ::2], scl_grid(1))


def test_tiles_of_one_datatake_are_mosaicked(tmp_path: Path) -> None:
    """Two 300 m-wide tiles with the same sensing time become one date on one grid."""
    full = dn_grid("B04", 0)
    for name, cols, x0 in (("T50RQU", slice(0, 30), X0), ("T50RQV", slice(30, 60), X0 + 300)):
        write_raster(tmp_path / f"{name}_20230615T023551_B04.tif", full[:, cols], 10, x0=x0)
    with pytest.warns(NoCloudMaskWarning):
        cube = load_scenes(tmp_path, bands=["B04"], processing_baseline="04.00")
    assert cube.sizes == {"time": 1, "band": 1, "y": 60, "x": 60}
    np.testing.assert_allclose(
        cube.reflectance.values[0, 0], refl("B04", 0, -1000), rtol=1e-6, equal_nan=True
    )


def test_aoi_clips_to_its_bounding_box_and_time_filters(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", bands=("B04", "SCL"))
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(EPSG, "EPSG:4326", always_xy=True)
    # an AOI around pixels x 100–300 m, y 200–400 m below the top (inside, with margin)
    lon0, lat0 = to_lonlat.transform(X0 + 105, Y0 - 395)
    lon1, lat1 = to_lonlat.transform(X0 + 295, Y0 - 205)
    cube = load_scenes(
        root, bands=["B04"], aoi=box(lon0, lat0, lon1, lat1), time=("2023-01-01", "2023-06-15"),
        processing_baseline="04.00",
    )  # fmt: skip
    assert cube.sizes["time"] == 1 and str(cube.time.values[0])[:10] == "2023-06-15"
    left, top = cube.attrs["transform"][2], cube.attrs["transform"][5]
    assert (left - X0) % 10 == 0 and (Y0 - top) % 10 == 0  # still on the scene's pixel grid
    assert X0 + 90 <= left <= X0 + 110 and Y0 - 210 <= top <= Y0 - 190
    col, row = int((left - X0) / 10), int((Y0 - top) / 10)
    ny, nx = cube.sizes["y"], cube.sizes["x"]
    expected = refl("B04", 1, -1000)[row : row + ny, col : col + nx]
    np.testing.assert_allclose(cube.reflectance.values[0, 0], expected, rtol=1e-6, equal_nan=True)


def test_coarser_output_resolution_averages(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", dates=DATES[:1], bands=("B03", "SCL"))
    cube = load_scenes(root, bands=["B03"], resolution=20, processing_baseline="04.00")
    assert cube.sizes["x"] == 30
    fine = refl("B03", 0, -1000)
    expected = fine.reshape(30, 2, 30, 2).mean(axis=(1, 3))
    got = cube.reflectance.values[0, 0]
    np.testing.assert_allclose(got[4:, 4:], expected[4:, 4:], rtol=1e-5)


# ----------------------------------------------------------------------------------------------
# laziness


def test_building_the_cube_reads_no_pixels(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", bands=("B04", "B05", "SCL"))
    with dask.config.set(scheduler=_no_compute):
        cube = load_scenes(root, bands=["B04", "B05"], processing_baseline="04.00", chunks=16)
        index = (cube.reflectance.sel(band="B04") - cube.reflectance.sel(band="B05")).mean("time")
    assert cube.reflectance.data.npartitions == 2 * 4 * 4
    with pytest.raises(AssertionError, match="computed"), dask.config.set(scheduler=_no_compute):
        index.compute()
    # the same graph runs on the threaded scheduler, block by block
    got = index.compute(scheduler="threads").values
    expected = np.mean([refl("B04", k, -1000) - refl("B05", k, -1000) for k in range(2)], axis=0)
    np.testing.assert_allclose(got[INTERIOR], expected[INTERIOR], rtol=1e-4)


# ----------------------------------------------------------------------------------------------
# mismatched CRS: reprojected to the first scene's grid (or to the declared one)


def _write_in_utm51(path: Path, data: np.ndarray) -> None:
    src_transform = Affine(10, 0, X0, 0, -10, Y0)
    left, bottom, right, top = transform_bounds(
        EPSG, "EPSG:32651", X0, Y0 - SIZE_M, X0 + SIZE_M, Y0
    )
    left, top = np.floor(left / 10) * 10, np.ceil(top / 10) * 10
    width, height = int(np.ceil((right - left) / 10)), int(np.ceil((top - bottom) / 10))
    dst_transform = Affine(10, 0, left, 0, -10, top)
    out = np.zeros((height, width), np.uint16)
    reproject(
        data, out, src_transform=src_transform, src_crs=EPSG, dst_transform=dst_transform,
        dst_crs="EPSG:32651", resampling=Resampling.bilinear, src_nodata=0, dst_nodata=0,
    )  # fmt: skip
    write_raster(path, out, 10, crs="EPSG:32651", transform=dst_transform)


def test_dates_in_another_utm_zone_are_reprojected_to_the_first_grid(tmp_path: Path) -> None:
    smooth = dn_grid("B08", 0)
    smooth[3, 4] = smooth[3, 5]  # no hole, to compare everywhere inside
    write_raster(tmp_path / "S2_20230605" / "B08.tif", smooth, 10)
    _write_in_utm51(tmp_path / "S2_20230615" / "B08.tif", smooth)
    with pytest.warns(NoCloudMaskWarning):
        cube = load_scenes(tmp_path, bands=["B08"], processing_baseline="04.00")
    # the grid is the first scene's (CRS, pixel edges), grown to hold the rotated second one
    assert cube.attrs["crs"] == EPSG
    left, top = cube.attrs["transform"][2], cube.attrs["transform"][5]
    col, row = (X0 - left) / 10, (top - Y0) / 10
    assert col == int(col) and row == int(row) and 0 <= col <= 8 and 0 <= row <= 8
    values = cube.reflectance.values[:, 0, int(row) : int(row) + 60, int(col) : int(col) + 60]
    assert np.isnan(cube.reflectance.values[0, 0]).sum() == cube.sizes["x"] * cube.sizes["y"] - 3600
    np.testing.assert_allclose(values[0], (smooth - 1000) / 10_000, rtol=1e-6)
    # twice bilinearly resampled ramp: equal to the original to < 1 DN inside
    np.testing.assert_allclose(values[1][INTERIOR], values[0][INTERIOR], atol=1.0e-4)

    with pytest.warns(NoCloudMaskWarning):
        declared = load_scenes(
            tmp_path, bands=["B08"], crs="EPSG:32651", processing_baseline="04.00"
        )
    assert declared.attrs["crs"] == "EPSG:32651"
    assert np.isfinite(declared.reflectance.values[1, 0]).mean() > 0.8


def test_geographic_output_crs_is_rejected(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", dates=DATES[:1], bands=("B04", "SCL"))
    with pytest.raises(InputError, match="not a projected CRS"):
        load_scenes(root, bands=["B04"], crs="EPSG:4326", processing_baseline="04.00")


# ----------------------------------------------------------------------------------------------
# bad input


def test_aoi_outside_the_scenes_names_both_extents(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", dates=DATES[:1], bands=("B04", "SCL"))
    with pytest.raises(InputError) as err:
        load_scenes(
            root, bands=["B04"], aoi=box(120.5, 30.5, 120.6, 30.6), processing_baseline="04.00"
        )
    text = str(err.value)
    assert "lon 120.5000–120.6000, lat 30.5000–30.6000" in text  # the AOI
    assert "are outside the scenes" in text or "is outside the scenes" in text
    assert f"x {X0:.0f}–{X0 + SIZE_M:.0f}" in text and "EPSG:32650" in text  # the scenes


def test_missing_band_names_folder_band_and_date(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", bands=("B04", "B05", "SCL"))
    (root / "S2_20230615" / "B05.tif").unlink()
    with pytest.raises(InputError) as err:
        load_scenes(root, bands=["B04", "B05"], processing_baseline="04.00")
    (problem,) = err.value.problems
    assert problem.file == str(root / "S2_20230615") and problem.column == "B05"
    assert "band B05 missing for 2023-06-15" in problem.reason


def test_corrupt_file_names_file_band_and_date(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", bands=("B04", "B05", "SCL"))
    bad = root / "S2_20210615" / "B05.tif"
    bad.write_bytes(b"II*\x00 this is not a GeoTIFF")
    with pytest.raises(InputError) as err:
        load_scenes(root, bands=["B04", "B05"], processing_baseline="04.00")
    (problem,) = err.value.problems
    assert problem.file == str(bad)
    assert "band B05, 2021-06-15" in str(err.value)


def test_truncated_geotiff_is_caught_when_building(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", bands=("B04", "SCL"))
    bad = root / "S2_20230615" / "B04.tif"
    data = bad.read_bytes()
    bad.write_bytes(data[: int(len(data) * 0.8)])
    with pytest.raises(InputError, match="truncated") as err:
        load_scenes(root, bands=["B04"], processing_baseline="04.00")
    assert err.value.problems[0].file == str(bad)


def test_damaged_pixels_fail_at_compute_naming_file_band_and_date(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", bands=("B04", "SCL"))
    bad = root / "S2_20230615" / "B04.tif"
    data = bytearray(bad.read_bytes())
    with rasterio.open(bad) as src:  # overwrite the compressed bytes of one tile
        offset = int(src.get_tag_item("BLOCK_OFFSET_1_1", "TIFF", bidx=1))
        size = int(src.get_tag_item("BLOCK_SIZE_1_1", "TIFF", bidx=1))
    data[offset : offset + size] = b"\xff" * size
    bad.write_bytes(bytes(data))
    cube = load_scenes(root, bands=["B04"], processing_baseline="04.00", chunks=16)  # headers fine
    with pytest.raises(InputError) as err:
        cube.reflectance.compute(scheduler="synchronous")
    assert str(bad) in str(err.value)
    assert "band B04 of 2023-06-15" in str(err.value)


def test_l1c_without_scl_warns_that_no_cloud_mask_is_applied(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "S2A_MSIL1C", dates=DATES[:1], bands=("B04",))
    with pytest.warns(NoCloudMaskWarning, match="no cloud mask is applied"):
        cube = load_scenes(root, bands=["B04"], processing_baseline="04.00")
    assert cube.attrs["product_level"] == "L1C" and "scl" not in cube


def test_scl_on_some_dates_only_is_an_error(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", bands=("B04", "SCL"))
    (root / "S2_20210615" / "SCL.tif").unlink()
    with pytest.raises(InputError, match="missing for 2021-06-15"):
        load_scenes(root, bands=["B04"], processing_baseline="04.00")


def test_no_scenes_in_period_lists_the_dates_found(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", bands=("B04", "SCL"))
    with pytest.raises(InputError, match="scenes found: 2021-06-15, 2023-06-15"):
        load_scenes(root, bands=["B04"], time=("2022-01-01", "2022-12-31"))


def test_folder_without_scenes(tmp_path: Path) -> None:
    write_raster(tmp_path / "dem.tif", np.zeros((5, 5), np.float32), 10)
    with pytest.raises(InputError, match="no Sentinel-2 scenes found"):
        load_scenes(tmp_path)
    with pytest.raises(InputError, match="not found"):
        load_scenes(tmp_path / "nowhere")


def test_band_files_without_a_date(tmp_path: Path) -> None:
    write_raster(tmp_path / "scenes" / "B04.tif", dn_grid("B04", 0), 10)
    with pytest.raises(InputError, match="no date"):
        load_scenes(tmp_path / "scenes", bands=["B04"])
    write_raster(
        tmp_path / "stack.tif", np.stack([dn_grid("B04", 0)] * 2), 10, descriptions=("B04", "B08")
    )
    with pytest.raises(InputError, match="neither the file nor its folder names a date"):
        load_scenes(tmp_path / "stack.tif", bands=["B04"])


def test_multiband_without_band_descriptions(tmp_path: Path) -> None:
    write_raster(tmp_path / "s2_20230615.tif", np.stack([dn_grid("B04", 0)] * 3), 10)
    with pytest.raises(InputError, match="cannot tell which band is which"):
        load_scenes(tmp_path, bands=["B04"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bands": ["B04", "B99"]}, "unknown band 'B99'"),
        ({"bands": ["B04", "B4"]}, "requested twice"),
        ({"bands": ["SCL"]}, "returned as the 'scl' variable"),
        ({"resolution": 0}, "resolution must be"),
        ({"chunks": 4}, "chunks must be"),
        ({"time": ("2023-06-30", "2023-06-01")}, "ends before it starts"),
        ({"processing_baseline": "four"}, "not like '04.00'"),
        ({"aoi": box(500, 0, 501, 1)}, "not WGS84"),
    ],
)
def test_bad_options(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    root = make_date_folders(tmp_path / "s", dates=DATES[:1], bands=("B04", "SCL"))
    with pytest.raises(InputError, match=message):
        load_scenes(root, **kwargs)  # type: ignore[arg-type]


def test_a_list_of_folders_and_files(tmp_path: Path) -> None:
    root = make_date_folders(tmp_path / "s", bands=("B04", "SCL"))
    whole = load_scenes(root, bands=["B04"], processing_baseline="04.00")
    listed = load_scenes(
        [root / "S2_20230615", str(root / "S2_20210615")],
        bands=["B04"],
        processing_baseline="04.00",
    )
    np.testing.assert_array_equal(listed.reflectance.values, whole.reflectance.values)
    with pytest.raises(InputError, match="not both"):
        load_scenes([root, tmp_path / "catalog.json"], bands=["B04"])
