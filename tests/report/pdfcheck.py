"""Read back a rendered PDF with pypdfium2: page texts and the fonts its text objects use."""

from __future__ import annotations

import ctypes
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c


def page_texts(path: Path) -> list[str]:
    """Extracted text of every page."""
    pdf = pdfium.PdfDocument(path)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def text_fonts(path: Path) -> set[tuple[str, bool]]:
    """(base font name, embedded?) of every font used by a text object on any page."""
    pdf = pdfium.PdfDocument(path)
    found: set[tuple[str, bool]] = set()
    try:
        for i in range(len(pdf)):
            for obj in pdf[i].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]):
                font = pdfium_c.FPDFTextObj_GetFont(obj.raw)
                size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
                buf = ctypes.create_string_buffer(size)
                pdfium_c.FPDFFont_GetBaseFontName(font, buf, size)
                embedded = bool(pdfium_c.FPDFFont_GetIsEmbedded(font))
                found.add((buf.value.decode("utf-8", "replace"), embedded))
    finally:
        pdf.close()
    return found


def render_pages(path: Path, out_dir: Path, scale: float = 1.3) -> list[Path]:
    """Every page as a PNG (for looking at the report)."""
    pdf = pdfium.PdfDocument(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    try:
        for i in range(len(pdf)):
            target = out_dir / f"page-{i + 1:02d}.png"
            pdf[i].render(scale=scale).to_pil().save(target)
            paths.append(target)
    finally:
        pdf.close()
    return paths
