"""Fixtures of the action tests: an action runner bound to the sandbox tenant."""

from __future__ import annotations

from pathlib import Path

import pytest
from pack_runner import BACKENDS, PackRunner

from exchange_sandbox.process import Sandbox


@pytest.fixture(scope="session")
def pack(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> PackRunner:
    """The action runner (output files in one temporary folder per session)."""
    return PackRunner(sandbox, tmp_path_factory.mktemp("pack-output"))


@pytest.fixture
def fresh_pack(fresh_sandbox: Sandbox, pack: PackRunner, tmp_path: Path) -> PackRunner:
    """The runner on a tenant back at its seed, writing files into this test's tmp_path."""
    return PackRunner(fresh_sandbox, tmp_path / "output")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param
