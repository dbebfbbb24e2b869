"""copy_email, move and delete_email on EWS: CopyItem, MoveItem, DeleteItem.

CopyItem takes any folder as destination, including a folder of another mailbox (its
DistinguishedFolderId or FolderId names that mailbox); when the copy lands outside the acting
mailbox EWS returns no new ItemId, so the copy is looked up there by internet_message_id.
Copy and move change state and are never repeated after an unclear failure.
"""

from __future__ import annotations

from collections.abc import Iterable

from exchangelib import Account, Q
from exchangelib.folders import Folder
from exchangelib.items import (
    ALL_OCCURRENCES,
    HARD_DELETE,
    MOVE_TO_DELETED_ITEMS,
    SEND_TO_NONE,
    SOFT_DELETE,
)
from exchangelib.services import CopyItem, DeleteItem, MoveItem

from ..errors import MessageNotFoundError
from ..models import DeleteType, MessageRef
from . import folders as folder_lookup
from .errors import checked_answers
from .find import find
from .messages import completed, item_id
from .transport import EwsTransport

DELETE_TYPES: dict[str, str] = {
    "move_to_deleted_items": MOVE_TO_DELETED_ITEMS,
    "soft": SOFT_DELETE,
    "hard": HARD_DELETE,
}


def copy(
    transport: EwsTransport,
    account: Account,
    message: MessageRef,
    destination_folder: str,
    destination: Account | None = None,
) -> MessageRef:
    """EWS CopyItem to a folder of this mailbox or of ``destination``: the copy's reference.

    CopyItem answers only the new ItemId, so an unresolved ``message`` is read first (GetItem
    of its reference fields, which the copy shares)."""
    message, _ = completed(transport, account, message)
    target = destination or account
    folder, _, _ = folder_lookup.resolve(transport, target, destination_folder)
    new_id = _transfer(transport, account, CopyItem, message, folder)
    if new_id is None:
        new_id = _find_copy(transport, target, folder, message)
    return MessageRef(
        mailbox=target.primary_smtp_address,
        id=new_id,
        internet_message_id=message.internet_message_id,
        subject=message.subject,
    )


def move(
    transport: EwsTransport, account: Account, message: MessageRef, destination_folder: str
) -> MessageRef:
    """EWS MoveItem within the mailbox: the message's new reference (its id changes)."""
    folder, _, _ = folder_lookup.resolve(transport, account, destination_folder)
    new_id = _transfer(transport, account, MoveItem, message, folder) or message.id
    return message.model_copy(update={"id": new_id})


def delete(
    transport: EwsTransport, account: Account, message: MessageRef, delete_type: DeleteType
) -> None:
    """EWS DeleteItem: MoveToDeletedItems (recoverable), SoftDelete or HardDelete (purge)."""

    def run() -> None:
        checked_answers(
            DeleteItem(account=account).call(
                items=[item_id(message)],
                delete_type=DELETE_TYPES[delete_type],
                send_meeting_cancellations=SEND_TO_NONE,
                affected_task_occurrences=ALL_OCCURRENCES,
                suppress_read_receipts=True,
            )
        )

    transport.call(run, mailbox=account.primary_smtp_address)


def _transfer(
    transport: EwsTransport,
    account: Account,
    service: type[MoveItem],
    message: MessageRef,
    folder: Folder,
) -> str | None:
    """One CopyItem/MoveItem; the new ItemId, or None when EWS does not say it."""

    def run() -> str | None:
        answers = service(account=account).call(items=[item_id(message)], to_folder=folder)
        return new_item_id(answers)

    return transport.call(run, mailbox=account.primary_smtp_address, idempotent=False)


def new_item_id(answers: Iterable[tuple[str, str] | Exception]) -> str | None:
    """The ItemId of a moved, copied or junk-marked item (None when EWS does not return one)."""
    found = checked_answers(answers)
    first = found[0] if found else None
    return first[0] if first else None


def _find_copy(
    transport: EwsTransport, target: Account, folder: Folder, message: MessageRef
) -> str:
    """The copy in another mailbox, found by internet_message_id (newest first)."""
    if not message.internet_message_id:
        raise MessageNotFoundError("The copy was made but EWS did not return its id.")
    query = Q(message_id=message.internet_message_id)
    result = find(transport, target, [folder], query, window=1)
    if not result.items:
        raise MessageNotFoundError(
            f"The copy was made but was not found in {target.primary_smtp_address}."
        )
    return result.items[0].id
