"""Messages by reference: Graph id, EWS ItemId or internet_message_id; and their MIME."""

from __future__ import annotations

from typing import Any

from ..backend import ByteStream, is_internet_message_id
from ..errors import FolderNotFoundError, MessageNotFoundError
from .odata import literal
from .shape import SUMMARY_FIELDS, select
from .transport import BatchRequest, GraphClient, graph_path, with_query


def rest_id(item_id: str) -> str:
    """An EWS ItemId in Graph's REST form (what ``ConvertId`` EwsId -> RestId does)."""
    return item_id.replace("/", "-").replace("+", "_")


def message_path(mailbox: str, message_id: str, tail: str = "") -> str:
    """``/users/{mailbox}/messages/{id}`` plus a literal tail such as ``/$value``."""
    return graph_path("/users/{}/messages/{}", mailbox, rest_id(message_id)) + tail


def get_message(
    client: GraphClient,
    mailbox: str,
    ref: str,
    fields: str = SUMMARY_FIELDS,
    expand: tuple[str, ...] = (),
) -> dict[str, Any]:
    """``GET /users/{id}/messages/{id}``, or one ``$filter=internetMessageId eq`` lookup;
    ``expand`` adds ``$expand`` items (``ATTACHMENTS_EXPAND``) to either."""
    if is_internet_message_id(ref):
        return find_by_internet_message_id(client, mailbox, ref, fields, expand)
    return client.get_json(with_query(message_path(mailbox, ref), select(fields, *expand)))


def lookup_path(
    mailbox: str, internet_message_id: str, fields: str, expand: tuple[str, ...] = ()
) -> str:
    """``/users/{id}/messages?$filter=internetMessageId eq '...'&$top=1`` (all folders)."""
    query = {
        "$filter": f"internetMessageId eq {literal(internet_message_id)}",
        **select(fields, *expand),
        "$top": 1,
    }
    return with_query(graph_path("/users/{}/messages", mailbox), query)


def first_found(found: dict[str, Any], mailbox: str, internet_message_id: str) -> dict[str, Any]:
    """The first message of a lookup's answer, or MessageNotFoundError."""
    values = found.get("value") or []
    if not values:
        raise MessageNotFoundError(
            f"No message with internet_message_id {internet_message_id} in {mailbox}."
        )
    return values[0]


def find_by_internet_message_id(
    client: GraphClient,
    mailbox: str,
    internet_message_id: str,
    fields: str = SUMMARY_FIELDS,
    expand: tuple[str, ...] = (),
) -> dict[str, Any]:
    """``GET /users/{id}/messages?$filter=internetMessageId eq '...'`` across all folders."""
    found = client.get_json(lookup_path(mailbox, internet_message_id, fields, expand))
    return first_found(found, mailbox, internet_message_id)


def open_mime(client: GraphClient, mailbox: str, message_id: str) -> ByteStream:
    """``GET /users/{id}/messages/{id}/$value``: the RFC 5322 MIME, streamed."""
    return client.stream(message_path(mailbox, message_id, "/$value"))


def get_message_in(
    client: GraphClient, mailbox: str, ref: str, folder: str
) -> tuple[dict[str, Any], bool]:
    """One ``$batch`` of ``GET messages/{id}`` (or the ``internetMessageId`` lookup) and
    ``GET mailFolders/{folder}?$select=id``: the message, and whether its ``parentFolderId``
    is that well-known folder."""
    if is_internet_message_id(ref):
        message_url = lookup_path(mailbox, ref, SUMMARY_FIELDS)
    else:
        message_url = with_query(message_path(mailbox, ref), select(SUMMARY_FIELDS))
    folder_url = with_query(
        graph_path("/users/{}/mailFolders/{}", mailbox, folder), {"$select": "id"}
    )
    message_request = BatchRequest(id="message", url=message_url)
    folder_request = BatchRequest(id="folder", url=folder_url)
    answers = client.batch([message_request, folder_request])
    # The message's answer first: a message that is gone is reported as such.
    if not answers["message"].ok:
        raise answers["message"].error(message_request)
    if not answers["folder"].ok:
        raise answers["folder"].error(folder_request, not_found=FolderNotFoundError)
    data = answers["message"].body or {}
    if is_internet_message_id(ref):
        data = first_found(data, mailbox, ref)
    folder_id = (answers["folder"].body or {}).get("id")
    return data, bool(folder_id) and data.get("parentFolderId") == folder_id
