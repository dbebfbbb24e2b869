"""Shared set-up for the Graph backend tests: a pack session on the sandbox tenant."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from exchange_pack.config import ConnectionConfig
from exchange_pack.graph import GraphBackend, GraphClient, GraphMailbox
from exchange_pack.session import Session
from exchange_sandbox.process import Sandbox

CAMPAIGN_SUBJECT = "Action required: overdue invoice INV-20931"
CAMPAIGN_SENDER = "billing@contoso-payments.com"


def campaign_id(user: str) -> str:
    """The seeded internet_message_id of ``user``'s copy of the phishing campaign."""
    return f"<inv-20931-{user}@contoso-payments.com>"


@dataclass
class GraphHarness:
    """A Graph backend on the sandbox whose retry waits are recorded instead of slept."""

    sandbox: Sandbox
    session: Session
    backend: GraphBackend
    sleeps: list[float] = field(default_factory=list)

    def mailbox(self, address: str = "alice@contoso.com") -> GraphMailbox:
        return self.backend.mailbox(address)

    def graph_requests(self) -> list[dict[str, Any]]:
        """The sandbox's log of Graph calls (token requests left out)."""
        return [r for r in self.sandbox.requests() if r["path"].startswith("/v1.0/")]

    def start_counting(self) -> None:
        self.sandbox.clear_requests()
        self.session.stats.requests = 0


def harness(sandbox: Sandbox, app: str = "full", **overrides: Any) -> GraphHarness:
    """A session for ``app`` with a token already fetched and an empty request log."""
    config = ConnectionConfig(**sandbox.pack_config(app=app, backend="graph", **overrides))
    session = Session(config)
    sleeps: list[float] = []
    client = GraphClient(session, sleep=sleeps.append)
    backend = GraphBackend(session, client=client)
    session.tokens.token("graph")
    made = GraphHarness(sandbox, session, backend, sleeps)
    made.start_counting()
    return made
