"""Where the real test data shared by the project's machines are (never copied into the repo).

The first existing of: ``$MRV_REAL_DATA``, ``<repo>/../shared/data/real`` (the checkout beside
the shared folder) and ``/work/shared/data/real`` (the project machines, where CI runs). A test
that needs them fails with this message if none exists; it is never skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

_CANDIDATES = [
    *([Path(os.environ["MRV_REAL_DATA"])] if os.environ.get("MRV_REAL_DATA") else []),
    Path(__file__).resolve().parents[2] / "shared" / "data" / "real",
    Path("/work/shared/data/real"),
]


def real_data() -> Path:
    """The folder holding ``eo-learn-testeopatch/`` and ``huzhou-boundaries/``."""
    for folder in _CANDIDATES:
        if (folder / "eo-learn-testeopatch").is_dir():
            return folder
    tried = ", ".join(str(c) for c in _CANDIDATES)
    raise FileNotFoundError(f"real test data not found (tried {tried}); set MRV_REAL_DATA")


EOLEARN = real_data() / "eo-learn-testeopatch"
"""The eo-learn TestEOPatch (real Sentinel-2 L1C, Slovenia, with land-use labels)."""
