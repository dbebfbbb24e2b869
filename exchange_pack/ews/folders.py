"""Mail folders of a mailbox: well-known names, paths, and the ids EWS answers with.

Folders are named in outputs the way both backends agree on: the well-known name (``inbox``,
``junkemail``, ``deleteditems``...) when the folder has one, else its path of display names
under the top of the information store (``Inbox/Phishing``). A well-known name costs no request
(EWS DistinguishedFolderId); paths and "all mail folders" need the folder tree, read with ONE
FindFolder (Deep traversal of ``msgfolderroot``, asking each folder's DistinguishedFolderId).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exchangelib import Account
from exchangelib.fields import FieldPath
from exchangelib.folders import Folder, Root
from exchangelib.folders.queryset import DEEP
from exchangelib.items import ID_ONLY
from exchangelib.properties import DistinguishedFolderId, Mailbox
from exchangelib.services import FindFolder

from ..errors import FolderNotFoundError
from .transport import EwsTransport

# Folders holding mail that a message id or internet_message_id most likely lives in; looked
# through first (no folder tree needed) when resolving an internet_message_id.
COMMON_MAIL_FOLDERS = ("inbox", "junkemail", "deleteditems", "sentitems", "drafts")
# Every DistinguishedFolderId an analyst may name as a folder (EWS DistinguishedFolderIdNameType,
# the subset that holds mail or is a mail folder root; Graph accepts the same names).
WELL_KNOWN_FOLDERS = frozenset(
    {
        *COMMON_MAIL_FOLDERS,
        "outbox",
        "archive",
        "msgfolderroot",
        "conversationhistory",
        "scheduled",
        "searchfolders",
        "recoverableitemsdeletions",
        "recoverableitemspurges",
        "recoverableitemsroot",
    }
)
# Folder classes that hold mail ("IPF.Note" and its sub-classes); others are calendars, contacts...
MAIL_FOLDER_CLASS = "IPF.Note"
FIND_FOLDER_PAGE_SIZE = 1000
_TREE_FIELDS = ("name", "parent_folder_id", "folder_class", "_distinguished_id")


@dataclass(frozen=True)
class MailFolder:
    id: str
    label: str  # well-known name, else the path (Inbox/Phishing)
    path: str
    is_mail: bool


@dataclass
class FolderTree:
    """Every folder under msgfolderroot, by id; looked up by well-known name or path."""

    folders: dict[str, MailFolder] = field(default_factory=dict)

    def label(self, folder_id: str | None) -> str | None:
        """The output name of a folder id (None for folders outside msgfolderroot)."""
        found = self.folders.get(folder_id or "")
        return found.label if found else None

    def find(self, name: str) -> MailFolder | None:
        """The folder named by a well-known name, a path (case-insensitive) or an id."""
        wanted = name.strip().strip("/").lower()
        for folder in self.folders.values():
            if wanted in (folder.label.lower(), folder.path.lower()) or folder.id == name:
                return folder
        return None

    def mail_folders(self) -> list[MailFolder]:
        """The folders searched when no folder is given."""
        return [f for f in self.folders.values() if f.is_mail]


def well_known_name(name: str) -> str | None:
    """The well-known name for ``Junk Email``, ``junkemail``, ``Inbox``..., else None."""
    key = name.strip().lower().replace(" ", "").replace("_", "")
    return key if key in WELL_KNOWN_FOLDERS else None


def root_of(account: Account) -> Root:
    """A Root bound to the account (no request): exchangelib folders need one to build ids."""
    return Root(account=account)


def distinguished(account: Account, name: str) -> Folder:
    """The folder with a well-known name, addressed by DistinguishedFolderId (no request)."""
    return Folder(
        root=root_of(account),
        _distinguished_id=DistinguishedFolderId(
            id=name, mailbox=Mailbox(email_address=account.primary_smtp_address)
        ),
    )


def by_id(account: Account, folder_id: str) -> Folder:
    """A folder addressed by its EWS FolderId (no request)."""
    return Folder(root=root_of(account), id=folder_id)


def load_tree(transport: EwsTransport, account: Account) -> FolderTree:
    """EWS FindFolder (Deep) on msgfolderroot: the whole mail folder tree in one request."""
    top = distinguished(account, "msgfolderroot")
    fields = [FieldPath(field=Folder.get_field_by_fieldname(name)) for name in _TREE_FIELDS]

    def find() -> list:
        service = FindFolder(account=account, page_size=FIND_FOLDER_PAGE_SIZE)
        return list(
            service.call(
                folders=[top],
                additional_fields=fields,
                restriction=None,
                shape=ID_ONLY,
                depth=DEEP,
                max_items=None,
                offset=0,
            )
        )

    found = [f for f in transport.call(find, mailbox=account.primary_smtp_address) if f is not None]
    raw = {f.id: f for f in found if not isinstance(f, Exception)}
    tree = FolderTree()
    for folder_id, folder in raw.items():
        path = _path(folder, raw)
        if folder._distinguished_id:
            well_known = folder._distinguished_id.id
        elif "/" not in path:
            # Servers that do not return DistinguishedFolderId: a top-level folder's display
            # name ("Junk Email") gives its well-known name, as the Graph backend reads it.
            well_known = well_known_name(path)
        else:
            well_known = None
        label = well_known if well_known in WELL_KNOWN_FOLDERS else path
        folder_class = folder.folder_class or ""
        is_mail = not folder_class or folder_class.split(".")[:2] == MAIL_FOLDER_CLASS.split(".")
        tree.folders[folder_id] = MailFolder(folder_id, label, path, is_mail)
    return tree


def resolve(
    transport: EwsTransport, account: Account, name: str, tree: FolderTree | None = None
) -> tuple[Folder, str, FolderTree | None]:
    """(folder, label, tree): a well-known name needs no request, a path needs the tree.

    The label is the well-known name, else the path as given (what the Graph backend says)."""
    wanted = name.strip()
    well_known = well_known_name(wanted)
    if well_known:
        return distinguished(account, well_known), well_known, tree
    tree = tree or load_tree(transport, account)
    found = tree.find(wanted)
    if found is None:
        raise FolderNotFoundError(
            f"No folder {name!r} in {account.primary_smtp_address}.",
            hint="Use a well-known folder name (inbox, junkemail, deleteditems, sentitems, "
            "drafts, archive) or a folder path such as Inbox/Phishing.",
            backend_code="ErrorFolderNotFound",
        )
    return by_id(account, found.id), wanted.strip("/"), tree


def _path(folder: Folder, folders: dict[str, Folder]) -> str:
    """Display names from the top of the store down to the folder, joined with ``/``."""
    names: list[str] = []
    current: Folder | None = folder
    seen: set[str] = set()
    while current is not None and current.id not in seen:
        seen.add(current.id)
        names.append(current.name or "")
        parent_id = current.parent_folder_id.id if current.parent_folder_id else None
        current = folders.get(parent_id or "")
    return "/".join(reversed(names))
