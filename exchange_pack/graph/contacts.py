"""get_contacts on Graph: ``GET /users/{id}/contacts`` with a local text filter."""

from __future__ import annotations

from typing import Any

from ..models import Contact, Page
from .paging import Keep, collect
from .shape import CONTACT_FIELDS, contact
from .transport import GraphClient, graph_path, with_query

PAGE_SIZE = 100


def matches(text: str) -> Keep:
    """A check: ``text`` in the display name, names, company or an email address."""
    needle = text.strip().lower()

    def keep(item: dict[str, Any]) -> bool:
        fields = [
            item.get("displayName"),
            item.get("givenName"),
            item.get("surname"),
            item.get("companyName"),
            *((e or {}).get("address") for e in item.get("emailAddresses") or []),
        ]
        return any(needle in (value or "").lower() for value in fields)

    return keep


def contacts(
    client: GraphClient, mailbox: str, query: str | None, limit: int, cursor: str | None = None
) -> Page[Contact]:
    """Up to ``limit`` contacts matching ``query`` (case-insensitive substring), with a cursor.

    Graph's contact ``$filter`` has no substring match on all these fields, so the text filter
    runs locally on pages of 100."""
    top = PAGE_SIZE if query else max(1, min(limit, PAGE_SIZE))
    path = with_query(
        graph_path("/users/{}/contacts", mailbox), {"$select": CONTACT_FIELDS, "$top": top}
    )
    keep = matches(query) if query and query.strip() else None
    items, next_cursor = collect(client, path, limit, cursor, keep)
    return Page[Contact](items=[contact(item) for item in items], next_cursor=next_cursor)
