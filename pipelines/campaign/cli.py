"""``mrv campaign run|check``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mrv.cli._common import print_json

app = typer.Typer(
    help="Seasonal monitoring campaigns (campaign files in TOML).", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _lines(summary: dict[str, Any], out: Path) -> list[str]:
    r = summary["removals"]
    s = summary["stock"]
    ma = s.get("model_assisted") or {}
    d = r["uncertainty_deduction"]
    return [
        f"Campaign {summary['campaign']['id']}: {summary['campaign']['period_start']} – "
        f"{summary['campaign']['period_end']} ({r['period_years']:.2f} yr), "
        f"{summary['site']['parcels_n']} parcels, {summary['site']['parcels_area_ha']:,.2f} ha",
        f"Land cover: overall accuracy {summary['classification']['overall_accuracy']:.3f}, "
        f"kappa {summary['classification']['kappa']:.3f}",
        f"Stock (model-assisted, mapped classes): {ma.get('total_co2e_t', float('nan')):,.1f} "
        f"± {ma.get('ci90_half_width_co2e_t', float('nan')):,.1f} t CO2e (90 % CI)",
        f"Removals: {r['removals_tco2e']:,.1f} ± {r['ci90_half_width_tco2e']:,.1f} t CO2e "
        f"(stock change {r['stock_change_tco2e']:,.1f} − emissions {r['emissions_tco2e']:,.1f} "
        f"− leakage {r['leakage_tco2e']:,.1f})",
        f"Deduction ({d['rule']}): {d['deduction']:,.1f} t → conservative "
        f"{r['conservative_removals_tco2e']:,.1f} t CO2e, claimable {r['claimable_tco2e']:,} t",
        f"Per-parcel attribution: {out / 'outputs' / 'parcels.csv'}",
        f"Run folder: {out}",
    ]


@app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="Campaign file (TOML).")],
    out: Annotated[
        Path | None, typer.Option(help="Run folder (default runs/<campaign id>).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="dask.distributed scheduler, e.g. tcp://host:8786 (default: local)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing run folder.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a season: scenes, plots, land cover, carbon, removals, per-parcel attribution."""
    from pipelines.campaign.config import load_campaign
    from pipelines.campaign.run import run_campaign

    campaign = load_campaign(file)
    folder = out if out is not None else Path("runs") / campaign.spec.campaign.id
    summary = run_campaign(
        campaign,
        folder,
        scheduler=scheduler,
        progress=not as_json and sys.stderr.isatty(),
        force=force,
    )
    if as_json:
        print_json({"ok": True, "run_dir": str(folder), **summary})
        return
    console = Console(highlight=False, soft_wrap=True)
    for line in _lines(summary, folder):
        console.print(line, markup=False)
    for warning in summary.get("warnings", []):
        console.print(f"warning: {warning}", markup=False)


@app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="Campaign file (TOML).")],
    as_json: JsonOpt = False,
) -> None:
    """Check a campaign file (keys, types, files, methodology) without running it."""
    from pipelines.campaign.config import load_campaign

    campaign = load_campaign(file)
    result = {
        "ok": True,
        "campaign": campaign.spec.campaign.id,
        "file": str(campaign.path),
        "period_years": campaign.period_years,
    }
    if as_json:
        print_json(result)
    else:
        Console(highlight=False).print(f"{file}: ok ({campaign.spec.campaign.id})", markup=False)


__all__ = ["app"]
