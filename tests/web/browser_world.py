"""The browser test's world and server: registry state built with the registry's own functions,
the toy evidence package stored where the app keeps packages, and the real app served by uvicorn
on 127.0.0.1 in a background thread.

World: the sample registry (:func:`mrv.registry.sample.build_sample`: a registered moso-bamboo
project ``SAMPLE`` with an issued batch, credits transferred to the buyer ``h0000``) plus a
second monitoring report of ``SAMPLE`` whose evidence is the signed toy package
(:mod:`tests.package.toyrun`), submitted by the cooperative and assigned by the bureau to the
independent verifier ``verifier``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import socket
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from api.app import create_app
from mrv.registry.core import Registry
from mrv.registry.monitoring import submit_report
from mrv.registry.sample import build_sample
from mrv.registry.tokens import create_token
from mrv.registry.verification import assign_verifier
from mrv.settings import Settings
from pipelines.package.build import build_package
from pipelines.package.keys import generate_key, save_key
from pipelines.package.verify import verify_package
from tests.package.toyrun import compute, make_run

BUYER_HOLDS = 300
"""Tonnes the sample transfers to the buyer."""
REVIEW_CLAIM = 480
"""Tonnes claimed by the report under review."""


@dataclass(frozen=True)
class World:
    """What the browser test acts on and checks against."""

    project: str
    report_seq: int
    verifier: str
    verifier_token: str
    buyer: str
    buyer_token: str
    batch: str
    package_sha256: str
    package_files: list[str]
    """The package manifest's file paths."""


def _token(registry: Registry, party: str) -> str:
    token, _ = create_token(registry, actor="root", party=party, name="browser test")
    assert token is not None
    return token


def build_world(registry: Registry, data_dir: Path, work: Path) -> World:
    """Build the registry state and store the package under ``data_dir/packages/``."""
    sample = build_sample(registry, holders=1, per_holder_tco2e=BUYER_HOLDS)
    work.mkdir(parents=True, exist_ok=True)
    save_key(generate_key(), work / "measurer.key")
    run = make_run(work / "run")
    data = build_package(run, work / "measurer.key", work / "package.zip").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    (data_dir / "packages").mkdir(parents=True, exist_ok=True)
    (data_dir / "packages" / f"{sha}.zip").write_bytes(data)
    with zipfile.ZipFile(work / "package.zip") as zf:
        manifest = json.loads(zf.read("manifest.json"))
    files = [str(f["path"]) for f in manifest["files"]]

    project = str(sample["project"])
    # the sample's report covers last year; this one the first two months of this year
    today = registry.clock().date()
    submit_report(
        registry,
        actor=str(sample["cooperative"]),
        project=project,
        period_start=dt.date(today.year, 1, 1),
        period_end=dt.date(today.year, 2, 28),
        evidence_sha256=sha,
        claimed_tco2e=REVIEW_CLAIM,
    )
    assign_verifier(
        registry, actor="bureau", project=project, report_seq=2, verifier=sample["verifier"]
    )
    buyer = str(sample["holders"][0])
    return World(
        project=project,
        report_seq=2,
        verifier=str(sample["verifier"]),
        verifier_token=_token(registry, str(sample["verifier"])),
        buyer=buyer,
        buyer_token=_token(registry, buyer),
        batch=str(sample["batch"]),
        package_sha256=sha,
        package_files=files,
    )


@contextmanager
def serve(registry: Registry, settings: Settings) -> Iterator[str]:
    """The real app on ``registry`` served by uvicorn on 127.0.0.1 (a free port) in a thread;
    yields its base URL once ``/v1/health`` answers, and stops the server afterwards."""
    app = create_app(settings, registry=registry)
    # the re-run of a package recomputes the toy run instead of a whole campaign
    app.state.package_verifier = functools.partial(verify_package, recompute=compute)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/v1/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server did not start on {base}")
            time.sleep(0.05)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
