"""Every action on both backends through its failure paths: bad input (64), not found (66/67),
access denied with the read-only app (77), bad credentials (78), throttling (75 or a retried
success). None of these runs changes the tenant, so the module resets it only once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pack_runner import BACKENDS, CAMPAIGN_SENDER, PackRunner, campaign_id

from exchange_pack import hints
from exchange_pack.manifest import BINDING_ACTION_IDS

pytestmark = pytest.mark.sandbox

ALICE_COPY = campaign_id("alice")
MISSING = "<missing-message@nowhere.example>"
NOBODY = "nobody@contoso.com"

# Parameters that succeed on the seeded tenant with the full app.
VALID: dict[str, dict[str, Any]] = {
    "test_connection": {},
    "get_attachments": {"internet_message_id": ALICE_COPY},
    "get_contacts": {},
    "get_searchable_mailboxes": {},
    "get_out_of_office": {"mailbox": "dave@contoso.com"},
    "search_emails_extended": {"sender": CAMPAIGN_SENDER},
    "copy_email": {"internet_message_id": ALICE_COPY, "destination_folder": "Inbox/Projects"},
    "delete_attachments": {
        "internet_message_id": ALICE_COPY,
        "attachment_names": ["INV-20931.zip"],
    },
    "delete_email": {"internet_message_id": ALICE_COPY},
    "download_mail_as_eml": {"internet_message_id": ALICE_COPY},
    "junk_mail": {"internet_message_id": ALICE_COPY},
    "send_email": {"to": ["bob@contoso.com"], "subject": "Test", "body": "Test"},
    "reply_to_email": {"internet_message_id": ALICE_COPY, "body": "Thanks"},
    "poll_mailbox": {"mailbox": "phish-report@contoso.com"},
    "get_email": {"internet_message_id": ALICE_COPY},
    "search_and_delete_emails": {"mailboxes": ["alice@contoso.com"], "sender": CAMPAIGN_SENDER},
}

BAD_INPUT: dict[str, dict[str, Any]] = {
    "test_connection": {"mailbox": "not-an-address"},
    "get_attachments": {"internet_message_id": ALICE_COPY, "max_size_bytes": 0},
    "get_contacts": {"limit": 0},
    "get_searchable_mailboxes": {"limit": "many"},
    "get_out_of_office": {"mailbox": "dave@contoso.com", "mailbox_type": "user"},
    "search_emails_extended": {"all_mailboxes": True, "mailbox": "alice@contoso.com"},
    "copy_email": {"internet_message_id": ALICE_COPY},
    "delete_attachments": {"internet_message_id": ALICE_COPY},
    "delete_email": {"internet_message_id": ALICE_COPY, "delete_type": "purge"},
    "download_mail_as_eml": {},
    "junk_mail": {"internet_message_id": "no at sign"},
    "send_email": {
        "to": ["bob@contoso.com"],
        "subject": "x",
        "attachment_paths": ["/nonexistent/evidence.pdf"],
    },
    "reply_to_email": {"internet_message_id": ALICE_COPY, "body": "x", "body_type": "rtf"},
    "poll_mailbox": {"limit": 0},
    "get_email": {},
    "search_and_delete_emails": {"mailboxes": ["alice@contoso.com"], "is_read": True},
}

MESSAGE_NOT_FOUND: dict[str, dict[str, Any]] = {
    "get_attachments": {"internet_message_id": MISSING},
    "download_mail_as_eml": {"internet_message_id": MISSING},
    "copy_email": {"internet_message_id": MISSING, "destination_folder": "inbox"},
    "delete_attachments": {"internet_message_id": MISSING, "all_attachments": True},
    "junk_mail": {"internet_message_id": MISSING},
    "reply_to_email": {"internet_message_id": MISSING, "body": "x"},
    "get_email": {"internet_message_id": MISSING},
}
FOLDER_OR_ATTACHMENT_NOT_FOUND: dict[str, dict[str, Any]] = {
    "copy_email": {"internet_message_id": ALICE_COPY, "destination_folder": "Inbox/NoSuchFolder"},
    "get_attachments": {"internet_message_id": ALICE_COPY, "attachment_names": ["nope.pdf"]},
    "search_emails_extended": {"mailbox": "alice@contoso.com", "folder": "Inbox/NoSuchFolder"},
    "poll_mailbox": {"mailbox": "alice@contoso.com", "folder": "Inbox/NoSuchFolder"},
}
MAILBOX_NOT_FOUND: dict[str, dict[str, Any]] = {
    "get_out_of_office": {"mailbox": NOBODY},
    "get_contacts": {"mailbox": NOBODY},
    "search_emails_extended": {"mailbox": NOBODY},
    "send_email": {"mailbox": NOBODY, "to": ["bob@contoso.com"], "subject": "x"},
    "download_mail_as_eml": {"mailbox": NOBODY, "internet_message_id": ALICE_COPY},
    "poll_mailbox": {"mailbox": NOBODY},
}
# What the read-only app (Mail.Read, MailboxSettings.Read, Contacts.Read, User.Read.All and no
# EWS role) may not do: every write on Graph; everything on EWS.
GRAPH_WRITES = (
    "copy_email",
    "delete_attachments",
    "delete_email",
    "junk_mail",
    "send_email",
    "reply_to_email",
)
DENIED = [(a, "graph") for a in GRAPH_WRITES] + [(a, "ews") for a in BINDING_ACTION_IDS]


@pytest.fixture(scope="module")
def seeded(pack: PackRunner) -> Iterator[PackRunner]:
    """The tenant at its seed once for the module; faults cleared after each use."""
    pack.sandbox.reset()
    pack.sandbox.clear_faults()
    pack.sandbox.settings(throttle="off", ews_blocked=False, latency_ms=0)
    yield pack
    pack.sandbox.clear_faults()


@pytest.fixture
def tenant(seeded: PackRunner) -> Iterator[PackRunner]:
    yield seeded
    seeded.sandbox.clear_faults()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("action", BINDING_ACTION_IDS)
def test_bad_input_exits_64_before_any_request(tenant: PackRunner, action: str, backend: str):
    tenant.sandbox.clear_requests()
    out = tenant.run(action, BAD_INPUT[action], backend)
    assert out.code == 64, out.envelope
    assert out.error["code"] == "INVALID_INPUT"
    assert tenant.sandbox.requests() == []


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("action", sorted(MESSAGE_NOT_FOUND))
def test_missing_message_exits_66(tenant: PackRunner, action: str, backend: str) -> None:
    out = tenant.run(action, MESSAGE_NOT_FOUND[action], backend)
    assert out.code == 66, out.envelope
    assert out.error["code"] == "MESSAGE_NOT_FOUND"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("action", sorted(FOLDER_OR_ATTACHMENT_NOT_FOUND))
def test_missing_folder_or_attachment_exits_66(tenant: PackRunner, action: str, backend: str):
    out = tenant.run(action, FOLDER_OR_ATTACHMENT_NOT_FOUND[action], backend)
    assert out.code == 66, out.envelope
    assert out.error["code"] in ("FOLDER_NOT_FOUND", "ATTACHMENT_NOT_FOUND")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("action", sorted(MAILBOX_NOT_FOUND))
def test_missing_mailbox_exits_67(tenant: PackRunner, action: str, backend: str) -> None:
    out = tenant.run(action, MAILBOX_NOT_FOUND[action], backend)
    assert out.code == 67, out.envelope
    assert out.error["code"] == "MAILBOX_NOT_FOUND"


def test_deleting_a_missing_message_is_not_a_failure(tenant: PackRunner, backend: str) -> None:
    out = tenant.run(
        "delete_email", {"message_ids": [MISSING, ALICE_COPY], "dry_run": True}, backend
    )
    statuses = {r["message"]: r["status"] for r in out.data["results"]}
    assert statuses == {MISSING: "not_found", ALICE_COPY: "would_delete"}


def test_a_wrong_default_mailbox_is_a_config_error(tenant: PackRunner, backend: str) -> None:
    out = tenant.run("test_connection", {}, backend, default_mailbox=NOBODY)
    assert out.code == 78, out.envelope
    assert "default_mailbox" in out.error["hint"]


@pytest.mark.parametrize(("action", "backend"), DENIED)
def test_readonly_app_is_denied_with_77(tenant: PackRunner, action: str, backend: str) -> None:
    out = tenant.run(action, VALID[action], backend, app="readonly")
    assert out.code == 77, out.envelope
    assert out.error["category"] == "permission"
    assert out.error["hint"]


def test_readonly_app_on_ews_is_reported_unusable(tenant: PackRunner) -> None:
    out = tenant.run("test_connection", {}, "ews", app="readonly")
    assert out.code == 77
    assert "full_access_as_app" in out.error["hint"]


def test_wrong_secret_exits_78(tenant: PackRunner, backend: str) -> None:
    out = tenant.run("get_contacts", {}, backend, client_secret="not-the-secret")
    assert out.code == 78, out.envelope
    assert "not-the-secret" not in out.stderr + str(out.envelope)


def test_a_secret_that_is_an_ordinary_word_keeps_the_sentence_meaningful(
    tenant: PackRunner, backend: str
) -> None:
    out = tenant.run("get_contacts", {}, backend, client_secret="wrong")
    assert out.code == 78, out.envelope
    assert "The client secret is wrong." in out.error["message"]
    assert "[REDACTED]" not in out.error["message"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_malformed_message_id_is_bad_input_with_a_hint(tenant: PackRunner, backend: str) -> None:
    out = tenant.run(
        "get_attachments", {"mailbox": "alice@contoso.com", "message_id": "AAMk-cut"}, backend
    )
    assert out.code == 64, out.envelope
    assert out.error["hint"] == hints.MALFORMED_ID


FAULT_PATHS = {"graph": "^/v1\\.0/", "ews": "^/EWS/"}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("action", BINDING_ACTION_IDS)
def test_throttled_beyond_the_retry_budget_exits_75(
    tenant: PackRunner, action: str, backend: str, tmp_path: Path
) -> None:
    tenant.sandbox.fault(path=FAULT_PATHS[backend], throttle=30, count=50)
    # A cache of its own: on EWS the server-version probe meets the throttling first.
    cache = str(tmp_path / "token-cache.json")
    out = tenant.run(action, VALID[action], backend, max_retries=0, token_cache_path=cache)
    assert out.code == 75, out.envelope
    assert out.error["code"] == "THROTTLED"
    assert out.error["retryable"] is True
    assert out.error["retry_after_seconds"] == pytest.approx(30, abs=1)


@pytest.mark.parametrize("action", ["search_emails_extended", "get_attachments", "get_contacts"])
def test_throttling_within_the_retry_budget_succeeds_with_a_warning(
    tenant: PackRunner, action: str, backend: str
) -> None:
    tenant.sandbox.fault(path=FAULT_PATHS[backend], throttle=1, count=1)
    out = tenant.run(action, VALID[action], backend)
    assert out.code == 0, out.envelope
    assert out.envelope["meta"]["throttled"] == 1
    assert out.envelope["meta"]["throttle_wait_seconds"] >= 1
