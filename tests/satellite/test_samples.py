"""Labels → training pixels: class checks, point/polygon placement, blocks, bad input."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import xarray as xr
from pyproj import Transformer
from shapely.geometry import LineString, Point, box

from mrv.errors import FileFormatError, InputError
from pipelines.satellite.classes import class_table
from pipelines.satellite.samples import (
    CODE_COLUMN,
    block_ids,
    extract_samples,
    read_labels,
)
from tests.real_data import EOLEARN

REAL = EOLEARN

X0, Y0, RES = 600_000.0, 3_400_000.0, 10.0  # top-left corner, EPSG:32650 (Huzhou)
CRS = "EPSG:32650"
CLASSES = ["moso_bamboo", "open_water", "built_up"]


def position_features(height: int = 40, width: int = 50) -> xr.DataArray:
    """Features that encode the pixel: f0 = row, f1 = col, f2 = 1000·row + col."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    data = np.stack([rows, cols, 1000 * rows + cols])
    return xr.DataArray(
        data,
        dims=("feature", "y", "x"),
        coords={"feature": ["row", "col", "id"]},
        attrs={"crs": CRS, "transform": [RES, 0.0, X0, 0.0, -RES, Y0]},
    )


def centre(row: float, col: float) -> tuple[float, float]:
    return X0 + (col + 0.5) * RES, Y0 - (row + 0.5) * RES


def cell(r0: int, c0: int, r1: int, c1: int) -> object:
    """Polygon covering pixel rows r0…r1-1 and cols c0…c1-1 (edges on pixel edges)."""
    return box(X0 + c0 * RES, Y0 - r1 * RES, X0 + c1 * RES, Y0 - r0 * RES)


def write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    gdf.to_file(path)
    return path


def test_points_in_another_crs_sample_their_pixel(tmp_path: Path) -> None:
    # points at (near) pixel centres, written in WGS84 lon/lat; each must land on its pixel
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 40, 60)
    cols = rng.integers(0, 50, 60)
    keep = np.unique(rows * 50 + cols, return_index=True)[1]
    rows, cols = rows[keep], cols[keep]
    x, y = centre(
        rows + rng.uniform(-0.3, 0.3, rows.size), cols + rng.uniform(-0.3, 0.3, rows.size)
    )
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
    names = np.array(CLASSES)[np.arange(rows.size) % 3]
    gdf = gpd.GeoDataFrame(
        {"lc": names}, geometry=[Point(a, b) for a, b in zip(lon, lat, strict=True)], crs=4326
    )
    labels = read_labels(write(gdf, tmp_path / "pts.geojson"), label_column="lc", classes=CLASSES)
    assert labels.crs.to_epsg() == 4326
    assert labels[CODE_COLUMN].tolist() == [CLASSES.index(n) + 1 for n in names]

    table = extract_samples(
        position_features(),
        labels,
        label_column="lc",
        classes=CLASSES,
        block_size_m=100.0,
        min_pixels_per_class=5,
    )
    assert table.n_samples == rows.size
    got = dict(zip(table.X[:, 2].astype(int).tolist(), table.y.tolist(), strict=True))
    want = dict(
        zip((1000 * rows + cols).tolist(), (np.arange(rows.size) % 3 + 1).tolist(), strict=True)
    )
    assert got == want
    # coordinates are the pixel centres of the sampled pixels
    np.testing.assert_allclose(table.x_coord, X0 + (table.X[:, 1] + 0.5) * RES)
    np.testing.assert_allclose(table.y_coord, Y0 - (table.X[:, 0] + 0.5) * RES)
    assert table.feature_names == ("row", "col", "id")
    assert table.X.dtype == np.float32 and not table.X.flags.writeable


