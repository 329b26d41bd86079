"""``mrv registry …``: the Huzhou carbon registry from the command line.

Every command prints JSON on stdout; a write prints its receipt (the operation's result plus the
journal ``event`` with its idempotency key). Writes take ``--as CODE`` (the acting party) and
``--idempotency-key KEY`` (replaying a key returns the first receipt instead of acting twice).
A refused operation exits with code 2 and changes nothing (JSON error on stdout with
``--json``); dates are ``YYYY-MM-DD``, money is decimal yuan passed on as text, never a float.

This module holds set-up (init, migrate, status), parties, parcels, contracts and projects;
:mod:`mrv.registry.cli_workflow` the monitoring → verification → issuance cycle;
:mod:`mrv.registry.cli_credits` credits, trading, retirement, distribution, journal, audit and
exports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Connection, func, select

from mrv.errors import InvalidStateError, RecordNotFoundError, RegistryInputError
from mrv.registry import cli_credits, cli_workflow, contracts, parcels, projects
from mrv.registry.catalog import check_methodology
from mrv.registry.cli_common import (
    ActorOpt,
    DbOpt,
    JsonOpt,
    KeyOpt,
    emit,
    emit_receipt,
    opened,
    parse_date,
    parse_int,
    parse_opt_date,
    settings,
)
from mrv.registry.core import Registry
from mrv.registry.db import current_revision, head_revision
from mrv.registry.models import (
    Account,
    Batch,
    CollectionContract,
    JournalEvent,
    MonitoringReport,
    Parcel,
    Party,
    PartyRole,
    Project,
    Retirement,
    TradingLot,
)
from mrv.registry.parties import add_role, create_party
from mrv.registry.queries import list_parties

app = typer.Typer(
    help="The Huzhou carbon registry: parties, parcels, projects, credits, trading.",
    no_args_is_help=True,
)
party_app = typer.Typer(help="Parties and their roles.", no_args_is_help=True)
parcel_app = typer.Typer(help="Land parcels and external claims.", no_args_is_help=True)
contract_app = typer.Typer(help="Collection (收储) contracts.", no_args_is_help=True)
project_app = typer.Typer(help="Projects: notice, registration.", no_args_is_help=True)
app.add_typer(party_app, name="party")
app.add_typer(parcel_app, name="parcel")
app.add_typer(contract_app, name="contract")
app.add_typer(project_app, name="project")

CodeArg = Annotated[str, typer.Argument(metavar="CODE", help="Public code.")]
ProjectArg = Annotated[str, typer.Argument(metavar="PROJECT", help="Project code.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the journal).")]

# -- set-up ------------------------------------------------------------------------------------


def _roles(conn: Connection, code: str) -> list[str] | None:
    party_id = conn.execute(select(Party.id).where(Party.code == code)).scalar()
    if party_id is None:
        return None
    return sorted(
        conn.execute(select(PartyRole.role).where(PartyRole.party_id == party_id)).scalars()
    )


@app.command("init")
def init(
    admin: Annotated[str, typer.Option("--admin", metavar="CODE", help="The first admin's code.")],
    name: Annotated[str, typer.Option("--name", help="The first admin's name.")],
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create or upgrade the schema and bootstrap the first admin (idempotent for that admin)."""
    with opened(database_url, upgrade=True) as registry:
        revision = current_revision(registry.engine)
        with registry.read() as conn:
            roles = _roles(conn, admin)
            has_parties = conn.execute(select(Party.id).limit(1)).first() is not None
        if roles is not None:
            if "admin" not in roles:
                raise InvalidStateError(
                    f"party {admin!r} exists but is not an admin", field="admin", party=admin
                )
            emit({"admin": admin, "created": False, "revision": revision})
            return
        if has_parties:
            raise InvalidStateError(
                f"the registry already has parties and no {admin!r}: an admin creates parties "
                "with `mrv registry party create`",
                field="admin",
            )
        receipt = create_party(
            registry,
            actor=admin,
            code=admin,
            name=name,
            roles=["admin"],
            idempotency_key=idempotency_key,
        )
        emit({**receipt.to_dict(), "created": True, "revision": revision})


