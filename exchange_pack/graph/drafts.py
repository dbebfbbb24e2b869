"""Draft messages: recipients and attachments in Graph's JSON, upload sessions, and send.

Attachments up to ``UPLOAD_THRESHOLD`` go in one ``POST attachments`` each; larger ones through
``createUploadSession`` and ranged PUTs (Graph's request size limit is 4 MB, and base64 adds a
third). Used by send (large attachments) and reply.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from ..outgoing_mime import attachment_file, content_type
from .messages import message_path
from .transport import GraphClient

UPLOAD_THRESHOLD = 3 * 1024 * 1024
UPLOAD_CHUNK = 10 * 320 * 1024  # upload ranges must be multiples of 320 KiB


def recipients_json(addresses: list[str]) -> list[dict[str, Any]]:
    """Addresses as Graph ``recipient`` objects."""
    return [{"emailAddress": {"address": address}} for address in addresses]


def add_attachments(client: GraphClient, mailbox: str, draft_id: str, paths: list[str]) -> None:
    """Attaches files to a draft: ``POST attachments`` or an upload session per file."""
    for path in paths:
        file = attachment_file(path)
        if file.stat().st_size > UPLOAD_THRESHOLD:
            upload_attachment(client, mailbox, draft_id, file)
        else:
            body = {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": file.name,
                "contentType": content_type(file),
                "contentBytes": base64.b64encode(file.read_bytes()).decode("ascii"),
            }
            client.post_json(message_path(mailbox, draft_id, "/attachments"), body)


def upload_attachment(client: GraphClient, mailbox: str, draft_id: str, file: Path) -> None:
    """``attachments/createUploadSession`` then the file in ranged PUTs (no bearer token:
    the upload URL carries its own authorization)."""
    size = file.stat().st_size
    session_body = {
        "AttachmentItem": {
            "attachmentType": "file",
            "name": file.name,
            "size": size,
            "contentType": content_type(file),
        }
    }
    path = message_path(mailbox, draft_id, "/attachments/createUploadSession")
    upload_url = client.post_json(path, session_body)["uploadUrl"]
    with file.open("rb") as handle:
        start = 0
        while start < size:
            chunk = handle.read(UPLOAD_CHUNK)
            end = start + len(chunk) - 1
            headers = {
                "Content-Range": f"bytes {start}-{end}/{size}",
                "Content-Type": "application/octet-stream",
            }
            client.request("PUT", upload_url, data=chunk, headers=headers, authorize=False).close()
            start = end + 1


def send_draft(client: GraphClient, mailbox: str, draft_id: str) -> None:
    """``POST /users/{id}/messages/{id}/send`` (never repeated after an unclear failure)."""
    client.request("POST", message_path(mailbox, draft_id, "/send")).close()
