"""Surface spectra, seasonal phenology and carbon ranges of the synthetic Sentinel-2 generator.

Every pixel of the synthetic scene is a linear mixture of a few *endmember* spectra (the usual
linear spectral mixture model, e.g. Adams et al. 1986; Roberts et al. 1998). Each land-cover class
has a seasonal recipe that gives the endmember fractions of its pixels on a day of the year from
a few per-pixel modifiers held in the truth (vigour, deciduous share, bamboo on/off year, parcel
timing offsets, ...).

Sources and honesty about the numbers
-------------------------------------
* The blue/green/red/NIR/SWIR levels are **typical values**, chosen to agree with the measured
  Landsat-8 surface reflectance samples shipped with spyndex (``spectral.json``, Montero et al.
  2023, Sci. Data 10:197): green vegetation blue 0.028, green 0.051, red 0.040, NIR 0.27, SWIR1
  0.12, SWIR2 0.06; urban 0.10/0.14/0.18/0.27/0.29/0.23; water 0.024/0.040/0.016/0.015/0.021/
  0.020 (class means), and with the ranges in the issue brief (vegetation red 0.03–0.05, NIR
  0.30–0.45; water NIR < 0.02; built-up bright and flat).
* The red-edge bands (B05–B07) follow the shape of a typical green-leaf curve between the red
  and NIR levels; they are not taken from a measured Huzhou spectrum (none is available offline).
* Moso bamboo canopies are lighter (yellow-green) than evergreen broadleaf/conifer canopies and
  differ most in red-edge 2 to NIR (740–865 nm) between on- and off-year stands (Chen et al.
  2019, Remote Sens. 11(1):7; VENµS study, IJRS 2021, doi:10.1080/01431161.2020.1851802). Here
  off-year stands renew their leaves in spring (old leaves yellow and drop, April–May; off-year
  leaves look like pest damage, Remote Sens. 13(20):4146), modelled as a shift of canopy fraction
  from green leaf to senescent leaf.
* Calendars (single-season rice flooded and transplanted in June, harvested in late October on
  the Hangjiahu plain, Xiao et al. 2021 Remote Sens. 13(5):990; tea plucked in spring and pruned
  in late May–June; deciduous trees leafless December–March; reeds green May–October) are
  **typical for northern Zhejiang**, simplified.
* Carbon ranges (t C/ha, living biomass above + below ground) are **illustrative** of published
  orders of magnitude: moso bamboo 8–64 Mg C/ha above ground (Yuen et al. 2017, cited in
  methodologies/bamboo_moso), the bamboo methodology's worked example ≈ 24 t C/ha; subtropical
  forest 30–60; tea 10–20; crops and reeds a few t C/ha at peak; water and built-up ≈ 0.
* Thick-cloud and cirrus spectra are typical values (bright and flat in VNIR, lower in SWIR).

Nothing here is used as a measured truth about Huzhou; it only has to make a synthetic stack
whose statistics (separability, seasonal behaviour, biomass signal) resemble real data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

SPECTRAL_BANDS: tuple[str, ...] = (
    "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12",
)  # fmt: skip
"""Band order of the spectra below (the 10 Sentinel-2 L2A bands at 10 and 20 m)."""

#                      B02    B03    B04    B05    B06    B07    B08    B8A    B11    B12
ENDMEMBERS: dict[str, tuple[float, ...]] = {
    # moso bamboo canopy: lighter, yellow-green leaves, high red-edge/NIR
    "bamboo": (0.036, 0.082, 0.046, 0.122, 0.300, 0.372, 0.400, 0.414, 0.218, 0.104),
    # evergreen broadleaf / conifer canopy with its shadows: darker
    "broadleaf": (0.024, 0.048, 0.029, 0.082, 0.232, 0.292, 0.318, 0.330, 0.158, 0.070),
    # deciduous broadleaf in leaf
    "deciduous": (0.030, 0.064, 0.035, 0.104, 0.312, 0.398, 0.428, 0.442, 0.196, 0.088),
    # herbaceous green (rice, winter crops, reeds, grass)
    "herb": (0.034, 0.078, 0.040, 0.122, 0.322, 0.418, 0.448, 0.462, 0.228, 0.108),
    # tea bushes (dense evergreen shrub, glossy dark leaves)
    "tea": (0.029, 0.062, 0.038, 0.100, 0.262, 0.330, 0.358, 0.368, 0.186, 0.088),
    # senescent / dry leaves, straw, stubble
    "senescent": (0.058, 0.088, 0.108, 0.148, 0.188, 0.218, 0.238, 0.258, 0.330, 0.240),
    # moist soil, litter, bark (yellow-red soils of the region)
    "soil": (0.068, 0.094, 0.124, 0.154, 0.178, 0.198, 0.212, 0.232, 0.300, 0.238),
    # lake / reservoir water, mildly turbid
    "water": (0.045, 0.060, 0.040, 0.030, 0.018, 0.015, 0.012, 0.010, 0.004, 0.002),
    # impervious surfaces: roofs, concrete, asphalt mix — bright and flat
    "urban": (0.118, 0.128, 0.138, 0.150, 0.160, 0.166, 0.176, 0.182, 0.202, 0.186),
}
"""Endmember surface reflectance (0–1) per band in :data:`SPECTRAL_BANDS` order."""

VIGOUR_DELTA: tuple[float, ...] = (
    -0.008, -0.012, -0.022, -0.016, 0.060, 0.096, 0.108, 0.110, -0.036, -0.024,
)  # fmt: skip
"""Change of a green canopy's spectrum per unit of vigour (vigour − 0.5): denser, healthier
canopies are brighter in red-edge 2/3 and NIR and darker in red and SWIR (the usual biomass
signal that NDVI, NDRE and red-edge indices pick up)."""

GREEN = ("bamboo", "broadleaf", "deciduous", "herb", "tea")
"""Endmembers that carry the vigour signal."""

ENDMEMBER_NAMES: tuple[str, ...] = (*ENDMEMBERS, "vigour")
"""Weight order of :func:`endmember_fractions` (``"vigour"`` scales :data:`VIGOUR_DELTA`)."""

CLOUD: tuple[float, ...] = (0.56, 0.54, 0.53, 0.53, 0.54, 0.54, 0.55, 0.54, 0.40, 0.27)
"""Top-of-cloud reflectance of a thick water cloud (typical values)."""

CIRRUS: tuple[float, ...] = (0.30, 0.29, 0.28, 0.28, 0.28, 0.28, 0.28, 0.27, 0.22, 0.16)
"""Reflectance contributed by thin cirrus per unit opacity (typical values)."""

CARBON_RANGE_TC_PER_HA: dict[str, tuple[float, float]] = {
    "moso_bamboo": (20.0, 45.0),
    "other_forest": (30.0, 60.0),
    "tea_garden": (10.0, 20.0),
    "paddy_farmland": (1.0, 5.0),
    "wetland_vegetation": (5.0, 15.0),
    "open_water": (0.0, 0.0),
    "built_up": (0.0, 2.0),
    "other": (0.0, 5.0),
}
"""Living-biomass carbon density range per class (t C/ha; illustrative, see module docstring).
The truth maps a pixel's latent quality (correlated with vigour) onto this range."""

