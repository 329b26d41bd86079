"""The vendored browser libraries are exactly what ``tools/vendor_js.py`` copied from the
packages pinned in ``web/package-lock.json``, and the pages load nothing from other sites."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "api" / "web" / "static" / "vendor"
TEMPLATES = ROOT / "api" / "web" / "templates"
STATIC = ROOT / "api" / "web" / "static"


def test_vendored_files_match_their_record_and_the_lock() -> None:
    record = json.loads((VENDOR / "VENDOR.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "web" / "package-lock.json").read_text(encoding="utf-8"))
    wanted = json.loads((ROOT / "web" / "package.json").read_text(encoding="utf-8"))
    assert set(record["packages"]) == set(wanted["dependencies"]) == {"leaflet", "uplot"}
    on_disk = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()} - {
        "VENDOR.json"
    }
    listed = set()
    for name, package in record["packages"].items():
        locked = lock["packages"][f"node_modules/{name}"]
        assert package["version"] == locked["version"] == wanted["dependencies"][name]
        assert package["integrity"] == locked["integrity"]
        assert package["license"] in ("BSD-2-Clause", "MIT")
        for rel, sha in package["files"].items():
            data = (VENDOR / name / rel).read_bytes()
            assert hashlib.sha256(data).hexdigest() == sha, f"{name}/{rel} changed"
            listed.add(f"{name}/{rel}")
    assert on_disk == listed  # nothing vendored without a record


def test_no_page_or_script_refers_to_another_site() -> None:
    remote = re.compile(r"""(src|href)\s*=\s*["'](https?:)?//""", re.IGNORECASE)
    fetches = re.compile(r"""fetch\(\s*["'](https?:)?//""")
    for path in [*TEMPLATES.glob("*.html"), *STATIC.joinpath("js").glob("*.js")]:
        text = path.read_text(encoding="utf-8")
        assert not remote.search(text), path.name
        assert not fetches.search(text), path.name
        assert "<script>" not in text and "onclick=" not in text.lower(), path.name
