"""``mrv serve`` (the API with uvicorn) and ``mrv admin create-party|create-token|revoke-token``."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.serving import APP, VERBOSE_LEVELS, EventLoop, HttpParser, run_server, supervise
from mrv.registry.cli import party_create
from mrv.registry.cli_common import ActorOpt, DbOpt, JsonOpt, KeyOpt, emit, emit_receipt, opened

if TYPE_CHECKING:
    pass

admin_app = typer.Typer(help="Administration: parties and API tokens.", no_args_is_help=True)
admin_app.command("create-party")(party_create)


@admin_app.command("create-token")
def create_token_command(
    party: Annotated[str, typer.Argument(help="The party the token acts for.")],
    actor: ActorOpt,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "api",
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", min=1, help="Valid for this many days.")
    ] = None,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API token for a party (admins); the token is printed once, never stored."""
    from mrv.registry.tokens import create_token

    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_days) if expires_days else None
    with opened(database_url) as registry:
        token, receipt = create_token(
            registry,
            actor=actor,
            party=party,
            name=name,
            expires_at=expires,
            idempotency_key=idempotency_key,
        )
    emit({"token": token, **receipt.to_dict()})


@admin_app.command("revoke-token")
def revoke_token_command(
    token_id: Annotated[int, typer.Argument(help="The token's id (from create-token).")],
    actor: ActorOpt,
    database_url: DbOpt = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke an API token (admins)."""
    from mrv.registry.tokens import revoke_token

    with opened(database_url) as registry:
        emit_receipt(
            revoke_token(registry, actor=actor, token_id=token_id, idempotency_key=idempotency_key)
        )


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    reuse_port: Annotated[
        bool,
        typer.Option(
            help="With several workers, give each its own listening socket (SO_REUSEPORT, "
            "Linux) so that the kernel spreads connections over them; otherwise the workers "
            "share one socket and whichever wakes first accepts a whole burst of connections "
            "(often all of them).",
        ),
    ] = True,
    http: Annotated[
        HttpParser, typer.Option(help="HTTP parser (auto: httptools when installed).")
    ] = HttpParser.auto,
    loop: Annotated[EventLoop, typer.Option(help="Event loop (auto: uvloop when installed).")] = (
        EventLoop.auto
    ),
    access_log: Annotated[
        bool | None,
        typer.Option(help="Log every request (default: when the log level is info or lower)."),
    ] = None,
    backlog: Annotated[int, typer.Option(min=1, help="Pending connections per socket.")] = 2048,
) -> None:
    """Serve the API (settings from MRV_* variables; the database is migrated at start)."""
    import uvicorn

    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": log_level,
        "proxy_headers": False,
        "http": http.value,
        "loop": loop.value,
        "access_log": (
            access_log if access_log is not None else log_level.lower() in VERBOSE_LEVELS
        ),
        "backlog": backlog,
    }
    if workers == 1:
        from uvicorn.config import STARTUP_FAILURE

        if not run_server(uvicorn.Config(APP, **options)):
            raise typer.Exit(STARTUP_FAILURE)
    elif reuse_port and sys.platform.startswith("linux"):
        raise typer.Exit(supervise(uvicorn.Config(APP, **options), workers))
    else:
        uvicorn.run(APP, **options)


__all__ = ["admin_app", "serve"]
