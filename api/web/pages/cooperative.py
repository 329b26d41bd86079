"""Pages of the cooperative: its parcels on a map, its collection contracts and the upfront
payments they are due, its owners, and each owner's distribution statement with a form to record
a payment against a line.

A cooperative sees only its own contracts and parcels (an admin chooses a cooperative with
``?cooperative=``). An owner's statement names the owner's money: it is for the cooperative that
has a contract with the owner, and for admins, bureaus and the trading centre (the API's rule for
reading owners' lines, :func:`api.routers.distribution.statement_scope`: a cooperative reads
the lines of its own contracts, and here only of owners it has a contract with). Payments are
recorded by the project's proponent cooperative or an admin, as
:func:`mrv.registry.distribution.record_payment` decides.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.routers.distribution import statement_scope
from api.web.forms import FormError, attempt, parse_int, writer
from api.web.i18n import language, translator
from api.web.render import render
from api.web.session import registry_of, require_login
from mrv.errors import ForbiddenError, RecordNotFoundError, RegistryInputError
from mrv.registry.contracts import contract_payments_due, list_contracts
from mrv.registry.core import Registry
from mrv.registry.distribution import distribution_statement, record_payment
from mrv.registry.parcels import cooperative_parcels
from mrv.registry.queries import list_parties
from mrv.registry.tokens import Principal

router = APIRouter(include_in_schema=False)

ROLE = "cooperative"
STATEMENT_ROLES = ("cooperative", "bureau", "trading_centre")
"""Who may open an owner's statement page (admins pass); a cooperative only for its owners."""
WHOLE_REGISTRY = frozenset({"admin", "bureau", "trading_centre"})
"""Roles that read every owner's statement (a cooperative reads those of its own owners)."""
AMOUNT = re.compile(r"^\d{1,12}(\.\d+)?$")
"""Yuan as the API's payment body takes it (below ¥10¹²)."""
MAX_LINE_ID = 2**62


def _cooperative(registry: Registry, principal: Principal, asked: str | None) -> str | None:
    """The cooperative a page shows: the party's own; an admin names one (None: not yet)."""
    if asked in (None, "", principal.party):
        return principal.party if ROLE in principal.roles else None
    if "admin" not in principal.roles:
        raise ForbiddenError(
            f"{principal.party} may only see its own contracts", actor=principal.party
        )
    found = list_parties(registry, asked)
    if not found or ROLE not in found[0]["roles"]:
        raise RecordNotFoundError(f"no cooperative {asked!r}", field="cooperative", party=asked)
    return asked


def _fen(value: str | None) -> int:
    return 0 if value is None else int(Decimal(value) * 100)


def _owner_sums(codes: set[str], statement: dict[str, Any]) -> dict[str, Any]:
    """Due, paid and outstanding (yuan) per owner over the lines of the cooperative's contracts."""
    sums: dict[str, dict[str, int]] = {}
    for owner in statement["owners"]:
        for parcel in owner["parcels"]:
            for line in parcel["lines"]:
                if line["contract"] not in codes:
                    continue
                acc = sums.setdefault(owner["owner"], {"due": 0, "paid": 0})
                acc["due"] += _fen(line["due_yuan"])
                acc["paid"] += _fen(line["paid_yuan"])
    return {
        owner: {
            "due_yuan": Decimal(acc["due"]) / 100,
            "paid_yuan": Decimal(acc["paid"]) / 100,
            "outstanding_yuan": Decimal(acc["due"] - acc["paid"]) / 100,
        }
        for owner, acc in sums.items()
    }


def _map(parcels: list[dict[str, Any]], mu: str) -> dict[str, Any]:
    """The cooperative's parcels as a GeoJSON FeatureCollection for ``map.js``."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": p["geometry"],
                "properties": {
                    "label": f"{p['code']} · {p['owner']} · {float(p['area_mu']):,.2f} {mu}",
                    "href": f"/cooperative/owners/{p['owner']}",
                    "kind": "parcel",
                    "code": p["code"],
                    "owner": p["owner"],
                },
            }
            for p in parcels
        ],
    }


@router.get("/cooperative")
def cooperative_home(request: Request, cooperative: str | None = None) -> Response:
    """The cooperative's parcels (map), contracts, payments due and owners."""
    principal = require_login(request, ROLE)
    registry = registry_of(request)
    coop = _cooperative(registry, principal, cooperative)
    parties = list_parties(registry)
    if coop is None:  # an admin who has not chosen a cooperative yet
        choices = [p for p in parties if ROLE in p["roles"]]
        return render(request, "cooperative_choose.html", cooperatives=choices)
    today = registry.today()
    contracts = list_contracts(registry, cooperative=coop)
    due = {c["code"]: contract_payments_due(registry, c["code"], today) for c in contracts}
    for c in contracts:
        upcoming = [cycle for cycle in due[c["code"]]["cycles"] if not cycle["due"]]
        c["total_due_yuan"] = due[c["code"]]["total_due_yuan"]
        c["cycles_due"] = sum(1 for cycle in due[c["code"]]["cycles"] if cycle["due"])
        c["next_cycle"] = upcoming[0] if upcoming and c["status"] == "active" else None
    codes = {c["code"] for c in contracts}
    names = {p["code"]: p["name"] for p in parties}
    sums = _owner_sums(codes, distribution_statement(registry))
    owners = [
        {
            "owner": owner,
            "name": names.get(owner, ""),
            "contracts": [c["code"] for c in contracts if c["owner"] == owner],
            "money": sums.get(owner),
        }
        for owner in sorted({c["owner"] for c in contracts})
    ]
    parcels = cooperative_parcels(registry, coop)
    tr = translator(language(request))
    return render(
        request,
        "cooperative_home.html",
        cooperative=coop,
        cooperative_name=names.get(coop, ""),
        today=today.isoformat(),
        contracts=contracts,
        owners=owners,
        parcels=parcels,
        parcels_geojson=_map(parcels, tr("亩", "mu")),
        area_mu=sum(float(p["area_mu"]) for p in parcels),
        total_due_yuan=sum((Decimal(c["total_due_yuan"]) for c in contracts), Decimal(0)),
    )


