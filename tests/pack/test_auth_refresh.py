"""A token the resource refuses (401) is renewed once through msal: new signing keys between two
action processes, a token the tenant's clock says has expired, and a token refused for good."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from action_process import run_action

from exchange_pack.auth import TokenProvider, token_fingerprint
from exchange_pack.config import ConnectionConfig
from exchange_pack.errors import AuthenticationError
from exchange_pack.session import Session, SessionStats, build_http
from exchange_sandbox.process import Sandbox, start_sandbox

pytestmark = pytest.mark.sandbox
TOKEN_PATH = "/oauth2/v2.0/token"
ALICE = "alice@contoso.com"
EWS_PATH = "/EWS/Exchange.asmx"


def token_requests(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [
        r for r in sandbox.requests() if r["method"] == "POST" and r["path"].endswith(TOKEN_PATH)
    ]


def refused(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests() if r["status"] == 401]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def skewed(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The session tenant; its clock is put back however the test ends."""
    yield fresh_sandbox
    fresh_sandbox.clock(0)


@pytest.mark.parametrize("backend", ["graph", "ews"])
def test_new_signing_keys_cost_one_token_request(tmp_path: Path, backend: str) -> None:
    # The same tenant (deterministic seed: same tenant, app ids and secrets) at the same address
    # restarted from a new state directory signs with new keys: the cached token is refused.
    cache = tmp_path / "cache" / "tokens.json"
    port = free_port()
    with start_sandbox(tmp_path / "state-1", seed="demo", port=port) as before:
        config = before.pack_config(backend=backend, token_cache_path=str(cache))
        first = run_action("get_out_of_office", config, {"mailbox": ALICE})
        assert len(token_requests(before)) == 1
        assert first["meta"]["requests"] == len(before.requests())
        secret = before.app("full")["client_secret"]
    with start_sandbox(tmp_path / "state-2", seed="demo", port=port) as after:
        assert after.app("full")["client_secret"] == secret
        config = after.pack_config(backend=backend, token_cache_path=str(cache))
        second = run_action("get_out_of_office", config, {"mailbox": ALICE})
        assert len(token_requests(after)) == 1
        assert len(refused(after)) == 1
        assert second["meta"]["requests"] == len(after.requests())  # the refused one counted
    assert second["data"] == first["data"]


def test_graph_token_expired_by_the_tenant_clock_is_renewed(skewed: Sandbox) -> None:
    config = ConnectionConfig(**skewed.pack_config(token_cache_path="none"))
    with Session(config) as session:
        mailbox = session.mailbox(ALICE)
        mailbox.out_of_office()
        old = session.tokens.token("graph")
        skewed.clock(2 * 3600)  # msal still holds the token; Graph says it expired
        skewed.clear_requests()
        mailbox.out_of_office()
        assert session.tokens.token("graph") != old
    assert len(token_requests(skewed)) == 1
    assert [r["status"] for r in skewed.requests() if r["path"].startswith("/v1.0/")] == [
        401,
        200,
    ]


def test_ews_token_expired_by_the_tenant_clock_is_renewed(skewed: Sandbox) -> None:
    config = ConnectionConfig(**skewed.pack_config(backend="ews", token_cache_path="none"))
    with Session(config) as session:
        mailbox = session.mailbox(ALICE)
        mailbox.out_of_office()
        old = session.tokens.token("ews")
        skewed.clock(2 * 3600)
        skewed.clear_requests()
        mailbox.out_of_office()
        assert session.tokens.token("ews") != old
    assert len(token_requests(skewed)) == 1
    assert [r["status"] for r in skewed.requests() if r["path"] == EWS_PATH] == [401, 200]


@pytest.mark.parametrize("backend", ["graph", "ews"])
def test_a_token_refused_for_good_is_retried_exactly_once(
    fresh_sandbox: Sandbox, backend: str
) -> None:
    config = ConnectionConfig(**fresh_sandbox.pack_config(backend=backend, token_cache_path="none"))
    with Session(config) as session:
        mailbox = session.mailbox(ALICE)
        mailbox.out_of_office()
        path = EWS_PATH if backend == "ews" else "/v1.0/users/.*/mailboxSettings"
        fresh_sandbox.fault(path=path, status=401, count=3)
        fresh_sandbox.clear_requests()
        with pytest.raises(AuthenticationError):
            mailbox.out_of_office()
    assert len(token_requests(fresh_sandbox)) == 1
    assert len(refused(fresh_sandbox)) == 2


def test_a_token_renewed_elsewhere_is_not_renewed_again(
    fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    # Two processes (providers) refused the same token: the first renews it in the shared cache
    # file, the second finds the new one there instead of asking again.
    config = ConnectionConfig(
        **fresh_sandbox.pack_config(token_cache_path=str(tmp_path / "tokens.json"))
    )
    one, two = (TokenProvider(config, build_http(config), SessionStats()) for _ in range(2))
    old = one.token("graph")
    assert two.token("graph") == old
    new = one.token("graph", force_refresh=True, refused=token_fingerprint(old))
    assert new != old
    assert two.token("graph", force_refresh=True, refused=token_fingerprint(old)) == new
    assert len(token_requests(fresh_sandbox)) == 2
