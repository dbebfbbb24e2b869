"""Case 1: HTTP round trips per action on both backends, from the sandbox request log.

The token (and the EWS server version) is cached by a warm-up run first, as it is for every
action an automation engine runs after the first one. Each message-addressed action runs twice:
by backend id and by ``internet_message_id``. Write actions start from the seed (admin reset).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from exchange_sandbox.process import Sandbox

from .actions import run_action
from .minimums import CAMPAIGN_SENDER, CASES, Case, campaign_internet_message_id

BACKENDS = ("graph", "ews")
CAMPAIGN_USERS = ("alice", "bob", "carol")


@dataclass
class RequestCount:
    """One action run: what it cost against what it needs."""

    case: str
    action: str
    backend: str
    addressing: str  # "id", "internet_message_id" or "-"
    ok: bool
    requests: int
    identity_requests: int  # OpenID configuration and token endpoint
    minimum: int
    reason: str
    operations: list[str]

    @property
    def excess(self) -> int:
        return self.requests - self.minimum

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "excess": self.excess}


def is_identity_request(entry: dict[str, Any]) -> bool:
    """Requests to the identity platform rather than to Graph or EWS."""
    path = entry["path"]
    return path.endswith("/oauth2/v2.0/token") or path.endswith("/.well-known/openid-configuration")


def pack_config(sandbox: Sandbox, backend: str, cache_dir: Path) -> dict[str, Any]:
    """The ``full`` app's connection, with its own token cache and output folder."""
    return sandbox.pack_config(
        backend=backend,
        token_cache_path=str(cache_dir / "token-cache.json"),
        output_dir=str(cache_dir / "output"),
    )


def campaign_ids(sandbox: Sandbox, config: dict[str, Any]) -> dict[str, str]:
    """``{user: backend id}`` of each campaign copy, found with the pack's own search."""
    found = run_action(
        "search_emails_extended",
        config,
        {
            "mailboxes": [f"{user}@contoso.com" for user in CAMPAIGN_USERS],
            "sender": CAMPAIGN_SENDER,
            "folder": "inbox",
        },
    ).data["messages"]
    return {m["mailbox"].split("@")[0]: m["id"] for m in found}


def _addressings(case: Case, ids: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """(addressing, extra parameters) for the runs of one case."""
    if case.target_user is None:
        return [("-", {})]
    user = case.target_user
    return [
        ("id", {"message_id": ids[user]}),
        ("internet_message_id", {"internet_message_id": campaign_internet_message_id(user)}),
    ]


def _minimum(case: Case, backend: str, addressing: str) -> tuple[int, str]:
    minimum = case.minimum(backend)
    if addressing == "internet_message_id":
        return minimum.by_internet_message_id()
    return minimum.requests, minimum.reason


def measure(sandbox: Sandbox, workdir: Path) -> list[RequestCount]:
    """Every case on both backends; one run each (request counts are deterministic)."""
    rows: list[RequestCount] = []
    for backend in BACKENDS:
        config = pack_config(sandbox, backend, workdir / f"requests-{backend}")
        sandbox.reset()
        run_action("test_connection", config, {}).check()  # caches the token and EWS version
        ids = campaign_ids(sandbox, config)
        for case in CASES:
            for addressing, extra in _addressings(case, ids):
                if case.writes:
                    sandbox.reset()
                sandbox.clear_requests()
                run = run_action(case.action, config, {**case.params, **extra})
                log = sandbox.requests()
                minimum, reason = _minimum(case, backend, addressing)
                rows.append(
                    RequestCount(
                        case=case.name,
                        action=case.action,
                        backend=backend,
                        addressing=addressing,
                        ok=run.ok,
                        requests=len(log),
                        identity_requests=sum(1 for e in log if is_identity_request(e)),
                        minimum=minimum,
                        reason=reason,
                        operations=[e["operation"] or e["path"] for e in log],
                    )
                )
    return rows
