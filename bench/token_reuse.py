"""Case 2: action processes in a row share one token through the file cache.

Starts from an empty token cache; every process is a new interpreter with its own msal app, so
only the persisted cache can spare the token request. Counts requests at the token endpoint
(and, separately, the OpenID configuration fetches msal makes when it builds its app).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from exchange_sandbox.process import Sandbox

from .actions import run_action
from .minimums import CAMPAIGN_SENDER

PROCESSES = 20
READ_ACTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("get_out_of_office", {"mailbox": "dave@contoso.com"}),
    ("get_contacts", {"mailbox": "alice@contoso.com"}),
    ("search_emails_extended", {"mailbox": "bob@contoso.com", "sender": CAMPAIGN_SENDER}),
    ("get_searchable_mailboxes", {}),
)


def measure(sandbox: Sandbox, backend: str, workdir: Path) -> dict[str, Any]:
    """``PROCESSES`` read actions (cycling through four) from a cold token cache."""
    cache = workdir / f"token-reuse-{backend}" / "token-cache.json"
    config = sandbox.pack_config(
        backend=backend, token_cache_path=str(cache), output_dir=str(cache.parent / "output")
    )
    sandbox.clear_requests()
    failed = 0
    for action, params in itertools.islice(itertools.cycle(READ_ACTIONS), PROCESSES):
        failed += not run_action(action, config, params).ok
    log = sandbox.requests()
    token_requests = sum(1 for e in log if e["path"].endswith("/oauth2/v2.0/token"))
    discovery = sum(1 for e in log if e["path"].endswith("/.well-known/openid-configuration"))
    return {
        "backend": backend,
        "processes": PROCESSES,
        "failed_processes": failed,
        "token_requests": token_requests,
        "openid_configuration_requests": discovery,
        "total_requests": len(log),
        "target_met": token_requests == 1 and failed == 0,
    }
