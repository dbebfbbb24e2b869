"""EWS SyncFolderItems: a folder's item changes since a SyncState, on the same sync states as
Graph's message delta.

Each call answers at most ``MaxChangesReturned`` changes (Create, Update, ReadFlagChange,
Delete) and a new SyncState that includes exactly those, so the client calls again while
``IncludesLastItemInRange`` is false. No SyncState: every item of the folder is a Create. An
unknown or expired SyncState answers ErrorInvalidSyncStateData.
"""

from __future__ import annotations

from lxml import etree

from .. import sync_states
from .errors import EwsError
from .items import serialize
from .serialize import boolean, parse_item_shape
from .service import EwsContext, operation, per_item
from .soap import M, T, m


def _item_id(message_id: str) -> etree._Element:
    return T.ItemId(Id=message_id)


@operation("SyncFolderItems")
def sync_folder_items(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS SyncFolderItems (ItemShape, SyncState, MaxChangesReturned)."""
    shape = parse_item_shape(request.find(m("ItemShape")))
    limit = int(request.findtext(m("MaxChangesReturned")) or "512")
    container = request.find(m("SyncFolderId"))
    token = (request.findtext(m("SyncState")) or "").strip()
    now = context.tenant.now()

    def one(_: object) -> list[etree._Element]:
        folder = context.target_folder(container)
        if folder is None:
            raise EwsError("ErrorInvalidIdMalformed")
        snapshot: dict[str, tuple[int, bool]] = {}
        if token:
            previous = sync_states.load(context.store, token, now)
            if previous is None or previous.folder_id != folder.id:
                raise EwsError("ErrorInvalidSyncStateData")
            snapshot = dict(previous.snapshot)
        found = context.store.messages(folder.mailbox_id, [folder.id])
        by_id = {message.id: message for message in found}
        pending = sync_states.diff(snapshot, found)
        taken = pending[:limit]
        changes = M.Changes()
        for change in taken:
            if change.kind == "removed":
                snapshot.pop(change.id, None)
                changes.append(T.Delete(_item_id(change.id)))
                continue
            message = by_id[change.id]
            snapshot[message.id] = (message.version, message.is_read)
            if change.kind == "read_flag":
                changes.append(
                    T.ReadFlagChange(_item_id(message.id), T.IsRead(boolean(message.is_read)))
                )
            else:
                tag = "Create" if change.kind == "created" else "Update"
                changes.append(T(tag, serialize(context, message, shape)))
        state = sync_states.save(context.store, folder.mailbox_id, folder.id, now, snapshot, [])
        return [
            M.SyncState(state.token),
            M.IncludesLastItemInRange(boolean(len(pending) <= limit)),
            changes,
        ]

    # Exchange answers an error with an empty SyncState and IncludesLastItemInRange too
    # (exchangelib reads both before it looks at the ResponseCode).
    def on_error() -> list[etree._Element]:
        return [M.SyncState(), M.IncludesLastItemInRange("true")]

    return per_item("SyncFolderItems", [None], one, on_error)
