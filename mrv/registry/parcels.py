"""Land parcels and external claims: import from GeoJSON/GeoPackage, lists, export.

A parcel is a WGS84 polygon with an owner (a household or village collective), a land type and
the land-right certificate (林权证/承包证) id. An *external claim* is land already claimed by
another scheme (CCER, Sanming carbon ticket, 浙林碳普惠, VCS …): it is stored like a parcel with
``external_scheme`` set so projects can be checked against it (registries.md §3 anchor 4;
uniqueness, CCER Measures Art. 10 and 48). Overlap checks are in :mod:`mrv.registry.overlaps`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import Connection, Select, insert, select
from sqlalchemy.orm import aliased

from mrv.errors import RecordNotFoundError, RegistryInputError
from mrv.geo import areas_ha
from mrv.hashing import sha256_file
from mrv.registry import lookup
from mrv.registry.core import Outcome, Receipt, Registry, Tx
from mrv.registry.journal import timestamp
from mrv.registry.models import (
    EXTERNAL_SCHEMES,
    LAND_TYPES,
    CollectionContract,
    ContractParcel,
    Parcel,
    Party,
    PartyRole,
    Project,
    ProjectParcel,
)
from mrv.registry.overlaps import find_overlaps, lock_overlap_checks, overlap_error
from mrv.registry.parcel_io import (
    Feature,
    check_datum,
    file_problem,
    geometry_sha256,
    read_features,
    to_geojson,
    write_features,
)
from mrv.registry.parties import CODE_CHARS, REGISTRY_STREAM
from mrv.units import MU_PER_HA

OWNER_ROLES = ("owner_household", "village_collective")
IMPORT_ROLES = ("bureau", "cooperative")
MAX_LISTED_PROBLEMS = 5
"""How many problems an import error's message names (``detail["problems"]`` has them all)."""
EXPORT_COLUMNS = (
    "code",
    "owner",
    "land_type",
    "certificate",
    "area_ha",
    "area_mu",
    "external_scheme",
    "external_ref",
    "project",
)
AnySelect = Select[*tuple[Any, ...]]


# -- import ------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A property as text: None/blank → None; 12.0 (a code read as a number) → ``"12"``."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = str(value).strip()
    return out or None


def _field(props: dict[str, Any], fields: dict[str, str | None], key: str) -> str | None:
    name = fields[key]
    return _text(props.get(name)) if name is not None else None


def _problem(
    file: str, feature: int | None, code: str | None, field: str | None, reason: str
) -> dict[str, Any]:
    return {
        "file": file,
        "feature": feature,
        "code": code,
        "field": field,
        "reason": reason,
    }


def _describe(problem: dict[str, Any]) -> str:
    parts = []
    if problem["feature"] is not None:
        code = f" ({problem['code']})" if problem["code"] else ""
        parts.append(f"feature {problem['feature']}{code}")
    if problem["field"]:
        parts.append(problem["field"])
    where = ", ".join(parts)
    return f"{where}: {problem['reason']}" if where else str(problem["reason"])


def _problems_error(file: str, problems: list[dict[str, Any]]) -> RegistryInputError:
    problems = sorted(problems, key=lambda p: (p["feature"] is not None, p["feature"] or 0))
    shown = "; ".join(_describe(p) for p in problems[:MAX_LISTED_PROBLEMS])
    more = len(problems) - MAX_LISTED_PROBLEMS
    tail = f"; and {more} more" if more > 0 else ""
    noun = "problem" if len(problems) == 1 else "problems"
    return RegistryInputError(
        f"{file}: {len(problems)} {noun}, nothing imported: {shown}{tail}",
        file=file,
        problems=problems,
    )


