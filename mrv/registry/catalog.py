"""The methodology catalogue the registry checks projects against (entry points).

:mod:`mrv` must not import :mod:`methodologies` (dependency direction), so the catalogue comes
through the ``mrv.methodology_catalog`` entry-point group (``methodologies.registry:catalog``).
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

from mrv.errors import RegistryInputError

CATALOG_GROUP = "mrv.methodology_catalog"
log = logging.getLogger("mrv.registry")


def methodology_catalog() -> list[dict[str, Any]] | None:
    """Methodologies of every installed catalogue (``id``, ``version``, …); None if none is."""
    eps = list(entry_points(group=CATALOG_GROUP))
    if not eps:
        return None
    items: list[dict[str, Any]] = []
    for ep in sorted(eps, key=lambda e: e.name):
        items.extend(ep.load()())
    return items


def check_methodology(methodology_id: str, version: str) -> None:
    """Refuse a methodology id + version that no installed catalogue knows.

    With no catalogue installed the check is skipped with a logged warning.
    """
    known = methodology_catalog()
    if known is None:
        log.warning(
            "no methodology catalogue installed (%s); methodology %s %s is not checked",
            CATALOG_GROUP,
            methodology_id,
            version,
        )
        return
    if any(m["id"] == methodology_id and m["version"] == version for m in known):
        return
    listed = ", ".join(f"{m['id']} {m['version']}" for m in known)
    raise RegistryInputError(
        f"unknown methodology {methodology_id} {version} (known: {listed})",
        field="methodology_id",
        known=[{"id": m["id"], "version": m["version"]} for m in known],
    )


__all__ = ["CATALOG_GROUP", "check_methodology", "methodology_catalog"]
