"""Shared set-up for the EWS backend tests: a pack session on the sandbox tenant's EWS face."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from exchange_pack.config import ConnectionConfig
from exchange_pack.ews import EwsBackend, EwsMailbox
from exchange_pack.ews.transport import CountingAdapter
from exchange_pack.session import Session
from exchange_sandbox.process import Sandbox

CAMPAIGN_SUBJECT = "Action required: overdue invoice INV-20931"
CAMPAIGN_SENDER = "billing@contoso-payments.com"
EWS_PATH = "/EWS/Exchange.asmx"


def campaign_id(user: str) -> str:
    """The seeded internet_message_id of ``user``'s copy of the phishing campaign."""
    return f"<inv-20931-{user}@contoso-payments.com>"


@dataclass
class EwsHarness:
    """An EWS backend on the sandbox; the version is probed and the token fetched already."""

    sandbox: Sandbox
    session: Session
    backend: EwsBackend

    def mailbox(self, address: str = "alice@contoso.com") -> EwsMailbox:
        return self.backend.mailbox(address)

    def operations(self) -> list[str]:
        """The EWS operations the sandbox logged since the last ``start_counting``."""
        return [r["operation"] for r in self.sandbox.requests() if r["path"] == EWS_PATH]

    def start_counting(self) -> None:
        self.sandbox.clear_requests()
        self.session.stats.requests = 0


def harness(
    sandbox: Sandbox, app: str = "full", auth: str = "secret", **overrides: Any
) -> EwsHarness:
    """A session for ``app`` with the EWS version known, a token fetched and an empty log."""
    config = ConnectionConfig(**sandbox.pack_config(app=app, backend="ews", auth=auth, **overrides))
    session = Session(config)
    backend = EwsBackend(session)
    backend.transport.version  # noqa: B018 - probe (or read the cache) before counting
    if config.ews_auth == "oauth":
        session.tokens.token("ews")
    made = EwsHarness(sandbox, session, backend)
    made.start_counting()
    return made


@dataclass
class WireSpy:
    """The HTTP requests the EWS adapter sent (headers and body), for assertions."""

    requests: list[requests.PreparedRequest] = field(default_factory=list)

    def bodies(self) -> list[str]:
        return [
            r.body.decode() if isinstance(r.body, bytes) else str(r.body or "")
            for r in self.requests
        ]


def spy_on_wire(monkeypatch: pytest.MonkeyPatch) -> WireSpy:
    """Records each request the counting adapter sends (the request still goes out)."""
    spy = WireSpy()
    original = CountingAdapter.send

    def send(self: CountingAdapter, request: requests.PreparedRequest, *a: Any, **k: Any) -> Any:
        spy.requests.append(request)
        return original(self, request, *a, **k)

    monkeypatch.setattr(CountingAdapter, "send", send)
    return spy
