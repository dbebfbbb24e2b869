"""Folder sync states shared by Graph message delta and EWS SyncFolderItems.

A sync state is a snapshot of one folder (message id -> version, read flag) saved under an
opaque token. The changes since a state are what differs between its snapshot and the folder
now: new or changed items, and items gone (deleted or moved out). A state can also carry the
changes of one round, so a client pages through them (Graph ``$skiptoken``). Tokens expire
(Exchange drops old sync states from a bounded cache); ``expire`` forgets them all at once so
tests can rehearse ``syncStateNotFound`` / ``ErrorInvalidSyncStateData``.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field
from typing import Literal

from .store import Message, Store, from_db_time, to_db_time

ChangeKind = Literal["created", "updated", "read_flag", "removed"]
DEFAULT_LIFETIME = dt.timedelta(days=7)
LIFETIME_SETTING = "sync_state_lifetime_seconds"


@dataclass
class Change:
    """One change of a round: the message id (EWS form) and what happened to it."""

    id: str
    kind: ChangeKind
    is_read: bool = False


@dataclass
class SyncState:
    """A saved snapshot of a folder, with the changes of the round that produced it."""

    token: str
    mailbox_id: int
    folder_id: str
    created_at: dt.datetime
    snapshot: dict[str, tuple[int, bool]]  # id -> (version, is_read)
    changes: list[Change] = field(default_factory=list)
    options: dict[str, object] = field(default_factory=dict)  # the round's query options


def snapshot_of(messages: list[Message]) -> dict[str, tuple[int, bool]]:
    """The snapshot of a folder's current messages."""
    return {m.id: (m.version, m.is_read) for m in messages}


def diff(before: dict[str, tuple[int, bool]], now: list[Message]) -> list[Change]:
    """What changed from ``before`` to the messages ``now`` in the folder, oldest received
    first, then the removed items."""
    changes: list[Change] = []
    for m in sorted(now, key=lambda m: m.received_at):
        old = before.get(m.id)
        if old is None:
            changes.append(Change(m.id, "created", m.is_read))
        elif old[0] != m.version:
            only_read = old[1] != m.is_read
            changes.append(Change(m.id, "read_flag" if only_read else "updated", m.is_read))
    present = {m.id for m in now}
    changes.extend(Change(key, "removed") for key in before if key not in present)
    return changes


def save(
    store: Store,
    mailbox_id: int,
    folder_id: str,
    now: dt.datetime,
    snapshot: dict[str, tuple[int, bool]],
    changes: list[Change],
    options: dict[str, object] | None = None,
) -> SyncState:
    """Stores a new sync state and returns it with its fresh token."""
    state = SyncState(
        secrets.token_urlsafe(24), mailbox_id, folder_id, now, snapshot, changes, options or {}
    )
    data = {
        "snapshot": {k: list(v) for k, v in snapshot.items()},
        "changes": [[c.id, c.kind, c.is_read] for c in changes],
        "options": state.options,
    }
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO sync_states VALUES (?, ?, ?, ?, ?)",
            (state.token, mailbox_id, folder_id, to_db_time(now), json.dumps(data)),
        )
    return state


def load(store: Store, token: str, now: dt.datetime) -> SyncState | None:
    """The sync state saved under ``token``; None when unknown or older than its lifetime."""
    with store.transaction() as conn:
        rows = conn.execute(
            "SELECT mailbox_id, folder_id, created_at, data FROM sync_states WHERE token = ?",
            (token,),
        ).fetchall()
    if not rows:
        return None
    mailbox_id, folder_id, created, raw = rows[0]
    created_at = from_db_time(created)
    assert created_at is not None
    lifetime = store.get_setting(LIFETIME_SETTING)
    limit = dt.timedelta(seconds=lifetime) if lifetime is not None else DEFAULT_LIFETIME
    if now - created_at > limit:
        return None
    data = json.loads(raw)
    return SyncState(
        token,
        mailbox_id,
        folder_id,
        created_at,
        {k: (v[0], bool(v[1])) for k, v in data["snapshot"].items()},
        [Change(c[0], c[1], bool(c[2])) for c in data["changes"]],
        data.get("options", {}),
    )


def expire(store: Store) -> int:
    """Forgets every sync state (as Exchange does when its cache drops them); how many."""
    with store.transaction() as conn:
        return conn.execute("DELETE FROM sync_states").rowcount
