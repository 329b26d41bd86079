"""The methodology framework: what every methodology declares and implements.

A methodology has an id, a version, a title, parameters (``parameters.toml`` beside its module),
a survey schema, the carbon pools it knows, a Markdown document whose worked examples are
executed by the tests, and two pure functions:

``plot_components(survey, p)``
    Per-plot measured quantities (e.g. aboveground dry biomass t/ha), computed vectorised from
    the validated survey tables. Any non-linear, deterministic plot-level arithmetic happens here.
``pool_values(components, p)``
    Carbon per pool (t C/ha, t C/ha/yr or t CO2e/ha/yr) as a function that is **linear in the
    components**. The pipeline applies it to per-plot components for the point estimate and to
    Monte Carlo draws of stratum means (arrays of shape ``(draws, strata)``, parameters of shape
    ``(draws, 1)``) for uncertainty propagation, so it must use array arithmetic only.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from methodologies.parameters import Num, ParameterSet, ParamValues
from methodologies.schema import SurveySchema
from mrv.errors import Problem

PoolKind = Literal["stock", "removal", "emission"]
POOL_UNITS: dict[str, str] = {
    "stock": "t C/ha",
    "removal": "t C/ha/yr",
    "emission": "t CO2e/ha/yr",
}


@dataclass(frozen=True)
class Pool:
    """A carbon pool or emission source a methodology accounts for."""

    name: str
    """snake_case name, e.g. ``aboveground_biomass``."""
    kind: PoolKind
    """``stock`` (t C/ha at survey time), ``removal`` (t C/ha/yr) or ``emission`` (t CO2e/ha/yr)."""
    description: str = ""
    period_addition: bool = False
    """A stock pool whose later-survey value is what was added during the period (e.g. products
    from culms harvested since the last inventory): counted in a change even when the earlier
    survey did not measure it. Other stock pools count only when both surveys measured them."""

    @property
    def unit(self) -> str:
        """Unit of the pool's per-hectare values."""
        return POOL_UNITS[self.kind]


@dataclass(frozen=True)
class Survey:
    """Validated, typed survey tables (the output of the plot-survey pipeline's validation).

    Each table is a DataFrame with the schema's canonical columns plus ``_row``: the spreadsheet
    row number (header = 1) or, for vector files, the feature id, used to locate problems.
    ``plots`` is in file order; plot ids are unique.
    """

    tables: Mapping[str, pd.DataFrame]
    files: Mapping[str, str]
    """Table name → file name as given by the user."""
    vector: Mapping[str, bool] = field(default_factory=dict)
    """Table name → True when ``_row`` holds feature ids instead of row numbers."""

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def has(self, name: str) -> bool:
        """Whether the table was supplied."""
        return name in self.tables

    @property
    def plots(self) -> pd.DataFrame:
        """The plots table."""
        return self.tables["plots"]

    @property
    def plot_ids(self) -> pd.Index:
        """Plot ids in file order."""
        ids: pd.Index = pd.Index(self.plots["plot_id"].to_numpy(), name="plot_id")
        return ids

    def plot_codes(self, table: str) -> npt.NDArray[np.intp]:
        """For each row of ``table``, the position of its plot in :attr:`plots` (validated)."""
        codes = self.plot_ids.get_indexer(pd.Index(self.tables[table]["plot_id"].to_numpy()))
        return np.asarray(codes, dtype=np.intp)

    def problems(
        self,
        table: str,
        mask: npt.NDArray[np.bool_] | pd.Series,
        reason: str | Sequence[str],
        column: str | None = None,
        severity: str = "error",
        frame: pd.DataFrame | None = None,
    ) -> list[Problem]:
        """One :class:`Problem` per row of ``table`` selected by ``mask``.

        ``reason`` is one text for all rows or one per selected row; ``frame`` is a re-ordered
        copy of the table (with its ``_row`` column) that ``mask`` refers to, if not the table.
        """
        rows_frame = self.tables[table] if frame is None else frame
        rows = rows_frame.loc[np.asarray(mask, dtype=bool), "_row"].to_numpy()
        texts = [reason] * len(rows) if isinstance(reason, str) else list(reason)
        vec = self.vector.get(table, False)
        file = self.files.get(table, table)
        return [
            Problem(
                reason=why,
                file=file,
                row=None if vec else int(r),
                feature=str(int(r)) if vec else None,
                column=column,
                severity=severity,
            )
            for r, why in zip(rows, texts, strict=True)
        ]


