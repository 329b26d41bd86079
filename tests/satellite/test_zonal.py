"""Zonal totals: hand-computed values, an independent point-in-polygon oracle, conservation."""

from __future__ import annotations

import dask
import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import shapely
import xarray as xr
from pyproj import Transformer

from mrv.errors import InputError
from pipelines.satellite.zonal import rasterize_zones, zonal_totals

CRS = "EPSG:32650"
X0, Y0, RES = 600_000.0, 3_420_000.0, 10.0
TRANSFORM = (RES, 0.0, X0, 0.0, -RES, Y0)


def raster(values: np.ndarray, chunks: int | None = None) -> xr.DataArray:
    ny, nx = values.shape
    data = da.from_array(values, chunks=chunks) if chunks else values
    return xr.DataArray(
        data, dims=("y", "x"),
        coords={"y": Y0 - RES * (np.arange(ny) + 0.5), "x": X0 + RES * (np.arange(nx) + 0.5)},
        attrs={"crs": CRS, "transform": list(TRANSFORM)},
    )  # fmt: skip


def cell_box(c0: float, r0: float, c1: float, r1: float) -> shapely.Polygon:
    """A box in pixel coordinates (col, row) → UTM."""
    return shapely.box(X0 + RES * c0, Y0 - RES * r1, X0 + RES * c1, Y0 - RES * r0)


class _NoCompute:
    def __call__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("computed although only a lazy graph was asked for")


def test_hand_computed_two_parcels() -> None:
    dens = np.array(
        [[10, 20, 30, 40], [50, np.nan, 70, 80], [1, 2, 3, 4], [5, 6, 7, 8]], dtype=np.float32
    )
    parcels = gpd.GeoDataFrame(
        {"parcel": ["A", "B"]},
        geometry=[cell_box(0, 0, 2, 2), cell_box(2, 0, 4, 3)],  # 2x2 top-left; 2 cols x 3 rows
        crs=CRS,
    )
    out = zonal_totals(raster(dens, chunks=3), parcels, id_column="parcel").set_index("zone")
    a = out.loc["A"]
    assert a["pixels"] == 4
    assert a["area_ha"] == pytest.approx(0.04)  # 4 px × 0.01 ha
    assert a["mapped_area_ha"] == pytest.approx(0.03)  # one NaN pixel
    assert a["mean_tc_per_ha"] == pytest.approx((10 + 20 + 50) / 3)
    assert a["total_tc"] == pytest.approx((10 + 20 + 50) * 0.01)
    b = out.loc["B"]
    assert b["pixels"] == 6
    assert b["total_tc"] == pytest.approx((30 + 40 + 70 + 80 + 3 + 4) * 0.01)
    assert b["mean_tc_per_ha"] == pytest.approx((30 + 40 + 70 + 80 + 3 + 4) / 6)
    # the polygon's own area (EPSG:4549) agrees with the pixel count up to projection scale
    assert b["polygon_area_ha"] == pytest.approx(0.06, rel=3e-3)


def test_parcels_match_point_in_polygon_oracle_and_conserve_total() -> None:
    rng = np.random.default_rng(5)
    ny, nx = 60, 75
    dens = rng.gamma(2.0, 20.0, size=(ny, nx)).astype(np.float32)
    dens[rng.random((ny, nx)) < 0.05] = np.nan
    # a partition of the raster extent into Voronoi cells (irregular parcels)
    extent = cell_box(0, 0, nx, ny)
    seeds = shapely.points(rng.uniform(X0, X0 + RES * nx, 25), rng.uniform(Y0 - RES * ny, Y0, 25))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=extent)),
        extent,
    )
    parcels = gpd.GeoDataFrame({"pid": np.arange(100, 100 + len(cells))}, geometry=cells, crs=CRS)
    out = zonal_totals(raster(dens, chunks=16), parcels, id_column="pid")
    # oracle: pixel centres inside each polygon (shapely), summed with numpy
    dens64 = dens.astype(np.float64)
    xc, yc = np.meshgrid(X0 + RES * (np.arange(nx) + 0.5), Y0 - RES * (np.arange(ny) + 0.5))
    for row in out.itertuples():
        poly = parcels.loc[parcels["pid"] == row.zone, "geometry"].iloc[0]
        inside = shapely.contains_xy(poly, xc, yc)
        assert row.pixels == inside.sum()
        assert row.total_tc == pytest.approx(np.nansum(dens64[inside]) * 0.01, rel=1e-12)
        assert row.mapped_area_ha == pytest.approx(np.isfinite(dens[inside]).sum() * 0.01)
    # conservation: a partition's zone totals add up to the AOI total
    assert out["total_tc"].sum() == pytest.approx(np.nansum(dens64) * 0.01, rel=1e-12)
    assert out["area_ha"].sum() == pytest.approx(ny * nx * 0.01)
    # chunking does not change the result
    other = zonal_totals(raster(dens, chunks=41), parcels, id_column="pid")
    np.testing.assert_allclose(other["total_tc"], out["total_tc"], rtol=1e-12)
    np.testing.assert_array_equal(other["pixels"], out["pixels"])


