"""Projects: parcels through contracts, one active project per parcel, overlaps with other
projects and external claims, and the public-notice state machine (CCER Measures Art. 12, 16)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from mrv.errors import (
    DuplicateError,
    ForbiddenError,
    InvalidStateError,
    ParcelOverlapError,
    RecordNotFoundError,
    RegistryInputError,
    VerifierConflictError,
)
from mrv.geo import areas_ha
from mrv.registry.contracts import create_contract, terminate_contract
from mrv.registry.core import Registry
from mrv.registry.journal import timestamp
from mrv.registry.models import JournalEvent, Parcel, Party, Project, ProjectParcel
from mrv.registry.parcel_io import geometry_sha256, to_geojson
from mrv.registry.parcels import import_parcels, list_parcels
from mrv.registry.projects import (
    add_notice_comment,
    create_project,
    deregister_project,
    get_project,
    list_projects,
    register_project,
    reject_project,
    respond_to_comment,
    start_public_notice,
)
from mrv.settings import Settings
from tests.registry.conftest import Clock
from tests.registry.test_parcels import (
    count,
    feature,
    import_squares,
    setup_parties,
    square,
    write_geojson,
)

D = dt.date
TERM = {"start": D(2026, 1, 1), "end": D(2056, 1, 1)}
PAY = {"annual_payment_yuan_per_mu": "16.93", "settlement_cycle_years": 3, "owner_share": "0.8"}


def contract(registry: Registry, code: str, coop: str, owner: str, parcels: list[str]) -> None:
    create_contract(
        registry,
        actor=coop,
        code=code,
        cooperative=coop,
        owner=owner,
        parcels=parcels,
        **TERM,  # type: ignore[arg-type]
        **PAY,  # type: ignore[arg-type]
    )


def world(registry: Registry, tmp_path: Path) -> None:
    """Parcels A, B (hh1, 9 ha each, side by side), C (vil, 2 km north), E (hh2, 2 km east);
    contracts C-AB (coop↔hh1: A, B), C-C (coop↔vil: C), C-E (coop2↔hh2: E)."""
    setup_parties(registry)
    import_squares(
        registry,
        tmp_path,
        [("A", "hh1", 0, 0), ("B", "hh1", 300, 0), ("C", "vil", 0, 2000), ("E", "hh2", 2000, 0)],
    )
    contract(registry, "C-AB", "coop", "hh1", ["A", "B"])
    contract(registry, "C-C", "coop", "vil", ["C"])
    contract(registry, "C-E", "coop2", "hh2", ["E"])


def project(registry: Registry, **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "actor": "coop",
        "code": "P1",
        "name": "安吉毛竹林碳汇项目",
        "proponent": "coop",
        "validator": "ver",
        "methodology_id": "bamboo_moso",
        "methodology_version": "1.0",
        "land_type": "bamboo",
        "crediting_start": D(2026, 1, 1),
        "crediting_end": D(2045, 12, 31),
        "risk_score": 15,
        "parcels": [("A", "C-AB"), ("B", "C-AB")],
    }
    args.update(overrides)
    return create_project(registry, **args).result


def stream_events(registry: Registry, stream: str) -> list[Any]:
    with registry.read() as conn:
        return list(
            conn.execute(
                select(JournalEvent).where(JournalEvent.stream == stream).order_by(JournalEvent.seq)
            )
        )


def test_create_project_draft(registry: Registry, tmp_path: Path) -> None:
    world(registry, tmp_path)
    result = project(registry)
    assert result == get_project(registry, "P1")
    assert result["status"] == "draft"
    assert (result["proponent"], result["validator"]) == ("coop", "ver")
    assert (result["methodology_id"], result["methodology_version"]) == ("bamboo_moso", "1.0")
    assert (result["crediting_start"], result["crediting_end"]) == ("2026-01-01", "2045-12-31")
    assert result["notice_start"] is None and result["registered_at"] is None
    assert [(p["code"], p["contract"], p["owner"], p["active"]) for p in result["parcels"]] == [
        ("A", "C-AB", "hh1", True),
        ("B", "C-AB", "hh1", True),
    ]
    assert result["area_ha"] == pytest.approx(18.0) and result["area_mu"] == pytest.approx(270.0)
    events = stream_events(registry, "project:P1")
    assert [(e.seq, e.operation, e.actor) for e in events] == [(1, "create_project", "coop")]
    summary = list_projects(registry)
    assert [(s["code"], s["status"], s["parcel_count"]) for s in summary] == [("P1", "draft", 2)]
    assert summary[0]["area_mu"] == pytest.approx(270.0)
    assert {p["code"]: p["project"] for p in list_parcels(registry)} == {
        "A": "P1",
        "B": "P1",
        "C": None,
        "E": None,
    }
    # a mapping parcel → contract works too; an admin may propose for the cooperative
    project(registry, actor="root", code="P2", parcels={"C": "C-C"}, validator="ver2")
    assert list_projects(registry, proponent="coop", status="draft")[1]["code"] == "P2"


def test_create_refusals_write_nothing(registry: Registry, tmp_path: Path) -> None:
    world(registry, tmp_path)
    # a terminated contract over C for a later term
    create_contract(
        registry,
        actor="coop",
        code="C-LATE",
        cooperative="coop",
        owner="vil",
        parcels=["C"],
        start=D(2060, 1, 1),
        end=D(2070, 1, 1),
        **PAY,  # type: ignore[arg-type]
    )
    terminate_contract(registry, actor="coop", code="C-LATE", reason="x", on=D(2061, 1, 1))
    claim = write_geojson(tmp_path / "x.geojson", [feature("X", square(0, 5000), ref="CCER-1")])
    import_parcels(
        registry, actor="bureau", path=claim, external_scheme="ccer", external_ref_field="ref"
    )
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"validator": "coop"}, VerifierConflictError, "validator coop cannot be the proponent"),
        ({"validator": "hh1"}, RegistryInputError, "validator 'hh1' must have the role verifier"),
        ({"proponent": "coop2"}, ForbiddenError, "coop may not propose a project for coop2"),
        ({"proponent": "bureau", "actor": "root"}, RegistryInputError, "proponent 'bureau'"),
        ({"actor": "hh1"}, ForbiddenError, "needs the role cooperative"),
        ({"parcels": {"E": "C-E"}}, ForbiddenError, "C-E is not with the proponent coop"),
        ({"parcels": {"C": "C-AB"}}, RegistryInputError, r"C \(C-AB\) is not covered"),
        ({"parcels": {"C": "C-LATE"}}, InvalidStateError, "C-LATE is terminated"),
        ({"parcels": {"X": "C-AB"}}, RegistryInputError, "X is an external claim"),
        ({"parcels": {"Q": "C-AB"}}, RecordNotFoundError, "no parcel Q"),
        ({"parcels": {"A": "C-ZZ"}}, RecordNotFoundError, "no contract C-ZZ"),
        ({"parcels": []}, RegistryInputError, "at least one parcel"),
        ({"parcels": [("A", "C-AB"), ("A", "C-AB")]}, RegistryInputError, "A listed twice"),
        ({"land_type": "forest"}, RegistryInputError, r"A \(bamboo\), B \(bamboo\) is not forest"),
        ({"land_type": "orchard"}, RegistryInputError, "unknown land type"),
        (
            {"crediting_start": D(2057, 1, 1), "crediting_end": D(2077, 1, 1)},
            RegistryInputError,
            "C-AB .2026-01-01 to 2056-01-01. does not overlap the crediting period",
        ),
        ({"crediting_end": D(2026, 1, 1)}, RegistryInputError, "ends .2026-01-01. before"),
        ({"risk_score": 101}, RegistryInputError, "risk_score"),
        ({"risk_score": True}, RegistryInputError, "risk_score"),
        ({"code": "P" * 33}, RegistryInputError, "longer than 32"),
        ({"name": " "}, RegistryInputError, "name must not be empty"),
        ({"methodology_id": ""}, RegistryInputError, "methodology_id must not be empty"),
    ]
    events = count(registry)
    for overrides, error, match in cases:
        with pytest.raises(error, match=match):
            project(registry, **overrides)
        assert count(registry) == events and count(registry, Project) == 0, overrides
    project(registry)
    with pytest.raises(DuplicateError, match="project 'P1' already exists"):
        project(registry, parcels={"C": "C-C"})


def test_one_active_project_per_parcel(registry: Registry, tmp_path: Path) -> None:
    world(registry, tmp_path)
    project(registry, parcels={"A": "C-AB"})
    events = count(registry)
    with pytest.raises(ParcelOverlapError, match=r"P2 is refused: parcel A is in project P1 \("):
        project(registry, code="P2", parcels={"A": "C-AB", "B": "C-AB"})
    assert count(registry) == events
    # the partial unique index enforces it in the database as well
    with registry.read() as conn:
        ids = {r.code: r.id for r in conn.execute(select(Parcel.code, Parcel.id))}
    with registry.engine.begin() as conn:
        coop = conn.execute(select(Party.id).where(Party.code == "coop")).scalar_one()
        ver = conn.execute(select(Party.id).where(Party.code == "ver")).scalar_one()
        held = conn.execute(select(ProjectParcel).where(ProjectParcel.parcel_id == ids["A"])).one()
        other = conn.execute(
            insert(Project)
            .values(
                code="RAW",
                name="raw",
                proponent_party_id=coop,
                validator_party_id=ver,
                methodology_id="m",
                methodology_version="1",
                land_type="bamboo",
                crediting_start=D(2026, 1, 1),
                crediting_end=D(2030, 1, 1),
                risk_score=1,
            )
            .returning(Project.id)
        ).scalar_one()
    second = {"project_id": other, "parcel_id": ids["A"], "contract_id": held.contract_id}
    with pytest.raises(IntegrityError), registry.engine.begin() as conn:
        conn.execute(insert(ProjectParcel).values(**second, active=True))
    with registry.engine.begin() as conn:  # an inactive row is allowed
        conn.execute(insert(ProjectParcel).values(**second, active=False))
    # a rejected project releases its parcels
    reject_project(registry, actor="root", project="P1", reason="incomplete PDD")
    assert [p["active"] for p in get_project(registry, "P1")["parcels"]] == [False]
    assert project(registry, code="P2", parcels={"A": "C-AB"})["status"] == "draft"


def _insert_legacy_parcel(registry: Registry, code: str, owner: str, geom: Any) -> None:
    """TEST SETUP ONLY: an own parcel written before the import's own-overlap rule existed."""
    geometry = to_geojson(geom)
    x0, y0, x1, y1 = geom.bounds
    area = float(areas_ha([geom])[0])
    with registry.engine.begin() as conn:
        owner_id = conn.execute(select(Party.id).where(Party.code == owner)).scalar_one()
        conn.execute(
            insert(Parcel).values(
                code=code,
                owner_party_id=owner_id,
                land_type="bamboo",
                area_ha=area,
                area_mu=area * 15,
                geometry=geometry,
                geometry_sha256=geometry_sha256(geometry),
                min_lon=x0,
                min_lat=y0,
                max_lon=x1,
                max_lat=y1,
                attributes={},
            )
        )


