"""Graph and EWS give the same ``data`` for the same mailbox content (backend ids aside)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pack_runner import CAMPAIGN_SENDER, PackRunner, campaign_id

pytestmark = pytest.mark.sandbox

# Keys whose values name backend objects or local files, not mailbox content.
BACKEND_KEYS = frozenset({"id", "original_id", "next_cursor", "path", "output_dir"})

READ_ACTIONS: dict[str, dict[str, Any]] = {
    "get_searchable_mailboxes": {},
    "get_out_of_office": {"mailbox": "dave@contoso.com"},
    "get_contacts": {"mailbox": "alice@contoso.com"},
    "search_campaign": {"all_mailboxes": True, "sender": CAMPAIGN_SENDER},
    "search_mailbox": {"mailbox": "soc@contoso.com"},
    "search_filters": {
        "mailboxes": ["alice@contoso.com", "bob@contoso.com"],
        "has_attachments": True,
        "received_after": "2000-01-01T00:00:00Z",
    },
    "get_attachments": {"mailbox": "bob@contoso.com", "internet_message_id": campaign_id("bob")},
    "download_mail_as_eml": {"internet_message_id": campaign_id("alice")},
}


def action_of(case: str) -> str:
    return "search_emails_extended" if case.startswith("search_") else case


def without_backend_ids(value: Any) -> Any:
    """The data with backend ids and local paths removed, lists in a stable order."""
    if isinstance(value, dict):
        return {k: without_backend_ids(v) for k, v in value.items() if k not in BACKEND_KEYS}
    if isinstance(value, list):
        items = [without_backend_ids(v) for v in value]
        return sorted(items, key=repr) if all(isinstance(i, dict) for i in items) else items
    return value


@pytest.fixture(scope="module")
def seeded(pack: PackRunner) -> Iterator[PackRunner]:
    pack.sandbox.reset()
    pack.sandbox.clear_faults()
    yield pack


def untyped(data: dict[str, Any]) -> dict[str, Any]:
    """EWS GetSearchableMailboxes does not tell user, shared, room or equipment apart: the
    EWS backend says ``unknown``, which agrees with any type Graph reads from userPurpose."""
    return {**data, "mailboxes": [{**box, "type": "unknown"} for box in data["mailboxes"]]}


@pytest.mark.parametrize("case", sorted(READ_ACTIONS))
def test_graph_and_ews_agree(seeded: PackRunner, case: str, tmp_path: Path) -> None:
    results = {}
    for backend in ("graph", "ews"):
        out = seeded.run(
            action_of(case), READ_ACTIONS[case], backend, output_dir=str(tmp_path / backend)
        )
        results[backend] = without_backend_ids(out.data)
    if case == "get_searchable_mailboxes" and all(
        box["type"] == "unknown" for box in results["ews"]["mailboxes"]
    ):
        results["graph"] = untyped(results["graph"])
    assert results["graph"] == results["ews"], first_difference(results["graph"], results["ews"])


def first_difference(graph: Any, ews: Any, path: str = "data") -> str:
    """Where the two answers first differ, for a readable failure."""
    if isinstance(graph, dict) and isinstance(ews, dict):
        for key in sorted(set(graph) | set(ews)):
            if graph.get(key) != ews.get(key):
                return first_difference(graph.get(key), ews.get(key), f"{path}.{key}")
    if isinstance(graph, list) and isinstance(ews, list) and len(graph) == len(ews):
        for index, (left, right) in enumerate(zip(graph, ews, strict=True)):
            if left != right:
                return first_difference(left, right, f"{path}[{index}]")
    return f"{path}: graph {graph!r} != ews {ews!r}"