def test_polygons_rasterise_every_pixel_inside_and_blocks_are_square_cells() -> None:
    gdf = gpd.GeoDataFrame(
        {"lc": ["moso_bamboo", "open_water", "built_up", "built_up"]},
        geometry=[cell(0, 0, 4, 6), cell(10, 22, 13, 27), cell(30, 40, 32, 45), cell(35, 2, 37, 7)],
        crs=CRS,
    )
    table = extract_samples(
        position_features(),
        gdf,
        label_column="lc",
        classes=CLASSES,
        block_size_m=50.0,
        min_pixels_per_class=5,
    )
    assert table.pixels_per_class() == {"moso_bamboo": 24, "open_water": 15, "built_up": 20}
    rows, cols = table.X[:, 0].astype(int), table.X[:, 1].astype(int)
    water = table.y == 2
    assert set(zip(rows[water], cols[water], strict=True)) == {
        (r, c) for r in range(10, 13) for c in range(22, 27)
    }
    # 50 m blocks = 5 × 5 pixels, 10 block columns across the 50-pixel grid
    np.testing.assert_array_equal(table.block, (rows // 5) * 10 + cols // 5)
    assert table.blocks_per_class() == {"moso_bamboo": 2, "open_water": 2, "built_up": 3}
    assert table.dropped == {"nan_features": 0, "conflicting_labels": 0, "outside_grid": 0}


def test_block_ids_by_hand() -> None:
    from pipelines.satellite.cube import Grid

    grid = Grid(CRS, (10.0, 0.0, 1000.0, 0.0, -10.0, 5000.0), 25, 25)  # 250 m square
    x = np.array([1000.1, 1099.9, 1100.0, 1249.0, 1005.0])
    y = np.array([4999.0, 4999.0, 4999.0, 4751.0, 4899.0])
    # 100 m cells: 3 block columns; (col, row) = (0,0), (0,0), (1,0), (2,2), (0,1)
    np.testing.assert_array_equal(block_ids(x, y, grid, 100.0), [0, 0, 1, 8, 3])


def test_overlaps_nan_features_and_outside_labels_are_reported() -> None:
    feats = position_features()
    data = feats.values.copy()
    data[0, 18, 18] = np.nan  # one pixel inside the water polygon
    feats = feats.copy(data=data)
    gdf = gpd.GeoDataFrame(
        {"lc": ["moso_bamboo", "moso_bamboo", "open_water", "built_up", "built_up", "open_water"]},
        geometry=[
            cell(0, 0, 4, 4),
            cell(2, 2, 6, 6),  # same class overlap: counted once
            cell(18, 18, 22, 22),
            cell(20, 20, 24, 24),  # conflicts with water on 2 × 2 pixels
            cell(30, 30, 33, 35),
            Point(X0 - 500, Y0 + 500),  # outside the grid
        ],
        crs=CRS,
    )
    table = extract_samples(
        feats, gdf, label_column="lc", classes=CLASSES, block_size_m=30.0, min_pixels_per_class=5
    )
    assert table.dropped == {"nan_features": 1, "conflicting_labels": 4, "outside_grid": 1}
    # bamboo: union of two 4×4 squares overlapping on 2×2 = 28 pixels
    # water: 16 − 4 conflicting − 1 NaN = 11; built-up: 16 − 4 + 15 = 27
    assert table.pixels_per_class() == {"moso_bamboo": 28, "open_water": 11, "built_up": 27}


def test_dask_backed_features_give_the_same_table() -> None:
    feats = position_features()
    lazy = feats.copy(data=da.from_array(feats.values, chunks=(3, 7, 9)))
    gdf = gpd.GeoDataFrame(
        {"lc": ["moso_bamboo", "open_water", "built_up"]},
        geometry=[cell(0, 0, 5, 8), cell(12, 14, 17, 30), cell(30, 3, 38, 9)],
        crs=CRS,
    )
    kw = {"label_column": "lc", "classes": CLASSES, "block_size_m": 60.0}
    a = extract_samples(feats, gdf, **kw)  # type: ignore[arg-type]
    b = extract_samples(lazy, gdf, **kw)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.block, b.block)


def test_real_polygons_match_the_shipped_label_raster(tmp_path: Path) -> None:
    # eo-learn rasterised the same LULC polygons onto this grid (mask_timeless/LULC.npy);
    # our rasterisation of the GeoPackage must reproduce it pixel for pixel
    gdf = gpd.read_file(REAL / "TestEOPatch" / "vector_timeless" / "LULC.gpkg")
    gdf = gdf[gdf["LULC_NAME"].str.strip() != ""]  # 4 no-data polygons
    path = write(gdf, tmp_path / "lulc.gpkg")
    names = ["cultivated land", "forest", "grassland", "schrubland", "artificial surface"]
    labels = read_labels(path, label_column="LULC_NAME", classes=names)
    x0, y0, x1, y1 = 465181.0522318204, 5079244.8912012065, 466180.53145382757, 5080254.63349641
    transform = [(x1 - x0) / 100, 0.0, x0, 0.0, -(y1 - y0) / 101, y1]
    rows, cols = np.mgrid[0:101, 0:100].astype(np.float32)
    feats = xr.DataArray(
        np.stack([rows, cols]),
        dims=("feature", "y", "x"),
        attrs={"crs": "EPSG:32633", "transform": transform},
    )
    table = extract_samples(
        feats, labels, label_column="LULC_NAME", classes=names, block_size_m=100
    )
    lulc_id = np.array([1, 2, 3, 4, 8])[table.y - 1]
    mine = np.zeros((101, 100), dtype=np.int64)
    mine[table.X[:, 0].astype(int), table.X[:, 1].astype(int)] = lulc_id
    reference = np.load(REAL / "TestEOPatch" / "mask_timeless" / "LULC.npy")[..., 0]
    np.testing.assert_array_equal(mine, reference)
    assert table.feature_names == ("f0", "f1")


def test_unknown_class_names_list_the_features_and_the_known_classes(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"lc": ["Moso_Bamboo ", "bamboo", "open_water", None, "forest"]},
        geometry=[Point(X0 + 5 + 10 * i, Y0 - 5) for i in range(5)],
        crs=CRS,
    )
    path = write(gdf, tmp_path / "labels.gpkg")
    with pytest.raises(InputError) as err:
        read_labels(path, label_column="lc", classes=CLASSES)
    message = str(err.value)
    assert "3 label feature(s)" in message
    assert "'moso_bamboo' (1), 'open_water' (2), 'built_up' (3)" in message
    # GeoPackage fids start at 1: features 2, 4, 5 are bad ("Moso_Bamboo " matches)
    assert [(p.feature, p.reason) for p in err.value.problems] == [
        ("2", "unknown class 'bamboo'"),
        ("4", "missing class label"),
        ("5", "unknown class 'forest'"),
    ]
    assert all(p.file == str(path) and p.column == "lc" for p in err.value.problems)


