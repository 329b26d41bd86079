"""``mrv satellite composite|classify|carbon|change|demo-data``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import typer
from rich.console import Console

from mrv.cli._common import print_json
from mrv.dask_scheduler import dask_scheduler
from mrv.errors import InputError
from mrv.settings import Settings
from pipelines.satellite.carbon import Method
from pipelines.satellite.change import ChangeSpec
from pipelines.satellite.mask import MaskSpec
from pipelines.satellite.model_assisted import Estimator

Layout = Literal["bands", "multiband", "safe"]

app = typer.Typer(
    help="Satellite pipeline: composites, land-cover strata, carbon maps, change.",
    no_args_is_help=True,
)

ScenesOpt = Annotated[
    list[str],
    typer.Option("--scenes", help="Scene folder/files, STAC catalog/ItemCollection (repeatable)."),
]
AoiOpt = Annotated[Path | None, typer.Option(help="Area of interest (GeoJSON/GeoPackage).")]
AoiDatumOpt = Annotated[str, typer.Option(help="Datum of the AOI: wgs84, cgcs2000, gcj02, bd09.")]
TimeOpt = Annotated[str | None, typer.Option(help="Scene dates START:END (YYYY-MM-DD).")]
SeasonOpt = Annotated[
    list[str] | None,
    typer.Option("--season", help="NAME:START:END (dates or month-days), repeatable."),
]
OutOpt = Annotated[Path, typer.Option(help="Output folder.")]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(help="dask.distributed scheduler address (default: MRV_DASK_SCHEDULER or local)."),
]
DarkOpt = Annotated[bool, typer.Option(help="Also mask SCL class 2 (dark area, hillside shadow).")]
DilateOpt = Annotated[int, typer.Option(help="Grow the cloud/shadow mask by this many pixels.")]
CloudMaskOpt = Annotated[
    Path | None, typer.Option(help="Cloud mask/probability raster(s) for L1C scenes.")
]
ChunksOpt = Annotated[int, typer.Option(help="Chunk size in pixels.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]
ClassesOpt = Annotated[
    list[str] | None, typer.Option("--class", help="Class names, coded 1..n (default: 8 classes).")
]


def _options(
    scenes: list[str],
    aoi: Path | None,
    aoi_datum: str,
    time: str | None,
    mask_dark_area: bool,
    dilate_px: int,
    cloud_mask: Path | None,
    chunks: int,
) -> Any:
    from pipelines.satellite.runs import SceneOptions

    window = None
    if time:
        start, sep, end = time.partition(":")
        if not sep or not start or not end:
            raise InputError(f"--time {time!r} is not START:END")
        window = (start, end)
    return SceneOptions(
        sources=scenes,
        aoi=aoi,
        aoi_datum=aoi_datum,
        time=window,
        mask=MaskSpec(mask_dark_area=mask_dark_area, dilate_px=dilate_px),
        chunks=chunks,
        cloud_mask=cloud_mask,
    )


def _seasons(items: list[str] | None) -> tuple[Any, bool]:
    from pipelines.satellite.runs import DEFAULT_SEASONS, parse_season

    if not items:
        return DEFAULT_SEASONS, False
    return tuple(parse_season(s) for s in items), True


@contextmanager
def _progress(settings: Settings, scheduler: str | None) -> Iterator[None]:
    """Run on the chosen scheduler, with a progress bar on a terminal (local runs)."""
    address = scheduler or settings.dask_scheduler
    with dask_scheduler(address):
        if address is None and sys.stderr.isatty():
            from dask.diagnostics.progress import ProgressBar

            with ProgressBar(out=sys.stderr, minimum=1.0):
                yield
        else:
            yield


def _report(
    summary: dict[str, Any], as_json: bool, lines: Callable[[dict[str, Any]], list[str]]
) -> None:
    if as_json:
        print_json(summary)
        return
    console = Console(highlight=False, soft_wrap=True)
    for line in lines(summary):
        console.print(line, markup=False)
    for warning in summary.get("warnings", []):
        console.print(f"warning: {warning}", markup=False)
    console.print(f"Outputs and STAC catalog: {summary.get('catalog')}", markup=False)


@app.command("composite")
def composite(
    scenes: ScenesOpt,
    out: OutOpt,
    aoi: AoiOpt = None,
    aoi_datum: AoiDatumOpt = "wgs84",
    time: TimeOpt = None,
    season: SeasonOpt = None,
    mask_dark_area: DarkOpt = False,
    dilate_px: DilateOpt = 0,
    cloud_mask: CloudMaskOpt = None,
    chunks: ChunksOpt = 512,
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Seasonal median composites with per-pixel valid-observation counts (COGs)."""
    from pipelines.satellite.runs import run_composite

    options = _options(scenes, aoi, aoi_datum, time, mask_dark_area, dilate_px, cloud_mask, chunks)
    seasons, explicit = _seasons(season)
    with _progress(Settings(), scheduler):
        summary = run_composite(options, seasons=seasons, explicit_seasons=explicit, out_dir=out)
    _report(
        summary,
        as_json,
        lambda s: [
            f"{x['season']}: {len(x['dates'])} scenes, {x['nodata_fraction']:.1%} of pixels "
            "without a clear observation"
            for x in s["seasons"]
        ],
    )


