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
MAX_DEPTH = 10  # folder levels walked up to name a nested folder


def well_known(name: str) -> str | None:
    """The well-known folder name for ``Junk Email``, ``junkemail``, ``Inbox``..., else None."""
    key = name.strip().lower().replace(" ", "").replace("_", "")
    return key if key in WELL_KNOWN_FOLDERS else None


def top_level(listing: dict[str, Any]) -> dict[str, str]:
    """Folder id -> display name from a ``mailFolders`` listing."""
    return {f["id"]: f.get("displayName") or "" for f in listing.get("value") or []}


_LISTING_QUERY = with_query("", {"$select": "id,displayName", "$top": LISTING_PAGE})


def listing_path(mailbox: str) -> str:
    """``GET /users/{id}/mailFolders``: the mailbox's top-level folders, ids and names only."""
    return graph_path("/users/{}/mailFolders", mailbox) + _LISTING_QUERY


class FolderDirectory:
    """Folder names per mailbox (top-level folders fetched once, nested ones walked up) and
    folder path lookups."""

    def __init__(self, client: GraphClient) -> None:
        self.client = client
        self._top: dict[str, dict[str, str]] = {}
        self._paths: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def name_of(self, mailbox: str, folder_id: str | None) -> str | None:
        """The output name of a folder: its well-known name for a top-level well-known folder,
        else its path of display names (``Inbox/Projects``; one GET per unknown level)."""
        if not folder_id:
            return None
        top = self.top_level(mailbox)
        if folder_id in top:
            return well_known(top[folder_id]) or top[folder_id]
        with self._lock:
            cached = self._paths.get((mailbox, folder_id))
        if cached is None:
            cached = self._path_of(mailbox, folder_id, top)
            with self._lock:
                self._paths[(mailbox, folder_id)] = cached
        return cached or None

    def _path_of(self, mailbox: str, folder_id: str, top: dict[str, str]) -> str:
        names: list[str] = []
        current: str | None = folder_id
        for _ in range(MAX_DEPTH):
            if current is None:
                break
            if current in top:
                names.insert(0, top[current])
                break
            path = with_query(
                graph_path("/users/{}/mailFolders/{}", mailbox, current),
                {"$select": "displayName,parentFolderId"},
            )
            try:
                folder = self.client.get_json(path, not_found=FolderNotFoundError)
            except FolderNotFoundError:
                break
            names.insert(0, folder.get("displayName") or "")
            current = folder.get("parentFolderId")
        return "/".join(names)

    def top_level(self, mailbox: str) -> dict[str, str]:
        """Top-level folder id -> display name: ``GET mailFolders`` once per mailbox."""
        with self._lock:
            cached = self._top.get(mailbox)
        if cached is None:
            cached = top_level(self.client.get_json(listing_path(mailbox)))
            with self._lock:
                self._top[mailbox] = cached
        return cached

    def prefetch(self, mailboxes: Iterable[str], concurrency: int = 1) -> None:
        """Loads many mailboxes' top-level folders with ``$batch`` (failures stay unnamed)."""
        with self._lock:
            missing = [m for m in dict.fromkeys(mailboxes) if m not in self._top]
        requests = [
            BatchRequest(id=str(index), url=listing_path(mailbox))
            for index, mailbox in enumerate(missing)
        ]
        answers = self.client.batch(requests, concurrency)
        with self._lock:
            for index, mailbox in enumerate(missing):
                answer = answers.get(str(index))
                ok = answer is not None and answer.ok and isinstance(answer.body, dict)
                self._top[mailbox] = top_level(answer.body) if ok else {}

    def remember(self, mailbox: str, listing: dict[str, Any] | None) -> None:
        """Keeps a ``GET mailFolders`` answer fetched elsewhere (None: failed, stays unnamed)."""
        with self._lock:
            self._top[mailbox] = top_level(listing) if listing is not None else {}

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