def test_integer_label_column_is_read_as_codes(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"code": [1, 3, 9]}, geometry=[Point(X0 + 5, Y0 - 5 - 10 * i) for i in range(3)], crs=CRS
    )
    with pytest.raises(InputError, match="unknown class 9"):
        read_labels(write(gdf, tmp_path / "c.gpkg"), label_column="code", classes=CLASSES)
    labels = read_labels(
        write(gdf.iloc[:2], tmp_path / "d.gpkg"), label_column="code", classes=class_table()
    )
    assert labels[CODE_COLUMN].tolist() == [1, 3]


def test_bad_label_files(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="not found"):
        read_labels(tmp_path / "missing.gpkg", label_column="lc", classes=CLASSES)
    (tmp_path / "junk.gpkg").write_bytes(b"not a geopackage")
    with pytest.raises(FileFormatError, match="not a readable vector file"):
        read_labels(tmp_path / "junk.gpkg", label_column="lc", classes=CLASSES)
    pts = gpd.GeoDataFrame({"lc": ["built_up"]}, geometry=[Point(X0 + 5, Y0 - 5)], crs=CRS)
    path = write(pts, tmp_path / "p.gpkg")
    with pytest.raises(InputError, match=r"no column 'class' \(columns: lc\)"):
        read_labels(path, label_column="class", classes=CLASSES)
    lines = gpd.GeoDataFrame(
        {"lc": ["built_up", "built_up"]},
        geometry=[Point(X0 + 5, Y0 - 5), LineString([(X0, Y0), (X0 + 50, Y0 - 50)])],
        crs=CRS,
    )
    with pytest.raises(InputError, match="unusable geometry") as err:
        read_labels(write(lines, tmp_path / "l.gpkg"), label_column="lc", classes=CLASSES)
    assert err.value.problems[0].feature == "2"
    assert "LineString" in err.value.problems[0].reason
    no_crs = gpd.GeoDataFrame({"lc": ["built_up"]}, geometry=[Point(X0 + 5, Y0 - 5)])
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        write(no_crs, tmp_path / "n.gpkg")
    with pytest.raises(InputError, match="no CRS"):
        read_labels(tmp_path / "n.gpkg", label_column="lc", classes=CLASSES)


