"""Settings, read from ``MRV_*`` environment variables when a command starts (never at import).

Construct :class:`Settings` at the edge (CLI command, API app factory) and pass it down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

UncertaintyRule = Literal["ccer-conservative", "vm0033", "art-trees", "vm0042", "none"]


class Settings(BaseSettings):
    """Runtime settings with an ``MRV_`` prefix (e.g. ``MRV_MC_DRAWS=20000``)."""

    model_config = SettingsConfigDict(env_prefix="MRV_", extra="ignore", frozen=True)

    data_dir: Path = Field(default=Path("mrv-data"), description="Where local state is kept.")
    confidence: float = Field(
        default=0.90, gt=0.5, lt=1.0, description="Confidence level of reported intervals."
    )
    target_relative_precision: float = Field(
        default=0.10,
        gt=0.0,
        lt=1.0,
        description="Target half-width of the CI as a fraction of the mean (CDM/CCER 90/10).",
    )
    mc_draws: int = Field(
        default=10_000, ge=100, le=10_000_000, description="Monte Carlo draws (ART-TREES: 10,000)."
    )
    uncertainty_rule: UncertaintyRule = Field(
        default="ccer-conservative", description="Uncertainty deduction rule (mrv.uncertainty)."
    )
    dask_scheduler: str | None = Field(
        default=None,
        description="dask.distributed scheduler address (tcp://host:8786); None = local threads.",
    )
    database_url: str | None = Field(
        default=None,
        description="Registry database (SQLAlchemy URL); None = data_dir/registry.sqlite.",
    )
    buffer_min_percent: int = Field(
        default=10,
        ge=0,
        le=100,
        description="Minimum buffer share of an issuance, % (NPRT v4.0 minimum; unconfirmed).",
    )
    buffer_fail_score: int = Field(
        default=60,
        ge=0,
        le=100,
        description="Risk scores above this fail a project (Verra NPRT v4.0; unconfirmed).",
    )
    notice_working_days: int = Field(
        default=20, ge=0, le=100, description="Public-notice period, working days (CCER Art. 12)."
    )
    api_max_body_bytes: int = Field(
        default=1_048_576, ge=1_024, description="Largest JSON request body the API accepts."
    )
    api_max_upload_bytes: int = Field(
        default=536_870_912, ge=1_024, description="Largest file upload (parcels, packages)."
    )
    api_token_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long the API trusts a checked token without asking the database "
        "(a revoked token may work this long in a running server; 0 = always ask).",
    )
    sh_client_id: str | None = Field(default=None, description="Sentinel Hub / CDSE client id.")
    sh_client_secret: str | None = Field(
        default=None, description="Sentinel Hub / CDSE client secret.", repr=False
    )

    def registry_url(self) -> str:
        """The registry database URL: ``database_url`` or the SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'registry.sqlite').resolve()}"
