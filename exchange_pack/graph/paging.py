"""Result pages with an opaque cursor: the Graph link to resume from and how far into it."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import InputError
from .transport import GraphClient

Keep = Callable[[dict[str, Any]], bool]


class Cursor(BaseModel):
    """Where the next page starts: a Graph collection link and the items already used of it."""

    link: str
    skip: int = 0

    def encode(self) -> str:
        """The opaque ``cursor`` string handed to analysts."""
        raw = json.dumps({"link": self.link, "skip": self.skip}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: str, client: GraphClient) -> Cursor:
        """A cursor from ``encode``; its link must stay on this Graph root."""
        try:
            padded = text + "=" * (-len(text) % 4)
            cursor = cls.model_validate_json(base64.urlsafe_b64decode(padded.encode("ascii")))
        except (ValueError, binascii.Error, UnicodeEncodeError, ValidationError):
            raise InputError(
                "The cursor is not one this action returned.",
                hint="Pass next_cursor from the previous result unchanged.",
            ) from None
        client.check_link(cursor.link)
        return cursor


def collect(
    client: GraphClient,
    first: str,
    limit: int,
    cursor: str | None = None,
    keep: Keep | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` items of a Graph collection that pass ``keep`` (the local part of a
    query), following ``@odata.nextLink``; returns them and the cursor to continue."""
    start = Cursor.decode(cursor, client) if cursor else Cursor(link=client.url(first))
    link: str | None = start.link
    skip = start.skip
    items: list[dict[str, Any]] = []
    for page in client.pages(link):
        values = page.get("value") or []
        next_link = page.get("@odata.nextLink")
        for index in range(skip, len(values)):
            if keep is None or keep(values[index]):
                items.append(values[index])
            if len(items) >= limit:
                if index + 1 < len(values):
                    return items, Cursor(link=link, skip=index + 1).encode()
                return items, Cursor(link=next_link).encode() if next_link else None
        link, skip = next_link, 0
    return items, Cursor(link=link).encode() if link else None