def test_overlaps_with_other_projects_and_external_claims(
    registry: Registry, tmp_path: Path
) -> None:
    world(registry, tmp_path)
    project(registry, parcels={"A": "C-AB"})
    # L (x 200–300 m) overlaps A by 100 m × 300 m = 3 ha (legacy data); S has a 0.2 m sliver
    _insert_legacy_parcel(registry, "L", "hh1", square(200, 0, 100, 300))
    import_squares(registry, tmp_path, [("S", "hh2", -299.8, 0)], name="s.geojson")
    contract(registry, "C-L", "coop", "hh1", ["L"])
    contract(registry, "C-S", "coop", "hh2", ["S"])
    # B is half covered by a 浙林碳普惠 claim (150 m × 300 m = 4.5 ha)
    claim = write_geojson(tmp_path / "z.geojson", [feature("Z", square(450, 0), ref="ZJ-7")])
    import_parcels(
        registry,
        actor="bureau",
        path=claim,
        external_scheme="zhejiang_forest_inclusive",
        external_ref_field="ref",
    )
    events = count(registry)
    with pytest.raises(ParcelOverlapError, match=r"L overlaps A \(project P1\) by 3\.0 ha") as info:
        project(registry, code="P2", parcels={"L": "C-L"})
    assert info.value.detail["overlaps"] == [
        {
            "parcel": "L",
            "other": "A",
            "overlap_ha": 3.0,
            "other_project": "P1",
            "other_scheme": None,
            "other_ref": None,
        }
    ]
    with pytest.raises(
        ParcelOverlapError, match=r"B overlaps Z \(zhejiang_forest_inclusive claim ZJ-7\) by 4\.5"
    ):
        project(registry, code="P2", parcels={"B": "C-AB"})
    assert count(registry) == events and count(registry, Project) == 1
    # the sliver is below the tolerance: accepted
    assert project(registry, code="P3", parcels={"S": "C-S"})["status"] == "draft"
    # once P1 is rejected, L no longer conflicts with an active project
    reject_project(registry, actor="root", project="P1", reason="withdrawn")
    assert project(registry, code="P2", parcels={"L": "C-L"})["status"] == "draft"


