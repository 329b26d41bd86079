"""Monte Carlo propagation (IPCC Approach 2) with seeds derived from the inputs' hash.

Draw each uncertain input from its distribution, evaluate a vectorised function once on all
draws, report the mean and the equal-tailed percentile interval (5th-95th for 90 %). The seed is
the first 8 bytes of a SHA-256 over a canonical encoding of the inputs, so the same inputs always
give the same draws (methodologies.md §5 item 2; DESIGN core idea 4).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, model_validator

from mrv.errors import InputError

FloatArray = npt.NDArray[np.float64]


def _canonical(obj: Any, h: Any) -> None:
    """Feed a canonical byte encoding of ``obj`` to hash ``h``."""
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        h.update(f"nd:{arr.dtype.str}:{arr.shape}:".encode())
        h.update(arr.tobytes())
    elif isinstance(obj, Mapping):
        h.update(b"map{")
        for key in sorted(obj, key=str):
            _canonical(str(key), h)
            _canonical(obj[key], h)
        h.update(b"}")
    elif isinstance(obj, list | tuple):
        h.update(b"seq[")
        for item in obj:
            _canonical(item, h)
        h.update(b"]")
    elif isinstance(obj, BaseModel):
        _canonical(obj.model_dump(mode="json"), h)
    elif isinstance(obj, float):
        h.update(f"f:{obj!r};".encode())
    else:
        h.update(json.dumps(obj, sort_keys=True, default=str).encode() + b";")


def seed_from(*parts: Any) -> int:
    """A 63-bit seed from the SHA-256 of the canonical encoding of ``parts``."""
    h = hashlib.sha256()
    for part in parts:
        _canonical(part, h)
    return int.from_bytes(h.digest()[:8], "big") >> 1


def _given(value: float | None) -> float:
    """A field the model validator has already required."""
    if value is None:
        raise InputError("distribution is missing a required field")
    return value


class Distribution(BaseModel):
    """A probability distribution of one uncertain input.

    ``normal`` (mean, sd; optional low/high clip the draws), ``uniform`` (low, high),
    ``triangular`` (low, mode, high).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["normal", "uniform", "triangular"]
    mean: float | None = None
    sd: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _complete(self) -> Distribution:
        need = {
            "normal": ("mean", "sd"),
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
        }[self.kind]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"{self.kind} distribution needs {', '.join(missing)}")
        if self.sd is not None and self.sd < 0:
            raise ValueError("sd must be >= 0")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("low must be <= high")
        return self

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """``size`` independent draws."""
        if self.kind == "normal":
            out = rng.normal(_given(self.mean), _given(self.sd), size)
            if self.low is not None or self.high is not None:
                out = np.clip(out, self.low, self.high)
            return out
        if self.kind == "uniform":
            return rng.uniform(_given(self.low), _given(self.high), size)
        return rng.triangular(_given(self.low), _given(self.mode), _given(self.high), size)


@dataclass(frozen=True)
class MonteCarloResult:
    """Summary of a Monte Carlo propagation."""

    mean: float
    median: float
    sd: float
    low: float
    """Lower percentile bound ((1 − confidence)/2)."""
    high: float
    """Upper percentile bound."""
    draws: int
    seed: int
    confidence: float

    @property
    def relative_half_width(self) -> float:
        """(high − low)/2 as a fraction of ``|mean|``."""
        return (self.high - self.low) / 2.0 / abs(self.mean) if self.mean else math.inf

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-ready mapping."""
        return {
            "mean": self.mean,
            "median": self.median,
            "sd": self.sd,
            "ci_low": self.low,
            "ci_high": self.high,
            "ci_relative": (
                self.relative_half_width if math.isfinite(self.relative_half_width) else None
            ),
            "draws": self.draws,
            "seed": self.seed,
            "confidence": self.confidence,
        }


def summarize_draws(draws: FloatArray, *, seed: int, confidence: float = 0.90) -> MonteCarloResult:
    """Mean, median, SD and equal-tailed percentile interval of a 1-D array of draws."""
    x = np.asarray(draws, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise InputError("draws must be a non-empty 1-D array")
    tail = (1.0 - confidence) / 2.0
    low, med, high = np.quantile(x, [tail, 0.5, 1.0 - tail])
    return MonteCarloResult(
        mean=float(x.mean()),
        median=float(med),
        sd=float(x.std(ddof=1)) if x.size > 1 else 0.0,
        low=float(low),
        high=float(high),
        draws=int(x.size),
        seed=seed,
        confidence=confidence,
    )


def propagate(
    func: Callable[[Mapping[str, FloatArray]], FloatArray],
    inputs: Mapping[str, Distribution | float],
    *,
    draws: int = 10_000,
    confidence: float = 0.90,
    seed: int | None = None,
) -> MonteCarloResult:
    """Propagate uncertain ``inputs`` through a vectorised ``func``.

    ``func`` receives a mapping name → array of shape ``(draws,)`` (fixed inputs are broadcast)
    and returns an array of shape ``(draws,)``. Inputs are drawn in sorted-name order so the
    result does not depend on dict ordering. Without ``seed`` the seed is :func:`seed_from` the
    inputs and the number of draws.
    """
    if draws < 2:
        raise InputError(f"at least 2 draws are needed, got {draws}")
    used_seed = seed if seed is not None else seed_from(dict(inputs), draws)
    rng = np.random.default_rng(used_seed)
    sampled: dict[str, FloatArray] = {}
    for name in sorted(inputs):
        spec = inputs[name]
        if isinstance(spec, Distribution):
            sampled[name] = spec.sample(rng, draws)
        else:
            sampled[name] = np.full(draws, float(spec))
    result = np.asarray(func(sampled), dtype=np.float64)
    if result.shape != (draws,):
        raise InputError(f"Monte Carlo function returned shape {result.shape}, not ({draws},)")
    return summarize_draws(result, seed=used_seed, confidence=confidence)
