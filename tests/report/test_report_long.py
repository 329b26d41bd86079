"""A run with many parcels: the parcel table runs over pages with its header repeated, and a
second render (in another folder) gives the same bytes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pipelines.report import ReportFiles, render_report
from tests.report.builders import Built, build_run
from tests.report.pdfcheck import page_texts

N_PARCELS = 90


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Built, ReportFiles]:
    built = build_run(tmp_path_factory.mktemp("long"), n_parcels=N_PARCELS)
    return built, render_report(built.run_dir, run_date="2026-01-15")


def test_parcel_table_paginates_with_repeated_header(rendered: tuple[Built, ReportFiles]) -> None:
    built, files = rendered
    pages = page_texts(files.pdf)
    with_parcels = [p for p in pages if re.search(r"^TSP-\d{4}", p, flags=re.M)]
    assert len(with_parcels) >= 2
    for page in with_parcels:
        assert "地块编号" in page and "Owner" in page  # the header on every page of the table
    seen = re.findall(r"^(TSP-\d{4}) ", "\n".join(with_parcels), flags=re.M)
    assert seen == [p["parcel_code"] for p in built.parcels]  # every parcel once, in order


def test_rerender_is_byte_identical(rendered: tuple[Built, ReportFiles], tmp_path: Path) -> None:
    built, files = rendered
    copy = tmp_path / "elsewhere"
    shutil.copytree(built.run_dir, copy, ignore=shutil.ignore_patterns("report"))
    again = render_report(copy, run_date="2026-01-15")
    assert again.html.read_bytes() == files.html.read_bytes()
    assert again.pdf.read_bytes() == files.pdf.read_bytes()
    for a, b in zip(again.maps, files.maps, strict=True):
        assert a.read_bytes() == b.read_bytes()