@dataclass(frozen=True)
class PlotComponents:
    """Per-plot measured quantities that pool values are linear in."""

    frame: pd.DataFrame
    """Index: plot ids in :attr:`Survey.plots` order; one float column per component."""
    omitted: Mapping[str, str] = field(default_factory=dict)
    """Pools not measured in this survey → why (reported, never filled with defaults)."""
    warnings: Sequence[str] = ()
    """Plain-language warnings for the result."""
    defaulted: Mapping[str, str] = field(default_factory=dict)
    """Pools computed from default factors rather than measured on the plots → which defaults
    (reported with status ``default``; e.g. wetland CH4 without chamber measurements)."""


class Methodology(ABC):
    """Base class of every methodology. Subclasses set the class attributes and two functions."""

    id: ClassVar[str]
    """Fixed id, e.g. ``bamboo-moso``."""
    version: ClassVar[str]
    """Version of this implementation of the methodology (semantic versioning)."""
    title: ClassVar[str]
    title_zh: ClassVar[str]
    summary: ClassVar[str]
    """One paragraph: scope, what is measured, what is credited."""
    schema: ClassVar[SurveySchema]
    pools: ClassVar[tuple[Pool, ...]]
    """Pools the methodology can account for."""
    excluded_pools: ClassVar[Mapping[str, str]] = {}
    """Pools the methodology never counts → why (e.g. litter: conservative to ignore)."""
    change_unsupported: ClassVar[str] = ""
    """Why two surveys of this methodology must not be differenced (empty: they may be)."""

    @property
    def directory(self) -> Path:
        """Folder of the methodology's module, holding its document and parameter file."""
        return Path(inspect.getfile(type(self))).parent

    @property
    def document(self) -> Path:
        """The Markdown document a verifier reads (``<id>.md``)."""
        return self.directory / f"{self.id}.md"

    @property
    def example_dir(self) -> Path:
        """Folder of the bundled example survey (``example/``)."""
        return self.directory / "example"

    @cached_property
    def parameters(self) -> ParameterSet:
        """Default parameters from ``parameters.toml``."""
        return ParameterSet.from_toml(self.directory / "parameters.toml")

    def pool(self, name: str) -> Pool:
        """The pool called ``name``."""
        for pool in self.pools:
            if pool.name == name:
                return pool
        raise KeyError(name)

    def check(self, survey: Survey, p: ParamValues) -> list[Problem]:
        """Cross-table and cross-field checks beyond the schema (default: none)."""
        return []

    def compare(self, before: Survey, after: Survey, p: ParamValues) -> list[str]:
        """Warnings when two surveys should not be compared for a stock change (default: none)."""
        return []

    @abstractmethod
    def plot_components(self, survey: Survey, p: ParamValues) -> PlotComponents:
        """Per-plot components from the validated survey (vectorised; no per-row Python)."""

    @abstractmethod
    def pool_values(self, components: Mapping[str, Num], p: ParamValues) -> dict[str, Num]:
        """Per-hectare value of each measured pool; linear in ``components``."""

    def describe(self) -> dict[str, object]:
        """JSON-ready description (id, version, titles, tables, pools, parameters)."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "title_zh": self.title_zh,
            "summary": self.summary,
            "document": str(self.document),
            "tables": [
                {
                    "name": t.name,
                    "required": t.required,
                    "description": t.description,
                    "columns": [
                        {
                            "name": c.name,
                            "type": c.kind,
                            "unit": c.unit,
                            "required": c.required,
                            "description": c.description,
                            **({"choices": list(c.choices)} if c.choices else {}),
                            **({"minimum": c.minimum} if c.minimum is not None else {}),
                            **({"maximum": c.maximum} if c.maximum is not None else {}),
                        }
                        for c in t.columns
                    ],
                }
                for t in self.schema.tables
            ],
            "pools": [
                {"name": p.name, "kind": p.kind, "unit": p.unit, "description": p.description}
                for p in self.pools
            ],
            "excluded_pools": dict(self.excluded_pools),
            "parameters": [
                p.model_dump(mode="json", exclude_none=True) for p in self.parameters.values()
            ],
        }
