"""``mrv plots validate|estimate``: plot-survey validation and stratified estimates."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from methodologies import get
from methodologies.parameters import ParamValues
from mrv.cli._common import (
    EXIT_BAD_INPUT,
    print_json,
    problems_text,
    stderr,
    to_json,
    write_atomic,
)
from mrv.errors import InputError, Problem
from mrv.settings import Settings
from pipelines.plots import change as run_change
from pipelines.plots import estimate as run_estimate
from pipelines.plots.inputs import survey_inputs
from pipelines.plots.validate import validate_survey

app = typer.Typer(help="Plot surveys: validate tables, estimate stocks.", no_args_is_help=True)

MethodologyOpt = Annotated[
    str, typer.Option("--methodology", "-m", help="Methodology id, e.g. bamboo-moso.")
]
DatumOpt = Annotated[
    str, typer.Option(help="Datum of plot coordinates: wgs84, cgcs2000, gcj02 or bd09.")
]
BoundaryOpt = Annotated[
    Path | None, typer.Option(help="Project boundary (GeoJSON/GeoPackage); plots must be inside.")
]
BoundaryDatumOpt = Annotated[str, typer.Option(help="Datum of the boundary coordinates.")]
EncodingOpt = Annotated[
    str | None, typer.Option(help="CSV encoding (default: UTF-8, else GBK/GB18030).")
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", help="Override a parameter: NAME=VALUE (repeatable)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def parse_params(items: list[str] | None) -> dict[str, str]:
    """``NAME=VALUE`` strings to a mapping; a malformed item is bad input."""
    out: dict[str, str] = {}
    bad = []
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            bad.append(Problem(reason=f"expected NAME=VALUE, got {item!r}", column="--param"))
        else:
            out[name.strip()] = value
    if bad:
        raise InputError("malformed --param", bad)
    return out


def table_options(methodology_id: str, extra: list[str]) -> dict[str, Path]:
    """``--culms FILE`` style options left over by Typer → table name → path."""
    names = get(methodology_id).schema.names
    out: dict[str, Path] = {}
    problems: list[Problem] = []
    i = 0
    while i < len(extra):
        token = extra[i]
        name, value = token, None
        if token.startswith("--") and "=" in token:
            name, value = token.split("=", 1)
        key = name.removeprefix("--")
        if not token.startswith("--") or key not in names:
            problems.append(
                Problem(
                    reason=f"unexpected argument {token!r}; table options for {methodology_id} "
                    f"are {', '.join('--' + n for n in names)}"
                )
            )
            i += 1
            continue
        if value is None:
            if i + 1 >= len(extra):
                problems.append(Problem(reason=f"{token} needs a file"))
                break
            value = extra[i + 1]
            i += 1
        out[key] = Path(value)
        i += 1
    if problems:
        raise InputError("bad table options", problems)
    return out


@app.command("validate")
def validate(
    files: Annotated[list[str], typer.Argument(help="Survey files: PATH or TABLE=PATH.")],
    methodology: MethodologyOpt,
    datum: DatumOpt = "wgs84",
    boundary: BoundaryOpt = None,
    boundary_datum: BoundaryDatumOpt = "wgs84",
    encoding: EncodingOpt = None,
    param: ParamOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check survey tables and report every problem with file, row and column."""
    m = get(methodology)
    values = ParamValues(m.parameters.with_overrides(parse_params(param)))
    inputs = survey_inputs(
        m,
        files,
        datum=datum,
        boundary=boundary,
        boundary_datum=boundary_datum,
        encoding=encoding,
    )
    report = validate_survey(m, inputs, values)
    summary: dict[str, Any] = {
        "ok": report.ok,
        "methodology": {"id": m.id, "version": m.version},
        "tables": [
            {"table": n, "file": r.file, "rows": len(r.frame), "sha256": r.sha256}
            for n, r in inputs.tables.items()
        ],
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "problems": [p.to_dict() for p in report.problems],
    }
    if as_json:
        print_json(summary)
    else:
        out = Console(highlight=False, soft_wrap=True)
        for t in summary["tables"]:
            out.print(f"{t['table']:>8}: {t['file']} ({t['rows']} rows)", markup=False)
        if report.problems:
            out.print(problems_text(report.problems), markup=False)
        verdict = "OK" if report.ok else "FAILED"
        out.print(f"{verdict}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    if not report.ok:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command(
    "estimate",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def estimate(
    ctx: typer.Context,
    methodology: MethodologyOpt,
    plots: Annotated[Path, typer.Option(help="Plots table (plot_id, stratum, plot_area_m2 …).")],
    strata: Annotated[Path | None, typer.Option(help="Strata table (stratum, area_ha).")] = None,
    datum: DatumOpt = "wgs84",
    boundary: BoundaryOpt = None,
    boundary_datum: BoundaryDatumOpt = "wgs84",
    encoding: EncodingOpt = None,
    param: ParamOpt = None,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON result here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Per-stratum means with 90 % CI and project totals; table files as --culms FILE etc."""
    named = {"plots": plots, **table_options(methodology, list(ctx.args))}
    if strata is not None:
        named["strata"] = strata
    settings = Settings()
    err = stderr()
    with err.status("estimating…") if err.is_terminal else nullcontext():
        result = run_estimate(
            methodology,
            named=named,
            params=parse_params(param),
            settings=settings,
            datum=datum,
            boundary=boundary,
            boundary_datum=boundary_datum,
            encoding=encoding,
        )
    if out is not None:
        write_atomic(out, to_json(result) + "\n")
    if as_json:
        print_json(result)
    else:
        _print_estimate(result)


@app.command("change")
def change(
    methodology: MethodologyOpt,
    before: Annotated[Path, typer.Option(help="Survey spec (TOML) of the earlier survey.")],
    after: Annotated[Path, typer.Option(help="Survey spec (TOML) of the later survey.")],
    param: ParamOpt = None,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON result here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Stock change per year and net removals from plots measured in two surveys."""
    result = run_change(methodology, before, after, params=parse_params(param), settings=Settings())
    if out is not None:
        write_atomic(out, to_json(result) + "\n")
    if as_json:
        print_json(result)
        return
    console = Console(highlight=False, soft_wrap=True)
    m = result["methodology"]
    console.print(f"{m['id']} {m['version']}: change between two surveys", markup=False)
    table = Table(
        "stratum",
        "plots",
        "years",
        "ΔC t C/ha/yr",
        "±90 %",
        "net t CO2e/yr",
        title="Change by stratum",
    )
    for s in result["strata"]:
        table.add_row(
            s["stratum"],
            str(s["n_plots"]),
            _fmt(s["mean_years"]),
            _fmt(s["mean_stock_change_tc_per_ha_yr"], 3),
            _fmt(s["ci90_half_width_tc_per_ha_yr"], 3),
            _fmt(s["total_net_tco2e_per_yr"], 1),
        )
    console.print(table)
    t = result["total"]
    console.print(
        f"Net removals: {_fmt(t['net_tco2e_per_yr'], 1)} t CO2e/yr ± "
        f"{_fmt(t['ci90_half_width_tco2e_per_yr'], 1)} (90 % CI); {result['paired_plots']} "
        "re-measured plots",
        markup=False,
    )
    mc = result["monte_carlo"]["net_tco2e_per_yr"]
    console.print(
        f"Monte Carlo 90 % interval: {_fmt(mc['ci_low'], 1)} – {_fmt(mc['ci_high'], 1)} t CO2e/yr",
        markup=False,
    )
    _print_deduction(console, t["uncertainty_deduction"], "t CO2e/yr")
    for w in result["warnings"]:
        console.print(f"warning: {w}", markup=False)


def _print_deduction(console: Console, d: dict[str, Any], unit: str) -> None:
    console.print(
        f"Uncertainty deduction ({d['rule']}, on the {d['basis'].replace('_', ' ')} interval): "
        f"{_fmt(d['deduction'], 1)} {unit} → conservative {_fmt(d['conservative_value'], 1)} "
        f"{unit}",
        markup=False,
    )


def _fmt(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def _print_estimate(r: dict[str, Any]) -> None:
    console = Console(highlight=False, soft_wrap=True)
    m = r["methodology"]
    console.print(f"{m['id']} {m['version']}: {m['title']} ({m['title_zh']})", markup=False)
    table = Table(
        "stratum",
        "plots",
        "area ha",
        "mean t C/ha",
        "±90 % CI",
        "total t C",
        title="Carbon stock by stratum",
    )
    for s in r["strata"]:
        table.add_row(
            s["stratum"],
            str(s["n_plots"]),
            _fmt(s["area_ha"]),
            _fmt(s["mean_tc_per_ha"], 3),
            _fmt(s["ci90_half_width_tc_per_ha"], 3),
            _fmt(s["total_tc"], 1),
        )
    console.print(table)
    t = r["total"]
    if t["co2e_t"] is not None:
        rel = t["ci90_relative"] * 100
        console.print(
            f"Total: {_fmt(t['carbon_t'], 1)} t C = {_fmt(t['co2e_t'], 1)} t CO2e "
            f"± {_fmt(t['ci90_half_width_co2e_t'], 1)} (90 % CI, ±{rel:.1f} %), "
            f"{t['n_plots']} plots on {_fmt(t['area_ha'])} ha ({_fmt(t['area_mu'], 1)} mu)",
            markup=False,
        )
        mc = r["monte_carlo"]["co2e_t"]
        console.print(
            f"Monte Carlo ({r['monte_carlo']['draws']:,} draws): 90 % interval "
            f"{_fmt(mc['ci_low'], 1)} – {_fmt(mc['ci_high'], 1)} t CO2e",
            markup=False,
        )
        _print_deduction(console, t["uncertainty_deduction"], "t CO2e")
    if "annual" in r and r["annual"]["total"]:
        a = r["annual"]["total"]
        console.print(
            f"Annual removals − emissions: {_fmt(a['net_tco2e_per_yr'], 1)} t CO2e/yr ± "
            f"{_fmt(a['ci90_half_width_tco2e_per_yr'], 1)} (90 % CI, sampling)",
            markup=False,
        )
        if "mc_ci90_low_tco2e_per_yr" in a:
            console.print(
                f"Monte Carlo 90 % interval (sampling and parameters): "
                f"{_fmt(a['mc_ci90_low_tco2e_per_yr'], 1)} – "
                f"{_fmt(a['mc_ci90_high_tco2e_per_yr'], 1)} t CO2e/yr",
                markup=False,
            )
        _print_deduction(console, a["uncertainty_deduction"], "t CO2e/yr")
    s = r["sampling"]
    if s.get("n_required") is not None:
        console.print(
            f"Sampling: {s['n_plots']} plots, {s['n_required']} needed for "
            f"±{s['target_relative_precision'] * 100:.0f} % at {s['confidence'] * 100:.0f} % "
            f"({'sufficient' if s['sufficient'] else 'NOT sufficient'})",
            markup=False,
        )
    if r["unconfirmed_parameters"]:
        console.print(
            "Unconfirmed defaults used: " + ", ".join(r["unconfirmed_parameters"]), markup=False
        )
    for w in r["warnings"]:
        console.print(f"warning: {w}", markup=False)
