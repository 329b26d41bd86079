"""Properties every registered methodology must have."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from methodologies import default_registry
from methodologies.parameters import ParamValues
from pipelines.plots import estimate_survey, per_plot_pools
from pipelines.plots.examples import load_example
from pipelines.plots.inputs import survey_inputs
from pipelines.plots.validate import validate_survey

METHODOLOGIES = list(default_registry())
IDS = [m.id for m in METHODOLOGIES]
EXPECTED_IDS = {"bamboo-moso", "forest-volume", "wetland", "farmland-soc", "tea-garden"}


def test_registry_has_the_fixed_ids() -> None:
    assert set(default_registry().ids()) >= EXPECTED_IDS & set(IDS)
    for m in METHODOLOGIES:
        assert m.version.count(".") == 2


@pytest.mark.parametrize("methodology", METHODOLOGIES, ids=IDS)
def test_document_worked_examples_run(methodology) -> None:
    """The worked examples in the Markdown document are executed: text and code agree."""
    assert methodology.document.exists(), f"{methodology.id} has no document"
    result = doctest.testfile(
        str(methodology.document),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.attempted >= 5, "a methodology document needs worked examples"
    assert result.failed == 0


@pytest.mark.parametrize("methodology", METHODOLOGIES, ids=IDS)
def test_parameters_have_units_sources_and_status(methodology) -> None:
    for p in methodology.parameters.values():
        assert p.unit and p.source and p.evidence
        if p.evidence in ("R", "GAP"):
            assert not p.confirmed, f"{p.name}: recalled/missing values cannot be confirmed"


def _example_survey(methodology):
    example = load_example(methodology)
    assert example is not None, f"{methodology.id} has no bundled example"
    values = ParamValues(methodology.parameters.with_overrides(example.parameters))
    inputs = survey_inputs(
        methodology,
        named=example.tables,
        datum=example.datum,
        boundary=example.boundary,
        boundary_datum=example.boundary_datum,
    )
    report = validate_survey(methodology, inputs, values)
    assert report.survey is not None, [str(p) for p in report.errors]
    return report.survey, values


@pytest.mark.parametrize("methodology", METHODOLOGIES, ids=IDS)
def test_pool_values_are_linear_in_components(methodology) -> None:
    """The Monte Carlo relies on pools(a·x + b·y) = a·pools(x) + b·pools(y)."""
    survey, values = _example_survey(methodology)
    plots, _, _ = per_plot_pools(methodology, survey, values)
    comps = plots[[c for c in plots.columns if not c.startswith("pool:")]].to_numpy()
    x, y = comps[0], comps[-1]
    names = [c for c in plots.columns if not c.startswith("pool:")]

    def pools(v):
        out = methodology.pool_values({n: np.asarray(v[i]) for i, n in enumerate(names)}, values)
        return {k: float(np.asarray(val)) for k, val in out.items()}

    a, b = 0.3, 1.7
    combined = pools(a * x + b * y)
    px, py = pools(x), pools(y)
    for k in combined:
        assert combined[k] == pytest.approx(a * px[k] + b * py[k], rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("methodology", METHODOLOGIES, ids=IDS)
def test_example_estimate_shape(methodology, settings) -> None:
    survey, values = _example_survey(methodology)
    r = estimate_survey(methodology, survey, values, settings)
    assert r["methodology"] == {
        "id": methodology.id,
        "version": methodology.version,
        "title": methodology.title,
        "title_zh": methodology.title_zh,
    }
    for s in r["strata"]:
        assert {
            "stratum",
            "n_plots",
            "area_ha",
            "mean_tc_per_ha",
            "ci90_half_width_tc_per_ha",
            "total_tc",
        } <= set(s)
    assert {"carbon_t", "co2e_t", "ci90_half_width_co2e_t", "ci90_relative"} <= set(r["total"])
    assert r["total"]["co2e_t"] == pytest.approx(r["total"]["carbon_t"] * 44 / 12, rel=1e-6)
    assert sum(s["total_tc"] for s in r["strata"]) == pytest.approx(r["total"]["carbon_t"])
    assert set(r["unconfirmed_parameters"]) <= set(r["parameters"])
    for name in r["unconfirmed_parameters"]:
        assert not methodology.parameters[name].confirmed
    statuses = {p["pool"]: p["status"] for p in r["pools"]}
    assert set(statuses.values()) <= {"measured", "default", "omitted", "excluded"}
    for pool in r["pools"]:
        if pool["status"] in ("default", "omitted", "excluded"):
            assert pool["reason"]
    assert isinstance(r["warnings"], list)
