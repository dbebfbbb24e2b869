"""EWS transport against the sandbox: OAuth (secret and certificate) through the pack's msal app,
impersonation headers, NTLM/Basic, EWS blocked, ErrorServerBusy back-off and its bounds, the
cached server version, request counting, and no repeated send after an unclear failure."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from ews_backend_support import EWS_PATH, WireSpy, campaign_id, harness, spy_on_wire

from exchange_pack import errors
from exchange_pack.config import ConnectionConfig
from exchange_pack.ews import EwsBackend
from exchange_pack.ews import version as version_cache
from exchange_pack.models import OutgoingMessage, SearchCriteria
from exchange_pack.session import Session
from exchange_sandbox.process import Sandbox


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> WireSpy:
    return spy_on_wire(monkeypatch)


def test_certificate_auth_sends_impersonation_and_anchor_headers(
    fresh_sandbox: Sandbox, wire: WireSpy
) -> None:
    ews = harness(fresh_sandbox, auth="certificate")
    wire.requests.clear()
    found = ews.mailbox("bob@contoso.com").resolve(campaign_id("bob"))
    assert found.internet_message_id == campaign_id("bob")
    assert ews.session.tokens.token_info("ews").auth_method == "certificate"
    assert len(wire.requests) == 2  # FindItem + GetItem
    for request, body in zip(wire.requests, wire.bodies(), strict=True):
        assert request.headers["Authorization"].startswith("Bearer ")
        assert request.headers["X-AnchorMailbox"] == "bob@contoso.com"
        assert "ExchangeImpersonation" in body
        assert "<t:PrimarySmtpAddress>bob@contoso.com</t:PrimarySmtpAddress>" in body


@pytest.mark.parametrize("auth", ["basic", "ntlm"])
def test_service_account_uses_delegate_access(
    fresh_sandbox: Sandbox, wire: WireSpy, auth: str
) -> None:
    ews = harness(fresh_sandbox, auth=auth)
    wire.requests.clear()
    found = ews.mailbox("alice@contoso.com").resolve(campaign_id("alice"))
    assert found.mailbox == "alice@contoso.com"
    assert not any("ExchangeImpersonation" in body for body in wire.bodies())
    answered = [r["operation"] for r in fresh_sandbox.requests() if r["status"] == 200]
    assert answered == ["FindItem", "GetItem"]
    # NTLM needs a handshake: every round trip is counted, not only the two operations.
    assert ews.session.stats.requests == len(wire.requests) >= 2


def test_wrong_service_account_password_is_an_authentication_error(
    fresh_sandbox: Sandbox,
) -> None:
    config = fresh_sandbox.pack_config(backend="ews", auth="basic", password="not-the-password")
    backend = EwsBackend(Session(ConnectionConfig(**config)))
    with pytest.raises(errors.AuthenticationError) as caught:
        backend.mailbox("alice@contoso.com").resolve(campaign_id("alice"))
    assert "not-the-password" not in str(caught.value.to_dict())


def test_app_without_ews_role_is_access_denied(fresh_sandbox: Sandbox) -> None:
    ews = harness(fresh_sandbox, app="readonly")
    with pytest.raises(errors.AccessDeniedError) as caught:
        ews.mailbox().resolve(campaign_id("alice"))
    assert "full_access_as_app" in (caught.value.hint or "")


def test_blocked_ews_is_reported_with_a_hint_to_use_graph(fresh_sandbox: Sandbox) -> None:
    ews = harness(fresh_sandbox)
    fresh_sandbox.settings(ews_blocked=True)
    with pytest.raises(errors.EwsBlockedError) as caught:
        ews.mailbox().search(SearchCriteria(folder="inbox"), 1)
    error = caught.value.to_dict()
    assert error["code"] == "EWS_BLOCKED"
    assert caught.value.exit_code == 69
    assert "blocked" in error["message"] and "Exchange Online" in error["message"]
    assert "backend graph" in error["hint"]
    probe = ews.backend.probe()
    assert probe["ews_status"] == "blocked" and probe["blocked"] is True
    assert probe["token"]["roles"] == ["full_access_as_app"]


def test_server_busy_back_off_is_honoured(fresh_sandbox: Sandbox) -> None:
    ews = harness(fresh_sandbox)
    fresh_sandbox.fault(path=EWS_PATH, throttle=0.2, count=1)
    found = ews.mailbox().resolve(campaign_id("alice"))
    assert found.internet_message_id == campaign_id("alice")
    stats = ews.session.stats
    assert (stats.throttled, stats.retries) == (1, 1)
    assert stats.throttle_wait_seconds == pytest.approx(0.2)
    statuses = [r["status"] for r in fresh_sandbox.requests() if r["path"] == EWS_PATH]
    assert ews.operations() == ["FindItem", "FindItem", "GetItem"]
    assert statuses[0] != 200 or statuses.count(200) == 3  # the busy answer came first


def test_server_busy_longer_than_allowed_fails_at_once(fresh_sandbox: Sandbox) -> None:
    ews = harness(fresh_sandbox, max_retry_wait_seconds=1)
    fresh_sandbox.fault(path=EWS_PATH, throttle=30, count=3)
    with pytest.raises(errors.ThrottledError) as caught:
        ews.mailbox().resolve(campaign_id("alice"))
    assert caught.value.retry_after_seconds == pytest.approx(30)
    assert caught.value.exit_code == 75
    assert ews.operations() == ["FindItem"]  # not retried: the wait exceeds the budget
    assert ews.session.stats.throttle_wait_seconds == 0


def test_server_busy_retries_are_bounded_by_max_retries(fresh_sandbox: Sandbox) -> None:
    ews = harness(fresh_sandbox, max_retries=1)
    fresh_sandbox.fault(path=EWS_PATH, throttle=0.05, count=5)
    with pytest.raises(errors.ThrottledError):
        ews.mailbox().resolve(campaign_id("alice"))
    assert ews.operations() == ["FindItem", "FindItem"]
    assert ews.session.stats.retries == 1


def test_read_is_retried_after_a_dropped_connection(fresh_sandbox: Sandbox) -> None:
    ews = harness(fresh_sandbox)
    fresh_sandbox.fault(path=EWS_PATH, reset=True, count=1)
    found = ews.mailbox().resolve(campaign_id("alice"))
    assert found.internet_message_id == campaign_id("alice")
    assert (ews.session.stats.retries, ews.session.stats.throttled) == (1, 0)


def test_send_is_not_repeated_after_a_dropped_connection(fresh_sandbox: Sandbox) -> None:
    ews = harness(fresh_sandbox)
    fresh_sandbox.fault(path=EWS_PATH, reset=True, count=1)
    draft = OutgoingMessage(to=["soc@contoso.com"], subject="containment notice", body="hi")
    with pytest.raises(errors.AmbiguousOutcomeError) as caught:
        ews.mailbox().send(draft)
    assert caught.value.retryable is False
    assert ews.operations().count("CreateItem") <= 1
    assert "SendItem" not in ews.operations()


def test_send_that_times_out_is_not_repeated_and_lands_once(fresh_sandbox: Sandbox) -> None:
    ews = harness(fresh_sandbox, timeout_seconds=0.5)
    ews.start_counting()
    fresh_sandbox.fault(path=EWS_PATH, delay_ms=1500, count=1)  # answered after the timeout
    draft = OutgoingMessage(to=["soc@contoso.com"], subject="late answer", body="hi")
    with pytest.raises(errors.AmbiguousOutcomeError):
        ews.mailbox().send(draft)
    assert ews.session.stats.requests == 1
    for _ in range(100):  # the sandbox finishes the one CreateItem after the client gave up
        if "CreateItem" in ews.operations():
            break
        time.sleep(0.1)
    assert ews.operations() == ["CreateItem"]
    criteria = SearchCriteria(subject="late answer", folder="inbox")
    assert len(ews.mailbox("soc@contoso.com").search(criteria, 5).items) == 1


def test_server_version_is_probed_once_and_cached(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    config = ConnectionConfig(
        **fresh_sandbox.pack_config(backend="ews", token_cache_path=str(tmp_path / "tokens.json"))
    )
    first = EwsBackend(Session(config))
    first.mailbox("alice@contoso.com").resolve(campaign_id("alice"))
    cached = json.loads((tmp_path / version_cache.FILE_NAME).read_text())
    assert cached[config.ews_endpoint]["api_version"] == "Exchange2016"
    fresh_sandbox.clear_requests()
    second = Session(config)
    EwsBackend(second).mailbox("alice@contoso.com").resolve(campaign_id("alice"))
    operations = [r["operation"] for r in fresh_sandbox.requests() if r["path"] == EWS_PATH]
    assert operations == ["FindItem", "GetItem"]  # no ConvertId probe the second time
    token_requests = [r for r in fresh_sandbox.requests() if r["path"].endswith("/token")]
    assert token_requests == []  # the token came from the shared cache file
    # Every round trip is counted (msal's authority discovery included), EWS ones exactly.
    assert second.stats.requests == len(fresh_sandbox.requests())


def test_version_probe_happens_without_a_cache_file(fresh_sandbox: Sandbox) -> None:
    config = ConnectionConfig(**fresh_sandbox.pack_config(backend="ews", token_cache_path="none"))
    session = Session(config)
    session.tokens.token("ews")
    fresh_sandbox.clear_requests()
    EwsBackend(session).mailbox("alice@contoso.com").resolve(campaign_id("alice"))
    operations = [r["operation"] for r in fresh_sandbox.requests() if r["path"] == EWS_PATH]
    assert operations == ["ConvertId", "FindItem", "GetItem"]
    assert version_cache.cache_path(config) is None


def test_tls_uses_the_configured_ca_bundle_only(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text(Path(__import__("certifi").where()).read_text())
    config = ConnectionConfig(**fresh_sandbox.pack_config(backend="ews", ca_bundle=str(other_ca)))
    backend = EwsBackend(Session(config))
    with pytest.raises(errors.ExchangePackError) as caught:
        backend.mailbox("alice@contoso.com").resolve(campaign_id("alice"))
    assert caught.value.code in ("INVALID_CONFIG", "SERVICE_UNAVAILABLE")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("skew_seconds", [-7200, 7200])
def test_issuer_clock_far_from_ours_does_not_stall(
    fresh_sandbox: Sandbox, tmp_path: Path, skew_seconds: int
) -> None:
    # Tokens whose `exp` is two hours in our past (or future): expiry is reckoned on this
    # machine's clock from msal's expires_in, so exchangelib neither spins asking for a token
    # it calls expired nor keeps one too long.
    fresh_sandbox.clock(skew_seconds)
    config = ConnectionConfig(
        **fresh_sandbox.pack_config(backend="ews", token_cache_path=str(tmp_path / "tokens.json"))
    )
    with Session(config) as session:
        found = EwsBackend(session).mailbox("alice@contoso.com").resolve(campaign_id("alice"))
        token = session.tokens.acquire("ews")
    assert found.internet_message_id == campaign_id("alice")
    assert 3000 < token.expires_at - time.time() <= 3600
    token_requests = [r for r in fresh_sandbox.requests() if r["path"].endswith("/token")]
    assert len(token_requests) == 1
