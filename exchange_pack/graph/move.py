"""Copy, move and delete messages.

Copy to another mailbox has no Graph action: the MIME is exported (``GET $value``, spooled to
a temporary file) and imported into the destination folder (``POST .../messages`` with the
base64 MIME as ``text/plain``): 2 requests, plus folder path lookups.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterator
from typing import IO

from ..errors import UnsupportedError
from ..models import DeleteType, MessageRef
from .folders import FolderDirectory
from .messages import message_path, open_mime
from .shape import message_ref
from .transport import CHUNK_SIZE, GraphClient, graph_path

SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024
DELETE_FOLDERS: dict[str, str] = {
    "move_to_deleted_items": "deleteditems",
    "soft": "recoverableitemsdeletions",
}


def move(
    client: GraphClient, folders: FolderDirectory, message: MessageRef, destination: str
) -> MessageRef:
    """``POST /users/{id}/messages/{id}/move`` to a well-known folder or a folder path."""
    target = folders.resolve(message.mailbox, destination)
    path = message_path(message.mailbox, message.id, "/move")
    return message_ref(client.post_json(path, {"destinationId": target}), message.mailbox)


def copy(
    client: GraphClient,
    folders: FolderDirectory,
    message: MessageRef,
    destination: str,
    destination_mailbox: str | None,
) -> MessageRef:
    """``POST .../copy`` in the same mailbox; MIME export and import across mailboxes."""
    if destination_mailbox and destination_mailbox.lower() != message.mailbox.lower():
        return copy_to_mailbox(client, folders, message, destination, destination_mailbox)
    target = folders.resolve(message.mailbox, destination)
    path = message_path(message.mailbox, message.id, "/copy")
    return message_ref(client.post_json(path, {"destinationId": target}), message.mailbox)


def _base64_chunks(spool: IO[bytes]) -> Iterator[bytes]:
    spool.seek(0)
    while chunk := spool.read(CHUNK_SIZE * 3):  # multiples of 3 bytes encode without padding
        yield base64.b64encode(chunk)


def copy_to_mailbox(
    client: GraphClient,
    folders: FolderDirectory,
    message: MessageRef,
    destination: str,
    destination_mailbox: str,
) -> MessageRef:
    """Export ``GET .../$value`` and import ``POST /users/{dest}/mailFolders/{id}/messages``."""
    target = folders.resolve(destination_mailbox, destination)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as spool:
        with open_mime(client, message.mailbox, message.id) as chunks:
            for chunk in chunks:
                spool.write(chunk)
        created = client.json_of(
            client.request(
                "POST",
                graph_path("/users/{}/mailFolders/{}/messages", destination_mailbox, target),
                data=lambda: _base64_chunks(spool),
                headers={"Content-Type": "text/plain"},
            )
        )
    return message_ref(created, destination_mailbox)


def delete(client: GraphClient, message: MessageRef, delete_type: DeleteType) -> None:
    """Move to Deleted Items or Recoverable Items (``move``), or purge (``permanentDelete``)."""
    if delete_type == "hard":
        cloud = client.config.cloud_info
        if not cloud.supports_permanent_delete:
            raise UnsupportedError(
                f"Hard delete (Graph permanentDelete) is not available in the {cloud.name} "
                "cloud; only the global cloud has it.",
                hint="Use delete_type soft, or the EWS backend (DeleteItem HardDelete).",
            )
        path = message_path(message.mailbox, message.id, "/permanentDelete")
        client.request("POST", path).close()
        return
    destination = DELETE_FOLDERS[delete_type]
    path = message_path(message.mailbox, message.id, "/move")
    client.request("POST", path, json={"destinationId": destination}).close()
