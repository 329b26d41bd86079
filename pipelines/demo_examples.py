"""``mrv demo``: run every methodology's bundled plot-survey example end to end.

Until the full seasonal demo exists, this is what ``make demo`` runs: for each methodology,
read and validate its example survey, estimate stocks (and net annual removals where the
methodology has them) with 90 % CIs, Monte Carlo and the uncertainty deduction, and write one
JSON per methodology plus ``summary.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from methodologies.registry import default_registry
from mrv.cli._common import print_json, to_json, write_atomic
from mrv.settings import Settings
from pipelines.plots.examples import load_example, run_change, run_example


def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("demo-output"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run the bundled plot-survey example of every methodology and summarise."""
    settings = Settings()
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
    summary = {"examples": rows, "output_dir": str(out)}
    write_atomic(out / "summary.json", to_json(summary) + "\n")
    if as_json:
        print_json(summary)
        return
    table = Table(
        "methodology",
        "plots",
        "area ha",
        "stock t CO2e",
        "±90 %",
        "conservative t CO2e",
        "net t CO2e/yr",
        "net from",
        title="Bundled plot-survey examples",
    )
    for r in rows:
        table.add_row(
            r["methodology"],
            str(r["plots"]),
            f"{r['area_ha']:,.1f}",
            f"{r['co2e_t']:,.0f}",
            f"{r['ci90_relative'] * 100:.1f} %",
            f"{r['conservative_co2e_t']:,.0f}",
            "—" if r["net_tco2e_per_yr"] is None else f"{r['net_tco2e_per_yr']:,.1f}",
            r["net_basis"] or "—",
        )
    console = Console(highlight=False, soft_wrap=True, width=132)
    console.print(table)
    console.print(f"Results: {out}/<methodology>.json; summary: {out}/summary.json", markup=False)
