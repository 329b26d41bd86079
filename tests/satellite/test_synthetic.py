"""Synthetic Sentinel-2 L2A generator: truth, observations, SCL, files, samples, dask cube."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from shapely.geometry import box

from mrv.errors import InputError
from mrv.geo import area_ha, read_boundary
from pipelines.satellite import _spectra
from pipelines.satellite.cube import check_cube
from pipelines.satellite.synthetic import (
    DEFAULT_BANDS,
    OFF_YEAR,
    ON_YEAR,
    SyntheticSpec,
    Truth,
    boa_offset,
    cloud_fraction,
    from_dn,
    generate_truth,
    sample_labels,
    sample_plots,
    simulate_reflectance,
    solar_position,
    synthetic_cube,
    to_dn,
    truth_class_at,
    write_scenes,
    write_truth,
)

REPO = Path(__file__).resolve().parents[2]
TEN_M = ("B02", "B03", "B04", "B08")


@pytest.fixture(scope="module")
def small() -> tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray]:
    spec = SyntheticSpec(size_px=128, seed=7)
    truth = generate_truth(spec)
    refl, scl = simulate_reflectance(truth, spec)
    return spec, truth, refl, scl


@pytest.fixture(scope="module")
def medium() -> tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray]:
    spec = SyntheticSpec(size_px=256, seed=3)
    truth = generate_truth(spec)
    refl, scl = simulate_reflectance(truth, spec)
    return spec, truth, refl, scl


def _rowcol(truth: Truth, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    g = truth.grid
    x, y = Transformer.from_crs("EPSG:4326", g.crs, always_xy=True).transform(
        np.asarray(lon), np.asarray(lat)
    )
    col = np.floor((np.asarray(x) - g.transform[2]) / g.transform[0]).astype(int)
    row = np.floor((np.asarray(y) - g.transform[5]) / g.transform[4]).astype(int)
    return row, col


# ---- spec and grid -----------------------------------------------------------------------


def test_default_spec_lies_in_anji_on_a_sentinel2_aligned_utm_grid() -> None:
    spec = SyntheticSpec()
    anji = read_boundary(REPO / "aoi" / "counties" / "330523.geojson", "gcj02")
    assert anji.contains(spec.aoi)
    assert area_ha(spec.aoi) == pytest.approx(2_500, rel=0.02)  # a 5 × 5 km block
    g = spec.grid
    assert (g.crs, g.width, g.height, g.resolution) == ("EPSG:32650", 512, 512, 10.0)
    assert g.transform[2] % 60 == 0 and g.transform[5] % 60 == 0
    left, bottom, right, top = g.bounds
    lon, lat = Transformer.from_crs(g.crs, "EPSG:4326", always_xy=True).transform(
        (left + right) / 2, (bottom + top) / 2
    )
    assert abs(lon - spec.aoi.centroid.x) < 0.002 and abs(lat - spec.aoi.centroid.y) < 0.002
    assert len(spec.dates) == 12 and spec.bands == DEFAULT_BANDS
    covers = spec.cloud_covers
    plum_rain = max(c for d, c in zip(spec.dates, covers, strict=True) if d.month in (6, 7))
    assert plum_rain == max(covers) and plum_rain > 2 * min(covers)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size_px": 63}, "even sides"),
        ({"width": 64, "height": 0}, "even sides"),
        ({"bands": ("B02", "B01")}, "bands"),
        ({"cloud_cover": (0.1,)}, "cloud_cover"),
        ({"dates": (datetime(2024, 5, 1), datetime(2024, 4, 1))}, "sorted"),
        ({"proportions": (("moso_bamboo", 1.0),)}, "proportions"),
    ],
)
def test_bad_spec_is_an_input_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        SyntheticSpec(**kwargs)


# ---- truth -------------------------------------------------------------------------------


def test_truth_is_deterministic_seeded_and_independent_of_strips(
    small: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    spec, truth, _, _ = small
    again = generate_truth(spec, strip_rows=34)
    other = generate_truth(SyntheticSpec(size_px=128, seed=8))
    for name in ("class_map", "carbon_tc_per_ha", "vigour", "bamboo_year", "elevation_m",
                 "slope_deg", "aspect_deg", "mix", "shift_days", "winter_crop"):  # fmt: skip
        assert np.array_equal(getattr(truth, name), getattr(again, name)), name
    assert not np.array_equal(truth.carbon_tc_per_ha, other.carbon_tc_per_ha)
    assert truth.class_map.dtype == np.uint8 and truth.carbon_tc_per_ha.dtype == np.float32
    assert truth.class_map.shape == (128, 128)


def test_class_proportions_follow_the_spec(
    medium: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    truth = medium[1]
    area = truth.area_ha()
    total = sum(area.values())
    assert total == pytest.approx(256 * 256 * 0.01)
    for name, share in _spectra.DEFAULT_PROPORTIONS.items():
        assert area[name] / total == pytest.approx(share, abs=0.015), name
    custom = dict(_spectra.DEFAULT_PROPORTIONS, moso_bamboo=0.45, other_forest=0.10)
    t2 = generate_truth(SyntheticSpec(size_px=128, seed=3, proportions=tuple(custom.items())))
    bamboo = {c.name: c.code for c in t2.classes}["moso_bamboo"]
    assert (t2.class_map == bamboo).mean() == pytest.approx(0.45, abs=0.02)


def test_classes_form_patches_not_salt_and_pepper(
    medium: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    cm = medium[1].class_map
    same_as_right = (cm[:, 1:] == cm[:, :-1]).mean()
    assert same_as_right > 0.9  # random labels with these shares would give ~0.2


def test_carbon_truth_ranges_and_vigour_link(
    medium: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    truth = medium[1]
    by = truth.carbon_by_class()
    for c in truth.classes:
        lo, hi = _spectra.CARBON_RANGE_TC_PER_HA[c.name]
        vals = truth.carbon_tc_per_ha[truth.class_map == c.code]
        assert vals.min() >= lo - 1e-4 and vals.max() <= hi + 1e-4, c.name
        assert by[c.name]["mean_tc_per_ha"] == pytest.approx(float(vals.mean()), rel=1e-5)
    assert by["open_water"]["total_tc"] == 0.0
    assert 25.0 < by["moso_bamboo"]["mean_tc_per_ha"] < 40.0
    assert 35.0 < by["other_forest"]["mean_tc_per_ha"] < 55.0
    assert 10.0 < by["tea_garden"]["mean_tc_per_ha"] < 20.0
    assert truth.carbon_total_tc() == pytest.approx(sum(v["total_tc"] for v in by.values()))
    bamboo = truth.class_map == 1
    r = np.corrcoef(truth.vigour[bamboo], truth.carbon_tc_per_ha[bamboo])[0, 1]
    assert 0.6 < r < 0.95  # vigour explains much, not all, of the density
    years = truth.bamboo_year
    assert set(np.unique(years[bamboo])) == {ON_YEAR, OFF_YEAR}
    assert (years[~bamboo] == 0).all()


def test_terrain_is_plausible_for_anji_hills(
    medium: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    truth = medium[1]
    codes = {c.name: c.code for c in truth.classes}
    paddy = truth.class_map == codes["paddy_farmland"]
    forest = np.isin(truth.class_map, [codes["moso_bamboo"], codes["other_forest"]])
    assert np.median(truth.elevation_m[paddy]) < 60 < np.median(truth.elevation_m[forest])
    assert np.median(truth.slope_deg[paddy]) < 5 < np.median(truth.slope_deg[forest]) < 35
    assert ((truth.aspect_deg >= 0) & (truth.aspect_deg < 360)).all()


# ---- reflectance and SCL -----------------------------------------------------------------


def test_reflectance_shapes_dtypes_ranges(
    small: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    spec, _, refl, scl = small
    assert refl.shape == (12, 10, 128, 128) and refl.dtype == np.float32
    assert scl.shape == (12, 128, 128) and scl.dtype == np.uint8
    assert np.isfinite(refl).all() and refl.min() >= 0.0 and refl.max() <= 1.0
    assert set(np.unique(scl)) <= {2, 3, 4, 5, 6, 7, 8, 9, 10}
    # 20 m bands and SCL are 20 m pixels: constant in every 2 × 2 block
    b11 = refl[:, spec.bands.index("B11")]
    assert np.array_equal(b11[:, ::2, ::2], b11[:, 1::2, 1::2])
    assert np.array_equal(scl[:, ::2, ::2], scl[:, 1::2, 0::2])
    b04 = refl[:, spec.bands.index("B04")]
    assert not np.array_equal(b04[:, ::2, ::2], b04[:, 1::2, 1::2])
    # values are quantised like L2A DN
    assert np.array_equal(from_dn(to_dn(refl)), refl)


def test_generation_is_deterministic_and_independent_of_strips(
    small: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    spec, truth, refl, scl = small
    r2, s2 = simulate_reflectance(truth, spec, strip_rows=22)
    assert np.array_equal(refl, r2) and np.array_equal(scl, s2)
    other, _ = simulate_reflectance(truth, SyntheticSpec(size_px=128, seed=7, bands=("B04",)))
    assert np.array_equal(other[:, 0], refl[:, spec.bands.index("B04")])


def test_dn_reflectance_round_trip_and_offsets() -> None:
    assert boa_offset("05.10") == -1000 and boa_offset("04.00") == -1000
    assert boa_offset("03.01") == 0
    rho = np.array([0.0, 0.1234, 0.5, 1.0, np.nan], np.float32)
    dn = to_dn(rho)
    assert dn.tolist() == [1000, 2234, 6000, 11000, 0]
    back = from_dn(dn)
    assert np.allclose(back[:4], rho[:4], atol=5e-5) and np.isnan(back[4])
    assert to_dn(rho, offset=0)[:3].tolist() == [1, 1234, 5000]  # DN 0 stays "no data"
    assert from_dn(np.array([2234], np.uint16), offset=0)[0] == pytest.approx(0.2234)
    with pytest.raises(InputError):
        boa_offset("x")


def test_cloud_fraction_in_range_and_plum_rain_cloudiest(
    medium: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    spec, _, _, scl = medium
    assert 0.20 <= cloud_fraction(scl) <= 0.40
    s20 = scl[:, ::2, ::2]
    cloud = np.isin(s20, (8, 9)).mean(axis=(1, 2))
    assert np.allclose(cloud, spec.cloud_covers, atol=0.04)
    june = next(i for i, d in enumerate(spec.dates) if d.month == 6)
    assert cloud[june] == cloud.max()
    clear = SyntheticSpec(size_px=64, seed=3, cloud_cover=(0.0,) * 12)
    _, s_clear = simulate_reflectance(generate_truth(clear), clear)
    assert not np.isin(s_clear, (3, 8, 9)).any()


def test_scl_clouds_bright_shadows_dark_and_cast_away_from_the_sun(
    medium: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    spec, truth, refl, scl = medium
    vis = refl[:, [spec.bands.index(b) for b in ("B02", "B03", "B04")]].mean(axis=1)
    thick = scl == 9
    clear = np.isin(scl, (4, 5, 6))
    assert vis[thick].mean() > 0.35 and (vis[thick] > 0.25).mean() > 0.99
    assert vis[clear].mean() < 0.12
    nir = refl[:, spec.bands.index("B08")]
    bamboo = (truth.class_map == 1)[None]
    assert nir[(scl == 3) & bamboo].mean() < 0.75 * nir[(scl == 4) & bamboo].mean()
    # every shadow whose sun-ward ray lies in the scene has its cloud on that ray
    checked = 0
    lat = spec.aoi.centroid.y
    for ti in range(len(spec.dates)):
        zen, az = solar_position(spec.dates[ti], lat)
        s20 = scl[ti, ::2, ::2]
        rows, cols = np.nonzero(s20 == 3)
        reach = math.ceil(3_000 * math.tan(math.radians(zen)) / 20) + 2
        dr, dc = -math.cos(math.radians(az)), math.sin(math.radians(az))
        end_r, end_c = rows + reach * dr, cols + reach * dc
        n_r, n_c = s20.shape[0] - 1, s20.shape[1] - 1
        inside = (end_r >= 0) & (end_r <= n_r) & (end_c >= 0) & (end_c <= n_c)
        rows, cols = rows[inside], cols[inside]
        hit = np.zeros(rows.size, bool)
        for d in range(1, reach + 1):
            hit |= np.isin(s20[np.rint(rows + d * dr).astype(int),
                               np.rint(cols + d * dc).astype(int)], (8, 9))  # fmt: skip
        assert hit.all(), spec.dates[ti]
        checked += rows.size
    assert checked > 500


def test_dark_area_pixels_are_shaded_hillsides(
    medium: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    spec, truth, _, scl = medium
    dark = scl == 2
    assert 0 < dark.mean() < 0.1
    lat = spec.aoi.centroid.y
    for ti in np.unique(np.nonzero(dark)[0]):
        _, az = solar_position(spec.dates[ti], lat)
        slope = truth.slope_deg[dark[ti]]
        away = np.cos(np.radians(truth.aspect_deg[dark[ti]] - az)) < 0
        assert np.median(slope) > 15 and away.mean() > 0.9


def test_phenology_paddy_flooded_in_june_green_in_august(
    medium: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    spec, truth, refl, scl = medium
    b = {name: spec.bands.index(name) for name in spec.bands}
    paddy = truth.class_map == 4

    def median_index(month: int, num: str, den: str) -> float:
        ti = next(i for i, d in enumerate(spec.dates) if d.month == month)
        ok = paddy & np.isin(scl[ti], (4, 5, 6))
        x, y = refl[ti, b[num]][ok], refl[ti, b[den]][ok]
        return float(np.median((x - y) / (x + y)))

    assert median_index(6, "B03", "B11") > 0.0  # MNDWI: flooded
    assert median_index(6, "B08", "B04") < 0.3  # NDVI low
    assert median_index(8, "B08", "B04") > 0.6  # canopy closed
    assert median_index(11, "B08", "B04") < 0.4  # harvested


def test_off_year_bamboo_red_edge_drops_in_spring(
    medium: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    spec, truth, refl, scl = medium
    b7, b5 = spec.bands.index("B07"), spec.bands.index("B05")
    april = next(i for i, d in enumerate(spec.dates) if d.month == 4)
    ndre = (refl[april, b7] - refl[april, b5]) / (refl[april, b7] + refl[april, b5])
    ok = np.isin(scl[april], (2, 4, 5))
    on = np.median(ndre[ok & (truth.bamboo_year == ON_YEAR)])
    off = np.median(ndre[ok & (truth.bamboo_year == OFF_YEAR)])
    assert on - off > 0.05


def test_composites_are_classifiable_but_not_trivially(
    medium: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    from sklearn.ensemble import RandomForestClassifier

    spec, truth, refl, scl = medium
    cloudy = np.isin(scl, (3, 8, 9, 10))[:, None]
    feats = []
    for months in ((3, 4, 5), (12, 1, 2)):  # spring and winter median composites
        idx = [i for i, d in enumerate(spec.dates) if d.month in months]
        srt = np.sort(np.where(cloudy[idx], np.inf, refl[idx]), axis=0)
        n = np.isfinite(srt).sum(axis=0)
        lo = np.take_along_axis(srt, np.maximum(n - 1, 0)[None] // 2, axis=0)[0]
        hi = np.take_along_axis(srt, n[None] // 2, axis=0)[0]
        feats.append(np.where(n > 0, 0.5 * (lo + hi), np.inf))
    x = np.concatenate(feats).reshape(len(feats) * 10, -1).T
    valid = np.isfinite(x).all(axis=1)
    y = truth.class_map.ravel()
    labels = sample_labels(truth, spec, n_per_class=150, seed=1)
    row, col = _rowcol(truth, labels.geometry.x, labels.geometry.y)
    checker = lambda r, c: ((r // 32) + (c // 32)) % 2 == 0
    train = checker(row, col) & valid[row * 256 + col]
    rf = RandomForestClassifier(60, random_state=0, n_jobs=1)
    rf.fit(x[row[train] * 256 + col[train]], y[row[train] * 256 + col[train]])
    rr, cc = np.divmod(np.arange(256 * 256), 256)
    test = ~checker(rr, cc) & valid
    oa = float((rf.predict(x[test]) == y[test]).mean())
    majority = np.bincount(y[test]).max() / test.sum()
    assert 0.7 < oa < 0.97 and oa > majority + 0.3


# ---- samples -----------------------------------------------------------------------------


def test_labels_fall_on_pixels_of_their_class(
    medium: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    spec, truth, _, _ = medium
    labels = sample_labels(truth, spec, n_per_class=40, seed=5)
    assert str(labels.crs) == "EPSG:4326"
    assert labels["land_cover"].value_counts().to_dict() == {c.name: 40 for c in truth.classes}
    names = truth.class_names()
    found = truth_class_at(truth, labels.geometry.x, labels.geometry.y)
    assert [names[int(k)] for k in found] == labels["land_cover"].tolist()
    row, col = _rowcol(truth, labels.geometry.x, labels.geometry.y)
    assert (truth.class_map[row, col] == labels["code"].to_numpy()).all()
    again = sample_labels(truth, spec, n_per_class=40, seed=5)
    assert again.geometry.equals(labels.geometry)
    assert truth_class_at(truth, [0.0], [0.0]).tolist() == [-1]


def test_plots_are_pure_stratified_and_carry_the_truth_plus_noise(
    medium: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    spec, truth, _, _ = medium
    plots = sample_plots(truth, spec, n_per_stratum=30, plot_area_m2=900, seed=2)
    assert list(plots.columns[:5]) == ["plot_id", "stratum", "lon", "lat", "stock_tc_per_ha"]
    assert plots["plot_id"].is_unique and len(plots) == 90
    assert plots["stratum"].value_counts().to_dict() == {
        "moso_bamboo": 30, "other_forest": 30, "tea_garden": 30,
    }  # fmt: skip
    codes = {c.name: c.code for c in truth.classes}
    row, col = _rowcol(truth, plots["lon"], plots["lat"])  # plot centre = corner of pixels
    for i, (r, c) in enumerate(zip(row, col, strict=True)):
        window = np.s_[r - 1 : r + 2, c - 1 : c + 2]  # 3 × 3 px = 900 m² around the centre
        assert (truth.class_map[window] == codes[plots["stratum"].iloc[i]]).all()
        expected = truth.carbon_tc_per_ha[window].astype(np.float64).mean()
        assert plots["true_stock_tc_per_ha"].iloc[i] == pytest.approx(expected, rel=1e-6)
    rel = plots["stock_tc_per_ha"] / plots["true_stock_tc_per_ha"] - 1.0
    assert 0.04 < rel.std() < 0.13 and abs(rel.mean()) < 0.04
    with pytest.raises(InputError, match="unknown strata"):
        sample_plots(truth, spec, n_per_stratum=3, seed=2, strata=("bamboo",))


# ---- dask cube ---------------------------------------------------------------------------


def _no_compute(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the cube was computed while being built")


def test_synthetic_cube_is_lazy_and_equals_whole_generation(
    small: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray],
) -> None:
    spec, truth, refl, scl = small
    with dask.config.set(scheduler=_no_compute):
        ds, truth2 = synthetic_cube(spec, chunk_px=48)
    check_cube(ds, bands=list(DEFAULT_BANDS))
    assert ds["reflectance"].chunks == ((1,) * 12, (10,), (48, 48, 32), (48, 48, 32))
    assert ds.attrs["crs"] == "EPSG:32650" and ds.attrs["product_level"] == "L2A"
    assert list(ds.attrs["transform"]) == list(spec.grid.transform)
    y, x = spec.grid.coords()
    assert np.array_equal(ds["y"].values, y) and np.array_equal(ds["x"].values, x)
    assert np.array_equal(truth2.class_map, truth.class_map)
    with dask.config.set(scheduler="sync"):
        assert np.array_equal(ds["reflectance"].values, refl)
        assert np.array_equal(ds["scl"].values, scl)
    assert ds["scl"].dtype == np.uint8


# ---- files -------------------------------------------------------------------------------


def test_band_files_have_product_names_grid_tags_and_values(tmp_path: Path) -> None:
    spec = SyntheticSpec(size_px=64, seed=11, dates=SyntheticSpec().dates[5:7])
    truth = generate_truth(spec)
    refl, scl = simulate_reflectance(truth, spec)
    files = write_scenes(tmp_path, truth, spec, block_px=16)
    assert len(files) == 2 * 11
    assert files[0].name == "T50RQU_20240608T024559_B02_10m.tif"
    assert {f.name for f in files[:11]} >= {
        "T50RQU_20240608T024559_B11_20m.tif", "T50RQU_20240608T024559_SCL_20m.tif",
    }  # fmt: skip
    a, _, c, _, e, f = spec.grid.transform
    for path in files[:11]:
        band = path.name.split("_")[2]
        with rasterio.open(path) as src:
            assert src.crs.to_string() == "EPSG:32650" and src.nodata == 0
            assert src.profile["tiled"] and src.block_shapes[0] == (16, 16)
            assert src.compression.name.lower() == "deflate"
            assert src.descriptions == (band,)
            tags = src.tags()
            assert tags["BOA_ADD_OFFSET"] == "-1000" and tags["PROCESSING_BASELINE"] == "05.10"
            assert tags["ACQUISITION_DATETIME"] == "2024-06-08T02:45:59Z"
            data = src.read(1)
            if band == "SCL":
                assert src.dtypes[0] == "uint8" and src.res == (20.0, 20.0)
                assert np.array_equal(data, scl[0, ::2, ::2])
                continue
            assert src.dtypes[0] == "uint16"
            k = spec.bands.index(band)
            scale = 1 if band in TEN_M else 2
            assert src.transform == rasterio.Affine(a * scale, 0, c, 0, e * scale, f)
            assert data.shape == (64 // scale, 64 // scale)
            expected = refl[0, k, ::scale, ::scale]
            assert np.array_equal(from_dn(data, offset=-1000), expected)


def test_multiband_and_safe_layouts(tmp_path: Path) -> None:
    spec = SyntheticSpec(size_px=32, seed=2, dates=SyntheticSpec().dates[:2])
    truth = generate_truth(spec)
    refl, scl = simulate_reflectance(truth, spec)
    multi = write_scenes(tmp_path / "m", truth, spec, layout="multiband", block_px=16)
    assert [p.name for p in multi] == [
        "S2_L2A_T50RQU_20240110T024559.tif", "S2_L2A_T50RQU_20240209T024559.tif",
    ]  # fmt: skip
    with rasterio.open(multi[1]) as src:
        assert src.descriptions == (*DEFAULT_BANDS, "SCL")
        data = src.read()
    assert np.array_equal(from_dn(data[:10]), refl[1])
    assert np.array_equal(data[10], scl[1])

    safe = write_scenes(tmp_path / "s", truth, spec, layout="safe", cog=True, block_px=16)
    b04 = next(p for p in safe if p.name.endswith("_B04_10m.tif"))
    assert b04.parent.name == "R10m" and b04.parents[2].name.startswith("L2A_T50RQU_")
    product = b04.parents[4]
    assert product.name == "S2A_MSIL2A_20240110T024559_N0510_R089_T50RQU_20240110T024559.SAFE"
    assert [p.parent.name for p in safe if "_B11_" in p.name] == ["R20m", "R20m"]
    root = ET.parse(product / "MTD_MSIL2A.xml").getroot()
    offsets = [el.text for el in root.iter("BOA_ADD_OFFSET")]
    assert offsets == ["-1000"] * 13
    assert next(root.iter("BOA_QUANTIFICATION_VALUE")).text == "10000"
    assert next(root.iter("PROCESSING_BASELINE")).text == "05.10"
    with rasterio.open(b04) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert np.array_equal(from_dn(src.read(1)), refl[0, DEFAULT_BANDS.index("B04")])
    with pytest.raises(InputError, match="layout"):
        write_scenes(tmp_path, truth, spec, layout="zarr")  # type: ignore[arg-type]


def test_threaded_writing_gives_the_same_files(tmp_path: Path) -> None:
    spec = SyntheticSpec(size_px=32, seed=4, dates=SyntheticSpec().dates[:3], bands=("B04",))
    truth = generate_truth(spec)
    one = write_scenes(tmp_path / "a", truth, spec, block_px=16)
    two = write_scenes(tmp_path / "b", truth, spec, block_px=16, workers=2, strip_rows=8)
    assert [p.name for p in one] == [p.name for p in two]
    for p, q in zip(one, two, strict=True):
        with rasterio.open(p) as a, rasterio.open(q) as b:
            assert np.array_equal(a.read(), b.read())


def test_write_truth(tmp_path: Path) -> None:
    spec = SyntheticSpec(size_px=32, seed=1, aoi=box(119.55, 30.55, 119.56, 30.56))
    truth = generate_truth(spec)
    paths = write_truth(tmp_path, truth, spec)
    assert [p.name for p in paths] == [
        "truth_class.tif", "truth_carbon_tc_per_ha.tif", "truth_bamboo_year.tif",
        "truth_elevation_m.tif", "truth.json",
    ]  # fmt: skip
    with rasterio.open(paths[0]) as src:
        assert np.array_equal(src.read(1), truth.class_map) and src.nodata == 0
        assert list(src.transform)[:6] == list(spec.grid.transform)
        assert json.loads(src.tags()["classes"])["1"] == "moso_bamboo"
    with rasterio.open(paths[1]) as src:
        assert np.array_equal(src.read(1), truth.carbon_tc_per_ha)
    summary = json.loads(paths[-1].read_text())
    assert summary["carbon_total_tc"] == pytest.approx(truth.carbon_total_tc())
    assert summary["classes"]["open_water"] == 6


def test_truth_for_another_grid_is_refused(
    small: tuple[SyntheticSpec, Truth, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    truth = small[1]
    with pytest.raises(InputError, match="another grid"):
        simulate_reflectance(truth, SyntheticSpec(size_px=64, seed=7))
    with pytest.raises(InputError, match="another grid"):
        write_scenes(tmp_path, truth, SyntheticSpec(size_px=128, seed=7, crs="EPSG:32651"))


def test_write_demo_writes_scenes_truth_labels_and_plots(tmp_path: Path) -> None:
    import geopandas as gpd
    import pandas as pd

    from pipelines.satellite.synthetic import main

    assert main([str(tmp_path), "--size", "64", "--dates", "2", "--seed", "4"]) == 0
    assert len(list((tmp_path / "scenes").glob("T50RQU_*_B04_10m.tif"))) == 2
    labels = gpd.read_file(tmp_path / "labels.geojson")
    truth = generate_truth(SyntheticSpec(size_px=64, seed=4, dates=SyntheticSpec().dates[:2]))
    codes = truth_class_at(truth, labels.geometry.x, labels.geometry.y)
    names = truth.class_names()
    assert [names[int(k)] for k in codes] == labels["land_cover"].tolist()
    plots = pd.read_csv(tmp_path / "plots.csv")
    assert set(plots["stratum"]) == {"moso_bamboo", "other_forest", "tea_garden"}
    summary = json.loads((tmp_path / "truth" / "truth.json").read_text())
    assert summary["carbon_total_tc"] == pytest.approx(truth.carbon_total_tc())
