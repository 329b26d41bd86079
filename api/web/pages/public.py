"""The public registry explorer (no login): projects on a map, issuances, serial-number search,
retirements with their certificates and the reference price over time.

Everything shown here is what the API already gives without a token, minus the owners' personal
data: maps and tables of parcels never name owners or land-right certificates (the parcels come
from :func:`~mrv.registry.parcels.held_parcel_geometries`), and no distribution amounts appear.
Holding accounts appear where the public API shows them (blocks, serial search, certificates).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.web import i18n
from api.web.forms import FormError, form_error, parse_int
from api.web.render import render
from api.web.session import registry_of
from mrv.errors import MRVError, RegistryInputError
from mrv.geo import read_boundary
from mrv.registry.certificate import verify_certificate
from mrv.registry.core import Registry
from mrv.registry.monitoring import list_reports
from mrv.registry.parcels import held_parcel_geometries
from mrv.registry.projects import get_project, list_projects
from mrv.registry.queries import batch_summary, blocks, find_serial, list_batches
from mrv.registry.retirement import get_retirement, list_retirements
from mrv.registry.trading import REFERENCE_WINDOW_TRADING_DAYS, price_history, reference_price
from mrv.registry.verification import get_verification

router = APIRouter(include_in_schema=False)

REPOSITORY = Path(__file__).resolve().parents[3]
COUNTIES_DIR = REPOSITORY / "aoi" / "counties"
COUNTIES: dict[str, tuple[str, str]] = {
    "330502": ("吴兴区", "Wuxing district"),
    "330503": ("南浔区", "Nanxun district"),
    "330521": ("德清县", "Deqing county"),
    "330522": ("长兴县", "Changxing county"),
    "330523": ("安吉县", "Anji county"),
}
"""The five districts and counties of Huzhou (``aoi/counties/README.md``; 330500, the whole
city, is left out: the counties already draw its outline)."""
COUNTY_GRID_DEG = 1e-5
"""Coordinates of the context map are snapped to about a metre (smaller file, same picture)."""
RECENT = 10
"""Rows in the home page's recent issuances and retirements."""
PAGE_ROWS = 100
"""Rows of a page of the retirements list."""
BLOCKS_SHOWN = 1000
Purpose = Literal["voluntary", "offsetting", "ecological_compensation", "judicial_restoration"]


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def project_features(registry: Registry, names: dict[str, str]) -> list[dict[str, Any]]:
    """One feature per project: the union of the parcels it holds, labelled with its name and
    linking to its page (no owners)."""
    shapes: dict[str, list[Any]] = defaultdict(list)
    for parcel in held_parcel_geometries(registry):
        shapes[parcel["project"]].append(shapely.geometry.shape(parcel["geometry"]))
    return [
        _feature(
            shapely.geometry.mapping(shapely.union_all(parts)),
            label=f"{names.get(code, code)} ({code})",
            href=f"/projects/{code}",
            kind="project",
            project=code,
        )
        for code, parts in shapes.items()
    ]


def price_chart(history: list[dict[str, Any]], tr: i18n.Translate) -> dict[str, Any]:
    """The chart data of the price history: days as unix seconds (UTC midnight), the day's
    volume-weighted price and the reference price in yuan per tonne."""

    def value(text: str | None) -> float | None:
        return None if text is None else float(text)

    return {
        "x": [calendar.timegm(dt.date.fromisoformat(d["day"]).timetuple()) for d in history],
        "series": [
            {
                "label": tr("当日成交均价", "Day's volume-weighted price"),
                "values": [value(d["price_yuan_per_t"]) for d in history],
            },
            {
                "label": tr(
                    f"参考价格（{REFERENCE_WINDOW_TRADING_DAYS} 个交易日）",
                    f"Reference price ({REFERENCE_WINDOW_TRADING_DAYS} trading days)",
                ),
                "values": [value(d["reference_price_yuan_per_t"]) for d in history],
            },
        ],
    }


@router.get("/")
def home(request: Request) -> Response:
    """Headline figures, the projects on a map and in a table, recent issuances, the price
    chart, the serial search form and recent retirements."""
    registry = registry_of(request)
    tr = i18n.translator(i18n.language(request))
    projects = list_projects(registry)
    batches = list_batches(registry)
    retirements = list_retirements(registry)
    history = price_history(registry)
    price = reference_price(registry, registry.today())
    figures = {
        "registered": sum(1 for p in projects if p["status"] == "registered"),
        "issued": sum(b["issued_tco2e"] for b in batches),
        "retired": sum(b["retired"] for b in batches),
        "price": price["reference_price_yuan_per_t"],
    }
    names = {p["code"]: p["name"] for p in projects}
    return render(
        request,
        "public_home.html",
        figures=figures,
        price=price,
        projects=projects,
        project_map=_collection(project_features(registry, names)),
        batches=sorted(batches, key=lambda b: (b["issued_at"], b["batch"]), reverse=True)[:RECENT],
        retirements=retirements[::-1][:RECENT],
        chart=price_chart(history, tr),
        history=history,
    )


