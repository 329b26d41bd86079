"""Vendor the web pages' browser libraries from the npm registry (build step; no CDN at run time).

``web/package.json`` pins the packages and ``web/package-lock.json`` their tarballs' integrity;
this runs ``npm ci --ignore-scripts`` in ``web/`` and copies the files the pages load into
``api/web/static/vendor/<package>/``, with ``api/web/static/vendor/VENDOR.json`` recording each
package's version, licence, tarball integrity and every copied file's SHA-256 (the test
``tests/web/test_vendor.py`` checks the files against it and the versions against the lock).

Run from the repository root after changing ``web/package.json``::

    .venv/bin/python tools/vendor_js.py            # npm ci, then copy
    .venv/bin/python tools/vendor_js.py --no-install   # copy from an existing web/node_modules
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
VENDOR = ROOT / "api" / "web" / "static" / "vendor"

FILES: dict[str, list[str]] = {
    "leaflet": [
        "dist/leaflet.js",
        "dist/leaflet.css",
        "dist/images/layers.png",
        "dist/images/layers-2x.png",
        "dist/images/marker-icon.png",
        "dist/images/marker-icon-2x.png",
        "dist/images/marker-shadow.png",
        "LICENSE",
    ],
    "uplot": ["dist/uPlot.iife.min.js", "dist/uPlot.min.css", "LICENSE"],
}
"""Per npm package, the files the pages load (paths inside the package)."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vendor(install: bool = True) -> dict[str, object]:
    """Install (``npm ci``) and copy :data:`FILES`; returns the written ``VENDOR.json`` content."""
    if install:
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=WEB, check=True
        )
    lock = json.loads((WEB / "package-lock.json").read_text(encoding="utf-8"))
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    packages: dict[str, object] = {}
    for name, files in FILES.items():
        source = WEB / "node_modules" / name
        meta = json.loads((source / "package.json").read_text(encoding="utf-8"))
        locked = lock["packages"][f"node_modules/{name}"]
        if meta["version"] != locked["version"]:
            raise SystemExit(f"{name}: installed {meta['version']}, locked {locked['version']}")
        copied = {}
        for rel in files:
            target = VENDOR / name / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / rel, target)
            copied[rel] = _sha256(target)
        packages[name] = {
            "version": meta["version"],
            "license": meta["license"],
            "resolved": locked.get("resolved"),
            "integrity": locked.get("integrity"),
            "files": copied,
        }
    content: dict[str, object] = {"source": "web/package-lock.json", "packages": packages}
    (VENDOR / "VENDOR.json").write_text(
        json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return content


def main() -> None:
    """Command line: ``[--no-install]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-install", action="store_true", help="copy from web/node_modules")
    args = parser.parse_args()
    content = vendor(install=not args.no_install)
    print(json.dumps({k: v["version"] for k, v in content["packages"].items()}))  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
