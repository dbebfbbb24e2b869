"""Item, folder and attachment ids that both faces of the sandbox accept.

Exchange's REST (Graph) ids are its EWS ids in URL-safe base64: ``/`` becomes ``-`` and ``+``
becomes ``_`` (what ``ConvertId`` with ``RestId``/``EwsId`` does). The sandbox keeps that
relation, so either form names the same item, and every id names its mailbox.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Literal

Kind = Literal["message", "folder", "attachment", "contact", "rule"]

# Leading bytes chosen so ids look like Exchange's ("AAMk..." for items, "AAEu..." for folders).
_PREFIX: dict[str, bytes] = {
    "message": b"\x00\x03\x24",
    "folder": b"\x00\x01\x2e",
    "attachment": b"\x00\x03\x25",
    "contact": b"\x00\x03\x26",
    "rule": b"\x00\x03\x27",
}
_KIND_BY_PREFIX = {v: k for k, v in _PREFIX.items()}


@dataclass(frozen=True)
class ItemKey:
    kind: str
    mailbox_id: int
    key: bytes  # 16 random bytes, or for attachments: the message key + index

    @property
    def ews(self) -> str:
        return ews_id(self)

    @property
    def rest(self) -> str:
        return to_rest(self.ews)


def new_key(kind: Kind, mailbox_id: int, key: bytes | None = None) -> ItemKey:
    return ItemKey(kind, mailbox_id, key if key is not None else uuid.uuid4().bytes)


def ews_id(item: ItemKey) -> str:
    raw = _PREFIX[item.kind] + item.mailbox_id.to_bytes(4, "big") + item.key
    return base64.b64encode(raw).decode("ascii")


def to_rest(ews: str) -> str:
    return ews.replace("/", "-").replace("+", "_")


def to_ews(any_id: str) -> str:
    return any_id.replace("-", "/").replace("_", "+")


def parse(any_id: str, kind: Kind | None = None) -> ItemKey | None:
    """Decode an EWS or REST id; None when it is not one of ours (callers answer malformed-id)."""
    try:
        raw = base64.b64decode(to_ews(any_id).encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    found = _KIND_BY_PREFIX.get(raw[:3])
    if found is None or len(raw) < 3 + 4 + 16 or (kind is not None and found != kind):
        return None
    return ItemKey(found, int.from_bytes(raw[3:7], "big"), raw[7:])


def canonical(any_id: str, kind: Kind | None = None) -> str | None:
    """The EWS form of an id (the store's primary key), or None when malformed."""
    key = parse(any_id, kind)
    return key.ews if key else None


def change_key(version: int) -> str:
    """An EWS ChangeKey for a store row version (opaque to clients, changes on every update)."""
    return base64.b64encode(b"CQAAABYAAAA" + version.to_bytes(8, "big")).decode("ascii")
