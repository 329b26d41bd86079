"""Line numbers of TOML keys, for error messages (``tomllib`` keeps none)."""

from __future__ import annotations

import re
from collections.abc import Sequence

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
_KEY = rf"(?:{_BARE}|{_QUOTED})"
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_DOTTED})\s*=")


def _parts(dotted: str) -> list[str]:
    out = []
    for m in re.finditer(_KEY, dotted):
        token = m.group(0)
        out.append(token[1:-1] if token[0] in "\"'" else token)
    return out


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Every table header and key (full dotted path) with the 1-based line that defines it.

    Keys inside inline tables on the defining line are included; lines inside multi-line
    strings are not recognised as keys only when they do not look like ``key = …``.
    """
    table: list[str] = []
    found: dict[tuple[str, ...], int] = {}
    for no, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _parts(header.group(1))
            found.setdefault(tuple(table), no)
            continue
        assign = _ASSIGN.match(line)
        if not assign:
            continue
        path = [*table, *_parts(assign.group(1))]
        found.setdefault(tuple(path), no)
        rest = line[assign.end() :]
        for m in _INLINE_KEY.finditer(rest):
            found.setdefault((*path, *_parts(m.group(1))), no)
    return found


def key_line(text: str, keys: Sequence[str]) -> int | None:
    """Line of the deepest defined prefix of ``keys`` (the key, else its table), or None."""
    found = key_lines(text)
    for n in range(len(keys), 0, -1):
        line = found.get(tuple(keys[:n]))
        if line is not None:
            return line
    return None


__all__ = ["key_line", "key_lines"]
