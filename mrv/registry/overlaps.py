"""Overlap checks between parcels, projects and external claims.

Candidate pairs come from a bounding-box join in SQL (the ``ix_parcels_bbox`` index); the exact
intersection area is computed by shapely in EPSG:4549 (CGCS2000 / 3-degree GK CM 120E), so
SQLite and PostgreSQL behave the same (DESIGN "Deliberate choices"). Uniqueness of claims:
CCER Measures Art. 10 and 48; registries.md §3 anchor 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import shapely
from sqlalchemy import Connection, Select, and_, null, or_, select, text
from sqlalchemy.orm import aliased

from mrv.errors import ParcelOverlapError
from mrv.geo import to_metric
from mrv.registry.models import Parcel, Project, ProjectParcel
from mrv.registry.parcel_io import from_geojson

OVERLAP_TOLERANCE_HA = 0.01
"""Overlaps up to 0.01 ha (100 m²) are ignored as digitising slivers.

Neighbouring parcels are digitised separately (from different base maps, survey dates or after a
GCJ-02 → WGS84 conversion), so their shared edges rarely coincide: a 1 m offset along a 100 m
edge already makes 100 m² of overlap. Anything larger is taken as the same land claimed twice.
"""

ACTIVE_PROJECT_STATES = ("draft", "public_notice", "registered")
"""Project states that hold their parcels (rejected and deregistered projects release them)."""
MAX_LISTED_OVERLAPS = 5
"""How many overlaps an error message names (``detail["overlaps"]`` has them all)."""
_OVERLAP_LOCK = 7_885_697_834_223_110_001
"""PostgreSQL advisory-lock key serialising writes that must see each other's parcels."""

AnySelect = Select[*tuple[Any, ...]]
Against = Literal["active_projects_and_claims", "own_parcels"]


def lock_overlap_checks(conn: Connection) -> None:
    """Serialise overlap-checked writes across journal streams (PostgreSQL; SQLite has one writer).

    Parcel imports lock the ``registry`` stream and project creation its own project stream, so
    without this two of them could each pass the overlap check without seeing the other.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _OVERLAP_LOCK})


def describe_overlap(overlap: dict[str, Any]) -> str:
    """``P-1 overlaps P-7 (project HZ-2) by 0.25 ha``."""
    if overlap["other_project"]:
        whose = f" (project {overlap['other_project']})"
    elif overlap["other_scheme"]:
        ref = f" {overlap['other_ref']}" if overlap["other_ref"] else ""
        whose = f" ({overlap['other_scheme']} claim{ref})"
    else:
        whose = ""
    return f"{overlap['parcel']} overlaps {overlap['other']}{whose} by {overlap['overlap_ha']} ha"


def overlap_error(overlaps: list[dict[str, Any]], context: str) -> ParcelOverlapError:
    """A :class:`ParcelOverlapError` naming the first overlaps (``detail["overlaps"]``: all)."""
    shown = "; ".join(describe_overlap(o) for o in overlaps[:MAX_LISTED_OVERLAPS])
    more = len(overlaps) - MAX_LISTED_OVERLAPS
    tail = f"; and {more} more" if more > 0 else ""
    return ParcelOverlapError(
        f"{context}: {shown}{tail} (tolerance {OVERLAP_TOLERANCE_HA} ha)", overlaps=overlaps
    )


def find_overlaps(
    conn: Connection,
    parcel_ids: Sequence[int],
    *,
    against: Against = "active_projects_and_claims",
    exclude_project_id: int | None = None,
    tolerance_ha: float = OVERLAP_TOLERANCE_HA,
) -> list[dict[str, Any]]:
    """Overlaps of the parcels ``parcel_ids`` larger than ``tolerance_ha``, largest first.

    ``against="active_projects_and_claims"``: other parcels held by a draft, public-notice or
    registered project (except ``exclude_project_id``) and external claims; a parcel is never
    compared with itself or with the other given parcels (same project). ``"own_parcels"``:
    every non-external parcel, including the given ones among themselves. Candidates come from
    a bounding-box join in SQL; the exact area is computed by shapely in EPSG:4549. Each result:
    ``parcel``, ``other``, ``overlap_ha``, ``other_project``, ``other_scheme``, ``other_ref``.
    """
    ids = sorted({int(i) for i in parcel_ids})
    if not ids:
        return []
    s = aliased(Parcel, name="s")
    c = aliased(Parcel, name="c")
    bbox = and_(
        c.min_lon <= s.max_lon,
        c.max_lon >= s.min_lon,
        c.min_lat <= s.max_lat,
        c.max_lat >= s.min_lat,
        c.id != s.id,
    )
    query: AnySelect
    if against == "own_parcels":
        query = (
            select(
                s.id.label("a"),
                c.id.label("b"),
                null().label("project"),
                c.external_scheme.label("scheme"),
                c.external_ref.label("ref"),
            )
            .select_from(s)
            .join(c, bbox)
            .where(s.id.in_(ids), c.external_scheme.is_(None))
        )
    elif against == "active_projects_and_claims":
        held = and_(Project.id.is_not(None), Project.status.in_(ACTIVE_PROJECT_STATES))
        if exclude_project_id is not None:
            held = and_(held, Project.id != exclude_project_id)
        query = (
            select(
                s.id.label("a"),
                c.id.label("b"),
                Project.code.label("project"),
                c.external_scheme.label("scheme"),
                c.external_ref.label("ref"),
            )
            .select_from(s)
            .join(c, bbox)
            .outerjoin(
                ProjectParcel,
                and_(ProjectParcel.parcel_id == c.id, ProjectParcel.active.is_(True)),
            )
            .outerjoin(Project, Project.id == ProjectParcel.project_id)
            .where(s.id.in_(ids), c.id.not_in(ids), or_(c.external_scheme.is_not(None), held))
        )
    else:
        raise ValueError(f"unknown overlap target {against!r}")
    pairs = [
        p for p in conn.execute(query).all() if not (p.b in ids and p.a > p.b)
    ]  # a pair of given parcels is reported once
    if not pairs:
        return []
    involved = sorted({p.a for p in pairs} | {p.b for p in pairs})
    shapes = conn.execute(
        select(Parcel.id, Parcel.code, Parcel.geometry).where(Parcel.id.in_(involved))
    ).all()
    index = {row.id: i for i, row in enumerate(shapes)}
    metric = to_metric([from_geojson(row.geometry) for row in shapes])
    left = metric[[index[p.a] for p in pairs]]
    right = metric[[index[p.b] for p in pairs]]
    overlap = np.asarray(shapely.area(shapely.intersection(left, right))) / 10_000.0
    found = [
        {
            "parcel": shapes[index[p.a]].code,
            "other": shapes[index[p.b]].code,
            "overlap_ha": round(float(area), 4),
            "other_project": p.project,
            "other_scheme": p.scheme,
            "other_ref": p.ref,
        }
        for p, area in zip(pairs, overlap, strict=True)
        if area > tolerance_ha
    ]
    return sorted(found, key=lambda o: (-o["overlap_ha"], o["parcel"], o["other"]))
