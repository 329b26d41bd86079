"""Monte Carlo propagation of sampling and parameter uncertainty to stratified totals.

For each stratum the vector of mean plot components is drawn from a multivariate t distribution
(location = sample means, scale = sample covariance / n_h, n_h − 1 degrees of freedom), so the
sampling error matches the t-based intervals; parameters with a ``pdf`` are drawn from it. The
methodology's pool function, linear in the components, is then evaluated on arrays of shape
(draws, strata) and area-weighted to totals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from methodologies.parameters import Num, ParameterSet, ParamValues

FloatArray = npt.NDArray[np.float64]


def draw_stratum_means(
    components: FloatArray,
    codes: npt.NDArray[np.intp],
    n_strata: int,
    draws: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Draws of each stratum's mean component vector, shape (draws, strata, components)."""
    n_comp = components.shape[1]
    out = np.empty((draws, n_strata, n_comp), dtype=np.float64)
    for h in range(n_strata):  # a handful of strata; each draw set is vectorised
        x = components[codes == h]
        n = x.shape[0]
        mean = x.mean(axis=0)
        cov = np.atleast_2d(np.cov(x, rowvar=False, ddof=1)) / n
        vals, vecs = np.linalg.eigh(cov)
        root = vecs * np.sqrt(np.clip(vals, 0.0, None))
        z = rng.standard_normal((draws, n_comp)) @ root.T
        scale = np.sqrt((n - 1) / rng.chisquare(n - 1, size=draws))
        out[:, h, :] = mean + z * scale[:, np.newaxis]
    return out


def draw_parameters(
    params: ParameterSet, draws: int, rng: np.random.Generator
) -> dict[str, FloatArray]:
    """Draws of every parameter that has a pdf (sorted by name for reproducibility)."""
    return {
        name: params[name].pdf.sample(rng, draws)  # type: ignore[union-attr]
        for name in sorted(params)
        if params[name].pdf is not None
    }


def simulate_totals(
    pool_fn: Callable[[Mapping[str, Num], ParamValues], dict[str, Num]],
    components: FloatArray,
    names: Sequence[str],
    codes: npt.NDArray[np.intp],
    areas_ha: FloatArray,
    params: ParameterSet,
    *,
    draws: int,
    seed: int,
) -> tuple[dict[str, FloatArray], list[str]]:
    """Total of each pool (area × per-ha value, summed over strata) for every draw.

    Returns pool name → array (draws,) and the names of parameters that were varied.
    """
    rng = np.random.default_rng(seed)
    means = draw_stratum_means(components, codes, areas_ha.size, draws, rng)
    pdraws = draw_parameters(params, draws, rng)
    values = ParamValues(params, draws=pdraws)
    comp = {name: means[:, :, i] for i, name in enumerate(names)}
    pools = pool_fn(comp, values)
    totals = {
        name: np.asarray(np.broadcast_to(v, (draws, areas_ha.size)) @ areas_ha, dtype=np.float64)
        for name, v in pools.items()
    }
    varied = sorted(n for n in pdraws if n in values.used)
    return totals, varied
