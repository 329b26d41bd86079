"""Progress of a campaign run: one bar over its stages (on stderr, so ``--json`` stays clean)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

log = logging.getLogger("mrv.campaign")


class Stages:
    """``with Stages(names) as s: with s.step(name): …`` — a bar and a log line per stage."""

    def __init__(self, names: Sequence[str], *, enabled: bool = True) -> None:
        self.names = list(names)
        self.timings: dict[str, float] = {}
        self._progress = (
            Progress(
                TextColumn("{task.description:<16}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            if enabled
            else None
        )
        self._task: TaskID | None = None

    def __enter__(self) -> Stages:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(self.names[0], total=len(self.names))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Run one stage: show it, time it, log it, advance the bar."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=name)
        log.info("stage %s started", name)
        t0 = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - t0
        log.info("stage %s done in %.2f s", name, self.timings[name])
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)


__all__ = ["Stages"]
