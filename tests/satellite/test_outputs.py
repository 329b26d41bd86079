"""STAC description of outputs: checksums, sizes, projection, resolvable relative hrefs."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import numpy as np
import pystac

from mrv.raster import write_cog
from pipelines.satellite.cube import Grid
from pipelines.satellite.outputs import Output, write_catalog

GRID = Grid("EPSG:32650", (10.0, 0.0, 700_000.0, 0.0, -10.0, 3_380_000.0), 40, 30)


def test_catalog_describes_every_output(tmp_path: Path) -> None:
    cog = tmp_path / "carbon_density.tif"
    write_cog(cog, np.full((30, 40), 25.0, dtype=np.float32), crs=GRID.crs,
              transform=GRID.transform)  # fmt: skip
    summary = tmp_path / "summary.json"
    summary.write_text('{"ok": true}\n')
    path = write_catalog(
        tmp_path,
        [
            Output(cog, "carbon_density", "Carbon density (t C/ha)", GRID),
            Output(summary, "summary", "Run summary"),
        ],
        title="test run",
        start=datetime(2024, 3, 1),
        end=datetime(2024, 11, 30),
    )
    catalog = pystac.Catalog.from_file(str(path))
    items = {i.id: i for i in catalog.get_items()}
    assert set(items) == {"carbon_density", "summary"}
    item = items["carbon_density"]
    asset = item.assets["data"]
    target = Path(asset.get_absolute_href())
    assert target.resolve() == cog.resolve()
    digest = hashlib.sha256(cog.read_bytes()).hexdigest()
    assert asset.extra_fields["file:checksum"] == "1220" + digest
    assert asset.extra_fields["file:size"] == cog.stat().st_size
    assert item.properties["proj:code"] == "EPSG:32650"
    assert item.properties["proj:shape"] == [30, 40]
    # bbox is in WGS84: 700 km easting in UTM 50N (central meridian 117° E) is about 119.08° E
    west, south, east, north = item.bbox
    assert 119.0 < west < east < 119.2
    assert 30.4 < south < north < 30.6
    assert "proj:code" not in items["summary"].properties
