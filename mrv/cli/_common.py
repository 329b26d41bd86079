"""Shared CLI plumbing: output, atomic file writes, error reporting and exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from mrv.atomic import write_text_atomic
from mrv.errors import InputError, MRVError, Problem, RegistryError, UnknownMethodologyError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
MAX_TEXT_PROBLEMS = 500


def to_json(data: Any) -> str:
    """Pretty JSON, UTF-8 characters kept, NaN refused."""
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False, default=str)


def print_json(data: Any) -> None:
    """Write one JSON document to stdout."""
    sys.stdout.write(to_json(data) + "\n")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file so no half-written file remains."""
    write_text_atomic(path, text)


def stderr() -> Console:
    """A console on stderr (no colour when not a terminal)."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def problems_text(problems: list[Problem], limit: int = MAX_TEXT_PROBLEMS) -> str:
    """Problems one per line, ``file, row N, column C: reason [warning]``."""
    lines = [f"  {p}" + (" [warning]" if p.severity == "warning" else "") for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  … and {len(problems) - limit} more (use --json to list all)")
    return "\n".join(lines)


def report_error(exc: MRVError, as_json: bool) -> int:
    """Print an error (JSON on stdout with --json, text on stderr) and return the exit code."""
    bad_input = isinstance(exc, InputError | UnknownMethodologyError | RegistryError)
    code = EXIT_BAD_INPUT if bad_input else EXIT_FAILURE
    problems = list(getattr(exc, "problems", ()))
    message = str(exc).split("\n", 1)[0]
    if as_json:
        print_json(
            {
                "ok": False,
                "error": type(exc).__name__,
                "message": message,
                "problems": [p.to_dict() for p in problems],
                **(
                    {"code": exc.code, "detail": exc.detail}
                    if isinstance(exc, RegistryError)
                    else {}
                ),
            }
        )
    err = stderr()
    err.print(f"error: {message}", markup=False)
    if problems:
        err.print(problems_text(problems), markup=False)
    return code
