"""Mail folders: well-known names, folder paths, and folder ids named for outputs."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from ..errors import FolderNotFoundError, InputError
from .odata import literal
from .transport import BatchRequest, GraphClient, graph_path, with_query

WELL_KNOWN_FOLDERS = frozenset(
    {
        "inbox",
        "junkemail",
        "deleteditems",
        "sentitems",
        "drafts",
        "archive",
        "outbox",
        "recoverableitemsdeletions",
        "clutter",
        "conversationhistory",
        "msgfolderroot",
        "scheduled",
    }
)
LISTING_PAGE = 250


def well_known(name: str) -> str | None:
    """The well-known folder name for ``Junk Email``, ``junkemail``, ``Inbox``..., else None."""
    key = name.strip().lower().replace(" ", "").replace("_", "")
    return key if key in WELL_KNOWN_FOLDERS else None


def folder_names(listing: dict[str, Any]) -> dict[str, str]:
    """Folder id -> output name (the well-known name when the display name is one)."""
    names = {}
    for folder in listing.get("value") or []:
        display = folder.get("displayName") or ""
        names[folder["id"]] = well_known(display) or display
    return names


def listing_path(mailbox: str) -> str:
    """``GET /users/{id}/mailFolders``: the mailbox's top-level folders, ids and names only."""
    path = graph_path("/users/{}/mailFolders", mailbox)
    return with_query(path, {"$select": "id,displayName", "$top": LISTING_PAGE})


class FolderDirectory:
    """Folder names per mailbox (top-level folders fetched once) and folder path lookups."""

    def __init__(self, client: GraphClient) -> None:
        self.client = client
        self._names: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def name_of(self, mailbox: str, folder_id: str | None) -> str | None:
        """The output name of a folder id (None for folders below the top level)."""
        if not folder_id:
            return None
        return self.names(mailbox).get(folder_id)

    def names(self, mailbox: str) -> dict[str, str]:
        """Folder id -> name for one mailbox: ``GET mailFolders`` once, then cached."""
        with self._lock:
            cached = self._names.get(mailbox)
        if cached is None:
            cached = folder_names(self.client.get_json(listing_path(mailbox)))
            with self._lock:
                self._names[mailbox] = cached
        return cached

    def prefetch(self, mailboxes: Iterable[str]) -> None:
        """Loads many mailboxes' folder names with ``$batch`` (a failure leaves names unknown)."""
        with self._lock:
            missing = [m for m in dict.fromkeys(mailboxes) if m not in self._names]
        requests = [
            BatchRequest(id=str(index), url=listing_path(mailbox))
            for index, mailbox in enumerate(missing)
        ]
        answers = self.client.batch(requests)
        with self._lock:
            for index, mailbox in enumerate(missing):
                answer = answers.get(str(index))
                ok = answer is not None and answer.ok and isinstance(answer.body, dict)
                self._names[mailbox] = folder_names(answer.body) if ok else {}

    def resolve(self, mailbox: str, folder: str) -> str:
        """A folder given by well-known name or path (``Inbox/Phishing``) as a path segment:
        the well-known name itself, else the folder id (``GET mailFolders``/``childFolders``
        with ``$filter`` on displayName, one request per level)."""
        parts = [part.strip() for part in folder.strip().strip("/").split("/") if part.strip()]
        if not parts:
            raise InputError("The folder name is empty.", hint="Give a well-known name or path.")
        current = well_known(parts[0])
        rest = parts[1:] if current else parts
        for name in rest:
            current = self._child(mailbox, current, name, folder)
        if current is None:
            raise InputError(f"{folder!r} is not a folder name.")
        return current

    def _child(self, mailbox: str, parent: str | None, name: str, path: str) -> str:
        base = (
            graph_path("/users/{}/mailFolders", mailbox)
            if parent is None
            else graph_path("/users/{}/mailFolders/{}/childFolders", mailbox, parent)
        )
        query = {"$filter": f"displayName eq {literal(name)}", "$select": "id"}
        answer = self.client.get_json(with_query(base, query), not_found=FolderNotFoundError)
        found = answer.get("value") or []
        if not found:
            raise FolderNotFoundError(
                f"The folder {path!r} does not exist in {mailbox} (no {name!r}).",
                hint="Use a well-known name (inbox, junkemail, deleteditems...) or a path "
                "of display names such as Inbox/Phishing.",
            )
        return found[0]["id"]