def test_too_few_pixels_or_blocks_name_the_class() -> None:
    gdf = gpd.GeoDataFrame(
        {"lc": ["moso_bamboo", "moso_bamboo", "open_water", "built_up"]},
        geometry=[
            cell(0, 0, 4, 4),
            cell(20, 20, 24, 24),
            cell(10, 40, 13, 43),
            cell(30, 5, 35, 10),
        ],
        crs=CRS,
    )
    feats = position_features()
    # 100 m blocks: water has 9 pixels (< 10); built-up 25 pixels but all in one block
    with pytest.raises(InputError) as err:
        extract_samples(feats, gdf, label_column="lc", classes=CLASSES, block_size_m=100.0)
    assert "'open_water', 'built_up'" in str(err.value)
    reasons = [p.reason for p in err.value.problems]
    assert reasons[0].startswith("class 'open_water' has 9 labelled pixel(s) in 1 spatial block")
    assert reasons[1].startswith("class 'built_up' has 25 labelled pixel(s) in 1 spatial block")
    # a class with no labels at all is refused too
    with pytest.raises(InputError, match="'other'"):
        extract_samples(
            feats,
            gdf,
            label_column="lc",
            classes=[*CLASSES, "other"],
            block_size_m=100.0,
            min_pixels_per_class=1,
            min_blocks_per_class=1,
        )
    # the minima are configurable
    table = extract_samples(
        feats,
        gdf,
        label_column="lc",
        classes=CLASSES,
        block_size_m=100.0,
        min_pixels_per_class=9,
        min_blocks_per_class=1,
    )
    assert table.n_samples == 32 + 9 + 25


def test_geographic_grid_is_refused() -> None:
    feats = position_features()
    feats.attrs = {"crs": "EPSG:4326", "transform": [0.0001, 0.0, 120.0, 0.0, -0.0001, 31.0]}
    gdf = gpd.GeoDataFrame({"lc": ["built_up"]}, geometry=[Point(120.0001, 30.9999)], crs=4326)
    with pytest.raises(InputError, match="not in metres"):
        extract_samples(feats, gdf, label_column="lc", classes=CLASSES)


def test_labels_that_miss_the_grid_are_refused() -> None:
    far = gpd.GeoDataFrame(
        {"lc": ["built_up", "open_water"]},
        geometry=[Point(X0 - 5_000, Y0), box(X0 + 10_000, Y0, X0 + 10_100, Y0 + 100)],
        crs=CRS,
    )
    with pytest.raises(InputError, match="none of the 2 label features overlaps the feature grid"):
        extract_samples(position_features(), far, label_column="lc", classes=CLASSES)
    # a sliver inside the grid that holds no pixel centre yields no sample at all
    sliver = gpd.GeoDataFrame(
        {"lc": ["built_up"]}, geometry=[box(X0 + 1, Y0 - 4, X0 + 4, Y0 - 1)], crs=CRS
    )
    with pytest.raises(InputError, match="'built_up' has 0 labelled pixel"):
        extract_samples(position_features(), sliver, label_column="lc", classes=["built_up"])
