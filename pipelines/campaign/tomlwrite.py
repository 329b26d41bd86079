"""Write plain nested mappings as TOML (the campaign and survey files a run stages)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE.match(name) else json.dumps(name, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def dumps(data: Mapping[str, Any], *, header: str = "") -> str:
    """TOML text of ``data``: scalars first, then one ``[table]`` per nested mapping.
    ``None`` values are left out."""
    lines = [f"# {line}" for line in header.splitlines()]

    def table(path: list[str], body: Mapping[str, Any]) -> None:
        scalars = {k: v for k, v in body.items() if v is not None and not isinstance(v, Mapping)}
        subs = {k: v for k, v in body.items() if isinstance(v, Mapping)}
        if path:
            lines.append("")
            lines.append("[" + ".".join(_key(p) for p in path) + "]")
        lines.extend(f"{_key(k)} = {_value(v)}" for k, v in scalars.items())
        for k, v in subs.items():
            table([*path, k], v)

    table([], data)
    return "\n".join(lines).lstrip("\n") + "\n"


__all__ = ["dumps"]
