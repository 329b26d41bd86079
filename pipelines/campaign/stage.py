"""Copy a campaign's inputs into ``RUN_DIR/inputs/`` with the paths rewritten, so the run (and
any re-run from an evidence package) reads only those copies."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from methodologies.registry import get
from mrv.hashing import sha256_file
from pipelines.campaign.config import Campaign, load_campaign
from pipelines.campaign.tomlwrite import dumps
from pipelines.plots.spec import load_spec

INPUTS = "inputs"


Sources = dict[Path, Path]
"""Staged copy → the file it was copied from (to name the user's files in errors)."""


def _copy(src: Path, dst: Path, sources: Sources) -> str:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    sources[dst.absolute()] = src
    return dst.name


def _stage_survey(src_spec: Path, dst_dir: Path, methodology_id: str, sources: Sources) -> str:
    """Copy a survey spec's tables next to a rewritten ``survey.toml``; returns its path
    relative to ``inputs/``."""
    spec = load_spec(src_spec, get(methodology_id))
    names: dict[Path, str] = {}
    tables: dict[str, str] = {}
    for table, path in spec.tables.items():
        src = path.resolve()
        if src not in names:
            name = src.name
            taken = set(names.values())
            k = 2
            while name in taken:
                name, k = f"{src.stem}-{k}{src.suffix}", k + 1
            names[src] = _copy(src, dst_dir / name, sources)
        tables[table] = names[src]
    # the site's boundary, whatever the spec names: a plot outside the site is bad input
    options: dict[str, Any] = {
        "datum": spec.datum,
        "encoding": spec.encoding,
        "boundary": "../../site/boundary.geojson",
        "boundary_datum": "wgs84",
    }
    doc = {
        "title": spec.title,
        "tables": tables,
        "options": options,
        "parameters": dict(spec.parameters),
    }
    sources[(dst_dir / "survey.toml").absolute()] = src_spec
    (dst_dir / "survey.toml").write_text(
        dumps(doc, header=f"staged from {src_spec.name}"), encoding="utf-8"
    )
    return f"survey/{dst_dir.name}/survey.toml"


def stage_inputs(campaign: Campaign, run_dir: Path) -> tuple[Campaign, Sources]:
    """Copy every input the campaign names into ``run_dir/inputs`` and return the campaign as
    loaded from the staged ``inputs/campaign.toml``, with where each copy came from. Files for a
    ``files`` scene source stay where they are (recorded by hash in ``run.json``)."""
    sources: Sources = {}
    spec = campaign.spec
    inputs = run_dir / INPUTS
    site_src = campaign.site_dir
    boundary = site_src / "boundary.geojson"
    _copy(boundary, inputs / "site" / "boundary.geojson", sources)
    _copy(site_src / "parcels.geojson", inputs / "site" / "parcels.geojson", sources)
    surveys = {
        label: _stage_survey(
            campaign.resolve(rel), inputs / "survey" / label, spec.methodology.id, sources
        )
        for label, rel in (("before", spec.survey.before), ("after", spec.survey.after))
    }
    labels = _copy(campaign.resolve(spec.satellite.labels), inputs / "labels.geojson", sources)
    sat: dict[str, Any] = {
        "labels": labels,
        "label_column": spec.satellite.label_column,
        "classes": spec.satellite.classes,
        "strata_classes": dict(spec.satellite.strata_classes),
    }
    if spec.satellite.assessment is not None:
        sat["assessment"] = _copy(
            campaign.resolve(spec.satellite.assessment), inputs / "assessment.geojson", sources
        )
    methodology = get(spec.methodology.id)
    _copy(methodology.document, inputs / "methodology" / methodology.document.name, sources)
    scenes = spec.scenes.model_dump(exclude_none=True)
    scenes["paths"] = [str(campaign.resolve(p)) for p in spec.scenes.paths]
    doc = {
        "campaign": {
            **spec.campaign.model_dump(),
            "site": "site",
            "site_name": spec.campaign.site_name or site_src.name,
        },
        "methodology": spec.methodology.model_dump(),
        "scenes": scenes,
        "survey": surveys,
        "satellite": sat,
        "removals": spec.removals.model_dump(exclude_none=True),
        "outputs": spec.outputs.model_dump(),
    }
    staged = inputs / "campaign.toml"
    staged.write_text(
        dumps(
            doc,
            header=(
                f"Campaign {spec.campaign.id} as run: staged from {campaign.path.name} "
                f"(sha256 {sha256_file(campaign.path)}); paths relative to this file."
            ),
        ),
        encoding="utf-8",
    )
    sources[staged.absolute()] = campaign.path
    return load_campaign(staged), sources


def input_records(run_dir: Path) -> list[dict[str, Any]]:
    """Every staged input with its role, size and sha256 (paths relative to ``run_dir``)."""
    roles = {"site": "site", "survey": "survey", "methodology": "methodology"}
    out = []
    for path in sorted((run_dir / INPUTS).rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(run_dir)
        first = rel.parts[1]
        if path.name == "campaign.toml" and len(rel.parts) == 2:
            role = "campaign"
        elif first in roles:
            role = roles[first]
        else:
            role = "labels"
        out.append(
            {
                "path": rel.as_posix(),
                "sha256": sha256_file(path),
                "size": path.stat().st_size,
                "role": role,
            }
        )
    return out


__all__ = ["INPUTS", "input_records", "stage_inputs"]
