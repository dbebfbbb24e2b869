"""search_emails_extended's next_cursor on a tenant wider than a cursor can name mailbox by
mailbox: it stays within the ``cursor`` parameter's maxLength, resumes the rest of the
directory, and paging through returns every campaign message exactly once.

The paging at scale runs on Graph: on EWS the same ~6,000 mailbox searches take two minutes of
``make test``. What differs per backend, resuming the directory from a mailbox (``rest_from``)
and refusing one gone from it, runs on both backends against the demo tenant."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pack_runner import CAMPAIGN_SENDER, PackRunner

from exchange_pack.actions.cursor import MAX_CURSOR_LENGTH, SearchCursor, fingerprint
from exchange_pack.actions.search import criteria_from
from exchange_sandbox.process import start_sandbox

pytestmark = pytest.mark.sandbox

MAILBOXES = 3_100  # a cursor holds ~2,000 bare addresses: the first one needs a rest
MAX_RESULTS = 1_000


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackRunner]:
    with start_sandbox(
        tmp_path_factory.mktemp("wide-tenant"), seed=f"bulk:{MAILBOXES}:1"
    ) as sandbox:
        yield PackRunner(sandbox, tmp_path_factory.mktemp("wide-output"))


def _body(cursor: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def test_paging_a_tenant_wide_search_returns_every_message_once(
    wide: PackRunner, tmp_path: Path
) -> None:
    backend = "graph"
    params = {"all_mailboxes": True, "sender": CAMPAIGN_SENDER, "max_results": MAX_RESULTS}
    cache = str(tmp_path / "token-cache.json")
    # The bulk tenant has none of the demo users, the default mailbox among them.
    options = {"token_cache_path": cache, "default_mailbox": "user00001@contoso.com"}
    first = wide.run("search_emails_extended", params, backend, **options).data
    assert first["total"] == MAX_RESULTS and first["truncated"]
    cursor = first["next_cursor"]
    assert len(cursor) <= MAX_CURSOR_LENGTH
    assert _body(cursor)["rest_from"].startswith("user")  # more mailboxes than it can name

    seen = [m["internet_message_id"] for m in first["messages"]]
    reported = [box["mailbox"] for box in first["mailboxes"]]
    runs = 1
    while cursor:
        page = wide.run("search_emails_extended", {**params, "cursor": cursor}, backend, **options)
        page = page.data
        assert len(page["next_cursor"] or "") <= MAX_CURSOR_LENGTH
        seen += [m["internet_message_id"] for m in page["messages"]]
        reported += [box["mailbox"] for box in page["mailboxes"]]
        cursor = page["next_cursor"]
        runs += 1
        assert runs <= 2 * MAILBOXES // MAX_RESULTS, "the cursor does not come to an end"
    expected = {f"<bulk-user{n:05d}-000000@contoso.com>" for n in range(1, MAILBOXES + 1)}
    assert len(seen) == len(set(seen)) and set(seen) == expected
    assert len({box.lower() for box in reported}) >= MAILBOXES


PARAMS = {"all_mailboxes": True, "subject": "invoice", "max_results": 1000, "limit": 50}


def _rest_cursor(rest_from: str) -> str:
    """The cursor a truncated run over every mailbox returns when it resumes at ``rest_from``."""
    params = {**PARAMS}
    print_key = fingerprint(criteria_from(params).model_dump(mode="json"), params["limit"], "all")
    return SearchCursor(fingerprint=print_key, positions=[], rest_from=rest_from).encode()


def _by_mailbox(data: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in data["messages"]:
        found.setdefault(message["mailbox"].lower(), []).append(message["internet_message_id"])
    return {mailbox: sorted(ids) for mailbox, ids in found.items()}


def test_a_cursor_resumes_the_directory_from_its_rest(pack: PackRunner, backend: str) -> None:
    whole = pack.run("search_emails_extended", PARAMS, backend).data
    order = [box["mailbox"] for box in whole["mailboxes"]]
    assert len(order) >= 3
    rest_from = order[len(order) // 2]
    rest = pack.run(
        "search_emails_extended", {**PARAMS, "cursor": _rest_cursor(rest_from)}, backend
    )
    assert [box["mailbox"] for box in rest.data["mailboxes"]] == order[len(order) // 2 :]
    expected = {
        m: ids
        for m, ids in _by_mailbox(whole).items()
        if m in {o.lower() for o in order[len(order) // 2 :]}
    }
    assert expected, "the demo tenant's invoice mail lies in the second half too"
    assert _by_mailbox(rest.data) == expected
    assert rest.data["next_cursor"] is None


def test_a_rest_gone_from_the_directory_is_refused(pack: PackRunner, backend: str) -> None:
    cursor = _rest_cursor("left.the.company@contoso.com")
    out = pack.run("search_emails_extended", {**PARAMS, "cursor": cursor}, backend)
    assert out.code == 64, out.envelope
    assert "left.the.company@contoso.com" in out.error["message"]
    assert out.error["hint"] == "Run the search again without cursor."
