"""``/v1/parcels``: importing parcel files (GeoJSON/GeoPackage upload), lists, one parcel, and
the GeoJSON export (a token is needed: parcels name their owners)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path as FilePath
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import Actor, IdempotencyKey, RegistryDep
from api.openapi import PROBLEMS
from api.pagination import Cursor, Limit, Page, paginate
from api.schemas import WriteResult, receipt
from mrv.errors import RegistryInputError
from mrv.registry.models import EXTERNAL_SCHEMES, LAND_TYPES
from mrv.registry.parcels import export_parcels, get_parcel, import_parcels, list_parcels

router = APIRouter(prefix="/parcels", tags=["parcels"], responses=PROBLEMS)

LandType = Literal["bamboo", "forest", "wetland", "farmland", "tea"]
ExternalScheme = Literal[
    "ccer", "forest_carbon_ticket", "zhejiang_forest_inclusive", "vcs", "other"
]
MAX_NAME = 200
"""Longest upload file name kept (it names the file in the journal and in problems)."""


class ParcelSummary(BaseModel):
    """A parcel or external claim without its geometry."""

    code: str
    owner: str | None = Field(description="Owner party (may be None for an external claim).")
    land_type: LandType
    certificate: str | None = Field(description="Land-right certificate (林权证/承包证) id.")
    area_ha: float = Field(description="Area in EPSG:4549, hectares.")
    area_mu: float
    external_scheme: ExternalScheme | None = Field(description="Set for external claims.")
    external_ref: str | None
    project: str | None = Field(description="The project holding the parcel now, if any.")


class ParcelContract(BaseModel):
    """A collection contract covering the parcel."""

    code: str
    status: Literal["active", "terminated"]
    cooperative: str


class ParcelProject(BaseModel):
    """A project that holds or held the parcel."""

    code: str
    status: Literal["draft", "public_notice", "registered", "rejected", "deregistered"]
    active: bool = Field(description="The project holds the parcel now.")
    contract: str


class ParcelOut(ParcelSummary):
    """One parcel with its WGS84 geometry, hash, bounding box, contracts and projects."""

    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, WGS84.")
    geometry_sha256: str
    bbox: list[float] = Field(description="min lon, min lat, max lon, max lat.")
    attributes: dict[str, Any] = Field(description="The file's other properties.")
    created_at: str = Field(description="UTC, ISO 8601.")
    contracts: list[ParcelContract]
    projects: list[ParcelProject]


def _upload_name(filename: str | None) -> str:
    """The upload's own file name (no folders): it names the file in the journal and problems."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    if not name or name in (".", "..") or len(name) > MAX_NAME:
        raise RegistryInputError(
            "the upload needs a file name ending in .geojson, .json or .gpkg", field="file"
        )
    return name


@router.post("/import", status_code=status.HTTP_201_CREATED, response_model=WriteResult)
def post_import(
    file: Annotated[
        UploadFile, File(description="GeoJSON (.geojson/.json) or GeoPackage (.gpkg), any CRS.")
    ],
    actor: Actor,
    registry: RegistryDep,
    datum: Annotated[
        str, Form(max_length=16, description="wgs84, cgcs2000, gcj02 or bd09 (lon/lat files).")
    ] = "wgs84",
    land_type: Annotated[
        str | None,
        Form(max_length=32, description=f"Land type of every parcel: {', '.join(LAND_TYPES)}."),
    ] = None,
    external_scheme: Annotated[
        str | None,
        Form(
            max_length=32,
            description=f"Import external claims of a scheme: {', '.join(EXTERNAL_SCHEMES)}.",
        ),
    ] = None,
    external_ref_field: Annotated[
        str | None, Form(max_length=64, description="Property with the claim's reference.")
    ] = None,
    owner_field: Annotated[str, Form(max_length=64, description="Owner party property.")] = (
        "owner"
    ),
    code_field: Annotated[str, Form(max_length=64, description="Parcel code property.")] = "code",
    land_type_field: Annotated[str, Form(max_length=64, description="Land type property.")] = (
        "land_type"
    ),
    certificate_field: Annotated[
        str, Form(max_length=64, description="Land-right certificate property.")
    ] = "certificate",
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Import every polygon of a file as parcels or external claims, all or nothing (admins,
    bureaus, cooperatives).

    A refused file answers 422 with every problem of every feature (``records.problems``:
    feature, code, field, reason); nothing is written.
    """
    name = _upload_name(file.filename)
    with tempfile.TemporaryDirectory(prefix="mrv-upload-") as folder:
        path = FilePath(folder) / name
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        return receipt(
            import_parcels(
                registry,
                actor=actor.party,
                path=path,
                owner_field=owner_field,
                code_field=code_field,
                land_type_field=land_type_field,
                certificate_field=certificate_field,
                land_type=land_type,
                datum=datum,
                external_scheme=external_scheme,
                external_ref_field=external_ref_field,
                idempotency_key=key,
            )
        )


External = Annotated[
    bool | None, Query(description="true: only external claims; false: only own parcels.")
]
ProjectFilter = Annotated[
    str | None, Query(max_length=64, description="Only parcels this project ever held.")
]


@router.get("", response_model=Page[ParcelSummary])
def get_parcels(
    actor: Actor,
    registry: RegistryDep,
    owner: Annotated[str | None, Query(max_length=64, description="Only this owner's.")] = None,
    project: ProjectFilter = None,
    land_type: Annotated[LandType | None, Query(description="Only this land type.")] = None,
    external: External = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Parcels and external claims by code (without geometry)."""
    items = list_parcels(
        registry, owner=owner, project=project, external=external, land_type=land_type
    )
    return paginate(items, lambda p: p["code"], limit=limit, cursor=cursor)


@router.get(
    "/export.geojson",
    response_class=Response,
    responses={
        200: {
            "content": {"application/geo+json": {"schema": {"type": "object"}}},
            "description": "A FeatureCollection (WGS84) with code, owner, land_type, "
            "certificate, area_ha, area_mu, external_scheme, external_ref and project.",
        }
    },
)
def get_export(
    actor: Actor, registry: RegistryDep, project: ProjectFilter = None, external: External = None
) -> Response:
    """The parcels as a GeoJSON file with their stored coordinates."""
    with tempfile.TemporaryDirectory(prefix="mrv-export-") as folder:
        path = FilePath(folder) / "parcels.geojson"
        export_parcels(registry, path, project=project, external=external)
        data = path.read_bytes()
    return Response(
        data,
        media_type="application/geo+json",
        headers={"Content-Disposition": 'attachment; filename="parcels.geojson"'},
    )


@router.get("/{code}", response_model=ParcelOut)
def get_one_parcel(
    code: Annotated[str, Path(max_length=64, description="Parcel code.")],
    actor: Actor,
    registry: RegistryDep,
) -> dict[str, Any]:
    """One parcel with geometry, contracts and projects."""
    return get_parcel(registry, code)
