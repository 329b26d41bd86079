"""Datum conversion against prcoords (independent implementation), units, areas."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import prcoords
import pytest

from mrv import datums, units
from mrv.errors import FileFormatError, InputError
from mrv.geo import area_ha, points_inside, read_boundary

COUNTIES = Path(__file__).resolve().parents[2] / "aoi" / "counties"
HUZHOU_POINTS = [(119.62, 30.47), (120.08, 30.56), (120.25, 30.80), (119.90, 31.00)]


@pytest.mark.parametrize(("lon", "lat"), HUZHOU_POINTS)
def test_gcj02_matches_prcoords(lon: float, lat: float) -> None:
    ref = prcoords.gcj_wgs_bored((lat, lon))
    got_lon, got_lat = datums.gcj02_to_wgs84([lon], [lat])
    # prcoords stops iterating at 1e-5 degrees; ours converges to 1e-9
    assert got_lon[0] == pytest.approx(ref.lon, abs=2e-5)
    assert got_lat[0] == pytest.approx(ref.lat, abs=2e-5)
    fwd = prcoords.wgs_gcj((lat, lon))
    f_lon, f_lat = datums.wgs84_to_gcj02([lon], [lat])
    assert (f_lon[0], f_lat[0]) == pytest.approx((fwd.lon, fwd.lat), abs=1e-12)


@pytest.mark.parametrize(("lon", "lat"), HUZHOU_POINTS)
def test_bd09_matches_prcoords_and_round_trips(lon: float, lat: float) -> None:
    ref = prcoords.bd_wgs_bored((lat, lon))
    got_lon, got_lat = datums.bd09_to_wgs84([lon], [lat])
    assert (got_lon[0], got_lat[0]) == pytest.approx((ref.lon, ref.lat), abs=2e-5)
    # forward again reproduces the input to < 1e-8 degrees (≈ 1 mm)
    b_lon, b_lat = datums.gcj02_to_bd09(*datums.wgs84_to_gcj02(got_lon, got_lat))
    assert (b_lon[0], b_lat[0]) == pytest.approx((lon, lat), abs=1e-8)


def test_shift_is_a_few_hundred_metres_in_huzhou() -> None:
    lon, lat = datums.gcj02_to_wgs84([119.62], [30.47])
    dx = (119.62 - lon[0]) * 111_320 * np.cos(np.radians(30.47))
    dy = (30.47 - lat[0]) * 110_574
    assert 300 < np.hypot(dx, dy) < 700


def test_to_wgs84_dispatch() -> None:
    lon, lat = datums.to_wgs84([120.0], [30.5], "CGCS2000")
    assert (lon[0], lat[0]) == (120.0, 30.5)
    with pytest.raises(InputError, match="unknown datum"):
        datums.to_wgs84([120.0], [30.5], "beijing54")


def test_units() -> None:
    assert units.ha_to_mu(1.0) == 15.0
    assert units.M2_PER_MU == pytest.approx(666.67, abs=0.01)
    assert units.tc_to_tco2e(12.0) == pytest.approx(44.0)
    assert units.tco2e_to_tc(44.0) == pytest.approx(12.0)
    assert units.per_plot_to_per_ha(0.2, 100.0) == pytest.approx(20.0)
    assert units.kg_per_m2_to_t_per_ha(1.0) == 10.0


def test_anji_boundary_area_and_points(tmp_path: Path) -> None:
    anji = read_boundary(COUNTIES / "330523.geojson", "gcj02")
    # README: geodesic area 1,886.0 km²; Gauss-Kruger (EPSG:4549) within 0.1 %
    assert area_ha(anji) / 100 == pytest.approx(1886.0, rel=1e-3)
    assert points_inside(anji, [119.62, 120.30], [30.47, 30.60]).tolist() == [True, False]
    bad = tmp_path / "line.geojson"
    bad.write_text(json.dumps({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}))
    with pytest.raises(FileFormatError, match="polygon"):
        read_boundary(bad)
    with pytest.raises(FileFormatError, match="not found"):
        read_boundary(tmp_path / "missing.geojson")
