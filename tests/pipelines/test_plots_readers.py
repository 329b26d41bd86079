"""Survey files in the formats bureaus actually have: UTF-8/GBK CSV, XLSX, GeoPackage, GeoJSON."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from mrv.datums import wgs84_to_gcj02
from mrv.errors import FileFormatError, InputError
from pipelines.plots import estimate
from pipelines.plots.readers import read_any

EXAMPLE = Path(__file__).resolve().parents[2] / "methodologies" / "bamboo_moso" / "example"


@pytest.fixture(scope="module")
def reference_total() -> float:
    r = estimate(
        "bamboo-moso",
        named={
            "plots": EXAMPLE / "plots.csv",
            "culms": EXAMPLE / "culms.csv",
            "strata": EXAMPLE / "strata.csv",
        },
        datum="gcj02",
    )
    return float(r["total"]["co2e_t"])


def _frames() -> dict[str, pd.DataFrame]:
    return {n: pd.read_csv(EXAMPLE / f"{n}.csv", dtype=str) for n in ("plots", "culms", "strata")}


def test_gbk_csv_with_chinese_headers(tmp_path: Path, reference_total: float) -> None:
    """A Chinese Excel 'CSV' export: GBK bytes, Chinese headers and stratum names."""
    f = _frames()
    rename = {"on-year": "大年竹林", "off-year": "小年竹林"}
    plots = (
        f["plots"]
        .replace({"stratum": rename})
        .rename(
            columns={
                "plot_id": "样地号",
                "stratum": "分层",
                "plot_area_m2": "样地面积",
                "lon": "经度",
                "lat": "纬度",
                "survey_date": "调查日期",
            }
        )
    )
    culms = f["culms"].rename(columns={"plot_id": "样地号", "dbh_cm": "胸径", "age_du": "度"})
    strata = (
        f["strata"]
        .replace({"stratum": rename})
        .rename(columns={"stratum": "分层", "area_ha": "面积"})
    )
    paths = {}
    for name, frame in (("plots", plots), ("culms", culms), ("strata", strata)):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_bytes(frame.to_csv(index=False).encode("gbk"))
    assert b"\xb4\xf3\xc4\xea" in paths["plots"].read_bytes()  # 大年 in GBK, not UTF-8
    r = estimate("bamboo-moso", named=paths, datum="gcj02")
    assert r["total"]["co2e_t"] == pytest.approx(reference_total)
    assert [s["stratum"] for s in r["strata"]] == ["大年竹林", "小年竹林"]


def test_utf8_bom_and_semicolons(tmp_path: Path, reference_total: float) -> None:
    f = _frames()
    paths = {}
    for name, frame in f.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(frame.to_csv(index=False, sep=";"), encoding="utf-8-sig")
    r = estimate("bamboo-moso", named=paths, datum="gcj02")
    assert r["total"]["co2e_t"] == pytest.approx(reference_total)


def test_xlsx_workbook_with_one_sheet_per_table(tmp_path: Path, reference_total: float) -> None:
    book = tmp_path / "survey.xlsx"
    f = _frames()
    with pd.ExcelWriter(book) as xl:
        f["plots"].astype({"plot_area_m2": float, "lon": float, "lat": float}).to_excel(
            xl, sheet_name="plots", index=False
        )
        f["culms"].astype({"dbh_cm": float, "age_du": int}).to_excel(
            xl, sheet_name="culms", index=False
        )
        f["strata"].astype({"area_ha": float}).to_excel(xl, sheet_name="strata", index=False)
    r = estimate("bamboo-moso", files=[str(book)], datum="gcj02")
    assert r["total"]["co2e_t"] == pytest.approx(reference_total)
    assert {i["table"] for i in r["inputs"]} == {"plots", "culms", "strata"}


def test_geopackage_points_and_projected_geojson(tmp_path: Path, reference_total: float) -> None:
    f = _frames()
    plots = f["plots"].drop(columns=["lon", "lat"])
    lon = f["plots"]["lon"].astype(float)
    lat = f["plots"]["lat"].astype(float)
    gpkg = tmp_path / "survey.gpkg"
    gdf = gpd.GeoDataFrame(
        plots, geometry=[Point(x, y) for x, y in zip(lon, lat, strict=True)], crs="EPSG:4326"
    )
    gdf.to_file(gpkg, layer="plots", driver="GPKG")
    pyogrio.write_dataframe(pd.DataFrame(f["culms"]), gpkg, layer="culms", driver="GPKG")
    r = estimate(
        "bamboo-moso", files=[str(gpkg)], named={"strata": EXAMPLE / "strata.csv"}, datum="gcj02"
    )
    assert r["total"]["co2e_t"] == pytest.approx(reference_total)
    # the same points in a projected CRS (EPSG:4549) are transformed back to lon/lat
    projected = tmp_path / "plots.geojson"
    gdf.to_crs("EPSG:4549").to_file(projected, driver="GeoJSON")
    raw = read_any(projected)
    assert raw.vector and raw.crs is not None and "4549" in raw.crs
    assert raw.frame["lon"].astype(float).to_numpy() == pytest.approx(lon.to_numpy(), abs=1e-7)


def test_gcj02_and_wgs84_files_agree(tmp_path: Path) -> None:
    """Coordinates taken from AMap (GCJ-02) convert to the same WGS84 points as GNSS readings."""
    f = _frames()
    wgs = f["plots"].copy()
    from mrv.datums import gcj02_to_wgs84

    lon, lat = gcj02_to_wgs84(wgs["lon"].astype(float), wgs["lat"].astype(float))
    wgs["lon"], wgs["lat"] = [f"{v:.9f}" for v in lon], [f"{v:.9f}" for v in lat]
    path = tmp_path / "plots_wgs84.csv"
    wgs.to_csv(path, index=False)
    common = {"culms": EXAMPLE / "culms.csv", "strata": EXAMPLE / "strata.csv"}
    a = estimate("bamboo-moso", named={"plots": EXAMPLE / "plots.csv", **common}, datum="gcj02")
    b = estimate("bamboo-moso", named={"plots": path, **common}, datum="wgs84")
    assert a["total"]["co2e_t"] == b["total"]["co2e_t"]
    g_lon, _ = wgs84_to_gcj02(lon, lat)
    assert g_lon == pytest.approx(f["plots"]["lon"].astype(float).to_numpy(), abs=1e-8)


def test_unreadable_files_are_reported_together(tmp_path: Path) -> None:
    binary = tmp_path / "plots.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    empty = tmp_path / "culms.csv"
    empty.write_text("")
    with pytest.raises(InputError) as info:
        estimate(
            "bamboo-moso", named={"plots": binary, "culms": empty, "strata": tmp_path / "nope.csv"}
        )
    text = str(info.value)
    assert "plots.csv: not UTF-8 or GBK" in text
    assert "culms.csv: the file is empty" in text
    assert "nope.csv: file not found" in text
    doc = tmp_path / "a.docx"
    doc.write_text("x")
    with pytest.raises(FileFormatError, match=r"unsupported file type \.docx"):
        read_any(doc)
