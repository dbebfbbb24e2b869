"""search_and_delete_emails end to end with the fan-out engine, on Graph and on EWS: estimate,
approval, delete across every mailbox, the audit file, idempotent reruns, new arrivals, a
partial failure resumed through next_cursor, and the inputs it refuses."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pack_runner import CAMPAIGN_SENDER, CAMPAIGN_SUBJECT, CAMPAIGN_USERS, PackRunner, campaign_id

from exchange_pack.campaign import approval
from exchange_pack.campaign.cursor import _encoded

pytestmark = pytest.mark.sandbox

ACTION = "search_and_delete_emails"
CAMPAIGN = {"all_mailboxes": True, "sender": "contoso-payments.com"}


def estimate(pack: PackRunner, backend: str, **extra: Any) -> dict[str, Any]:
    return pack.run(ACTION, {**CAMPAIGN, **extra}, backend).data


def delete(pack: PackRunner, backend: str, token: str, **extra: Any) -> dict[str, Any]:
    params = {**CAMPAIGN, "mode": "delete", "approval_token": token, **extra}
    return pack.run(ACTION, params, backend).data


def campaign_folders(pack: PackRunner, backend: str) -> dict[str, str]:
    """Where each user's copy of the campaign is now (by search_emails_extended)."""
    found = pack.run(
        "search_emails_extended", {"all_mailboxes": True, "sender": CAMPAIGN_SENDER}, backend
    ).data["messages"]
    return {m["mailbox"]: m["folder"] for m in found}


def audit_lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    path = Path(data["audit_file"]["path"])
    raw = path.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == data["audit_file"]["sha256"]
    return [json.loads(line) for line in raw.decode().splitlines()]


def test_estimate_counts_samples_and_changes_nothing(fresh_pack: PackRunner, backend: str) -> None:
    out = fresh_pack.run(ACTION, CAMPAIGN, backend)
    data = out.data
    assert data["mode"] == "estimate" and data["engine"] == "fanout"
    assert data["totals"]["matched"] == 3
    # every mailbox of the demo tenant (the reporting mailbox of the incidents seed too)
    assert data["totals"]["mailboxes_searched"] == len(fresh_pack.sandbox.info["mailboxes"])
    assert {(c["mailbox"], c["matched"]) for c in data["mailboxes"]} == {
        (f"{user}@contoso.com", 1) for user in CAMPAIGN_USERS
    }
    assert {m["subject"] for m in data["sample"]} == {CAMPAIGN_SUBJECT}
    assert data["approval_token"] and data["approval_expires_at"]
    assert data["audit_file"] is None and data["totals"]["deleted"] == 0
    assert out.envelope["summary"]["matched"] == 3
    assert len(campaign_folders(fresh_pack, backend)) == 3  # still there


def test_estimate_then_delete_then_rerun(fresh_pack: PackRunner, backend: str) -> None:
    token = estimate(fresh_pack, backend)["approval_token"]
    first = delete(fresh_pack, backend, token)
    assert first["delete_type"] == "move_to_deleted_items"
    assert first["totals"]["deleted"] == 3 and first["totals"]["failed"] == 0
    assert first["estimated_at_approval"] == 3
    assert first["next_cursor"] is None
    assert campaign_folders(fresh_pack, backend) == {
        f"{user}@contoso.com": "deleteditems" for user in CAMPAIGN_USERS
    }
    lines = audit_lines(first)
    assert {(r["mailbox"], r["internet_message_id"]) for r in lines} == {
        (f"{user}@contoso.com", campaign_id(user)) for user in CAMPAIGN_USERS
    }
    assert all(r["outcome"] == "deleted" for r in lines)
    assert all(r["sender"] == CAMPAIGN_SENDER and r["subject"] == CAMPAIGN_SUBJECT for r in lines)
    assert all(r["received"] and r["message_id"] for r in lines)

    # A rerun deletes nothing twice (the copies in Deleted Items stay) and says what is gone.
    again = delete(fresh_pack, backend, token)
    assert again["totals"]["deleted"] == 0
    assert again["totals"]["already_deleted"] == 3
    assert again["totals"]["in_deleted_items"] == 3
    assert again["audit_file"]["path"] == first["audit_file"]["path"]
    assert again["audit_file"]["records"] == 6
    assert len(campaign_folders(fresh_pack, backend)) == 3  # not purged

    # The same approval, hard: the copies in Deleted Items are purged.
    hard = delete(fresh_pack, backend, token, delete_type="hard")
    assert hard["totals"]["deleted"] == 3
    assert campaign_folders(fresh_pack, backend) == {}
    last = delete(fresh_pack, backend, token, delete_type="hard")
    assert last["totals"]["deleted"] == 0 and last["totals"]["matched"] == 0
    assert last["totals"]["already_deleted"] == 6


