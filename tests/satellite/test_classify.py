"""Classifier: metrics by hand, spatially blocked CV, real-data accuracy, chunked prediction."""

from __future__ import annotations

import json
from typing import Any

import dask
import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import xarray as xr
from scipy.spatial import cKDTree
from sklearn.metrics import cohen_kappa_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from mrv.errors import InputError
from pipelines.satellite.classes import class_table
from pipelines.satellite.classify import (
    CV_METHOD,
    MLPModel,
    accuracy_metrics,
    confusion_matrix,
    fit_model,
    predict_classes,
    predict_probabilities,
    predict_table,
    spatial_folds,
    train_classifier,
)
from pipelines.satellite.samples import TrainingTable, extract_samples, read_labels
from tests.real_data import EOLEARN

REAL = EOLEARN
CRS = "EPSG:32650"
TRANSFORM = [10.0, 0.0, 600_000.0, 0.0, -10.0, 3_400_000.0]

# spring/winter reflectance of B02, B04, B08, B11 for four classes (forest, paddy, water, built-up)
SPECTRA = np.array(
    [
        [0.03, 0.035, 0.38, 0.20, 0.035, 0.06, 0.20, 0.20],
        [0.05, 0.07, 0.15, 0.12, 0.07, 0.12, 0.21, 0.28],
        [0.06, 0.05, 0.03, 0.015, 0.055, 0.045, 0.025, 0.012],
        [0.10, 0.13, 0.19, 0.24, 0.10, 0.13, 0.19, 0.24],
    ]
)


