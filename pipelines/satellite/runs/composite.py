"""``mrv satellite composite``: seasonal median composites with their valid-observation counts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mrv.raster import CogSpec, write_cogs
from pipelines.satellite.composite import Season
from pipelines.satellite.cube import grid_of
from pipelines.satellite.outputs import Output
from pipelines.satellite.runs.common import (
    SceneOptions,
    grid_summary,
    seasonal_composites,
    time_span,
    write_summary,
)


def composite_specs(out_dir: Path, composites: dict[str, xr.Dataset]) -> list[CogSpec]:
    """Reflectance (one band per S2 band) and valid-count COGs of every season."""
    specs = []
    for name, comp in composites.items():
        grid = grid_of(comp)
        tags = {
            "season": name,
            "start": str(comp.attrs["start"]),
            "end": str(comp.attrs["end"]),
            "dates": ",".join(comp.attrs.get("dates", [])),
            "units": "reflectance (0-1)",
        }
        specs.append(
            CogSpec(
                out_dir / f"composite_{name}.tif",
                comp["reflectance"],
                grid.crs,
                grid.transform,
                np.nan,
                "float32",
                [str(b) for b in comp["band"].values],
                tags,
            )
        )
        specs.append(
            CogSpec(
                out_dir / f"valid_count_{name}.tif",
                comp["valid_count"],
                grid.crs,
                grid.transform,
                None,
                "uint16",
                ["valid_count"],
                {**tags, "units": "observations"},
            )
        )
    return specs


def run_composite(
    options: SceneOptions,
    *,
    seasons: Sequence[Season],
    explicit_seasons: bool,
    out_dir: Path,
) -> dict[str, Any]:
    """Composite every season, write the COGs, the summary and the STAC catalog."""
    cube, scene_notes = options.load()
    composites, season_notes = seasonal_composites(
        cube, seasons, mask=options.mask, explicit=explicit_seasons
    )
    notes = scene_notes + season_notes
    specs = composite_specs(out_dir, composites)
    digests = write_cogs(specs)
    grid = grid_of(next(iter(composites.values())))
    outputs = [
        Output(
            s.path,
            "composite" if s.path.name.startswith("composite") else "valid_count",
            s.path.stem.replace("_", " "),
            grid,
        )
        for s in specs
    ]
    start, end = time_span(composites, cube)
    summary = {
        "command": "composite",
        "grid": grid_summary(grid),
        "product_level": cube.attrs.get("product_level"),
        "scenes": int(cube.sizes["time"]),
        "seasons": [
            {
                "season": name,
                "start": c.attrs["start"],
                "end": c.attrs["end"],
                "dates": list(c.attrs.get("dates", [])),
                "nodata_fraction": c.attrs.get("nodata_fraction"),
                "mask": c.attrs.get("mask"),
            }
            for name, c in composites.items()
        ],
        "outputs": [
            {"file": s.path.name, "sha256": d} for s, d in zip(specs, digests, strict=True)
        ],
        "warnings": notes,
    }
    return write_summary(
        out_dir, summary, outputs, title="Seasonal composites", start=start, end=end
    )
