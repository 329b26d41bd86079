"""Sampling statistics: mean and 90 % CI, the stratified random sampling estimator, plot numbers.

Conventions: confidence intervals use Student's t; the stratified total's degrees of freedom come
from the Satterthwaite approximation (Cochran 1977, §5.4); no finite-population correction is
applied (plots are a negligible fraction of a stratum, and omitting it is conservative). Plot
numbers follow CDM AR-Tool03 (methodologies.md §1.7).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as _st

from mrv.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def t_value(confidence: float, df: float) -> float:
    """Two-sided Student-t quantile: ``t`` with P(|T| <= t) = confidence; normal if df is inf."""
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must be in (0, 1), got {confidence}")
    q = 0.5 + confidence / 2.0
    if math.isinf(df):
        return float(_st.norm.ppf(q))
    if df <= 0 or math.isnan(df):
        raise InputError(f"degrees of freedom must be positive, got {df}")
    return float(_st.t.ppf(q, df))


@dataclass(frozen=True)
class Estimate:
    """A mean (or total) with its standard error, sample size and confidence interval."""

    mean: float
    """Point estimate."""
    se: float
    """Standard error of the point estimate."""
    n: int
    """Number of sampling units behind the estimate."""
    df: float
    """Degrees of freedom of the t distribution used for the interval."""
    confidence: float = 0.90
    """Confidence level of :attr:`half_width`."""

    @property
    def t(self) -> float:
        """t quantile used for the interval."""
        return t_value(self.confidence, self.df)

    @property
    def half_width(self) -> float:
        """Half-width of the confidence interval (t × SE)."""
        return self.t * self.se

    @property
    def low(self) -> float:
        """Lower confidence bound."""
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        """Upper confidence bound."""
        return self.mean + self.half_width

    @property
    def relative_half_width(self) -> float:
        """Half-width as a fraction of ``|mean|`` (``inf`` when the mean is 0)."""
        return self.half_width / abs(self.mean) if self.mean != 0 else math.inf

    def scaled(self, factor: float) -> Estimate:
        """The same estimate multiplied by a constant (e.g. area, 44/12)."""
        return Estimate(self.mean * factor, self.se * abs(factor), self.n, self.df, self.confidence)


def summarize(values: npt.ArrayLike, confidence: float = 0.90) -> Estimate:
    """Mean, SE = s/√n and a t-based interval with n − 1 df for a simple random sample."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise InputError(f"at least 2 values are needed for a standard error, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise InputError("values must be finite numbers")
    return Estimate(
        float(x.mean()),
        float(x.std(ddof=1) / math.sqrt(x.size)),
        int(x.size),
        x.size - 1.0,
        confidence,
    )


@dataclass(frozen=True)
class StratumEstimate:
    """Per-stratum sample statistics (values are per-hectare densities)."""

    name: str
    area_ha: float
    n: int
    mean: float
    sd: float
    estimate: Estimate
    """Estimate of the stratum mean per hectare (SE = sd/√n, df = n − 1)."""

    @property
    def total(self) -> Estimate:
        """Stratum total = area × mean (same relative precision)."""
        return self.estimate.scaled(self.area_ha)


@dataclass(frozen=True)
class StratifiedEstimate:
    """Stratified random sampling estimate of a total and the area-weighted mean."""

    strata: tuple[StratumEstimate, ...]
    total: Estimate
    """Σ A_h ȳ_h with var = Σ A_h² s_h²/n_h and Satterthwaite df."""

    @property
    def area_ha(self) -> float:
        """Total area of all strata."""
        return sum(s.area_ha for s in self.strata)

    @property
    def mean(self) -> Estimate:
        """Area-weighted mean per hectare."""
        return self.total.scaled(1.0 / self.area_ha)


