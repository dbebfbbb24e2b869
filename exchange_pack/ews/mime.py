"""download_mail_as_eml on EWS: GetItem with IncludeMimeContent, streamed.

exchangelib's ``Item.mime_content`` holds the whole message in memory (the base64 text, the
parsed tree and the decoded bytes at once); the pack streams it instead (``streaming``), so the
peak memory stays flat whatever the message size.
"""

from __future__ import annotations

from exchangelib import Account

from ..backend import ByteStream
from ..models import MessageRef
from .messages import item_id
from .streaming import StreamingMimeGetItem, open_stream
from .transport import EwsTransport


def open_mime(transport: EwsTransport, account: Account, message: MessageRef) -> ByteStream:
    """EWS GetItem (IncludeMimeContent): the message's RFC 5322 bytes as a stream."""
    return open_stream(
        transport,
        account.primary_smtp_address,
        lambda: StreamingMimeGetItem(account=account).stream_mime(item_id(message)),
    )
