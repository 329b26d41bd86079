"""The report's four maps as PNG (matplotlib, Agg, no pyplot state): land cover, carbon density,
uncertainty (90 % prediction-interval width) and per-parcel removals. Each shows the site
boundary and parcel outlines, a bilingual title and legend, axes in metres (projected CRS) or
degrees, and a scale bar (projected CRS only). Labels use the packaged CJK font.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from pipelines.report.fonts import FONT_FAMILY, matplotlib_font
from pipelines.report.labels import class_colour, class_label
from pipelines.report.mapdata import Raster

DPI = 150
FIGSIZE_IN = (6.4, 5.6)
"""Figure size; the PNG is ``FIGSIZE_IN × DPI`` pixels (960 × 840)."""


@contextmanager
def _style() -> Iterator[None]:
    matplotlib_font()  # registers the font file once
    with mpl.rc_context(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [FONT_FAMILY, "DejaVu Sans"],
            "axes.unicode_minus": False,
            "font.size": 9.5,
        }
    ):
        yield


def _new_axes(title: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=12)
    return fig, ax


def _frame(
    ax: Axes, boundary: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, projected: bool
) -> None:
    if len(parcels):  # a county-wide run may have no parcels
        parcels.boundary.plot(ax=ax, color="#333333", linewidth=0.35)
    boundary.boundary.plot(ax=ax, color="black", linewidth=1.2)
    left, bottom, right, top = boundary.total_bounds
    pad = 0.04 * max(right - left, top - bottom)
    ax.set_xlim(left - pad, right + pad)
    ax.set_ylim(bottom - pad, top + pad)
    ax.set_aspect("equal" if projected else 1 / math.cos(math.radians((top + bottom) / 2)))
    if projected:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
        ax.set_xlabel("东距 Easting (m)")
        ax.set_ylabel("北距 Northing (m)")
        _scale_bar(ax)
    else:
        ax.set_xlabel("经度 Longitude (°)")
        ax.set_ylabel("纬度 Latitude (°)")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=5, prune="lower"))
    ax.tick_params(labelsize=8)
    ax.tick_params(axis="y", labelrotation=90)


def _scale_bar(ax: Axes) -> None:
    """A scale bar of a round length (1, 2 or 5 × 10^k m) about a fifth of the map's width."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    target = (x1 - x0) / 5
    k = 10 ** math.floor(math.log10(target))
    length = max(m * k for m in (1, 2, 5) if m * k <= target)
    x, y = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([x, x + length], [y, y], color="black", linewidth=3, solid_capstyle="butt")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(
        x + length / 2,
        y + 0.015 * (y1 - y0),
        label,
        ha="center",
        va="bottom",
        fontsize=8,
        bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1},
    )


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    return path


def land_cover_map(
    raster: Raster,
    classes: Mapping[int, str],
    boundary: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    path: Path,
) -> Path:
    """Class colours per pixel; the legend names the classes present, in both languages."""
    with _style():
        fig, ax = _new_axes("土地覆盖 Land cover")
        codes = raster.bands[0]
        rgba = np.zeros((*codes.shape, 4))
        handles = []
        for code, name in sorted(classes.items()):
            hit = codes == code
            if not hit.any():
                continue
            rgba[hit] = mpl.colors.to_rgba(class_colour(name, code))
            handles.append(Patch(color=class_colour(name, code), label=str(class_label(name))))
        ax.imshow(rgba, extent=raster.extent, interpolation="nearest")
        _frame(ax, boundary, parcels, raster.projected)
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
            ncol=min(4, max(1, len(handles))),
            fontsize=8,
            frameon=False,
        )
        return _save(fig, path)


def continuous_map(
    values: np.ndarray,
    raster: Raster,
    boundary: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    path: Path,
    *,
    title: str,
    label: str,
    cmap: str,
) -> Path:
    """A continuous raster (NaN transparent) with a labelled colour bar."""
    with _style():
        fig, ax = _new_axes(title)
        finite = values[np.isfinite(values)]
        vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        image = ax.imshow(
            np.ma.masked_invalid(values),
            extent=raster.extent,
            cmap=cmap,
            norm=Normalize(vmin, vmax if vmax > vmin else vmin + 1),
            interpolation="nearest",
        )
        _frame(ax, boundary, parcels, raster.projected)
        fig.colorbar(image, ax=ax, shrink=0.8, label=label)
        return _save(fig, path)


def change_map(
    parcels: gpd.GeoDataFrame,
    column: str,
    boundary: gpd.GeoDataFrame,
    path: Path,
    *,
    projected: bool,
) -> Path:
    """Choropleth of a per-parcel value; parcels without a value are grey and hatched."""
    with _style():
        fig, ax = _new_axes("地块清除量 Removals per parcel")
        values = parcels[column].astype(float)
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        if lo < 0 < hi:
            norm: Normalize = TwoSlopeNorm(0.0, lo, hi)
            cmap = "RdYlGn"
        else:
            norm, cmap = Normalize(lo, hi if hi > lo else lo + 1), "YlGn"
        missing = parcels[~np.isfinite(values)]
        if len(missing):
            missing.plot(ax=ax, color="#dddddd", hatch="///", edgecolor="#999999", linewidth=0.3)
        mapped = parcels[np.isfinite(values)]
        if len(mapped):
            mapped.plot(ax=ax, column=column, cmap=cmap, norm=norm)
        _frame(ax, boundary, parcels, projected)
        mappable = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(mappable, ax=ax, shrink=0.8, label="清除量 Removals (t CO2e/ha/yr)")
        if len(missing):
            ax.legend(
                handles=[Patch(facecolor="#dddddd", hatch="///", label="无制图碳 not mapped")],
                loc="upper left",
                bbox_to_anchor=(0.0, -0.1),
                fontsize=8,
                frameon=False,
            )
        return _save(fig, path)


__all__ = ["DPI", "FIGSIZE_IN", "change_map", "continuous_map", "land_cover_map"]
