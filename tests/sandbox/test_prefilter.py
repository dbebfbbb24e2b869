"""The SQL pre-filter of message searches: it never drops a message the predicate matches, and
it is used for the restrictions clients send most (sender, recipients, dates, flags)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from exchange_sandbox import prefilter, query
from exchange_sandbox.query import And, Compare, Contains, Eq, FreeText, Not, Or, StartsWith
from exchange_sandbox.store import Address, Mailbox, Store, build_mime

WHEN = dt.datetime(2026, 11, 19, 9, 30, tzinfo=dt.timezone.utc)
KELVIN = "\u212aelvin"  # KELVIN SIGN: casefold() makes it "kelvin", SQLite's lower() does not
LONG_S_SHIP = "\u017fhip notice"  # LATIN SMALL LETTER LONG S: casefold() makes it "ship"

# (sender, display name, subject, recipients)
_MAIL = [
    ("Carol@Fabrikam.com", "Carol", "Quarterly numbers", ["alice@contoso.com"]),
    ("thermo@fabrikam.com", KELVIN, LONG_S_SHIP, ["alice@contoso.com", "bob@contoso.com"]),
    ("obrien@fabrikam.com", 'Pat "the" O\\Brien', "Invoice 77", ["ALICE@CONTOSO.COM"]),
    ("carol@fabrikam.com", "Carol", "Re: Quarterly numbers", ["dave@northwind.com"]),
    ("eve@northwind.com", "Ève", "Ship it", ["alice@contoso.com"]),
]


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Mailbox]:
    store = Store(Path(tmp_path_factory.mktemp("prefilter")) / "tenant.db")
    box = store.add_mailbox("alice@contoso.com", "Alice")
    for n, (sender, name, subject, to) in enumerate(_MAIL):
        mime = build_mime(
            sender=Address(sender, name),
            to=[Address(a, "") for a in to],
            subject=subject,
            body=f"message {n}",
            attachments=[("report.pdf", "application/pdf", b"%PDF", False, None)] if n % 2 else [],
            date=WHEN + dt.timedelta(hours=n),
            internet_message_id=f"<m{n}@fabrikam.com>",
        )
        store.add_message(
            box.id, "inbox", mime, received_at=WHEN + dt.timedelta(hours=n), is_read=n % 2 == 0
        )
    return store, box


AT_2 = WHEN + dt.timedelta(hours=2)
PREDICATES = [
    Eq("from", "carol@fabrikam.com"),
    Eq("from", "Carol@Fabrikam.com", ignore_case=False),
    Eq("from", "carol@fabrikam.com", ignore_case=False),
    Eq("from", "kelvin"),  # the display name, through casefold()
    Eq("from", "pat"),
    Eq("sender", "eve@northwind.com"),
    Eq("to", "alice@contoso.com"),
    Eq("participants", "bob@contoso.com"),
    Contains("recipients", "CONTOSO"),
    StartsWith("from", "car"),
    Contains("subject", "ship"),  # LONG_S_SHIP folds to it
    Contains("subject", "Ship", ignore_case=False),
    StartsWith("subject", "re:"),
    Eq("internet_message_id", "<m3@fabrikam.com>"),
    Contains("subject", 'the" O'),  # not sent to SQL: a quote
    Compare("received_at", "ge", AT_2),
    Compare("received_at", "lt", AT_2),
    Compare("received_at", "ne", AT_2),
    Compare("sent_at", "le", AT_2),
    Eq("received_at", AT_2),
    Eq("is_read", True),
    Eq("has_attachments", False),
    Compare("size", "gt", 100),
    And((Eq("from", "carol@fabrikam.com"), Compare("received_at", "gt", WHEN))),
    Or((Eq("from", "eve@northwind.com"), Eq("from", "thermo@fabrikam.com"))),
    Or((Eq("from", "eve@northwind.com"), FreeText("invoice"))),
    Not(Eq("from", "carol@fabrikam.com")),
    And((Contains("attachment_names", "report"), Eq("from", "thermo@fabrikam.com"))),
]


@pytest.mark.parametrize("predicate", PREDICATES, ids=repr)
def test_the_prefilter_never_changes_what_a_search_finds(
    tenant: tuple[Store, Mailbox], predicate: query.Predicate
) -> None:
    store, box = tenant
    everything = store.messages(box.id)

    def names(message_id: str) -> list[str]:
        return [a.name for a in store.attachments(message_id)]

    expected = [m.id for m in query.filter_messages(predicate, everything, names)]
    assert [m.id for m in store.search(box.id, predicate)] == expected


def test_the_common_restrictions_are_answered_by_sqlite(tenant: tuple[Store, Mailbox]) -> None:
    store, box = tenant
    sent_to_sql = [
        Eq("from", "carol@fabrikam.com"),
        Contains("recipients", "contoso"),
        Compare("received_at", "ge", AT_2),
        Eq("is_read", True),
        And((Eq("from", "carol@fabrikam.com"), FreeText("numbers"))),
        Or((Eq("from", "a@b.c"), Eq("sender", "a@b.c"))),
    ]
    for predicate in sent_to_sql:
        assert prefilter.condition(predicate) is not None, predicate
    where = prefilter.condition(Eq("to", "dave@northwind.com"))
    rows = store._messages(box.id, None, True, where)
    assert [m.subject for m in rows] == ["Re: Quarterly numbers"]  # the only row decoded
    where = prefilter.condition(Eq("from", "carol@fabrikam.com"))
    rows = store._messages(box.id, None, True, where)
    # Carol's two, and the three whose sender JSON holds an escape (non-ASCII, quote, backslash)
    assert len(rows) == 5


@pytest.mark.parametrize(
    "predicate",
    [
        Contains("subject", LONG_S_SHIP[:4]),  # non-ASCII needle
        Contains("body", "message"),  # matched on the text of the body
        Compare("received_at", "ne", AT_2),  # also holds for an absent value
        Or((Eq("from", "a@b.c"), FreeText("x"))),
        Not(Eq("from", "a@b.c")),
        Compare("received_at", "ge", dt.datetime(2026, 1, 1)),  # naive: the predicate raises
    ],
    ids=repr,
)
def test_what_sqlite_cannot_decide_exactly_is_left_to_the_predicate(
    predicate: query.Predicate,
) -> None:
    assert prefilter.condition(predicate) is None
