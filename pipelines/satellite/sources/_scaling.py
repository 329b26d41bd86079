"""Sentinel-2 digital numbers → reflectance, and which offset applies to which product.

Level-2A (and Level-1C) products store ``DN = reflectance × QUANTIFICATION + |offset|``:
``reflectance = (DN + ADD_OFFSET) / QUANTIFICATION_VALUE`` with ``QUANTIFICATION_VALUE = 10000``
and ``ADD_OFFSET = −1000`` for processing baseline 04.00 and later (in force from 2022-01-25;
reprocessed Collection-1 products, baseline 05.xx, carry it for older dates too), 0 before. DN 0
is no data (remote-sensing.md §5.1).

Where the offset comes from, first match wins:

1. the product metadata (``MTD_MSIL2A.xml``: ``BOA_QUANTIFICATION_VALUE`` and the per-band
   ``BOA_ADD_OFFSET``; ``MTD_MSIL1C.xml``: ``QUANTIFICATION_VALUE`` and ``RADIO_ADD_OFFSET``;
   otherwise its ``PROCESSING_BASELINE``), or GDAL scale/offset or tags of the file, or the
   STAC ``raster:bands`` scale/offset;
2. the processing baseline in the product name (``…_N0400_…``) or STAC properties;
3. the ``processing_baseline`` argument;
4. the **acquisition-date rule** (an assumption, flagged by :class:`ScalingAssumptionWarning`):
   scenes acquired on or after 2022-01-25 are taken as baseline ≥ 04.00 (offset −1000), older
   ones as baseline < 04.00 (offset 0). This is wrong for reprocessed archives; give the
   baseline when you know it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mrv.errors import InputError

QUANTIFICATION_VALUE = 10_000.0
"""DN per unit reflectance of Sentinel-2 L1C/L2A products."""
BASELINE_OFFSET_DN = -1000.0
"""ADD_OFFSET from processing baseline 04.00 on."""
OFFSET_BASELINE = (4, 0)
"""First processing baseline with the offset."""
OFFSET_START = pd.Timestamp("2022-01-25")
"""Date baseline 04.00 entered operations (used only when nothing else is known)."""

S2_BAND_IDS: tuple[str, ...] = (
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12",
)  # fmt: skip
"""Band order of ``band_id`` in product metadata (B10 keeps its slot in L2A too)."""

_NAME_BASELINE = re.compile(r"_N(\d{2})(\d{2})(?=_|\.|$)")
_MAX_MTD_BYTES = 20 << 20


@dataclass(frozen=True)
class Scaling:
    """``reflectance = DN × scale + offset``, and where that rule came from."""

    scale: float
    offset: float
    rule: str
    """E.g. ``"MTD_MSIL2A.xml"``, ``"baseline 04.00 (product name)"``, ``"date rule"``."""

    @property
    def assumed(self) -> bool:
        """True when the offset was decided by the acquisition-date rule."""
        return self.rule.startswith("date rule")


REFLECTANCE_AS_IS = Scaling(1.0, 0.0, "float data (already reflectance)")


def parse_baseline(text: str | float | None) -> tuple[int, int] | None:
    """``"04.00"``, ``"4.0"``, ``"0400"``, ``"N0400"``, ``5.09`` → (major, minor); None if empty."""
    if text is None:
        return None
    raw = str(text).strip().upper().lstrip("N")
    if not raw:
        return None
    match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})", raw) or re.fullmatch(r"(\d{2})(\d{2})", raw)
    if match is None:
        raise InputError(f"processing baseline {text!r} is not like '04.00'")
    return int(match[1]), int(match[2])


def format_baseline(baseline: tuple[int, int]) -> str:
    """(4, 0) → ``"04.00"``."""
    return f"{baseline[0]:02d}.{baseline[1]:02d}"


def from_baseline(baseline: tuple[int, int], rule: str) -> Scaling:
    """The scaling of a product of this processing baseline."""
    add = BASELINE_OFFSET_DN if baseline >= OFFSET_BASELINE else 0.0
    return Scaling(1.0 / QUANTIFICATION_VALUE, add / QUANTIFICATION_VALUE, rule)


def from_date(when: pd.Timestamp) -> Scaling:
    """The acquisition-date rule (an assumption; see the module docstring)."""
    add = BASELINE_OFFSET_DN if when.normalize() >= OFFSET_START else 0.0
    return Scaling(
        1.0 / QUANTIFICATION_VALUE,
        add / QUANTIFICATION_VALUE,
        f"date rule ({'on/after' if add else 'before'} {OFFSET_START.date()})",
    )


def baseline_from_names(names: Iterable[str]) -> tuple[int, int] | None:
    """Processing baseline from the first S2 product name (``…_N0400_…``) among ``names``."""
    for part in names:
        match = _NAME_BASELINE.search(part)
        if match:
            return int(match[1]), int(match[2])
    return None


@dataclass(frozen=True)
class ProductMetadata:
    """What a ``MTD_MSIL2A.xml`` / ``MTD_MSIL1C.xml`` says about scaling."""

    path: Path
    level: str | None
    """``"L2A"``, ``"L1C"`` or None."""
    baseline: tuple[int, int] | None
    quantification: float | None
    offsets: dict[str, float]
    """ADD_OFFSET (DN) per band name; empty before baseline 04.00."""

    def scaling(self, band: str) -> Scaling | None:
        """Scaling of ``band``, or None when the metadata is silent."""
        quant = self.quantification or QUANTIFICATION_VALUE
        if self.offsets:
            add = self.offsets.get(band, next(iter(self.offsets.values())))
            return Scaling(1.0 / quant, add / quant, self.path.name)
        if self.baseline is not None:
            add = BASELINE_OFFSET_DN if self.baseline >= OFFSET_BASELINE else 0.0
            rule = f"{self.path.name} (baseline {format_baseline(self.baseline)})"
            return Scaling(1.0 / quant, add / quant, rule)
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_product_metadata(path: Path) -> ProductMetadata:
    """Parse the scaling-related fields of a Sentinel-2 product metadata file."""
    try:
        if path.stat().st_size > _MAX_MTD_BYTES:
            raise InputError(f"{path}: too large for a Sentinel-2 metadata file")
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise InputError(f"{path}: cannot read product metadata: {exc}") from exc
    level: str | None = None
    baseline: tuple[int, int] | None = None
    quant: float | None = None
    offsets_by_id: dict[int, float] = {}
    band_names: dict[int, str] = {}
    try:
        for el in root.iter():
            tag = _local(el.tag)
            text = (el.text or "").strip()
            if tag == "PROCESSING_BASELINE" and text:
                baseline = parse_baseline(text)
            elif tag in ("PRODUCT_TYPE", "PROCESSING_LEVEL") and text:
                if "2A" in text:
                    level = "L2A"
                elif "1C" in text:
                    level = "L1C"
            elif tag in ("BOA_QUANTIFICATION_VALUE", "QUANTIFICATION_VALUE") and text:
                quant = float(text)
            elif tag in ("BOA_ADD_OFFSET", "RADIO_ADD_OFFSET") and text:
                offsets_by_id[int(el.attrib["band_id"])] = float(text)
            elif tag == "Spectral_Information" and "bandId" in el.attrib:
                physical = el.attrib.get("physicalBand", "")
                number = physical.upper().lstrip("B")
                name = (
                    "B8A" if number == "8A" else f"B{int(number):02d}" if number.isdigit() else ""
                )
                if name:
                    band_names[int(el.attrib["bandId"])] = name
    except (KeyError, ValueError) as exc:
        raise InputError(f"{path}: malformed product metadata: {exc}") from exc
    if quant is not None and quant <= 0:
        raise InputError(f"{path}: quantification value {quant} is not positive")
    offsets = {
        band_names.get(i, S2_BAND_IDS[i] if i < len(S2_BAND_IDS) else f"#{i}"): v
        for i, v in offsets_by_id.items()
    }
    return ProductMetadata(path, level, baseline, quant, offsets)


def find_product_metadata(start: Path, *, levels_up: int = 6) -> Path | None:
    """The ``MTD_MSIL2A.xml``/``MTD_MSIL1C.xml`` of the product ``start`` belongs to (searched in
    ``start``'s folder and up to ``levels_up`` parents, e.g. from ``GRANULE/*/IMG_DATA/R10m``)."""
    folder = start if start.is_dir() else start.parent
    for depth, candidate in enumerate([folder, *folder.parents]):
        if depth > levels_up:
            break
        for name in ("MTD_MSIL2A.xml", "MTD_MSIL1C.xml"):
            if (candidate / name).is_file():
                return candidate / name
    return None


def from_tags(tags: dict[str, str], band: str, where: str) -> Scaling | None:
    """Scaling from GeoTIFF tags (``BOA_ADD_OFFSET``/``RADIO_ADD_OFFSET``,
    ``BOA_QUANTIFICATION_VALUE``/``QUANTIFICATION_VALUE``, ``PROCESSING_BASELINE``)."""
    upper = {k.upper(): v for k, v in tags.items()}
    try:
        quant = float(
            upper.get("BOA_QUANTIFICATION_VALUE", upper.get("QUANTIFICATION_VALUE", "nan"))
        )
        add_text = upper.get(f"BOA_ADD_OFFSET_{band}", upper.get("BOA_ADD_OFFSET"))
        add_text = add_text or upper.get("RADIO_ADD_OFFSET")
        if add_text is not None:
            quant = quant if quant == quant else QUANTIFICATION_VALUE
            return Scaling(1.0 / quant, float(add_text) / quant, f"{where} tags")
    except ValueError as exc:
        raise InputError(f"{where}: scaling tags are not numbers: {exc}") from exc
    baseline = parse_baseline(upper.get("PROCESSING_BASELINE"))
    if baseline is not None:
        return from_baseline(baseline, f"baseline {format_baseline(baseline)} ({where} tags)")
    return None
