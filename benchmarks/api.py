"""API throughput: concurrent HTTP transfers against ``mrv serve``, then the audit.

    python -m benchmarks.api --database-url postgresql://postgres@127.0.0.1:5432/DB \
        --clients 32 --seconds 30 --json [--workers 2] [--processes 1]

A fresh PostgreSQL schema gets a sample registry (:func:`mrv.registry.sample.build_sample`: a
batch spread over ``--accounts`` holders, each with an API token); ``mrv serve`` runs on it in
its own process(es); ``--clients`` concurrent httpx async clients (spread over ``--processes``
client processes, a uvloop event loop each when uvloop is installed) post random transfers
(1–5 t) between holders, each with its sender's token, for ``--seconds`` after ``--warmup``
seconds that are not counted. Prints ``req_per_s``, ``p50_ms``, ``p99_ms``, ``errors``
(anything but 201 and 409 insufficient credits), the CPU time the clients, the server and
PostgreSQL used while measuring (Linux, from ``/proc``; PostgreSQL's counts every backend of
the cluster) and the audit afterwards (``invariants_ok``, ``journal_ok``).

The load generator is kept cheap so that the figures describe the server rather than the
client sharing its CPUs: each task owns one keep-alive HTTP/1.1 ``httpx.AsyncClient`` with a
single connection (tasks sharing a pool serialise on its lock); every task builds its requests
(random transfers, JSON pre-encoded, its senders' tokens) before the clock starts and sends them
over and over with ``Client.send`` (each send is a new transfer: no idempotency key); cookies
are not looked for; and a failed ``import sniffio`` is not repeated inside httpcore. One client
process (``--processes 1``) takes about half a CPU at 850 requests/s, so more processes only
add scheduling; ``client_cpu_ms_per_req`` in the output says what the client cost.

``--serve-arg`` passes options to ``mrv serve`` (e.g. ``--serve-arg=--no-reuse-port``);
``loadavg_1m`` before and after tell whether anything else ran on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import random
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any

import httpx

from benchmarks.registry import PER_ACCOUNT_TCO2E, _drop_schema, _fresh_schema
from mrv.registry.audit import audit
from mrv.registry.core import Registry
from mrv.registry.db import make_engine, migrate
from mrv.registry.sample import build_sample
from mrv.registry.tokens import create_token
from mrv.settings import Settings

BODIES_PER_CLIENT = 256
"""Distinct pre-encoded transfers each client cycles through (random pairs and quantities)."""


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


def _start(url: str, port: int, workers: int, serve_args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MRV_DATABASE_URL": url}
    cmd = [sys.executable, "-c", "from mrv.cli import main; main()", "serve"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), "--workers", str(workers), *serve_args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            up = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200
        except httpx.TransportError:
            up = False
        if up and _listeners(port) in (None, 1, workers):
            return proc  # every worker listens (each has its own socket with SO_REUSEPORT)
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("mrv serve did not start")


def _listeners(port: int) -> int | None:
    """Listening TCP sockets on ``port`` (Linux ``/proc/net/tcp``; None elsewhere)."""
    found = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            return None
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                found += 1
    return found


# -- CPU accounting (Linux /proc; None elsewhere) ---------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm_end = text.rindex(")")
    return [text[: comm_end + 1], *text[comm_end + 2 :].split()]


def _processes() -> Iterable[tuple[int, list[str]]]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None:
                yield int(entry.name), fields


def _cpu(fields: list[str]) -> float:
    return (int(fields[12]) + int(fields[13])) / _TICK  # utime + stime


def _cpu_by_group(server_pid: int) -> dict[str, dict[int, float]] | None:
    """CPU seconds so far of the server's process tree and of PostgreSQL's processes."""
    if not Path("/proc/self/stat").exists():
        return None
    table = dict(_processes())
    children: dict[int, list[int]] = {}
    for pid, fields in table.items():
        children.setdefault(int(fields[2]), []).append(pid)
    tree, todo = set(), [server_pid]
    while todo:
        pid = todo.pop()
        if pid in table and pid not in tree:
            tree.add(pid)
            todo.extend(children.get(pid, ()))
    postgres = {pid for pid, fields in table.items() if fields[0].endswith(" (postgres)")}
    return {
        "server": {pid: _cpu(table[pid]) for pid in tree},
        "postgres": {pid: _cpu(table[pid]) for pid in postgres},
    }


def _cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


# -- load ---------------------------------------------------------------------------------------


def _bodies(tokens: dict[str, str], batch: str, rng: random.Random) -> list[tuple[bytes, Any]]:
    """Pre-encoded transfer bodies with their sender's headers."""
    holders = list(tokens)
    headers = {
        h: {"Authorization": f"Bearer {t}", "Content-Type": "application/json"}
        for h, t in tokens.items()
    }
    out = []
    for _ in range(BODIES_PER_CLIENT):
        sender, recipient = rng.sample(holders, 2)
        body = json.dumps(
            {
                "from_account": sender,
                "to_account": recipient,
                "batch": batch,
                "quantity": rng.randint(1, 5),
            },
            separators=(",", ":"),
        ).encode()
        out.append((body, headers[sender]))
    return out


