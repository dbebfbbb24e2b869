"""The ``next_cursor`` of a delete run: the mailboxes a rerun of the same approval takes up
(``*``: the whole tenant, for an eDiscovery purge), bound to that approval's token."""

from __future__ import annotations

import base64
import binascii
import json
import zlib

from ..errors import InputError

CURSOR_VERSION = 1
ALL = "*"


def encode_cursor(token_id: str, mailboxes: list[str]) -> str:
    """The mailboxes a rerun of this approval should take up."""
    raw = json.dumps({"v": CURSOR_VERSION, "token": token_id, "mailboxes": mailboxes})
    # Compressed: addresses share their domain, so thousands of mailboxes fit the cursor.
    return base64.urlsafe_b64encode(zlib.compress(raw.encode(), 9)).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, token_id: str) -> list[str]:
    """The mailboxes a previous delete run left (InputError for another approval's cursor)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(zlib.decompress(raw))
        mailboxes = [str(m) for m in value["mailboxes"]]
        ok = value["v"] == CURSOR_VERSION and value["token"] == token_id
    except (binascii.Error, zlib.error, ValueError, KeyError, TypeError):
        ok, mailboxes = False, []
    if not ok:
        raise InputError(
            "cursor is not a next_cursor of a delete run with this approval_token.",
            hint="Pass next_cursor and approval_token exactly as the previous run had them.",
        )
    return mailboxes
