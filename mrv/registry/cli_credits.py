"""``mrv registry credits|lot|retire|certificate|distribution|journal|audit|export …``.

Credits move in whole tonnes (``--quantity`` 0, -1 or 1.5 is refused with exit code 2);
prices, fees and payments are decimal yuan given as text and handed to the services unchanged.
``audit`` and ``certificate verify`` exit with code 1 when the check fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mrv.atomic import write_bytes_atomic
from mrv.cli._common import to_json, write_atomic
from mrv.registry import (
    certificate,
    credits,
    distribution,
    exports,
    queries,
    retirement,
    trading,
)
from mrv.registry.audit import audit
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
    parse_opt_date,
    parse_tonnes,
)

credits_app = typer.Typer(help="Credits: transfers, cancellations, holdings.", no_args_is_help=True)
lot_app = typer.Typer(help="Trading lots at the Huzhou green trading centre.", no_args_is_help=True)
certificate_app = typer.Typer(help="Retirement certificates.", no_args_is_help=True)
distribution_app = typer.Typer(help="Benefit distribution to owners.", no_args_is_help=True)
export_app = typer.Typer(help="Exchange formats.", no_args_is_help=True)

AccountOpt = Annotated[str, typer.Option("--account", help="The holding account (party code).")]
BatchOpt = Annotated[str, typer.Option("--batch", help="The batch's serial prefix.")]
QuantityOpt = Annotated[str, typer.Option("--quantity", help="Whole tCO2e.")]
LotArg = Annotated[str, typer.Argument(metavar="LOT", help="Lot code.")]
CertArg = Annotated[str, typer.Argument(metavar="NO", help="Certificate number.")]
OutOpt = Annotated[Path, typer.Option("--out", metavar="FILE", help="Where to write it.")]

# -- credits -----------------------------------------------------------------------------------


@credits_app.command("transfer")
def credits_transfer(
    from_account: Annotated[str, typer.Option("--from", help="The sender (the actor's account).")],
    to_account: Annotated[str, typer.Option("--to", help="The recipient account.")],
    batch: BatchOpt,
    quantity: QuantityOpt,
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Transfer held credits from the actor's account to another."""
    tonnes = parse_tonnes(quantity, "--quantity")
    with opened(database_url) as registry:
        emit_receipt(
            credits.transfer(
                registry,
                actor=actor,
                from_account=from_account,
                to_account=to_account,
                batch=batch,
                quantity=tonnes,
                idempotency_key=idempotency_key,
            )
        )


