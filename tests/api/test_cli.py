"""``mrv admin create-token`` and ``mrv serve`` (a real uvicorn process)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

Cli = Callable[..., tuple[int, str, str]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_admin_tokens_work_against_mrv_serve(cli: Cli, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    code, _, err = cli(
        "registry", "init", "--admin", "root", "--name", "Admin", "--database-url", db
    )
    assert code == 0, err
    code, out, err = cli(
        "admin", "create-party", "buyer-1", "--name", "Buyer", "--role", "buyer",
        "--as", "root", "--database-url", db, "--json",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = cli(
        "admin", "create-token", "buyer-1", "--as", "root", "--database-url", db, "--json"
    )
    assert code == 0, err
    token = json.loads(out)["token"]
    code, _, err = cli("admin", "create-token", "buyer-1", "--as", "buyer-1", "--database-url", db)
    assert code == 2 and "may not do this" in err

    port = _free_port()
    env = {**os.environ, "MRV_DATABASE_URL": db}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from mrv.cli import main; main()", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/v1"
        for _ in range(200):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        me = httpx.get(f"{url}/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert me.json() == {"party": "buyer-1", "roles": ["buyer"]}
        assert httpx.get(f"{url}/me", timeout=5).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
