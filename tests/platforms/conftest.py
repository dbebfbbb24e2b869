"""Fixtures of the platform adapter tests: backends, sandbox configs and a copy of the pack."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from exchange_sandbox.process import Sandbox

REPO_ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ("graph", "ews")
PACK_FILES = ("integration.yaml", "CHANGELOG.md", "schemas", "logos", "actions")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def connection(sandbox: Sandbox, backend: str, tmp_path: Path) -> dict[str, Any]:
    """The connection config a platform's form would hold for the sandbox tenant."""
    return sandbox.pack_config(backend=backend, output_dir=str(tmp_path / "output"))


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A copy of the pack's source files (a test points EXCHANGE_PACK_ROOT at it once changed)."""
    root = tmp_path / "pack"
    for name in PACK_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            root.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    return root
