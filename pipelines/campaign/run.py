"""``run_campaign``: one season from a campaign file to a run folder (layout in the README's
"Campaigns" section): stage inputs → scenes → plot surveys → land cover → carbon density and the
model-assisted stock → removals and the uncertainty deduction → per-parcel attribution →
report → ``run.json``. Written to a temporary sibling and renamed at the end, so a failed run
leaves nothing half-written."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mrv.dask_scheduler import dask_scheduler
from mrv.errors import InputError, MRVError
from mrv.settings import Settings
from pipelines.campaign import steps
from pipelines.campaign.config import Campaign
from pipelines.campaign.progress import Stages
from pipelines.campaign.record import run_record
from pipelines.campaign.stage import stage_inputs

log = logging.getLogger("mrv.campaign")

STAGES = (
    "stage inputs",
    "scenes",
    "plot surveys",
    "land cover",
    "carbon density",
    "removals",
    "report",
)


@contextmanager
def _log_to(path: Path) -> Iterator[None]:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        handler.close()


def campaign_seed(campaign: Campaign) -> int:
    """A seed for the model fits derived from the campaign id (same id → same numbers)."""
    digest = hashlib.sha256(campaign.spec.campaign.id.encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _prepare(out_dir: Path, force: bool) -> Path:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not force:
        raise InputError(f"{out_dir}: output folder exists and is not empty (use --force)")
    tmp = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "outputs").mkdir(parents=True)
    (tmp / "work").mkdir()
    return tmp


def name_sources(exc: MRVError, sources: dict[Path, Path], tmp: Path) -> MRVError:
    """The error with staged copies named by the user's files they came from."""

    def fix(text: str) -> str:
        for staged, source in sorted(sources.items(), key=lambda kv: -len(str(kv[0]))):
            text = text.replace(str(staged), str(source))
        return text.replace(str(tmp), "<run folder>")

    problems = getattr(exc, "problems", None)
    if problems:
        exc.problems = tuple(  # type: ignore[attr-defined]
            dataclasses.replace(p, file=fix(p.file) if p.file else p.file, reason=fix(p.reason))
            for p in problems
        )
    exc.args = tuple(fix(a) if isinstance(a, str) else a for a in exc.args)
    return exc


def run_campaign(
    campaign: Campaign,
    out_dir: Path,
    *,
    scheduler: str | None = None,
    settings: Settings | None = None,
    progress: bool = True,
    force: bool = False,
    report: bool | None = None,
) -> dict[str, Any]:
    """Run the season; returns ``outputs/summary.json``'s content (README, "Campaigns").

    ``report`` overrides the file's ``[outputs] report`` (a verifier's re-run skips the
    rendering: reports are not compared)."""
    settings = settings or Settings()
    out_dir = Path(out_dir).absolute()
    tmp = _prepare(out_dir, force)
    started = datetime.now(UTC)
    sources: dict[Path, Path] = {}
    t0 = time.perf_counter()
    try:
        with _log_to(tmp / "run.log"), Stages(STAGES, enabled=progress) as stages:
            log.info("campaign %s from %s", campaign.spec.campaign.id, campaign.path)
            with stages.step("stage inputs"):
                staged, sources = stage_inputs(campaign, tmp)
            with dask_scheduler(scheduler or settings.dask_scheduler):
                summary, generated = steps.compute(
                    staged, tmp, settings, stages, campaign_seed(staged)
                )
            record = run_record(
                staged,
                tmp,
                started=started,
                duration_s=time.perf_counter() - t0,
                scheduler=scheduler or settings.dask_scheduler,
                generated=generated,
            )
            (tmp / "run.json").write_text(
                json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
            with stages.step("report"):  # after run.json: the report shows the code version
                if staged.spec.outputs.report if report is None else report:
                    from pipelines.report import render_report

                    render_report(tmp)
                    log.info("report written")
            log.info("run finished in %.1f s", time.perf_counter() - t0)
    except MRVError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise name_sources(exc, sources, tmp) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return summary


__all__ = ["STAGES", "campaign_seed", "run_campaign"]