def test_public_notice_state_machine(registry: Registry, clock: Clock, tmp_path: Path) -> None:
    world(registry, tmp_path)
    project(registry)
    stream = "project:P1"

    def refused(error: type[Exception], match: str, call: Any, **kwargs: Any) -> None:
        before = len(stream_events(registry, stream))
        with pytest.raises(error, match=match):
            call(registry, project="P1", **kwargs)
        assert len(stream_events(registry, stream)) == before

    refused(
        InvalidStateError,
        "P1 is draft; registration needs it to be public_notice",
        register_project,
        actor="root",
    )
    refused(
        InvalidStateError, "P1 is draft; commenting", add_notice_comment, actor="hh1", comment="?"
    )
    refused(
        InvalidStateError,
        "P1 is draft; deregistration",
        deregister_project,
        actor="root",
        reason="x",
    )
    refused(
        ForbiddenError,
        "coop2 is not the proponent of project P1",
        start_public_notice,
        actor="coop2",
    )
    refused(
        RegistryInputError, "before today", start_public_notice, actor="coop", start=D(2026, 3, 1)
    )

    # Monday 2 March 2026 + 20 working days (no holiday in March) = Monday 30 March
    noticed = start_public_notice(registry, actor="coop", project="P1").result
    assert noticed["status"] == "public_notice"
    assert (noticed["notice_start"], noticed["notice_end"]) == ("2026-03-02", "2026-03-30")
    refused(
        InvalidStateError,
        "P1 is public_notice; starting the public notice needs it to be draft",
        start_public_notice,
        actor="coop",
    )
    refused(ForbiddenError, "needs the role admin", register_project, actor="coop")
    refused(InvalidStateError, "ends on 2026-03-30", register_project, actor="root")

    comment = add_notice_comment(
        registry, actor="bureau", project="P1", commenter="村民 张三", comment="边界有误?"
    ).result
    cid = comment["comment_id"]
    refused(
        ForbiddenError,
        "not the proponent",
        respond_to_comment,
        actor="coop2",
        comment_id=cid,
        response="x",
    )
    refused(
        RecordNotFoundError,
        "no comment 999",
        respond_to_comment,
        actor="coop",
        comment_id=999,
        response="x",
    )

    clock.set(dt.datetime(2026, 3, 30, 15, 59, tzinfo=dt.UTC))  # 23:59 on the last day, China
    add_notice_comment(registry, actor="hh1", project="P1", comment="同意")
    refused(InvalidStateError, "ends on 2026-03-30", register_project, actor="root")
    clock.set(dt.datetime(2026, 3, 30, 16, 0, tzinfo=dt.UTC))  # 00:00 on 31 March, China
    refused(
        InvalidStateError,
        "runs from 2026-03-02 to 2026-03-30",
        add_notice_comment,
        actor="hh1",
        comment="late",
    )
    refused(
        InvalidStateError,
        f"comments without a response: {cid}, {cid + 1}",
        register_project,
        actor="root",
    )

    respond_to_comment(registry, actor="coop", project="P1", comment_id=cid, response="已复核")
    respond_to_comment(registry, actor="coop", project="P1", comment_id=cid + 1, response="谢谢")
    refused(
        InvalidStateError,
        "already has a response",
        respond_to_comment,
        actor="coop",
        comment_id=cid,
        response="again",
    )

    registered = register_project(registry, actor="root", project="P1").result
    assert registered["status"] == "registered"
    assert registered["registered_at"] == timestamp(clock.now)
    assert [(c["commenter"], c["response"]) for c in registered["comments"]] == [
        ("村民 张三", "已复核"),
        ("hh1", "谢谢"),
    ]
    refused(
        InvalidStateError,
        "P1 is registered; rejection needs it to be draft or public_notice",
        reject_project,
        actor="root",
        reason="x",
    )
    refused(InvalidStateError, "P1 is registered; starting", start_public_notice, actor="coop")
    refused(ForbiddenError, "needs the role admin", deregister_project, actor="coop", reason="x")

    gone = deregister_project(registry, actor="root", project="P1", reason="fraud (Art. 43)")
    assert gone.result["status"] == "deregistered"
    assert [p["active"] for p in gone.result["parcels"]] == [False, False]
    refused(
        InvalidStateError,
        "P1 is deregistered; deregistration",
        deregister_project,
        actor="root",
        reason="x",
    )
    refused(
        InvalidStateError,
        "P1 is deregistered; registration needs it to be public_notice",
        register_project,
        actor="root",
    )  # Art. 16
    refused(InvalidStateError, "P1 is deregistered; starting", start_public_notice, actor="coop")

    events = stream_events(registry, stream)
    assert [(e.seq, e.operation, e.actor) for e in events] == [
        (1, "create_project", "coop"),
        (2, "start_public_notice", "coop"),
        (3, "add_notice_comment", "bureau"),
        (4, "add_notice_comment", "hh1"),
        (5, "respond_to_comment", "coop"),
        (6, "respond_to_comment", "coop"),
        (7, "register_project", "root"),
        (8, "deregister_project", "root"),
    ]
    assert events[1].before["status"] == "draft" and events[7].reason == "fraud (Art. 43)"
    assert events[6].occurred_at.replace(tzinfo=dt.UTC) > events[5].occurred_at.replace(
        tzinfo=dt.UTC
    )
    # the parcels are free for a new project (a new code; P1 itself never comes back)
    assert project(registry, code="P1b")["status"] == "draft"


