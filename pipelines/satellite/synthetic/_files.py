"""Files: L2A scene files (band files, multiband GeoTIFFs, SAFE-like folders) and truth COGs."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import rasterio
from rasterio.shutil import copy as rio_copy
from rasterio.windows import Window

from mrv.errors import InputError
from mrv.raster import write_cog
from pipelines.satellite.cube import BAND_RESOLUTION_M, Grid
from pipelines.satellite.synthetic._scene import Block, scene_model, simulate_window, up2
from pipelines.satellite.synthetic._spec import BOA_QUANTIFICATION_VALUE, U16, SyntheticSpec
from pipelines.satellite.synthetic._truth import Truth, check_truth, strips, truth_arrays


def _stamp(when: datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%S")


def _tags(spec: SyntheticSpec, when: datetime) -> dict[str, str]:
    return {
        "PRODUCT_LEVEL": "L2A",
        "PROCESSING_BASELINE": spec.processing_baseline,
        "BOA_ADD_OFFSET": str(spec.boa_offset),
        "BOA_QUANTIFICATION_VALUE": str(BOA_QUANTIFICATION_VALUE),
        "ACQUISITION_DATETIME": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "TILE_ID": spec.tile,
        "SYNTHETIC_SEED": str(spec.seed),
    }


def _profile(grid: Grid, scale: int, count: int, block: int) -> dict[str, Any]:
    a, b, c, d, e, f = grid.transform
    return {
        "driver": "GTiff",
        "width": grid.width // scale,
        "height": grid.height // scale,
        "count": count,
        "dtype": "uint16",
        "crs": grid.crs,
        "transform": rasterio.Affine(a * scale, b, c, d, e * scale, f),
        "nodata": 0,
        "tiled": True,
        "blockxsize": block,
        "blockysize": block,
        "compress": "deflate",
        "predictor": 2,
        "BIGTIFF": "IF_SAFER",
        "NUM_THREADS": "ALL_CPUS",
    }


def _mtd_xml(spec: SyntheticSpec, when: datetime) -> str:
    offsets = "\n".join(
        f'        <BOA_ADD_OFFSET band_id="{i}">{spec.boa_offset}</BOA_ADD_OFFSET>'
        for i in range(13)
    )
    t = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<n1:Level-2A_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-2A.xsd">
  <n1:General_Info>
    <Product_Info>
      <PRODUCT_START_TIME>{t}</PRODUCT_START_TIME>
      <PRODUCT_STOP_TIME>{t}</PRODUCT_STOP_TIME>
      <PROCESSING_LEVEL>Level-2A</PROCESSING_LEVEL>
      <PRODUCT_TYPE>S2MSI2A</PRODUCT_TYPE>
      <PROCESSING_BASELINE>{spec.processing_baseline}</PROCESSING_BASELINE>
      <Datatake datatakeIdentifier="SYNTHETIC">
        <SPACECRAFT_NAME>Sentinel-2A</SPACECRAFT_NAME>
        <DATATAKE_SENSING_START>{t}</DATATAKE_SENSING_START>
      </Datatake>
    </Product_Info>
    <Product_Image_Characteristics>
      <QUANTIFICATION_VALUES_LIST>
        <BOA_QUANTIFICATION_VALUE unit="none">{BOA_QUANTIFICATION_VALUE}</BOA_QUANTIFICATION_VALUE>
      </QUANTIFICATION_VALUES_LIST>
      <BOA_ADD_OFFSET_VALUES_LIST>
{offsets}
      </BOA_ADD_OFFSET_VALUES_LIST>
    </Product_Image_Characteristics>
  </n1:General_Info>
</n1:Level-2A_User_Product>
"""


def _band_targets(
    out_dir: Path, spec: SyntheticSpec, when: datetime, layout: str
) -> dict[str, tuple[Path, int]]:
    """File path and resolution scale (1 = 10 m, 2 = 20 m) of each band file and SCL."""
    stamp = _stamp(when)
    names = [*spec.bands, "SCL"]
    if layout == "bands":
        folder = {1: out_dir, 2: out_dir}
    else:  # "safe"
        base = spec.processing_baseline.replace(".", "")
        product = f"S2A_MSIL2A_{stamp}_N{base}_R089_{spec.tile}_{stamp}.SAFE"
        img = out_dir / product / "GRANULE" / f"L2A_{spec.tile}_A000000_{stamp}" / "IMG_DATA"
        folder = {1: img / "R10m", 2: img / "R20m"}
        (out_dir / product).mkdir(parents=True, exist_ok=True)
        (out_dir / product / "MTD_MSIL2A.xml").write_text(_mtd_xml(spec, when), "utf-8")
    out = {}
    for name in names:
        scale = 1 if name != "SCL" and BAND_RESOLUTION_M[name] == 10 else 2
        out[name] = (folder[scale] / f"{spec.tile}_{stamp}_{name}_{10 * scale}m.tif", scale)
    return out


