"""Methodology parameters: value, unit, source and whether the value is confirmed.

A methodology's parameters live in its ``parameters.toml``; every result lists the values it used
and the unconfirmed defaults it relied on. Users override values with ``NAME=VALUE``; an
overridden value is the user's responsibility and is no longer reported as an unconfirmed default.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mrv.errors import MethodologyParameterError, Problem
from mrv.montecarlo import Distribution

Evidence = Literal["V", "V2", "R", "D", "GAP", "user"]
"""Tags of methodologies.md: V read in the primary text, V2 secondary transcription, R recalled,
D derived, GAP not found; ``user`` marks a value given by the user."""

ParamValue = float | str | bool
Num = float | npt.NDArray[np.float64]


class Parameter(BaseModel):
    """One parameter of a methodology."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    value: ParamValue
    unit: str
    source: str
    evidence: Evidence
    confirmed: bool = Field(description="Value read in its primary text (or set by the user).")
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    pdf: Distribution | None = Field(
        default=None, description="Uncertainty of the value for Monte Carlo propagation."
    )

    def with_value(self, raw: str) -> Parameter:
        """A copy holding a user-supplied value parsed to this parameter's type."""
        value = _parse_like(self, raw)
        return self.model_copy(
            update={
                "value": value,
                "evidence": "user",
                "confirmed": True,
                "source": f"user override (default {self.value!r}: {self.source})",
                "pdf": None,
            }
        )


def _parse_like(param: Parameter, raw: str) -> ParamValue:
    text = raw.strip()
    where = f"--param {param.name}"
    if isinstance(param.value, bool):
        low = text.lower()
        if low in ("true", "yes", "1", "on"):
            return True
        if low in ("false", "no", "0", "off"):
            return False
        raise MethodologyParameterError(
            f"{where}: expected true or false, got {raw!r}",
            [Problem(reason=f"expected true/false, got {raw!r}", column=param.name)],
        )
    if isinstance(param.value, float | int):
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        bad = None
        if not math.isfinite(number):
            bad = f"expected a number, got {raw!r}"
        elif param.minimum is not None and number < param.minimum:
            bad = f"{number} is below the minimum {param.minimum} {param.unit}"
        elif param.maximum is not None and number > param.maximum:
            bad = f"{number} is above the maximum {param.maximum} {param.unit}"
        if bad:
            raise MethodologyParameterError(
                f"{where}: {bad}", [Problem(reason=bad, column=param.name)]
            )
        return number
    if param.choices is not None and text not in param.choices:
        bad = f"{text!r} is not one of {', '.join(param.choices)}"
        raise MethodologyParameterError(f"{where}: {bad}", [Problem(reason=bad, column=param.name)])
    return text


class ParameterSet(Mapping[str, Parameter]):
    """An immutable, ordered collection of parameters keyed by name."""

    def __init__(self, params: Mapping[str, Parameter]) -> None:
        self._params = dict(params)

    @classmethod
    def from_toml(cls, path: Path) -> ParameterSet:
        """Load ``[parameters.<name>]`` tables from a TOML file."""
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        params: dict[str, Parameter] = {}
        for name, spec in data.get("parameters", {}).items():
            try:
                params[name] = Parameter(name=name, **spec)
            except (ValidationError, TypeError) as exc:
                raise MethodologyParameterError(
                    f"{path}: parameter {name!r} is invalid: {exc}",
                    [Problem(reason=str(exc), file=str(path), column=name)],
                ) from exc
        return cls(params)

    def __getitem__(self, name: str) -> Parameter:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def with_overrides(self, overrides: Mapping[str, str]) -> ParameterSet:
        """A new set with user values applied; unknown names raise one error listing them all."""
        unknown = [name for name in overrides if name not in self._params]
        if unknown:
            problems = [
                Problem(reason="unknown parameter for this methodology", column=name)
                for name in unknown
            ]
            raise MethodologyParameterError(
                f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(self._params)}",
                problems,
            )
        updated = dict(self._params)
        for name, raw in overrides.items():
            updated[name] = self._params[name].with_value(raw)
        return ParameterSet(updated)


class ParamValues:
    """Read access to parameter values that records which parameters a computation used.

    Methodology code reads numbers with :meth:`num`, strings with :meth:`text` and flags with
    :meth:`flag`. For Monte Carlo the same code runs with ``draws`` supplied: a parameter with a
    ``pdf`` then yields an array of shape ``(n_draws, 1)`` that broadcasts over strata.
    """

    def __init__(
        self,
        params: ParameterSet,
        draws: Mapping[str, npt.NDArray[np.float64]] | None = None,
    ) -> None:
        self.params = params
        self._draws = dict(draws or {})
        self.used: set[str] = set()

    def _get(self, name: str) -> Parameter:
        try:
            param = self.params[name]
        except KeyError as exc:
            raise MethodologyParameterError(f"methodology has no parameter {name!r}") from exc
        self.used.add(name)
        return param

    def num(self, name: str) -> Num:
        """A numeric parameter (an array of draws during Monte Carlo if it has a pdf)."""
        param = self._get(name)
        if name in self._draws:
            return self._draws[name][:, np.newaxis]
        if isinstance(param.value, bool) or not isinstance(param.value, float | int):
            raise MethodologyParameterError(f"parameter {name!r} is not numeric")
        return float(param.value)

    def scalar(self, name: str) -> float:
        """A numeric parameter as a plain float (its default, never a Monte Carlo draw)."""
        param = self._get(name)
        if isinstance(param.value, bool) or not isinstance(param.value, float | int):
            raise MethodologyParameterError(f"parameter {name!r} is not numeric")
        return float(param.value)

    def text(self, name: str) -> str:
        """A string parameter."""
        value = self._get(name).value
        if not isinstance(value, str):
            raise MethodologyParameterError(f"parameter {name!r} is not text")
        return value

    def flag(self, name: str) -> bool:
        """A boolean parameter."""
        value = self._get(name).value
        if not isinstance(value, bool):
            raise MethodologyParameterError(f"parameter {name!r} is not a flag")
        return value

    def used_values(self) -> dict[str, ParamValue]:
        """Values of the parameters read so far, in declaration order."""
        return {n: p.value for n, p in self.params.items() if n in self.used}

    def unconfirmed(self) -> list[str]:
        """Names of parameters read so far whose values are unconfirmed defaults."""
        return [n for n, p in self.params.items() if n in self.used and not p.confirmed]

    def details(self) -> list[dict[str, Any]]:
        """Full records (value, unit, source, evidence, confirmed) of the parameters used."""
        return [
            p.model_dump(mode="json", exclude_none=True)
            for n, p in self.params.items()
            if n in self.used
        ]
