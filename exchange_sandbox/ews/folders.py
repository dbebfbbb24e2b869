"""GetFolder, FindFolder and CreateFolder over a mailbox's folder tree (distinguished folders
included)."""

from __future__ import annotations

from lxml import etree

from ..store import Folder, StoreError
from .errors import EwsError
from .serialize import boolean, folder_element, folder_id
from .service import EwsContext, item_id_elements, operation, per_item, root_folder
from .soap import M, T, m, t

# Children of EWS's "root" that the store keeps without a parent.
_TOP_LEVEL = ("msgfolderroot", "searchfolders", "recoverableitemsroot")


def child_folders(context: EwsContext, parent: Folder, *, deep: bool) -> list[Folder]:
    """Folders below ``parent`` (direct children, or the whole subtree with ``deep``)."""
    store = context.store
    if parent.well_known != "root":
        return store.folders(parent.mailbox_id, parent.id, deep=deep)
    tops = [f for f in (store.folder(parent.mailbox_id, n) for n in _TOP_LEVEL) if f]
    if not deep:
        return tops
    found: list[Folder] = []
    for top in tops:
        found += [top, *store.folders(parent.mailbox_id, top.id, deep=True)]
    return found


def as_ews(context: EwsContext, folder: Folder) -> Folder:
    """The folder as EWS shows it: under ``root`` when the store keeps it at the top, and the
    root with its child count (the store does not know EWS's root)."""
    if folder.well_known == "root":
        folder.child_folder_count = len(child_folders(context, folder, deep=False))
    elif folder.parent_id is None:
        owner = context.store.mailbox(folder.mailbox_id)
        if owner is not None:
            folder.parent_id = root_folder(owner).id
    return folder


@operation("GetFolder")
def get_folder(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS GetFolder."""

    def one(element: etree._Element) -> list[etree._Element]:
        folder = as_ews(context, context.folder(element))
        return [M.Folders(folder_element(folder))]

    return per_item("GetFolder", item_id_elements(request.find(m("FolderIds"))), one)


@operation("FindFolder")
def find_folder(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS FindFolder (Shallow/Deep traversal, IndexedPageFolderView paging)."""
    traversal = request.get("Traversal", "Shallow")
    view = request.find(m("IndexedPageFolderView"))
    offset = int(view.get("Offset", "0")) if view is not None else 0
    limit = int(view.get("MaxEntriesReturned", "0") or 0) if view is not None else 0

    def one(element: etree._Element) -> list[etree._Element]:
        if traversal == "SoftDeleted":
            raise EwsError("ErrorInvalidOperation")
        parent = context.folder(element)
        found = child_folders(context, parent, deep=traversal == "Deep")
        page = found[offset : offset + limit] if limit else found[offset:]
        last = offset + len(page) >= len(found)
        root = M.RootFolder(
            IndexedPagingOffset=str(offset + len(page)),
            TotalItemsInView=str(len(found)),
            IncludesLastItemInRange=boolean(last),
        )
        folders = etree.SubElement(root, t("Folders"))
        folders.extend(folder_element(as_ews(context, f)) for f in page)
        return [root]

    return per_item("FindFolder", item_id_elements(request.find(m("ParentFolderIds"))), one)


@operation("CreateFolder")
def create_folder(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS CreateFolder (ErrorFolderExists on a sibling's name, in any case)."""
    parent = context.target_folder(request.find(m("ParentFolderId")))
    if parent is None:
        raise EwsError("ErrorInvalidRequest")
    container = request.find(m("Folders"))
    new = [] if container is None else [c for c in container if isinstance(c.tag, str)]

    def one(element: etree._Element) -> list[etree._Element]:
        name = (element.findtext(t("DisplayName")) or "").strip()
        if not name:
            raise EwsError("ErrorInvalidRequest", "A folder needs a DisplayName.")
        if parent.well_known == "root":
            raise EwsError("ErrorAccessDenied")
        try:
            created = context.store.create_folder(parent.mailbox_id, parent.id, name)
        except StoreError:
            raise EwsError("ErrorFolderExists") from None
        return [M.Folders(T.Folder(folder_id(created)))]

    return per_item("CreateFolder", new, one)
