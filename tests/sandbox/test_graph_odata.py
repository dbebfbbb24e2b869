"""Unit tests of the Graph face's pure OData logic: $filter parsing and compilation to the
store's predicate AST, $search quoting, skiptokens, $expand splitting."""

from __future__ import annotations

import datetime as dt

import pytest

from exchange_sandbox import query
from exchange_sandbox.graph import message_query, odata
from exchange_sandbox.graph.errors import GraphError


def test_filter_precedence_and_grouping() -> None:
    expr = odata.parse_filter("isRead eq false or hasAttachments eq true and subject eq 'x'")
    assert isinstance(expr, odata.Or) and isinstance(expr.right, odata.And)
    grouped = odata.parse_filter("(isRead eq false or hasAttachments eq true) and subject eq 'x'")
    assert isinstance(grouped, odata.And) and isinstance(grouped.left, odata.Or)
    negated = odata.parse_filter("not (isRead eq true)")
    assert isinstance(negated, odata.Not)


def test_filter_literals() -> None:
    expr = odata.parse_filter("subject eq 'it''s' and receivedDateTime ge 2024-05-01T10:00:00Z")
    assert isinstance(expr, odata.And)
    assert expr.left.value.value == "it's"  # type: ignore[union-attr]
    when = expr.right.value.value  # type: ignore[union-attr]
    assert when == dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc)
    date_only = odata.parse_filter("receivedDateTime lt 2024-05-01")
    assert date_only.value.value.tzinfo is not None  # type: ignore[union-attr]


def test_compile_to_store_predicates() -> None:
    compiled = message_query.compile_filter(
        odata.parse_filter(
            "from/emailAddress/address eq 'a@b.c' and startswith(subject,'RE') "
            "and toRecipients/any(r:r/emailAddress/address eq 'x@y.z')"
        )
    )
    assert compiled == query.And(
        (
            query.And((query.Eq("from", "a@b.c"), query.StartsWith("subject", "RE"))),
            query.Eq("to", "x@y.z"),
        )
    )
    dates = message_query.compile_filter(odata.parse_filter("receivedDateTime gt 2024-01-01"))
    assert isinstance(dates, query.Compare) and dates.op == "gt"
    negative = message_query.compile_filter(odata.parse_filter("importance ne 'low'"))
    assert negative == query.Not(query.Eq("importance", "low"))


@pytest.mark.parametrize(
    "text",
    ["subject eq", "subject eq 'x' and", "foo(subject,'x')", "subject eq 'x')", "", "isRead"],
)
def test_malformed_filters(text: str) -> None:
    with pytest.raises(GraphError) as caught:
        message_query.compile_filter(odata.parse_filter(text))
    assert caught.value.status == 400


def test_search_quoting_rules() -> None:
    assert message_query.search_text('"from:alice subject:invoice"') == "from:alice subject:invoice"
    assert message_query.search_text('"subject:\\"two words\\""') == 'subject:"two words"'
    assert message_query.search_text("invoice") == "invoice"
    assert message_query.search_text("two words") == "two words"
    for bad in ('"open', "from:alice", '"a"b"'):
        with pytest.raises(GraphError):
            message_query.search_text(bad)


def test_skiptoken_round_trip_and_expand_split() -> None:
    assert odata.decode_skiptoken(odata.encode_skiptoken(40)) == 40
    with pytest.raises(GraphError):
        odata.decode_skiptoken("nonsense")
    assert odata.split_top_level("attachments($select=name,size),x") == [
        "attachments($select=name,size)",
        "x",
    ]
    expansion = odata.parse_expansion("attachments($select=name,size)")
    assert expansion == odata.Expansion("attachments", ["name", "size"])
