"""``/v1/retirements``: retiring credits, the list of retirements, and the certificate as a
record, HTML, PDF and its verification (public reads)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from api.deps import Actor, IdempotencyKey, RegistryDep
from api.openapi import PROBLEMS
from api.pagination import Cursor, Limit, Page, paginate
from api.schemas import WriteResult, receipt
from mrv.registry.certificate import certificate_html, certificate_pdf, verify_certificate
from mrv.registry.models import PURPOSES
from mrv.registry.retirement import get_retirement, list_retirements, retire

router = APIRouter(prefix="/retirements", tags=["retirements"], responses=PROBLEMS)

CertificateNo = Annotated[
    str, Path(max_length=64, description="Certificate number.", examples=["HZ-RET-1A2B3C4D5E6F"])
]
Purpose = Literal["voluntary", "offsetting", "ecological_compensation", "judicial_restoration"]


class RetirementIn(BaseModel):
    """Retire held credits of the actor's account for a purpose and beneficiary.

    Judicial ecological restoration (司法生态修复) needs the case number, the court or
    procuratorate, the payer and the restoration site.
    """

    account: str = Field(max_length=64, examples=["buyer-1"])
    batch: str = Field(max_length=80, examples=["HZ-BAM-AJ001-2025-001"])
    quantity: int = Field(gt=0, le=10**12, examples=[10], description="Whole tonnes CO2e.")
    purpose: str = Field(
        max_length=32,
        examples=["judicial_restoration"],
        description=f"One of {', '.join(PURPOSES)}.",
    )
    beneficiary: str = Field(max_length=200, examples=["湖州市某化工有限公司"])
    reason: str | None = Field(default=None, max_length=1000, examples=["substitute restoration"])
    case_number: str | None = Field(
        default=None, max_length=100, examples=["(2025)浙0523刑初123号"]
    )
    court: str | None = Field(default=None, max_length=200, examples=["安吉县人民法院"])
    payer: str | None = Field(default=None, max_length=200, examples=["湖州市某化工有限公司"])
    restoration_site: str | None = Field(default=None, max_length=200, examples=["西苕溪湿地"])
    judgment_sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the judgment document."
    )


class CertificateContent(BaseModel):
    """The certificate content whose SHA-256 is fixed at retirement."""

    certificate_no: str
    retired_at: str = Field(description="UTC, ISO 8601.")
    account: str
    beneficiary: str
    purpose: Purpose
    reason: str | None
    quantity_tco2e: int
    batch: str
    project: str
    vintage: int
    methodology: str
    serials: list[str]
    case_number: str | None
    court: str | None
    payer: str | None
    restoration_site: str | None
    judgment_sha256: str | None


class RetirementOut(CertificateContent):
    """A retirement record, its stored hash and whether the content still hashes to it."""

    certificate_sha256: str
    hash_ok: bool


class JournalRef(BaseModel):
    """The journal event of the retirement."""

    stream: str
    seq: int
    hash: str


class VerificationOut(BaseModel):
    """The certificate's hash recomputed and compared with the record and the journal."""

    certificate_no: str
    certificate_sha256: str
    recomputed_sha256: str
    hash_ok: bool = Field(description="The stored content hashes to the stored hash.")
    journal_sha256: str | None
    journal_event: JournalRef | None
    journal_ok: bool = Field(description="The journal event is intact and records the hash.")
    ok: bool
    content: CertificateContent


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WriteResult)
def post_retirement(
    body: RetirementIn, actor: Actor, registry: RegistryDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Retire the actor's held credits (their holder); returns the certificate record."""
    return receipt(
        retire(
            registry,
            actor=actor.party,
            account=body.account,
            batch=body.batch,
            quantity=body.quantity,
            purpose=body.purpose,
            beneficiary=body.beneficiary,
            reason=body.reason,
            case_number=body.case_number,
            court=body.court,
            payer=body.payer,
            restoration_site=body.restoration_site,
            judgment_sha256=body.judgment_sha256,
            idempotency_key=key,
        )
    )


@router.get("", response_model=Page[RetirementOut])
def get_retirements(
    registry: RegistryDep,
    account: Annotated[
        str | None, Query(max_length=64, description="Only this retiring account.")
    ] = None,
    purpose: Annotated[Purpose | None, Query(description="Only this purpose.")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Retirement records, oldest first (by time, then certificate number) (public)."""
    items = list_retirements(registry, account=account, purpose=purpose)
    return paginate(
        items, lambda r: [r["retired_at"], r["certificate_no"]], limit=limit, cursor=cursor
    )


@router.get("/{number}", response_model=RetirementOut)
def get_one_retirement(number: CertificateNo, registry: RegistryDep) -> dict[str, Any]:
    """A retirement's certificate record (public)."""
    return get_retirement(registry, number)


@router.get("/{number}/certificate.html", response_class=HTMLResponse)
def get_certificate_html(number: CertificateNo, registry: RegistryDep) -> HTMLResponse:
    """The certificate as self-contained bilingual HTML (public)."""
    return HTMLResponse(certificate_html(registry, number))


@router.get(
    "/{number}/certificate.pdf",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "A one-page A4 PDF.",
        }
    },
)
def get_certificate_pdf(number: CertificateNo, registry: RegistryDep) -> Response:
    """The certificate as PDF, the same bytes for the same certificate (public)."""
    return Response(
        certificate_pdf(registry, number),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
    )


@router.get("/{number}/verification", response_model=VerificationOut)
def get_verification(number: CertificateNo, registry: RegistryDep) -> dict[str, Any]:
    """Recompute the certificate's hash against its record and the journal (public)."""
    return verify_certificate(registry, number)
