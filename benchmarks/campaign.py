"""Campaign benchmark: the demo campaign (Anji bamboo, synthetic scenes, bundled survey, report
included) and ``mrv package verify`` of its package (hashes, signature and a re-run).

Each phase runs in a fresh child process (imports included in its wall time) that reports its
wall time and peak RSS. Prints one JSON object.

    python -m benchmarks.campaign --json [--scheduler tcp://host:8786]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CAMPAIGN = (
    Path(__file__).resolve().parents[1] / "aoi" / "anji-bamboo" / "campaign" / "campaign.toml"
)


def _campaign(out: str, scheduler: str | None) -> dict[str, Any]:
    from pipelines.campaign.config import load_campaign
    from pipelines.campaign.run import run_campaign

    summary = run_campaign(load_campaign(CAMPAIGN), Path(out), progress=False, scheduler=scheduler)
    return {
        "removals_tco2e": summary["removals"]["removals_tco2e"],
        "claimable_tco2e": summary["removals"]["claimable_tco2e"],
    }


def _package(run_dir: str, folder: str) -> dict[str, Any]:
    from pipelines.package.build import build_package
    from pipelines.package.keys import generate_key, save_key

    key = Path(folder) / "measurer.key"
    save_key(generate_key(), key)
    package = build_package(Path(run_dir), key, Path(folder) / "package.zip")
    return {"package_mb": round(package.stat().st_size / 2**20, 2)}


def _verify(package: str) -> dict[str, Any]:
    from pipelines.package.verify import verify_package

    result = verify_package(Path(package))
    return {
        k: result.get(k)
        for k in ("ok", "signature_ok", "hashes_ok", "recomputed_ok", "recompute_seconds")
    }


def child(phase: str, args: list[str]) -> None:
    """Run one phase and print its JSON (wall time and peak RSS of this process)."""
    t0 = time.perf_counter()
    if phase == "campaign":
        out = _campaign(args[0], args[1] or None)
    elif phase == "package":
        out = _package(args[0], args[1])
    else:
        out = _verify(args[0])
    out["wall_s"] = round(time.perf_counter() - t0, 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


def _run(phase: str, *args: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.campaign", "--child", phase, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(time.perf_counter() - t0, 2)  # interpreter start included
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the three phases in child processes and print JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    ap.add_argument("--scheduler", default="", help="dask.distributed scheduler address")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1:])
        return 0
    with tempfile.TemporaryDirectory(prefix="mrv-bench-campaign-") as tmp:
        run_dir = str(Path(tmp) / "run")
        campaign = _run("campaign", run_dir, args.scheduler)
        package = _run("package", run_dir, tmp)
        verify = _run("verify", str(Path(tmp) / "package.zip"))
    result = {
        "benchmark": "campaign",
        "campaign": str(CAMPAIGN.relative_to(CAMPAIGN.parents[3])),
        "scheduler": args.scheduler or "local threads",
        "campaign_run": campaign,
        "package_build": package,
        "package_verify": verify,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
