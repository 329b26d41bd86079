"""``mrv registry report|verification|issue``: monitoring reports, verification, issuance.

Per-parcel removals (``--parcel-removals``) are read from a JSON object ``{parcel: tCO2e}`` or
a CSV with the columns ``parcel`` and ``tco2e``; the evidence package is given by its SHA-256
or by the file, which is hashed here.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from mrv.errors import RegistryInputError
from mrv.registry import issuance, monitoring, verification
from mrv.registry.cli_common import (
    ActorOpt,
    DbOpt,
    JsonOpt,
    KeyOpt,
    emit,
    emit_receipt,
    file_sha256,
    opened,
    parse_date,
    parse_int,
    parse_tonnes,
)

report_app = typer.Typer(help="Monitoring reports.", no_args_is_help=True)
verification_app = typer.Typer(help="Verification of monitoring reports.", no_args_is_help=True)
finding_app = typer.Typer(help="Verification findings (CAR, CL, FAR).", no_args_is_help=True)
verification_app.add_typer(finding_app, name="finding")

ProjectArg = Annotated[str, typer.Argument(metavar="PROJECT", help="Project code.")]
SeqArg = Annotated[str, typer.Argument(metavar="SEQ", help="Report number within the project.")]
FindingArg = Annotated[str, typer.Argument(metavar="ID", help="Finding id.")]
REMOVALS_OPTION = "--parcel-removals"


def _removal_value(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RegistryInputError(
            f"{REMOVALS_OPTION}: {where} is not a number: {value!r}", field="parcel_removals"
        )
    try:
        return float(value)
    except ValueError:
        raise RegistryInputError(
            f"{REMOVALS_OPTION}: {where} is not a number: {value!r}", field="parcel_removals"
        ) from None


def read_removals(path: Path) -> dict[str, float]:
    """Per-parcel removals from a ``.json`` object or a ``.csv`` with ``parcel,tco2e`` columns."""
    if not path.is_file():
        raise RegistryInputError(
            f"{REMOVALS_OPTION}: no file {str(path)!r}", field="parcel_removals"
        )
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise RegistryInputError(
                f"{REMOVALS_OPTION}: {path.name} is not JSON: {exc}", field="parcel_removals"
            ) from None
        if not isinstance(data, dict):
            raise RegistryInputError(
                f"{REMOVALS_OPTION}: {path.name} must hold an object {{parcel: tCO2e}}",
                field="parcel_removals",
            )
        return {str(k): _removal_value(v, f"parcel {k!r}") for k, v in data.items()}
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if not {"parcel", "tco2e"} <= set(reader.fieldnames or ()):
                raise RegistryInputError(
                    f"{REMOVALS_OPTION}: {path.name} needs the columns parcel and tco2e",
                    field="parcel_removals",
                )
            out: dict[str, float] = {}
            for row_no, row in enumerate(reader, start=2):
                parcel = (row["parcel"] or "").strip()
                if parcel in out:
                    raise RegistryInputError(
                        f"{REMOVALS_OPTION}: {path.name} row {row_no}: parcel {parcel!r} twice",
                        field="parcel_removals",
                    )
                out[parcel] = _removal_value(row["tco2e"], f"{path.name} row {row_no}")
            return out
    raise RegistryInputError(
        f"{REMOVALS_OPTION} must be a .json or .csv file, got {path.name}", field="parcel_removals"
    )


@report_app.command("submit")
def report_submit(
    project: ProjectArg,
    period_start: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    period_end: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    claimed: Annotated[str, typer.Option(help="Claimed removals, whole tCO2e.")],
    actor: ActorOpt,
    evidence_sha256: Annotated[
        str | None, typer.Option("--evidence-sha256", metavar="HEX", help="Evidence SHA-256.")
    ] = None,
    evidence: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Evidence package (hashed with SHA-256).")
    ] = None,
    parcel_removals: Annotated[
        Path | None,
        typer.Option(REMOVALS_OPTION, metavar="FILE", help="Per-parcel removals, .csv or .json."),
    ] = None,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Submit a monitoring report of a registered project (its proponent)."""
    start = parse_date(period_start, "--period-start")
    end = parse_date(period_end, "--period-end")
    tonnes = parse_tonnes(claimed, "--claimed")
    if (evidence_sha256 is None) == (evidence is None):
        raise RegistryInputError(
            "give exactly one of --evidence-sha256 HEX and --evidence FILE",
            field="evidence_sha256",
        )
    digest = (
        evidence_sha256.strip().lower()
        if evidence_sha256 is not None
        else file_sha256(cast(Path, evidence), "--evidence")
    )
    removals = read_removals(parcel_removals) if parcel_removals is not None else None
    with opened(database_url) as registry:
        emit_receipt(
            monitoring.submit_report(
                registry,
                actor=actor,
                project=project,
                period_start=start,
                period_end=end,
                evidence_sha256=digest,
                claimed_tco2e=tonnes,
                parcel_removals=removals,
                idempotency_key=idempotency_key,
            )
        )


