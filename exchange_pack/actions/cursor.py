"""The opaque ``cursor`` / ``next_cursor`` of search_emails_extended.

It records, per mailbox still holding unreturned messages, where to resume: the backend's own
page cursor and how many messages of that page were already returned (a mailbox to search
from its start is its bare address). When a tenant-wide answer leaves more mailboxes than
the cursor could name, ``rest_from`` stands for every mailbox of the search's scope from that
one on, in the scope's order. A fingerprint of the filters makes a cursor fail loudly when
reused with different ones.

The encoded cursor never exceeds ``MAX_CURSOR_LENGTH``, the ``cursor`` parameter's maxLength:
a cursor the next run would refuse is worse than none.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from pydantic import ValidationError, field_validator

from ..errors import InputError
from ..models import Model

CURSOR_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 0.1.0 wrote version 1: the same positions, no rest_from
MAX_CURSOR_LENGTH = 65_536  # schemas/search_emails_extended.input.json: cursor.maxLength
# base64 turns 3 bytes into 4 characters; the envelope of the JSON (version, fingerprint,
# rest_from) fits in the margin.
_JSON_BUDGET = MAX_CURSOR_LENGTH * 3 // 4 - 1024


class Position(Model):
    """Resume point in one mailbox: the page to fetch again and how many of it to skip."""

    mailbox: str
    page_cursor: str | None = None
    skip: int = 0

    @property
    def fresh(self) -> bool:
        """Nothing of this mailbox was returned yet: its search starts from the beginning."""
        return self.page_cursor is None and self.skip == 0

    def compact(self) -> str | dict[str, Any]:
        """The bare address for a fresh start, else every field."""
        return self.mailbox if self.fresh else self.model_dump(mode="json", exclude_defaults=True)

    @property
    def size(self) -> int:
        """Characters this position takes in the cursor's JSON (with its separating comma)."""
        return len(json.dumps(self.compact(), separators=(",", ":"))) + 1


class SearchCursor(Model):
    v: int = CURSOR_VERSION
    fingerprint: str
    positions: list[Position]
    rest_from: str | None = None

    @field_validator("positions", mode="before")
    @classmethod
    def _expand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"mailbox": p} if isinstance(p, str) else p for p in value]
        return value

    def encode(self) -> str:
        """URL-safe base64 of the compact JSON form."""
        body: dict[str, Any] = {
            "v": self.v,
            "fingerprint": self.fingerprint,
            "positions": [p.compact() for p in self.positions],
        }
        if self.rest_from is not None:
            body["rest_from"] = self.rest_from
        raw = json.dumps(body, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class CursorBudget:
    """Counts what the next cursor will hold, so that it stays within ``MAX_CURSOR_LENGTH``."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = _JSON_BUDGET if limit is None else limit
        self.used = 0

    def fits(self, position: Position, reserve: int = 0) -> bool:
        """Whether ``position`` still fits with ``reserve`` characters kept for what follows."""
        return self.used + position.size + reserve <= self.limit

    def take(self, position: Position) -> None:
        self.used += position.size


def rest_size(mailbox: str) -> int:
    """Characters a ``rest_from`` naming ``mailbox`` takes in the cursor's JSON."""
    return len(json.dumps({"rest_from": mailbox}))


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
    if cursor.v not in READABLE_VERSIONS or cursor.fingerprint != expected_fingerprint:
        raise InputError(
            "cursor belongs to a search with other filters or mailboxes.",
            hint="Repeat the same parameters as the run that returned the cursor.",
        )
    return cursor
