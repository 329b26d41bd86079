"""The satellite commands end to end on a synthetic scene stack with known truths, and the same
runs on a 2-worker dask.distributed LocalCluster giving identical results."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import rasterio

from pipelines.satellite.synthetic import (
    SyntheticSpec,
    generate_truth,
    sample_labels,
    sample_plots,
    truth_class_at,
    write_scenes,
)

DATES = tuple(datetime(2024, 1, 10) + timedelta(days=round(i * 365 / 12)) for i in range(12))
SPEC = SyntheticSpec(size_px=160, dates=DATES, seed=3)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("synthetic")
    truth = generate_truth(SPEC)
    write_scenes(folder / "scenes", truth, SPEC, layout="bands")
    labels = sample_labels(truth, SPEC, n_per_class=120, seed=5)
    labels.to_file(folder / "labels.geojson", driver="GeoJSON")
    plots = sample_plots(truth, SPEC, n_per_stratum=30, plot_area_m2=100, seed=6)
    plots.drop(columns="geometry").to_csv(folder / "plots.csv", index=False)
    return {"folder": folder, "truth": truth}


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read()


def _assessment(truth: Any, land_cover: Path, folder: Path, n: int = 60) -> Path:
    """A random sample stratified by MAP class, labelled with the truth (Olofsson's design)."""
    with rasterio.open(land_cover) as src:
        mapped = src.read(1)
        transform = src.transform
        crs = src.crs
    rng = np.random.default_rng(42)
    rows, cols = [], []
    for code in np.unique(mapped[mapped > 0]):
        idx = np.flatnonzero(mapped.ravel() == code)
        pick = rng.choice(idx, size=min(n, idx.size), replace=False)
        r, c = np.divmod(pick, mapped.shape[1])
        rows.append(r)
        cols.append(c)
    r, c = np.concatenate(rows), np.concatenate(cols)
    xs, ys = rasterio.transform.xy(transform, r, c)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=crs).to_crs(4326)
    ref = truth_class_at(truth, points.geometry.x, points.geometry.y)
    names = {cl.code: cl.name for cl in truth.classes}
    points["reference"] = [names[int(v)] for v in ref]
    path = folder / "assessment.geojson"
    points.to_file(path, driver="GeoJSON")
    return path


def test_composite_classify_carbon_change(cli, data: dict[str, Any], tmp_path: Path) -> None:
    folder, truth = data["folder"], data["truth"]
    scenes = folder / "scenes"
    code, out, err = cli(
        "satellite", "composite", "--scenes", scenes, "--out", tmp_path / "c", "--json"
    )
    assert code == 0, err
    comp = json.loads(out)
    assert [s["season"] for s in comp["seasons"]] == ["spring", "summer", "autumn", "winter"]
    assert all(len(s["dates"]) == 3 for s in comp["seasons"])
    counts = _read(tmp_path / "c" / "valid_count_summer.tif")[0]
    assert counts.max() <= 3
    assert float((counts == 0).mean()) == pytest.approx(
        comp["seasons"][1]["nodata_fraction"], abs=1e-6
    )  # rounded to 6 decimals

    code, out, err = cli(
        "satellite",
        "classify",
        "--scenes",
        scenes,
        "--labels",
        folder / "labels.geojson",
        "--label-column",
        "land_cover",
        "--out",
        tmp_path / "k",
        "--json",
    )
    assert code == 0, err
    k = json.loads(out)
    assert {"overall_accuracy", "kappa", "classes", "confusion_matrix", "cv", "areas"} <= set(k)
    assert k["cv"]["method"] == "spatial-block k-fold"
    assert k["cv"]["folds"] == 5
    mapped = _read(tmp_path / "k" / "land_cover.tif")[0]
    assert float((mapped == truth.class_map).mean()) > 0.85  # map vs truth, every pixel
    assert k["overall_accuracy"] > 0.8
    # map areas add up to the mapped pixels; with a map-stratified sample, areas cover the truth
    assert sum(a["map_area_ha"] for a in k["areas"]) == pytest.approx(
        float((mapped > 0).sum()) * 0.01
    )
    assessment = _assessment(truth, tmp_path / "k" / "land_cover.tif", folder)
    code, out, err = cli(
        "satellite",
        "classify",
        "--scenes",
        scenes,
        "--labels",
        folder / "labels.geojson",
        "--label-column",
        "land_cover",
        "--assessment",
        assessment,
        "--assessment-column",
        "reference",
        "--out",
        tmp_path / "k2",
        "--json",
    )
    assert code == 0, err
    areas = {a["class"]: a for a in json.loads(out)["areas"]}
    true_area = truth.area_ha()
    # a class whose sample holds no error gets a zero-width interval: allow two pixels there
    covered = [
        abs(areas[c]["adjusted_area_ha"] - true_area[c]) <= max(areas[c]["ci95_ha"], 0.02)
        for c in areas
    ]
    assert sum(covered) >= len(covered) - 1  # 95 % intervals: at most one of 8 may miss

    code, out, err = cli(
        "satellite",
        "carbon",
        "--scenes",
        scenes,
        "--plots",
        folder / "plots.csv",
        "--land-cover",
        tmp_path / "k" / "land_cover.tif",
        "--out",
        tmp_path / "m",
        "--json",
    )
    assert code == 0, err
    m = json.loads(out)
    ma, po = m["total"]["model_assisted"], m["total"]["plots_only"]
    assert ma["ci90_high_tc"] - ma["ci90_low_tc"] < po["ci90_high_tc"] - po["ci90_low_tc"]
    strata_codes = [1, 2, 3]  # the plots' strata: moso bamboo, other forest, tea garden
    in_strata = np.isin(mapped, strata_codes)
    true_total = float(truth.carbon_tc_per_ha[in_strata].sum()) * 0.01
    assert ma["ci90_low_tc"] <= true_total <= ma["ci90_high_tc"]
    density = _read(tmp_path / "m" / "carbon_density.tif")[0]
    assert np.isnan(density[~in_strata]).all()  # classes without plots are not mapped
    bounds = _read(tmp_path / "m" / "carbon_uncertainty.tif")
    ok = in_strata & np.isfinite(density)
    assert (bounds[0][ok] <= density[ok]).all()
    assert (density[ok] <= bounds[1][ok]).all()
    inside = (bounds[0] <= truth.carbon_tc_per_ha) & (truth.carbon_tc_per_ha <= bounds[1])
    assert 0.8 <= float(inside[ok].mean()) <= 0.99  # pixel-level 90 % intervals

    code, out, err = cli(
        "satellite",
        "change",
        "--before",
        tmp_path / "c" / "composite_summer.tif",
        "--after",
        tmp_path / "c" / "composite_autumn.tif",
        "--density",
        tmp_path / "m" / "carbon_density.tif",
        "--out",
        tmp_path / "d",
        "--json",
    )
    assert code == 0, err
    d = json.loads(out)
    codes = _read(tmp_path / "d" / "change.tif")[0]
    changed = (codes >= 1) & (codes <= 3)
    assert d["disturbed_area_ha"] == pytest.approx(float(changed.sum()) * 0.01)
    polygons = gpd.read_file(tmp_path / "d" / "disturbances.gpkg")
    assert float(polygons["area_ha"].sum()) == pytest.approx(d["disturbed_area_ha"])
    catalog = json.loads((tmp_path / "d" / "catalog.json").read_text())
    assert len([link for link in catalog["links"] if link["rel"] == "item"]) == 4


