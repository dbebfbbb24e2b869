"""Outgoing mail on EWS through a draft, used by reply: the draft, its attachments, SendItem.

A ReplyToItem cannot carry attachments, and CreateItem that sends returns no InternetMessageId,
so a reply is composed as a draft (CreateItem SaveOnly in Drafts), its InternetMessageId read
(GetItem), then sent (SendItem, saving to Sent Items or not). The send itself is one request
that is never repeated after an unclear failure. (send_email needs no draft: see send.py.)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from exchangelib import Account, Body, HTMLBody
from exchangelib.attachments import FileAttachment
from exchangelib.items import SAVE_ONLY, SEND_TO_NONE, BulkCreateResult, Item
from exchangelib.items.base import BaseReplyItem
from exchangelib.properties import ItemId, ParentItemId
from exchangelib.services import CreateAttachment, CreateItem, SendItem

from ..errors import InputError
from ..models import OutgoingMessage, SentMessage
from ..outgoing_mime import content_type
from . import folders as folder_lookup
from .errors import checked_answers
from .messages import get_items
from .transport import EwsTransport


def body(draft: OutgoingMessage) -> Body:
    """The draft's body as EWS Text or HTML."""
    return HTMLBody(draft.body) if draft.body_type == "html" else Body(draft.body)


def file_attachments(paths: list[str]) -> list[FileAttachment]:
    """FileAttachments read from local files (InputError for a missing or unreadable file)."""
    found: list[FileAttachment] = []
    for raw in paths:
        path = Path(raw).expanduser()
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise InputError(
                f"attachment_paths: cannot read {raw} ({exc.strerror or exc}).",
                hint="Give paths of readable files on the machine running the action.",
            ) from None
        found.append(
            FileAttachment(name=path.name, content=content, content_type=content_type(path))
        )
    return found


def created_id(answers: Iterable[object]) -> str:
    """The ItemId CreateItem returned for a saved draft."""
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, BulkCreateResult) and answer.id:
            return answer.id
    raise InputError("EWS created no draft (no ItemId in the CreateItem answer).")


def save_draft(transport: EwsTransport, account: Account, item: Item | BaseReplyItem) -> str:
    """EWS CreateItem (SaveOnly, in Drafts) of a message or a reply: the new draft's ItemId."""
    drafts = folder_lookup.distinguished(account, "drafts")

    def create() -> str:
        # Read inside the transport's call, so an EWS error in the answer is translated.
        return created_id(
            CreateItem(account=account).call(
                items=[item],
                folder=drafts,
                message_disposition=SAVE_ONLY,
                send_meeting_invitations=SEND_TO_NONE,
            )
        )

    return transport.call(create, mailbox=account.primary_smtp_address, idempotent=False)


def attach(transport: EwsTransport, account: Account, draft_id: str, paths: list[str]) -> None:
    """EWS CreateAttachment: the files on an existing draft."""
    if not paths:
        return
    files = file_attachments(paths)

    def run() -> None:
        checked_answers(
            CreateAttachment(account=account).call(
                parent_item=ParentItemId(id=draft_id), items=files
            )
        )

    transport.call(run, mailbox=account.primary_smtp_address, idempotent=False)


def send_draft(
    transport: EwsTransport,
    account: Account,
    draft_id: str,
    save_copy: bool,
    *,
    read_along: str | None = None,
) -> tuple[SentMessage, Item | None]:
    """EWS GetItem (the draft's InternetMessageId, and the subject and Message-ID of the item
    ``read_along`` names, in the same request) then SendItem; the sent message and that item."""
    wanted = [draft_id, read_along] if read_along else [draft_id]
    draft, *along = get_items(transport, account, wanted, ("message_id", "subject", "changekey"))
    sent_folder = folder_lookup.distinguished(account, "sentitems") if save_copy else None

    def run() -> None:
        checked_answers(
            SendItem(account=account).call(
                items=[ItemId(id=draft_id, changekey=draft.changekey)],
                saved_item_folder=sent_folder,
            )
        )

    transport.call(run, mailbox=account.primary_smtp_address, idempotent=False)
    sent = SentMessage(
        mailbox=account.primary_smtp_address,
        internet_message_id=draft.message_id or "",
        id=None,
        subject=draft.subject,
    )
    return sent, along[0] if along else None
