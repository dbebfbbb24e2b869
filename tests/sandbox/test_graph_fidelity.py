"""Graph face fidelity found by independent clients: next links that survive any ``$filter``
literal, attachment listings with ``contentBytes``, folder creation and well-known names,
``$search`` quoting and word-prefix matching."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from graph_support import GraphClient, graph_token

from exchange_sandbox.process import Sandbox

ALICE = "/users/alice@contoso.com"


@pytest.fixture(scope="module")
def graph(sandbox: Sandbox) -> GraphClient:
    return GraphClient(sandbox, graph_token(sandbox))


@pytest.fixture
def fresh(fresh_sandbox: Sandbox, graph: GraphClient) -> GraphClient:
    """The client, against a tenant just reset to the demo seed."""
    return graph


# -- item 2: @odata.nextLink keeps every $filter literal -----------------------------------------
_NEEDLE = "a+b&c=d#e%20f ''q'' é?"
LITERAL_FILTERS = [
    "receivedDateTime ge 2000-01-01T00:00:00+00:00",
    "receivedDateTime lt 2100-01-01T00:00:00.000-05:00",
    "receivedDateTime ge 2000-01-01T00:00:00Z and receivedDateTime lt 2100-01-01",
    f"subject ne '{_NEEDLE}'",
    f"not startswith(subject,'{_NEEDLE}')",
    "isRead eq false or isRead eq true",
    "importance in ('low', 'normal', 'high')",
    f"not toRecipients/any(r: r/emailAddress/address eq '{_NEEDLE}')",
]


@pytest.mark.parametrize("expression", LITERAL_FILTERS)
def test_next_link_pages_with_every_literal_kind(graph: GraphClient, expression: str) -> None:
    params = {"$filter": expression, "$select": "id", "$top": "3"}
    whole = graph.ok("GET", f"{ALICE}/messages", params={**params, "$top": "1000"})["value"]
    assert len(whole) > 3, "the filter must match more than one page"
    first = graph.ok("GET", f"{ALICE}/messages", params=params)
    link = first["@odata.nextLink"]
    # A form decoder (as every client's URL parser) reads the link back to the same filter.
    assert dict(parse_qsl(urlsplit(link).query))["$filter"] == expression
    paged: list[dict[str, Any]] = list(first["value"])
    while link:
        page = graph.ok("GET", link)
        paged.extend(page["value"])
        link = page.get("@odata.nextLink")
    assert [m["id"] for m in paged] == [m["id"] for m in whole]