def _check_features(
    file: str,
    features: Sequence[Feature],
    *,
    fields: dict[str, str | None],
    land_type: str | None,
    external: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows to insert and problems of every feature (all of them, not just the first)."""
    problems: list[dict[str, Any]] = []
    present = set().union(*(f.properties for f in features)) if features else set()
    required = {"code": fields["code"], "owner": None if external else fields["owner"]}
    if land_type is None:
        required["land_type"] = fields["land_type"]
    if external:
        required["external_ref"] = fields["external_ref"]
    missing_columns = {
        name for name in required.values() if name is not None and name not in present
    }
    for name in sorted(missing_columns):
        problems.append(_problem(file, None, None, name, f"the file has no field {name!r}"))
    if not features:
        problems.append(_problem(file, None, None, None, "the file has no features"))
    used = {v for v in fields.values() if v is not None}
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for feature in features:
        props = feature.properties
        bad: list[dict[str, Any]] = []

        code = _field(props, fields, "code")
        if code is None:
            if fields["code"] not in missing_columns:
                bad.append(
                    _problem(file, feature.index, None, fields["code"], "missing parcel code")
                )
        elif len(code) > 64 or not set(code) <= CODE_CHARS:
            bad.append(
                _problem(
                    file,
                    feature.index,
                    code,
                    fields["code"],
                    f"code {code!r} must be 1–64 letters, digits, '-', '_' or '.'",
                )
            )
        elif code in seen:
            bad.append(
                _problem(
                    file,
                    feature.index,
                    code,
                    fields["code"],
                    f"duplicate code {code!r} in the file (also feature {seen[code]})",
                )
            )
        else:
            seen[code] = feature.index
        owner = _field(props, fields, "owner")
        if owner is None and not external and fields["owner"] not in missing_columns:
            bad.append(
                _problem(file, feature.index, code, fields["owner"], "missing owner party code")
            )
        kind = land_type or _field(props, fields, "land_type")
        if kind is None:
            if fields["land_type"] not in missing_columns:
                bad.append(
                    _problem(file, feature.index, code, fields["land_type"], "missing land type")
                )
        elif kind not in LAND_TYPES:
            bad.append(
                _problem(
                    file,
                    feature.index,
                    code,
                    fields["land_type"],
                    f"unknown land type {kind!r} (known: {', '.join(LAND_TYPES)})",
                )
            )
        certificate = _field(props, fields, "certificate")
        if certificate is not None and len(certificate) > 100:
            bad.append(
                _problem(
                    file, feature.index, code, fields["certificate"], "certificate id too long"
                )
            )
        ref = _field(props, fields, "external_ref")
        if external and fields["external_ref"] is not None:
            if ref is None and fields["external_ref"] not in missing_columns:
                bad.append(
                    _problem(
                        file, feature.index, code, fields["external_ref"], "missing claim reference"
                    )
                )
            elif ref is not None and len(ref) > 100:
                bad.append(
                    _problem(
                        file, feature.index, code, fields["external_ref"], "reference too long"
                    )
                )
        geom = feature.geometry
        if geom is None or geom.is_empty:
            bad.append(_problem(file, feature.index, code, "geometry", "empty geometry"))
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            bad.append(
                _problem(file, feature.index, code, "geometry", f"not a polygon: {geom.geom_type}")
            )
        elif not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            bad.append(
                _problem(file, feature.index, code, "geometry", f"invalid geometry: {reason}")
            )
        else:
            x0, y0, x1, y1 = geom.bounds
            if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
                bad.append(
                    _problem(
                        file,
                        feature.index,
                        code,
                        "geometry",
                        "coordinates are not lon/lat degrees (is the file's CRS missing?)",
                    )
                )
        if bad:
            problems.extend(bad)
            continue
        attributes = {k: v for k, v in props.items() if k not in used and v is not None}
        rows.append(
            {
                "index": feature.index,
                "code": code,
                "owner": owner,
                "land_type": kind,
                "certificate": certificate,
                "external_ref": ref,
                "shape": geom,
                "attributes": attributes,
            }
        )
    if rows:
        areas = areas_ha([r["shape"] for r in rows])
        for row, area in zip(rows, areas, strict=True):
            if not area > 0:
                problems.append(
                    _problem(file, row["index"], row["code"], "geometry", "the polygon has no area")
                )
            row["area_ha"] = round(float(area), 6)
    return rows, problems


def _db_problems(tx: Tx, file: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Problems only the database can tell: unknown owners, owners without an owner role,
    parcel codes already registered."""
    problems: list[dict[str, Any]] = []
    owners = sorted({r["owner"] for r in rows if r["owner"] is not None})
    roles: dict[str, set[str]] = {}
    if owners:
        found = tx.conn.execute(
            select(Party.code, PartyRole.role)
            .outerjoin(PartyRole, PartyRole.party_id == Party.id)
            .where(Party.code.in_(owners))
        ).all()
        for party_code, role in found:
            roles.setdefault(party_code, set()).update([role] if role else [])
    codes = [r["code"] for r in rows]
    taken = set(tx.conn.execute(select(Parcel.code).where(Parcel.code.in_(codes))).scalars())
    for row in rows:
        feature = row["index"]
        owner = row["owner"]
        if owner is not None and owner not in roles:
            problems.append(_problem(file, feature, row["code"], "owner", f"no party {owner!r}"))
        elif owner is not None and not roles[owner] & set(OWNER_ROLES):
            problems.append(
                _problem(
                    file,
                    feature,
                    row["code"],
                    "owner",
                    f"party {owner!r} is not an owner_household or village_collective",
                )
            )
        if row["code"] in taken:
            problems.append(
                _problem(
                    file,
                    feature,
                    row["code"],
                    "code",
                    f"parcel {row['code']!r} is already in the registry",
                )
            )
    return problems


def import_parcels(
    registry: Registry,
    *,
    actor: str,
    path: Path,
    owner_field: str = "owner",
    code_field: str = "code",
    land_type_field: str = "land_type",
    certificate_field: str = "certificate",
    land_type: str | None = None,
    datum: str = "wgs84",
    external_scheme: str | None = None,
    external_ref_field: str | None = None,
    idempotency_key: str | None = None,
) -> Receipt:
    """Import every polygon of a GeoJSON/GeoPackage file as parcels, all or nothing.

    Each feature needs a code, an owner party (role owner_household or village_collective;
    optional for external claims, but checked when given), a land type (from
    ``land_type_field`` unless ``land_type`` is given) and a valid polygon or multipolygon.
    Every problem of every feature is reported at once in one :class:`RegistryInputError`
    (``detail["problems"]``). With ``external_scheme`` the parcels are claims of that scheme;
    otherwise they must not overlap each other or existing own parcels by more than
    :data:`~mrv.registry.overlaps.OVERLAP_TOLERANCE_HA`. Admins, bureaus and cooperatives may
    import.
    """
    datum_key = check_datum(datum)
    if land_type is not None and land_type not in LAND_TYPES:
        raise RegistryInputError(
            f"unknown land type {land_type!r} (known: {', '.join(LAND_TYPES)})", field="land_type"
        )
    if external_scheme is not None and external_scheme not in EXTERNAL_SCHEMES:
        raise RegistryInputError(
            f"unknown external scheme {external_scheme!r} (known: {', '.join(EXTERNAL_SCHEMES)})",
            field="external_scheme",
        )
    if external_ref_field is not None and external_scheme is None:
        raise RegistryInputError(
            "external_ref_field needs an external_scheme", field="external_ref_field"
        )
    path = Path(path)
    features = read_features(path, datum_key)
    file = path.name
    fields: dict[str, str | None] = {
        "code": code_field,
        "owner": owner_field,
        "land_type": land_type_field,
        "certificate": certificate_field,
        "external_ref": external_ref_field,
    }
    external = external_scheme is not None
    rows, problems = _check_features(
        file, features, fields=fields, land_type=land_type, external=external
    )

    def body(tx: Tx) -> Outcome:
        tx.require_role(*IMPORT_ROLES)
        lock_overlap_checks(tx.conn)
        found = problems + _db_problems(tx, file, rows)
        if found:
            raise _problems_error(file, found)
        owner_ids = dict(
            tx.conn.execute(
                select(Party.code, Party.id).where(
                    Party.code.in_({r["owner"] for r in rows if r["owner"]})
                )
            ).all()
        )
        values = []
        for row in rows:
            geometry = to_geojson(row["shape"])
            x0, y0, x1, y1 = row["shape"].bounds
            values.append(
                {
                    "code": row["code"],
                    "owner_party_id": owner_ids.get(row["owner"]),
                    "land_type": row["land_type"],
                    "land_right_certificate": row["certificate"],
                    "area_ha": row["area_ha"],
                    "area_mu": row["area_ha"] * MU_PER_HA,
                    "geometry": geometry,
                    "geometry_sha256": geometry_sha256(geometry),
                    "min_lon": x0,
                    "min_lat": y0,
                    "max_lon": x1,
                    "max_lat": y1,
                    "external_scheme": external_scheme,
                    "external_ref": row["external_ref"],
                    "attributes": row["attributes"],
                    "created_at": tx.now,
                }
            )
        tx.conn.execute(insert(Parcel), values)
        codes = [r["code"] for r in rows]
        if not external:
            ids = tx.conn.execute(select(Parcel.id).where(Parcel.code.in_(codes))).scalars()
            overlaps = find_overlaps(tx.conn, list(ids), against="own_parcels")
            if overlaps:
                raise overlap_error(overlaps, f"{file} is not imported")
        total = round(sum(r["area_ha"] for r in rows), 6)
        return Outcome(
            "parcels",
            file,
            after={"file": file, "count": len(rows), "area_ha": total, "parcels": codes},
        )

    return registry.execute(
        "import_parcels",
        actor=actor,
        request={
            "file": file,
            "file_sha256": sha256_file(path),
            "owner_field": owner_field,
            "code_field": code_field,
            "land_type_field": land_type_field,
            "certificate_field": certificate_field,
            "land_type": land_type,
            "datum": datum_key,
            "external_scheme": external_scheme,
            "external_ref_field": external_ref_field,
        },
        body=body,
        stream=REGISTRY_STREAM,
        idempotency_key=idempotency_key,
    )


# -- reads and export --------------------------------------------------------------------------


def _parcel_query(*, geometry: bool = False) -> AnySelect:
    owner = aliased(Party, name="owner_party")
    held = (
        select(ProjectParcel.parcel_id, Project.code.label("project"))
        .join(Project, Project.id == ProjectParcel.project_id)
        .where(ProjectParcel.active.is_(True))
        .subquery("held")
    )
    columns: list[Any] = [
        Parcel.code,
        owner.code.label("owner"),
        Parcel.land_type,
        Parcel.land_right_certificate.label("certificate"),
        Parcel.area_ha,
        Parcel.area_mu,
        Parcel.external_scheme,
        Parcel.external_ref,
        held.c.project,
    ]
    if geometry:
        columns.append(Parcel.geometry)
    return (
        select(*columns)
        .outerjoin(owner, owner.id == Parcel.owner_party_id)
        .outerjoin(held, held.c.parcel_id == Parcel.id)
        .order_by(Parcel.code)
    )


def _filtered(
    conn: Connection,
    query: AnySelect,
    *,
    owner: str | None,
    project: str | None,
    external: bool | None,
    land_type: str | None,
) -> AnySelect:
    if owner is not None:
        query = query.where(Parcel.owner_party_id == lookup.party(conn, owner, "owner").id)
    if project is not None:
        project_id = lookup.project(conn, project).id
        query = query.where(
            Parcel.id.in_(
                select(ProjectParcel.parcel_id).where(ProjectParcel.project_id == project_id)
            )
        )
    if external is True:
        query = query.where(Parcel.external_scheme.is_not(None))
    elif external is False:
        query = query.where(Parcel.external_scheme.is_(None))
    if land_type is not None:
        query = query.where(Parcel.land_type == land_type)
    return query


def list_parcels(
    registry: Registry,
    *,
    owner: str | None = None,
    project: str | None = None,
    external: bool | None = None,
    land_type: str | None = None,
) -> list[dict[str, Any]]:
    """Parcels (without geometry) ordered by code; ``project`` = every parcel it ever held,
    ``external`` True/False = only external claims / only own parcels."""
    with registry.read() as conn:
        query = _filtered(
            conn,
            _parcel_query(),
            owner=owner,
            project=project,
            external=external,
            land_type=land_type,
        )
        return [dict(row._mapping) for row in conn.execute(query)]


def cooperative_parcels(
    registry: Registry, cooperative: str, *, status: str | None = "active"
) -> list[dict[str, Any]]:
    """The parcels of a cooperative's contracts (default: its active ones) with their geometry,
    ordered by code (the columns of :func:`list_parcels` plus ``geometry``)."""
    with registry.read() as conn:
        coop_id = lookup.party(conn, cooperative, "cooperative").id
        contracted = (
            select(ContractParcel.parcel_id)
            .join(CollectionContract, CollectionContract.id == ContractParcel.contract_id)
            .where(CollectionContract.cooperative_party_id == coop_id)
        )
        if status is not None:
            contracted = contracted.where(CollectionContract.status == status)
        query = _parcel_query(geometry=True).where(Parcel.id.in_(contracted))
        return [dict(row._mapping) for row in conn.execute(query)]


def get_parcel(registry: Registry, code: str) -> dict[str, Any]:
    """One parcel with its geometry, hash, bounding box, attributes, contracts and projects."""
    with registry.read() as conn:
        row = conn.execute(select(Parcel).where(Parcel.code == code)).first()
        if row is None:
            raise RecordNotFoundError(f"no parcel {code!r}", field="parcel", parcel=code)
        summary = conn.execute(_parcel_query().where(Parcel.id == row.id)).one()
        cooperative = aliased(Party, name="cooperative")
        contracts = conn.execute(
            select(CollectionContract.code, CollectionContract.status, cooperative.code)
            .join(ContractParcel, ContractParcel.contract_id == CollectionContract.id)
            .join(cooperative, cooperative.id == CollectionContract.cooperative_party_id)
            .where(ContractParcel.parcel_id == row.id)
            .order_by(CollectionContract.start_date, CollectionContract.code)
        ).all()
        projects = conn.execute(
            select(Project.code, Project.status, ProjectParcel.active, CollectionContract.code)
            .join(ProjectParcel, ProjectParcel.project_id == Project.id)
            .join(CollectionContract, CollectionContract.id == ProjectParcel.contract_id)
            .where(ProjectParcel.parcel_id == row.id)
            .order_by(Project.created_at, Project.code)
        ).all()
    return {
        **dict(summary._mapping),
        "geometry": row.geometry,
        "geometry_sha256": row.geometry_sha256,
        "bbox": [row.min_lon, row.min_lat, row.max_lon, row.max_lat],
        "attributes": row.attributes,
        "created_at": timestamp(row.created_at),
        "contracts": [{"code": c[0], "status": c[1], "cooperative": c[2]} for c in contracts],
        "projects": [
            {"code": p[0], "status": p[1], "active": bool(p[2]), "contract": p[3]} for p in projects
        ],
    }


def export_parcels(
    registry: Registry,
    path: Path,
    *,
    project: str | None = None,
    external: bool | None = None,
) -> int:
    """Write parcels to GeoJSON or GeoPackage (by suffix), atomically; returns the count.

    Columns: code, owner, land_type, certificate, area_ha, area_mu, external_scheme,
    external_ref, project (the project holding the parcel, if any); WGS84 geometry.
    """
    path = Path(path)
    with registry.read() as conn:
        query = _filtered(
            conn,
            _parcel_query(geometry=True),
            owner=None,
            project=project,
            external=external,
            land_type=None,
        )
        records = [dict(row._mapping) for row in conn.execute(query)]
    if path.suffix.lower() not in (".geojson", ".json", ".gpkg"):
        raise file_problem(path, "export files must end in .geojson, .json or .gpkg")
    write_features(path, records, EXPORT_COLUMNS)
    return len(records)


def held_parcel_geometries(
    registry: Registry, *, project: str | None = None
) -> list[dict[str, Any]]:
    """The parcels that projects hold now (or that ``project`` holds), for public maps.

    Only what is public: project, parcel code, land type, area and WGS84 geometry, by project
    and parcel code; never the owner or the land-right certificate.
    """
    query = (
        select(
            Project.code.label("project"),
            Parcel.code,
            Parcel.land_type,
            Parcel.area_ha,
            Parcel.area_mu,
            Parcel.geometry,
        )
        .join(ProjectParcel, ProjectParcel.parcel_id == Parcel.id)
        .join(Project, Project.id == ProjectParcel.project_id)
        .where(ProjectParcel.active.is_(True))
        .order_by(Project.code, Parcel.code)
    )
    with registry.read() as conn:
        if project is not None:
            query = query.where(ProjectParcel.project_id == lookup.project(conn, project).id)
        return [dict(row._mapping) for row in conn.execute(query)]