@credits_app.command("cancel")
def credits_cancel(
    account: AccountOpt,
    batch: BatchOpt,
    quantity: QuantityOpt,
    reason_code: Annotated[str, typer.Option(help="correction, reversal, fraud, export or other.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the journal).")],
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel held credits (the holder; admins for fraud or correction, CCER Art. 43)."""
    tonnes = parse_tonnes(quantity, "--quantity")
    with opened(database_url) as registry:
        emit_receipt(
            credits.cancel(
                registry,
                actor=actor,
                account=account,
                batch=batch,
                quantity=tonnes,
                reason_code=reason_code,
                reason=reason,
                idempotency_key=idempotency_key,
            )
        )


@credits_app.command("holdings")
def credits_holdings(
    account: Annotated[str, typer.Argument(metavar="ACCOUNT")],
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tonnes an account holds per batch and status."""
    with opened(database_url) as registry:
        emit(queries.holdings(registry, account))


@credits_app.command("batch")
def credits_batch(
    prefix: Annotated[str, typer.Argument(metavar="PREFIX", help="The batch's serial prefix.")],
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A batch with its totals by status."""
    with opened(database_url) as registry:
        emit(queries.batch_summary(registry, prefix))


@credits_app.command("blocks")
def credits_blocks(
    batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
    status: Annotated[str | None, typer.Option(help="held, listed, retired …")] = None,
    after: Annotated[str, typer.Option(help="Cursor: blocks after this block id.")] = "0",
    limit: Annotated[str, typer.Option(help="Page size (at most 1000).")] = "1000",
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Active credit blocks, paginated by block id (``next_cursor``)."""
    after_id = parse_int(after, "--after")
    page = parse_int(limit, "--limit")
    with opened(database_url) as registry:
        emit(
            queries.blocks(
                registry,
                batch=batch,
                account=account,
                status=status,
                after_id=after_id,
                limit=page,
            )
        )


@credits_app.command("serial")
def credits_serial(
    prefix: Annotated[str, typer.Argument(metavar="PREFIX", help="The batch's serial prefix.")],
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="Serial number in the batch.")],
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The block holding one serial number, with its lineage."""
    serial = parse_int(number, "NUMBER")
    with opened(database_url) as registry:
        emit(queries.find_serial(registry, prefix, serial))


@credits_app.command("export")
def credits_export(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv")],
    batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write every active block (serial range, status, account, batch …) to CSV, atomically."""
    with opened(database_url) as registry:
        rows = exports.credits_csv(registry, file, batch=batch, account=account)
    emit({"file": str(file), "rows": rows})


def reversal_cmd(
    project: Annotated[str, typer.Argument(metavar="PROJECT")],
    loss: Annotated[str, typer.Option(help="Carbon lost, whole tCO2e.")],
    kind: Annotated[str, typer.Option(help="reported or detected.")],
    description: Annotated[str, typer.Option(help="What happened.")],
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a reversal; as many buffer credits are cancelled."""
    tonnes = parse_tonnes(loss, "--loss")
    with opened(database_url) as registry:
        emit_receipt(
            credits.report_reversal(
                registry,
                actor=actor,
                project=project,
                loss_tco2e=tonnes,
                kind=kind,
                description=description,
                idempotency_key=idempotency_key,
            )
        )


# -- trading -----------------------------------------------------------------------------------


@lot_app.command("create")
def lot_create(
    account: AccountOpt,
    batch: BatchOpt,
    quantity: QuantityOpt,
    ask_yuan_per_t: Annotated[str, typer.Option(help="Asking price, yuan per tonne.")],
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List held credits for sale; they are locked while listed."""
    tonnes = parse_tonnes(quantity, "--quantity")
    with opened(database_url) as registry:
        emit_receipt(
            trading.list_lot(
                registry,
                actor=actor,
                account=account,
                batch=batch,
                quantity=tonnes,
                ask_yuan_per_t=ask_yuan_per_t,
                idempotency_key=idempotency_key,
            )
        )


@lot_app.command("settle")
def lot_settle(
    lot: LotArg,
    buyer: Annotated[str, typer.Option(help="The buyer's account.")],
    price_yuan_per_t: Annotated[str, typer.Option(help="Settled price, yuan per tonne.")],
    fees_yuan: Annotated[str, typer.Option(help="Trading fees, yuan.")],
    trade_ref: Annotated[str, typer.Option(help="The trading centre's confirmation id.")],
    actor: ActorOpt,
    settled_on: Annotated[str | None, typer.Option(help="Day (default today).")] = None,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Settle a lot to a buyer (the trading centre) and write its benefit distribution."""
    day = parse_opt_date(settled_on, "--settled-on")
    with opened(database_url) as registry:
        emit_receipt(
            trading.settle_lot(
                registry,
                actor=actor,
                lot=lot,
                buyer=buyer,
                price_yuan_per_t=price_yuan_per_t,
                fees_yuan=fees_yuan,
                trade_ref=trade_ref,
                settled_on=day,
                idempotency_key=idempotency_key,
            )
        )


@lot_app.command("withdraw")
def lot_withdraw(
    lot: LotArg,
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw a listed lot (seller or trading centre); its credits are held again."""
    with opened(database_url) as registry:
        emit_receipt(
            trading.withdraw_lot(registry, actor=actor, lot=lot, idempotency_key=idempotency_key)
        )


@lot_app.command("show")
def lot_show(lot: LotArg, database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """One trading lot."""
    with opened(database_url) as registry:
        emit(trading.get_lot(registry, lot))


def price_cmd(
    on: Annotated[str | None, typer.Option(help="Last day of the window (default today).")] = None,
    window: Annotated[str, typer.Option(help="Trading days in the window.")] = str(
        trading.REFERENCE_WINDOW_TRADING_DAYS
    ),
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Volume-weighted reference price of settled lots over the last N trading days."""
    day = parse_opt_date(on, "--on")
    days = parse_int(window, "--window")
    with opened(database_url) as registry:
        emit(trading.reference_price(registry, day or registry.today(), days))


# -- retirement --------------------------------------------------------------------------------


def retire_cmd(
    account: AccountOpt,
    batch: BatchOpt,
    quantity: QuantityOpt,
    purpose: Annotated[
        str,
        typer.Option(
            help="voluntary, offsetting, ecological_compensation or judicial_restoration."
        ),
    ],
    beneficiary: Annotated[str, typer.Option(help="On whose behalf.")],
    actor: ActorOpt,
    reason: Annotated[str | None, typer.Option(help="Free text.")] = None,
    case_number: Annotated[str | None, typer.Option(help="Judicial: the case number.")] = None,
    court: Annotated[str | None, typer.Option(help="Judicial: court or procuratorate.")] = None,
    payer: Annotated[str | None, typer.Option(help="Judicial: who pays.")] = None,
    restoration_site: Annotated[
        str | None, typer.Option(help="Judicial: the restoration site.")
    ] = None,
    judgment: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Judgment document (its SHA-256 is kept).")
    ] = None,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Retire held credits for a purpose and beneficiary; prints the certificate record."""
    tonnes = parse_tonnes(quantity, "--quantity")
    digest = None if judgment is None else file_sha256(judgment, "--judgment")
    with opened(database_url) as registry:
        emit_receipt(
            retirement.retire(
                registry,
                actor=actor,
                account=account,
                batch=batch,
                quantity=tonnes,
                purpose=purpose,
                beneficiary=beneficiary,
                reason=reason,
                case_number=case_number,
                court=court,
                payer=payer,
                restoration_site=restoration_site,
                judgment_sha256=digest,
                idempotency_key=idempotency_key,
            )
        )


@certificate_app.command("show")
def certificate_show(number: CertArg, database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """A retirement certificate's content and hash."""
    with opened(database_url) as registry:
        emit(retirement.get_retirement(registry, number))


@certificate_app.command("html")
def certificate_html(
    number: CertArg, out: OutOpt, database_url: DbOpt = None, as_json: JsonOpt = False
) -> None:
    """Render a certificate as bilingual HTML."""
    with opened(database_url) as registry:
        html = certificate.certificate_html(registry, number)
    write_atomic(out, html)
    emit({"certificate_no": number, "file": str(out), "bytes": len(html.encode("utf-8"))})


@certificate_app.command("pdf")
def certificate_pdf(
    number: CertArg, out: OutOpt, database_url: DbOpt = None, as_json: JsonOpt = False
) -> None:
    """Render a certificate as PDF."""
    with opened(database_url) as registry:
        data = certificate.certificate_pdf(registry, number)
    write_bytes_atomic(out, data)
    emit({"certificate_no": number, "file": str(out), "bytes": len(data)})


@certificate_app.command("verify")
def certificate_verify(
    number: CertArg, database_url: DbOpt = None, as_json: JsonOpt = False
) -> None:
    """Recompute a certificate's hash against its record and the journal (exit 1 if not ok)."""
    with opened(database_url) as registry:
        result = certificate.verify_certificate(registry, number)
    emit(result)
    if not result["ok"]:
        raise typer.Exit(code=1)


# -- distribution ------------------------------------------------------------------------------


@distribution_app.command("show")
def distribution_show(lot: LotArg, database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The benefit distribution of a settled lot."""
    with opened(database_url) as registry:
        emit(distribution.get_distribution(registry, lot))


@distribution_app.command("statement")
def distribution_statement(
    lot: Annotated[str | None, typer.Option(help="Only this lot.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner.")] = None,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Due, paid and outstanding per owner and parcel (with line ids for payments)."""
    with opened(database_url) as registry:
        emit(distribution.distribution_statement(registry, lot=lot, owner=owner))


@distribution_app.command("pay")
def distribution_pay(
    line_id: Annotated[str, typer.Argument(metavar="LINE_ID")],
    amount_yuan: Annotated[str, typer.Option(help="Amount paid, yuan.")],
    bank_reference: Annotated[str, typer.Option(help="Bank reference (proof of payment).")],
    paid_on: Annotated[str, typer.Option(help="Day paid, YYYY-MM-DD.")],
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a payment to an owner against a distribution line (the proponent)."""
    line = parse_int(line_id, "LINE_ID")
    day = parse_date(paid_on, "--paid-on")
    with opened(database_url) as registry:
        emit_receipt(
            distribution.record_payment(
                registry,
                actor=actor,
                line_id=line,
                amount_yuan=amount_yuan,
                bank_reference=bank_reference,
                paid_on=day,
                idempotency_key=idempotency_key,
            )
        )


# -- journal, audit, exports -------------------------------------------------------------------


def journal_cmd(
    stream: Annotated[str | None, typer.Option(help="Only this stream (project:X …).")] = None,
    after: Annotated[str, typer.Option(help="Cursor: events after this id.")] = "0",
    limit: Annotated[str, typer.Option(help="Page size (at most 1000).")] = "100",
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Journal events in order, paginated by event id (``next_cursor``)."""
    after_id = parse_int(after, "--after")
    page = parse_int(limit, "--limit")
    with opened(database_url) as registry:
        emit(queries.journal(registry, stream=stream, after_id=after_id, limit=page))


def audit_cmd(database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Re-verify every journal chain and invariant (exit 1 if anything is wrong)."""
    with opened(database_url) as registry:
        result = audit(registry)
    if as_json:
        emit(result)
    else:
        verdict = "OK" if result["ok"] else "FAILED"
        typer.echo(
            f"audit {verdict}: journal {'ok' if result['journal_ok'] else 'BROKEN'} "
            f"({result['events']} events in {result['streams']} streams), invariants "
            f"{'ok' if result['invariants_ok'] else 'VIOLATED'} ({result['batches']} batches)"
        )
        for problem in result["problems"]:
            typer.echo(f"  {to_json(problem).replace(chr(10), ' ')}")
    if not result["ok"]:
        raise typer.Exit(code=1)


@export_app.command("cadt")
def export_cadt(
    file: Annotated[Path, typer.Argument(metavar="FILE.json")],
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the public registry data in CADT's shape (projects, issuances, units …)."""
    with opened(database_url) as registry:
        data = exports.cadt_export(registry)
    write_atomic(file, to_json(data) + "\n")
    emit({"file": str(file), **{table: len(rows) for table, rows in data.items()}})


def register(app: typer.Typer) -> None:
    """Add the credit, trading, retirement, distribution, journal and export commands."""
    app.add_typer(credits_app, name="credits")
    app.command("reversal")(reversal_cmd)
    app.add_typer(lot_app, name="lot")
    app.command("price")(price_cmd)
    app.command("retire")(retire_cmd)
    app.add_typer(certificate_app, name="certificate")
    app.add_typer(distribution_app, name="distribution")
    app.command("journal")(journal_cmd)
    app.command("audit")(audit_cmd)
    app.add_typer(export_app, name="export")
