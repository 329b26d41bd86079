"""HTML → PDF with WeasyPrint (pango layout), the packaged CJK font embedded as a subset.

Only ``file:`` and ``data:`` URLs are fetched (the maps next to the HTML and the font file), so
rendering never touches the network. For identical bytes on every render, wherever the run
folder is: the PDF's dates come from the HTML's ``dcterms.created``/``dcterms.modified`` meta
tags, the file identifier is given by the caller, images are inlined as ``data:`` URLs (WeasyPrint
names an image by the MD5 of its URL, so a file path would leak into the bytes), and the embedded
font's ``head`` timestamp (fontTools, when WeasyPrint subsets with it) is pinned through
``SOURCE_DATE_EPOCH`` (reproducible-builds.org) unless already set.
"""

from __future__ import annotations

import base64
import importlib
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from pipelines.report.fonts import FONT_FAMILY, subset_font

LOCAL_SCHEMES = frozenset({"file", "data"})
_RELATIVE_PNG = re.compile(r'src="([^":]+\.png)"')


def inline_images(html: str, base_dir: Path) -> str:
    """``src="maps/x.png"`` → ``src="data:image/png;base64,…"`` (relative PNG links only)."""

    def data_url(match: re.Match[str]) -> str:
        raw = (base_dir / match.group(1)).read_bytes()
        return f'src="data:image/png;base64,{base64.b64encode(raw).decode("ascii")}"'

    return _RELATIVE_PNG.sub(data_url, html)


def font_face_css(font: Path) -> str:
    """``@font-face`` rule binding the report's CSS font family to a font file."""
    src = f'url("{font.absolute().as_uri()}") format("opentype")'
    return f'@font-face {{ font-family: "{FONT_FAMILY}"; src: {src}; }}'


@cache
def _weasyprint() -> ModuleType:
    """WeasyPrint, imported on first use (it loads pango). Without libharfbuzz-subset it warns
    at import that a future version will need it; it then subsets fonts with fontTools."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        module = importlib.import_module("weasyprint")
        importlib.import_module("weasyprint.text.fonts")
    return module


def _fetcher_options() -> dict[str, Any]:
    fetcher = getattr(_weasyprint().urls, "URLFetcher", None)  # WeasyPrint >= 66
    if fetcher is None:
        return {}
    return {"url_fetcher": fetcher(allowed_protocols=LOCAL_SCHEMES, fail_on_errors=True)}


@contextmanager
def _source_date_epoch(epoch_s: int) -> Iterator[None]:
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch_s)
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


def write_pdf(html: str, base_dir: Path, out: Path, *, identifier: bytes, epoch_s: int) -> Path:
    """Render ``html`` (relative links resolved against ``base_dir``) to ``out``.

    ``epoch_s`` (Unix seconds) is the timestamp written into the embedded font.
    """
    weasyprint = _weasyprint()
    options = _fetcher_options()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mrv-report-font-") as tmp:
        font = subset_font(html, Path(tmp) / "NotoSansCJKsc-Regular.otf")
        fonts = weasyprint.text.fonts.FontConfiguration()
        face = weasyprint.CSS(string=font_face_css(font), font_config=fonts, **options)
        document = weasyprint.HTML(
            string=inline_images(html, base_dir), base_url=str(base_dir.absolute()) + "/", **options
        )
        with _source_date_epoch(epoch_s):
            document.write_pdf(
                out, stylesheets=[face], font_config=fonts, pdf_identifier=identifier
            )
    return out


__all__ = ["font_face_css", "inline_images", "write_pdf"]