def test_a_copy_that_arrived_after_the_estimate_goes_too(
    fresh_pack: PackRunner, backend: str
) -> None:
    token = estimate(fresh_pack, backend)["approval_token"]
    fresh_pack.run(
        "copy_email",
        {
            "mailbox": "alice@contoso.com",
            "internet_message_id": campaign_id("alice"),
            "destination_mailbox": "dave@contoso.com",
            "destination_folder": "inbox",
        },
        backend,
    )
    data = delete(fresh_pack, backend, token, delete_type="soft")
    assert data["totals"]["deleted"] == 4
    assert data["estimated_at_approval"] == 3
    assert "dave@contoso.com" in {c["mailbox"] for c in data["mailboxes"] if c["deleted"]}
    assert campaign_folders(fresh_pack, backend) == {}  # soft: out of every mail folder


def test_dry_run_deletes_nothing(fresh_pack: PackRunner, backend: str) -> None:
    token = estimate(fresh_pack, backend)["approval_token"]
    data = delete(fresh_pack, backend, token, dry_run=True)
    assert data["totals"]["matched"] == 3 and data["totals"]["deleted"] == 0
    assert data["notes"] == ["dry_run: nothing was removed."]
    assert len(campaign_folders(fresh_pack, backend)) == 3


def test_removals_are_batched(fresh_pack: PackRunner, backend: str) -> None:
    """Graph: the 10 invoice messages (at most 3 per mailbox) leave in one $batch beyond the
    search's own; EWS: one DeleteItem per mailbox, with all of its ItemIds."""
    params = {"all_mailboxes": True, "subject": "invoice"}

    def posts(operation: str) -> int:
        return sum(1 for r in fresh_pack.sandbox.requests() if r["operation"] == operation)

    fresh_pack.sandbox.clear_requests()
    token = fresh_pack.run(ACTION, params, backend).data["approval_token"]
    operation = "POST /$batch" if backend == "graph" else "DeleteItem"
    searched = posts(operation)
    fresh_pack.sandbox.clear_requests()
    data = fresh_pack.run(ACTION, {**params, "mode": "delete", "approval_token": token}, backend)
    assert data.data["totals"]["deleted"] == 10
    mailboxes = [c["mailbox"] for c in data.data["mailboxes"] if c["deleted"]]
    assert max(c["deleted"] for c in data.data["mailboxes"]) > 1
    if backend == "graph":
        assert posts(operation) == searched + 1
    else:
        assert searched == 0 and posts(operation) == len(mailboxes)


# Only carol's removal is refused (throttled beyond the retry budget); her search still passes.
CAROL_REMOVAL = {
    "graph": {"method": "POST", "path": r"carol.*/move$"},
    "ews": {
        "method": "POST",
        "path": "^/EWS/",
        "body_match": r"(?s)carol@contoso\.com.*DeleteItem",
    },
}


def test_partial_failure_is_resumed_with_next_cursor(fresh_pack: PackRunner, backend: str) -> None:
    token = estimate(fresh_pack, backend)["approval_token"]
    fresh_pack.sandbox.fault(**CAROL_REMOVAL[backend], throttle=30, count=20)
    out = fresh_pack.run(
        ACTION, {**CAMPAIGN, "mode": "delete", "approval_token": token}, backend, max_retries=0
    )
    fresh_pack.sandbox.clear_faults()
    partial = out.data
    assert partial["totals"]["deleted"] == 2 and partial["totals"]["failed"] == 1, partial
    carol = next(c for c in partial["mailboxes"] if c["mailbox"] == "carol@contoso.com")
    assert carol["failed"] == 1 and carol["error"]
    assert out.warnings and "carol@contoso.com" in out.warnings[0]
    assert partial["next_cursor"] and partial["truncated"]

    resumed = delete(fresh_pack, backend, token, cursor=partial["next_cursor"])
    assert resumed["totals"]["mailboxes_searched"] == 1
    assert resumed["mailboxes"][0]["mailbox"] == "carol@contoso.com"
    assert resumed["totals"]["deleted"] == 1 and resumed["next_cursor"] is None
    assert set(campaign_folders(fresh_pack, backend).values()) == {"deleteditems"}
    outcomes = [(r["mailbox"], r["outcome"]) for r in audit_lines(resumed)]
    assert outcomes.count(("carol@contoso.com", "failed")) == 1
    assert outcomes.count(("carol@contoso.com", "deleted")) == 1
    assert [o for _, o in outcomes].count("deleted") == 3


