"""Id translation both faces share (Graph translateExchangeIds, EWS ConvertId): a message's
immutable id and its entry id in its current folder name the same item."""

from __future__ import annotations

from . import ids
from .store import Store


def translated(store: Store, any_id: str, *, immutable: bool) -> str | None:
    """The EWS form of the id of the item ``any_id`` names: its immutable id, or (the default
    form) a message's entry id in the folder it is in now; None when no item has that id."""
    key = ids.parse(any_id)
    if key is None:
        return None
    if key.kind != "message":
        return key.full
    message = store.message(key.full)
    if message is None:
        return None
    return message.id if immutable else ids.entry_id(message.id, message.folder_id)
