"""Benefit distribution of settled lots (Anji 80 % rule), payments and owner statements.

Amounts below are worked out by hand in fen (1 yuan = 100 fen).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mrv.errors import (
    ConflictError,
    ForbiddenError,
    RecordNotFoundError,
    RegistryError,
    RegistryInputError,
)
from mrv.registry.audit import audit
from mrv.registry.core import Registry
from mrv.registry.distribution import (
    Share,
    allocate,
    distribution_statement,
    get_distribution,
    record_payment,
)
from mrv.registry.models import Distribution, DistributionLine, JournalEvent, Payment
from tests.registry.builders import issued_batch, settled_lot

TODAY = dt.date(2026, 3, 2)  # the clock fixture's China date


def _count(registry: Registry, model: type) -> int:
    with registry.read() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def anji(registry: Registry) -> tuple[dict[str, Any], dict[str, Any]]:
    """Anji's first out-of-county sale: 1,000 t at ¥73.41/t, fees ¥1,234.50.

    Removals 600/360/240 t (shares 1/2, 3/10, 1/5 — the 500/300/200 split scaled to a
    1,200 t report, since with the 10 % buffer only 1,080 t of it can be sold).
    """
    built = issued_batch(registry, verified=1200, removals={"P1": 600, "P2": 360, "P3": 240})
    assert built["held_tco2e"] == 1080 and built["buffer_tco2e"] == 120
    settled = settled_lot(
        registry, built, quantity=1000, price_yuan_per_t="73.41", fees_yuan="1234.50"
    )
    return built, settled.result


def test_worked_example_by_removals(registry: Registry, anji: Any) -> None:
    _, settled = anji
    dist = settled["distribution"]
    # gross = 7,341 fen/t × 1,000 t = 7,341,000; net = 7,341,000 − 123,450 = 7,217,550
    # P1: 7,217,550 × 1/2 × 0.8 = 2,887,020   P2: × 3/10 × 0.8 = 1,732,212
    # P3: 7,217,550 × 1/5 × 0.7 = 1,010,457   owners 5,629,689, cooperative 1,587,861
    assert dist["gross_yuan"] == "73410.00"
    assert dist["fees_yuan"] == "1234.50"
    assert dist["net_yuan"] == "72175.50"
    assert dist["owners_total_yuan"] == "56296.89"
    assert dist["cooperative_retained_yuan"] == "15878.61"
    assert dist["basis"] == "parcel_removals"
    assert [
        (x["owner"], x["parcel"], x["contract"], x["parcel_share"], x["owner_share"])
        for x in dist["lines"]
    ] == [
        ("owner-P1", "AJ001-P1", "C-AJ001-P1", 0.5, "0.8000"),
        ("owner-P2", "AJ001-P2", "C-AJ001-P2", 0.3, "0.8000"),
        ("owner-P3", "AJ001-P3", "C-AJ001-P3", 0.2, "0.7000"),
    ]
    assert [x["amount_yuan"] for x in dist["lines"]] == ["28870.20", "17322.12", "10104.57"]
    with registry.read() as conn:
        row = conn.execute(select(Distribution)).one()
        total = conn.execute(select(func.sum(DistributionLine.amount_fen))).scalar_one()
    assert (row.gross_fen, row.fees_fen, row.net_fen) == (7_341_000, 123_450, 7_217_550)
    assert total == 5_629_689 == 2_887_020 + 1_732_212 + 1_010_457
    assert row.net_fen - total == 1_587_861
    assert get_distribution(registry, settled["lot"]) == dist
    assert audit(registry)["ok"]


def test_payments_overpayment_and_statement(registry: Registry, anji: Any) -> None:
    built, settled = anji
    p1, p2, p3 = (x["line_id"] for x in settled["distribution"]["lines"])
    coop = built["cooperative"]
    first = record_payment(
        registry,
        actor=coop,
        line_id=p1,
        amount_yuan="20000.00",
        bank_reference="ABC-0001",
        paid_on=TODAY,
    )
    assert first.stream == "project:AJ001"
    assert first.result["outstanding_yuan"] == "8870.20"
    second = record_payment(
        registry,
        actor=coop,
        line_id=p1,
        amount_yuan="8870.20",
        bank_reference="ABC-0002",
        paid_on=TODAY,
        idempotency_key="pay-p1-2",
    )
    assert (second.result["paid_yuan"], second.result["outstanding_yuan"]) == (
        "28870.20",
        "0.00",
    )
    again = record_payment(
        registry,
        actor=coop,
        line_id=p1,
        amount_yuan="8870.20",
        bank_reference="ABC-0002",
        paid_on=TODAY,
        idempotency_key="pay-p1-2",
    )
    assert again.replayed and again.event_id == second.event_id
    record_payment(
        registry,
        actor=coop,
        line_id=p2,
        amount_yuan="5000",
        bank_reference="ABC-0003",
        paid_on=TODAY - dt.timedelta(days=3),
    )
    admin_paid = record_payment(
        registry,
        actor=built["admin"],
        line_id=p3,
        amount_yuan="10104.57",
        bank_reference="ABC-0004",
        paid_on=TODAY,
    )
    assert admin_paid.result["outstanding_yuan"] == "0.00"

    events, payments = _count(registry, JournalEvent), _count(registry, Payment)
    with pytest.raises(ConflictError, match=r"due 28870\.20, paid 28870\.20, remaining 0\.00"):
        record_payment(
            registry, actor=coop, line_id=p1, amount_yuan="0.01", bank_reference="X", paid_on=TODAY
        )
    with pytest.raises(ConflictError, match=r"paid 5000\.00, remaining 12322\.12") as info:
        record_payment(
            registry,
            actor=coop,
            line_id=p2,
            amount_yuan="12322.13",
            bank_reference="X",
            paid_on=TODAY,
        )
    assert info.value.detail["remaining_yuan"] == "12322.12"
    with pytest.raises(ForbiddenError, match="only its proponent anji-coop"):
        record_payment(
            registry,
            actor=built["buyer"],
            line_id=p2,
            amount_yuan="1",
            bank_reference="X",
            paid_on=TODAY,
        )
    bad: list[tuple[dict[str, Any], type[RegistryError], str | None]] = [
        ({"amount_yuan": "0"}, RegistryInputError, "amount_yuan"),
        ({"amount_yuan": "-5"}, RegistryInputError, "amount_yuan"),
        ({"amount_yuan": "1.234"}, RegistryInputError, "amount_yuan"),
        ({"amount_yuan": 1.5}, RegistryInputError, "amount_yuan"),  # floats refused
        ({"bank_reference": "  "}, RegistryInputError, "bank_reference"),
        ({"paid_on": TODAY + dt.timedelta(days=1)}, RegistryInputError, "paid_on"),
        ({"paid_on": dt.datetime(2026, 3, 1, 8)}, RegistryInputError, "paid_on"),
        ({"line_id": True}, RegistryInputError, "line_id"),
        ({"line_id": 999}, RecordNotFoundError, "line_id"),
    ]
    for change, error, field in bad:
        kwargs: dict[str, Any] = {
            "actor": coop,
            "line_id": p2,
            "amount_yuan": "1.00",
            "bank_reference": "REF",
            "paid_on": TODAY,
            **change,
        }
        with pytest.raises(error) as caught:
            record_payment(registry, **kwargs)
        assert caught.value.detail.get("field") == field, change
    assert (_count(registry, JournalEvent), _count(registry, Payment)) == (events, payments)

    lot = settled["lot"]
    statement = distribution_statement(registry, lot=lot)
    # due 56,296.89; paid 28,870.20 + 5,000.00 + 10,104.57 = 43,974.77; outstanding 12,322.12
    assert statement["totals"] == {
        "due_yuan": "56296.89",
        "paid_yuan": "43974.77",
        "outstanding_yuan": "12322.12",
    }
    assert [(o["owner"], o["due_yuan"], o["paid_yuan"], o["outstanding_yuan"]) for o in
            statement["owners"]] == [
        ("owner-P1", "28870.20", "28870.20", "0.00"),
        ("owner-P2", "17322.12", "5000.00", "12322.12"),
        ("owner-P3", "10104.57", "10104.57", "0.00"),
    ]  # fmt: skip
    mine = distribution_statement(registry, owner="owner-P2")
    assert len(mine["owners"]) == 1
    (parcel,) = mine["owners"][0]["parcels"]
    assert parcel["parcel"] == "AJ001-P2" and parcel["outstanding_yuan"] == "12322.12"
    assert [(x["line_id"], x["lot"], x["contract"]) for x in parcel["lines"]] == [
        (p2, lot, "C-AJ001-P2")
    ]
    with pytest.raises(RecordNotFoundError):
        distribution_statement(registry, lot="LOT-NOPE")
    with pytest.raises(RecordNotFoundError):
        distribution_statement(registry, owner="nobody")
    assert audit(registry)["ok"]


def test_area_basis_rounding_ties_and_two_lots(registry: Registry) -> None:
    built = issued_batch(
        registry,
        verified=200,
        project="AJ002",
        parcels=(("A", 2.0, 8000), ("B", 3.0, 8000), ("C", 2.0, 8000)),
    )
    first = settled_lot(registry, built, quantity=100, price_yuan_per_t="50.00", fees_yuan="0.01")
    dist = first.result["distribution"]
    # net = 500,000 − 1 = 499,999 fen; areas 2:3:2 ha → shares 2/7, 3/7, 2/7, all at 80 %
    # A, C: 499,999 × 2/7 × 0.8 = 114,285.4857…  B: 499,999 × 3/7 × 0.8 = 171,428.2286…
    # floors 114,285 + 171,428 + 114,285 = 399,998; exact total 399,999.2 → 399,999: one fen
    # to the largest remainder, a tie between A and C (0.4857…) won by the code A
    assert dist["basis"] == "parcel_area"
    assert [x["amount_yuan"] for x in dist["lines"]] == ["1142.86", "1714.28", "1142.85"]
    assert [x["parcel_share"] for x in dist["lines"]] == [2 / 7, 3 / 7, 2 / 7]
    assert dist["owners_total_yuan"] == "3999.99"
    assert dist["cooperative_retained_yuan"] == "1000.00"
    second = settled_lot(
        registry, built, quantity=50, price_yuan_per_t="60.00", trade_ref="HZGTC-2026-0002"
    )
    # net 300,000: A, C 68,571.428…, B 102,857.142…; floors sum 239,999 → 240,000: +1 to A
    assert [x["amount_yuan"] for x in second.result["distribution"]["lines"]] == [
        "685.72",
        "1028.57",
        "685.71",
    ]
    statement = distribution_statement(registry, owner="owner-A")
    (parcel,) = statement["owners"][0]["parcels"]
    assert parcel["due_yuan"] == "1828.58"  # 1,142.86 + 685.72
    assert [x["lot"] for x in parcel["lines"]] == [first.result["lot"], second.result["lot"]]
    assert distribution_statement(registry)["totals"]["due_yuan"] == "6399.99"  # 3999.99 + 2400
    assert audit(registry)["ok"]


def test_allocate_by_hand() -> None:
    shares = [Share("B", Fraction(1, 3), 8000), Share("A", Fraction(1, 3), 8000)]
    # 1,000 × 1/3 × 0.8 = 266.67 each; total 533.33 → 533: the tie goes to code A
    assert allocate(1000, shares) == [266, 267]
    assert allocate(0, shares) == [0, 0]
    assert allocate(1000, []) == []
    # a parcel share of zero never receives a rounding fen
    assert allocate(7, [Share("A", Fraction(0), 10000), Share("B", Fraction(1), 5000)]) == [0, 3]


@settings(max_examples=200, deadline=None)
@given(
    net=st.integers(min_value=0, max_value=10**11),
    parts=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10**6), st.integers(0, 10000)),
        min_size=1,
        max_size=30,
    ),
)
def test_allocate_properties(net: int, parts: list[tuple[int, int]]) -> None:
    weight = sum(w for w, _ in parts) or 1
    shares = [Share(f"P{i:03d}", Fraction(w, weight), bp) for i, (w, bp) in enumerate(parts)]
    exact = [net * s.parcel_share * s.owner_share_bp / 10000 for s in shares]
    got = allocate(net, shares)
    assert sum(got) == int(sum(exact, Fraction(0))) <= net
    assert all(e - 1 < g < e + 1 and g >= 0 for g, e in zip(got, exact, strict=True))