def _resuming(token: str, rest_from: str) -> str:
    """The cursor of a delete run that left more mailboxes than a cursor can name."""
    body = {"v": 1, "token": approval.token_id(token), "mailboxes": [], "rest_from": rest_from}
    return _encoded(body)


def test_a_cursor_resumes_the_approved_scope_from_rest_from(
    fresh_pack: PackRunner, backend: str
) -> None:
    token = estimate(fresh_pack, backend)["approval_token"]
    resumed = delete(fresh_pack, backend, token, cursor=_resuming(token, "bob@contoso.com"))
    searched = [box["mailbox"] for box in resumed["mailboxes"]]
    assert searched[:2] == ["bob@contoso.com", "carol@contoso.com"], searched
    assert "alice@contoso.com" not in searched  # before bob in the directory: done already
    assert resumed["totals"]["deleted"] == 2 and resumed["next_cursor"] is None
    assert campaign_folders(fresh_pack, backend)["alice@contoso.com"] == "inbox"
    gone = fresh_pack.run(
        ACTION,
        {
            **CAMPAIGN,
            "mode": "delete",
            "approval_token": token,
            "cursor": _resuming(token, "left@contoso.com"),
        },
        backend,
    )
    assert gone.code == 64 and "no longer among them" in gone.envelope["error"]["message"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"all_mailboxes": True, "is_read": True}, "sender"),
        ({"sender": CAMPAIGN_SENDER}, "mailboxes"),
        ({**CAMPAIGN, "mode": "delete"}, "approval_token"),
        ({**CAMPAIGN, "mode": "delete", "approval_token": "x" * 40}, "approval_token"),
        ({**CAMPAIGN, "cursor": "abc"}, "cursor"),
    ],
)
def test_refused_inputs_exit_64_naming_the_field(
    fresh_pack: PackRunner, params: dict[str, Any], field: str
) -> None:
    out = fresh_pack.run(ACTION, params, "graph")
    assert out.code == 64, out.envelope
    assert field in out.error["message"]
    assert fresh_pack.sandbox.requests() == []


def test_a_token_binds_criteria_and_scope(fresh_pack: PackRunner, backend: str) -> None:
    token = estimate(fresh_pack, backend)["approval_token"]
    other_filters = {**CAMPAIGN, "subject": "invoice", "mode": "delete", "approval_token": token}
    other_scope = {
        "mailboxes": ["alice@contoso.com"],
        "sender": "contoso-payments.com",
        "mode": "delete",
        "approval_token": token,
    }
    body, _, signature = token.partition(".")
    forged = {**CAMPAIGN, "mode": "delete", "approval_token": f"{body}.{signature[::-1]}"}
    for params, words in (
        (other_filters, "other filters"),
        (other_scope, "another scope"),
        (forged, "not issued for this app"),
    ):
        out = fresh_pack.run(ACTION, params, backend)
        assert out.code == 64 and words in out.error["message"], out.envelope
    other_app = fresh_pack.run(
        ACTION, {**CAMPAIGN, "mode": "delete", "approval_token": token}, backend, app="scoped"
    )
    assert other_app.code == 64
    assert len(campaign_folders(fresh_pack, backend)) == 3


def test_ediscovery_is_refused_on_ews(fresh_pack: PackRunner) -> None:
    out = fresh_pack.run(ACTION, {**CAMPAIGN, "engine": "ediscovery"}, "ews")
    assert out.code == 64
    assert out.error["code"] == "UNSUPPORTED_ON_BACKEND"
    assert "fanout" in out.error["message"]
