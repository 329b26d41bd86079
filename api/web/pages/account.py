"""The party's account: holdings per batch, its retirements, and retiring held credits.

Any logged-in party has a holding account with its own code. The retirement form calls the
registry's ``retire`` with the party as the actor and holder, so the registry's own rules decide
(holdership, enough held credits, the purpose and its judicial-restoration fields); a court also
gets a form to retire a payer's credits for judicial restoration (the registry allows that to
courts only). A refused retirement shows the account page again with the reason and writes
nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.web.forms import FormError, attempt, parse_int, writer
from api.web.render import render
from api.web.session import registry_of, require_login
from mrv.registry.core import Receipt
from mrv.registry.models import PURPOSES
from mrv.registry.queries import holdings
from mrv.registry.retirement import list_retirements, retire

router = APIRouter(include_in_schema=False)

PURPOSE_NAMES: dict[str, tuple[str, str]] = {
    "voluntary": ("自愿注销", "Voluntary"),
    "offsetting": ("抵销", "Offsetting"),
    "ecological_compensation": ("生态补偿", "Ecological compensation"),
    "judicial_restoration": ("司法生态修复", "Judicial ecological restoration"),
}
"""Names of the retirement purposes (:data:`~mrv.registry.models.PURPOSES`), Chinese and English."""

FIELDS = (
    "account",
    "batch",
    "quantity",
    "purpose",
    "beneficiary",
    "reason",
    "case_number",
    "court",
    "payer",
    "restoration_site",
)
"""The fields of the retirement form (kept when a refused form is shown again)."""


def _account_page(
    request: Request,
    party: str,
    *,
    status: int = 200,
    error: FormError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    registry = registry_of(request)
    held = holdings(registry, party)
    retirements = list_retirements(registry, account=party)[::-1]  # newest first
    retirable = [b for b in held["batches"] if b["held"] > 0]
    values = dict.fromkeys(FIELDS, "")
    values["purpose"] = "voluntary"
    values.update(form or {})
    return render(
        request,
        "account_index.html",
        status=status,
        party=party,
        holdings=held,
        retirements=retirements,
        retirable=retirable,
        purposes=[(p, PURPOSE_NAMES[p]) for p in PURPOSES],
        purpose_names=PURPOSE_NAMES,
        form=values,
        error=error,
        notice=None,
    )


@router.get("/account")
def account(request: Request) -> Response:
    """The logged-in party's holdings, retirements and the retirement form."""
    principal = require_login(request)
    return _account_page(request, principal.party)


def _optional(value: str) -> str | None:
    return value.strip() or None


@router.post("/account/retirements")
def post_retirement(
    request: Request,
    csrf: Annotated[str | None, Form(max_length=128)] = None,
    batch: Annotated[str, Form(max_length=80)] = "",
    quantity: Annotated[str, Form(max_length=20)] = "",
    purpose: Annotated[str, Form(max_length=32)] = "",
    beneficiary: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
    case_number: Annotated[str, Form(max_length=100)] = "",
    court: Annotated[str, Form(max_length=200)] = "",
    payer: Annotated[str, Form(max_length=200)] = "",
    restoration_site: Annotated[str, Form(max_length=200)] = "",
    account: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Retire held credits of the party's account (or, for a court, of the payer's ``account``
    for judicial restoration, as the registry allows); on success the certificate's page."""
    principal = writer(request, csrf)
    registry = registry_of(request)

    def call() -> Receipt:
        return retire(
            registry,
            actor=principal.party,
            account=account.strip() or principal.party,
            batch=batch.strip(),
            quantity=parse_int(quantity, "quantity"),
            purpose=purpose.strip(),
            beneficiary=beneficiary,
            reason=_optional(reason),
            case_number=_optional(case_number),
            court=_optional(court),
            payer=_optional(payer),
            restoration_site=_optional(restoration_site),
        )

    receipt, error = attempt(call)
    if error is not None or receipt is None:
        form = {
            "account": account,
            "batch": batch,
            "quantity": quantity,
            "purpose": purpose,
            "beneficiary": beneficiary,
            "reason": reason,
            "case_number": case_number,
            "court": court,
            "payer": payer,
            "restoration_site": restoration_site,
        }
        return _account_page(
            request,
            principal.party,
            status=error.status if error else 500,
            error=error,
            form=form,
        )
    number = str(receipt.result["certificate_no"])
    return RedirectResponse(f"/retirements/{number}", status_code=303)


__all__ = ["PURPOSE_NAMES", "router"]
