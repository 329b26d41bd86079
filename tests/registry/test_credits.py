"""Credit operations at the service layer: every refusal named in the issue leaves every table
and the journal untouched; reference price, reversals and settlement rules by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from mrv.errors import (
    CreditsListedError,
    DoubleIssuanceError,
    ForbiddenError,
    InsufficientCreditsError,
    InvalidStateError,
    MissingFieldError,
    NotHolderError,
    RegistryError,
    RegistryInputError,
)
from mrv.registry.audit import audit
from mrv.registry.core import Registry
from mrv.registry.credits import cancel, report_reversal, transfer
from mrv.registry.issuance import buffer_percent, buffer_tonnes, issue
from mrv.registry.models import Base
from mrv.registry.queries import batch_summary, find_serial, holdings
from mrv.registry.retirement import retire
from mrv.registry.trading import list_lot, reference_price, settle_lot, withdraw_lot
from tests.registry.builders import issued_batch


def snapshot(registry: Registry) -> dict[str, int]:
    """Row count of every table (the journal included)."""
    with registry.read() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in Base.metadata.sorted_tables
        }


@pytest.fixture
def world(registry: Registry) -> dict[str, Any]:
    built = issued_batch(registry, verified=1_000, risk_score=15)
    coop, buyer, batch = built["cooperative"], built["buyer"], built["batch"]
    transfer(registry, actor=coop, from_account=coop, to_account=buyer, batch=batch, quantity=100)
    lot = list_lot(registry, actor=buyer, account=buyer, batch=batch, quantity=60,
                   ask_yuan_per_t="70.00").result["lot"]  # fmt: skip
    return {**built, "lot": lot}


def _refusals(w: dict[str, Any]) -> list[tuple[str, type[RegistryError], str, Callable[..., Any]]]:
    coop, buyer, batch = w["cooperative"], w["buyer"], w["batch"]
    judicial = {"case_number": "(2025)浙0591刑初9号", "court": "南太湖新区人民法院",
                "payer": "被告人", "restoration_site": "下渚湖"}  # fmt: skip

    def retire_(**kw: Any) -> Callable[[Registry], Any]:
        args = {"actor": buyer, "account": buyer, "batch": batch, "quantity": 10,
                "purpose": "voluntary", "beneficiary": "Deqing"} | kw  # fmt: skip
        return lambda r: retire(r, **args)

    def transfer_(**kw: Any) -> Callable[[Registry], Any]:
        args = {"actor": buyer, "from_account": buyer, "to_account": coop, "batch": batch,
                "quantity": 10} | kw  # fmt: skip
        return lambda r: transfer(r, **args)

    return [
        # buyer holds 40 t free and 60 t listed
        ("over-retiring", InsufficientCreditsError, "holds 40 t", retire_(quantity=101)),
        ("retiring listed credits", CreditsListedError, "60 t more are listed",
         retire_(quantity=50)),
        ("transferring listed credits", CreditsListedError, "locked until the lot",
         transfer_(quantity=41)),
        ("double issuance", DoubleIssuanceError, "already issued as",
         lambda r: issue(r, actor="root", project=w["project"], report_seq=1)),
        ("transfer by a non-holder", NotHolderError, "is not the holder",
         transfer_(actor=coop)),
        ("zero quantity", RegistryInputError, "must be positive", transfer_(quantity=0)),
        ("negative quantity", RegistryInputError, "must be positive", transfer_(quantity=-5)),
        ("fractional quantity", RegistryInputError, "whole number", transfer_(quantity=2.5)),
        ("boolean quantity", RegistryInputError, "whole number", transfer_(quantity=True)),
        ("string quantity", RegistryInputError, "whole number", transfer_(quantity="5")),
        ("unknown purpose", RegistryInputError, "unknown retirement purpose",
         retire_(purpose="greenwashing")),
        ("judicial restoration without a case number", MissingFieldError, "case number",
         retire_(purpose="judicial_restoration", **{**judicial, "case_number": " "})),
        ("judicial restoration without a court", MissingFieldError, "court",
         retire_(purpose="judicial_restoration", **{**judicial, "court": None})),
        ("retirement without a beneficiary", MissingFieldError, "beneficiary",
         retire_(beneficiary="")),
        ("settlement by someone other than the trading centre", ForbiddenError, "trading_centre",
         lambda r: settle_lot(r, actor=coop, lot=w["lot"], buyer=coop, price_yuan_per_t="70",
                              trade_ref="T1")),
        ("settlement price with 3 decimals", RegistryInputError, "at most 2 decimals",
         lambda r: settle_lot(r, actor=w["trading_centre"], lot=w["lot"], buyer=coop,
                              price_yuan_per_t="70.005", trade_ref="T1")),
        ("withdrawal by a stranger", ForbiddenError, "trading_centre",
         lambda r: withdraw_lot(r, actor=coop, lot=w["lot"])),
        ("cancel by a non-holder", ForbiddenError, "admin",
         lambda r: cancel(r, actor=coop, account=buyer, batch=batch, quantity=1,
                          reason_code="fraud", reason="x")),
        ("unknown cancellation reason", RegistryInputError, "unknown cancellation reason",
         lambda r: cancel(r, actor=buyer, account=buyer, batch=batch, quantity=1,
                          reason_code="whim", reason="x")),
        ("transfer into the buffer pool", RegistryInputError, "buffer pool",
         transfer_(to_account="BUFFER")),
    ]  # fmt: skip


def test_every_refusal_writes_nothing(registry: Registry, world: dict[str, Any]) -> None:
    before = snapshot(registry)
    for name, error, message, call in _refusals(world):
        with pytest.raises(error, match=message):
            call(registry)
        assert snapshot(registry) == before, name
    assert audit(registry)["ok"]


def test_buffer_share_from_the_risk_score() -> None:
    # NPRT style: max(10 %, score), refused above 60; ceil(verified × %)
    assert [buffer_percent(s, 10, 60) for s in (0, 10, 15, 60)] == [10, 10, 15, 60]
    with pytest.raises(InvalidStateError, match="exceeds the fail threshold 60"):
        buffer_percent(61, 10, 60)
    assert [buffer_tonnes(v, 15) for v in (1_000, 1_001, 7, 1)] == [150, 151, 2, 1]


def test_issuance_transfer_split_and_lineage(registry: Registry, world: dict[str, Any]) -> None:
    batch = world["batch"]
    # risk 15 → buffer ceil(1000 × 15 %) = 150 (serials 851–1000), 850 held by the coop
    assert world["issuance"]["blocks"] == {
        "held": [{"serial_start": 1, "serial_end": 850, "quantity": 850,
                  "serial": f"{batch}-000000001-000000850"}],
        "buffer": [{"serial_start": 851, "serial_end": 1000, "quantity": 150,
                    "serial": f"{batch}-000000851-000001000"}],
    }  # fmt: skip
    summary = batch_summary(registry, batch)
    assert (summary["held"], summary["listed"], summary["buffer"]) == (790, 60, 150)
    # the buyer got serials 1–100 and listed 1–60; serial 75 is held by the buyer
    found = find_serial(registry, batch, 75)
    assert (found["block"], found["status"], found["account"]) == (
        f"{batch}-000000061-000000100", "held", "buyer-1")  # fmt: skip
    assert [b["serial"] for b in found["lineage"]] == [
        f"{batch}-000000001-000000100",  # the buyer's block before listing
        f"{batch}-000000001-000000850",  # the issuance
    ]


def test_reference_price_is_volume_weighted_over_30_trading_days(
    registry: Registry, world: dict[str, Any]
) -> None:
    coop, centre, batch = world["cooperative"], world["trading_centre"], world["batch"]
    settle_lot(registry, actor=centre, lot=world["lot"], buyer=coop, price_yuan_per_t="70.00",
               trade_ref="T-1", settled_on=dt.date(2026, 2, 27))  # fmt: skip
    for q, price, day in (
        (100, "50.00", dt.date(2026, 1, 12)),
        (300, "60.00", dt.date(2026, 1, 9)),
    ):
        lot = list_lot(registry, actor=coop, account=coop, batch=batch, quantity=q,
                       ask_yuan_per_t=price).result["lot"]  # fmt: skip
        settle_lot(registry, actor=centre, lot=lot, buyer="buyer-1", price_yuan_per_t=price,
                   trade_ref=f"T-{q}", settled_on=day)  # fmt: skip
    # 30 China working days ending Fri 2026-02-27, Spring Festival 15–23 Feb off, Sat 14 Feb a
    # make-up working day: 24–27 Feb (4), 14 Feb (1), 9–13 Feb (5), four weeks 12 Jan – 6 Feb
    # (20) → the window starts Mon 2026-01-12 (counted by hand); the 9 Jan lot is outside
    ref = reference_price(registry, dt.date(2026, 2, 27))
    assert (ref["from"], ref["to"], ref["lots"], ref["quantity_tco2e"]) == (
        "2026-01-12", "2026-02-27", 2, 160)  # fmt: skip
    assert ref["reference_price_yuan_per_t"] == "57.50"  # (60 × 70 + 100 × 50) / 160
    assert reference_price(registry, dt.date(2026, 1, 8))["reference_price_yuan_per_t"] is None


def test_reversal_cancels_own_buffer_first_then_the_pool(registry: Registry) -> None:
    first = issued_batch(registry, verified=1_000, risk_score=10, project="AJ001")  # buffer 100
    issued_batch(registry, verified=500, risk_score=20, project="AJ002")  # buffer 100
    result = report_reversal(registry, actor="root", project="AJ001", loss_tco2e=150,
                             kind="reported", description="snow damage").result  # fmt: skip
    assert [(c["batch"], c["quantity_tco2e"]) for c in result["cancelled"]] == [
        (first["batch"], 100),
        ("HZ-BAM-AJ002-2024-001", 50),
    ]
    assert (result["compensated_tco2e"], result["uncompensated_tco2e"]) == (150, 0)
    rest = report_reversal(registry, actor="root", project="AJ002", loss_tco2e=80,
                           kind="detected", description="fire").result  # fmt: skip
    assert (rest["compensated_tco2e"], rest["uncompensated_tco2e"]) == (50, 30)
    assert holdings(registry, "BUFFER")["total"] == {
        "held": 0, "listed": 0, "retired": 0, "cancelled": 200, "buffer": 0}  # fmt: skip
    assert audit(registry)["ok"]
