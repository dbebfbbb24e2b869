"""Item, folder and attachment ids that both faces of the sandbox accept.

Exchange's REST (Graph) ids are its EWS ids in URL-safe base64: ``/`` becomes ``-`` and ``+``
becomes ``_`` (what ``ConvertId`` with ``RestId``/``EwsId`` does). The sandbox keeps that
relation, so either form names the same item, and every id names its mailbox.

A message has two ids, as in Exchange: its immutable id (the store's key; Graph returns it when
asked with ``Prefer: IdType="ImmutableId"``) and its entry id, the default of EWS and Graph,
which also names the folder the message is in. A move to another folder changes the entry id;
the old one then names no item (ErrorItemNotFound), while the immutable id keeps working.
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


_KEY_BYTES = 16
_FOLDER_TAG_BYTES = 4


@dataclass(frozen=True)
class ItemKey:
    kind: str
    mailbox_id: int
    key: bytes  # 16 random bytes, or for attachments: the message key + index
    folder_tag: bytes = b""  # messages' entry ids only: names the folder the message was in

    @property
    def ews(self) -> str:
        """The immutable EWS form (the store's key): any folder tag dropped."""
        return ews_id(ItemKey(self.kind, self.mailbox_id, self.key))

    @property
    def full(self) -> str:
        """The EWS form as given, folder tag included."""
        return ews_id(self)

    @property
    def rest(self) -> str:
        return to_rest(self.ews)


def new_key(kind: Kind, mailbox_id: int, key: bytes | None = None) -> ItemKey:
    return ItemKey(kind, mailbox_id, key if key is not None else uuid.uuid4().bytes)


def ews_id(item: ItemKey) -> str:
    raw = _PREFIX[item.kind] + item.mailbox_id.to_bytes(4, "big") + item.key + item.folder_tag
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
    if found is None or len(raw) < 3 + 4 + _KEY_BYTES or (kind is not None and found != kind):
        return None
    mailbox_id = int.from_bytes(raw[3:7], "big")
    if found == "message" and len(raw) == 7 + _KEY_BYTES + _FOLDER_TAG_BYTES:
        return ItemKey(found, mailbox_id, raw[7 : 7 + _KEY_BYTES], raw[7 + _KEY_BYTES :])
    return ItemKey(found, mailbox_id, raw[7:])


def canonical(any_id: str, kind: Kind | None = None) -> str | None:
    """The EWS form of an id (the store's primary key), or None when malformed."""
    key = parse(any_id, kind)
    return key.ews if key else None


def folder_tag(folder_id: str) -> bytes:
    """The bytes an entry id carries for the folder its message is in."""
    key = parse(folder_id, "folder")
    return (key.key if key else folder_id.encode())[:_FOLDER_TAG_BYTES]


def entry_id(message_id: str, folder_id: str) -> str:
    """The EWS form of a message's entry id (the default id) while it is in ``folder_id``."""
    key = parse(message_id, "message")
    if key is None:
        return message_id
    return ews_id(ItemKey(key.kind, key.mailbox_id, key.key, folder_tag(folder_id)))


def names_folder(any_id: str, folder_id: str) -> bool:
    """False for an entry id of the message in another folder (an id from before a move)."""
    key = parse(any_id, "message")
    return key is None or not key.folder_tag or key.folder_tag == folder_tag(folder_id)


def is_immutable(any_id: str) -> bool:
    """True for a message's immutable id (no folder in it)."""
    key = parse(any_id, "message")
    return key is not None and not key.folder_tag


def change_key(version: int) -> str:
    """An EWS ChangeKey for a store row version (opaque to clients, changes on every update)."""
    return base64.b64encode(b"CQAAABYAAAA" + version.to_bytes(8, "big")).decode("ascii")