async def _client(
    http: httpx.AsyncClient,
    requests: list[httpx.Request],
    measure_from: float,
    deadline: float,
    latencies: list[float],
    counts: dict[str, int],
) -> None:
    send, clock = http.send, time.perf_counter
    record = latencies.append
    n = len(requests)
    i = 0
    while True:
        request = requests[i % n]  # built once: its body is bytes, sent again unchanged
        i += 1
        t0 = clock()
        if t0 >= deadline:
            return
        try:
            r = await send(request)
        except httpx.HTTPError:
            if t0 >= measure_from:
                counts["errors"] += 1
            continue
        if t0 < measure_from:
            continue  # warm-up: connections, token checks, prepared statements
        record(clock() - t0)
        status = r.status_code
        if status == 201:
            counts["ok"] += 1
        elif status == 409 and r.json().get("code") == "insufficient-credits":
            counts["refused_insufficient"] += 1
        else:
            counts["errors"] += 1


def _lean_client(port: int) -> httpx.AsyncClient:
    """A keep-alive HTTP/1.1 client with one connection that ignores cookies.

    The service sets no cookies, but httpx would wrap every response in urllib request and
    response objects to look for them (about a twelfth of this client's CPU).
    """
    http = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        timeout=30,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=None),
        trust_env=False,
        http1=True,
        http2=False,
    )
    http.cookies.extract_cookies = lambda response: None  # type: ignore[method-assign]
    return http


async def _load(
    port: int,
    tokens: dict[str, str],
    batch: str,
    clients: int,
    seed: int,
    ready: Callable[[], float],
    warmup: float,
    seconds: float,
) -> tuple[list[float], dict[str, int]]:
    """``clients`` concurrent tasks, each with its own single-connection keep-alive client."""
    latencies: list[float] = []
    counts = {"ok": 0, "refused_insufficient": 0, "errors": 0}
    https = [_lean_client(port) for _ in range(clients)]
    requests = [
        [
            http.build_request("POST", "/v1/transfers", content=body, headers=headers)
            for body, headers in _bodies(tokens, batch, random.Random(seed * 1000 + i))
        ]
        for i, http in enumerate(https)
    ]
    try:
        start = await asyncio.get_running_loop().run_in_executor(None, ready)
        measure_from = start + warmup
        deadline = measure_from + seconds
        await asyncio.gather(
            *(
                _client(http, r, measure_from, deadline, latencies, counts)
                for http, r in zip(https, requests, strict=True)
            )
        )
    finally:
        for http in https:
            await http.aclose()
    return latencies, counts


def _run_loop(main: Coroutine[Any, Any, Any]) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def _without_sniffio_probe() -> None:
    """Make ``import sniffio`` fail fast when sniffio is not installed.

    httpcore asks sniffio which event loop runs each time it creates a lock or an event (several
    times per request); without sniffio every ask is a failed import that searches ``sys.path``
    again, about a sixth of this client's CPU. A ``None`` entry in ``sys.modules`` makes the
    import fail at once, and httpcore then assumes asyncio, which is what runs here.
    """
    import importlib.util

    if importlib.util.find_spec("sniffio") is None:
        sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


def _client_process(
    port: int, tokens: dict[str, str], batch: str, clients: int, seed: int, warmup: float,
    seconds: float, go: Any, out: Any,
) -> None:  # fmt: skip
    _without_sniffio_probe()
    cpu: list[float] = []

    def ready() -> float:
        gc.freeze()  # clients and requests are built: full collections need not walk them
        out.put(("ready", seed))
        start = float(go.get())  # a shared perf_counter reading (CLOCK_MONOTONIC on Linux)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu.append(usage.ru_utime + usage.ru_stime)
        return start

    latencies, counts = _run_loop(_load(port, tokens, batch, clients, seed, ready, warmup, seconds))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.put(("done", {"latencies": latencies, "counts": counts,
                      "cpu_s": usage.ru_utime + usage.ru_stime - cpu[0]}))  # fmt: skip