DEFAULT_PROPORTIONS: dict[str, float] = {
    "moso_bamboo": 0.30,
    "other_forest": 0.25,
    "tea_garden": 0.08,
    "paddy_farmland": 0.15,
    "wetland_vegetation": 0.03,
    "open_water": 0.05,
    "built_up": 0.10,
    "other": 0.04,
}
"""Class shares of the synthetic landscape: plausible for Anji county (bamboo-dominated hills,
paddy and villages in the valleys, reservoirs), not an inventory figure."""

MONTHLY_CLOUD_COVER: tuple[float, ...] = (
    0.16, 0.24, 0.26, 0.22, 0.24, 0.50, 0.35, 0.18, 0.16, 0.06, 0.10, 0.08,
)  # fmt: skip
"""Share of a Sentinel-2 acquisition covered by (medium- or high-probability) cloud, January to
December: illustrative of Huzhou's climate — the plum-rain season (meiyu, mid-June to mid-July)
is the cloudiest, autumn and early winter the clearest. Not a climatology statistic."""


@dataclass(frozen=True)
class PixelModifiers:
    """Per-pixel truth values that a class's seasonal recipe uses (1-D arrays, one per pixel)."""

    vigour: FloatArray
    """Latent canopy vigour 0–1 (drives NIR/red-edge and the carbon density)."""
    mix: FloatArray
    """Class-specific sub-pixel share 0–1: deciduous share (other forest), bare share (other),
    greenery share (built-up), turbidity (open water); unused elsewhere."""
    shift_days: FloatArray
    """Parcel timing offset in days (paddy transplanting, tea pruning)."""
    winter_crop: npt.NDArray[np.bool_]
    """Paddy parcel carries a winter crop (rapeseed/wheat)."""
    off_year: npt.NDArray[np.bool_]
    """Moso bamboo stand is in its off (leaf-renewal) year."""


