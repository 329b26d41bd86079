"""``mrv serve --workers N``: one listening socket per worker (SO_REUSEPORT), the port kept from
other servers, a clean stop on SIGTERM and no worker left behind when the supervisor is killed.
Linux only (SO_REUSEPORT spreading, ``/proc/net/tcp``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreading and /proc are Linux's"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
            inodes.add(fields[9])
    return inodes


def _owners(inodes: set[str]) -> set[int]:
    """Processes holding a socket with one of ``inodes``."""
    owners = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:
            continue
        if any(link.startswith("socket:[") and link[8:-1] in inodes for link in links):
            owners.add(int(proc.name))
    return owners


def _serve(port: int, workers: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from mrv.cli import main; main()", "serve", "--port", str(port),
         "--workers", str(workers)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    out.close()
    return proc


def _wait_listening(port: int, count: int, log: Path) -> None:
    for _ in range(300):
        if len(_listening_inodes(port)) == count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{count} listeners expected: {log.read_text(errors='replace')}")


def test_workers_listen_each_on_their_own_socket(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "MRV_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite'}",
           "MRV_DATA_DIR": str(tmp_path)}  # fmt: skip
    log = tmp_path / "serve.log"
    server = _serve(port, 2, env, log)
    try:
        _wait_listening(port, 2, log)
        workers = _owners(_listening_inodes(port))
        shown = lambda: f"workers {workers}, supervisor {server.pid}: {log.read_text()}"
        assert len(workers) == 2 and server.pid not in workers, shown()  # a socket per worker
        for _ in range(4):
            r = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=5)
            assert r.status_code == 200, shown()

        other = subprocess.run(
            [sys.executable, "-c", "from mrv.cli import main; main()", "serve", "--port",
             str(port), "--workers", "2"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        taken = (other.returncode, other.stderr[-2000:])
        assert other.returncode == 3 and "cannot listen" in other.stderr, taken  # port taken

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, shown()
        assert not _listening_inodes(port), shown()
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers), shown()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_killed_supervisor_takes_its_workers_along(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "MRV_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite'}",
           "MRV_DATA_DIR": str(tmp_path)}  # fmt: skip
    log = tmp_path / "serve.log"
    server = _serve(port, 2, env, log)
    workers: set[int] = set()
    try:
        _wait_listening(port, 2, log)
        workers = _owners(_listening_inodes(port))
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        for _ in range(300):  # the kernel sends each worker SIGTERM (PR_SET_PDEATHSIG)
            if not _listening_inodes(port):
                break
            time.sleep(0.1)
        assert not _listening_inodes(port)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for pid in workers:
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
