"""Registry throughput: concurrent transfers at the service layer, then the audit.

    python -m benchmarks.registry --database-url postgresql://postgres@127.0.0.1:5432/DB \
        --clients 16 --seconds 20 --json

Each client is a process with its own connection doing random transfers (1–5 t) between
``--accounts`` holder accounts of one batch issued through the real workflow
(:func:`mrv.registry.sample.build_sample`), each transfer a full service call (idempotency check,
stream lock, block split, journal event, commit). On PostgreSQL the benchmark works in a fresh
schema that it drops afterwards (``--keep`` keeps it); without a URL it uses a temporary SQLite
file. Prints ops_per_s, p50_ms, p99_ms, errors, client CPU per operation (whole worker process,
and its measuring loop alone) and the audit result. ``--no-fastpath`` runs the transfers on
PostgreSQL through SQLAlchemy alone instead of :mod:`mrv.registry.fastpath`, for comparison.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mrv.errors import InsufficientCreditsError
from mrv.registry.audit import audit
from mrv.registry.core import Registry
from mrv.registry.credits import transfer
from mrv.registry.db import make_engine, migrate
from mrv.registry.sample import build_sample
from mrv.settings import Settings

PER_ACCOUNT_TCO2E = 2_000


def _worker(
    url: str,
    accounts: list[str],
    batch: str,
    seconds: float,
    seed_value: int,
    out: Any,
    fastpath: bool = True,
) -> None:
    registry = Registry(make_engine(url, pool_size=1), Settings())
    registry.pipelined = registry.pipelined and fastpath
    rng = random.Random(seed_value)
    latencies: list[float] = []
    errors = 0
    insufficient = 0
    cpu_start = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sender, recipient = rng.sample(accounts, 2)
        started = time.perf_counter()
        try:
            transfer(
                registry,
                actor=sender,
                from_account=sender,
                to_account=recipient,
                batch=batch,
                quantity=rng.randint(1, 5),
            )
        except InsufficientCreditsError:
            insufficient += 1  # a refusal is a correct, completed service call
        except Exception:  # counted and reported
            errors += 1
            continue
        latencies.append(time.perf_counter() - started)
    registry.close()
    out.put(
        {
            "latencies": latencies,
            "errors": errors,
            "insufficient": insufficient,
            "cpu_s": time.process_time(),
            "loop_cpu_s": time.process_time() - cpu_start,
        }
    )


def _fresh_schema(url: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_engine(url).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    scoped = make_url(make_engine(url).url).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    return scoped.render_as_string(hide_password=False), schema


def _drop_schema(url: str, schema: str) -> None:
    admin = create_engine(make_engine(url).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def run(
    url: str | None,
    clients: int,
    seconds: float,
    accounts: int,
    keep: bool,
    fastpath: bool = True,
) -> dict[str, Any]:
    """Seed, run the clients, audit; returns the figures."""
    schema = None
    tmp = None
    if url is None:
        tmp = tempfile.mkdtemp(prefix="mrv-bench-")
        work_url = f"sqlite:///{Path(tmp) / 'registry.sqlite'}"
    elif make_url(url).get_backend_name() == "postgresql":
        work_url, schema = _fresh_schema(url)
    else:
        work_url = url
    engine = make_engine(work_url)
    migrate(engine)
    registry = Registry(engine, Settings())
    t0 = time.perf_counter()
    built = build_sample(
        registry,
        verified_tco2e=2 * PER_ACCOUNT_TCO2E * accounts,
        holders=accounts,
        per_holder_tco2e=PER_ACCOUNT_TCO2E,
    )
    holders, batch = built["holders"], built["batch"]
    seed_s = time.perf_counter() - t0

    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(work_url, holders, batch, seconds, i, out, fastpath))
        for i in range(clients)
    ]
    engine.dispose()
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - started
    latencies = sorted(x for r in results for x in r["latencies"])
    ops = len(latencies)
    t1 = time.perf_counter()
    report = audit(registry)
    audit_s = time.perf_counter() - t1
    registry.close()
    if schema is not None and url is not None and not keep:
        _drop_schema(url, schema)

    def pct(q: float) -> float:
        return round(1000 * latencies[min(ops - 1, int(q * ops))], 3) if ops else float("nan")

    return {
        "backend": make_url(work_url).get_backend_name(),
        "clients": clients,
        "seconds": round(wall, 2),
        "accounts": accounts,
        "fastpath": fastpath and registry.pipelined,
        "ops": ops,
        "ops_per_s": round(ops / wall, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "errors": sum(r["errors"] for r in results),
        "refused_insufficient": sum(r["insufficient"] for r in results),
        "client_cpu_ms_per_op": round(1000 * sum(r["cpu_s"] for r in results) / max(ops, 1), 3),
        "client_loop_cpu_ms_per_op": round(
            1000 * sum(r["loop_cpu_s"] for r in results) / max(ops, 1), 3
        ),
        "invariants_ok": report["invariants_ok"],
        "journal_ok": report["journal_ok"],
        "events": report["events"],
        "audit_s": round(audit_s, 2),
        "seed_s": round(seed_s, 2),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--accounts", type=int, default=256)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--no-fastpath",
        action="store_true",
        help="PostgreSQL: send every statement through SQLAlchemy (for comparison)",
    )
    args = parser.parse_args()
    figures = run(
        args.database_url,
        args.clients,
        args.seconds,
        args.accounts,
        args.keep,
        fastpath=not args.no_fastpath,
    )
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
