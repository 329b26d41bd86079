"""Soil carbon of ``wetland`` plots: accretion cores and repeated stock surveys, per plot."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from methodologies.base import Survey
from methodologies.parameters import ParamValues
from methodologies.wetland.equations import (
    accretion_rate_t_c_per_ha_yr,
    autochthonous_fraction,
    layer_stock_t_c_per_ha,
    oc_from_om_pct,
    ols_slope,
    om_from_oc_pct,
)

FloatArray = npt.NDArray[np.float64]
DAYS_PER_YEAR_CALENDAR = 365.25


def numeric(frame: pd.DataFrame, name: str) -> FloatArray:
    """A numeric column as floats (NaN when blank or when the optional column is absent)."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return np.asarray(pd.to_numeric(frame[name], errors="coerce"), dtype=np.float64)


def decimal_years(frame: pd.DataFrame, name: str) -> FloatArray:
    """A date column as decimal years since 1970 (NaN when blank or absent)."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    dates = pd.to_datetime(frame[name], errors="coerce")
    days = (dates - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(days / DAYS_PER_YEAR_CALENDAR, dtype=np.float64)


def text_values(frame: pd.DataFrame, name: str) -> npt.NDArray[np.object_]:
    """A text column as an object array ('' when the optional column is absent)."""
    if name not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return np.asarray(frame[name].fillna("").astype(str).to_numpy(), dtype=object)


def carbon_and_matter(cores: pd.DataFrame, p: ParamValues) -> tuple[FloatArray, FloatArray]:
    """Organic carbon % and organic matter % per core row (measured, else converted: W4/W5)."""
    a, b = p.scalar("om_to_oc.linear"), p.scalar("om_to_oc.quadratic")
    oc_meas = numeric(cores, "organic_carbon_pct")
    om_meas = numeric(cores, "organic_matter_pct")
    oc = np.where(np.isfinite(oc_meas), oc_meas, oc_from_om_pct(np.nan_to_num(om_meas), a, b))
    om = np.where(np.isfinite(om_meas), om_meas, om_from_oc_pct(np.nan_to_num(oc_meas), a, b))
    return np.asarray(oc, dtype=np.float64), np.asarray(om, dtype=np.float64)


class SoilCores:
    """Per-row and per-plot soil quantities shared by :meth:`Wetland.check` and the components."""

    def __init__(self, survey: Survey, p: ParamValues) -> None:
        cores = survey["cores"]
        self.n_plots = len(survey.plots)
        self.codes = survey.plot_codes("cores")
        self.method = np.asarray(cores["method"].to_numpy(), dtype=object)
        self.accretion = self.method == "accretion"
        self.stock = self.method == "stock"
        self.oc, self.om = carbon_and_matter(cores, p)
        self.converted = ~np.isfinite(numeric(cores, "organic_carbon_pct"))
        self.bd = numeric(cores, "bulk_density_g_cm3")
        self.rate = numeric(cores, "accretion_cm_per_yr")
        self.ref_age = numeric(cores, "reference_age_yr")
        self.round = numeric(cores, "survey_round")
        self.t_yr = decimal_years(cores, "sample_date")
        self.top = numeric(cores, "top_cm")
        self.bottom = numeric(cores, "bottom_cm")
        self.core = text_values(cores, "core_id")
        if p.flag("deduct_allochthonous_carbon"):
            self.share = autochthonous_fraction(
                self.oc,
                self.om,
                p.scalar("om_deposited_sediment_pct"),
                p.scalar("om_to_oc.linear"),
                p.scalar("om_to_oc.quadratic"),
            )
        else:
            self.share = np.ones(len(cores))
        plot_has = np.zeros((self.n_plots, 2), dtype=bool)
        plot_has[self.codes[self.accretion], 0] = True
        plot_has[self.codes[self.stock], 1] = True
        self.plot_accretion = plot_has[:, 0]
        self.plot_stock = plot_has[:, 1]

    def stock_layers(self) -> pd.DataFrame:
        """Stock rows with plot code, round, core key, time, layer stock and autochthonous share."""
        m = self.stock
        return pd.DataFrame(
            {
                "plot": self.codes[m],
                "round": self.round[m],
                "core": self.core[m],
                "t": self.t_yr[m],
                "top": self.top[m],
                "bottom": self.bottom[m],
                "c": layer_stock_t_c_per_ha(self.oc[m], self.bd[m], self.bottom[m] - self.top[m]),
                "share": self.share[m],
                "row": np.flatnonzero(m),
            }
        )

    def per_plot(self) -> tuple[FloatArray, FloatArray]:
        """Gross and autochthonous soil carbon accumulation per plot (t C/ha/yr), W2/W6/W7."""
        n = self.n_plots
        m = self.accretion
        rate = accretion_rate_t_c_per_ha_yr(self.rate[m], self.bd[m], self.oc[m])
        count = np.bincount(self.codes[m], minlength=n).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            gross_acc = np.bincount(self.codes[m], weights=rate, minlength=n) / count
            aut_acc = np.bincount(self.codes[m], weights=rate * self.share[m], minlength=n) / count
        gross = np.where(self.plot_accretion, gross_acc, 0.0)
        aut = np.where(self.plot_accretion, aut_acc, 0.0)
        if self.stock.any():
            layers = self.stock_layers()
            per_core = layers.groupby(["plot", "round", "core"], sort=False).agg(
                c=("c", "sum"), t=("t", "mean")
            )
            per_round = per_core.groupby(level=["plot", "round"], sort=False).mean().reset_index()
            slope = ols_slope(per_round["plot"], per_round["t"], per_round["c"], n)
            first = layers.groupby(["plot", "round", "core"], sort=False)["top"].transform("min")
            last = layers.groupby("plot", sort=False)["round"].transform("max")
            surface = layers[(layers["top"] == first) & (layers["round"] == last)]
            share = (
                surface.groupby("plot")["share"].mean().reindex(range(n), fill_value=1.0).to_numpy()
            )
            change = np.where(self.plot_stock, np.nan_to_num(slope), 0.0)
            gross = gross + change
            aut = aut + np.where(change > 0, change * share, change)
        return np.asarray(gross, dtype=np.float64), np.asarray(aut, dtype=np.float64)
