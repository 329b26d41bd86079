"""Collection contracts (收储): validation, one active contract per parcel, payments due."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from mrv.errors import (
    DuplicateError,
    ForbiddenError,
    InvalidStateError,
    PeriodOverlapError,
    RecordNotFoundError,
    RegistryInputError,
)
from mrv.registry.contracts import (
    contract_payments_due,
    create_contract,
    cycle_payment_yuan,
    get_contract,
    list_contracts,
    terminate_contract,
)
from mrv.registry.core import Registry
from mrv.registry.models import CollectionContract
from mrv.registry.parcels import import_parcels
from tests.registry.test_parcels import (
    count,
    feature,
    import_squares,
    setup_parties,
    square,
    write_geojson,
)

D = dt.date


def world(registry: Registry, tmp_path: Path) -> None:
    """Parties; parcels A, B (hh1, 9 ha = 135 mu each), C (vil); a CCER claim X."""
    setup_parties(registry)
    import_squares(
        registry, tmp_path, [("A", "hh1", 0, 0), ("B", "hh1", 300, 0), ("C", "vil", 0, 1000)]
    )
    claim = write_geojson(tmp_path / "x.geojson", [feature("X", square(0, 3000), ref="CCER-1")])
    import_parcels(
        registry, actor="bureau", path=claim, external_scheme="ccer", external_ref_field="ref"
    )


def anji(registry: Registry, **overrides: object) -> dict[str, object]:
    args: dict[str, object] = {
        "actor": "coop",
        "code": "C-A",
        "cooperative": "coop",
        "owner": "hh1",
        "parcels": ["A"],
        "start": D(2026, 1, 1),
        "end": D(2056, 1, 1),
        "annual_payment_yuan_per_mu": "16.926",
        "settlement_cycle_years": 3,
        "owner_share": "0.8",
    }
    args.update(overrides)
    return create_contract(registry, **args).result  # type: ignore[arg-type]


def test_create_contract_and_read_it_back(registry: Registry, tmp_path: Path) -> None:
    world(registry, tmp_path)
    result = anji(registry, parcels=["B", "A"])
    assert result == get_contract(registry, "C-A")
    assert result["cooperative"] == "coop" and result["owner"] == "hh1"
    assert result["parcels"] == ["A", "B"]
    assert (result["start"], result["end"]) == ("2026-01-01", "2056-01-01")
    assert result["annual_payment_yuan_per_mu"] == "16.926"
    assert (result["owner_share"], result["owner_share_bp"]) == ("0.8", 8000)
    assert result["status"] == "active" and result["settlement_cycle_years"] == 3
    assert result["area_mu"] == pytest.approx(270.0)
    assert [c["code"] for c in list_contracts(registry, cooperative="coop")] == ["C-A"]
    assert list_contracts(registry, owner="vil") == []


def test_anji_cross_check_and_payments_due(registry: Registry, tmp_path: Path) -> None:
    # registries.md §2.5, 大里村: 5,425 mu × ¥16.926/mu/yr × 3 yr; reported as ≈ ¥275,500
    payment = cycle_payment_yuan("5425", "16.926", 3)
    assert payment == Decimal("275470.65")
    assert abs(payment - Decimal("275500")) / Decimal("275500") < Decimal("0.0002")

    world(registry, tmp_path)
    anji(registry)  # parcel A: 135 mu at ¥16.926
    due = contract_payments_due(registry, "C-A", D(2029, 1, 1))
    assert due["area_mu"] == pytest.approx(135.0)
    assert due["annual_payment_yuan_per_mu"] == "16.926"
    assert len(due["cycles"]) == 10  # 30 years / 3
    first, second, third = due["cycles"][:3]
    # 135 mu × 16.926 × 3 = 6,855.03 per cycle, paid upfront
    assert first == {
        "cycle": 1,
        "start": "2026-01-01",
        "end": "2029-01-01",
        "due_on": "2026-01-01",
        "amount_yuan": "6855.03",
        "due": True,
    }
    assert second["due_on"] == "2029-01-01" and second["due"] is True
    assert third["due"] is False
    assert due["total_due_yuan"] == "13710.06"
    assert due["cycles"][-1]["end"] == "2056-01-01"

    # a 5-year term: the second cycle is 2 of 3 years: 135 × 16.926 × 2
    anji(registry, code="C-C", owner="vil", parcels=["C"], end=D(2031, 1, 1))
    short = contract_payments_due(registry, "C-C", D(2030, 6, 1))
    assert [c["amount_yuan"] for c in short["cycles"]] == ["6855.03", "4570.02"]
    assert short["total_due_yuan"] == "11425.05"


REFUSALS: list[tuple[dict[str, object], type[Exception], str]] = [
    ({"annual_payment_yuan_per_mu": "16.9265"}, RegistryInputError, "whole number of li"),
    ({"annual_payment_yuan_per_mu": "-1"}, RegistryInputError, "negative"),
    ({"annual_payment_yuan_per_mu": 16.93}, RegistryInputError, "decimal string"),
    ({"annual_payment_yuan_per_mu": "abc"}, RegistryInputError, "not a number"),
    ({"owner_share": "0.12345"}, RegistryInputError, "steps of 0.0001"),
    ({"owner_share": "1.2"}, RegistryInputError, "from 0 to 1"),
    ({"settlement_cycle_years": 0}, RegistryInputError, "≥ 1"),
    ({"settlement_cycle_years": True}, RegistryInputError, "≥ 1"),
    ({"settlement_cycle_years": 31}, RegistryInputError, "longer than the term"),
    ({"end": D(2026, 1, 1)}, RegistryInputError, "before it starts"),
    ({"parcels": []}, RegistryInputError, "at least one parcel"),
    ({"parcels": ["A", "A"]}, RegistryInputError, "listed twice"),
    ({"parcels": ["A", "C"]}, RegistryInputError, r"C \(owner vil\) is not owned by hh1"),
    ({"parcels": ["X"], "owner": "hh1"}, RegistryInputError, "external claim"),
    ({"parcels": ["NOPE"]}, RecordNotFoundError, "no parcel NOPE"),
    ({"owner": "ver"}, RegistryInputError, "owner 'ver' must have the role"),
    ({"cooperative": "bureau", "actor": "root"}, RegistryInputError, "cooperative 'bureau'"),
    ({"actor": "coop2"}, ForbiddenError, "may not act for cooperative 'coop'"),
    ({"actor": "hh1"}, ForbiddenError, "needs the role cooperative"),
    ({"code": "bad code"}, RegistryInputError, "letters, digits"),
]


def test_refusals_write_nothing(registry: Registry, tmp_path: Path) -> None:
    world(registry, tmp_path)
    events = count(registry)
    for overrides, error, match in REFUSALS:
        with pytest.raises(error, match=match):
            anji(registry, **overrides)
        assert count(registry) == events and count(registry, CollectionContract) == 0


def test_one_active_contract_per_parcel_and_term(registry: Registry, tmp_path: Path) -> None:
    world(registry, tmp_path)
    anji(registry, end=D(2036, 1, 1))
    events = count(registry)
    with pytest.raises(DuplicateError, match="contract 'C-A' already exists"):
        anji(registry, parcels=["B"])
    with pytest.raises(PeriodOverlapError, match="parcel A is already in active contract C-A"):
        anji(registry, code="C-A2", start=D(2035, 12, 31), end=D(2040, 1, 1), actor="root")
    assert count(registry) == events
    # terms are [start, end): a contract starting on the day C-A ends does not overlap
    anji(registry, code="C-A2", start=D(2036, 1, 1), end=D(2046, 1, 1))
    # another cooperative may collect the parcel once C-A is terminated
    with pytest.raises(PeriodOverlapError):
        anji(registry, code="C-A3", actor="coop2", cooperative="coop2", end=D(2030, 1, 1))
    terminated = terminate_contract(registry, actor="coop", code="C-A", reason="owner exit")
    assert terminated.result["status"] == "terminated"
    assert terminated.result["end"] == "2026-03-02"  # the clock's China date
    anji(registry, code="C-A3", actor="coop2", cooperative="coop2", end=D(2030, 1, 1))
    assert [c["code"] for c in list_contracts(registry, status="active")] == ["C-A2", "C-A3"]


def test_terminate_refusals(registry: Registry, tmp_path: Path) -> None:
    world(registry, tmp_path)
    anji(registry)
    events = count(registry)
    with pytest.raises(ForbiddenError):
        terminate_contract(registry, actor="coop2", code="C-A", reason="not mine")
    with pytest.raises(RegistryInputError, match="before today"):
        terminate_contract(registry, actor="coop", code="C-A", reason="late", on=D(2026, 3, 1))
    with pytest.raises(RegistryInputError, match="needs a reason"):
        terminate_contract(registry, actor="coop", code="C-A", reason=" ")
    with pytest.raises(RecordNotFoundError, match="no contract 'C-Z'"):
        terminate_contract(registry, actor="coop", code="C-Z", reason="x")
    assert count(registry) == events
    terminate_contract(registry, actor="coop", code="C-A", reason="exit", on=D(2027, 1, 1))
    assert get_contract(registry, "C-A")["end"] == "2027-01-01"
    events = count(registry)
    with pytest.raises(InvalidStateError, match="C-A is terminated; terminating needs it"):
        terminate_contract(registry, actor="coop", code="C-A", reason="again")
    assert count(registry) == events
    # payments stop with the term: one cycle of 1 year remains (135 × 16.926 × 1)
    due = contract_payments_due(registry, "C-A", D(2030, 1, 1))
    assert [c["amount_yuan"] for c in due["cycles"]] == ["2285.01"]
