"""Stratum areas with confidence intervals: the good-practice estimator of Olofsson et al. 2014.

Olofsson, P., Foody, G.M., Herold, M., Stehman, S.V., Woodcock, C.E., Wulder, M.A. (2014). Good
practices for estimating area and assessing accuracy of land change. Remote Sensing of
Environment 148: 42–57. doi:10.1016/j.rse.2014.02.015.

The map classes are the strata of a stratified random accuracy-assessment sample. With map
class weights W_i (share of the mapped area) and sample counts n_ij (map class i, reference
class j; n_i· the sample size of stratum i), the estimated area proportion of cell (i, j) is
p̂_ij = W_i n_ij / n_i· (eq. 4 / 9), the error-adjusted proportion of class j is
p̂_·j = Σ_i p̂_ij (eq. 9) with standard error (eq. 10)

    S(p̂_·j) = √( Σ_i W_i² (n_ij/n_i·)(1 − n_ij/n_i·) / (n_i· − 1) ),

the adjusted area Â_j = A p̂_·j and S(Â_j) = A S(p̂_·j) (eqs. 11–12), and the 95 % interval
Â_j ± 1.96 S(Â_j). Overall accuracy Ô = Σ_j p̂_jj (eq. 1), user's accuracy Û_i = n_ii/n_i·
(eq. 2), producer's accuracy P̂_j = p̂_jj/p̂_·j (eq. 3), with variances eq. 5–7. The sample is
assumed to be a stratified random sample of the map classes; no finite-population correction.

Orientation: ``sample_confusion[i, j]`` counts sample units **mapped** as class i whose
**reference** class is j (Olofsson's n_ij) — the transpose of the cross-validation confusion
matrix of :mod:`pipelines.satellite.classify`, whose rows are reference classes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mrv.errors import InputError, Problem
from mrv.stats import t_value
from pipelines.satellite.classes import LandCoverClass

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GoodPracticeEstimate:
    """Error-adjusted areas and accuracies from a stratified accuracy-assessment sample.

    Per-class arrays are in the order of :attr:`classes`; ``nan`` where a quantity is
    undefined (user's accuracy of a class that is never mapped, producer's accuracy of a class
    estimated to be absent).
    """

    classes: tuple[str, ...]
    map_area_ha: FloatArray
    """Mapped area of each class (pixel count × pixel area)."""
    proportion: FloatArray
    """Error-adjusted area proportion p̂_·j (eq. 9)."""
    proportion_se: FloatArray
    """Standard error of p̂_·j (eq. 10)."""
    adjusted_area_ha: FloatArray
    """Error-adjusted area Â_j = A p̂_·j (eq. 11)."""
    adjusted_area_se_ha: FloatArray
    """S(Â_j) = A S(p̂_·j)."""
    users_accuracy: FloatArray
    users_accuracy_se: FloatArray
    producers_accuracy: FloatArray
    producers_accuracy_se: FloatArray
    overall_accuracy: float
    overall_accuracy_se: float
    proportions: FloatArray
    """Estimated area proportions p̂_ij (rows map class, columns reference class; eq. 4)."""
    confidence: float = 0.95

    @property
    def z(self) -> float:
        """Normal quantile of the two-sided interval (1.96 at 95 %)."""
        return t_value(self.confidence, math.inf)

    @property
    def ci_half_width_ha(self) -> FloatArray:
        """Half-width of the confidence interval of each adjusted area, hectares."""
        return self.z * self.adjusted_area_se_ha

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per class; ``ciNN_ha`` is the interval half-width (±)."""
        key = f"ci{round(self.confidence * 100):d}_ha"
        half = self.ci_half_width_ha
        return [
            {
                "class": name,
                "map_area_ha": _num(self.map_area_ha[k]),
                "adjusted_area_ha": _num(self.adjusted_area_ha[k]),
                key: _num(half[k]),
                "adjusted_area_se_ha": _num(self.adjusted_area_se_ha[k]),
                "users_accuracy": _num(self.users_accuracy[k]),
                "users_accuracy_se": _num(self.users_accuracy_se[k]),
                "producers_accuracy": _num(self.producers_accuracy[k]),
                "producers_accuracy_se": _num(self.producers_accuracy_se[k]),
            }
            for k, name in enumerate(self.classes)
        ]


def _num(v: float) -> float | None:
    return None if math.isnan(v) else float(v)


def _names(classes: Sequence[LandCoverClass] | Sequence[str]) -> tuple[str, ...]:
    return tuple(c.name if isinstance(c, LandCoverClass) else str(c) for c in classes)