def _run_clients(
    port: int,
    tokens: dict[str, str],
    batch: str,
    clients: int,
    processes: int,
    warmup: float,
    seconds: float,
    server_pid: int,
) -> tuple[list[float], dict[str, int], float, dict[str, Any]]:
    ctx = mp.get_context("spawn")
    out, go = ctx.Queue(), ctx.Queue()
    shares = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    procs = [
        ctx.Process(
            target=_client_process,
            args=(port, tokens, batch, n, i, warmup, seconds, go, out),
        )
        for i, n in enumerate(shares)
        if n
    ]
    for p in procs:
        p.start()
    for _ in procs:
        assert out.get()[0] == "ready"
    start = time.perf_counter() + 0.2
    for _ in procs:
        go.put(start)
    time.sleep(max(0.0, start + warmup - time.perf_counter()))
    cpu_before = _cpu_by_group(server_pid)
    time.sleep(max(0.0, start + warmup + seconds - time.perf_counter()))
    cpu_after = _cpu_by_group(server_pid)
    results = [out.get()[1] for _ in procs]
    for p in procs:
        p.join()
    latencies = [x for r in results for x in r["latencies"]]
    counts = {k: sum(r["counts"][k] for r in results) for k in results[0]["counts"]}
    cpu: dict[str, Any] = {"client": sum(r["cpu_s"] for r in results), "server_processes": None}
    if cpu_before is not None and cpu_after is not None:
        cpu["server_processes"] = sorted(
            round(t - cpu_before["server"].get(pid, 0.0), 2)
            for pid, t in cpu_after["server"].items()
        )
    for group in ("server", "postgres"):
        cpu[group] = (
            _cpu_used(cpu_before[group], cpu_after[group])
            if cpu_before is not None and cpu_after is not None
            else None
        )
    return latencies, counts, seconds, cpu


def run(
    url: str,
    clients: int,
    seconds: float,
    accounts: int,
    workers: int,
    processes: int,
    warmup: float = 2.0,
    serve_args: list[str] | None = None,
) -> dict[str, Any]:
    """Seed, serve, load, audit; returns the figures."""
    load_before = os.getloadavg()[0]
    work_url, schema = _fresh_schema(url)
    try:
        batch, tokens = _seed(work_url, accounts)
        port = _free_port()
        server = _start(work_url, port, workers, serve_args or [])
        try:
            latencies, counts, wall, cpu = _run_clients(
                port, tokens, batch, clients, processes, warmup, seconds, server.pid
            )
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

    def per_request(seconds_used: float | None) -> float | None:
        return None if seconds_used is None or not n else round(1000 * seconds_used / n, 3)

    return {
        "benchmark": "api",
        "clients": clients,
        "client_processes": processes,
        "server_workers": workers,
        "serve_args": serve_args or [],
        "warmup_s": warmup,
        "seconds": round(wall, 2),
        "requests": n,
        "req_per_s": round(n / wall, 1),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
        "transfers": counts["ok"],
        "refused_insufficient": counts["refused_insufficient"],
        "errors": counts["errors"],
        "client_cpu_s": None if cpu["client"] is None else round(cpu["client"], 2),
        "server_cpu_s": None if cpu["server"] is None else round(cpu["server"], 2),
        "server_cpu_s_by_process": cpu["server_processes"],
        "postgres_cpu_s": None if cpu["postgres"] is None else round(cpu["postgres"], 2),
        "client_cpu_ms_per_req": per_request(cpu["client"]),
        "server_cpu_ms_per_req": per_request(cpu["server"]),
        "postgres_cpu_ms_per_req": per_request(cpu["postgres"]),
        "loadavg_1m_before": round(load_before, 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
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
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of load not counted")
    ap.add_argument("--accounts", type=int, default=256)
    ap.add_argument("--workers", type=int, default=2, help="mrv serve worker processes")
    ap.add_argument("--processes", type=int, default=1, help="client processes (asyncio each)")
    ap.add_argument(
        "--serve-arg", action="append", default=[], help="extra `mrv serve` option (repeatable)"
    )
    ap.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    args = ap.parse_args()
    result = run(
        args.database_url,
        args.clients,
        args.seconds,
        args.accounts,
        args.workers,
        args.processes,
        args.warmup,
        args.serve_arg,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