@app.command("migrate")
def migrate_cmd(database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Upgrade the database schema to the newest revision."""
    with opened(database_url, upgrade=True) as registry:
        emit({"revision": current_revision(registry.engine), "head": head_revision()})


_COUNTED: dict[str, Any] = {
    "parties": Party,
    "accounts": Account,
    "parcels": Parcel,
    "contracts": CollectionContract,
    "projects": Project,
    "monitoring_reports": MonitoringReport,
    "batches": Batch,
    "trading_lots": TradingLot,
    "retirements": Retirement,
    "journal_events": JournalEvent,
}


@app.command("status")
def status(database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Schema revision (current and newest) and record counts."""
    registry = Registry.open(settings(), url=database_url, upgrade=False)
    try:
        current, head = current_revision(registry.engine), head_revision()
        counts: dict[str, int] | None = None
        if current == head:
            with registry.read() as conn:
                row = conn.execute(
                    select(
                        *(
                            select(func.count()).select_from(model).scalar_subquery().label(name)
                            for name, model in _COUNTED.items()
                        )
                    )
                ).one()
            counts = {name: int(value) for name, value in row._mapping.items()}
    finally:
        registry.close()
    emit({"revision": current, "head": head, "up_to_date": current == head, "counts": counts})


# -- parties -----------------------------------------------------------------------------------


@party_app.command("create")
def party_create(
    code: CodeArg,
    name: Annotated[str, typer.Option("--name", help="Legal name.")],
    role: Annotated[list[str], typer.Option("--role", help="A role (repeatable).")],
    actor: ActorOpt,
    credit_code: Annotated[
        str | None, typer.Option("--credit-code", help="Unified social credit code.")
    ] = None,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a party with its roles and holding account (admins)."""
    with opened(database_url) as registry:
        emit_receipt(
            create_party(
                registry,
                actor=actor,
                code=code,
                name=name,
                roles=role,
                credit_code=credit_code,
                idempotency_key=idempotency_key,
            )
        )


@party_app.command("add-role")
def party_add_role(
    code: CodeArg,
    role: Annotated[str, typer.Option("--role", help="The role to add.")],
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give a party another role (admins)."""
    with opened(database_url) as registry:
        emit_receipt(
            add_role(registry, actor=actor, party=code, role=role, idempotency_key=idempotency_key)
        )


@party_app.command("list")
def party_list(database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every party with its roles."""
    with opened(database_url) as registry:
        emit(list_parties(registry))


@party_app.command("show")
def party_show(code: CodeArg, database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """One party with its roles."""
    with opened(database_url) as registry:
        found = list_parties(registry, code)
    if not found:
        raise RecordNotFoundError(f"no party {code!r}", field="party", party=code)
    emit(found[0])


# -- parcels -----------------------------------------------------------------------------------


@parcel_app.command("import")
def parcel_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="GeoJSON or GeoPackage.")],
    actor: ActorOpt,
    owner_field: Annotated[str, typer.Option(help="Property naming the owner party.")] = "owner",
    code_field: Annotated[str, typer.Option(help="Property with the parcel code.")] = "code",
    land_type_field: Annotated[str, typer.Option(help="Property with the land type.")] = (
        "land_type"
    ),
    certificate_field: Annotated[
        str, typer.Option(help="Property with the land-right certificate id.")
    ] = "certificate",
    land_type: Annotated[
        str | None, typer.Option(help="Land type of every parcel (instead of the property).")
    ] = None,
    datum: Annotated[str, typer.Option(help="wgs84, cgcs2000, gcj02 or bd09.")] = "wgs84",
    external_scheme: Annotated[
        str | None, typer.Option(help="Import external claims of this scheme (ccer, vcs …).")
    ] = None,
    external_ref_field: Annotated[
        str | None, typer.Option(help="Property with the external scheme's reference.")
    ] = None,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import every polygon of a file as parcels (or external claims), all or nothing."""
    with opened(database_url) as registry:
        emit_receipt(
            parcels.import_parcels(
                registry,
                actor=actor,
                path=file,
                owner_field=owner_field,
                code_field=code_field,
                land_type_field=land_type_field,
                certificate_field=certificate_field,
                land_type=land_type,
                datum=datum,
                external_scheme=external_scheme,
                external_ref_field=external_ref_field,
                idempotency_key=idempotency_key,
            )
        )


ExternalOpt = Annotated[
    bool | None,
    typer.Option("--external/--own", help="Only external claims / only own parcels."),
]


@parcel_app.command("export")
def parcel_export(
    file: Annotated[Path, typer.Argument(metavar="FILE", help=".geojson, .json or .gpkg.")],
    project: Annotated[str | None, typer.Option(help="Only this project's parcels.")] = None,
    external: ExternalOpt = None,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write parcels with their WGS84 geometry to a file, atomically."""
    with opened(database_url) as registry:
        count = parcels.export_parcels(registry, file, project=project, external=external)
    emit({"file": str(file), "parcels": count})


@parcel_app.command("list")
def parcel_list(
    owner: Annotated[str | None, typer.Option(help="Only this owner's parcels.")] = None,
    project: Annotated[str | None, typer.Option(help="Only parcels this project held.")] = None,
    external: ExternalOpt = None,
    land_type: Annotated[str | None, typer.Option(help="Only this land type.")] = None,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Parcels (without geometry) ordered by code."""
    with opened(database_url) as registry:
        emit(
            parcels.list_parcels(
                registry, owner=owner, project=project, external=external, land_type=land_type
            )
        )


@parcel_app.command("show")
def parcel_show(code: CodeArg, database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """One parcel with geometry, contracts and projects."""
    with opened(database_url) as registry:
        emit(parcels.get_parcel(registry, code))


# -- contracts ---------------------------------------------------------------------------------


@contract_app.command("create")
def contract_create(
    code: CodeArg,
    cooperative: Annotated[str, typer.Option(help="The collecting cooperative.")],
    owner: Annotated[str, typer.Option(help="The parcels' owner.")],
    parcel: Annotated[list[str], typer.Option("--parcel", help="A parcel code (repeatable).")],
    start: Annotated[str, typer.Option(help="First day of the term, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Day after the term, YYYY-MM-DD.")],
    payment_yuan_per_mu: Annotated[
        str, typer.Option(help="Collection payment, yuan per mu per year (e.g. 16.926).")
    ],
    cycle_years: Annotated[str, typer.Option(help="Settlement cycle in years (Anji: 3).")],
    owner_share: Annotated[
        str, typer.Option(help="Owner's share of net proceeds, 0–1 (Anji: 0.8).")
    ],
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a collection contract over some of an owner's parcels."""
    start_day = parse_date(start, "--start")
    end_day = parse_date(end, "--end")
    years = parse_int(cycle_years, "--cycle-years")
    with opened(database_url) as registry:
        emit_receipt(
            contracts.create_contract(
                registry,
                actor=actor,
                code=code,
                cooperative=cooperative,
                owner=owner,
                parcels=parcel,
                start=start_day,
                end=end_day,
                annual_payment_yuan_per_mu=payment_yuan_per_mu,
                settlement_cycle_years=years,
                owner_share=owner_share,
                idempotency_key=idempotency_key,
            )
        )


@contract_app.command("terminate")
def contract_terminate(
    code: CodeArg,
    reason: ReasonOpt,
    actor: ActorOpt,
    on: Annotated[str | None, typer.Option(help="Termination day (default today).")] = None,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Terminate a contract."""
    day = parse_opt_date(on, "--on")
    with opened(database_url) as registry:
        emit_receipt(
            contracts.terminate_contract(
                registry,
                actor=actor,
                code=code,
                reason=reason,
                on=day,
                idempotency_key=idempotency_key,
            )
        )


@contract_app.command("show")
def contract_show(code: CodeArg, database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """One contract."""
    with opened(database_url) as registry:
        emit(contracts.get_contract(registry, code))


@contract_app.command("list")
def contract_list(
    cooperative: Annotated[str | None, typer.Option(help="Only this cooperative's.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner's.")] = None,
    status: Annotated[str | None, typer.Option(help="active or terminated.")] = None,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Contracts ordered by code."""
    with opened(database_url) as registry:
        emit(
            contracts.list_contracts(registry, cooperative=cooperative, owner=owner, status=status)
        )


@contract_app.command("payments")
def contract_payments(
    code: CodeArg,
    as_of: Annotated[str, typer.Option("--as-of", help="Due by this day, YYYY-MM-DD.")],
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The upfront collection payment of every settlement cycle and what is due by a day."""
    day = parse_date(as_of, "--as-of")
    with opened(database_url) as registry:
        emit(contracts.contract_payments_due(registry, code, day))


# -- projects ----------------------------------------------------------------------------------


def _parcel_pairs(items: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        parcel, sep, contract = item.partition(":")
        if not sep or not parcel.strip() or not contract.strip():
            raise RegistryInputError(
                f"--parcel must be PARCEL:CONTRACT, got {item!r}", field="parcels"
            )
        pairs.append((parcel.strip(), contract.strip()))
    return pairs


@project_app.command("create")
def project_create(
    code: CodeArg,
    name: Annotated[str, typer.Option(help="Project name.")],
    proponent: Annotated[str, typer.Option(help="The proponent cooperative.")],
    validator: Annotated[str, typer.Option(help="The validation body (a verifier).")],
    methodology: Annotated[str, typer.Option("--methodology", metavar="ID")],
    methodology_version: Annotated[str, typer.Option("--methodology-version", metavar="V")],
    land_type: Annotated[str, typer.Option(help="bamboo, forest, wetland, farmland or tea.")],
    crediting_start: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    crediting_end: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    risk_score: Annotated[str, typer.Option(help="Non-permanence risk score 0–100.")],
    parcel: Annotated[
        list[str], typer.Option("--parcel", metavar="PARCEL:CONTRACT", help="Repeatable.")
    ],
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a draft project (the methodology id and version must be known)."""
    start = parse_date(crediting_start, "--crediting-start")
    end = parse_date(crediting_end, "--crediting-end")
    score = parse_int(risk_score, "--risk-score")
    pairs = _parcel_pairs(parcel)
    check_methodology(methodology, methodology_version)
    with opened(database_url) as registry:
        emit_receipt(
            projects.create_project(
                registry,
                actor=actor,
                code=code,
                name=name,
                proponent=proponent,
                validator=validator,
                methodology_id=methodology,
                methodology_version=methodology_version,
                land_type=land_type,
                crediting_start=start,
                crediting_end=end,
                risk_score=score,
                parcels=pairs,
                idempotency_key=idempotency_key,
            )
        )


@project_app.command("notice")
def project_notice(
    project: ProjectArg,
    actor: ActorOpt,
    start: Annotated[str | None, typer.Option(help="First day (default today).")] = None,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start the public notice (MRV_NOTICE_WORKING_DAYS working days, CCER Art. 12)."""
    day = parse_opt_date(start, "--start")
    with opened(database_url) as registry:
        emit_receipt(
            projects.start_public_notice(
                registry, actor=actor, project=project, start=day, idempotency_key=idempotency_key
            )
        )


@project_app.command("comment")
def project_comment(
    project: ProjectArg,
    comment: Annotated[str, typer.Option(help="The comment's text.")],
    actor: ActorOpt,
    commenter: Annotated[str | None, typer.Option(help="Who commented (default --as).")] = None,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a comment received during the public notice."""
    with opened(database_url) as registry:
        emit_receipt(
            projects.add_notice_comment(
                registry,
                actor=actor,
                project=project,
                comment=comment,
                commenter=commenter,
                idempotency_key=idempotency_key,
            )
        )


@project_app.command("respond")
def project_respond(
    project: ProjectArg,
    comment_id: Annotated[str, typer.Argument(metavar="COMMENT_ID")],
    response: Annotated[str, typer.Option(help="The proponent's response.")],
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The proponent's response to a notice comment."""
    cid = parse_int(comment_id, "COMMENT_ID")
    with opened(database_url) as registry:
        emit_receipt(
            projects.respond_to_comment(
                registry,
                actor=actor,
                project=project,
                comment_id=cid,
                response=response,
                idempotency_key=idempotency_key,
            )
        )


@project_app.command("register")
def project_register(
    project: ProjectArg,
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a project after its notice has ended (admins)."""
    with opened(database_url) as registry:
        emit_receipt(
            projects.register_project(
                registry, actor=actor, project=project, idempotency_key=idempotency_key
            )
        )


@project_app.command("reject")
def project_reject(
    project: ProjectArg,
    reason: ReasonOpt,
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject a draft or public-notice project (admins); its parcels are released."""
    with opened(database_url) as registry:
        emit_receipt(
            projects.reject_project(
                registry,
                actor=actor,
                project=project,
                reason=reason,
                idempotency_key=idempotency_key,
            )
        )


@project_app.command("deregister")
def project_deregister(
    project: ProjectArg,
    reason: ReasonOpt,
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deregister a registered project (admins; final, CCER Art. 16)."""
    with opened(database_url) as registry:
        emit_receipt(
            projects.deregister_project(
                registry,
                actor=actor,
                project=project,
                reason=reason,
                idempotency_key=idempotency_key,
            )
        )


@project_app.command("show")
def project_show(project: ProjectArg, database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """One project with its parcels and notice comments."""
    with opened(database_url) as registry:
        emit(projects.get_project(registry, project))


@project_app.command("list")
def project_list(
    status: Annotated[str | None, typer.Option(help="Only projects in this state.")] = None,
    proponent: Annotated[str | None, typer.Option(help="Only this proponent's.")] = None,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Projects ordered by code, with parcel counts and areas."""
    with opened(database_url) as registry:
        emit(projects.list_projects(registry, status=status, proponent=proponent))


cli_workflow.register(app)
cli_credits.register(app)
