"""Scene QA of a campaign: cloud-free share of the site per date and clear observations per
pixel per season (from the scene mask; no reflectance is read)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from dask.base import compute as dask_compute

from pipelines.satellite.composite import Season
from pipelines.satellite.mask import valid_mask
from pipelines.satellite.runs.common import SceneOptions, aoi_mask


def scene_qa(
    options: SceneOptions,
    seasons: Sequence[Season],
    generated: dict[str, Any] | None,
) -> dict[str, Any]:
    """``dates``, ``clear_fraction`` (share of site pixels clear per date), ``cloud_cover``
    (1 − clear share; the generator's cloud share for a synthetic stack is kept beside it as
    ``generated_cloud_cover``) and ``valid_obs {season: {dates, min, mean, p05}}`` over the
    site's pixels."""
    cube, _ = options.load()
    valid = valid_mask(cube, options.mask)
    like = valid.isel(time=0, drop=True).assign_attrs(cube.attrs)
    inside = aoi_mask(like, options.aoi_geometry())
    assert inside is not None  # campaigns always have a site boundary
    n_inside = inside.sum()
    clear = (valid & inside).sum(("y", "x"))
    times = pd.DatetimeIndex(cube["time"].values)
    counts = {}
    for season in seasons:
        pick = season.contains(times)
        if pick.any():
            counts[season.name] = (valid.isel(time=np.flatnonzero(pick)).sum("time"), pick)
    n, per_date, *season_counts = dask_compute(n_inside, clear, *[c for c, _ in counts.values()])
    mask = np.asarray(dask_compute(inside)[0]).astype(np.bool_)
    clear_fraction = [round(float(c) / max(int(n), 1), 6) for c in np.asarray(per_date)]
    valid_obs: dict[str, Any] = {}
    for (name, (_, pick)), count in zip(counts.items(), season_counts, strict=True):
        inner = np.asarray(count)[mask].astype(np.float64)
        valid_obs[name] = {
            "dates": int(pick.sum()),
            "min": int(inner.min()) if inner.size else None,
            "mean": round(float(inner.mean()), 4) if inner.size else None,
            "p05": float(np.percentile(inner, 5)) if inner.size else None,
            "share_without_clear_obs": round(float((inner == 0).mean()), 6) if inner.size else None,
        }
    out: dict[str, Any] = {
        "dates": [f"{t:%Y-%m-%d}" for t in times],
        "site_pixels": int(n),
        "clear_fraction": clear_fraction,
        "cloud_cover": [round(1.0 - c, 6) for c in clear_fraction],
        "valid_obs": valid_obs,
    }
    if generated is not None:
        out["generated_cloud_cover"] = generated.get("cloud_cover")
    return out


__all__ = ["scene_qa"]