def group_moments(
    values: FloatArray, codes: IntArray, n_groups: int
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Counts, means and sample SDs (ddof 1; NaN where n < 2) per integer group code, vectorised."""
    counts = np.bincount(codes, minlength=n_groups)
    sums = np.bincount(codes, weights=values, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
        dev2 = np.bincount(codes, weights=(values - means[codes]) ** 2, minlength=n_groups)
        sds = np.sqrt(dev2 / (counts - 1))
    sds[counts < 2] = np.nan
    return counts.astype(np.intp), means, sds


def satterthwaite_df(variance_terms: FloatArray, dfs: FloatArray) -> float:
    """Effective df of a sum of independent variance terms: (Σv)² / Σ(v²/df)."""
    v = np.asarray(variance_terms, dtype=np.float64)
    denom = float(np.sum(v**2 / dfs))
    if denom == 0.0:
        return float(np.min(dfs))
    return float(np.sum(v) ** 2 / denom)


def stratified_estimate(
    values: npt.ArrayLike,
    codes: npt.ArrayLike,
    names: Sequence[str],
    areas_ha: npt.ArrayLike,
    confidence: float = 0.90,
) -> StratifiedEstimate:
    """Stratified estimator of a total from per-plot densities (e.g. t C/ha).

    ``codes[i]`` is the index into ``names``/``areas_ha`` of plot ``i``'s stratum. Every stratum
    needs at least two plots (a variance cannot be estimated from one).
    """
    y = np.asarray(values, dtype=np.float64)
    c = np.asarray(codes, dtype=np.intp)
    a = np.asarray(areas_ha, dtype=np.float64)
    n_strata = len(names)
    if a.shape != (n_strata,):
        raise InputError(f"{n_strata} strata named but {a.size} areas given")
    counts, means, sds = group_moments(y, c, n_strata)
    short = [names[h] for h in range(n_strata) if counts[h] < 2]
    if short:
        raise InputError(f"strata with fewer than 2 plots cannot be estimated: {', '.join(short)}")
    se = sds / np.sqrt(counts)
    strata = tuple(
        StratumEstimate(
            name=names[h],
            area_ha=float(a[h]),
            n=int(counts[h]),
            mean=float(means[h]),
            sd=float(sds[h]),
            estimate=Estimate(
                float(means[h]), float(se[h]), int(counts[h]), counts[h] - 1.0, confidence
            ),
        )
        for h in range(n_strata)
    )
    var_terms = (a * se) ** 2
    total = Estimate(
        mean=float(np.sum(a * means)),
        se=float(math.sqrt(np.sum(var_terms))),
        n=int(counts.sum()),
        df=satterthwaite_df(var_terms, (counts - 1.0).astype(np.float64)),
        confidence=confidence,
    )
    return StratifiedEstimate(strata=strata, total=total)


@dataclass(frozen=True)
class SampleSize:
    """Required number of plots (CDM AR-Tool03) and its allocation to strata."""

    n: float
    """Required total number of plots before rounding."""
    allocation: tuple[float, ...]
    """n_h = n · w_h s_h / Σ w_h s_h, before rounding."""
    t: float
    """t value used."""

    @property
    def n_required(self) -> int:
        """Total rounded up."""
        return math.ceil(self.n - 1e-9)

    @property
    def allocation_required(self) -> tuple[int, ...]:
        """Each stratum's share rounded up (at least 2 so a variance can be estimated)."""
        return tuple(max(2, math.ceil(x - 1e-9)) for x in self.allocation)


def required_plots(
    weights: npt.ArrayLike,
    sds: npt.ArrayLike,
    allowable_error: float,
    *,
    t: float | None = None,
    confidence: float = 0.90,
    population_size: float | None = None,
    max_iterations: int = 50,
) -> SampleSize:
    """Number of plots for a target allowable error E (same unit as ``sds``), AR-Tool03.

    Large population: n = (t/E)² (Σ w_h s_h)². Finite population of N possible plots:
    n = N t² (Σ w_h s_h)² / (N E² + t² Σ w_h s_h²). Allocation n_h = n w_h s_h / Σ w_h s_h.
    With ``t=None`` the t value is iterated with n − 1 degrees of freedom until stable.
    """
    w = np.asarray(weights, dtype=np.float64)
    s = np.asarray(sds, dtype=np.float64)
    if allowable_error <= 0:
        raise InputError(f"allowable error must be positive, got {allowable_error}")
    if w.shape != s.shape or w.ndim != 1 or w.size == 0:
        raise InputError("weights and standard deviations must be equal-length 1-D sequences")
    ws = float(np.sum(w * s))
    ws2 = float(np.sum(w * s**2))

    def n_for(tv: float) -> float:
        if population_size is None:
            return (tv / allowable_error) ** 2 * ws**2
        big_n = population_size
        return big_n * tv**2 * ws**2 / (big_n * allowable_error**2 + tv**2 * ws2)

    if t is not None:
        tv = t
        n = n_for(tv)
    else:
        tv = t_value(confidence, math.inf)
        n = n_for(tv)
        for _ in range(max_iterations):
            new_t = t_value(confidence, max(math.ceil(n) - 1.0, 1.0))
            new_n = n_for(new_t)
            if math.ceil(new_n) == math.ceil(n) and abs(new_t - tv) < 1e-9:
                break
            tv, n = new_t, new_n
        tv, n = new_t, new_n
    share = w * s / ws if ws > 0 else w
    return SampleSize(n=n, allocation=tuple(float(x) for x in n * share), t=tv)
