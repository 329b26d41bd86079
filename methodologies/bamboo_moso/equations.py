"""Moso bamboo equations (pure, vectorised).

Single-culm biomass, methodologies.md §1.3 (Zhou Guomo & Jiang Peikun 2004, as recalled; [R]):

    M = a · D^b · [c·A / (d + A)]^e + f

M dry biomass of one culm in kg, D DBH in cm, A age in du (1 du = 2 years).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from methodologies.parameters import ParamValues

FloatArray = npt.NDArray[np.float64]


def culm_biomass_kg(dbh_cm: npt.ArrayLike, age_du: npt.ArrayLike, p: ParamValues) -> FloatArray:
    """Dry biomass (kg) of each culm from DBH (cm) and age (du), equation of §1.3."""
    d = np.asarray(dbh_cm, dtype=np.float64)
    a = np.asarray(age_du, dtype=np.float64)
    ka, kb = p.scalar("culm_equation.a"), p.scalar("culm_equation.b")
    kc, kd = p.scalar("culm_equation.c"), p.scalar("culm_equation.d")
    ke, kf = p.scalar("culm_equation.e"), p.scalar("culm_equation.f")
    return np.asarray(ka * d**kb * (kc * a / (kd + a)) ** ke + kf, dtype=np.float64)


def biomass_t_per_ha(
    culm_kg: npt.ArrayLike,
    plot_codes: npt.ArrayLike,
    plot_area_m2: npt.ArrayLike,
) -> FloatArray:
    """Sum culm biomass per plot (kg) and scale to t/ha: Σ M / 1000 × 10000 / plot area (m²).

    ``plot_codes[i]`` is the position of culm ``i``'s plot in ``plot_area_m2``; plots without
    culms get 0.
    """
    area = np.asarray(plot_area_m2, dtype=np.float64)
    kg = np.bincount(
        np.asarray(plot_codes, dtype=np.intp),
        weights=np.asarray(culm_kg, dtype=np.float64),
        minlength=area.size,
    )
    return np.asarray(kg / 1000.0 * (10_000.0 / area), dtype=np.float64)
