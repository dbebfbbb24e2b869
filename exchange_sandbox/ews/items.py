"""Item operations: FindItem, GetItem, DeleteItem, CopyItem, MoveItem and MarkAsJunk."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lxml import etree

from .. import ids, query
from ..store import Folder, Message
from .errors import EwsError
from .people import contact_items
from .restriction import query_string, restriction, sort
from .serialize import (
    NOT_IN_FIND,
    ItemShape,
    MessageSource,
    boolean,
    contact_element,
    ews_item_id,
    item_id,
    message_element,
    parse_item_shape,
)
from .service import EwsContext, item_id_elements, operation, per_item
from .soap import M, T, m, t


def message_source(context: EwsContext, message: Message) -> MessageSource:
    """How to read a stored message's owner, MIME and attachments while serializing it."""
    store = context.store
    return MessageSource(
        store,
        store.mailbox(message.mailbox_id),
        mime=lambda: store.mime(message.id),
        attachments=lambda: store.attachments(message.id),
    )


def serialize(context: EwsContext, message: Message, shape: ItemShape) -> etree._Element:
    """``t:Message`` of a stored message in ``shape``."""
    return message_element(message, shape, message_source(context, message))


def _page(request: etree._Element, total: int) -> tuple[int, int]:
    """(offset, limit) of an IndexedPageItemView (limit 0 = no limit)."""
    view = request.find(m("IndexedPageItemView"))
    if view is None:
        return 0, 0
    limit = int(view.get("MaxEntriesReturned", "0") or 0)
    offset = int(view.get("Offset", "0") or 0)
    if view.get("BasePoint") == "End":
        offset = max(total - offset - (limit or total), 0)
    return offset, limit


def _paged_root(
    request: etree._Element, found: Sequence[Any], render: Callable[[Any], etree._Element]
) -> etree._Element:
    offset, limit = _page(request, len(found))
    page = found[offset : offset + limit] if limit else found[offset:]
    root = M.RootFolder(
        IndexedPagingOffset=str(offset + len(page)),
        TotalItemsInView=str(len(found)),
        IncludesLastItemInRange=boolean(offset + len(page) >= len(found)),
    )
    items = etree.SubElement(root, t("Items"))
    items.extend(render(entry) for entry in page)
    return root


def _searched_folder(context: EwsContext, folder: Folder, traversal: str) -> Folder:
    if traversal != "SoftDeleted":
        return folder
    deletions = context.store.folder(folder.mailbox_id, "recoverableitemsdeletions")
    if deletions is None:
        raise EwsError("ErrorFolderNotFound")
    return deletions


