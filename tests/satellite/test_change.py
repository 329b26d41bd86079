"""Change detection: hand-built composites whose patches, areas, carbon and wetland balance are
known by construction."""

from __future__ import annotations

import json
from typing import Any

import dask
import dask.array as da
import numpy as np
import pytest
import shapely
import xarray as xr
from pyproj import Transformer
from scipy import ndimage
from shapely.geometry import box

from mrv.errors import InputError
from pipelines.satellite.change import (
    BOTH,
    CLASS_CHANGE,
    INDEX_DROP,
    NO_CHANGE,
    NO_DATA,
    ChangeSpec,
    change_raster,
    composite_index,
    detect_change,
    wetland_area_change,
)

H = W = 16
X0, Y0, RES = 700_000.0, 3_400_000.0, 10.0
TRANSFORM = [RES, 0.0, X0, 0.0, -RES, Y0]
PX_HA = 0.01  # 10 m × 10 m


def _raising_scheduler(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("computed although it should stay lazy")


def composite(
    ndvi: np.ndarray,
    valid: np.ndarray | None = None,
    *,
    season: str = "s",
    crs: str = "EPSG:32650",
    transform: list[float] = TRANSFORM,
    chunks: int | None = None,
) -> xr.Dataset:
    """A composite whose B04/B08 give the wanted NDVI (red fixed at 0.05)."""
    h, w = ndvi.shape
    red = np.full((h, w), 0.05)
    nir = red * (1 + ndvi) / (1 - ndvi)
    refl = np.stack([np.full((h, w), 0.03), np.full((h, w), 0.04), red, nir]).astype(np.float32)
    vc = np.full((h, w), 5, np.uint16) if valid is None else valid.astype(np.uint16)
    refl = np.where(vc[None] > 0, refl, np.float32(np.nan))
    ds = xr.Dataset(
        {"reflectance": (("band", "y", "x"), refl), "valid_count": (("y", "x"), vc)},
        coords={"band": ["B02", "B03", "B04", "B08"]},
        attrs={"crs": crs, "transform": transform, "season": season},
    )
    return ds.chunk({"y": chunks, "x": chunks}) if chunks else ds


def yx(values: np.ndarray, chunks: int | None = None) -> xr.DataArray:
    arr = xr.DataArray(values, dims=("y", "x"))
    return arr.chunk({"y": chunks, "x": chunks}) if chunks else arr


def scene() -> dict[str, np.ndarray]:
    """The hand-built scene (rows, cols are 0-based, end-exclusive):

    A rows 1-4, cols 1-5: NDVI 0.8 → 0.3 (index drop), other forest, 50 t C/ha (one NaN) — 20 px
    B rows 8-10, cols 1-4: other forest → built-up, 80 t C/ha; its first 2 px also drop to 0.2
    C rows 13-14, cols 1-5: open water → wetland vegetation, 0 t C/ha — 10 px
    D rows 13-15, cols 9-12: wetland vegetation → paddy, 20 t C/ha — 12 px
    E diagonal (1,7) … (9,15): NDVI drop, 9 px 8-connected (below the 10 px default)
    N rows 10-11, cols 10-15: no data (valid_count 0 before in cols 10-12, after in 13-15), where
    the reflectance and classes say "change"; classes_after 0 in cols 10-12.
    Rows 12-15: open water in cols 0-7, wetland vegetation in cols 8-15; elsewhere other forest.
    """
    nb = np.full((H, W), 0.8)
    na = nb.copy()
    na[1:5, 1:6] = 0.3
    na[8, 1:3] = 0.2
    for k in range(9):
        na[1 + k, 7 + k] = 0.3
    na[10:12, 10:16] = 0.1
    cb = np.full((H, W), 2, np.uint8)
    cb[12:16, 0:8] = 6
    cb[12:16, 8:16] = 5
    ca = cb.copy()
    ca[8:11, 1:5] = 7
    ca[13:15, 1:6] = 5
    ca[13:16, 9:13] = 4
    ca[10:12, 10:13] = 0
    ca[10:12, 13:16] = 7
    vb = np.full((H, W), 4)
    va = np.full((H, W), 3)
    vb[10:12, 10:13] = 0
    va[10:12, 13:16] = 0
    dens = np.zeros((H, W))
    dens[1:5, 1:6] = 50.0
    dens[1, 1] = np.nan
    dens[8:11, 1:5] = 80.0
    dens[13:16, 9:13] = 20.0
    return {"nb": nb, "na": na, "cb": cb, "ca": ca, "vb": vb, "va": va, "dens": dens}


def run(spec: ChangeSpec | None = None, *, chunks: int | None = None, **kw: Any) -> Any:
    s = scene()
    return detect_change(
        composite(s["nb"], s["vb"], season="2023", chunks=chunks),
        composite(s["na"], s["va"], season="2024", chunks=chunks),
        classes_before=yx(s["cb"], chunks),
        classes_after=yx(s["ca"], chunks),
        density_before=yx(s["dens"], chunks),
        spec=spec or ChangeSpec(),
        **kw,
    )


def expected_codes() -> np.ndarray:
    codes = np.zeros((H, W), np.uint8)
    codes[1:5, 1:6] = INDEX_DROP
    for k in range(9):
        codes[1 + k, 7 + k] = INDEX_DROP
    codes[8:11, 1:5] = CLASS_CHANGE
    codes[8, 1:3] = BOTH
    codes[13:15, 1:6] = CLASS_CHANGE
    codes[13:16, 9:13] = CLASS_CHANGE
    codes[10:12, 10:16] = NO_DATA
    return codes


def cell_box(r0: int, r1: int, c0: int, c1: int) -> shapely.Geometry:
    return box(X0 + RES * c0, Y0 - RES * r1, X0 + RES * c1, Y0 - RES * r0)


# --------------------------------------------------------------------------------------------


def test_change_raster_is_lazy_and_has_the_hand_codes() -> None:
    s = scene()
    with dask.config.set(scheduler=_raising_scheduler):
        raster = change_raster(
            composite(s["nb"], s["vb"], chunks=8),
            composite(s["na"], s["va"], chunks=8),
            classes_before=yx(s["cb"], 8),
            classes_after=yx(s["ca"], 8),
        )
    assert isinstance(raster.data, da.Array)
    assert raster.dtype == np.uint8
    assert raster.attrs["crs"] == "EPSG:32650" and raster.attrs["nodata"] == NO_DATA
    with dask.config.set(scheduler="sync"):
        np.testing.assert_array_equal(raster.values, expected_codes())


def test_numpy_inputs_still_give_a_lazy_raster() -> None:
    s = scene()
    with dask.config.set(scheduler=_raising_scheduler):
        raster = change_raster(composite(s["nb"]), composite(s["na"]))
    assert isinstance(raster.data, da.Array)
    codes = expected_codes()
    codes[(codes == CLASS_CHANGE) | (codes == NO_DATA)] = NO_CHANGE
    codes[8, 1:3] = INDEX_DROP
    codes[10:12, 10:16] = INDEX_DROP  # no QA gap in these composites: the drop there is real
    np.testing.assert_array_equal(raster.values, codes)


def test_patches_areas_carbon_and_classes_by_hand() -> None:
    result = run()
    p = result.polygons
    assert p.crs.to_epsg() == 32650
    # order: largest first, ties by first pixel in row-major order (B at row 8 before D at 13)
    assert list(p["pixels"]) == [20, 12, 12, 10]
    assert list(p["kind"]) == ["index_drop", "both", "class_change", "class_change"]
    assert list(p["from_class"]) == [2, 2, 5, 6]
    assert list(p["to_class"]) == [2, 7, 4, 5]
    assert list(p["to_name"]) == [
        "other_forest",
        "built_up",
        "paddy_farmland",
        "wetland_vegetation",
    ]
    assert list(p["index_drop"]) == [True, True, False, False]
    assert list(p["class_change"]) == [False, True, True, True]
    np.testing.assert_allclose(p["area_ha"], [0.20, 0.12, 0.12, 0.10], rtol=1e-12)
    np.testing.assert_allclose(p["area_mu"], [3.0, 1.8, 1.8, 1.5], rtol=1e-12)
    # A: 19 px × 50 t C/ha × 0.01 ha (one pixel without density); B: 12 × 80 × 0.01;
    # D: 12 × 20 × 0.01; C: 0
    np.testing.assert_allclose(p["carbon_lost_t"], [9.5, 9.6, 2.4, 0.0], rtol=1e-12)
    np.testing.assert_allclose(p["carbon_lost_tco2e"], np.array([9.5, 9.6, 2.4, 0]) * 44 / 12)
    np.testing.assert_allclose(p["area_without_density_ha"], [0.01, 0, 0, 0], atol=1e-15)
    # mean drop: A 0.8 − 0.3; B (2 × 0.6 + 10 × 0) / 12; C, D 0
    np.testing.assert_allclose(p["mean_index_drop"], [0.5, 0.1, 0.0, 0.0], atol=1e-6)
    # polygons are the pixel blocks; their projected areas are pixel counts × 100 m²
    assert p.geometry.iloc[0].equals(cell_box(1, 5, 1, 6))
    assert p.geometry.iloc[1].equals(cell_box(8, 11, 1, 5))
    assert p.geometry.iloc[2].equals(cell_box(13, 16, 9, 13))
    assert p.geometry.iloc[3].equals(cell_box(13, 15, 1, 6))
    np.testing.assert_allclose(p.geometry.area / 10_000, p["pixels"] * PX_HA, rtol=1e-12)
    to_ll = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(X0 + RES * 3.5, Y0 - RES * 3.0)  # centre of A
    assert p["centroid_lon"].iloc[0] == pytest.approx(lon, abs=1e-9)
    assert p["centroid_lat"].iloc[0] == pytest.approx(lat, abs=1e-9)


def test_summary_totals_by_kind_and_transition() -> None:
    summary = run().summary
    json.dumps(summary, allow_nan=False)  # JSON-ready
    assert summary["patches"] == 4
    assert (summary["before"], summary["after"]) == ("2023", "2024")
    assert summary["min_patch_px"] == 10
    assert summary["disturbed_pixels"] == 54
    assert summary["disturbed_area_ha"] == pytest.approx(0.54)
    assert summary["carbon_lost_t"] == pytest.approx(21.5)
    assert summary["carbon_lost_tco2e"] == pytest.approx(21.5 * 44 / 12)
    assert summary["small_patch_area_ha"] == pytest.approx(0.09)  # E
    assert summary["no_data_area_ha"] == pytest.approx(0.12)  # N
    assert summary["area_without_density_ha"] == pytest.approx(0.01)
    kinds = summary["by_kind"]
    assert kinds["index_drop"] == {"patches": 1, "area_ha": 0.2, "carbon_lost_t": 9.5}
    assert kinds["both"]["patches"] == 1 and kinds["both"]["carbon_lost_t"] == pytest.approx(9.6)
    assert kinds["class_change"]["patches"] == 2
    assert kinds["class_change"]["area_ha"] == pytest.approx(0.22)
    assert kinds["class_change"]["carbon_lost_t"] == pytest.approx(2.4)
    trans = {(t["from_class"], t["to_class"]): t for t in summary["by_transition"]}
    assert {k: v["pixels"] for k, v in trans.items()} == {
        (2, 2): 20,
        (2, 7): 12,
        (5, 4): 12,
        (6, 5): 10,
    }
    assert trans[(2, 7)]["from_name"] == "other_forest" and trans[(2, 7)]["to_name"] == "built_up"
    assert trans[(5, 4)]["carbon_lost_t"] == pytest.approx(2.4)
    assert trans[(2, 2)]["area_ha"] == pytest.approx(0.2)


def test_no_data_is_never_change() -> None:
    result = run(ChangeSpec(min_patch_px=1))
    codes = result.raster.values
    assert (codes[10:12, 10:16] == NO_DATA).all()
    assert ((codes == NO_DATA) == (expected_codes() == NO_DATA)).all()
    nodata_area = cell_box(10, 12, 10, 16)
    overlap = result.polygons.geometry.intersection(nodata_area).area
    assert overlap.max() == 0.0
    # the 1-px E pixel (9, 15) touches the gap but stays alone (gap pixels are not change)
    e = result.polygons[result.polygons["pixels"] == 9]
    assert len(e) == 1 and e["kind"].iloc[0] == "index_drop"


def test_minimum_patch_size_and_connectivity() -> None:
    assert ChangeSpec().min_pixels(0.01) == 10  # 0.1 ha at 10 m, despite 0.1/0.01 = 10.000…02
    assert ChangeSpec().min_pixels(0.04) == 3  # 20 m: 0.1 / 0.04 = 2.5 px → 3
    assert ChangeSpec(min_patch_px=9).min_pixels(0.01) == 9
    # E (9 px, diagonal) is kept at 9 px under 8-connectivity …
    p9 = run(ChangeSpec(min_patch_px=9)).polygons
    assert sorted(p9["pixels"]) == [9, 10, 12, 12, 20]
    e = p9[p9["pixels"] == 9].geometry.iloc[0]
    assert e.area == pytest.approx(9 * 100.0)
    assert e.equals(shapely.union_all([cell_box(1 + k, 2 + k, 7 + k, 8 + k) for k in range(9)]))
    # … and falls apart into single pixels under 4-connectivity
    p4 = run(ChangeSpec(min_patch_px=9, connectivity=4)).polygons
    assert sorted(p4["pixels"]) == [10, 12, 12, 20]
    p1 = run(ChangeSpec(min_patch_px=1, connectivity=4)).polygons
    assert sorted(p1["pixels"]) == [1] * 9 + [10, 12, 12, 20]
    # ha form: 0.13 ha = 13 px keeps only A
    big = run(ChangeSpec(min_patch_ha=0.13))
    assert list(big.polygons["pixels"]) == [20]
    assert big.summary["small_patch_area_ha"] == pytest.approx((12 + 12 + 10 + 9) * PX_HA)


def test_drop_thresholds_are_configurable() -> None:
    nb = np.full((6, 6), 0.95)
    na = nb.copy()
    na[1:4, 1:5] = 0.72  # drop 0.23 ≥ 0.2, but 24 % < 25 % of 0.95
    before, after = composite(nb), composite(na)
    assert int(change_raster(before, after).values.max()) == NO_CHANGE
    flagged = change_raster(before, after, spec=ChangeSpec(min_relative_drop=0.2)).values
    assert (flagged == INDEX_DROP).sum() == 12 and (flagged[1:4, 1:5] == INDEX_DROP).all()
    assert (change_raster(before, after, spec=ChangeSpec(min_drop=0.3)).values == 0).all()


def test_filtered_raster_matches_polygons_and_stays_lazy() -> None:
    result = run(chunks=8)
    assert isinstance(result.raster.data, da.Array)
    with dask.config.set(scheduler=_raising_scheduler):
        filtered = result.filtered_raster()
    assert isinstance(filtered.data, da.Array)
    want = expected_codes()
    for k in range(9):
        want[1 + k, 7 + k] = NO_CHANGE  # E below the minimum size
    np.testing.assert_array_equal(filtered.values, want)
    changed = int(((want >= INDEX_DROP) & (want <= BOTH)).sum())
    assert changed == result.polygons["pixels"].sum()


def test_wgs84_export() -> None:
    result = run()
    ll = result.polygons_wgs84()
    assert ll.crs.to_epsg() == 4326
    assert len(ll) == 4
    minx, miny, maxx, maxy = ll.total_bounds
    assert 119.0 < minx < maxx < 119.2 and 30.6 < miny < maxy < 30.8  # Huzhou
    centre_x = shapely.get_x(shapely.centroid(ll.geometry.to_numpy()))  # ~1 m patches: planar ok
    np.testing.assert_allclose(centre_x, result.polygons["centroid_lon"], atol=1e-7)


def test_without_classes_or_density() -> None:
    s = scene()
    result = detect_change(
        composite(s["nb"], s["vb"]), composite(s["na"], s["va"]), spec=ChangeSpec(min_patch_px=2)
    )
    p = result.polygons
    assert list(p["pixels"]) == [20, 9, 2]  # A, E, B's two dropping pixels
    assert set(p["kind"]) == {"index_drop"} and (p["from_class"] == 0).all()
    assert p["from_name"].isna().all() and p["carbon_lost_t"].isna().all()
    assert result.summary["carbon_lost_t"] is None and result.summary["wetland"] is None
    json.dumps(result.summary, allow_nan=False)


def test_nothing_changed() -> None:
    nb = np.full((5, 5), 0.6)
    result = detect_change(composite(nb), composite(nb), density_before=yx(np.ones((5, 5))))
    assert len(result.polygons) == 0
    assert result.summary["patches"] == 0 and result.summary["carbon_lost_t"] == 0.0
    assert int(result.filtered_raster().values.max()) == 0


# --------------------------------------------------------------------------------------------
# tiling: the same patches whatever the tile size; oracle = scipy on the whole mask


@pytest.mark.parametrize(("connectivity", "tile_px", "chunks"), [(8, 7, None), (4, 16, 16)])
def test_tiles_give_the_whole_raster_answer(
    connectivity: int, tile_px: int, chunks: int | None
) -> None:
    rng = np.random.default_rng(7)
    h, w = 45, 50
    nb = np.full((h, w), 0.8)
    na = np.where(rng.random((h, w)) < 0.3, 0.3, 0.8)
    cb = rng.integers(1, 4, (h, w)).astype(np.uint8)
    ca = np.where(rng.random((h, w)) < 0.1, np.uint8(4), cb)
    dens = rng.uniform(-5, 60, (h, w))
    dens[rng.random((h, w)) < 0.05] = np.nan
    spec = ChangeSpec(min_patch_px=6, connectivity=connectivity)

    def go(tile: int, ch: int | None) -> Any:
        return detect_change(
            composite(nb, chunks=ch),
            composite(na, chunks=ch),
            classes_before=yx(cb, ch),
            classes_after=yx(ca, ch),
            density_before=yx(dens, ch),
            spec=spec,
            tile_px=tile,
        )

    whole, tiled = go(4096, None), go(tile_px, chunks)
    changed = (na < 0.5) | (cb != ca)
    structure = ndimage.generate_binary_structure(2, 2 if connectivity == 8 else 1)
    labels, _ = ndimage.label(changed, structure=structure)
    sizes = np.bincount(labels.ravel())[1:]
    kept = np.flatnonzero(sizes >= 6) + 1
    keep_mask = np.isin(labels, kept)
    carbon = np.bincount(
        labels.ravel(), weights=np.nan_to_num(np.maximum(dens, 0)).ravel() * PX_HA
    )[kept]
    for result in (whole, tiled):
        p = result.polygons
        assert sorted(p["pixels"]) == sorted(sizes[sizes >= 6])
        assert p["carbon_lost_t"].sum() == pytest.approx(carbon.sum(), rel=1e-12)
        assert sorted(np.round(p["carbon_lost_t"], 9)) == sorted(np.round(carbon, 9))
        np.testing.assert_allclose(p.geometry.area / 10_000, p["area_ha"], rtol=1e-12)
        assert result.summary["disturbed_pixels"] == keep_mask.sum()
        f = result.filtered_raster().values
        np.testing.assert_array_equal((f >= 1) & (f <= 3), keep_mask)
    assert len(tiled.polygons) > 5
    cols = ["patch_id", "pixels", "kind", "from_class", "to_class", "index_drop", "class_change"]
    assert whole.polygons[cols].equals(tiled.polygons[cols])
    for col in ("carbon_lost_t", "mean_index_drop", "centroid_lon", "centroid_lat"):
        # sums in another order: equal to rounding
        np.testing.assert_allclose(whole.polygons[col], tiled.polygons[col], rtol=1e-12)
    for a, b in zip(whole.polygons.geometry, tiled.polygons.geometry, strict=True):
        assert a.equals(b)


def test_patch_crossing_tile_corners_diagonally() -> None:
    n = 12
    nb = np.full((n, n), 0.8)
    na = nb.copy()
    na[np.arange(n), np.arange(n)] = 0.2  # the main diagonal crosses every tile corner
    na[np.arange(n), n - 1 - np.arange(n)] = 0.2  # and the anti-diagonal
    for tile in (4, 3, 5):
        p = detect_change(
            composite(nb), composite(na), spec=ChangeSpec(min_patch_px=2), tile_px=tile
        )
        assert list(p.polygons["pixels"]) == [24]
        p4 = detect_change(
            composite(nb),
            composite(na),
            spec=ChangeSpec(min_patch_px=2, connectivity=4),
            tile_px=tile,
        )
        assert list(p4.polygons["pixels"]) == [4]  # only the 2 × 2 block where they cross


# --------------------------------------------------------------------------------------------
# wetland no-net-loss


def test_wetland_balance_by_hand() -> None:
    s = scene()
    bal = wetland_area_change(yx(s["cb"]), yx(s["ca"]), pixel_area_ha=PX_HA)
    water, veg = bal["categories"]["open_water"], bal["categories"]["wetland_vegetation"]
    # water 32 px before, 10 became wetland vegetation; vegetation 32 px, +10, −12 to paddy
    assert water["before_ha"] == pytest.approx(0.32) and water["after_ha"] == pytest.approx(0.22)
    assert water["lost_ha"] == pytest.approx(0.10) and water["gained_ha"] == 0.0
    assert veg["before_ha"] == pytest.approx(0.32) and veg["after_ha"] == pytest.approx(0.30)
    assert veg["gained_ha"] == pytest.approx(0.10) and veg["lost_ha"] == pytest.approx(0.12)
    assert veg["net_ha"] == pytest.approx(-0.02)
    wet = bal["wetland"]
    assert wet["before_ha"] == pytest.approx(0.64) and wet["after_ha"] == pytest.approx(0.52)
    assert wet["lost_ha"] == pytest.approx(0.12) and wet["gained_ha"] == 0.0  # water→veg is no loss
    assert wet["net_ha"] == pytest.approx(-0.12)
    assert wet["lost_to"] == [
        {"class": 4, "name": "paddy_farmland", "area_ha": pytest.approx(0.12)}
    ]
    assert bal["no_net_loss"] is False
    assert bal["excluded_ha"] == pytest.approx(0.06)  # classes_after 0 in 6 px
    json.dumps(bal, allow_nan=False)
    # detect_change reports the same balance
    assert run().summary["wetland"] == bal


def test_wetland_compensated_loss_and_custom_codes() -> None:
    cb = np.zeros((4, 6), np.uint8)
    cb[:, :3] = 5  # 12 px wetland vegetation
    cb[:, 3:] = 4  # 12 px paddy
    ca = cb.copy()
    ca[0, :3] = 7  # 3 px wetland → built-up
    ca[1:3, 3:5] = 6  # 4 px paddy → new open water (compensation, 占补)
    bal = wetland_area_change(yx(cb, 2), yx(ca, 2), pixel_area_ha=0.04)
    assert bal["wetland"]["lost_ha"] == pytest.approx(3 * 0.04)
    assert bal["wetland"]["gained_ha"] == pytest.approx(4 * 0.04)
    assert bal["wetland"]["net_ha"] == pytest.approx(0.04)
    assert bal["no_net_loss"] is True
    assert bal["wetland"]["gained_from"][0]["class"] == 4
    assert bal["categories"]["wetland_vegetation"]["no_net_loss"] is False
    # paddy counted as wetland: the loss is to built-up only, gains are internal
    custom = wetland_area_change(yx(cb), yx(ca), pixel_area_ha=0.04, classes={"wet": (4, 5, 6)})
    assert custom["wetland"]["net_ha"] == pytest.approx(-3 * 0.04)
    assert custom["no_net_loss"] is False


# --------------------------------------------------------------------------------------------
# bad input


def test_bad_inputs_are_named() -> None:
    s = scene()
    before, after = composite(s["nb"]), composite(s["na"])
    shifted = composite(s["na"], transform=[RES, 0, X0 + 10, 0, -RES, Y0])
    with pytest.raises(InputError, match="same grid"):
        detect_change(before, shifted)
    with pytest.raises(InputError, match="projected grid"):
        detect_change(
            composite(s["nb"], crs="EPSG:4326", transform=[1e-4, 0, 119, 0, -1e-4, 31]),
            composite(s["na"], crs="EPSG:4326", transform=[1e-4, 0, 119, 0, -1e-4, 31]),
        )
    with pytest.raises(InputError, match="B08"):
        change_raster(before.sel(band=["B02", "B03", "B04"]), after)
    with pytest.raises(InputError, match="B11"):
        composite_index(before, name="MNDWI")
    with pytest.raises(InputError, match="unknown index"):
        change_raster(before, after, spec=ChangeSpec(index="XYZ"))
    with pytest.raises(InputError, match="both classes_before and classes_after"):
        change_raster(before, after, classes_before=yx(s["cb"]))
    with pytest.raises(InputError, match="classes_after is 15"):
        change_raster(before, after, classes_before=yx(s["cb"]), classes_after=yx(s["ca"][:15]))
    with pytest.raises(InputError, match="integer class codes"):
        change_raster(before, after, classes_before=yx(s["cb"]), classes_after=yx(s["ca"] * 1.0))
    with pytest.raises(InputError, match="valid_count"):
        detect_change(before.drop_vars("valid_count"), after)
    with pytest.raises(InputError, match="connectivity"):
        ChangeSpec(connectivity=6)
    with pytest.raises(InputError, match="min_drop"):
        ChangeSpec(min_drop=0)
    with pytest.raises(InputError, match="both open water and wetland"):
        ChangeSpec(open_water_classes=(5,))
    with pytest.raises(InputError, match="pixel_area_ha"):
        wetland_area_change(yx(s["cb"]), yx(s["ca"]), pixel_area_ha=0)


def test_precomputed_index_variable() -> None:
    before = composite(np.full((6, 6), 0.5))
    after = composite(np.full((6, 6), 0.5))
    nbr = np.full((6, 6), 0.6, np.float32)
    before["nbr_custom"] = (("y", "x"), nbr)
    drop = nbr.copy()
    drop[:2, :] = 0.1
    after["nbr_custom"] = (("y", "x"), drop)
    codes = change_raster(before, after, spec=ChangeSpec(index="nbr_custom")).values
    assert (codes[:2] == INDEX_DROP).all() and (codes[2:] == NO_CHANGE).all()
