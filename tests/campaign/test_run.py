"""A season end to end on the bundled Anji campaign (synthetic scenes with a known truth)."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio import features as rio_features

from mrv.errors import InputError
from mrv.hashing import sha256_file
from pipelines.campaign.config import load_campaign
from pipelines.campaign.run import run_campaign
from pipelines.campaign.scenes import SyntheticScenes, synthetic_spec
from pipelines.campaign.site import load_site
from pipelines.satellite.classes import NODATA_CLASS
from pipelines.satellite.synthetic import generate_truth
from tests.campaign.conftest import EXAMPLE, example_text

OUTPUTS = {
    "summary.json", "land_cover.tif", "carbon_density.tif", "carbon_uncertainty.tif",
    "parcels.csv", "plots_estimate.json", "plots_change.json", "classify.json", "carbon.json",
}  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("campaign")
    path = base / "campaign.toml"
    path.write_text(example_text(), encoding="utf-8")
    out = base / "run"
    run_campaign(load_campaign(path), out, progress=False)
    return out


def _summary(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "outputs" / "summary.json").read_text("utf-8"))
    return data


def test_the_run_folder_holds_what_the_package_needs(run_dir: Path) -> None:
    assert {p.name for p in (run_dir / "outputs").iterdir()} == OUTPUTS
    assert not list(run_dir.parent.glob(".run.partial-*"))
    record = json.loads((run_dir / "run.json").read_text("utf-8"))
    for entry in record["inputs"] + record["outputs"]:
        assert sha256_file(run_dir / entry["path"]) == entry["sha256"], entry["path"]
    for entry in record["generated_inputs"]["files"]:
        assert sha256_file(run_dir / entry["path"]) == entry["sha256"]
    roles = {e["role"] for e in record["inputs"]}
    assert roles == {"campaign", "site", "survey", "labels", "methodology"}
    assert record["methodology"]["id"] == "bamboo-moso"
    assert record["methodology"]["document"] == "inputs/methodology/bamboo-moso.md"
    assert record["packages"]["numpy"] == np.__version__
    # no output names the (temporary) folder it was written in
    for name in ("summary.json", "carbon.json", "classify.json", "plots_estimate.json"):
        assert str(run_dir.parent) not in (run_dir / "outputs" / name).read_text("utf-8")
    assert "stage carbon density done" in (run_dir / "run.log").read_text("utf-8")


def test_removals_follow_from_the_change_and_the_declared_emissions(run_dir: Path) -> None:
    s = _summary(run_dir)
    spec = load_campaign(EXAMPLE / "campaign.toml").spec
    years = 731 / 365.25
    r = s["removals"]
    assert r["period_years"] == pytest.approx(years)
    assert r["stock_change_tco2e"] == pytest.approx(s["change"]["net_tco2e_per_yr"] * years)
    assert r["removals_tco2e"] == pytest.approx(
        r["stock_change_tco2e"] - spec.removals.emissions_tco2e - spec.removals.leakage_tco2e
    )
    d = r["uncertainty_deduction"]
    assert r["conservative_removals_tco2e"] == pytest.approx(r["removals_tco2e"] - d["deduction"])
    assert r["claimable_tco2e"] == math.floor(r["conservative_removals_tco2e"])
    assert r["removals_tco2e"] > 0


def test_parcels_carry_exactly_the_conservative_removals(run_dir: Path) -> None:
    s = _summary(run_dir)
    parcels = pd.read_csv(run_dir / "outputs" / "parcels.csv", dtype={"parcel_code": str})
    site = load_site(EXAMPLE.parent)
    assert parcels["parcel_code"].tolist() == site.parcels["code"].tolist()
    total = round(s["removals"]["conservative_removals_tco2e"], 3)
    assert round(parcels["removals_tco2e"].sum(), 3) == pytest.approx(total, abs=1e-9)
    assert parcels["share"].sum() == pytest.approx(1.0, abs=1e-6)
    # the shares are the parcels' mapped carbon, which sums to the map's carbon in the parcels
    carbon = json.loads((run_dir / "outputs" / "carbon.json").read_text("utf-8"))
    assert parcels["mapped_carbon_tc"].sum() == pytest.approx(
        carbon["parcels"]["total_tc"], rel=1e-6
    )
    assert (
        s["parcels"]["unmapped_parcels"]
        == parcels.loc[parcels["mapped_carbon_tc"] <= 0, "parcel_code"].tolist()
    )


def _truth_inside(run_dir: Path) -> tuple[float, float]:
    """Truth moso-bamboo area (ha) and carbon (t C) of the pixels centred inside the site."""
    spec_file = load_campaign(EXAMPLE / "campaign.toml").spec.scenes
    site = load_site(EXAMPLE.parent)
    props = tuple(spec_file.proportions.items()) if spec_file.proportions else None
    assert spec_file.year is not None
    spec = synthetic_spec(site.boundary, SyntheticScenes(spec_file.seed, spec_file.year, 12, props))
    truth = generate_truth(spec)
    to_utm = Transformer.from_crs("EPSG:4326", spec.crs, always_xy=True)
    inside = rio_features.geometry_mask(
        [shapely.transform(site.boundary, lambda xy: np.column_stack(to_utm.transform(*xy.T)))],
        out_shape=spec.shape,
        transform=Affine(*spec.grid.transform),
        invert=True,
    )
    code = {c.name: c.code for c in truth.classes}["moso_bamboo"]
    bamboo = inside & (truth.class_map == code)
    return bamboo.sum() * 0.01, float(truth.carbon_tc_per_ha[bamboo].sum() * 0.01)


def test_map_and_model_assisted_stock_agree_with_the_truth(run_dir: Path) -> None:
    s = _summary(run_dir)
    area_ha, carbon_tc = _truth_inside(run_dir)
    mapped = {a["class"]: a for a in s["classification"]["areas"]}["moso_bamboo"]
    assert mapped["map_area_ha"] == pytest.approx(area_ha, rel=0.05)
    ma = s["stock"]["model_assisted"]
    half = (ma["ci90_high_tc"] - ma["ci90_low_tc"]) / 2
    # the mapped bamboo differs from the true bamboo by the map's errors; 2 half-widths allow for it
    assert abs(ma["total_tc"] - carbon_tc) < 2 * half
    assert s["stock"]["relative_efficiency"] > 1.0  # the map helps
    with rasterio.open(run_dir / "outputs" / "land_cover.tif") as src:
        assert src.nodata == NODATA_CLASS == 0 and src.count == 1


def test_a_rerun_from_the_staged_inputs_is_byte_identical(run_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    run_campaign(load_campaign(run_dir / "inputs" / "campaign.toml"), again, progress=False)
    for name in sorted(OUTPUTS):
        assert (again / "outputs" / name).read_bytes() == (
            run_dir / "outputs" / name
        ).read_bytes(), name
    first = json.loads((run_dir / "run.json").read_text("utf-8"))
    second = json.loads((again / "run.json").read_text("utf-8"))
    assert first["generated_inputs"] == second["generated_inputs"]
    assert [e["sha256"] for e in first["inputs"] if e["role"] != "campaign"] == [
        e["sha256"] for e in second["inputs"] if e["role"] != "campaign"
    ]


@contextmanager
def _local_cluster() -> Iterator[Any]:
    """Two worker processes; startup is retried once (on a loaded 2-core machine a worker can
    miss the start-up deadline: "Cluster closed without starting up")."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.comm.timeouts.connect": "120s"}):
        for attempt in (1, 2):
            try:
                cluster = LocalCluster(
                    n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
                )
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        with cluster:
            yield cluster