def test_polygons_in_wgs84_are_reprojected() -> None:
    dens = np.full((20, 20), 2.0, dtype=np.float32)
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    utm = cell_box(2, 3, 12, 15)
    wgs = shapely.transform(utm, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1])))
    parcels = gpd.GeoDataFrame(geometry=[wgs], crs="EPSG:4326")
    out = zonal_totals(raster(dens), parcels)
    assert out.loc[0, "pixels"] == 10 * 12
    assert out.loc[0, "total_tc"] == pytest.approx(120 * 2.0 * 0.01)


def test_class_raster_strata_partition_and_labels() -> None:
    rng = np.random.default_rng(8)
    dens = rng.uniform(0, 100, size=(40, 50)).astype(np.float32)
    classes = rng.integers(1, 5, size=(40, 50)).astype(np.uint8)
    classes[:3, :] = 0  # no-data rows are left out
    out = zonal_totals(
        raster(dens, chunks=17), raster(classes, chunks=17), labels={1: "bamboo", 7: "water"}
    )
    assert list(out["zone"]) == [1, 2, 3, 4, 7]
    assert out["label"].iloc[0] == "bamboo" and out["label"].iloc[4] == "water"
    assert out["label"].iloc[1:4].isna().all()
    for code in (1, 2, 3, 4):
        sel = classes == code
        row = out.loc[out["zone"] == code].iloc[0]
        assert row["pixels"] == sel.sum()
        assert row["mean_tc_per_ha"] == pytest.approx(dens[sel].astype(np.float64).mean())
    water = out.loc[out["zone"] == 7].iloc[0]
    assert water["pixels"] == 0 and np.isnan(water["mean_tc_per_ha"]) and water["total_tc"] == 0
    assert out["total_tc"].sum() == pytest.approx(dens[classes > 0].astype(np.float64).sum() * 0.01)
    assert out["polygon_area_ha"].isna().all()


def test_int32_class_raster_and_explicit_pixel_area() -> None:
    dens = np.ones((4, 4), dtype=np.float32)
    classes = np.array([[300] * 4, [300] * 4, [5] * 4, [5] * 4], dtype=np.int32)
    out = zonal_totals(raster(dens), raster(classes), pixel_area_ha=0.25, labels={999: "x"})
    assert list(out["zone"]) == [5, 300, 999]
    assert list(out["area_ha"]) == [2.0, 2.0, 0.0]


def test_rasterize_zones_is_lazy_and_only_burns_intersecting_blocks() -> None:
    dens = raster(np.zeros((64, 64), dtype=np.float32), chunks=16)
    parcels = gpd.GeoDataFrame(geometry=[cell_box(1, 1, 5, 5), cell_box(40, 40, 50, 60)], crs=CRS)
    with dask.config.set(scheduler=_NoCompute()):
        ids = rasterize_zones(parcels, dens)
    assert ids.data.chunks == dens.data.chunks
    graph = dict(ids.data.__dask_graph__())
    burns = [k for k in graph if str(k[0] if isinstance(k, tuple) else k).startswith("_burn")]
    assert len(burns) == 1 + 4  # parcel 1 in one block, parcel 2 spans 2 × 2 blocks
    arr = ids.values
    assert (arr[1:5, 1:5] == 1).all() and (arr[40:60, 40:50] == 2).all()
    assert (arr == 1).sum() == 16 and (arr == 2).sum() == 200


def test_bad_inputs() -> None:
    dens = raster(np.ones((4, 4), dtype=np.float32))
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0), (X0 + 20, Y0 - 20)])], crs=CRS)
    with pytest.raises(InputError, match="not polygons") as err:
        zonal_totals(dens, lines)
    assert err.value.problems[0].feature == "0"
    with pytest.raises(InputError, match="no CRS"):
        zonal_totals(dens, gpd.GeoDataFrame(geometry=[cell_box(0, 0, 1, 1)]))
    with pytest.raises(InputError, match="integer codes"):
        zonal_totals(dens, raster(np.ones((4, 4), dtype=np.float32)))
    with pytest.raises(InputError, match="shape"):
        zonal_totals(dens, raster(np.ones((3, 4), dtype=np.uint8)))
    geographic = dens.assign_attrs(crs="EPSG:4326", transform=[1e-4, 0, 120, 0, -1e-4, 31])
    with pytest.raises(InputError, match="pass pixel_area_ha"):
        zonal_totals(geographic, xr.DataArray(np.ones((4, 4), np.uint8), dims=("y", "x")))
