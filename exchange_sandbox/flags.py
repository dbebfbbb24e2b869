"""Follow-up flags of messages (Graph ``flag/flagStatus``, EWS ``item:Flag``), kept as tenant
settings keyed by the message's immutable id so the store's message rows keep their schema."""

from __future__ import annotations

from typing import Literal

from .store import Store

FlagStatus = Literal["notFlagged", "flagged", "complete"]
STATUSES: tuple[FlagStatus, ...] = ("notFlagged", "flagged", "complete")


def _key(message_id: str) -> str:
    return f"flag:{message_id}"


def status(store: Store, message_id: str) -> FlagStatus:
    """The message's flag status (``notFlagged`` when never flagged)."""
    return store.get_setting(_key(message_id), "notFlagged")


def set_status(store: Store, message_id: str, value: FlagStatus) -> None:
    """Flags, completes or clears a message's follow-up flag."""
    store.set_setting(_key(message_id), value)
