"""End-to-end runs behind ``mrv satellite composite|classify|carbon|change``.

Each run reads scenes (or an earlier run's rasters), computes lazily, writes its outputs as COGs
and vectors into one folder with ``summary.json`` and a STAC ``catalog.json`` describing every
file (size and SHA-256), and returns the summary.
"""

from pipelines.satellite.runs.carbon import run_carbon
from pipelines.satellite.runs.change import run_change
from pipelines.satellite.runs.classify import run_classify
from pipelines.satellite.runs.common import DEFAULT_SEASONS, SceneOptions, parse_season
from pipelines.satellite.runs.composite import run_composite

__all__ = [
    "DEFAULT_SEASONS",
    "SceneOptions",
    "parse_season",
    "run_carbon",
    "run_change",
    "run_classify",
    "run_composite",
]
