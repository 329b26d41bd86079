"""Where a campaign's scenes come from: files (or a STAC catalog) on disk, or a synthetic stack
generated over the site with a known truth (for demos and tests)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from pipelines.satellite.synthetic import SyntheticSpec

SYNTHETIC_MARGIN_M = 600.0
"""Margin of the synthetic grid around the site's bounding box (training labels live there too)."""


@dataclass(frozen=True)
class SyntheticScenes:
    """Recipe of a synthetic stack: enough to regenerate every byte of it."""

    seed: int
    year: int
    dates: int = 12
    proportions: tuple[tuple[str, float], ...] | None = None


def synthetic_spec(boundary_wgs84: BaseGeometry, recipe: SyntheticScenes) -> SyntheticSpec:
    """The synthetic spec of a site: a 10 m UTM 50N grid over the boundary's bounding box plus
    :data:`SYNTHETIC_MARGIN_M`, even sides, ``recipe.dates`` acquisitions 30 days apart from
    10 January of ``recipe.year`` (02:45:59 UTC, like Sentinel-2 over Anji)."""
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    x0, y0, x1, y1 = boundary_wgs84.bounds
    xs, ys = to_utm.transform([x0, x1, x1, x0], [y0, y0, y1, y1])
    width_m = max(xs) - min(xs) + 2 * SYNTHETIC_MARGIN_M
    height_m = max(ys) - min(ys) + 2 * SYNTHETIC_MARGIN_M
    width = 2 * math.ceil(width_m / 20.0)
    height = 2 * math.ceil(height_m / 20.0)
    first = datetime(recipe.year, 1, 10, 2, 45, 59)
    dates = tuple(first + timedelta(days=30 * k) for k in range(max(1, min(12, recipe.dates))))
    return SyntheticSpec(
        aoi=boundary_wgs84,
        width=width,
        height=height,
        dates=dates,
        seed=recipe.seed,
        proportions=recipe.proportions,
    )


__all__ = ["SYNTHETIC_MARGIN_M", "SyntheticScenes", "synthetic_spec"]
