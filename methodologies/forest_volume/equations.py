"""Tree biomass equations of ``forest-volume`` (pure, vectorised). Symbols and sources in
``forest-volume.md``; units are in the names.

* F1, volume path (methodologies.md §1.8, CCER-14-001-V01 / AR-Tool14 structure):
  B = V · WD · BEF · (1 + R), C = B · CF.
* F2, allometric path (Chave et al. 2014, Global Change Biology 20:3177, eq. 4):
  AGB_kg = a · (ρ · D² · H)^b with a = 0.0673, b = 0.976, ρ in g/cm³, D in cm, H in m.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mrv.units import KG_PER_T, M2_PER_HA

FloatArray = npt.NDArray[np.float64]

CM_PER_M = 100.0


def _f(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def volume_biomass_t(
    volume_m3: npt.ArrayLike,
    wood_density_t_per_m3: npt.ArrayLike,
    bef: npt.ArrayLike,
    root_to_shoot_ratio: npt.ArrayLike,
) -> FloatArray:
    """Whole-tree dry biomass (t) from stem volume, F1: B = V · WD · BEF · (1 + R).

    V stem volume over bark (m³; m³/ha gives t/ha), WD basic wood density (t dry matter per m³
    of fresh stem), BEF biomass expansion factor from stem to aboveground biomass, R
    root-to-shoot ratio (methodologies.md §1.8 [V structure]; species defaults [R]).
    """
    return np.asarray(
        _f(volume_m3) * _f(wood_density_t_per_m3) * _f(bef) * (1.0 + _f(root_to_shoot_ratio)),
        dtype=np.float64,
    )


def chave2014_agb_kg(
    wood_density_g_cm3: npt.ArrayLike,
    dbh_cm: npt.ArrayLike,
    height_m: npt.ArrayLike,
    a: float = 0.0673,
    b: float = 0.976,
) -> FloatArray:
    """Aboveground dry biomass of one tree (kg), F2: AGB = a · (ρ · D² · H)^b.

    Chave et al. 2014 (Global Change Biology 20:3177-3190) eq. 4, the pantropical model fitted
    on 4,004 harvested trees ≥ 5 cm at 58 tropical sites; ρ wood specific gravity (g/cm³ =
    t/m³), D DBH (cm), H total height (m). Coefficients as transcribed in the CRAN BIOMASS
    ``computeAGB`` documentation [V2].
    """
    rho_d2h = _f(wood_density_g_cm3) * _f(dbh_cm) ** 2 * _f(height_m)
    return np.asarray(a * rho_d2h**b, dtype=np.float64)


def basal_area_m2(dbh_cm: npt.ArrayLike) -> FloatArray:
    """Stem cross-section at breast height (m²): g = π/4 · (D/100)²."""
    return np.asarray(np.pi / 4.0 * (_f(dbh_cm) / CM_PER_M) ** 2, dtype=np.float64)


def form_factor(
    volume_m3: npt.ArrayLike, dbh_cm: npt.ArrayLike, height_m: npt.ArrayLike
) -> FloatArray:
    """Breast-height form factor implied by a stem volume: f = V / (g · H) (a QA check).

    Conifer and broadleaf stems have f of roughly 0.4-0.55; a value near 1,000 times that
    means the volume was entered in dm³, not m³.
    """
    return np.asarray(_f(volume_m3) / (basal_area_m2(dbh_cm) * _f(height_m)), dtype=np.float64)


def per_ha_by_group(
    values: npt.ArrayLike,
    plot_codes: npt.ArrayLike,
    group_codes: npt.ArrayLike,
    plot_area_m2: npt.ArrayLike,
    n_groups: int,
) -> FloatArray:
    """Sum per-tree values by plot and species group and scale to per hectare.

    Returns an array of shape (plots, groups): Σ values / plot area (m²) × 10,000. Tree ``i``
    belongs to plot ``plot_codes[i]`` (position in ``plot_area_m2``) and group
    ``group_codes[i]`` (0 … n_groups − 1); plots or groups without trees get 0.
    """
    area = _f(plot_area_m2)
    cell = np.asarray(plot_codes, dtype=np.intp) * n_groups + np.asarray(group_codes, np.intp)
    sums = np.bincount(cell, weights=_f(values), minlength=area.size * n_groups)
    return np.asarray(
        sums.reshape(area.size, n_groups) * (M2_PER_HA / area)[:, np.newaxis], dtype=np.float64
    )


def kg_to_t(value_kg: npt.ArrayLike) -> FloatArray:
    """Kilograms to tonnes."""
    return np.asarray(_f(value_kg) / KG_PER_T, dtype=np.float64)
