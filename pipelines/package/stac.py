"""The package as a self-contained STAC catalog: ``catalog.json`` at the root with one child
catalog per part (``stac/<part>/catalog.json``: inputs, outputs, report, run) and one Item per
file (``stac/<part>/<slug>.json``), each asset with the file extension's ``file:size`` and
``file:checksum`` (SHA-256 multihash ``1220…``) and, for GeoTIFFs, the projection extension —
the Items come from :func:`pipelines.satellite.outputs.stac_item`. Scenes that were generated
(synthetic) or are too large to copy appear as Items without assets carrying their hashes and
recipe or location.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pystac

from pipelines.package.manifest import MANIFEST, SIGNATURE
from pipelines.satellite.cube import Grid
from pipelines.satellite.outputs import MEDIA_TYPES, Output, stac_item

PARTS = ("inputs", "outputs", "report")
RUN_FILES = {"run.json": "run-record", "run.log": "run-log", "parameters.json": "parameters"}
EXTRA_MEDIA_TYPES = {
    ".csv": "text/csv",
    ".md": "text/markdown",
    ".toml": "application/toml",
    ".html": "text/html",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".log": "text/plain",
    ".txt": "text/plain",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _coords(node: Any) -> Iterator[tuple[float, float]]:
    if isinstance(node, list) and len(node) >= 2 and all(isinstance(v, int | float) for v in node):
        yield float(node[0]), float(node[1])
    elif isinstance(node, list):
        for child in node:
            yield from _coords(child)


def geojson_bbox(path: Path) -> list[float] | None:
    """``[west, south, east, north]`` of every coordinate in a GeoJSON file, None if none."""
    if not path.is_file():
        return None
    doc = json.loads(path.read_text(encoding="utf-8"))
    features = doc.get("features", [doc]) if isinstance(doc, dict) else []
    points = [
        p for f in features for p in _coords(((f or {}).get("geometry") or {}).get("coordinates"))
    ]
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [min(xs), min(ys), max(xs), max(ys)]


def _grid(path: Path) -> Grid | None:
    if path.suffix.lower() not in (".tif", ".tiff"):
        return None
    import rasterio

    with rasterio.open(path) as src:
        if src.crs is None:
            return None
        return Grid(src.crs.to_string(), tuple(src.transform)[:6], src.width, src.height)


def _when(value: Any, fallback: datetime) -> datetime:
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return fallback
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _slug(rel: str) -> str:
    return rel.replace("/", "--")


def _file_item(
    pkg: Path,
    rel: str,
    kind: str,
    props: Mapping[str, Any],
    span: tuple[datetime, datetime],
    bbox: list[float] | None,
) -> pystac.Item:
    path = pkg / rel
    grid = _grid(path)
    item = stac_item(
        Output(path, kind, rel, grid, props),
        start=span[0],
        end=span[1],
        bbox_wgs84=None if grid is not None else bbox,
    )
    item.id = _slug(rel)
    asset = item.assets["data"]
    asset.href = str(path)
    suffix = path.suffix.lower()
    asset.media_type = MEDIA_TYPES.get(suffix) or EXTRA_MEDIA_TYPES.get(suffix)
    return item


Span = tuple[datetime, datetime]


def _bare_item(
    item_id: str, props: Mapping[str, Any], span: Span, bbox: list[float] | None
) -> pystac.Item:
    from shapely.geometry import box, mapping

    return pystac.Item(
        id=item_id,
        geometry=mapping(box(*bbox)) if bbox else None,
        bbox=bbox,
        datetime=None,
        start_datetime=span[0],
        end_datetime=span[1],
        properties=dict(props),
    )


def _part_items(
    pkg: Path, record: Mapping[str, Any], span: tuple[datetime, datetime], bbox: list[float] | None
) -> dict[str, list[pystac.Item]]:
    roles = {r.get("path"): r.get("role") for r in record.get("inputs") or []}
    compare = {r.get("path"): r.get("compare") for r in record.get("outputs") or []}
    methodology = record.get("methodology") or {}
    parts: dict[str, list[pystac.Item]] = {p: [] for p in (*PARTS, "run")}
    for part in PARTS:
        for path in sorted((pkg / part).rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(pkg).as_posix()
            props: dict[str, Any] = {}
            if part == "inputs":
                kind = "methodology" if rel == methodology.get("document") else "input"
                props["mrv:role"] = roles.get(rel, "methodology" if kind == "methodology" else None)
                if kind == "methodology":
                    props["mrv:methodology"] = {
                        "id": methodology.get("id"), "version": methodology.get("version")
                    }  # fmt: skip
            elif part == "outputs":
                kind = path.stem
                props["mrv:compare"] = compare.get(rel, "not compared")
            else:
                kind = "report"
            parts[part].append(_file_item(pkg, rel, kind, props, span, bbox))
    for name, kind in RUN_FILES.items():
        if (pkg / name).is_file():
            props = {}
            if name == "run.json":
                props = {
                    "mrv:code_version": record.get("code_version"),
                    "mrv:packages": record.get("packages"),
                    "mrv:scheduler": record.get("scheduler"),
                }
            parts["run"].append(_file_item(pkg, name, kind, props, span, bbox))
    generated = record.get("generated_inputs")
    if generated:
        props = {"title": "generated inputs (not packaged)", "mrv:kind": "generated-inputs"}
        props["mrv:generated"] = generated
        parts["inputs"].append(_bare_item("generated-inputs", props, span, bbox))
    external = record.get("external_inputs") or []
    if external:
        props = {"title": "external inputs (not packaged)", "mrv:kind": "external-inputs"}
        props["mrv:external"] = list(external)
        parts["inputs"].append(_bare_item("external-inputs", props, span, bbox))
    return parts


def write_catalog(pkg: Path, record: Mapping[str, Any], summary: Mapping[str, Any]) -> Path:
    """Describe every file already in the package folder ``pkg``; returns ``catalog.json``."""
    started = _when(record.get("started_utc"), datetime.now(UTC))
    campaign = summary.get("campaign") or {}
    span = (
        _when(campaign.get("period_start"), started),
        _when(campaign.get("period_end"), _when(record.get("finished_utc"), started)),
    )
    bbox = geojson_bbox(pkg / "inputs" / "site" / "boundary.geojson")
    campaign_id = str(record.get("campaign_id"))
    title = f"MRV evidence package: {campaign.get('title') or campaign_id}"
    root = pystac.Catalog(id=f"mrv-evidence-{campaign_id}", description=title, title=title)
    root.extra_fields.update(
        {
            "mrv:campaign_id": campaign_id,
            "mrv:methodology": record.get("methodology"),
            "mrv:code_version": record.get("code_version"),
            "mrv:tolerance": record.get("tolerance"),
            "mrv:manifest": MANIFEST,
            "mrv:signature": SIGNATURE,
        }
    )
    root.set_self_href(str(pkg / "catalog.json"))
    for part, items in _part_items(pkg, record, span, bbox).items():
        if not items:
            continue
        child = pystac.Catalog(id=part, description=f"{part} of the run", title=part)
        root.add_child(child)
        child.set_self_href(str(pkg / "stac" / part / "catalog.json"))
        for item in items:
            child.add_item(item)
            item.set_self_href(str(pkg / "stac" / part / f"{item.id}.json"))
    root.make_all_asset_hrefs_relative()
    root.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return pkg / "catalog.json"
