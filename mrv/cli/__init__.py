"""The ``mrv`` command line.

Sub-commands live beside the code they drive (``methodologies.cli``, ``pipelines.plots.cli`` …)
and register through the ``mrv.cli`` entry-point group, so the core never imports the layers
above it. Bad input exits with code 2 and one clear message listing every problem.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

import typer

from mrv.cli._common import report_error
from mrv.errors import MRVError


def _root() -> None:
    """Carbon-sink MRV for Huzhou: methodologies, plot surveys, registry."""


def build_app(only: str | None = None) -> typer.Typer:
    """The root Typer app with every registered sub-command (or only the one named ``only``).

    Loading one sub-command keeps ``mrv registry …`` from importing the satellite stack.
    """
    app = typer.Typer(
        name="mrv",
        help="Carbon-sink MRV for Huzhou: methodologies, plot surveys, registry.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)  # a group even when only one sub-command is loaded
    registered = sorted(entry_points(group="mrv.cli"), key=lambda e: e.name)
    if only is not None and any(ep.name == only for ep in registered):
        registered = [ep for ep in registered if ep.name == only]
    for ep in registered:
        target = ep.load()
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=ep.name)
        else:
            app.command(ep.name)(target)
    return app


def _wants_json(argv: Sequence[str]) -> bool:
    return "--json" in argv


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    app = build_app(args[0] if args and not args[0].startswith("-") else None)
    try:
        app(args=args, prog_name="mrv")
    except SystemExit as exc:  # Typer/click exit: usage errors are 2, like bad input
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except MRVError as exc:
        return report_error(exc, _wants_json(args))
    return 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
