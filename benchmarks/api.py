"""API throughput: concurrent HTTP transfers against ``mrv serve``, then the audit.

    python -m benchmarks.api --database-url postgresql://postgres@127.0.0.1:5432/DB \
        --clients 32 --seconds 30 --json [--workers 2]

A fresh PostgreSQL schema gets a sample registry (:func:`mrv.registry.sample.build_sample`: a
batch spread over ``--accounts`` holders, each with an API token); ``mrv serve`` runs on it in
its own process(es); ``--clients`` concurrent httpx async clients (spread over ``--processes``
client processes, an asyncio loop each) post random transfers (1–5 t) between holders, each with
its sender's token, for ``--seconds``. Prints ``req_per_s``,
``p50_ms``, ``p99_ms``, ``errors`` (anything but 201 and 409 insufficient credits) and the audit
afterwards (``invariants_ok``, ``journal_ok``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from benchmarks.registry import PER_ACCOUNT_TCO2E, _drop_schema, _fresh_schema
from mrv.registry.audit import audit
from mrv.registry.core import Registry
from mrv.registry.db import make_engine, migrate
from mrv.registry.sample import build_sample
from mrv.registry.tokens import create_token
from mrv.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(url: str, accounts: int) -> tuple[str, dict[str, str]]:
    registry = Registry(make_engine(url), Settings())
    migrate(registry.engine)
    built = build_sample(
        registry,
        verified_tco2e=2 * PER_ACCOUNT_TCO2E * accounts,
        holders=accounts,
        per_holder_tco2e=PER_ACCOUNT_TCO2E,
    )
    tokens = {}
    for holder in built["holders"]:
        token, _ = create_token(registry, actor="root", party=holder, name="bench")
        assert token is not None
        tokens[holder] = token
    registry.close()
    return str(built["batch"]), tokens


def _start(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MRV_DATABASE_URL": url}
    cmd = [sys.executable, "-c", "from mrv.cli import main; main()", "serve"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("mrv serve did not start")


async def _client(
    http: httpx.AsyncClient,
    tokens: dict[str, str],
    batch: str,
    deadline: float,
    seed: int,
    latencies: list[float],
    counts: dict[str, int],
) -> None:
    rng = random.Random(seed)
    holders = list(tokens)
    while time.perf_counter() < deadline:
        sender, recipient = rng.sample(holders, 2)
        body = {
            "from_account": sender,
            "to_account": recipient,
            "batch": batch,
            "quantity": rng.randint(1, 5),
        }
        t0 = time.perf_counter()
        try:
            r = await http.post(
                "/v1/transfers", json=body, headers={"Authorization": f"Bearer {tokens[sender]}"}
            )
        except httpx.HTTPError:
            counts["errors"] += 1
            continue
        latencies.append(time.perf_counter() - t0)
        if r.status_code == 201:
            counts["ok"] += 1
        elif r.status_code == 409 and r.json().get("code") == "insufficient-credits":
            counts["refused_insufficient"] += 1
        else:
            counts["errors"] += 1


async def _load(
    port: int, tokens: dict[str, str], batch: str, clients: int, seconds: float, seed: int
) -> tuple[list[float], dict[str, int], float]:
    """``clients`` concurrent tasks, each with its own keep-alive ``httpx.AsyncClient`` (one
    shared pool serialises on its lock at this concurrency)."""
    latencies: list[float] = []
    counts = {"ok": 0, "refused_insufficient": 0, "errors": 0}
    base = f"http://127.0.0.1:{port}"
    https = [httpx.AsyncClient(base_url=base, timeout=30) for _ in range(clients)]
    try:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _client(http, tokens, batch, deadline, seed * 1000 + i, latencies, counts)
                for i, http in enumerate(https)
            )
        )
        wall = time.perf_counter() - started
    finally:
        for http in https:
            await http.aclose()
    return latencies, counts, wall


def _client_process(
    port: int, tokens: dict[str, str], batch: str, clients: int, seconds: float, seed: int,
    out: Any,
) -> None:  # fmt: skip
    latencies, counts, wall = asyncio.run(_load(port, tokens, batch, clients, seconds, seed))
    out.put({"latencies": latencies, "counts": counts, "wall": wall})


def _run_clients(
    port: int, tokens: dict[str, str], batch: str, clients: int, seconds: float, processes: int
) -> tuple[list[float], dict[str, int], float]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    shares = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    procs = [
        ctx.Process(target=_client_process, args=(port, tokens, batch, n, seconds, i, out))
        for i, n in enumerate(shares)
        if n
    ]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = [x for r in results for x in r["latencies"]]
    counts = {k: sum(r["counts"][k] for r in results) for k in results[0]["counts"]}
    return latencies, counts, max(r["wall"] for r in results)


def run(
    url: str, clients: int, seconds: float, accounts: int, workers: int, processes: int
) -> dict[str, Any]:
    """Seed, serve, load, audit; returns the figures."""
    work_url, schema = _fresh_schema(url)
    try:
        batch, tokens = _seed(work_url, accounts)
        port = _free_port()
        server = _start(work_url, port, workers)
        try:
            latencies, counts, wall = _run_clients(port, tokens, batch, clients, seconds, processes)
        finally:
            server.terminate()
            server.wait(timeout=30)
        registry = Registry(make_engine(work_url), Settings())
        report = audit(registry)
        registry.close()
    finally:
        _drop_schema(url, schema)
    latencies.sort()
    n = len(latencies)

    def pct(q: float) -> float:
        return round(1000 * latencies[min(n - 1, int(q * n))], 2) if n else float("nan")

    return {
        "benchmark": "api",
        "clients": clients,
        "client_processes": processes,
        "server_workers": workers,
        "seconds": round(wall, 2),
        "requests": n,
        "req_per_s": round(n / wall, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "transfers": counts["ok"],
        "refused_insufficient": counts["refused_insufficient"],
        "errors": counts["errors"],
        "invariants_ok": report["invariants_ok"],
        "journal_ok": report["journal_ok"],
        "audit_ok": report["ok"],
        "events": report["events"],
        "cpus": os.cpu_count(),
    }


def main() -> None:
    """Parse arguments, run, print JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--database-url", required=True, help="PostgreSQL URL (a schema is made)")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--accounts", type=int, default=256)
    ap.add_argument("--workers", type=int, default=2, help="mrv serve worker processes")
    ap.add_argument("--processes", type=int, default=2, help="client processes (asyncio each)")
    ap.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    args = ap.parse_args()
    result = run(
        args.database_url, args.clients, args.seconds, args.accounts, args.workers, args.processes
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
