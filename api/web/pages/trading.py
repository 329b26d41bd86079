"""Pages of the trading centre: lots by status with the reference price, settlement of a listed
lot from the centre's trade confirmation (the credits move to the buyer and the benefit
distribution is written in the same step), withdrawal of a listed lot, and a settled lot with its
distribution to the owners.

Settlement is the trading centre's alone (:func:`mrv.registry.trading.settle_lot`); withdrawal is
the seller's or the trading centre's; whole distributions name every household and are read by
the roles the API allows (:func:`api.routers.distribution.check_distribution_reader`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.routers.distribution import check_distribution_reader
from api.routers.lots import PRICE, YUAN
from api.web.forms import FormError, attempt, writer
from api.web.i18n import language, translator
from api.web.render import render
from api.web.session import registry_of, require_login
from mrv.errors import RegistryInputError
from mrv.registry.distribution import get_distribution
from mrv.registry.queries import list_parties
from mrv.registry.trading import (
    get_lot,
    list_lots,
    reference_price,
    settle_lot,
    withdraw_lot,
)

router = APIRouter(include_in_schema=False)

ROLE = "trading_centre"
STATUSES = ("listed", "settled", "withdrawn")
SHOWN_CLOSED = 100
"""Settled and withdrawn lots shown on the page (the latest; every lot is at ``/v1/lots``)."""


def _home(
    request: Request,
    *,
    status: int = 200,
    error: FormError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    registry = registry_of(request)
    tr = translator(language(request))
    lots = list_lots(registry)
    by_status: dict[str, list[dict[str, Any]]] = {s: [] for s in STATUSES}
    for lot in lots:
        by_status[lot["status"]].append(lot)
    counts = {s: len(found) for s, found in by_status.items()}
    today = registry.today()
    buyers = [p["code"] for p in list_parties(registry) if "buyer" in p["roles"]]
    notice = None
    done, code = request.query_params.get("done"), request.query_params.get("lot")
    if error is None and code is not None:
        if done == "settled" and any(x["lot"] == code for x in by_status["settled"]):
            notice = tr(
                f"批次 {code} 已成交结算，收益已分配。",
                f"Lot {code} is settled and its benefits distributed.",
            )
        elif done == "withdrawn" and any(x["lot"] == code for x in by_status["withdrawn"]):
            notice = tr(f"批次 {code} 已撤回。", f"Lot {code} is withdrawn.")
    by_status["settled"].sort(key=lambda x: (x["settled_on"] or "", x["lot"]), reverse=True)
    by_status["withdrawn"].sort(key=lambda x: x["lot"], reverse=True)
    for closed in ("settled", "withdrawn"):
        by_status[closed] = by_status[closed][:SHOWN_CLOSED]
    return render(
        request,
        "trading_home.html",
        status=status,
        lots=by_status,
        counts=counts,
        price=reference_price(registry, today),
        today=today.isoformat(),
        buyers=buyers,
        error=error,
        form=form or {},
        notice=notice,
    )


@router.get("/trading")
def trading_home(request: Request) -> Response:
    """Lots by status, the reference price, and the settlement and withdrawal forms."""
    require_login(request, ROLE)
    return _home(request)


def _money(value: str, field: str, pattern: str) -> str:
    """A decimal yuan field as the API takes it (else a 422 naming the field)."""
    text = value.strip()
    if not re.fullmatch(pattern, text):
        raise RegistryInputError(f"{field}: {value!r} is not an amount in yuan", field=field)
    return text


def _day(value: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise RegistryInputError(
            f"settled_on: {value!r} is not a date (YYYY-MM-DD)", field="settled_on"
        ) from None


@router.post("/trading/lots/{lot}/settlement")
def post_settlement(
    request: Request,
    lot: str,
    buyer: Annotated[str, Form(max_length=64)],
    price_yuan_per_t: Annotated[str, Form(max_length=32)],
    trade_ref: Annotated[str, Form(max_length=100)],
    fees_yuan: Annotated[str, Form(max_length=32)] = "0",
    settled_on: Annotated[str, Form(max_length=10)] = "",
    csrf: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    """Settle a listed lot to a buyer from the centre's trade confirmation."""
    principal = writer(request, csrf, ROLE)
    registry = registry_of(request)
    _, error = attempt(
        lambda: settle_lot(
            registry,
            actor=principal.party,
            lot=lot,
            buyer=buyer.strip(),
            price_yuan_per_t=_money(price_yuan_per_t, "price_yuan_per_t", PRICE),
            fees_yuan=_money(fees_yuan or "0", "fees_yuan", YUAN),
            trade_ref=trade_ref.strip(),
            settled_on=_day(settled_on),
        )
    )
    if error is not None:
        form = {
            "lot": lot,
            "buyer": buyer,
            "price_yuan_per_t": price_yuan_per_t,
            "fees_yuan": fees_yuan,
            "trade_ref": trade_ref,
            "settled_on": settled_on,
        }
        return _home(request, status=error.status, error=error, form=form)
    return RedirectResponse(f"/trading?done=settled&lot={quote(lot)}", status_code=303)


@router.post("/trading/lots/{lot}/withdrawal")
def post_withdrawal(
    request: Request, lot: str, csrf: Annotated[str | None, Form(max_length=100)] = None
) -> Response:
    """Withdraw a listed lot; its credits are held by the seller again."""
    principal = writer(request, csrf, ROLE)
    registry = registry_of(request)
    _, error = attempt(lambda: withdraw_lot(registry, actor=principal.party, lot=lot))
    if error is not None:
        return _home(request, status=error.status, error=error, form={"lot": lot})
    return RedirectResponse(f"/trading?done=withdrawn&lot={quote(lot)}", status_code=303)


@router.get("/trading/lots/{lot}")
def lot_page(request: Request, lot: str) -> Response:
    """One lot; once settled, its benefit distribution per owner and parcel."""
    principal = require_login(request, ROLE)
    registry = registry_of(request)
    found = get_lot(registry, lot)
    distribution = None
    if found["status"] == "settled":
        check_distribution_reader(registry, principal, lot)  # the API's rule
        distribution = get_distribution(registry, lot)
    return render(request, "trading_lot.html", lot=found, distribution=distribution)
