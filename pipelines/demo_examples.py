"""The bundled plot-survey example of every methodology, run end to end (part of ``make demo``):
read and validate each example survey, estimate stocks (and net annual removals where the
methodology has them) with 90 % CIs, Monte Carlo and the uncertainty deduction; one JSON per
methodology.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from methodologies.registry import default_registry
from mrv.cli._common import to_json, write_atomic
from mrv.settings import Settings
from pipelines.plots.examples import load_example, run_change, run_example


def run_examples(out: Path, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Run every methodology's example into ``out``; one summary row per methodology."""
    settings = settings or Settings()
    rows: list[dict[str, Any]] = []
    for methodology in default_registry():
        example = load_example(methodology)
        if example is None:
            continue
        result = run_example(example, settings)
        path = out / f"{methodology.id}.json"
        write_atomic(path, to_json(result) + "\n")
        total = result["total"]
        row = {
            "methodology": methodology.id,
            "version": methodology.version,
            "example": example.title,
            "plots": total["n_plots"],
            "area_ha": total["area_ha"],
            "carbon_t": total["carbon_t"],
            "co2e_t": total["co2e_t"],
            "ci90_relative": total["ci90_relative"],
            "conservative_co2e_t": total["uncertainty_deduction"]["conservative_value"],
            "net_tco2e_per_yr": (
                result["annual"]["total"]["net_tco2e_per_yr"] if "annual" in result else None
            ),
            "net_basis": "annual pools of one survey" if "annual" in result else None,
            "unconfirmed_parameters": len(result["unconfirmed_parameters"]),
            "output": str(path),
        }
        followup = load_example(methodology, "followup")
        if followup is not None:
            moved = run_change(example, followup, settings)
            change_path = out / f"{methodology.id}-change.json"
            write_atomic(change_path, to_json(moved) + "\n")
            row["net_tco2e_per_yr"] = moved["total"]["net_tco2e_per_yr"]
            row["net_basis"] = "change between two surveys"
            row["net_ci90_half_width_tco2e_per_yr"] = moved["total"]["ci90_half_width_tco2e_per_yr"]
            row["change_output"] = str(change_path)
        rows.append(row)
    return rows


__all__ = ["run_examples"]
