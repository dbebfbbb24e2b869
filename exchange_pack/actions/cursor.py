"""The opaque ``cursor`` / ``next_cursor`` of search_emails_extended.

It records, per mailbox still holding unreturned messages, where to resume: the backend's own
page cursor and how many messages of that page were already returned. A fingerprint of the
filters makes a cursor fail loudly when reused with different ones.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from pydantic import ValidationError

from ..errors import InputError
from ..models import Model

CURSOR_VERSION = 1


class Position(Model):
    """Resume point in one mailbox: the page to fetch again and how many of it to skip."""

    mailbox: str
    page_cursor: str | None = None
    skip: int = 0


class SearchCursor(Model):
    v: int = CURSOR_VERSION
    fingerprint: str
    positions: list[Position]

    def encode(self) -> str:
        """URL-safe base64 of the compact JSON form."""
        raw = json.dumps(self.model_dump(mode="json"), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def fingerprint(*parts: object) -> str:
    """A short digest of the search's filters and limits."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def decode_cursor(token: str, expected_fingerprint: str) -> SearchCursor:
    """The cursor a previous run returned; InputError when foreign, damaged or for other filters."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        cursor = SearchCursor.model_validate_json(raw)
    except (binascii.Error, ValueError, ValidationError):
        raise InputError(
            "cursor is not a next_cursor returned by search_emails_extended.",
            hint="Pass next_cursor exactly as a previous run returned it.",
        ) from None
    if cursor.v != CURSOR_VERSION or cursor.fingerprint != expected_fingerprint:
        raise InputError(
            "cursor belongs to a search with other filters or mailboxes.",
            hint="Repeat the same parameters as the run that returned the cursor.",
        )
    return cursor
