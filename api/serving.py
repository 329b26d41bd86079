"""Serving the API with uvicorn: one process, or several workers each with its own listening
socket in the port's SO_REUSEPORT group (Linux), supervised (restarted when one dies, all stopped
on SIGINT/SIGTERM, and they exit when the supervisor is killed).

With a socket shared by the workers, whichever wakes first accepts a whole burst of connections
(measured: 2.6 s vs 6.8 s of CPU between two workers, once 0.02 vs 5.4); with a socket each, the
kernel spreads connections by a hash of their addresses (12.7 vs 12.8 s).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing as mp
import os
import signal
import socket
import sys
import threading
from enum import StrEnum
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

APP = "api.app:create_app"
_PR_SET_PDEATHSIG = 1
VERBOSE_LEVELS = frozenset({"info", "debug", "trace"})
"""Log levels at which uvicorn's access log shows (at higher ones it costs and shows nothing)."""


class HttpParser(StrEnum):
    """uvicorn's HTTP/1.1 implementations."""

    auto = "auto"
    httptools = "httptools"
    h11 = "h11"


class EventLoop(StrEnum):
    """uvicorn's event loops."""

    auto = "auto"
    uvloop = "uvloop"
    asyncio = "asyncio"


def _listener(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not listening yet).

    With ``reuse_port`` the socket joins the port's SO_REUSEPORT group: the kernel hashes each
    new connection to one listening socket of the group. The supervisor's socket is bound
    without it and never listens: it keeps any other server (one that listens without
    SO_REUSEPORT, or another ``mrv serve``) off the port, while its own workers may still join.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _die_with_parent() -> None:
    """Linux: have the kernel send SIGTERM when the supervisor dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _worker(config: uvicorn.Config, parent: int) -> None:
    """One server process with its own listening socket in the port's SO_REUSEPORT group."""
    from uvicorn.config import STARTUP_FAILURE

    _die_with_parent()
    if os.getppid() != parent:  # the supervisor died before the line above
        return
    config.configure_logging()
    try:
        sock = _listener(config.host, config.port, reuse_port=True)
    except OSError as exc:
        log = logging.getLogger("uvicorn.error")
        log.error("cannot listen on %s:%s: %s", config.host, config.port, exc)
        sys.exit(STARTUP_FAILURE)
    run_server(config, [sock])


def run_server(config: uvicorn.Config, sockets: list[socket.socket] | None = None) -> bool:
    """Serve with uvicorn in this process; whether the server started.

    The application is imported first and everything then alive is frozen out of the garbage
    collector's view: its full collections would otherwise walk the whole of FastAPI, pydantic
    and SQLAlchemy every so often, a pause of 0.1–0.2 s for every request in flight.
    """
    import uvicorn

    config.load()
    gc.freeze()
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=sockets)
    return server.started


def supervise(config: uvicorn.Config, workers: int) -> int:
    """Run ``workers`` processes (each listens on its own socket; the kernel spreads new
    connections over them by a hash of their addresses), restart any that dies, stop them all
    on SIGINT/SIGTERM; returns the exit status."""
    from uvicorn.config import STARTUP_FAILURE

    try:
        reserve = _listener(config.host, config.port, reuse_port=False)
    except OSError as exc:
        sys.stderr.write(f"mrv serve: cannot listen on {config.host}:{config.port}: {exc}\n")
        return STARTUP_FAILURE
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    spawn = mp.get_context("spawn")

    def start() -> BaseProcess:
        proc = spawn.Process(target=_worker, args=(config, os.getpid()), daemon=False)
        proc.start()
        return proc

    procs = [start() for _ in range(workers)]
    logging.getLogger("uvicorn.error").info(
        "mrv serve on http://%s:%d: %d workers, a listening socket each (SO_REUSEPORT)",
        config.host, config.port, workers,
    )  # fmt: skip
    status = 0
    try:
        while not stop.wait(0.5):
            for i, proc in enumerate(procs):
                if proc.is_alive():
                    continue
                if proc.exitcode == STARTUP_FAILURE:  # would fail the same way again
                    status = STARTUP_FAILURE
                    stop.set()
                    break
                procs[i] = start()
    finally:
        for proc in procs:
            if proc.is_alive() and proc.pid is not None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.join(timeout=config.timeout_graceful_shutdown or 30)
            if proc.is_alive():
                proc.kill()
                proc.join()
        reserve.close()
    return status


__all__ = ["APP", "VERBOSE_LEVELS", "EventLoop", "HttpParser", "run_server", "supervise"]
