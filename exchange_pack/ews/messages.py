"""Finding messages: by EWS ItemId, by Graph (REST) id, or by internet_message_id.

A Graph id is the EWS id in URL-safe base64 (what EWS ConvertId does between RestId and EwsId),
so it is converted locally, without a request. An internet_message_id costs one FindItem
(Restriction on message:InternetMessageId) over the common mail folders; only when it is not
there is the whole folder tree searched (FindFolder + FindItem).
"""

from __future__ import annotations

from exchangelib import Account, Q
from exchangelib.items import ID_ONLY, Item
from exchangelib.properties import ItemId
from exchangelib.services import GetItem

from ..backend import is_internet_message_id, is_unresolved
from ..errors import MessageNotFoundError
from ..models import MessageRef, MessageSummary
from . import folders as folder_lookup
from .errors import checked_answers
from .find import Found, find
from .shape import (
    FIND_SUMMARY_FIELDS,
    REF_FIELDS,
    SUMMARY_FIELDS,
    field_paths,
    message_ref,
    message_summary,
)
from .transport import EwsTransport


def ews_item_id(ref: str) -> str:
    """The EWS form of an item id given as EWS id or Graph REST id (``-``→``/``, ``_``→``+``)."""
    return ref.strip().replace("-", "/").replace("_", "+")


def get_items(
    transport: EwsTransport, account: Account, ids: list[str], names: tuple[str, ...]
) -> list[Item]:
    """EWS GetItem for a batch of ids (one request per 100), in order; a missing one raises."""

    def run() -> list[Item]:
        service = GetItem(account=account)
        return checked_answers(
            service.call(
                items=[ItemId(id=item_id) for item_id in ids],
                additional_fields=field_paths(names),
                shape=ID_ONLY,
            )
        )

    return transport.call(run, mailbox=account.primary_smtp_address)


def locate(
    transport: EwsTransport,
    account: Account,
    internet_message_id: str,
    fields: tuple[str, ...] = (),
) -> Found | None:
    """The item with this internet_message_id (with the FindItem ``fields`` asked for): common
    mail folders first, then every folder."""
    query = Q(message_id=internet_message_id)
    common = [folder_lookup.distinguished(account, n) for n in folder_lookup.COMMON_MAIL_FOLDERS]
    result = find(transport, account, common, query, window=1, fields=fields)
    if result.items:
        return result.items[0]
    tree = folder_lookup.load_tree(transport, account)
    others = [
        folder_lookup.by_id(account, f.id)
        for f in tree.mail_folders()
        if f.label not in folder_lookup.COMMON_MAIL_FOLDERS
    ]
    if not others:
        return None
    result = find(transport, account, others, query, window=1, fields=fields)
    return result.items[0] if result.items else None


def lookup(
    transport: EwsTransport,
    account: Account,
    internet_message_id: str,
    fields: tuple[str, ...] = (),
) -> Found:
    """``locate``, or MessageNotFoundError."""
    found = locate(transport, account, internet_message_id, fields)
    if found is None:
        raise MessageNotFoundError(
            f"No message with internet_message_id {internet_message_id} in "
            f"{account.primary_smtp_address}.",
            backend_code="ErrorItemNotFound",
        )
    return found


def item_id_of(transport: EwsTransport, account: Account, ref: str) -> str:
    """The EWS ItemId named by ``ref``: converted locally, or one FindItem by Message-ID."""
    ref = ref.strip()
    if is_internet_message_id(ref):
        return lookup(transport, account, ref).id
    return ews_item_id(ref)


def resolve(transport: EwsTransport, account: Account, ref: str) -> MessageSummary:
    """The message named by ``ref``: EWS GetItem, after a FindItem for an internet_message_id."""
    address = account.primary_smtp_address
    item = get_items(transport, account, [item_id_of(transport, account, ref)], SUMMARY_FIELDS)[0]
    return message_summary(address, item)


def reference(
    transport: EwsTransport, account: Account, ref: str, *, resolved: bool = False
) -> MessageSummary:
    """An EWS ItemId (Graph ids converted) without a request, or with ``resolved`` its GetItem;
    for an internet_message_id the FindItem alone (reference fields, folder id, sender)."""
    address = account.primary_smtp_address
    if is_internet_message_id(ref.strip()):
        found = lookup(transport, account, ref.strip(), FIND_SUMMARY_FIELDS)
        return message_summary(address, found.item)
    if resolved:
        return resolve(transport, account, ref)
    return MessageSummary(mailbox=address, id=ews_item_id(ref), internet_message_id=None)


def completed(
    transport: EwsTransport, account: Account, message: MessageRef, fields: tuple[str, ...] = ()
) -> tuple[MessageRef, Item | None]:
    """An unresolved reference completed by EWS GetItem (REF_FIELDS plus ``fields``), with
    the item read; a resolved one as it is (no request, no item)."""
    if not is_unresolved(message):
        return message, None
    item = get_items(transport, account, [ews_item_id(message.id)], (*REF_FIELDS, *fields))[0]
    return message_ref(account.primary_smtp_address, item), item


def item_id(message: MessageRef) -> ItemId:
    """The EWS ItemId of a resolved message (its id may be in Graph form)."""
    return ItemId(id=ews_item_id(message.id))
