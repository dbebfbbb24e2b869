"""search_and_delete_emails' pure logic: the approval token, the removal batches, the KQL of the
eDiscovery engine, the cursor, and the address / word-start matching of the search filters."""

from __future__ import annotations

import datetime as dt
import random
import string
from collections import Counter
from collections.abc import Sequence

import pytest

from exchange_pack.actions.cursor import MAX_CURSOR_LENGTH
from exchange_pack.campaign import approval
from exchange_pack.campaign.cursor import Resume, decode_cursor, encode_cursor, taken_up
from exchange_pack.campaign.ediscovery import content_query
from exchange_pack.config import ConnectionConfig
from exchange_pack.errors import InputError, UnsupportedError
from exchange_pack.graph.bulk_delete import plan_batches
from exchange_pack.models import MessageRef, SearchCriteria
from exchange_pack.search_filters import address_kind, address_matches, word_prefix

CONFIG = ConnectionConfig(tenant_id="t", client_id="c", client_secret="s3cret")
CRITERIA = SearchCriteria(sender="contoso-payments.com")
SCOPE = approval.scope_digest(True, [])
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def test_a_token_verifies_for_its_criteria_scope_and_app_only() -> None:
    token, expires = approval.issue(CONFIG, CRITERIA, SCOPE, 3, now=NOW)
    assert expires == "2026-12-04T00:00:00Z"
    assert approval.verify(CONFIG, token, CRITERIA, SCOPE, now=NOW).estimated == 3
    assert "s3cret" not in token
    other_app = CONFIG.model_copy(update={"client_secret": CONFIG.client_secret.__class__("x")})
    cases = [
        (CONFIG, token, SearchCriteria(sender="contoso.com"), SCOPE, "other filters"),
        (CONFIG, token, CRITERIA, approval.scope_digest(False, ["a@b.com"]), "another scope"),
        (other_app, token, CRITERIA, SCOPE, "not issued for this app"),
        (CONFIG, token + "x", CRITERIA, SCOPE, "not issued"),
        (CONFIG, "garbage", CRITERIA, SCOPE, "not a token"),
    ]
    for config, given, criteria, scope, words in cases:
        with pytest.raises(InputError, match=words):
            approval.verify(config, given, criteria, scope, now=NOW)
    with pytest.raises(InputError, match="expired"):
        approval.verify(CONFIG, token, CRITERIA, SCOPE, now=NOW + dt.timedelta(hours=73))


def test_scope_ignores_order_and_case() -> None:
    assert approval.scope_digest(False, ["B@x.com", "a@x.com"]) == approval.scope_digest(
        False, ["a@x.com", "b@x.com"]
    )
    assert approval.scope_digest(True, []) != approval.scope_digest(False, ["a@x.com"])


def test_removal_batches_respect_outlooks_per_mailbox_concurrency() -> None:
    messages = [
        MessageRef(mailbox=f"u{i % 7}@x.com", id=str(i), internet_message_id=None)
        for i in range(130)
    ]
    messages += [
        MessageRef(mailbox="big@x.com", id=f"b{i}", internet_message_id=None) for i in range(30)
    ]
    waves = plan_batches(messages)
    seen = Counter()
    for wave in waves:
        in_wave: set[str] = set()
        for batch in wave:
            assert 0 < len(batch) <= 20
            per_mailbox = Counter(messages[i].mailbox for i in batch)
            assert max(per_mailbox.values()) <= 4
            assert not in_wave & set(per_mailbox)  # no mailbox in two batches at once
            in_wave |= set(per_mailbox)
            seen.update(batch)
    assert sorted(seen) == list(range(len(messages))) and set(seen.values()) == {1}


def test_kql_of_the_ediscovery_engine() -> None:
    criteria = SearchCriteria(
        sender="@contoso-payments.com",
        recipient="alice@contoso.com",
        subject="overdue invoice",
        attachment_name="INV-20931.zip",
        has_attachments=True,
        received_after=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc),
        received_before=dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc),
    )
    assert content_query(criteria) == (
        "kind:email AND from:contoso-payments.com AND recipients:alice@contoso.com AND "
        'subject:"overdue invoice" AND attachmentnames:INV-20931.zip AND hasattachment:true '
        "AND received>=2026-11-01 AND received<2026-11-21"
    )
    with pytest.raises(UnsupportedError, match="internet_message_id"):
        content_query(SearchCriteria(internet_message_id="<a@b>"))


