"""The monitoring report of a small run folder (tests/report/builders.py): HTML numbers and
languages, every parcel, the unconfirmed flag, the PDF's text and fonts, the map images."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mrv.errors import ConfigurationError, InputError
from pipelines.report import ReportFiles, render_report
from pipelines.report import fonts as report_fonts
from tests.report.builders import Built, build_run
from tests.report.pdfcheck import page_texts, text_fonts

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Built, ReportFiles, str]:
    built = build_run(tmp_path_factory.mktemp("report"), n_parcels=4)
    files = render_report(built.run_dir, run_date="2026-01-15")
    return built, files, files.html.read_text(encoding="utf-8")


def test_files_are_written_under_report(rendered: tuple[Built, ReportFiles, str]) -> None:
    built, files, _ = rendered
    report = built.run_dir / "report"
    assert files.html == report / "report.html" and files.pdf == report / "report.pdf"
    names = sorted(p.name for p in files.maps)
    assert names == [
        "carbon_density.png",
        "carbon_uncertainty.png",
        "land_cover.png",
        "removals.png",
    ]
    assert all(p.parent == report / "maps" and p.is_file() for p in files.maps)


def test_headline_numbers_formatted(rendered: tuple[Built, ReportFiles, str]) -> None:
    built, _, html = rendered
    rem = built.summary["removals"]
    removals = 612.345 - 6.1 - 0.0
    half = 98.7654
    rel = half / removals  # 16.3 % > 10 %: the ccer-conservative rule deducts it all
    conservative = removals - removals * rel
    assert rem["removals_tco2e"] == pytest.approx(removals)
    assert f"{removals:,.1f}" == "606.2" and "606.2 <span" in html
    ci = f"[{removals - half:,.1f}, {removals + half:,.1f}]"
    assert ci == "[507.5, 705.0]" and ci in html
    assert f"{rel * 100:.1f} %" in html
    assert f"{removals * rel:,.1f}" in html  # deduction
    assert f"{conservative:,.1f}" in html
    assert f">{int(conservative):,d} <span" in html  # claimable, floored
    assert "5,432.1 ± 543.2" in html  # plots-only stock, t CO2e with thousands separator
    ma_total = 1_480.25 * 44 / 12
    ma_half = (1_529.0 - 1_431.5) / 2 * 44 / 12
    assert f"{ma_total:,.1f} ± {ma_half:,.1f}" == "5,427.6 ± 178.8"
    assert "5,427.6 ± 178.8" in html  # model-assisted, converted from t C by 44/12
    assert "23.76 ha (356.4 亩 mu)" in html  # 4 parcels of 5.94 ha; 1 ha = 15 mu
    assert "2026-01-15" in html and "huzhou-mrv" in html


def test_both_languages(rendered: tuple[Built, ReportFiles, str]) -> None:
    _, _, html = rendered
    for zh, en in [
        ("摘要", "Summary"),
        ("地图", "Maps"),
        ("分层碳储量与变化", "Stock and change by stratum"),
        ("不确定性与扣减", "Uncertainty and deduction"),
        ("地块清除量", "Removals per parcel"),
        ("方法学参数", "Methodology parameters"),
        ("质量保证与质量控制", "QA/QC"),
        ("碳储量", "Carbon stock"),
    ]:
        assert f'{zh} <span class="en">{en}</span>' in html
    assert "毛竹林 moso bamboo" in html and "大年 on-year" in html and "小年 off-year" in html


def test_every_parcel_row(rendered: tuple[Built, ReportFiles, str]) -> None:
    built, _, html = rendered
    rows = re.findall(r"<tr>\s*<td>(TSP-\d{4})</td>(.*?)</tr>", html, flags=re.S)
    assert [code for code, _ in rows] == [p["parcel_code"] for p in built.parcels]
    for (_, cells), p in zip(rows, built.parcels, strict=True):
        assert p["owner"] in cells
        assert f"{p['area_ha']:,.2f}" in cells and f"{p['removals_tco2e']:,.3f}" in cells
        assert f"{p['share'] * 100:.2f} %" in cells
    total = sum(p["removals_tco2e"] for p in built.parcels)
    assert "合计 Total (4)" in html and f"{total:,.3f}" in html


def test_unconfirmed_parameter_is_flagged(rendered: tuple[Built, ReportFiles, str]) -> None:
    _, _, html = rendered
    flagged = re.findall(r'<tr class="unconfirmed">\s*<td>(\w+)</td>', html)
    assert flagged == ["root_shoot_ratio"]
    assert '<span class="badge">未确认 unconfirmed</span>' in html
    assert "1 个未经原文确认" in html  # the summary page's notice counts them


def test_qa_tables(rendered: tuple[Built, ReportFiles, str]) -> None:
    _, _, html = rendered
    assert "45.7 %" in html  # cloud cover of the second date
    assert "91.2 %" in html and "0.876" in html  # overall accuracy and kappa
    assert ">1,234<" in html and ">1,239<" in html  # confusion-matrix cell and its row total
    assert "culms.csv, row 17, column dbh_cm" in html
    assert "不足 insufficient" in html  # 24 plots < 31 required


def test_html_is_self_contained_and_escaped(rendered: tuple[Built, ReportFiles, str]) -> None:
    _, files, html = rendered
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sorted(links) == sorted(f"maps/{p.name}" for p in files.maps)
    assert all((files.html.parent / link).is_file() for link in links)
    assert (
        "http" not in html.replace("http-equiv", "")
        and "<script" not in html
        and "<link" not in html
    )
    assert "&amp; were left out &lt;check&gt;" in html


def test_pdf_pages_text_and_fonts(rendered: tuple[Built, ReportFiles, str]) -> None:
    _, files, _ = rendered
    pages = page_texts(files.pdf)
    assert len(pages) > 1
    text = "\n".join(pages)
    assert len(CJK.findall(text)) > 500
    assert "碳汇监测报告" in text and "606.2" in text and "[507.5, 705.0]" in text
    assert (
        f"Page 1 of {len(pages)}" in pages[0] and f"Page {len(pages)} of {len(pages)}" in pages[-1]
    )
    assert "TST-2025" in pages[1]  # running header from page 2 on
    fonts = text_fonts(files.pdf)
    assert fonts and all(embedded for _, embedded in fonts)
    assert all("Noto-Sans-CJK-SC" in name for name, _ in fonts)  # no fallback font anywhere


def test_maps_size_and_colours(rendered: tuple[Built, ReportFiles, str]) -> None:
    _, files, _ = rendered
    for path in files.maps:
        with Image.open(path) as img:
            assert img.size == (960, 840)  # 6.4 × 5.6 in at 150 dpi
    with Image.open(files.maps[0]) as img:
        rgb = np.asarray(img.convert("RGB")).reshape(-1, 3)
    colours = {
        tuple(int(h[i : i + 2], 16) for i in (1, 3, 5))
        for h in ("#2ca25f", "#00592a", "#a6d854", "#3182bd")
    }
    present = {tuple(int(v) for v in c) for c in np.unique(rgb, axis=0)}
    assert colours <= present  # the four classes of the raster are drawn in their colours
    assert (222, 45, 38) not in present  # built-up (#de2d26) is absent from the raster


def test_missing_summary_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "outputs").mkdir()
    with pytest.raises(InputError, match=r"summary\.json: missing"):
        render_report(tmp_path)


def test_missing_font_package_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_fonts.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigurationError, match="mplfonts"):
        report_fonts.cjk_font_path()
