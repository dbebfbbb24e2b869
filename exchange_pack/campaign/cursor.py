"""The ``next_cursor`` of a delete run: the mailboxes a rerun of the same approval takes up
(``*``: the whole tenant, for an eDiscovery purge), bound to that approval's token.

The cursor never exceeds ``MAX_CURSOR_LENGTH``, the ``cursor`` parameter's maxLength. When the
mailboxes left do not all fit, it names the first ones in the order of the approved scope and,
as ``rest_from``, the first one it could not name: the rerun takes up every mailbox of the
scope from there on. That covers the rest and some mailboxes already done, which a rerun
searches again and finds clean (a removal is never made twice; see ``fanout``).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from ..actions.cursor import MAX_CURSOR_LENGTH
from ..backend import from_mailbox
from ..errors import InputError

CURSOR_VERSION = 1
ALL = "*"


class Resume(NamedTuple):
    """What a cursor says a rerun takes up: ``mailboxes``, then the scope from ``rest_from``."""

    mailboxes: list[str]
    rest_from: str | None = None


def _encoded(value: dict[str, Any]) -> str:
    raw = json.dumps(value).encode()
    # Compressed: addresses share their domain, so thousands of mailboxes fit the cursor.
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii").rstrip("=")


def encode_cursor(
    token_id: str, mailboxes: list[str], scope: Callable[[], Sequence[str]] | None = None
) -> str:
    """The mailboxes a rerun of this approval should take up; beyond what fits, the rest of
    ``scope()`` (the approved mailboxes in order, read only then) from the first left out."""
    body: dict[str, Any] = {"v": CURSOR_VERSION, "token": token_id, "mailboxes": mailboxes}
    whole = _encoded(body)
    if len(whole) <= MAX_CURSOR_LENGTH or scope is None:
        return whole
    place = {address.lower(): n for n, address in enumerate(scope())}
    # In scope order, so that "the scope from rest_from on" holds every mailbox left out;
    # one the scope no longer holds goes first, to be named.
    ordered = sorted(mailboxes, key=lambda address: place.get(address.lower(), -1))
    low, high = 0, len(ordered) - 1  # the most mailboxes that fit before a rest_from
    while low < high:
        middle = (low + high + 1) // 2
        candidate = {**body, "mailboxes": ordered[:middle], "rest_from": ordered[middle]}
        if len(_encoded(candidate)) <= MAX_CURSOR_LENGTH:
            low = middle
        else:
            high = middle - 1
    return _encoded({**body, "mailboxes": ordered[:low], "rest_from": ordered[low]})


def decode_cursor(cursor: str, token_id: str) -> Resume:
    """What a previous delete run left (InputError for another approval's cursor)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(zlib.decompress(raw))
        mailboxes = [str(m) for m in value["mailboxes"]]
        rest_from = value.get("rest_from")
        ok = value["v"] == CURSOR_VERSION and value["token"] == token_id
        ok = ok and (rest_from is None or isinstance(rest_from, str))
    except (binascii.Error, zlib.error, ValueError, KeyError, TypeError, AttributeError):
        ok, mailboxes, rest_from = False, [], None
    if not ok:
        raise InputError(
            "cursor is not a next_cursor of a delete run with this approval_token.",
            hint="Pass next_cursor and approval_token exactly as the previous run had them.",
        )
    return Resume(mailboxes, rest_from)


def _gone_from_scope(mailbox: str) -> InputError:
    return InputError(
        f"cursor resumes the approved mailboxes from {mailbox}, which is no longer among them.",
        hint="Run mode estimate again for a new approval_token over the current mailboxes.",
    )


def taken_up(resume: Resume, scope: Callable[[], Sequence[str]]) -> list[str]:
    """The mailboxes a rerun searches: those named, then ``scope()`` (read only then) from
    ``rest_from`` on (InputError when the scope no longer holds it)."""
    if resume.rest_from is None:
        return resume.mailboxes
    rest = from_mailbox(scope(), resume.rest_from, _gone_from_scope)
    named = {address.lower() for address in resume.mailboxes}
    return resume.mailboxes + [address for address in rest if address.lower() not in named]
