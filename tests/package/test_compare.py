"""Re-computed outputs against packaged ones: exact, and numeric within a tolerance."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

from pipelines.package.compare import (
    Tolerance,
    array_difference,
    csv_difference,
    file_difference,
    json_difference,
)

TOL = Tolerance(rel=1e-6, abs=1e-9)


def test_tolerance_rule() -> None:
    # |a - b| <= abs + rel * max(|a|, |b|): 1e-6 * 1000 = 1e-3
    assert TOL.close(1000.0, 1000.0009)
    assert not TOL.close(1000.0, 1000.0011)
    assert TOL.close(0.0, 5e-10)  # abs part
    assert not TOL.close(0.0, 2e-9)
    assert TOL.close(math.nan, math.nan)
    assert not TOL.close(math.nan, 0.0)
    assert TOL.close(math.inf, math.inf)
    assert Tolerance.from_mapping({"rel": "x", "abs": True}) == Tolerance()
    assert str(Tolerance(1e-9, 0.5)) == "rel 1e-09, abs 0.5"


def test_json_difference_finds_the_first_place() -> None:
    a = {"removals": {"tco2e": 1000.0, "claimable": 999}, "site": "Anji", "ok": True}
    assert (
        json_difference(a, {**a, "removals": {"tco2e": 1000.0005, "claimable": 999}}, TOL) is None
    )
    found = json_difference(a, {**a, "removals": {"tco2e": 1000.5, "claimable": 999}}, TOL)
    assert found is not None and found.startswith("$.removals.tco2e: 1000.5 vs 1000.0")
    assert json_difference(a, {**a, "site": "Deqing"}, TOL) == "$.site: 'Deqing' vs 'Anji'"
    assert json_difference(a, {**a, "ok": 1}, TOL) == "$.ok: 1 vs True"  # a bool is not a number
    assert json_difference([1, 2], [1, 2, 3], TOL) == "$: 3 items vs 2"
    assert json_difference({"a": 1}, {"b": 1}, TOL) == "$: keys differ (['a', 'b'])"


def test_csv_difference() -> None:
    a = [["code", "area_ha"], ["A", "1.0"], ["B", "2.000"]]
    assert csv_difference(a, [["code", "area_ha"], ["A", "1.0000001"], ["B", "2"]], TOL) is None
    found = csv_difference(a, [["code", "area_ha"], ["A", "1.0"], ["B", "2.1"]], TOL)
    assert found is not None and found.startswith("row 3, column area_ha: '2.1' vs '2.000'")
    assert csv_difference(a, [["code", "area_ha"], ["C", "1.0"], ["B", "2"]], TOL) == (
        "row 2, column code: 'C' vs 'A'"
    )
    assert csv_difference(a, a[:2], TOL) == "1 rows vs 2"
    assert (
        csv_difference(a, [["code", "ha"]], TOL) == "header ['code', 'ha'] vs ['code', 'area_ha']"
    )


def test_array_difference_counts_cells() -> None:
    a = np.array([[1.0, np.nan], [3.0, 4.0]], dtype=np.float32)
    assert array_difference(a, a.copy(), TOL) is None  # NaN agrees with NaN
    b = a.copy()
    b[1, 0] = 3.5
    b[1, 1] = 4.25
    found = array_difference(a, b, TOL)
    assert found == (
        "band: 2 cells differ beyond rel 1e-06, abs 1e-09, first at (1, 0), largest difference 0.5"
    )
    c = a.copy()
    c[0, 1] = 2.0
    assert array_difference(a, c, TOL) is not None  # NaN vs a number differs
    assert array_difference(a, a[:1], TOL) == "band: shape (1, 2) vs (2, 2)"


def _tif(path: Path, data: np.ndarray, transform: Affine, nodata: float = math.nan) -> Path:
    with rasterio.open(
        path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
        dtype=str(data.dtype), crs="EPSG:32650", transform=transform, nodata=nodata,
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    return path


def test_file_difference_by_type(tmp_path: Path) -> None:
    t = Affine(10.0, 0.0, 745_390.0, 0.0, -10.0, 3_390_290.0)
    grid = np.array([[25.0, math.nan], [30.0, 31.5]], dtype=np.float32)
    tif = _tif(tmp_path / "a.tif", grid, t)
    assert file_difference(tif, _tif(tmp_path / "b.tif", grid, t), "numeric", TOL) is None
    close = grid * np.float32(1 + 1e-7)
    found = file_difference(tif, _tif(tmp_path / "c.tif", close, t), "numeric", TOL)
    assert found is None
    assert file_difference(tif, tmp_path / "c.tif", "exact", TOL) == (
        "re-computed bytes differ (compared bit for bit)"
    )
    far = grid + np.float32(0.01)
    found = file_difference(tif, _tif(tmp_path / "d.tif", far, t), "numeric", TOL)
    assert found is not None and "band 1: 3 cells differ" in found
    moved = Affine(10.0, 0.0, 745_400.0, 0.0, -10.0, 3_390_290.0)
    found = file_difference(tif, _tif(tmp_path / "e.tif", grid, moved), "numeric", TOL)
    assert found is not None and "transform" in found
    found = file_difference(tif, _tif(tmp_path / "f.tif", grid, t, nodata=-1.0), "numeric", TOL)
    assert found is not None and "nodata" in found
    j1, j2 = tmp_path / "a.json", tmp_path / "b.json"
    j1.write_text(json.dumps({"x": 1.0}))
    j2.write_text(json.dumps({"x": 1.0 + 1e-9}))
    assert file_difference(j1, j2, "numeric", TOL) is None
    assert file_difference(j1, j2, "exact", TOL) is not None
    assert file_difference(j1, tmp_path / "none.json", "numeric", TOL) == (
        "not produced by the re-run"
    )
    j2.write_text("{")
    found = file_difference(j1, j2, "numeric", TOL)
    assert found is not None and found.startswith("cannot be compared")
    t1, t2 = tmp_path / "a.txt", tmp_path / "b.txt"
    t1.write_text("1.0")
    t2.write_text("1.0000000001")
    assert "no numeric comparison" in str(file_difference(t1, t2, "numeric", TOL))


@pytest.mark.parametrize("mode", ["exact", "numeric"])
def test_identical_bytes_always_agree(tmp_path: Path, mode: str) -> None:
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"\x00\x01")
    b.write_bytes(b"\x00\x01")
    assert file_difference(a, b, mode, TOL) is None