def _statement_reader(
    registry: Registry, principal: Principal, owner: str
) -> tuple[str | None, set[str] | None]:
    """Check that ``principal`` may read ``owner``'s statement (the API's rule,
    :func:`~api.routers.distribution.statement_scope`: a cooperative reads the lines of its own
    contracts, and here only of owners it has a contract with). Returns the cooperative filter
    and the contracts whose lines it may record payments on (None: every line, an admin)."""
    _, cooperative = statement_scope(principal, owner)
    own = (
        {c["code"] for c in list_contracts(registry, cooperative=principal.party, owner=owner)}
        if ROLE in principal.roles
        else set()
    )
    if cooperative is not None and not own:
        raise ForbiddenError(
            f"{principal.party} has no contract with {owner}; only the owner's cooperatives, "
            "admins, bureaus and the trading centre read its statement",
            actor=principal.party,
            owner=owner,
        )
    return cooperative, (None if "admin" in principal.roles else own)


def _statement_page(
    request: Request,
    principal: Principal,
    owner: str,
    *,
    status: int = 200,
    error: FormError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    registry = registry_of(request)
    cooperative, payable = _statement_reader(registry, principal, owner)
    found = distribution_statement(registry, owner=owner, cooperative=cooperative)
    statement = found["owners"][0] if found["owners"] else None
    names = list_parties(registry, owner)
    contracts = list_contracts(registry, owner=owner)
    if not principal.roles & WHOLE_REGISTRY:
        contracts = [c for c in contracts if c["cooperative"] == principal.party]
    tr = translator(language(request))
    done = request.query_params.get("done") == "payment" and error is None
    return render(
        request,
        "cooperative_statement.html",
        status=status,
        owner=owner,
        owner_name=names[0]["name"] if names else "",
        statement=statement,
        contracts=contracts,
        payable=payable,
        today=registry.today().isoformat(),
        error=error,
        form=form or {},
        notice=tr("付款已记录。", "The payment is recorded.") if done else None,
    )


@router.get("/cooperative/owners/{owner}")
def owner_statement(request: Request, owner: str) -> Response:
    """An owner's distribution statement: due, paid and outstanding per parcel and lot."""
    principal = require_login(request, *STATEMENT_ROLES)
    return _statement_page(request, principal, owner)


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise RegistryInputError(f"{field}: {value!r} is not a date (YYYY-MM-DD)") from None


def _line_id(value: str) -> int:
    line = parse_int(value, "line_id")
    if not 0 < line <= MAX_LINE_ID:
        raise RegistryInputError(f"line_id: {line} is not a distribution line", field="line_id")
    return line


def _amount(value: str) -> str:
    if not AMOUNT.fullmatch(value.strip()):
        raise RegistryInputError(
            f"amount_yuan: {value!r} is not an amount in yuan (e.g. 2887.02)", field="amount_yuan"
        )
    return value.strip()


@router.post("/cooperative/owners/{owner}/payments")
def post_payment(
    request: Request,
    owner: str,
    line_id: Annotated[str, Form(max_length=20)],
    amount_yuan: Annotated[str, Form(max_length=32)],
    bank_reference: Annotated[str, Form(max_length=100)],
    paid_on: Annotated[str, Form(max_length=10)],
    csrf: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    """Record a payment to the owner against one of its lines (the proponent cooperative)."""
    principal = writer(request, csrf, ROLE)
    registry = registry_of(request)
    _statement_reader(registry, principal, owner)
    _, error = attempt(
        lambda: record_payment(
            registry,
            actor=principal.party,
            line_id=_line_id(line_id),
            amount_yuan=_amount(amount_yuan),
            bank_reference=bank_reference,
            paid_on=_date(paid_on, "paid_on"),
        )
    )
    if error is not None:
        form = {
            "line_id": line_id,
            "amount_yuan": amount_yuan,
            "bank_reference": bank_reference,
            "paid_on": paid_on,
        }
        return _statement_page(
            request, principal, owner, status=error.status, error=error, form=form
        )
    return RedirectResponse(f"/cooperative/owners/{quote(owner)}?done=payment", status_code=303)