@pytest.mark.enable_socket
def test_local_cluster_gives_the_local_results(cli, data: dict[str, Any], tmp_path: Path) -> None:
    from distributed import LocalCluster

    folder = data["folder"]
    args = [
        "--scenes",
        folder / "scenes",
        "--labels",
        folder / "labels.geojson",
        "--label-column",
        "land_cover",
        "--season",
        "spring:03-01:05-31",
        "--season",
        "winter:12-01:02-28",
        "--json",
    ]
    code, local, err = cli("satellite", "classify", *args, "--out", tmp_path / "local")
    assert code == 0, err
    with LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=None, processes=True
    ) as cluster:
        code, remote, err = cli(
            "satellite",
            "classify",
            *args,
            "--out",
            tmp_path / "remote",
            "--scheduler",
            cluster.scheduler_address,
        )
    assert code == 0, err
    a, b = json.loads(local), json.loads(remote)
    for key in ("overall_accuracy", "kappa", "confusion_matrix", "areas"):
        assert a[key] == b[key]
    np.testing.assert_array_equal(
        _read(tmp_path / "local" / "land_cover.tif"), _read(tmp_path / "remote" / "land_cover.tif")
    )


def test_bad_inputs_exit_2(cli, data: dict[str, Any], tmp_path: Path) -> None:
    folder = data["folder"]
    scenes = folder / "scenes"
    code, _, err = cli(
        "satellite",
        "composite",
        "--scenes",
        scenes,
        "--season",
        "monsoon:2023-06-01:2023-07-31",
        "--out",
        tmp_path / "x",
    )
    assert code == 2
    assert "season 'monsoon'" in err
    assert not (tmp_path / "x").exists()
    far = tmp_path / "far.geojson"
    far.write_text(
        json.dumps(
            {
                "type": "Polygon",
                "coordinates": [
                    [[120.3, 30.9], [120.4, 30.9], [120.4, 31.0], [120.3, 31.0], [120.3, 30.9]]
                ],
            }
        )
    )
    code, _, err = cli(
        "satellite", "composite", "--scenes", scenes, "--aoi", far, "--out", tmp_path / "y"
    )
    assert code == 2
    assert "outside" in err
    labels = gpd.read_file(folder / "labels.geojson")
    labels.loc[labels.index[:3], "land_cover"] = "mangrove"
    bad = tmp_path / "bad_labels.geojson"
    labels.to_file(bad, driver="GeoJSON")
    code, _, err = cli(
        "satellite",
        "classify",
        "--scenes",
        scenes,
        "--labels",
        bad,
        "--label-column",
        "land_cover",
        "--out",
        tmp_path / "z",
    )
    assert code == 2
    assert "mangrove" in err
    code, _, err = cli(
        "satellite",
        "carbon",
        "--scenes",
        scenes,
        "--plots",
        tmp_path / "missing.csv",
        "--out",
        tmp_path / "w",
    )
    assert code == 2
    assert "plots file not found" in err