@app.command("classify")
def classify(
    scenes: ScenesOpt,
    labels: Annotated[Path, typer.Option(help="Labelled points or polygons (any vector file).")],
    label_column: Annotated[str, typer.Option(help="Column holding the class names.")],
    out: OutOpt,
    aoi: AoiOpt = None,
    aoi_datum: AoiDatumOpt = "wgs84",
    time: TimeOpt = None,
    season: SeasonOpt = None,
    class_: ClassesOpt = None,
    assessment: Annotated[
        Path | None,
        typer.Option(help="Accuracy-assessment sample (stratified by map class) for the areas."),
    ] = None,
    assessment_column: Annotated[
        str | None, typer.Option(help="Class column of the assessment sample.")
    ] = None,
    block_size_m: Annotated[float, typer.Option(help="Spatial CV block size (m).")] = 500.0,
    folds: Annotated[int, typer.Option(help="Cross-validation folds.")] = 5,
    mask_dark_area: DarkOpt = False,
    dilate_px: DilateOpt = 0,
    cloud_mask: CloudMaskOpt = None,
    chunks: ChunksOpt = 512,
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Land-cover strata: spatially blocked CV accuracy, class map, areas with 95 % CI."""
    from pipelines.satellite.runs import run_classify

    options = _options(scenes, aoi, aoi_datum, time, mask_dark_area, dilate_px, cloud_mask, chunks)
    seasons, explicit = _seasons(season)
    with _progress(Settings(), scheduler):
        summary = run_classify(
            options,
            seasons=seasons,
            explicit_seasons=explicit,
            labels=labels,
            label_column=label_column,
            out_dir=out,
            class_names=class_,
            assessment=assessment,
            assessment_column=assessment_column,
            block_size_m=block_size_m,
            folds=folds,
        )

    def lines(s: dict[str, Any]) -> list[str]:
        out_lines = [
            f"Overall accuracy {s['overall_accuracy']:.3f}, kappa {s['kappa']:.3f} "
            f"({s['cv']['method']}, {s['cv']['folds']} folds)"
        ]
        for row in s["areas"]:
            adj, ci = row.get("adjusted_area_ha"), row.get("ci95_ha")
            out_lines.append(
                f"{row['class']:>20}: mapped {row['map_area_ha']:,.1f} ha, adjusted "
                + ("—" if adj is None else f"{adj:,.1f} ± {ci:,.1f} ha (95 %)")
            )
        return out_lines

    _report(summary, as_json, lines)


@app.command("carbon")
def carbon(
    scenes: ScenesOpt,
    plots: Annotated[
        Path, typer.Option(help="Plots: `mrv plots estimate --json` output, CSV or GeoJSON.")
    ],
    out: OutOpt,
    land_cover: Annotated[
        Path | None, typer.Option(help="land_cover.tif of `mrv satellite classify` (strata).")
    ] = None,
    parcels: Annotated[Path | None, typer.Option(help="Parcel polygons for zonal totals.")] = None,
    parcel_id: Annotated[str | None, typer.Option(help="Parcel id column.")] = None,
    aoi: AoiOpt = None,
    aoi_datum: AoiDatumOpt = "wgs84",
    time: TimeOpt = None,
    season: SeasonOpt = None,
    class_: ClassesOpt = None,
    interval: Annotated[str, typer.Option(help="conformal or quantile.")] = "conformal",
    estimator: Annotated[str, typer.Option(help="greg or difference.")] = "greg",
    mask_dark_area: DarkOpt = False,
    dilate_px: DilateOpt = 0,
    cloud_mask: CloudMaskOpt = None,
    chunks: ChunksOpt = 512,
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Carbon-density map with 90 % prediction intervals, zonal and model-assisted totals."""
    from pipelines.satellite.runs import run_carbon

    if interval not in ("conformal", "quantile"):
        raise InputError(f"--interval must be conformal or quantile, not {interval!r}")
    if estimator not in ("greg", "difference"):
        raise InputError(f"--estimator must be greg or difference, not {estimator!r}")
    options = _options(scenes, aoi, aoi_datum, time, mask_dark_area, dilate_px, cloud_mask, chunks)
    seasons, explicit = _seasons(season)
    settings = Settings()
    with _progress(settings, scheduler):
        summary = run_carbon(
            options,
            seasons=seasons,
            explicit_seasons=explicit,
            plots=plots,
            out_dir=out,
            land_cover=land_cover,
            class_names=class_,
            parcels=parcels,
            parcel_id=parcel_id,
            method=cast(Method, interval),
            confidence=settings.confidence,
            estimator=cast(Estimator, estimator),
        )

    def lines(s: dict[str, Any]) -> list[str]:
        cv = s["model"]["cv"]
        out_lines = [
            f"Density model: out-of-fold r² {cv['r2']:.3f}, RMSE {cv['rmse_tc_per_ha']:.2f} "
            f"t C/ha ({s['plots']['n']} plots)"
        ]
        if "total" in s:
            t = s["total"]
            for key, label in (("model_assisted", "model-assisted"), ("plots_only", "plots only")):
                e = t[key]
                out_lines.append(
                    f"Total {label}: {e['total_tc']:,.1f} t C = {e['total_co2e_t']:,.1f} t CO2e "
                    f"± {e['ci90_half_width_co2e_t']:,.1f} (90 % CI)"
                )
        return out_lines

    _report(summary, as_json, lines)


@app.command("change")
def change(
    before: Annotated[Path, typer.Option(help="composite_<season>.tif of the earlier period.")],
    after: Annotated[Path, typer.Option(help="composite_<season>.tif of the later period.")],
    out: OutOpt,
    classes_before: Annotated[Path | None, typer.Option(help="land_cover.tif before.")] = None,
    classes_after: Annotated[Path | None, typer.Option(help="land_cover.tif after.")] = None,
    density: Annotated[
        Path | None, typer.Option(help="carbon_density.tif before (carbon lost).")
    ] = None,
    index: Annotated[str, typer.Option(help="Index whose drop marks a disturbance.")] = "NDVI",
    min_drop: Annotated[float, typer.Option(help="Minimum absolute index drop.")] = 0.2,
    min_relative_drop: Annotated[float, typer.Option(help="Minimum relative drop.")] = 0.25,
    min_patch_ha: Annotated[float, typer.Option(help="Smallest patch reported (ha).")] = 0.1,
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Disturbance patches (area, carbon lost) and the wetland no-net-loss balance."""
    from pipelines.satellite.runs import run_change

    spec = ChangeSpec(
        index=index,
        min_drop=min_drop,
        min_relative_drop=min_relative_drop,
        min_patch_ha=min_patch_ha,
    )
    with _progress(Settings(), scheduler):
        summary = run_change(
            before,
            after,
            out_dir=out,
            classes_before=classes_before,
            classes_after=classes_after,
            density_before=density,
            spec=spec,
        )

    def lines(s: dict[str, Any]) -> list[str]:
        out_lines = [
            f"{s['patches']} disturbance patches, {s['disturbed_area_ha']:,.2f} ha, carbon lost "
            f"{s['carbon_lost_t']:,.1f} t C ({s['carbon_lost_tco2e']:,.1f} t CO2e)"
        ]
        wetland = s.get("wetland")
        if wetland:
            out_lines.append(f"Wetland no net loss: {wetland.get('no_net_loss')}")
        return out_lines

    _report(summary, as_json, lines)


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Argument(help="Output folder.")],
    size: Annotated[int, typer.Option(help="Grid side in pixels (10 m).")] = 512,
    dates: Annotated[int, typer.Option(help="Number of acquisition dates.")] = 12,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    layout: Annotated[str, typer.Option(help="bands, multiband or safe.")] = "bands",
    as_json: JsonOpt = False,
) -> None:
    """Write a synthetic Sentinel-2 L2A stack with known truths, labels and plots."""
    from pipelines.satellite.synthetic import SyntheticSpec, write_demo

    if layout not in ("bands", "multiband", "safe"):
        raise InputError(f"--layout must be bands, multiband or safe, not {layout!r}")
    spec = _synthetic_spec(SyntheticSpec, size=size, dates=dates, seed=seed)
    info = write_demo(out, spec, layout=cast(Layout, layout))
    summary = {
        "scenes": str(out / "scenes"),
        "truth": str(out / "truth"),
        "labels": str(info["labels"]),
        "plots": str(info["plots"]),
        "area_ha": info["area_ha"],
        "carbon_total_tc": info["carbon_total_tc"],
    }
    if as_json:
        print_json(summary)
    else:
        Console(highlight=False).print(
            f"Synthetic scenes in {out / 'scenes'}; labels {info['labels']}; plots "
            f"{info['plots']}; true carbon {float(info['carbon_total_tc']):,.1f} t C",
            markup=False,
        )


def _synthetic_spec(cls: Any, *, size: int, dates: int, seed: int) -> Any:
    from datetime import datetime, timedelta

    when = tuple(
        datetime(2024, 1, 10) + timedelta(days=round(i * 365 / dates)) for i in range(dates)
    )
    return cls(size_px=size, dates=when, seed=seed)