def test_cursor_is_bound_to_its_approval() -> None:
    cursor = encode_cursor("abc", ["a@x.com", "b@x.com"])
    assert decode_cursor(cursor, "abc") == Resume(["a@x.com", "b@x.com"], None)
    with pytest.raises(InputError, match="cursor"):
        decode_cursor(cursor, "other")
    with pytest.raises(InputError, match="cursor"):
        decode_cursor("not-a-cursor", "abc")
    many = [f"user{n:05d}@contoso.com" for n in range(5000)]
    assert len(encode_cursor("abc", many)) < MAX_CURSOR_LENGTH  # names them all


def _tenant(size: int) -> list[str]:
    """Addresses that compress like a real directory's (first.last), in directory order."""
    rng = random.Random(size)

    def word() -> str:
        return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 9)))

    return [f"{word()}.{word()}{n}@contoso.com" for n in range(size)]


def test_a_cursor_too_long_to_name_every_mailbox_left_resumes_the_scope() -> None:
    scope = _tenant(30_000)
    rng = random.Random(7)
    # A rerun's order (its own cursor's mailboxes first) is not the scope's: left out of order.
    left = rng.sample(scope, 12_000)
    asked: list[Sequence[str]] = []
    cursor = encode_cursor("abc", left, lambda: asked.append(scope) or scope)
    assert len(cursor) <= MAX_CURSOR_LENGTH and asked  # the scope is read only when needed
    resume = decode_cursor(cursor, "abc")
    assert resume.rest_from in left and 1_000 < len(resume.mailboxes) < len(left)
    again = taken_up(resume, lambda: scope)
    assert set(left) <= set(again)  # every mailbox left is searched again
    assert len(again) == len(set(again)) and len(again) < len(scope)
    # A mailbox left that the scope no longer holds is named, never lost behind rest_from.
    gone = "left.the@contoso.com"
    resume = decode_cursor(encode_cursor("abc", [*left, gone], lambda: scope), "abc")
    assert gone in resume.mailboxes and set(left) <= set(taken_up(resume, lambda: scope))
    with pytest.raises(InputError, match="no longer among them"):
        taken_up(resume, lambda: [a for a in scope if a != resume.rest_from])
    assert encode_cursor("abc", left[:100], lambda: pytest.fail("read")) == encode_cursor(
        "abc", left[:100]
    )


@pytest.mark.parametrize(
    ("wanted", "address", "kind", "hit"),
    [
        ("billing@contoso-payments.com", "BILLING@contoso-payments.com", "address", True),
        ("billing@contoso-payments.com", "xbilling@contoso-payments.com", "address", False),
        ("contoso-payments.com", "billing@contoso-payments.com", "domain", True),
        ("@contoso-payments.com", "billing@mail.contoso-payments.com", "domain", True),
        ("contoso.com", "billing@contoso-payments.com", "domain", False),
        ("payments.com", "billing@contoso-payments.com", "domain", False),
        ("billing", "billing@contoso-payments.com", "part", True),
        ("payments", "billing@contoso-payments.com", "part", True),
        ("billing@contoso", "billing@contoso-payments.com", "part", True),
        ("illing", "billing@contoso-payments.com", "part", False),
    ],
)
def test_address_filters(wanted: str, address: str, kind: str, hit: bool) -> None:
    assert address_kind(wanted) == kind
    assert address_matches(wanted, address) is hit


def test_word_prefix() -> None:
    subject = "Action required: overdue invoice INV-20931"
    assert word_prefix("invoice", subject) and word_prefix("inv-209", subject)
    assert word_prefix("OVERDUE INVOICE", subject) and word_prefix("20931", subject)
    assert not word_prefix("nvoice", subject) and not word_prefix("due", subject)