def _season(doy: float | FloatArray, knots: tuple[tuple[float, float], ...]) -> FloatArray:
    """Piecewise-linear annual curve through ``(day_of_year, value)`` knots, periodic in 365."""
    x = np.array([k[0] for k in knots], dtype=np.float64)
    y = np.array([k[1] for k in knots], dtype=np.float64)
    d = np.mod(np.asarray(doy, dtype=np.float64), 365.0)
    return np.interp(d, x, y, period=365.0).astype(np.float32)


# ---- seasonal curves (day of year → value), typical for northern Zhejiang -----------------
_LEAF_ON = ((20, 0.0), (85, 0.0), (125, 1.0), (290, 1.0), (335, 0.0))  # deciduous trees
_AUTUMN = ((20, 0.0), (280, 0.0), (310, 0.6), (345, 0.0))  # autumn colour on deciduous part
_RENEWAL = ((20, 0.0), (85, 0.0), (115, 0.55), (140, 0.45), (170, 0.0))  # bamboo off-year leaves
_TEA = ((20, 0.9), (70, 1.0), (140, 1.0), (160, 0.55), (230, 1.0), (280, 1.0), (300, 0.85))
_REED = ((20, 0.05), (95, 0.10), (150, 0.80), (270, 0.85), (315, 0.30), (345, 0.08))
_GRASS = ((20, 0.25), (90, 0.35), (140, 0.90), (260, 0.95), (320, 0.45))
_URBAN_GREEN = ((20, 0.6), (110, 1.0), (300, 1.0), (340, 0.65))

# single-season rice (per parcel shifted by shift_days); fractions of herb, senescent, water;
# soil takes the rest.  Winter-crop parcels green up from February and are harvested in May.
_RICE_HERB = (
    (20, 0.0), (150, 0.0), (165, 0.06), (190, 0.35), (220, 0.85), (255, 0.95), (280, 0.55),
    (300, 0.05), (330, 0.0),
)  # fmt: skip
_RICE_SEN = (
    (20, 0.35), (120, 0.20), (140, 0.05), (150, 0.0), (255, 0.0), (285, 0.40), (300, 0.85),
    (318, 0.45), (345, 0.40),
)  # fmt: skip
_RICE_WATER = (
    (20, 0.0), (143, 0.0), (152, 0.85), (176, 0.80), (198, 0.35), (225, 0.05), (240, 0.0),
)  # fmt: skip
_WINTER_HERB = (
    (5, 0.30), (40, 0.40), (90, 0.85), (115, 0.80), (135, 0.30), (150, 0.0), (300, 0.0),
    (330, 0.15),
)  # fmt: skip
_WINTER_SEN = ((5, 0.0), (110, 0.0), (135, 0.55), (148, 0.25), (160, 0.0), (330, 0.0))

Fractions = dict[str, FloatArray]
Recipe = Callable[[float, PixelModifiers], Mapping[str, npt.ArrayLike]]


def _bamboo(doy: float, m: PixelModifiers) -> Mapping[str, npt.ArrayLike]:
    cover = 0.80 + 0.16 * m.vigour
    renew = _season(doy, _RENEWAL) * m.off_year
    gap = 1.0 - cover
    return {
        "bamboo": cover * (1.0 - renew),
        "senescent": cover * renew + 0.5 * gap,
        "soil": 0.5 * gap,
    }


def _forest(doy: float, m: PixelModifiers) -> Mapping[str, npt.ArrayLike]:
    cover = 0.82 + 0.14 * m.vigour
    d = 0.75 * m.mix
    on = _season(doy, _LEAF_ON)
    autumn = _season(doy, _AUTUMN)
    off = 1.0 - on
    return {
        "broadleaf": cover * (1.0 - d) + 0.6 * (1.0 - cover),
        "deciduous": cover * d * on * (1.0 - autumn),
        "senescent": cover * d * (on * autumn + 0.45 * off),
        "soil": cover * d * 0.55 * off + 0.4 * (1.0 - cover),
    }