@operation("FindItem")
def find_item(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS FindItem (Restriction or QueryString, SortOrder, paging, traversal)."""
    shape = parse_item_shape(request.find(m("ItemShape")), for_find=True)
    traversal = request.get("Traversal", "Shallow")
    requested = set(shape.properties) & NOT_IN_FIND
    if requested:
        field = sorted(requested)[0]
        raise EwsError("ErrorInvalidPropertyRequest", message_xml=[("Value", "FieldURI", field)])
    predicate = query.conjoin(
        restriction(request.find(m("Restriction"))),
        query_string(request.findtext(m("QueryString")), context.tenant.now()),
    )
    store = context.store

    def one(element: etree._Element) -> list[etree._Element]:
        folder = _searched_folder(context, context.folder(element), traversal)
        if folder.well_known == "contacts":
            contacts = contact_items(context, folder, request.find(m("ContactsView")))
            return [_paged_root(request, contacts, contact_element)]
        if traversal == "Associated" or folder.well_known == "root":
            return [_paged_root(request, [], T.Message)]
        matched = store.search(folder.mailbox_id, predicate, [folder])
        ordered = sort(matched, request.find(m("SortOrder")))
        return [_paged_root(request, ordered, lambda message: serialize(context, message, shape))]

    return per_item("FindItem", item_id_elements(request.find(m("ParentFolderIds"))), one)


@operation("GetItem")
def get_item(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS GetItem (shapes, AdditionalProperties, IncludeMimeContent, body type)."""
    shape = parse_item_shape(request.find(m("ItemShape")))

    def one(element: etree._Element) -> list[etree._Element]:
        key = ids.parse(element.get("Id", ""))
        if key is not None and key.kind == "contact":
            contact = context.store.contact(key.ews)
            if contact is None:
                raise EwsError("ErrorItemNotFound")
            return [M.Items(contact_element(contact))]
        return [M.Items(serialize(context, context.message(element), shape))]

    return per_item("GetItem", item_id_elements(request.find(m("ItemIds"))), one, _no_items)


def _no_items() -> list[etree._Element]:
    return [M.Items()]


def _well_known(context: EwsContext, message: Message, name: str) -> Folder:
    folder = context.store.folder(message.mailbox_id, name)
    if folder is None:
        raise EwsError("ErrorFolderNotFound")
    return folder


@operation("DeleteItem")
def delete_item(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS DeleteItem: HardDelete, SoftDelete (Recoverable Items), MoveToDeletedItems."""
    delete_type = request.get("DeleteType", "MoveToDeletedItems")
    store = context.store

    def one(element: etree._Element) -> list[etree._Element]:
        message = context.message(element)
        if delete_type == "HardDelete":
            store.delete_message(message.id)
            return []
        deleted_items = _well_known(context, message, "deleteditems")
        if delete_type == "MoveToDeletedItems" and message.folder_id != deleted_items.id:
            store.move_message(message.id, deleted_items.id)
        else:
            store.move_message(
                message.id, _well_known(context, message, "recoverableitemsdeletions").id
            )
        return []

    return per_item("DeleteItem", item_id_elements(request.find(m("ItemIds"))), one)


def _move_or_copy(
    context: EwsContext, request: etree._Element, operation_name: str
) -> etree._Element:
    destination = context.target_folder(request.find(m("ToFolderId")))
    if destination is None:
        raise EwsError("ErrorInvalidRequest", "ToFolderId is required.")
    return_ids = (request.findtext(m("ReturnNewItemIds")) or "true").strip() != "false"
    store = context.store

    def one(element: etree._Element) -> list[etree._Element]:
        message = context.message(element)
        if operation_name == "CopyItem":
            moved = store.copy_message(message.id, destination.mailbox_id, destination.id)
        else:
            moved = store.move_message(message.id, destination.id)
        return [M.Items(T.Message(item_id(moved)) if return_ids else T.Message())]

    ids_container = request.find(m("ItemIds"))
    return per_item(operation_name, item_id_elements(ids_container), one, _no_items)


@operation("CopyItem")
def copy_item(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS CopyItem (to a folder of this or another mailbox)."""
    return _move_or_copy(context, request, "CopyItem")


@operation("MoveItem")
def move_item(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS MoveItem (to a folder of this or another mailbox)."""
    return _move_or_copy(context, request, "MoveItem")


@operation("MarkAsJunk", since="Exchange2013")
def mark_as_junk(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS MarkAsJunk: blocked-senders list, and the move to Junk Email or Inbox."""
    is_junk = request.get("IsJunk") == "true"
    move = request.get("MoveItem") == "true"
    store = context.store

    def one(element: etree._Element) -> list[etree._Element]:
        message = context.message(element)
        sender = message.from_ or message.sender
        if sender is not None:
            store.block_sender(message.mailbox_id, sender.address, is_junk)
        if not move:
            return []
        target = _well_known(context, message, "junkemail" if is_junk else "inbox")
        moved = store.move_message(message.id, target.id)
        return [M.MovedItemId(Id=ews_item_id(moved), ChangeKey=ids.change_key(moved.version))]

    return per_item("MarkAsJunk", item_id_elements(request.find(m("ItemIds"))), one)
