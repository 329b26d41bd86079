"""Verification: independent verifier (CCER Art. 18), findings CAR/CL/FAR, the statement."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from mrv.errors import (
    ForbiddenError,
    InvalidStateError,
    RecordNotFoundError,
    RegistryError,
    RegistryInputError,
    VerifierConflictError,
)
from mrv.registry.core import Registry
from mrv.registry.journal import timestamp
from mrv.registry.models import JournalEvent
from mrv.registry.monitoring import get_report, submit_report
from mrv.registry.parties import add_role
from mrv.registry.verification import (
    assign_verifier,
    close_finding,
    get_verification,
    issue_statement,
    open_finding,
    respond_to_finding,
)
from tests.registry.test_monitoring import report_args, setup_world, snapshot

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def at(clock: Any, minute: int) -> str:
    """Set the clock to T0 + ``minute`` min; the next operation happens 1 µs later."""
    clock.set(T0 + dt.timedelta(minutes=minute))
    return timestamp(clock.now + dt.timedelta(microseconds=1))


@pytest.fixture
def world(registry: Registry) -> Registry:
    setup_world(registry)  # test setup only: see tests/registry/test_monitoring.py
    return registry


def _refused(
    registry: Registry, error: type[RegistryError], match: str, call: Any, **kwargs: Any
) -> RegistryError:
    """``call(registry, **kwargs)`` raises exactly ``error`` and changes nothing."""
    before = snapshot(registry)
    with pytest.raises(error, match=match) as excinfo:
        call(registry, **kwargs)
    assert excinfo.type is error, kwargs
    assert snapshot(registry) == before, kwargs
    return excinfo.value


def test_full_verification_happy_path(world: Registry, clock: Any) -> None:
    t_submit = at(clock, 0)
    submit_report(world, **report_args())  # claims 1200 t for 2024
    t_assign = at(clock, 10)
    assigned = assign_verifier(world, actor="bureau", project="PRJ", report_seq=1, verifier="ver")
    assert assigned.result == {
        "project": "PRJ",
        "report_seq": 1,
        "report_status": "under_verification",
        "claimed_tco2e": 1200,
        "verifier": "ver",
        "status": "assigned",
        "verified_tco2e": None,
        "statement": None,
        "statement_at": None,
        "assigned_at": t_assign,
        "findings": [],
    }
    assert get_report(world, "PRJ", 1)["status"] == "under_verification"

    t_car = at(clock, 20)
    car = open_finding(
        world, actor="ver", project="PRJ", report_seq=1, kind="CAR", text="P2 plot 7 missing"
    )
    cl = open_finding(world, actor="ver", project="PRJ", report_seq=1, kind="CL", text="DBH?")
    far = open_finding(
        world, actor="ver", project="PRJ", report_seq=1, kind="FAR", text="Add plots in 2025"
    )
    far2 = open_finding(world, actor="ver", project="PRJ", report_seq=1, kind="FAR", text="Map")
    car_id, cl_id, far_id, far2_id = (r.result["id"] for r in (car, cl, far, far2))
    assert car.result == {
        "project": "PRJ",
        "report_seq": 1,
        "id": car_id,
        "kind": "CAR",
        "text": "P2 plot 7 missing",
        "status": "open",
        "response": None,
        "opened_at": t_car,
        "closed_at": None,
    }
    assert len({car_id, cl_id, far_id, far2_id}) == 4

    # the statement waits for the CAR and the CL, and names both
    err = _refused(
        world,
        InvalidStateError,
        rf"findings not closed: CAR {car_id} \(open\), CL {cl_id} \(open\)",
        issue_statement,
        actor="ver",
        project="PRJ",
        report_seq=1,
        opinion="positive",
        verified_tco2e=1150,
        statement="ok",
    )
    assert err.detail["findings"] == [car_id, cl_id]

    resp = respond_to_finding(world, actor="coop", finding_id=car_id, response="Plot 7 added")
    assert (resp.result["status"], resp.result["response"], resp.result["report"]) == (
        "responded",
        "Plot 7 added",
        "PRJ/1",
    )
    respond_to_finding(world, actor="coop", finding_id=cl_id, response="DBH at 1.3 m")
    t_close = at(clock, 30)
    closed = close_finding(world, actor="ver", finding_id=cl_id)
    assert (closed.result["status"], closed.result["closed_at"]) == ("closed", t_close)
    close_finding(world, actor="ver", finding_id=far2_id)  # a FAR closes straight from open
    # the CL is closed, the CAR still only responded
    _refused(
        world,
        InvalidStateError,
        rf"findings not closed: CAR {car_id} \(responded\); close every",
        issue_statement,
        actor="ver",
        project="PRJ",
        report_seq=1,
        opinion="positive",
        verified_tco2e=1150,
        statement="ok",
    )
    close_finding(world, actor="ver", finding_id=car_id)

    # more than claimed is refused, naming both numbers
    _refused(
        world,
        RegistryInputError,
        "verified_tco2e 1300 exceeds claimed_tco2e 1200 of report PRJ/1",
        issue_statement,
        actor="ver",
        project="PRJ",
        report_seq=1,
        opinion="positive",
        verified_tco2e=1300,
        statement="ok",
    )
    t_statement = at(clock, 40)
    receipt = issue_statement(
        world,
        actor="ver",
        project="PRJ",
        report_seq=1,
        opinion="positive",
        verified_tco2e=1150,
        statement="Reasonable assurance; 50 t deducted for plot 7 uncertainty",
    )
    result = receipt.result
    assert (result["status"], result["verified_tco2e"], result["report_status"]) == (
        "positive",
        1150,
        "verified",
    )
    assert result["statement_at"] == t_statement
    # the open FAR carries to the next period and is listed
    assert [(f["id"], f["kind"], f["status"]) for f in result["carried_forward"]] == [
        (far_id, "FAR", "open")
    ]
    assert receipt.stream == "project:PRJ"

    view = get_verification(world, "PRJ", 1)
    assert {k: v for k, v in view.items() if k != "findings"} == {
        "project": "PRJ",
        "report_seq": 1,
        "report_status": "verified",
        "claimed_tco2e": 1200,
        "verifier": "ver",
        "status": "positive",
        "verified_tco2e": 1150,
        "statement": "Reasonable assurance; 50 t deducted for plot 7 uncertainty",
        "statement_at": t_statement,
        "assigned_at": t_assign,
    }
    assert [(f["id"], f["kind"], f["status"], f["response"]) for f in view["findings"]] == [
        (car_id, "CAR", "closed", "Plot 7 added"),
        (cl_id, "CL", "closed", "DBH at 1.3 m"),
        (far_id, "FAR", "open", None),
        (far2_id, "FAR", "closed", None),
    ]
    assert get_report(world, "PRJ", 1)["status"] == "verified"

    # every transition is one event of the project's stream, with its actor and time
    with world.read() as conn:
        events = conn.execute(
            select(JournalEvent)
            .where(JournalEvent.stream == "project:PRJ")
            .order_by(JournalEvent.seq)
        ).all()
    assert [(e.seq, e.operation, e.actor, e.entity_type) for e in events] == [
        (1, "submit_report", "coop", "monitoring_report"),
        (2, "assign_verifier", "bureau", "verification"),
        (3, "open_finding", "ver", "finding"),
        (4, "open_finding", "ver", "finding"),
        (5, "open_finding", "ver", "finding"),
        (6, "open_finding", "ver", "finding"),
        (7, "respond_to_finding", "coop", "finding"),
        (8, "respond_to_finding", "coop", "finding"),
        (9, "close_finding", "ver", "finding"),
        (10, "close_finding", "ver", "finding"),
        (11, "close_finding", "ver", "finding"),
        (12, "issue_statement", "ver", "verification"),
    ]
    times = {e.seq: timestamp(e.occurred_at) for e in events}
    assert (times[1], times[2], times[3], times[9], times[12]) == (
        t_submit,
        t_assign,
        t_car,
        t_close,
        t_statement,
    )
    assert events[11].before["status"] == "assigned"
    assert events[11].before["report_status"] == "under_verification"
    assert events[6].before["status"] == "open" and events[6].after["status"] == "responded"


def test_assignment_refusals_write_nothing(world: Registry) -> None:
    submit_report(world, **report_args())
    add_role(world, actor="root", party="coop", role="verifier")  # the proponent as a verifier
    assign = {"actor": "bureau", "project": "PRJ", "report_seq": 1}
    conflicts = [
        ("val", "val validated project PRJ \\(CCER Measures Art. 18\\)"),
        ("coop", "coop is the proponent of project PRJ"),
        ("hh1", "hh1 owns parcel P1 of project PRJ"),
        ("coop2", "coop2 is a party to collection contract C2 of project PRJ"),
    ]
    for verifier, reason in conflicts:
        err = _refused(
            world, VerifierConflictError, reason, assign_verifier, **assign, verifier=verifier
        )
        assert err.detail["verifier"] == verifier
    _refused(
        world,
        RegistryInputError,
        "buyer is not a verifier \\(roles: buyer\\)",
        assign_verifier,
        **assign,
        verifier="buyer",
    )
    _refused(world, RecordNotFoundError, "no party 'nobody' \\(verifier\\)", assign_verifier,
             **assign, verifier="nobody")  # fmt: skip
    _refused(
        world,
        ForbiddenError,
        "needs the role bureau",
        assign_verifier,
        **{**assign, "actor": "coop"},
        verifier="ver",
    )
    _refused(
        world,
        RecordNotFoundError,
        "project PRJ has no monitoring report 9",
        assign_verifier,
        **{**assign, "report_seq": 9},
        verifier="ver",
    )
    for bad in (0, "1", True):
        _refused(
            world,
            RegistryInputError,
            "report_seq must be a positive integer",
            assign_verifier,
            **{**assign, "report_seq": bad},
            verifier="ver",
        )
    # an admin may assign; a report has one verification only
    assign_verifier(world, **{**assign, "actor": "root"}, verifier="ver")
    _refused(
        world,
        InvalidStateError,
        "report PRJ/1 is under_verification",
        assign_verifier,
        **assign,
        verifier="ver",
    )


def test_finding_and_statement_refusals_write_nothing(world: Registry) -> None:
    submit_report(world, **report_args())  # claims 1200 t
    report = {"project": "PRJ", "report_seq": 1}
    _refused(
        world,
        InvalidStateError,
        "report PRJ/1 has no verifier assigned",
        open_finding,
        actor="ver",
        **report,
        kind="CAR",
        text="x",
    )
    assign_verifier(world, actor="bureau", **report, verifier="ver")
    for actor in ("val", "root", "coop"):  # only the assigned verifier, not even an admin
        _refused(
            world,
            ForbiddenError,
            f"{actor} is not the assigned verifier \\(ver\\) of report PRJ/1",
            open_finding,
            actor=actor,
            **report,
            kind="CAR",
            text="x",
        )
    _refused(
        world, RegistryInputError, "kind must be one of", open_finding, actor="ver", **report,
        kind="NCR", text="x",
    )  # fmt: skip
    _refused(
        world, RegistryInputError, "text must not be empty", open_finding, actor="ver", **report,
        kind="CAR", text="  ",
    )  # fmt: skip
    car_id = open_finding(world, actor="ver", **report, kind="CAR", text="x").result["id"]
    cl_id = open_finding(world, actor="ver", **report, kind="CL", text="y").result["id"]

    for actor in ("buyer", "ver", "root"):
        _refused(
            world,
            ForbiddenError,
            f"{actor} is not the proponent of project PRJ",
            respond_to_finding,
            actor=actor,
            finding_id=car_id,
            response="done",
        )
    _refused(world, RecordNotFoundError, "no finding 999", respond_to_finding, actor="coop",
             finding_id=999, response="done")  # fmt: skip
    _refused(world, RegistryInputError, "response must not be empty", respond_to_finding,
             actor="coop", finding_id=car_id, response="")  # fmt: skip
    _refused(
        world,
        InvalidStateError,
        f"finding {car_id} \\(CAR\\) of report PRJ/1 is open; a CAR is closed from responded",
        close_finding,
        actor="ver",
        finding_id=car_id,
    )
    statement = {"actor": "ver", **report, "opinion": "positive", "statement": "ok"}
    _refused(
        world,
        InvalidStateError,
        f"CAR {car_id} \\(open\\), CL {cl_id} \\(open\\)",
        issue_statement,
        **statement,
        verified_tco2e=1000,
    )
    respond_to_finding(world, actor="coop", finding_id=car_id, response="done")
    _refused(
        world,
        InvalidStateError,
        f"finding {car_id} \\(CAR\\) of report PRJ/1 is responded; only an open finding",
        respond_to_finding,
        actor="coop",
        finding_id=car_id,
        response="again",
    )
    _refused(world, ForbiddenError, "coop is not the assigned verifier", close_finding,
             actor="coop", finding_id=car_id)  # fmt: skip
    close_finding(world, actor="ver", finding_id=car_id)
    respond_to_finding(world, actor="coop", finding_id=cl_id, response="z")
    close_finding(world, actor="ver", finding_id=cl_id)
    _refused(
        world,
        InvalidStateError,
        f"finding {car_id} \\(CAR\\) of report PRJ/1 is closed",
        close_finding,
        actor="ver",
        finding_id=car_id,
    )
    _refused(
        world,
        RegistryInputError,
        "verified_tco2e 1201 exceeds claimed_tco2e 1200",
        issue_statement,
        **statement,
        verified_tco2e=1201,
    )
    for bad in (0, -1, 1000.0, 999.5, True, "1000", None):
        _refused(
            world,
            RegistryInputError,
            "verified_tco2e must",
            issue_statement,
            **statement,
            verified_tco2e=bad,
        )
    _refused(
        world,
        RegistryInputError,
        "a negative opinion verifies no tonnes",
        issue_statement,
        **{**statement, "opinion": "negative"},
        verified_tco2e=5,
    )
    _refused(world, RegistryInputError, "opinion must be positive or negative", issue_statement,
             **{**statement, "opinion": "qualified"}, verified_tco2e=1000)  # fmt: skip
    _refused(world, RegistryInputError, "statement must not be empty", issue_statement,
             **{**statement, "statement": ""}, verified_tco2e=1000)  # fmt: skip
    for actor in ("root", "val"):
        _refused(
            world,
            ForbiddenError,
            "is not the assigned verifier",
            issue_statement,
            **{**statement, "actor": actor},
            verified_tco2e=1000,
        )
    # exactly the claim is allowed; afterwards the verification is concluded
    assert issue_statement(world, **statement, verified_tco2e=1200).result["verified_tco2e"] == 1200
    _refused(world, InvalidStateError, "is concluded \\(positive\\)", issue_statement,
             **statement, verified_tco2e=1000)  # fmt: skip
    _refused(world, InvalidStateError, "is concluded \\(positive\\)", open_finding,
             actor="ver", **report, kind="FAR", text="late")  # fmt: skip


def test_negative_statement_rejects_the_report_and_frees_its_period(
    world: Registry, clock: Any
) -> None:
    submit_report(world, **report_args())
    assign_verifier(world, actor="bureau", project="PRJ", report_seq=1, verifier="ver")
    t_statement = at(clock, 5)
    result = issue_statement(
        world,
        actor="ver",
        project="PRJ",
        report_seq=1,
        opinion="negative",
        verified_tco2e=None,
        statement="Sample plots not re-measured",
    ).result
    assert (result["status"], result["verified_tco2e"], result["report_status"]) == (
        "negative",
        None,
        "rejected",
    )
    assert result["statement_at"] == t_statement and result["carried_forward"] == []
    assert get_report(world, "PRJ", 1)["status"] == "rejected"
    # a rejected period no longer blocks: the same period is reported again as report 2
    again = submit_report(world, **report_args(claimed_tco2e=1100, parcel_removals=None))
    assert (again.result["seq"], again.result["status"]) == (2, "submitted")
    # and the rejected report cannot be verified a second time
    _refused(
        world,
        InvalidStateError,
        "report PRJ/1 is rejected",
        assign_verifier,
        actor="bureau",
        project="PRJ",
        report_seq=1,
        verifier="ver",
    )
    assign_verifier(world, actor="bureau", project="PRJ", report_seq=2, verifier="ver")
    assert get_verification(world, "PRJ", 2)["report_status"] == "under_verification"


def test_negative_statement_may_leave_a_car_open(world: Registry) -> None:
    submit_report(world, **report_args())
    assign_verifier(world, actor="bureau", project="PRJ", report_seq=1, verifier="ver")
    car = open_finding(
        world, actor="ver", project="PRJ", report_seq=1, kind="CAR", text="plots missing"
    ).result["id"]
    result = issue_statement(
        world,
        actor="ver",
        project="PRJ",
        report_seq=1,
        opinion="negative",
        verified_tco2e=None,
        statement="CAR not resolved",
    ).result
    assert (result["status"], result["report_status"]) == ("negative", "rejected")
    findings = get_verification(world, "PRJ", 1)["findings"]
    assert [(f["id"], f["kind"], f["status"]) for f in findings] == [(car, "CAR", "open")]