def test_notice_length_comes_from_settings_and_skips_holidays(
    registry: Registry, clock: Clock, tmp_path: Path
) -> None:
    world(registry, tmp_path)
    project(registry)
    short = Registry(
        registry.engine, Settings(data_dir=tmp_path / "d", notice_working_days=3), clock
    )
    # Thu 2 April 2026 + 3 working days: Fri 3; Sat 4 – Mon 6 April off (Qingming); Tue 7, Wed 8
    result = start_public_notice(short, actor="coop", project="P1", start=D(2026, 4, 2)).result
    assert (result["notice_start"], result["notice_end"]) == ("2026-04-02", "2026-04-08")
    clock.set(dt.datetime(2026, 4, 1, 2, 0, tzinfo=dt.UTC))
    with pytest.raises(InvalidStateError, match="runs from 2026-04-02 to 2026-04-08"):
        add_notice_comment(short, actor="hh1", project="P1", comment="too early")
    reject_project(short, actor="root", project="P1", reason="boundary dispute")
    assert get_project(registry, "P1")["status"] == "rejected"
    assert [p["project"] for p in list_parcels(registry, project="P1")] == [None, None]


def test_a_zero_day_notice_registers_the_same_day(
    registry: Registry, clock: Clock, tmp_path: Path
) -> None:
    world(registry, tmp_path)
    project(registry)
    none = Registry(
        registry.engine, Settings(data_dir=tmp_path / "d", notice_working_days=0), clock
    )
    clock.set(dt.datetime(2026, 4, 2, 2, 0, tzinfo=dt.UTC))  # Thursday 10:00 in China
    result = start_public_notice(none, actor="coop", project="P1").result
    assert (result["notice_start"], result["notice_end"]) == ("2026-04-02", "2026-04-02")
    assert register_project(none, actor="root", project="P1").result["status"] == "registered"