def synthetic_scene(size: int = 96, seed: int = 0) -> tuple[xr.DataArray, np.ndarray]:
    """Voronoi patches of 4 classes; per-patch spectral variation, pixel noise. Returns
    (features (8, y, x) float32, truth codes 1-4)."""
    rng = np.random.default_rng(seed)
    seeds = rng.uniform(0, size, (size * size // 100, 2))
    patch_class = rng.choice(4, len(seeds), p=[0.4, 0.3, 0.1, 0.2])
    yy, xx = np.mgrid[0:size, 0:size]
    _, nearest = cKDTree(seeds).query(np.column_stack([yy.ravel(), xx.ravel()]))
    nearest = nearest.reshape(size, size)
    factor = np.exp(rng.normal(0, 0.15, (len(seeds), 8)) + rng.normal(0, 0.15, (len(seeds), 1)))
    refl = (SPECTRA[patch_class] * factor)[nearest]
    refl = refl * (1 + rng.normal(0, 0.05, refl.shape)) + rng.normal(0, 0.01, refl.shape)
    features = xr.DataArray(
        np.moveaxis(refl, -1, 0).astype(np.float32),
        dims=("feature", "y", "x"),
        coords={
            "feature": [
                f"{s}_{b}" for s in ("spring", "winter") for b in ("B02", "B04", "B08", "B11")
            ]
        },
        attrs={"crs": CRS, "transform": TRANSFORM},
    )
    return features, (patch_class[nearest] + 1).astype(np.uint8)


def table_from_truth(
    features: xr.DataArray, truth: np.ndarray, *, n: int, block_px: int, seed: int = 0
) -> TrainingTable:
    rng = np.random.default_rng(seed)
    size_x = truth.shape[1]
    idx = rng.choice(truth.size, n, replace=False)
    rows, cols = np.divmod(idx, size_x)
    classes = class_table(["forest", "paddy", "water", "built_up"])
    return TrainingTable(
        X=np.ascontiguousarray(features.values[:, rows, cols].T),
        y=truth[rows, cols],
        block=(rows // block_px) * 1000 + cols // block_px,
        x_coord=TRANSFORM[2] + (cols + 0.5) * 10.0,
        y_coord=TRANSFORM[5] - (rows + 0.5) * 10.0,
        feature_names=tuple(str(v) for v in features["feature"].values),
        classes=classes,
        block_size_m=block_px * 10.0,
        crs=CRS,
    )


@pytest.fixture(scope="module")
def scene() -> tuple[xr.DataArray, np.ndarray]:
    return synthetic_scene()


@pytest.fixture(scope="module")
def mlp(scene: tuple[xr.DataArray, np.ndarray]) -> MLPModel:
    features, truth = scene
    table = table_from_truth(features, truth, n=2000, block_px=12)
    model = fit_model(table.X, table.y, feature_names=table.feature_names, seed=3)
    assert isinstance(model, MLPModel)
    return model


def test_metrics_of_a_tiny_confusion_matrix_by_hand() -> None:
    cm = np.array([[5, 1, 0], [2, 3, 1], [0, 1, 7]])  # rows reference, columns map
    m = accuracy_metrics(cm)
    # N = 20, diagonal 15; rows 6, 6, 8; columns 7, 5, 8
    assert m.overall_accuracy == pytest.approx(0.75)
    pe = (6 * 7 + 6 * 5 + 8 * 8) / 400  # 0.34
    assert m.kappa == pytest.approx((0.75 - pe) / (1 - pe))  # 0.62121…
    np.testing.assert_allclose(m.users_accuracy, [5 / 7, 3 / 5, 7 / 8])
    np.testing.assert_allclose(m.producers_accuracy, [5 / 6, 3 / 6, 7 / 8])
    # the same from per-sample labels, with scikit-learn as an independent oracle
    ref = np.repeat([1, 1, 2, 2, 2, 3, 3], [5, 1, 2, 3, 1, 1, 7])
    pred = np.repeat([1, 2, 1, 2, 3, 2, 3], [5, 1, 2, 3, 1, 1, 7])
    np.testing.assert_array_equal(confusion_matrix(ref, pred, [1, 2, 3]), cm)
    assert m.kappa == pytest.approx(cohen_kappa_score(ref, pred))


def test_confusion_matrix_orientation_matches_scikit_learn() -> None:
    rng = np.random.default_rng(5)
    ref = rng.choice([1, 4, 6, 7], 500)
    pred = np.where(rng.random(500) < 0.7, ref, rng.choice([1, 4, 6, 7], 500))
    np.testing.assert_array_equal(
        confusion_matrix(ref, pred, [1, 4, 6, 7]),
        sk_confusion_matrix(ref, pred, labels=[1, 4, 6, 7]),
    )
    m = accuracy_metrics(confusion_matrix(ref, pred, [1, 4, 6, 7]))
    assert m.kappa == pytest.approx(cohen_kappa_score(ref, pred))


def test_folds_hold_out_whole_blocks() -> None:
    rng = np.random.default_rng(0)
    block = rng.integers(0, 60, 3000).astype(np.int64)
    y = rng.integers(1, 5, 3000).astype(np.uint8)
    fold = spatial_folds(block, y, folds=5, seed=11)
    assert set(fold.tolist()) == {0, 1, 2, 3, 4}
    for k in range(5):
        test_blocks = set(block[fold == k].tolist())
        train_blocks = set(block[fold != k].tolist())
        assert test_blocks and not test_blocks & train_blocks
    with pytest.raises(InputError, match="3 spatial blocks cannot make 5 folds"):
        spatial_folds(block % 3, y, folds=5, seed=0)


def test_spatial_blocks_stop_leakage_that_a_random_pixel_split_has() -> None:
    # labels are random per 5 × 5-pixel block and the features are the pixel coordinates: a
    # model can only memorise blocks. A random pixel split scores high (neighbours of a test
    # pixel were in training); spatial-block CV must fall to chance (4 classes: 0.25).
    rng = np.random.default_rng(2)
    rows, cols = np.divmod(np.arange(60 * 60), 60)
    block = ((rows // 5) * 12 + cols // 5).astype(np.int64)
    y = rng.integers(1, 5, 144).astype(np.uint8)[block]
    x = np.column_stack([rows, cols]).astype(np.float32) + rng.normal(0, 0.1, (3600, 2)).astype(
        np.float32
    )
    params = {"n_estimators": 30, "num_leaves": 63, "num_threads": 1}
    table = TrainingTable(
        X=x, y=y, block=block, x_coord=cols * 10.0, y_coord=rows * -10.0, feature_names=("r", "c"),
        classes=class_table(["a", "b", "c", "d"]), block_size_m=50.0, crs=CRS,
    )  # fmt: skip
    result = train_classifier(table, model="lightgbm", folds=5, seed=1, params=params)
    assert result.overall_accuracy < 0.4
    random_fold = rng.integers(0, 5, 3600)
    hits = 0
    for k in range(5):
        test = random_fold == k
        model = fit_model(
            x[~test], y[~test], feature_names=("r", "c"), model="lightgbm", params=params
        )
        hits += int(np.sum(predict_table(model, x[test]) == y[test]))
    assert hits / 3600 > 0.8


@pytest.fixture(scope="module")
def real_table(tmp_path_factory: pytest.TempPathFactory) -> TrainingTable:
    scenes = np.load(REAL / "REFERENCE_SCENES.npy")[[2, 3, 4]]  # the three clear scenes
    bands = [f"B{i:02d}" for i in range(1, 9)] + ["B8A", "B09", "B10", "B11", "B12"]
    x0, y0, x1, y1 = 465181.0522318204, 5079244.8912012065, 466180.53145382757, 5080254.63349641
    features = xr.DataArray(
        np.moveaxis(scenes, -1, 1).reshape(39, 101, 100),
        dims=("feature", "y", "x"),
        coords={"feature": [f"{d}_{b}" for d in ("0909", "0830", "0711") for b in bands]},
        attrs={"crs": "EPSG:32633", "transform": [(x1 - x0) / 100, 0, x0, 0, -(y1 - y0) / 101, y1]},
    )
    gdf = gpd.read_file(REAL / "TestEOPatch" / "vector_timeless" / "LULC.gpkg")
    path = tmp_path_factory.mktemp("real") / "lulc.gpkg"
    gdf[gdf["LULC_NAME"].str.strip() != ""].to_file(path)
    names = ["cultivated land", "forest", "grassland", "schrubland", "artificial surface"]
    labels = read_labels(path, label_column="LULC_NAME", classes=names)
    return extract_samples(
        features, labels, label_column="LULC_NAME", classes=names, block_size_m=100.0
    )


def test_block_cv_on_real_data_beats_the_majority_class_clearly(real_table: TrainingTable) -> None:
    majority = max(real_table.pixels_per_class().values()) / real_table.n_samples
    assert majority == pytest.approx(0.764, abs=0.001)  # forest
    result = train_classifier(real_table, folds=5, seed=0)
    assert result.cv == {
        "method": CV_METHOD, "folds": 5, "block_size_m": 100.0, "blocks": 110, "seed": 0,
    }  # fmt: skip
    assert result.overall_accuracy > majority + 0.1  # measured 0.916 (LightGBM: 0.904)
    assert result.kappa > 0.6
    # the reported metrics are those of the out-of-fold predictions
    cm = sk_confusion_matrix(real_table.y, result.oof_prediction, labels=[1, 2, 3, 4, 5])
    np.testing.assert_array_equal(result.confusion_matrix, cm)
    assert result.overall_accuracy == pytest.approx(np.trace(cm) / cm.sum())
    assert result.users_accuracy["forest"] == pytest.approx(cm[1, 1] / cm[:, 1].sum())
    assert result.producers_accuracy["grassland"] == pytest.approx(cm[2, 2] / cm[2].sum())
    for k in range(5):  # no block is both trained on and tested in a fold
        assert not set(real_table.block[result.fold == k]) & set(real_table.block[result.fold != k])
    summary = json.loads(json.dumps(result.to_dict()))
    assert summary["classes"][1] == "forest" and summary["cv"]["method"] == "spatial-block k-fold"


def test_whole_array_and_chunked_predictions_are_identical(
    scene: tuple[xr.DataArray, np.ndarray], mlp: MLPModel
) -> None:
    features, truth = scene
    values = features.values.copy()
    values[3, 10, 20] = np.nan
    values[:, 50, 60] = np.nan
    values[0, 70, 5] = np.inf
    whole = mlp.predict_block(values)
    assert whole.shape == truth.shape and whole.dtype == np.uint8
    assert whole[10, 20] == whole[50, 60] == whole[70, 5] == 0
    assert np.mean(whole[whole > 0] == truth[whole > 0]) > 0.8
    chunked = features.copy(data=da.from_array(values, chunks=(8, 17, 23)))
    lazy = predict_classes(mlp, chunked)
    assert lazy.dims == ("y", "x") and lazy.dtype == np.uint8
    assert lazy.attrs["transform"] == TRANSFORM and lazy.attrs["nodata"] == 0
    np.testing.assert_array_equal(lazy.compute().values, whole)
    # numpy-backed input is tiled the same way
    np.testing.assert_array_equal(
        predict_classes(mlp, features.copy(data=values), chunk_px=32).values, whole
    )
    prob = predict_probabilities(mlp, chunked).compute().values
    np.testing.assert_array_equal(prob, mlp.probability_block(values))
    ok = whole > 0
    np.testing.assert_allclose(prob[:, ok].sum(axis=0), 1.0, rtol=1e-5)
    assert np.isnan(prob[:, 50, 60]).all()
    np.testing.assert_array_equal(
        np.asarray(mlp.class_codes)[prob[:, ok].argmax(axis=0)], whole[ok]
    )


def _forbid_compute(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the prediction graph was computed while being built")


def test_building_the_prediction_computes_nothing(
    scene: tuple[xr.DataArray, np.ndarray], mlp: MLPModel
) -> None:
    features, _ = scene
    lazy_features = features.copy(data=da.from_array(features.values, chunks=(8, 48, 48)) * 1.0)
    with dask.config.set(scheduler=_forbid_compute):
        classes = predict_classes(mlp, lazy_features)
        prob = predict_probabilities(mlp, lazy_features)
    assert isinstance(classes.data, da.Array) and isinstance(prob.data, da.Array)
    assert classes.data.chunks == ((48, 48), (48, 48))
    np.testing.assert_array_equal(classes.compute().values, mlp.predict_block(features.values))


def test_kernel_equals_a_numpy_forward_pass(mlp: MLPModel) -> None:
    rng = np.random.default_rng(9)
    x = rng.uniform(0, 0.4, (8, 5000)).astype(np.float32)
    hidden = np.maximum(mlp.w1t.astype(np.float64) @ x + mlp.b1[:, None], 0)
    logits = mlp.w2t.astype(np.float64) @ hidden + mlp.b2[:, None]
    want = np.asarray(mlp.class_codes)[logits.argmax(axis=0)]
    top2 = np.sort(logits, axis=0)[-2:]
    clear = top2[1] - top2[0] > 1e-3  # float32 vs float64 may only differ on near ties
    got = mlp.predict_block(x)
    np.testing.assert_array_equal(got[clear], want[clear])
    assert clear.mean() > 0.99


def test_features_are_matched_by_name(
    scene: tuple[xr.DataArray, np.ndarray], mlp: MLPModel
) -> None:
    features, _ = scene
    order = features["feature"].values[::-1]
    shuffled = features.sel(feature=order)
    np.testing.assert_array_equal(
        predict_classes(mlp, shuffled).values, predict_classes(mlp, features).values
    )
    with pytest.raises(InputError, match="features lack spring_B04"):
        predict_classes(mlp, features.drop_sel(feature=["spring_B04"]))


def test_two_classes_and_lightgbm_reference(scene: tuple[xr.DataArray, np.ndarray]) -> None:
    features, truth = scene
    table = table_from_truth(features, truth, n=1500, block_px=12, seed=4)
    two = table.y <= 2
    for name in ("mlp", "lightgbm"):
        model = fit_model(
            table.X[two], table.y[two], feature_names=table.feature_names, model=name,  # type: ignore[arg-type]
            params={"n_estimators": 20, "num_threads": 1} if name == "lightgbm" else None,
        )  # fmt: skip
        assert model.class_codes == (1, 2)
        pred = predict_table(model, table.X[two])
        assert np.mean(pred == table.y[two]) > 0.9
        prob = model.probability_block(table.X[two].T)
        assert prob.shape == (2, int(two.sum()))
        np.testing.assert_allclose(prob.sum(axis=0), 1.0, rtol=1e-5)


def test_bad_options(scene: tuple[xr.DataArray, np.ndarray]) -> None:
    features, truth = scene
    table = table_from_truth(features, truth, n=300, block_px=12)
    with pytest.raises(InputError, match="unknown model 'svm'"):
        train_classifier(table, model="svm")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="at least 2 folds"):
        train_classifier(table, folds=1)
    with pytest.raises(InputError, match="dims"):
        predict_classes(fit_model(table.X, table.y, feature_names=table.feature_names), features.T)
