"""Synthetic Sentinel-2 L2A stacks with a known truth, for tests, the demo and the benchmark.

The generator builds a landscape like Anji county's (bamboo and forest hills, paddy and villages
in the valleys, reservoirs with reedy margins), a carbon-density truth, and a year of Sentinel-2
L2A acquisitions over it: 10 bands (20 m bands generated at 20 m), a Scene Classification (SCL)
with clouds, displaced cloud shadows, thin cirrus and terrain-shaded dark areas, seasonal
phenology per class and sensor noise. Spectra, calendars and carbon ranges and their sources are
in :mod:`pipelines.satellite._spectra`.

How it is built (and why it scales):

* **Smooth fields** (terrain, class patches, vigour, clouds) are value noise: random lattices at a
  few cell sizes, interpolated with a smoothstep kernel. Interpolation on a regular grid is
  separable, so a window of any size costs a few operations per pixel, and any pixel's value
  depends only on its position — never on how the grid is cut into windows.
* **Pixel noise** comes from fixed 256 × 256 tiles of the global grid, each a run of a seeded
  pool of draws at an offset hashed from (seed, stream, tile), so it is also independent of
  the windowing.
* **Clouds, shadows and cirrus** are evaluated at the 20 m pixel centres of the SCL grid and
  applied per 20 m pixel to the 10 m bands too, so the SCL and the bands agree pixel by pixel.
* **Thresholds** (class shares, cloud cover per date) are quantiles of the fields over a fixed
  sub-grid of the whole scene, computed once.

Hence truth, reflectance and SCL are deterministic per :attr:`SyntheticSpec.seed` and identical
whether generated whole, in strips (:func:`write_scenes`) or in dask chunks
(:func:`synthetic_cube`); memory is bounded by the strip or chunk, not the scene.

Observation model per band ``b`` and date (all reflectance 0–1)::

    surface  = Σ_e w_e(class, day, pixel) · S_e[b]          linear mixture of endmembers
    surface *= (cos i + c) / (cos θz + c)                    terrain illumination, c = 0.3
    obs      = surface · (1 − 0.7 s)                          cloud shadow opacity s
    obs      = obs · (1 − τc) + τc · CIRRUS[b]                thin cirrus τc
    obs      = obs · (1 − α) + α · CLOUD[b] · brightness      cloud opacity α
    obs      = gain[b] · obs + (0.003 + 0.015 obs) · ε        residual calibration, noise

with the solar position of a 10:30 local-solar-time overpass (Cooper 1969 declination), shadows
displaced from clouds by cloud height (1–3 km) × tan θz away from the sun, and DN =
round(obs × 10000) + 1000 for processing baseline ≥ 04.00 (remote-sensing.md §5.1). The SCL
flags cloud (8: α ≥ 0.35, 9: α ≥ 0.7), cirrus (10), shadow (3), water (6), dark terrain (2:
illumination factor < 0.5), vegetation (4: NDVI ≥ 0.4), not-vegetated (5) and 0.3 % of pixels
as unclassified (7); thin haze below α = 0.35 passes unflagged, as in real products.
"""

from __future__ import annotations

from pipelines.satellite.synthetic._cube import synthetic_cube
from pipelines.satellite.synthetic._demo import main, write_demo
from pipelines.satellite.synthetic._files import write_scenes, write_truth
from pipelines.satellite.synthetic._samples import (
    DEFAULT_PLOT_STRATA,
    sample_labels,
    sample_plots,
    truth_class_at,
)
from pipelines.satellite.synthetic._scene import (
    cloud_fraction,
    simulate_reflectance,
    solar_position,
)
from pipelines.satellite.synthetic._spec import (
    ANJI_CENTRE_LONLAT,
    BOA_QUANTIFICATION_VALUE,
    CLOUD_SCL,
    DEFAULT_BANDS,
    MASKED_SCL,
    OFF_YEAR,
    ON_YEAR,
    RESOLUTION_M,
    SyntheticSpec,
    boa_offset,
    from_dn,
    to_dn,
)
from pipelines.satellite.synthetic._truth import Truth, generate_truth

__all__ = [
    "ANJI_CENTRE_LONLAT",
    "BOA_QUANTIFICATION_VALUE",
    "CLOUD_SCL",
    "DEFAULT_BANDS",
    "DEFAULT_PLOT_STRATA",
    "MASKED_SCL",
    "OFF_YEAR",
    "ON_YEAR",
    "RESOLUTION_M",
    "SyntheticSpec",
    "Truth",
    "boa_offset",
    "cloud_fraction",
    "from_dn",
    "generate_truth",
    "main",
    "sample_labels",
    "sample_plots",
    "simulate_reflectance",
    "solar_position",
    "synthetic_cube",
    "to_dn",
    "truth_class_at",
    "write_demo",
    "write_scenes",
    "write_truth",
]
