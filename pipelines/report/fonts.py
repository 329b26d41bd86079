"""The CJK font of the report: Noto Sans CJK SC as shipped in the ``mplfonts`` wheel.

The font (SIL Open Font License 1.1) is a file of an installed package, found with
``importlib.util.find_spec``; ``mplfonts``' own API is not used. Nothing is fetched at run time.
The same file draws the map labels (matplotlib) and is embedded, subset, in the PDF (WeasyPrint).
The PDF gets a font pre-subset to the characters of the report (:func:`subset_font`): WeasyPrint's
own subsetting keeps every glyph id of the 65,535-glyph font when HarfBuzz-subset is not
installed, which takes ~15 s; the pre-subset font (~150 kB) takes ~1 s.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from fontTools import subset  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from matplotlib import font_manager
from matplotlib.font_manager import FontProperties

from mrv.errors import ConfigurationError

FONT_PACKAGE = "mplfonts"
FONT_FILE = "fonts/NotoSansCJKsc-Regular.otf"
FONT_FAMILY = "Noto Sans CJK SC"
"""Family name inside the font file (what CSS and matplotlib match on)."""


def cjk_font_path() -> Path:
    """Path of ``NotoSansCJKsc-Regular.otf`` inside the installed ``mplfonts`` package."""
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None or spec.origin is None:
        raise ConfigurationError(
            f"the report needs the CJK font of the Python package {FONT_PACKAGE!r}, which is not "
            f"installed: pip install 'mplfonts>=0.0.10' (it ships {FONT_FILE}, SIL OFL)"
        )
    path = Path(spec.origin).parent / FONT_FILE
    if not path.is_file():
        raise ConfigurationError(
            f"{path}: font file missing from the installed {FONT_PACKAGE!r} package; "
            "reinstall it (pip install --force-reinstall mplfonts)"
        )
    return path


@cache
def matplotlib_font() -> FontProperties:
    """FontProperties of the CJK font, registered once with matplotlib's font manager."""
    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return FontProperties(fname=str(path))


GENERATED_CHARS = "•◦▪–—‘’“”…±×−·"
"""Characters CSS may draw that are not in the HTML text (list markers, quotes)."""


def subset_font(text: str, out: Path) -> Path:
    """Write the CJK font reduced to the characters of ``text``, printable ASCII and
    :data:`GENERATED_CHARS` to ``out``.

    Names and layout features are kept; the ``head`` timestamp and bounding box are left as in the
    source font (the same text gives the same bytes, and no glyph outline is re-read on save).
    """
    chars = {ord(c) for c in text + GENERATED_CHARS} | set(range(0x20, 0x7F))
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(chars))
    out.parent.mkdir(parents=True, exist_ok=True)
    with TTFont(str(cjk_font_path()), lazy=True, recalcTimestamp=False, recalcBBoxes=False) as font:
        subsetter.subset(font)
        font.save(str(out))
    return out


__all__ = ["FONT_FAMILY", "cjk_font_path", "matplotlib_font", "subset_font"]