def good_practice_estimate(
    map_pixel_counts: Sequence[float] | Mapping[str, float] | npt.ArrayLike,
    sample_confusion: npt.ArrayLike,
    *,
    pixel_area_ha: float,
    classes: Sequence[LandCoverClass] | Sequence[str],
    confidence: float = 0.95,
) -> GoodPracticeEstimate:
    """Olofsson et al. (2014) estimates from map pixel counts and sample counts n_ij.

    ``map_pixel_counts`` are per class in the order of ``classes`` (or a mapping class name →
    count; missing names count 0); ``sample_confusion[i, j]`` counts sample units mapped as
    class i with reference class j. Every class with mapped area needs at least two sample
    units (a stratum variance needs n_i· ≥ 2).
    """
    names = _names(classes)
    k = len(names)
    if isinstance(map_pixel_counts, Mapping):
        unknown = sorted(set(map_pixel_counts) - set(names))
        if unknown:
            raise InputError(f"map pixel counts name unknown classes {', '.join(unknown)}")
        counts = np.array([float(map_pixel_counts.get(n, 0.0)) for n in names])
    else:
        counts = np.asarray(map_pixel_counts, dtype=np.float64)
    n = np.asarray(sample_confusion, dtype=np.float64)
    if counts.shape != (k,):
        raise InputError(f"{k} classes but {counts.size} map pixel counts")
    if n.shape != (k, k):
        raise InputError(f"{k} classes need a {k}×{k} sample confusion matrix, got {n.shape}")
    if not (np.all(np.isfinite(counts)) and np.all(counts >= 0) and counts.sum() > 0):
        raise InputError("map pixel counts must be finite, non-negative and not all zero")
    if not (np.all(np.isfinite(n)) and np.all(n >= 0) and np.all(n == np.round(n))):
        raise InputError("sample counts must be non-negative whole numbers")
    if not pixel_area_ha > 0:
        raise InputError(f"pixel_area_ha must be positive, got {pixel_area_ha}")

    n_i = n.sum(axis=1)
    mapped = counts > 0
    short = [names[i] for i in range(k) if mapped[i] and n_i[i] < 2]
    if short:
        raise InputError(
            "every mapped class needs at least 2 accuracy-assessment sample units "
            f"(a stratum variance needs n ≥ 2): {', '.join(short)}",
            [
                Problem(f"{int(n_i[names.index(s)])} sample unit(s) mapped as {s!r}", feature=s)
                for s in short
            ],
        )

    area_total = counts.sum() * pixel_area_ha
    w = counts / counts.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(n_i[:, None] > 0, n / n_i[:, None], 0.0)  # n_ij / n_i·
        p = w[:, None] * q  # eq. 4
        # per-stratum variance terms W_i² q_ij (1 − q_ij) / (n_i· − 1), 0 for unmapped strata
        v = np.where(
            mapped[:, None], w[:, None] ** 2 * q * (1 - q) / np.maximum(n_i - 1, 1)[:, None], 0.0
        )
        p_col = p.sum(axis=0)  # eq. 9
        p_col_se = np.sqrt(v.sum(axis=0))  # eq. 10
        diag = np.diag(p)
        ua = np.where(n_i > 0, np.diag(q), np.nan)  # eq. 2
        ua_se = np.where(n_i > 1, np.sqrt(ua * (1 - ua) / np.maximum(n_i - 1, 1)), np.nan)  # eq. 6
        pa = np.where(p_col > 0, diag / p_col, np.nan)  # eq. 3
        v_jj = np.diag(v)
        # eq. 7 in proportions: [(1−P_j)² v_jj + P_j² Σ_{i≠j} v_ij] / p̂_·j²
        pa_var = ((1 - pa) ** 2 * v_jj + pa**2 * (v.sum(axis=0) - v_jj)) / p_col**2
        pa_se = np.sqrt(pa_var)
    oa = float(diag.sum())  # eq. 1
    oa_var = float(np.nansum(np.where(mapped, w**2 * ua * (1 - ua) / np.maximum(n_i - 1, 1), 0)))
    return GoodPracticeEstimate(
        classes=names,
        map_area_ha=counts * pixel_area_ha,
        proportion=p_col,
        proportion_se=p_col_se,
        adjusted_area_ha=p_col * area_total,
        adjusted_area_se_ha=p_col_se * area_total,
        users_accuracy=ua,
        users_accuracy_se=ua_se,
        producers_accuracy=pa,
        producers_accuracy_se=pa_se,
        overall_accuracy=oa,
        overall_accuracy_se=math.sqrt(oa_var),  # eq. 5
        proportions=p,
        confidence=confidence,
    )


def area_estimates(
    map_pixel_counts: Sequence[float] | Mapping[str, float] | npt.ArrayLike,
    sample_confusion: npt.ArrayLike,
    pixel_area_ha: float,
    classes: Sequence[LandCoverClass] | Sequence[str],
    *,
    confidence: float = 0.95,
) -> list[dict[str, Any]]:
    """Per-class ``{class, map_area_ha, adjusted_area_ha, ci95_ha, users_accuracy,
    producers_accuracy, …}`` by :func:`good_practice_estimate` (``ci95_ha`` = half-width)."""
    return good_practice_estimate(
        map_pixel_counts,
        sample_confusion,
        pixel_area_ha=pixel_area_ha,
        classes=classes,
        confidence=confidence,
    ).rows()
