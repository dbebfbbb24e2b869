"""EWS connection hygiene in one process (an in-process SOAR adapter running many actions):
closing a session closes its connections and drops its Protocol from exchangelib's cache."""

from __future__ import annotations

from typing import Any

import pytest
from exchangelib.protocol import CachingProtocol

from exchange_pack.config import ConnectionConfig
from exchange_pack.ews import EwsTransport
from exchange_pack.session import Session
from exchange_sandbox.process import Sandbox

pytestmark = pytest.mark.sandbox
ALICE = "alice@contoso.com"


def cached_protocols() -> list[Any]:
    """The Protocol objects exchangelib keeps process-wide."""
    return [protocol for protocol, _ in CachingProtocol._protocol_cache.values()]


@pytest.mark.parametrize("auth", ["secret", "ntlm"])
def test_closed_sessions_leave_no_protocol_or_connection(fresh_sandbox: Sandbox, auth: str) -> None:
    config = ConnectionConfig(
        **fresh_sandbox.pack_config(backend="ews", auth=auth, token_cache_path="none")
    )
    before = len(cached_protocols())
    for _ in range(3):
        with Session(config) as session:
            session.mailbox(ALICE).out_of_office()
            protocol = session.backend.transport.protocol
            assert any(cached is protocol for cached in cached_protocols())
            pooled = list(protocol._session_pool.queue)
            assert pooled
            adapters = [adapter for http in pooled for adapter in http.adapters.values()]
            assert any(adapter.poolmanager.pools for adapter in adapters)  # a live connection
        assert not any(cached is protocol for cached in cached_protocols())
        assert protocol.session_pool_size == 0
        assert not any(adapter.poolmanager.pools for adapter in adapters)
    assert len(cached_protocols()) == before


def test_an_unclosed_session_does_not_lend_its_protocol(fresh_sandbox: Sandbox) -> None:
    # exchangelib reuses a cached Protocol for equal credentials: two transports (as for a later
    # session that Python gave the same id()) must never share one, nor its request counters.
    config = ConnectionConfig(**fresh_sandbox.pack_config(backend="ews", token_cache_path="none"))
    session = Session(config)
    first, second = EwsTransport(session), EwsTransport(session)
    try:
        assert first.protocol is not second.protocol
    finally:
        first.close()
        second.close()
    assert not any(p is first.protocol or p is second.protocol for p in cached_protocols())
