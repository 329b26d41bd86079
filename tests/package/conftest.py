"""Fixtures: a key pair, a toy run folder and the package built from it (built once, copied by
tests that change it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.package.build import build_package
from pipelines.package.keys import generate_key, save_key
from tests.package.toyrun import make_run


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two measurers' keys: ``measurer`` (signs the package) and ``other``."""
    folder = tmp_path_factory.mktemp("keys")
    out = {}
    for name in ("measurer", "other"):
        save_key(generate_key(), folder / name)
        out[name] = folder / name
    return out


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy run folder (do not modify; copy it)."""
    return make_run(tmp_path_factory.mktemp("run") / "run")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, run_dir: Path, keys: dict[str, Path]) -> Path:
    """The toy package as a folder (do not modify; use ``package``)."""
    return build_package(run_dir, keys["measurer"], tmp_path_factory.mktemp("built") / "pkg")


@pytest.fixture
def package(built: Path, tmp_path: Path) -> Path:
    """A private copy of the toy package folder, free to tamper with."""
    return Path(shutil.copytree(built, tmp_path / "pkg"))
