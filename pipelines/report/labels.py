"""Bilingual names used by the report (pure): land-cover classes, strata, land types, rules.

Chinese terms follow ``shared/reference/glossary.md`` and the class table of
``pipelines.satellite.classes``; a name without a translation is shown as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.satellite.classes import DEFAULT_CLASSES


@dataclass(frozen=True)
class Bilingual:
    """A Chinese and an English label of one thing."""

    zh: str
    en: str

    def __str__(self) -> str:
        return self.en if self.zh == self.en else f"{self.zh} {self.en}"


CLASS_COLOURS: dict[str, str] = {
    "moso_bamboo": "#2ca25f",
    "other_forest": "#00592a",
    "tea_garden": "#a6d854",
    "paddy_farmland": "#f2d16b",
    "wetland_vegetation": "#66c2a4",
    "open_water": "#3182bd",
    "built_up": "#de2d26",
    "other": "#bdb39b",
}
"""Map colours of the default land-cover classes."""

FALLBACK_COLOURS = ("#8c6bb1", "#fdae6b", "#9e9ac8", "#e377c2", "#7f7f7f", "#17becf", "#bcbd22")

_CLASS_ZH = {c.name: c.name_zh for c in DEFAULT_CLASSES}
_STRATUM_ZH = {
    "on-year": "大年",
    "on_year": "大年",
    "off-year": "小年",
    "off_year": "小年",
}
_LAND_TYPE_ZH = {
    "bamboo": "竹林",
    "forest": "林地",
    "tea": "茶园",
    "farmland": "耕地",
    "paddy": "水田",
    "upland": "旱地",
    "wetland": "湿地",
}
_RULE_ZH = {
    "ccer-conservative": "CCER 保守扣减",
    "vm0033": "VM0033 允许不确定性",
    "art-trees": "ART-TREES 不确定性扣减",
    "vm0042": "VM0042 不确定性扣减",
    "none": "不扣减",
}
_SEVERITY_ZH = {"error": "错误", "warning": "警告"}
_SEASON_ZH = {"spring": "春季", "summer": "夏季", "autumn": "秋季", "winter": "冬季"}


def _english(name: str) -> str:
    return name.replace("_", " ")


def class_label(name: str) -> Bilingual:
    """Land-cover class ``moso_bamboo`` → 毛竹林 / moso bamboo."""
    return Bilingual(_CLASS_ZH.get(name, name), _english(name))


def stratum_label(name: str) -> Bilingual:
    """Survey stratum (``on-year`` → 大年) or a land-cover class used as stratum."""
    if name in _STRATUM_ZH:
        return Bilingual(_STRATUM_ZH[name], name)
    return class_label(name) if name in _CLASS_ZH else Bilingual(name, name)


def land_type_label(name: str) -> Bilingual:
    """Parcel land type (``bamboo`` → 竹林)."""
    return Bilingual(_LAND_TYPE_ZH.get(name, name), name)


def rule_label(rule: str) -> Bilingual:
    """Uncertainty-deduction rule (see ``mrv.uncertainty``)."""
    return Bilingual(_RULE_ZH.get(rule, rule), rule)


def severity_label(severity: str) -> Bilingual:
    """Problem severity ``error`` / ``warning``."""
    return Bilingual(_SEVERITY_ZH.get(severity, severity), severity)


def season_label(name: str) -> Bilingual:
    """Compositing season ``spring`` → 春季."""
    return Bilingual(_SEASON_ZH.get(name, name), name)


def class_colour(name: str, code: int) -> str:
    """Map colour of a class: the default palette, else a fallback colour chosen by code."""
    return CLASS_COLOURS.get(name, FALLBACK_COLOURS[code % len(FALLBACK_COLOURS)])


__all__ = [
    "CLASS_COLOURS",
    "Bilingual",
    "class_colour",
    "class_label",
    "land_type_label",
    "rule_label",
    "season_label",
    "severity_label",
    "stratum_label",
]
