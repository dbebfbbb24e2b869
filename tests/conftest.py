"""Fixtures every test suite shares: the sandbox tenant, a clean environment, ../shared."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange_sandbox.process import CA_ENV_VARS, Sandbox, start_sandbox

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO_ROOT.parent / "shared" / "research" / "fixtures"


@pytest.fixture(autouse=True)
def _no_ca_bundle_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override ``verify=`` in requests; tests run without."""
    for name in CA_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One demo tenant for the whole session, state in a temporary directory."""
    with start_sandbox(tmp_path_factory.mktemp("sandbox-state"), seed="demo") as running:
        yield running


def _default_conditions(sandbox: Sandbox) -> None:
    sandbox.clear_faults()
    sandbox.settings(latency_ms=0, throttle="off", ews_blocked=False, token_lifetime=3599)
    sandbox.clock(0)


@pytest.fixture
def fresh_sandbox(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The session tenant back at its seed, with an empty request log and no faults; its
    clock and settings are put back afterwards too, for the tests that use ``sandbox`` as it
    is (a module's token taken after a test moved the clock would be born expired)."""
    sandbox.reset()
    _default_conditions(sandbox)
    sandbox.clear_requests()
    yield sandbox
    _default_conditions(sandbox)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared/research/fixtures``; skipped when absent, a failure under CI=true."""
    if SHARED_FIXTURES.is_dir():
        return SHARED_FIXTURES
    reason = f"reference data not found at {SHARED_FIXTURES} (it lives outside the repository)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)
