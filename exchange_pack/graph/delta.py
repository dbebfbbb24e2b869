"""New messages of a folder through Graph's message delta query.

``GET /users/{id}/mailFolders/{id}/messages/delta?changeType=created`` starts a round (every
message of the folder, a page at a time); the round's ``@odata.deltaLink`` carries the
``$deltatoken`` the next round starts from, and returns only messages created in the folder
since (moved-in ones included). The pack keeps the token alone, never the link: the URL is
rebuilt from the mailbox and folder, so a forged checkpoint cannot send the bearer token
elsewhere. An expired token (410 ``SyncStateNotFound``) raises SyncStateExpiredError.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ..errors import ExchangePackError, InputError, SyncStateExpiredError
from ..models import FolderChanges, MessageSummary
from .folders import FolderDirectory
from .messages import message_path
from .shape import SUMMARY_FIELDS, message_summary
from .transport import PREFER_IMMUTABLE_IDS, GraphClient, graph_path, with_query

PAGE_SIZE = 100
MAX_PAGES = 50  # 5,000 changes per run; past that the round resumes on the next run
_EXPIRED_CODES = {"syncstatenotfound", "resyncrequired", "syncstateinvalid", "410"}


def _delta_path(mailbox: str, folder_segment: str) -> str:
    return graph_path("/users/{}/mailFolders/{}/messages/delta", mailbox, folder_segment)


def _first_path(base: str, sync_token: str | None) -> str:
    if not sync_token:
        return with_query(base, {"$select": SUMMARY_FIELDS, "changeType": "created"})
    kind, _, value = sync_token.partition(":")
    if kind not in ("d", "s") or not value:
        raise InputError("The checkpoint's sync token is not one this pack wrote.")
    return with_query(base, {"$deltatoken" if kind == "d" else "$skiptoken": value})


def _token_of(client: GraphClient, link: str, name: str) -> str:
    client.check_link(link)
    values = parse_qs(urlsplit(link).query).get(name)
    if not values:
        raise ExchangePackError(f"Microsoft Graph returned a delta link without {name}.")
    return values[0]


def folder_changes(
    client: GraphClient,
    folders: FolderDirectory,
    mailbox: str,
    folder: str,
    label: str,
    sync_token: str | None,
) -> FolderChanges:
    """Messages created in ``folder`` since ``sync_token`` (all of them without one),
    following the round's pages to its deltaLink (bounded)."""
    base = _delta_path(mailbox, folders.resolve(mailbox, folder))
    path = _first_path(base, sync_token)
    headers = {"Prefer": f"{PREFER_IMMUTABLE_IDS}, odata.maxpagesize={PAGE_SIZE}"}
    found: list[MessageSummary] = []
    token = sync_token or ""
    for _ in range(MAX_PAGES):
        try:
            page = client.get_json(path, headers=headers)
        except ExchangePackError as error:
            if (error.backend_code or "").lower() in _EXPIRED_CODES:
                raise SyncStateExpiredError(
                    error.message, backend_code=error.backend_code
                ) from None
            raise
        for item in page.get("value", []):
            if "@removed" not in item:
                found.append(message_summary(item, mailbox, label))
        if page.get("@odata.deltaLink"):
            token = "d:" + _token_of(client, page["@odata.deltaLink"], "$deltatoken")
            return FolderChanges(messages=found, sync_token=token)
        link = page.get("@odata.nextLink")
        if not link:
            raise ExchangePackError("Microsoft Graph ended a delta round without a deltaLink.")
        token = "s:" + _token_of(client, link, "$skiptoken")
        path = with_query(base, {"$skiptoken": token[2:]})
    return FolderChanges(messages=found, sync_token=token, complete=False)


def mark_read(client: GraphClient, mailbox: str, message_id: str) -> None:
    """``PATCH /users/{id}/messages/{id}`` with ``isRead: true``."""
    client.request("PATCH", message_path(mailbox, message_id), json={"isRead": True}).close()
