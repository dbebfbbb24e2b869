"""OData literals for ``$filter`` expressions (Graph's query syntax)."""

from __future__ import annotations

import datetime as dt

from ..models import iso_utc


def literal(value: str | bool | int | dt.datetime) -> str:
    """An OData literal: quoted string (``'`` doubled), boolean, number or DateTimeOffset."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return iso_utc(value) or ""
    return "'" + value.replace("'", "''") + "'"


def all_of(clauses: list[str]) -> str | None:
    """Clauses joined with ``and`` (None when there are none)."""
    return " and ".join(clauses) if clauses else None
