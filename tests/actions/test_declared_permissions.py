"""An app granted exactly the Graph permissions an action declares in integration.yaml can run
it: the permission tables in the README and the bundles come from those declarations."""

from __future__ import annotations

from pathlib import Path

import pytest
from pack_runner import CAMPAIGN_SENDER, CAMPAIGN_USERS, PackRunner

from exchange_pack.manifest import load_manifest

pytestmark = pytest.mark.sandbox


def _declared(action: str, parameter: str) -> list[str]:
    spec = load_manifest().action(action)
    extra = [e["graph"] for e in spec.extra_permissions if e["when"] == parameter]
    return [*spec.permissions["graph"], *(role for roles in extra for role in roles)]


def test_an_all_mailbox_search_needs_only_what_it_declares(
    pack: PackRunner, tmp_path: Path
) -> None:
    roles = _declared("search_emails_extended", "all_mailboxes")
    assert "MailboxSettings.Read" not in roles  # the search reads no mailbox settings
    app = pack.sandbox.add_app(name="declared-search", roles=roles)
    out = pack.run(
        "search_emails_extended",
        {"all_mailboxes": True, "sender": CAMPAIGN_SENDER},
        "graph",
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        token_cache_path=str(tmp_path / "token-cache.json"),
    )
    found = {m["mailbox"].split("@")[0] for m in out.data["messages"]}
    assert set(CAMPAIGN_USERS) <= found
    assert all(box["status"] == "ok" for box in out.data["mailboxes"])