def _to_cog(path: Path, block: int) -> None:
    """Rewrite a tiled GeoTIFF as a COG (internal tiles, overviews, deflate) in place."""
    tmp = path.with_name(f".{path.name}.cog.tif")
    rio_copy(
        path, tmp, driver="COG", compress="DEFLATE", predictor="YES", blocksize=block,
        overview_resampling="nearest", bigtiff="IF_SAFER", num_threads="ALL_CPUS",
    )  # fmt: skip
    os.replace(tmp, path)


def _dn_10m(block: Block, spec: SyntheticSpec) -> U16:
    """DN of ``spec.bands`` on the 10 m grid (20 m bands replicated 2 × 2)."""
    out = np.empty((len(spec.bands), *block.dn10.shape[-2:]), np.uint16)
    i10 = i20 = 0
    for k, b in enumerate(spec.bands):
        if BAND_RESOLUTION_M[b] == 10:
            out[k], i10 = block.dn10[i10], i10 + 1
        else:
            out[k], i20 = up2(block.dn20[i20]), i20 + 1
    return out


def _write_date(
    out_dir: Path, truth: Truth, spec: SyntheticSpec, ti: int, layout: str, strip_rows: int,
    cog: bool, block_px: int,
) -> list[Path]:  # fmt: skip
    """Write one date's files, strip by strip."""
    when = spec.dates[ti]
    tags = _tags(spec, when)
    h, w = spec.shape
    cols = slice(0, w)
    nb = len(spec.bands)
    if layout == "multiband":
        path = out_dir / f"S2_L2A_{spec.tile}_{_stamp(when)}.tif"
        with rasterio.open(path, "w", **_profile(spec.grid, 1, nb + 1, block_px)) as dst:
            for r in strips(h, strip_rows):
                block = simulate_window(spec, truth_arrays(truth, r, cols), ti, r, cols)
                win = Window(0, r.start, w, r.stop - r.start)
                dst.write(_dn_10m(block, spec), indexes=list(range(1, nb + 1)), window=win)
                dst.write(up2(block.scl).astype(np.uint16), indexes=nb + 1, window=win)
            for k, name in enumerate([*spec.bands, "SCL"], start=1):
                dst.set_band_description(k, name)
            dst.update_tags(**tags)
        files = [path]
    else:
        targets = _band_targets(out_dir, spec, when, layout)
        dsts = {}
        try:
            for name, (path, scale) in targets.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                prof = _profile(spec.grid, scale, 1, block_px)
                if name == "SCL":
                    prof.update(dtype="uint8", predictor=1)
                dsts[name] = rasterio.open(path, "w", **prof)
            for r in strips(h, strip_rows):
                block = simulate_window(spec, truth_arrays(truth, r, cols), ti, r, cols)
                win10 = Window(0, r.start, w, r.stop - r.start)
                win20 = Window(0, r.start // 2, w // 2, (r.stop - r.start) // 2)
                i10 = i20 = 0
                for b in spec.bands:
                    if BAND_RESOLUTION_M[b] == 10:
                        dsts[b].write(block.dn10[i10], 1, window=win10)
                        i10 += 1
                    else:
                        dsts[b].write(block.dn20[i20], 1, window=win20)
                        i20 += 1
                dsts["SCL"].write(block.scl, 1, window=win20)
            for name, dst in dsts.items():
                dst.set_band_description(1, name)
                dst.update_tags(**tags)
        finally:
            for dst in dsts.values():
                dst.close()
        files = [p for p, _ in targets.values()]
    if cog:
        for path in files:
            _to_cog(path, block_px)
    return files


def write_scenes(
    out_dir: Path,
    truth: Truth,
    spec: SyntheticSpec,
    *,
    layout: Literal["bands", "multiband", "safe"] = "bands",
    strip_rows: int = 512,
    cog: bool = False,
    block_px: int = 512,
    workers: int = 1,
) -> list[Path]:
    """Write the stack as uint16 L2A DN files (offset by ``BOA_ADD_OFFSET``; 0 = no data).

    Layouts:

    ``"bands"``
        product-named band files in ``out_dir``: ``T50RQU_YYYYMMDDTHHMMSS_B04_10m.tif`` (20 m
        bands at 20 m, ``..._B11_20m.tif``) and ``..._SCL_20m.tif``.
    ``"multiband"``
        one GeoTIFF per date ``S2_L2A_T50RQU_YYYYMMDDTHHMMSS.tif`` on the 10 m grid, bands
        described by name (20 m bands replicated), the last band described ``SCL`` holding the
        scene classification (not DN).
    ``"safe"``
        ``S2A_MSIL2A_..._N0510_R089_T50RQU_....SAFE/GRANULE/.../IMG_DATA/R10m|R20m/`` band files
        as in the products (GeoTIFF instead of JPEG 2000) and ``MTD_MSIL2A.xml`` with
        ``BOA_ADD_OFFSET_VALUES_LIST`` and ``BOA_QUANTIFICATION_VALUE``.

    Every file carries tags ``PROCESSING_BASELINE``, ``BOA_ADD_OFFSET``,
    ``BOA_QUANTIFICATION_VALUE`` and ``ACQUISITION_DATETIME``. Files are tiled
    (``block_px``) and deflated; ``cog=True`` rewrites them as COGs with overviews (about twice
    the time). Each date is generated in strips of ``strip_rows`` rows, so memory stays at a
    few strips per worker whatever the grid size; ``workers`` dates are written concurrently
    (threads; the files do not depend on it). Returns the written files (per date: bands in
    ``spec.bands`` order, then SCL; or the one multiband file).
    """
    check_truth(truth, spec)
    if layout not in ("bands", "multiband", "safe"):
        raise InputError(f"unknown layout {layout!r}; use 'bands', 'multiband' or 'safe'")
    if block_px < 16 or block_px % 16:
        raise InputError(f"block_px must be a multiple of 16, got {block_px}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scene_model(spec)  # build once before the threads start

    def one(ti: int) -> list[Path]:
        return _write_date(out_dir, truth, spec, ti, layout, strip_rows, cog, block_px)

    dates = range(len(spec.dates))
    if workers <= 1:
        per_date = [one(ti) for ti in dates]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            per_date = list(pool.map(one, dates))
    return [p for files in per_date for p in files]


def write_truth(out_dir: Path, truth: Truth, spec: SyntheticSpec) -> list[Path]:
    """Write the truth as COGs (``truth_class.tif`` uint8, ``truth_carbon_tc_per_ha.tif``,
    ``truth_bamboo_year.tif``, ``truth_elevation_m.tif``) and ``truth.json`` (class codes,
    areas, carbon totals, spec summary)."""
    check_truth(truth, spec)
    out_dir = Path(out_dir)
    g = truth.grid
    classes = json.dumps({c.code: c.name for c in truth.classes})
    layers: list[tuple[str, Any, int | float | None, dict[str, str]]] = [
        ("truth_class.tif", truth.class_map, 0, {"classes": classes}),
        ("truth_carbon_tc_per_ha.tif", truth.carbon_tc_per_ha, None, {"units": "t C/ha"}),
        ("truth_bamboo_year.tif", truth.bamboo_year, None, {"values": "0 none, 1 on, 2 off"}),
        ("truth_elevation_m.tif", truth.elevation_m, None, {"units": "m"}),
    ]
    paths = []
    for name, arr, nodata, tags in layers:
        path = out_dir / name
        write_cog(path, arr, crs=g.crs, transform=g.transform, nodata=nodata,
                  tags={"SYNTHETIC_SEED": str(spec.seed), **tags})  # fmt: skip
        paths.append(path)
    summary = {
        "seed": spec.seed,
        "crs": g.crs,
        "transform": list(g.transform),
        "width": g.width,
        "height": g.height,
        "dates": [d.strftime("%Y-%m-%dT%H:%M:%SZ") for d in spec.dates],
        "cloud_cover": list(spec.cloud_covers),
        "classes": {c.name: c.code for c in truth.classes},
        "carbon_total_tc": truth.carbon_total_tc(),
        "by_class": truth.carbon_by_class(),
    }
    jpath = out_dir / "truth.json"
    jpath.write_text(json.dumps(summary, indent=2, ensure_ascii=False), "utf-8")
    paths.append(jpath)
    return paths
