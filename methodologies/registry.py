"""Registry of methodologies by id and version.

Built-in methodologies are the sub-packages of :mod:`methodologies` that define ``METHODOLOGY``;
others register through the ``mrv.methodologies`` entry-point group (an entry point names a
:class:`~methodologies.base.Methodology` subclass or instance). The registry is immutable:
:meth:`MethodologyRegistry.register` returns a new one and refuses clashes.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from collections.abc import Iterable, Iterator
from functools import cache
from importlib.metadata import entry_points

from methodologies.base import Methodology
from mrv.errors import MethodologyError, UnknownMethodologyError


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


class MethodologyRegistry:
    """Methodologies keyed by ``(id, version)``."""

    def __init__(self, items: Iterable[Methodology] = ()) -> None:
        self._items: dict[tuple[str, str], Methodology] = {}
        for item in items:
            key = (item.id, item.version)
            if key in self._items:
                raise MethodologyError(f"methodology {item.id} {item.version} registered twice")
            self._items[key] = item

    def register(self, item: Methodology, *, overwrite: bool = False) -> MethodologyRegistry:
        """A new registry with ``item`` added; an existing id+version needs ``overwrite``."""
        key = (item.id, item.version)
        if key in self._items and not overwrite:
            raise MethodologyError(f"methodology {item.id} {item.version} is already registered")
        items = {**self._items, key: item}
        return MethodologyRegistry(items.values())

    def __iter__(self) -> Iterator[Methodology]:
        return iter(sorted(self._items.values(), key=lambda m: (m.id, _version_key(m.version))))

    def __len__(self) -> int:
        return len(self._items)

    def ids(self) -> list[str]:
        """Distinct ids, sorted."""
        return sorted({m.id for m in self._items.values()})

    def get(self, methodology_id: str, version: str | None = None) -> Methodology:
        """The methodology with this id (the latest version unless ``version`` is given)."""
        found = [m for (i, _), m in self._items.items() if i == methodology_id]
        if not found:
            raise UnknownMethodologyError(
                f"unknown methodology {methodology_id!r}; available: {', '.join(self.ids())}"
            )
        if version is None:
            return max(found, key=lambda m: _version_key(m.version))
        for m in found:
            if m.version == version:
                return m
        versions = ", ".join(sorted(m.version for m in found))
        raise UnknownMethodologyError(
            f"methodology {methodology_id!r} has no version {version!r}; available: {versions}"
        )


def _builtin() -> list[Methodology]:
    import methodologies as package

    found: list[Methodology] = []
    for info in pkgutil.iter_modules(package.__path__):
        if not info.ispkg or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"methodologies.{info.name}")
        item = getattr(module, "METHODOLOGY", None)
        if isinstance(item, Methodology):
            found.append(item)
    return found


def _plugins() -> list[Methodology]:
    found: list[Methodology] = []
    for ep in entry_points(group="mrv.methodologies"):
        try:
            obj = ep.load()
            item = obj() if isinstance(obj, type) else obj
        except Exception as exc:  # a broken plug-in must not break the CLI
            warnings.warn(f"methodology plug-in {ep.name!r} failed to load: {exc}", stacklevel=2)
            continue
        if isinstance(item, Methodology):
            found.append(item)
        else:
            warnings.warn(f"methodology plug-in {ep.name!r} is not a Methodology", stacklevel=2)
    return found


@cache
def default_registry() -> MethodologyRegistry:
    """Built-in methodologies plus entry-point plug-ins (built once, on first use)."""
    return MethodologyRegistry([*_builtin(), *_plugins()])


def get(methodology_id: str, version: str | None = None) -> Methodology:
    """Shortcut for ``default_registry().get(...)``."""
    return default_registry().get(methodology_id, version)


def catalog() -> list[dict[str, str]]:
    """Every known methodology as ``{"id", "version", "title"}``, sorted by id and version.

    Registered in the ``mrv.methodology_catalog`` entry-point group so that layers below
    :mod:`methodologies` (the registry CLI) can check a methodology id and version without
    importing this package.
    """
    return [{"id": m.id, "version": m.version, "title": m.title} for m in default_registry()]
