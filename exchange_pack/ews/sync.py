"""New messages of a folder through EWS SyncFolderItems, and marking one read (UpdateItem).

Only Creates count as new (a message moved into the folder is a Create there); Updates,
ReadFlagChanges and Deletes are skipped. Each call answers at most ``PAGE_SIZE`` changes and a
SyncState that includes them; the calls go on while IncludesLastItemInRange is false (bounded).
An invalid or expired SyncState (ErrorInvalidSyncStateData) raises SyncStateExpiredError.
"""

from __future__ import annotations

from exchangelib import Account, Message
from exchangelib.items import ID_ONLY
from exchangelib.services import SyncFolderItems, UpdateItem

from ..errors import ExchangePackError, InputError, SyncStateExpiredError
from ..models import FolderChanges, MessageSummary
from . import folders as folder_lookup
from .errors import checked_answers
from .messages import ews_item_id
from .shape import SUMMARY_FIELDS, field_paths, message_summary
from .transport import EwsTransport

PAGE_SIZE = 100
MAX_CALLS = 50  # 5,000 changes per run; past that the sync resumes on the next run
_EXPIRED = "ErrorInvalidSyncStateData"


def folder_changes(
    transport: EwsTransport, account: Account, folder: str, sync_token: str | None
) -> FolderChanges:
    """Messages created in ``folder`` since ``sync_token`` (all of them without one)."""
    target, label, _ = folder_lookup.resolve(transport, account, folder)
    state: str | None = None
    if sync_token:
        kind, _, state = sync_token.partition(":")
        if kind != "e" or not state:
            raise InputError("The checkpoint's sync token is not one this pack wrote.")
    fields = set(field_paths(SUMMARY_FIELDS))
    mailbox = account.primary_smtp_address
    found: list[MessageSummary] = []
    for _ in range(MAX_CALLS):
        service = SyncFolderItems(account=account)

        def run(service: SyncFolderItems = service, since: str | None = state) -> list:
            return list(
                service.call(
                    folder=target,
                    shape=ID_ONLY,
                    additional_fields=fields,
                    sync_state=since,
                    ignore=None,
                    max_changes_returned=PAGE_SIZE,
                    sync_scope=None,
                )
            )

        try:
            changes = transport.call(run, mailbox=mailbox)
        except ExchangePackError as error:
            if error.backend_code == _EXPIRED:
                raise SyncStateExpiredError(error.message, backend_code=_EXPIRED) from None
            raise
        for kind, item in changes:
            if kind == SyncFolderItems.CREATE and isinstance(item, Message):
                found.append(message_summary(mailbox, item, label))
        state = service.sync_state
        if service.includes_last_item_in_range:
            return FolderChanges(messages=found, sync_token=f"e:{state}")
    return FolderChanges(messages=found, sync_token=f"e:{state}", complete=False)


def mark_read(transport: EwsTransport, account: Account, message_id: str) -> None:
    """EWS UpdateItem setting ``message:IsRead`` (AutoResolve: no ChangeKey needed)."""
    item = Message(account=account, id=ews_item_id(message_id), is_read=True)

    def run() -> list:
        return checked_answers(
            UpdateItem(account=account).call(
                items=[(item, ["is_read"])],
                conflict_resolution="AutoResolve",
                message_disposition="SaveOnly",
                send_meeting_invitations_or_cancellations="SendToNone",
                suppress_read_receipts=True,
            )
        )

    transport.call(run, mailbox=account.primary_smtp_address)
