"""Land-cover classes of the strata map (configurable; these are the defaults).

Codes are stored in uint8 class rasters; 0 means no data / not classified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mrv.errors import InputError

NODATA_CLASS = 0


@dataclass(frozen=True)
class LandCoverClass:
    """One class of the land-cover map."""

    code: int
    name: str
    name_zh: str


DEFAULT_CLASSES: tuple[LandCoverClass, ...] = (
    LandCoverClass(1, "moso_bamboo", "毛竹林"),
    LandCoverClass(2, "other_forest", "其他林地"),
    LandCoverClass(3, "tea_garden", "茶园"),
    LandCoverClass(4, "paddy_farmland", "水田/耕地"),
    LandCoverClass(5, "wetland_vegetation", "湿地植被"),
    LandCoverClass(6, "open_water", "开阔水面"),
    LandCoverClass(7, "built_up", "建设用地"),
    LandCoverClass(8, "other", "其他"),
)


def class_table(names: Sequence[str] | None = None) -> tuple[LandCoverClass, ...]:
    """The default classes, or user-named classes coded 1…n in the given order."""
    if names is None:
        return DEFAULT_CLASSES
    clean = [n.strip() for n in names]
    if not clean or any(not n for n in clean) or len(set(clean)) != len(clean):
        raise InputError("class names must be non-empty and unique")
    if len(clean) > 254:
        raise InputError("at most 254 classes fit a uint8 class raster")
    zh = {c.name: c.name_zh for c in DEFAULT_CLASSES}
    return tuple(LandCoverClass(i, n, zh.get(n, n)) for i, n in enumerate(clean, start=1))


def code_of(classes: Sequence[LandCoverClass]) -> Mapping[str, int]:
    """Class name → code."""
    return {c.name: c.code for c in classes}
