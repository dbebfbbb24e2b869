"""search_and_delete_emails with engine ediscovery (Graph): Purview estimates and purges the
seeded campaign; the auto engine's choice; the refusals (EWS, Deleted Items, permission)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pack_runner import CAMPAIGN_SENDER, PackRunner

from exchange_sandbox.seeds import FULL_ROLES

pytestmark = pytest.mark.sandbox

ACTION = "search_and_delete_emails"
CAMPAIGN = {"all_mailboxes": True, "sender": "contoso-payments.com", "engine": "ediscovery"}


@pytest.fixture
def purview(fresh_pack: PackRunner) -> Iterator[tuple[PackRunner, dict[str, Any]]]:
    """The seeded tenant and the config of an app that also holds eDiscovery.ReadWrite.All."""
    app = fresh_pack.sandbox.add_app(
        name="ediscovery", roles=[*FULL_ROLES, "eDiscovery.ReadWrite.All"]
    )
    yield fresh_pack, {"client_id": app["client_id"], "client_secret": app["client_secret"]}


def remaining_campaign(pack: PackRunner) -> int:
    params = {"all_mailboxes": True, "sender": CAMPAIGN_SENDER}
    return pack.run("search_emails_extended", params, "graph").data["total"]


@pytest.mark.parametrize("delete_type", ["soft", "hard"])
def test_purview_estimates_then_purges_the_campaign(
    purview: tuple[PackRunner, dict[str, Any]], delete_type: str
) -> None:
    pack, app = purview
    params = {**CAMPAIGN, "delete_type": delete_type}
    estimate = pack.run(ACTION, params, "graph", **app).data
    assert estimate["engine"] == "ediscovery" and estimate["mode"] == "estimate"
    assert estimate["totals"]["matched"] == 3
    assert estimate["totals"]["mailboxes_with_matches"] == 3
    assert estimate["ediscovery"]["indexed_items"] == 3
    assert estimate["approval_token"]
    assert remaining_campaign(pack) == 3

    params |= {"mode": "delete", "approval_token": estimate["approval_token"]}
    pack.sandbox.clear_requests()
    done = pack.run(ACTION, params, "graph", **app).data
    assert done["totals"]["deleted"] == 3 and done["next_cursor"] is None
    rounds = done["ediscovery"]["purge_rounds"]
    assert [(r["removed"], r["remaining"]) for r in rounds] == [(3, 0)]
    assert "100 items per mailbox" in done["ediscovery"]["purge_limit_note"]
    assert remaining_campaign(pack) == 0
    operations = {r["operation"] for r in pack.sandbox.requests()}
    assert "POST /security/cases/ediscoveryCases/{id}/searches/{id}/purgeData" in operations
    assert not any("/messages" in op for op in operations)  # no per-mailbox work on the worker
    lines = [json.loads(x) for x in Path(done["audit_file"]["path"]).read_text().splitlines()]
    assert [(x["outcome"], x["items"], x["engine"]) for x in lines] == [("purged", 3, "ediscovery")]

    again = pack.run(ACTION, params, "graph", **app).data
    assert again["totals"]["deleted"] == 0 and again["totals"]["already_deleted"] == 3
    assert again["ediscovery"]["purge_rounds"] == []


def test_listed_mailboxes_become_sources(purview: tuple[PackRunner, dict[str, Any]]) -> None:
    pack, app = purview
    params = {
        "mailboxes": ["alice@contoso.com", "bob@contoso.com"],
        "sender": "contoso-payments.com",
        "engine": "ediscovery",
        "delete_type": "soft",
    }
    token = pack.run(ACTION, params, "graph", **app).data["approval_token"]
    done = pack.run(ACTION, {**params, "mode": "delete", "approval_token": token}, "graph", **app)
    assert done.data["totals"]["deleted"] == 2
    assert remaining_campaign(pack) == 1  # carol's copy was out of scope


def test_auto_uses_the_fanout_below_the_threshold(purview: tuple[PackRunner, dict[str, Any]]):
    pack, app = purview
    params = {**CAMPAIGN, "engine": "auto", "delete_type": "soft"}
    assert pack.run(ACTION, params, "graph", **app).data["engine"] == "fanout"


def test_refusals(purview: tuple[PackRunner, dict[str, Any]]) -> None:
    pack, app = purview
    token = pack.run(ACTION, CAMPAIGN, "graph", **app).data["approval_token"]
    moving = pack.run(
        ACTION, {**CAMPAIGN, "mode": "delete", "approval_token": token}, "graph", **app
    )
    assert moving.code == 64 and moving.error["code"] == "UNSUPPORTED_ON_BACKEND"
    assert "move_to_deleted_items" in moving.error["message"]
    by_id = pack.run(ACTION, {**CAMPAIGN, "is_read": False}, "graph", **app)
    assert by_id.code == 64 and "is_read" in by_id.error["message"]
    denied = pack.run(ACTION, CAMPAIGN, "graph")  # the full app lacks eDiscovery.ReadWrite.All
    assert denied.code == 77
    assert "eDiscovery.ReadWrite.All" in denied.error["hint"]
    assert remaining_campaign(pack) == 3
