"""Every search filter, alone and combined, over the seeded tenant: Graph and EWS find the same
messages, and exactly the ones the README's matching rules select (an oracle over the seed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pack_runner import CAMPAIGN_SENDER, PackRunner, campaign_id

from exchange_sandbox.mime import html_to_text
from exchange_sandbox.seeds import SEED_DATE, seed
from exchange_sandbox.store import Message, Store

pytestmark = pytest.mark.sandbox

AFTER = (SEED_DATE - dt.timedelta(days=3)).isoformat().replace("+00:00", "Z")
BEFORE = (SEED_DATE - dt.timedelta(hours=12)).isoformat().replace("+00:00", "Z")

CASES: dict[str, dict[str, Any]] = {
    # sender: whole address, domain, @domain, parts at a word start, case
    "sender_address": {"sender": CAMPAIGN_SENDER},
    "sender_domain": {"sender": "contoso-payments.com"},
    "sender_at_domain": {"sender": "@contoso-payments.com"},
    "sender_domain_case": {"sender": "Contoso-Payments.COM"},
    "sender_parent_domain": {"sender": "contoso.com"},
    "sender_local_part": {"sender": "billing"},
    "sender_domain_word": {"sender": "payments"},
    "sender_mid_word": {"sender": "illing"},
    # recipient (To and Cc)
    "recipient_address": {"recipient": "carol@contoso.com"},
    "recipient_domain": {"recipient": "@contoso.com"},
    "recipient_part": {"recipient": "dav"},
    # the other filters
    "subject_word": {"subject": "invoice"},
    "subject_phrase": {"subject": "Invoice 4471"},
    "subject_case": {"subject": "INV-20931"},
    "subject_mid_word": {"subject": "nvoice"},
    "body": {"body": "overdue"},
    "internet_message_id": {"internet_message_id": campaign_id("bob")},
    "has_attachments": {"has_attachments": True},
    "no_attachments": {"has_attachments": False},
    "attachment_name": {"attachment_name": "remittance"},
    "is_read": {"is_read": True},
    "unread": {"is_read": False},
    "received_after": {"received_after": AFTER},
    "received_before": {"received_before": BEFORE},
    "folder": {"folder": "sentitems"},
    # combined
    "domain_and_attachments": {"sender": "contoso-payments.com", "has_attachments": True},
    "subject_and_recipient_domain": {"subject": "invoice", "recipient": "contoso.com"},
    "part_window_unread": {
        "sender": "billing",
        "received_after": AFTER,
        "received_before": SEED_DATE.isoformat(),
        "is_read": False,
    },
    "subject_attachment_folder": {
        "subject": "invoice",
        "attachment_name": "INV-20931",
        "folder": "inbox",
    },
    "everything": {
        "sender": "@contoso-payments.com",
        "recipient": "alice",
        "subject": "overdue invoice",
        "body": "overdue",
        "internet_message_id": campaign_id("alice"),
        "has_attachments": True,
        "attachment_name": "INV-20931.pdf",
        "received_after": AFTER,
        "folder": "inbox",
    },
}
# Non-empty on the seed: an agreement on nothing would prove nothing.
MUST_FIND = {"sender_domain": 3, "sender_at_domain": 3, "sender_local_part": 3, "subject_word": 10}
EMPTY = {"sender_mid_word", "subject_mid_word"}


def _word_prefix(wanted: str, text: str) -> bool:
    wanted, text = wanted.casefold(), text.casefold()
    return any(
        text.startswith(wanted, i) and (i == 0 or not text[i - 1].isalnum())
        for i in range(len(text))
    )


def _address(wanted: str, address: str) -> bool:
    wanted, address = wanted.casefold(), address.casefold()
    local, _, domain = wanted.rpartition("@")
    if local and "." in domain:
        return address == wanted
    if "." in domain:
        host = address.split("@")[1]
        return host == domain or host.endswith("." + domain)
    return any(
        address.startswith(wanted, i) and (i == 0 or address[i - 1] in "@.-_+")
        for i in range(len(address))
    )


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def oracle(store: Store) -> Callable[[dict[str, Any]], set[tuple[str, str]]]:
    """The (mailbox, internet_message_id) pairs the filters select, read straight off the seed."""
    boxes = store.mailboxes()
    messages: list[tuple[str, Message]] = [
        (box.address, m) for box in boxes for m in store.messages(box.id, include_drafts=False)
    ]
    names = store.attachment_names(m.id for _, m in messages)
    folders = {
        (box.address, key): store.folder(box.id, key).id  # type: ignore[union-attr]
        for box in boxes
        for key in ("inbox", "sentitems")
    }

    def keep(p: dict[str, Any], box: str, m: Message) -> bool:
        body = html_to_text(m.body) if m.body_type == "html" else m.body
        tests = [
            not p.get("sender") or (m.from_ is not None and _address(p["sender"], m.from_.address)),
            not p.get("recipient") or any(_address(p["recipient"], a.address) for a in m.to + m.cc),
            not p.get("subject") or _word_prefix(p["subject"], m.subject),
            not p.get("body") or p["body"].casefold() in body.casefold(),
            not p.get("internet_message_id") or p["internet_message_id"] == m.internet_message_id,
            "has_attachments" not in p or p["has_attachments"] == m.has_attachments,
            not p.get("attachment_name")
            or any(_word_prefix(p["attachment_name"], n) for n in names.get(m.id, [])),
            "is_read" not in p or p["is_read"] == m.is_read,
            not p.get("received_after") or m.received_at >= _moment(p["received_after"]),
            not p.get("received_before") or m.received_at < _moment(p["received_before"]),
            not p.get("folder") or folders[(box, p["folder"])] == m.folder_id,
        ]
        return all(tests)

    def select(params: dict[str, Any]) -> set[tuple[str, str]]:
        return {(box, m.internet_message_id) for box, m in messages if keep(params, box, m)}

    return select


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, Any]], Any]:
    store = Store(tmp_path_factory.mktemp("oracle") / "tenant.db")
    seed(store, "demo")
    return oracle(store)


@pytest.fixture(scope="module")
def seeded(pack: PackRunner) -> Iterator[PackRunner]:
    pack.sandbox.reset()
    pack.sandbox.clear_faults()
    yield pack


@pytest.mark.parametrize("case", sorted(CASES))
def test_filters_find_the_same_messages_on_both_backends(
    seeded: PackRunner, expected: Callable[[dict[str, Any]], Any], case: str, tmp_path: Path
) -> None:
    params = {"all_mailboxes": True, "limit": 1000, "max_results": 10000, **CASES[case]}
    found = {}
    for backend in ("graph", "ews"):
        data = seeded.run("search_emails_extended", params, backend, output_dir=str(tmp_path)).data
        assert not data["truncated"]
        assert all(box["status"] == "ok" for box in data["mailboxes"]), data["mailboxes"]
        found[backend] = sorted((m["mailbox"], m["internet_message_id"]) for m in data["messages"])
    assert found["graph"] == found["ews"]
    assert set(found["graph"]) == expected(CASES[case])
    assert len(found["graph"]) == len(set(found["graph"])), "a message listed twice"
    if case in EMPTY:
        assert found["graph"] == []
    else:
        assert found["graph"], "the case selects nothing on the seed: it proves nothing"
    if case in MUST_FIND:
        assert len(found["graph"]) == MUST_FIND[case]


def test_free_text_query_agrees(seeded: PackRunner, tmp_path: Path) -> None:
    """``query`` is the server's word alone (KQL / AQS): both backends still agree."""
    params = {"all_mailboxes": True, "query": "Fabrikam", "limit": 1000}
    found = [
        sorted(
            (m["mailbox"], m["internet_message_id"])
            for m in seeded.run("search_emails_extended", params, b, output_dir=str(tmp_path)).data[
                "messages"
            ]
        )
        for b in ("graph", "ews")
    ]
    assert found[0] == found[1] and found[0]
