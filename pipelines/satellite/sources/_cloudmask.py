"""A given cloud mask or cloud-probability raster, read lazily onto the cube grid.

``cloud_mask`` is either

* a folder of single-band rasters, one per date, each named with its date (``YYYYMMDD``), or
* one multi-band raster with a band per date: band descriptions holding the dates, or exactly
  as many bands as dates (taken in date order).

Float rasters are cloud probabilities 0–1 (bilinear resampling); integer rasters are 0/1 masks
(nearest), or percentages when the band's GDAL scale says so (e.g. scale 0.01). An integer
raster with values above 1 and no scale is rejected when read (never silently taken as a
probability above 1). The result is the cube's ``cloud_probability`` (time, y, x) float32.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt
import pandas as pd
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from mrv.errors import InputError, Problem
from pipelines.satellite.cube import Grid
from pipelines.satellite.sources._common import block_starts
from pipelines.satellite.sources._reader import (
    Layer,
    RasterInfo,
    WindowSpec,
    probe,
    read_continuous,
)

_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})-?(\d{2})-?(\d{2})(?!\d)")


def _day(text: str) -> pd.Timestamp | None:
    match = _DATE.search(text)
    if match is None:
        return None
    try:
        return pd.Timestamp(f"{match[1]}-{match[2]}-{match[3]}")
    except ValueError:
        return None


def _mask_block(
    layer: Layer, grid: Grid, window: WindowSpec, is_float: bool
) -> npt.NDArray[np.float32]:
    """One ``(1, y, x)`` block of cloud probability (NaN where the mask has no data)."""
    values = read_continuous(layer, grid, window, nearest=not is_float)
    if not is_float and layer.scale == 1.0 and np.nanmax(values, initial=0.0) > 1.0:
        raise InputError(
            f"{layer.path}: cloud mask of {layer.when} has values up to "
            f"{np.nanmax(values):g}; integer masks must be 0 (clear) / 1 (cloud), or carry a "
            "band scale (0.01 for percent)",
            [Problem("integer cloud mask with values above 1", file=layer.path)],
        )
    return values[np.newaxis]


def load_cloud_mask(path: Path, times: Sequence[pd.Timestamp], grid: Grid, chunks: int) -> da.Array:
    """``(time, y, x)`` float32 cloud probability for ``times`` from ``path`` (see module doc)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"cloud mask {path} does not exist")
    days = [pd.Timestamp(t).normalize() for t in times]
    chosen: dict[pd.Timestamp, tuple[RasterInfo, int]] = {}
    if path.is_dir():
        for file in sorted(path.iterdir()):
            day = _day(file.stem)
            is_raster = file.suffix.lower() in (".tif", ".tiff", ".jp2")
            if is_raster and day is not None and day in days and day not in chosen:
                chosen[day] = (probe(file, what="cloud mask"), 1)
    else:
        info = probe(path, what="cloud mask")
        described = [_day(d or "") for d in info.descriptions]
        if all(d is not None for d in described):
            for idx, day in enumerate(described, start=1):
                if day is not None and day in days and day not in chosen:
                    chosen[day] = (info, idx)
        elif info.count == len(days):
            chosen = {day: (info, idx) for idx, day in enumerate(days, start=1)}
        else:
            raise InputError(
                f"cloud mask {path} has {info.count} bands for {len(days)} dates and its band "
                "descriptions are not dates; name each band with its date (YYYYMMDD)"
            )
    missing = sorted({str(d.date()) for d in days if d not in chosen})
    if missing:
        raise InputError(
            f"cloud mask {path} has no layer for " + ", ".join(missing),
            [Problem(f"no cloud mask for {d}", file=str(path)) for d in missing],
        )
    rows, cols = block_starts(grid.height, chunks), block_starts(grid.width, chunks)
    specs = []
    for t, day in enumerate(days):
        info, idx = chosen[day]
        scale, offset = info.scales[idx - 1], info.offsets[idx - 1]
        nodata = info.nodata
        layer = Layer(str(info.path), idx, "cloud", str(pd.Timestamp(times[t]).date()), scale,
                      offset, nodata, info.stamp)  # fmt: skip
        specs.append((layer, info.is_float))
    name = "cloud-mask-" + tokenize(specs, grid, chunks)
    dsk: dict[Any, Any] = {
        (name, t, i, j): (_mask_block, specs[t][0], grid, (r0, c0, h, w), specs[t][1])
        for t in range(len(specs))
        for i, (r0, h) in enumerate(rows)
        for j, (c0, w) in enumerate(cols)
    }
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=())
    chunk_spec = ((1,) * len(specs), tuple(h for _, h in rows), tuple(w for _, w in cols))
    meta = np.empty((0, 0, 0), dtype=np.float32)
    return da.Array(graph, name, chunks=chunk_spec, dtype=np.float32, meta=meta)