def _tea(doy: float, m: PixelModifiers) -> Mapping[str, npt.ArrayLike]:
    cover = (0.45 + 0.30 * m.vigour) * _season(doy - m.shift_days * 0.5, _TEA)
    return {"tea": cover, "soil": 0.8 * (1.0 - cover), "senescent": 0.2 * (1.0 - cover)}


def _paddy(doy: float, m: PixelModifiers) -> Mapping[str, npt.ArrayLike]:
    d = doy - m.shift_days
    canopy = 0.85 + 0.15 * m.vigour
    herb = _season(d, _RICE_HERB) * canopy
    sen = _season(d, _RICE_SEN)
    water = _season(d, _RICE_WATER)
    wc = m.winter_crop
    herb = np.where(wc, herb + _season(d, _WINTER_HERB) * canopy, herb)
    sen = np.where(wc, np.minimum(sen, 0.15) + _season(d, _WINTER_SEN), sen)
    total = herb + sen + water
    scale = np.where(total > 1.0, 1.0 / np.maximum(total, 1e-6), 1.0).astype(np.float32)
    herb, sen, water = herb * scale, sen * scale, water * scale
    return {"herb": herb, "senescent": sen, "water": water, "soil": 1.0 - herb - sen - water}


def _wetland(doy: float, m: PixelModifiers) -> Mapping[str, npt.ArrayLike]:
    green = _season(doy, _REED) * (0.7 + 0.3 * m.vigour)
    stand = 0.75 - green
    return {"herb": green, "senescent": 0.85 * stand, "soil": 0.15 * stand, "water": 0.25}


def _water(doy: float, m: PixelModifiers) -> Mapping[str, npt.ArrayLike]:
    turbid = 0.12 * m.mix
    bloom = 0.05 * m.mix * _season(doy, ((20, 0.0), (170, 0.0), (210, 1.0), (250, 0.0)))
    return {"water": 1.0 - turbid - bloom, "soil": turbid, "herb": bloom}


def _built(doy: float, m: PixelModifiers) -> Mapping[str, npt.ArrayLike]:
    green = 0.30 * m.mix
    leafy = _season(doy, _URBAN_GREEN)
    return {
        "urban": 1.0 - green,
        "broadleaf": green * leafy,
        "senescent": green * (1.0 - leafy) * 0.5,
        "soil": green * (1.0 - leafy) * 0.5,
    }


def _other(doy: float, m: PixelModifiers) -> Mapping[str, npt.ArrayLike]:
    bare = 0.2 + 0.7 * m.mix
    g = _season(doy, _GRASS) * (0.7 + 0.3 * m.vigour)
    grass = 1.0 - bare
    return {"soil": bare, "herb": grass * g, "senescent": grass * (1.0 - g)}


RECIPES: Mapping[str, Recipe] = {
    "moso_bamboo": _bamboo,
    "other_forest": _forest,
    "tea_garden": _tea,
    "paddy_farmland": _paddy,
    "wetland_vegetation": _wetland,
    "open_water": _water,
    "built_up": _built,
    "other": _other,
}
"""Seasonal recipe per class name (the default land-cover classes)."""


def endmember_fractions(class_name: str, doy: float, mods: PixelModifiers) -> Fractions:
    """Endmember fractions of the pixels of one class on day ``doy``, plus ``"vigour"``:
    ``(vigour − 0.5) × green fraction``, the weight of :data:`VIGOUR_DELTA`."""
    n = mods.vigour.shape
    fr = {
        k: np.broadcast_to(np.asarray(v, dtype=np.float32), n)
        for k, v in RECIPES[class_name](doy, mods).items()
    }
    green = [fr[g] for g in GREEN if g in fr]
    if green:
        fr["vigour"] = ((mods.vigour - 0.5) * sum(green[1:], green[0])).astype(np.float32)
    return fr


def spectra_matrix(bands: tuple[str, ...]) -> FloatArray:
    """Endmember spectra as a (band, endmember) matrix for ``bands`` (vigour delta last)."""
    idx = [SPECTRAL_BANDS.index(b) for b in bands]
    cols = [np.asarray(ENDMEMBERS[e], dtype=np.float32)[idx] for e in ENDMEMBERS]
    cols.append(np.asarray(VIGOUR_DELTA, dtype=np.float32)[idx])
    return np.stack(cols, axis=1)