def test_the_same_campaign_on_a_two_worker_cluster_gives_identical_outputs(
    run_dir: Path, tmp_path: Path
) -> None:
    with _local_cluster() as cluster:
        out = tmp_path / "cluster"
        run_campaign(
            load_campaign(run_dir / "inputs" / "campaign.toml"),
            out,
            progress=False,
            scheduler=cluster.scheduler_address,
        )
    assert json.loads((out / "run.json").read_text("utf-8"))["scheduler"].startswith("tcp://")
    for name in sorted(OUTPUTS):
        assert (out / "outputs" / name).read_bytes() == (run_dir / "outputs" / name).read_bytes(), (
            name
        )


def test_a_failed_run_leaves_nothing(tmp_path: Path) -> None:
    text = example_text().replace('on-year = "moso_bamboo"\n', "")
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(InputError, match="on-year have no land-cover class"):
        run_campaign(load_campaign(path), out, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]


def test_an_existing_run_folder_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(example_text(), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="exists and is not empty"):
        run_campaign(load_campaign(path), out, progress=False)
    assert (out / "keep.txt").read_text() == "x"


def test_a_survey_plot_outside_the_site_is_named_in_the_users_file(tmp_path: Path) -> None:
    survey = tmp_path / "survey2025"
    shutil.copytree(EXAMPLE / "survey" / "2025", survey)
    toml = survey / "survey.toml"
    toml.write_text(  # the spec names no boundary: the campaign's site still applies
        "\n".join(
            line for line in toml.read_text("utf-8").splitlines() if not line.startswith("boundary")
        ),
        encoding="utf-8",
    )
    plots = survey / "plots.csv"
    lines = plots.read_text("utf-8").splitlines()
    lines[3] = lines[3].replace(",119.", ",119.7", 1)  # third plot moved ~10 km east
    plots.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = tmp_path / "c.toml"
    after = str((EXAMPLE / "survey" / "2025" / "survey.toml").resolve())
    path.write_text(example_text().replace(after, str(toml)), encoding="utf-8")
    with pytest.raises(InputError) as info:
        run_campaign(load_campaign(path), tmp_path / "out", progress=False)
    located = [p for p in info.value.problems if p.row is not None]
    assert located and located[0].file == str(plots) and located[0].row == 4
    assert "outside" in located[0].reason
    assert ".partial" not in str(info.value)
    assert not (tmp_path / "out").exists()