@router.get("/projects/{code}")
def project_page(request: Request, code: str) -> Response:
    """A project: status, methodology, land type, crediting period, area, its parcels on a map,
    its monitoring reports and its batches."""
    registry = registry_of(request)
    detail = get_project(registry, code)  # 404 for an unknown project
    summary = next(p for p in list_projects(registry) if p["code"] == code)
    parcels = held_parcel_geometries(registry, project=code)
    features = [
        _feature(
            p["geometry"],
            label=f"{p['code']} · {p['area_ha']:.2f} ha",
            kind="parcel",
            parcel=p["code"],
        )
        for p in parcels
    ]
    reports = []
    for report in list_reports(registry, code):
        try:
            verification: dict[str, Any] | None = get_verification(registry, code, report["seq"])
        except MRVError:  # no verifier assigned yet
            verification = None
        reports.append(
            {
                **{k: report[k] for k in ("seq", "period_start", "period_end", "status")},
                "claimed_tco2e": report["claimed_tco2e"],
                "verified_tco2e": verification["verified_tco2e"] if verification else None,
                "opinion": verification["status"] if verification else None,
            }
        )
    return render(
        request,
        "public_project.html",
        project={**summary, "risk_score": detail["risk_score"]},
        parcels=[{k: v for k, v in p.items() if k != "geometry"} for p in parcels],
        parcel_map=_collection(features),
        reports=reports,
        batches=list_batches(registry, project=code),
    )


@router.get("/batches/{prefix}")
def batch_page(request: Request, prefix: str) -> Response:
    """A batch: tonnes by status, its serial blocks and its retirements."""
    registry = registry_of(request)
    summary = batch_summary(registry, prefix)  # 404 for an unknown batch
    page = blocks(registry, batch=prefix, limit=BLOCKS_SHOWN)
    return render(
        request,
        "public_batch.html",
        batch=summary,
        blocks=page["items"],
        more_blocks=page["next_cursor"] is not None,
        retirements=[r for r in list_retirements(registry)[::-1] if r["batch"] == prefix],
    )


@router.get("/serials")
def serial_search(
    request: Request,
    batch: Annotated[str, Query(max_length=80)] = "",
    serial: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Serial-number search: the block now holding a serial of a batch, its status and holder
    account and the blocks it came through (as ``/v1/serials/{batch}/{serial}``)."""
    registry = registry_of(request)
    found: dict[str, Any] | None = None
    error: FormError | None = None
    batch, serial = batch.strip(), serial.strip()
    if batch or serial:
        try:
            if not batch:
                raise RegistryInputError("batch: the batch's serial prefix is needed")
            number = parse_int(serial, "serial")
            if number <= 0:
                raise RegistryInputError(f"serial: {number} is not a serial number (1, 2, …)")
            found = find_serial(registry, batch, number)
        except MRVError as exc:
            error = form_error(exc)
    return render(
        request,
        "public_serials.html",
        status=error.status if error else 200,
        batch=batch,
        serial=serial,
        found=found,
        error=error,
        notice=None,
        prefixes=[b["batch"] for b in list_batches(registry)],
    )


@router.get("/retirements")
def retirements_page(
    request: Request,
    purpose: Purpose | None = None,
    page: Annotated[int, Query(ge=1, le=10**6)] = 1,
) -> Response:
    """Every retirement, newest first (optionally of one purpose), :data:`PAGE_ROWS` a page."""
    registry = registry_of(request)
    items = list_retirements(registry, purpose=purpose)[::-1]
    pages = max(1, -(-len(items) // PAGE_ROWS))
    shown = items[(page - 1) * PAGE_ROWS : page * PAGE_ROWS]
    return render(
        request,
        "public_retirements.html",
        retirements=shown,
        count=len(items),
        purpose=purpose,
        total=sum(r["quantity_tco2e"] for r in items),
        page=page,
        pages=pages,
    )


@router.get("/retirements/{certificate_no}")
def certificate_page(request: Request, certificate_no: str) -> Response:
    """A retirement certificate's record, its PDF and HTML, and its verification."""
    registry = registry_of(request)
    record = get_retirement(registry, certificate_no)  # 404 for an unknown certificate
    return render(
        request,
        "public_certificate.html",
        record=record,
        verification=verify_certificate(registry, certificate_no),
    )


@router.get("/price")
def price_page(request: Request) -> Response:
    """The reference price today, the chart over time and the table of days with trades."""
    registry = registry_of(request)
    tr = i18n.translator(i18n.language(request))
    history = price_history(registry)
    return render(
        request,
        "public_price.html",
        price=reference_price(registry, registry.today()),
        history=history,
        chart=price_chart(history, tr),
    )


@cache
def counties_geojson() -> bytes:
    """The five county boundaries (GCJ-02 files converted to WGS84) as one FeatureCollection of
    ``kind: "context"`` features labelled with the county's name (Chinese and English)."""
    features = []
    for code, (zh, en) in COUNTIES.items():
        path = COUNTIES_DIR / f"{code}.geojson"
        shape = shapely.set_precision(read_boundary(path, "gcj02"), COUNTY_GRID_DEG)
        features.append(
            _feature(
                shapely.geometry.mapping(shape),
                label=f"{zh} {en}",
                kind="context",
                code=code,
                name_zh=zh,
                name_en=en,
            )
        )
    return json.dumps(_collection(features), ensure_ascii=False, separators=(",", ":")).encode()


@router.get("/geo/counties.geojson")
def counties() -> Response:
    """The county boundaries of Huzhou for map context (``data-context`` of a map)."""
    return Response(
        counties_geojson(),
        media_type="application/geo+json",
        headers={"Cache-Control": "public, max-age=86400"},
    )


__all__ = ["counties_geojson", "price_chart", "project_features", "router"]