@report_app.command("show")
def report_show(
    project: ProjectArg, seq: SeqArg, database_url: DbOpt = None, as_json: JsonOpt = False
) -> None:
    """One monitoring report."""
    number = parse_int(seq, "SEQ")
    with opened(database_url) as registry:
        emit(monitoring.get_report(registry, project, number))


@report_app.command("list")
def report_list(project: ProjectArg, database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """A project's monitoring reports in submission order."""
    with opened(database_url) as registry:
        emit(monitoring.list_reports(registry, project))


@verification_app.command("assign")
def verification_assign(
    project: ProjectArg,
    seq: SeqArg,
    verifier: Annotated[str, typer.Option(help="The verifier party (not the validator).")],
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Assign an independent verifier to a submitted report (bureau or admin; CCER Art. 18)."""
    number = parse_int(seq, "SEQ")
    with opened(database_url) as registry:
        emit_receipt(
            verification.assign_verifier(
                registry,
                actor=actor,
                project=project,
                report_seq=number,
                verifier=verifier,
                idempotency_key=idempotency_key,
            )
        )


@finding_app.command("open")
def finding_open(
    project: ProjectArg,
    seq: SeqArg,
    kind: Annotated[str, typer.Option(help="CAR, CL or FAR.")],
    text: Annotated[str, typer.Option(help="What must be corrected or clarified.")],
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a finding on a report under verification (the assigned verifier)."""
    number = parse_int(seq, "SEQ")
    with opened(database_url) as registry:
        emit_receipt(
            verification.open_finding(
                registry,
                actor=actor,
                project=project,
                report_seq=number,
                kind=cast(verification.FindingKind, kind),  # checked by the service
                text=text,
                idempotency_key=idempotency_key,
            )
        )


@finding_app.command("respond")
def finding_respond(
    finding_id: FindingArg,
    response: Annotated[str, typer.Option(help="The proponent's response.")],
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The proponent's response to a finding."""
    fid = parse_int(finding_id, "ID")
    with opened(database_url) as registry:
        emit_receipt(
            verification.respond_to_finding(
                registry,
                actor=actor,
                finding_id=fid,
                response=response,
                idempotency_key=idempotency_key,
            )
        )


@finding_app.command("close")
def finding_close(
    finding_id: FindingArg,
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Close a responded finding (the verifier)."""
    fid = parse_int(finding_id, "ID")
    with opened(database_url) as registry:
        emit_receipt(
            verification.close_finding(
                registry, actor=actor, finding_id=fid, idempotency_key=idempotency_key
            )
        )


@verification_app.command("statement")
def verification_statement(
    project: ProjectArg,
    seq: SeqArg,
    opinion: Annotated[str, typer.Option(help="positive or negative.")],
    statement: Annotated[str, typer.Option(help="The verification statement.")],
    actor: ActorOpt,
    verified: Annotated[
        str | None, typer.Option(help="Verified tCO2e (positive opinions only).")
    ] = None,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The verifier's statement: positive with verified tonnes, or negative."""
    number = parse_int(seq, "SEQ")
    tonnes = None if verified is None else parse_tonnes(verified, "--verified")
    with opened(database_url) as registry:
        emit_receipt(
            verification.issue_statement(
                registry,
                actor=actor,
                project=project,
                report_seq=number,
                opinion=cast(verification.Opinion, opinion),  # checked by the service
                verified_tco2e=tonnes,
                statement=statement,
                idempotency_key=idempotency_key,
            )
        )


@verification_app.command("show")
def verification_show(
    project: ProjectArg, seq: SeqArg, database_url: DbOpt = None, as_json: JsonOpt = False
) -> None:
    """A report's verification with its findings."""
    number = parse_int(seq, "SEQ")
    with opened(database_url) as registry:
        emit(verification.get_verification(registry, project, number))


def issue_cmd(
    project: ProjectArg,
    seq: SeqArg,
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue the credits of a positively verified report (admins); once per report."""
    number = parse_int(seq, "SEQ")
    with opened(database_url) as registry:
        emit_receipt(
            issuance.issue(
                registry,
                actor=actor,
                project=project,
                report_seq=number,
                idempotency_key=idempotency_key,
            )
        )


def register(app: typer.Typer) -> None:
    """Add the report and verification groups and ``issue`` to the ``mrv registry`` app."""
    app.add_typer(report_app, name="report")
    app.add_typer(verification_app, name="verification")
    app.command("issue")(issue_cmd)
