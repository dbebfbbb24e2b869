"""Round trips per action, pinned from the sandbox request log (bench/RESULTS.md, case 1).

Each action process runs with the token (and the EWS server version) already cached, as every
run after an engine's first one does; only requests to Graph or EWS are counted. A count above
its pin is a regression; one below means the pin (and bench/minimums.py) should come down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pack_runner import CAMPAIGN_SENDER, CAMPAIGN_USERS, PackRunner, campaign_id

from exchange_sandbox.process import Sandbox

ByBackend = dict[str, int]

# (action, parameters, whose campaign copy it targets or None, writes, {backend: requests}).
# A message-targeting action is pinned by id and, in a second table, by internet_message_id.
CASES: list[tuple[str, dict[str, Any], str | None, bool, ByBackend, ByBackend]] = [
    ("test_connection", {}, None, False, {"graph": 1, "ews": 1}, {}),
    ("get_out_of_office", {"mailbox": "dave@contoso.com"}, None, False, {"graph": 1, "ews": 1}, {}),
    ("get_contacts", {"mailbox": "alice@contoso.com"}, None, False, {"graph": 1, "ews": 1}, {}),
    (
        "download_mail_as_eml",
        {"mailbox": "alice@contoso.com"},
        "alice",
        False,
        {"graph": 1, "ews": 1},
        {"graph": 2, "ews": 2},
    ),
    (
        "get_attachments",
        {"mailbox": "alice@contoso.com"},
        "alice",
        False,
        {"graph": 5, "ews": 5},
        {"graph": 5, "ews": 6},
    ),
    (
        "delete_attachments",
        {"mailbox": "bob@contoso.com", "attachment_names": ["remittance.html"]},
        "bob",
        True,
        {"graph": 3, "ews": 3},  # the copy kept before the removal: one streamed read
        {"graph": 3, "ews": 4},
    ),
    (
        "copy_email",
        {"mailbox": "alice@contoso.com", "destination_folder": "archive"},
        "alice",
        True,
        {"graph": 1, "ews": 2},
        {"graph": 2, "ews": 2},
    ),
    (
        "copy_email",
        {
            "mailbox": "alice@contoso.com",
            "destination_folder": "inbox",
            "destination_mailbox": "soc@contoso.com",
        },
        "alice",
        True,
        {"graph": 2, "ews": 2},
        {"graph": 3, "ews": 2},
    ),
    (
        "junk_mail",
        {"mailbox": "bob@contoso.com", "is_junk": True, "move": True, "block_sender": True},
        "bob",
        True,
        {"graph": 3, "ews": 2},
        {"graph": 3, "ews": 2},
    ),
    (
        "delete_email",
        {"mailbox": "carol@contoso.com"},
        "carol",
        True,
        {"graph": 2, "ews": 3},
        {"graph": 2, "ews": 3},
    ),
    (
        "send_email",
        {
            "mailbox": "soc@contoso.com",
            "to": ["alice@contoso.com"],
            "bcc": ["bob@contoso.com"],
            "subject": "Phishing INV-20931 removed",
            "body": "Removed from every mailbox.",
        },
        None,
        True,
        {"graph": 1, "ews": 1},
        {},
    ),
    (
        "reply_to_email",
        {"mailbox": "alice@contoso.com", "body": "Thank you for the report."},
        "alice",
        True,
        {"graph": 2, "ews": 3},
        {"graph": 3, "ews": 4},
    ),
    (
        "poll_mailbox",
        {"mailbox": "phish-report@contoso.com", "since": "2026-11-20T00:00:00Z"},
        None,
        False,
        {"graph": 1, "ews": 1},
        {},
    ),
    (
        "get_email",
        {"mailbox": "alice@contoso.com"},
        "alice",
        False,
        {"graph": 6, "ews": 6},
        {"graph": 6, "ews": 7},
    ),
]


def _runs() -> list[Any]:
    runs = []
    for action, params, user, writes, by_id, by_internet_id in CASES:
        label = f"{action}-{'-'.join(str(v) for v in params.values())}"[:60]
        for backend, count in by_id.items():
            addressing = "id" if user else "-"
            runs.append(
                pytest.param(
                    action,
                    params,
                    user,
                    writes,
                    backend,
                    addressing,
                    count,
                    id=f"{backend}-{label}-{addressing}",
                )
            )
        for backend, count in by_internet_id.items():
            runs.append(
                pytest.param(
                    action,
                    params,
                    user,
                    writes,
                    backend,
                    "internet_message_id",
                    count,
                    id=f"{backend}-{label}-internet_message_id",
                )
            )
    return runs


def is_tenant_request(entry: dict[str, Any]) -> bool:
    """A request to Graph or EWS, not to the identity platform."""
    path = entry["path"]
    return not (
        path.endswith("/oauth2/v2.0/token") or path.endswith("/.well-known/openid-configuration")
    )


@pytest.fixture(scope="module")
def warm(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Per backend: a runner whose token cache is warm, and the campaign copies' backend ids."""
    root = tmp_path_factory.mktemp("round-trips")
    sandbox.reset()
    runners: dict[str, Any] = {}
    for backend in ("graph", "ews"):
        runner = PackRunner(sandbox, root / backend / "output")
        cache = str(root / backend / "token-cache.json")
        assert runner.run("test_connection", {}, backend, token_cache_path=cache).envelope["ok"]
        found = runner.run(
            "search_emails_extended",
            {"mailboxes": [f"{u}@contoso.com" for u in CAMPAIGN_USERS], "sender": CAMPAIGN_SENDER},
            backend,
            token_cache_path=cache,
        ).data["messages"]
        ids = {m["mailbox"].split("@")[0]: m["id"] for m in found if m["folder"] == "inbox"}
        runners[backend] = (runner, cache, ids)
    return runners


@pytest.mark.parametrize(
    ("action", "params", "user", "writes", "backend", "addressing", "expected"), _runs()
)
def test_round_trips_per_action(
    sandbox: Sandbox,
    warm: dict[str, Any],
    action: str,
    params: dict[str, Any],
    user: str | None,
    writes: bool,
    backend: str,
    addressing: str,
    expected: int,
    tmp_path: Path,
) -> None:
    runner, cache, ids = warm[backend]
    target: dict[str, Any] = {}
    if addressing == "id":
        target = {"message_id": ids[user]}
    elif addressing == "internet_message_id":
        target = {"internet_message_id": campaign_id(str(user))}
    if writes:
        sandbox.reset()
    sandbox.clear_requests()
    out = runner.run(
        action, {**params, **target}, backend, token_cache_path=cache, output_dir=str(tmp_path)
    )
    assert out.envelope["ok"], out.envelope.get("error")
    log = [entry for entry in sandbox.requests() if is_tenant_request(entry)]
    operations = [entry["operation"] or f"{entry['method']} {entry['path']}" for entry in log]
    assert len(log) == expected, operations
    if writes:
        sandbox.reset()
