"""Kill ``mrv serve`` (SIGKILL) in the middle of concurrent transfers, restart it, and check that
every acknowledged request is there, no tonne is lost or duplicated, and the audit passes.
Runs on SQLite and, when MRV_TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from mrv.registry.audit import audit
from mrv.registry.core import Registry
from mrv.registry.db import make_engine
from mrv.registry.models import JournalEvent
from mrv.registry.queries import holdings
from mrv.registry.sample import build_sample
from mrv.registry.tokens import create_token
from mrv.settings import Settings

HOLDERS = 6
START_T = 1_000


def _serve(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from mrv.cli import main; main()", "serve", "--port", str(port)],
        env={**os.environ, "MRV_DATABASE_URL": url},
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"mrv serve did not start: {log.read_text(errors='replace')}")


def test_sigkill_loses_no_acknowledged_transfer(database_url: str, tmp_path: Path) -> None:
    registry = Registry(make_engine(database_url), Settings(data_dir=tmp_path))
    from mrv.registry.db import migrate

    migrate(registry.engine)
    built = build_sample(
        registry, verified_tco2e=2 * HOLDERS * START_T, holders=HOLDERS, per_holder_tco2e=START_T
    )
    holders, batch = built["holders"], built["batch"]
    tokens = {}
    for h in holders:
        token, _ = create_token(registry, actor="root", party=h, name="fault")
        tokens[h] = token
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    log = tmp_path / "serve.log"
    server = _serve(database_url, port, log)

    sent: list[dict[str, Any]] = []  # every request with its key and whether it was acknowledged
    lock = threading.Lock()
    stop = threading.Event()

    def client(i: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            n = 0
            while not stop.is_set():
                sender, recipient = holders[i], holders[(i + 1 + n % (HOLDERS - 1)) % HOLDERS]
                n += 1
                body = {"from_account": sender, "to_account": recipient, "batch": batch,
                        "quantity": 1}  # fmt: skip
                key = uuid.uuid4().hex
                row = {"key": key, "body": body, "ack": False}
                with lock:
                    sent.append(row)
                try:
                    r = http.post(
                        "/v1/transfers",
                        json=body,
                        headers={
                            "Authorization": f"Bearer {tokens[sender]}",
                            "Idempotency-Key": key,
                        },
                    )
                except httpx.TransportError:
                    time.sleep(0.05)
                    continue
                assert r.status_code in (201, 502, 503), r.text
                row["ack"] = r.status_code == 201

    threads = [threading.Thread(target=client, args=(i,)) for i in range(HOLDERS)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    os.kill(server.pid, signal.SIGKILL)  # mid-flight: requests are being committed right now
    server.wait(timeout=10)
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    acknowledged = {r["key"] for r in sent if r["ack"]}
    assert len(acknowledged) > 20  # the kill did happen in the middle of real traffic

    with registry.read() as conn:
        journaled = set(conn.execute(select(JournalEvent.idempotency_key)).scalars())
    assert acknowledged <= journaled  # every acknowledged request survived the kill
    report = audit(registry)
    assert report["ok"] and report["invariants_ok"] and report["journal_ok"], report["problems"]

    def expected(keys: set[str]) -> dict[str, int]:
        held = dict.fromkeys(holders, START_T)
        for r in sent:
            if r["key"] in keys:
                held[r["body"]["from_account"]] -= 1
                held[r["body"]["to_account"]] += 1
        return held

    actual = {h: holdings(registry, h)["total"]["held"] for h in holders}
    assert actual == expected(journaled & {r["key"] for r in sent})  # nothing lost or duplicated

    # restart and resend every request with its key: committed ones replay, the rest apply once
    server = _serve(database_url, port, log)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for r in sent:
                sender = r["body"]["from_account"]
                resp = http.post(
                    "/v1/transfers",
                    json=r["body"],
                    headers={
                        "Authorization": f"Bearer {tokens[sender]}",
                        "Idempotency-Key": r["key"],
                    },
                )
                assert resp.status_code == 201, resp.text
                assert resp.json()["event"]["replayed"] is (r["key"] in journaled)
    finally:
        server.terminate()
        server.wait(timeout=20)
    actual = {h: holdings(registry, h)["total"]["held"] for h in holders}
    assert actual == expected({r["key"] for r in sent})
    assert sum(actual.values()) == HOLDERS * START_T
    assert audit(registry)["ok"]
    registry.close()
