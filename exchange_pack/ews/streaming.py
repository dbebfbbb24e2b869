"""Streamed EWS downloads: base64 content decoded while the SOAP response arrives.

exchangelib streams FileAttachment content (GetAttachment with a SAX parser that decodes the
``Content`` element chunk by chunk). ``StreamingMimeGetItem`` applies the same machinery to
GetItem's ``MimeContent``, so a 100 MB message never sits in memory whole. ``open_stream`` runs
the request under the transport's retry policy (until the first chunk) and translates errors
raised later, mid-stream.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from exchangelib import Message
from exchangelib import errors as ews
from exchangelib.fields import FieldPath
from exchangelib.items import ID_ONLY
from exchangelib.properties import ItemId
from exchangelib.services import GetItem
from exchangelib.util import (
    TNS,
    DummyResponse,
    ElementNotFound,
    StreamingBase64Parser,
    StreamingContentHandler,
)
from urllib3.exceptions import HTTPError

from .errors import translate
from .transport import EwsTransport


class StreamingMimeGetItem(GetItem):
    """EWS GetItem with IncludeMimeContent whose MimeContent is decoded as it streams in."""

    def _update_api_version(self, api_version, header):  # type: ignore[no-untyped-def]
        if not self.streaming:
            super()._update_api_version(api_version, header)

    def _get_soap_parts(self, response):  # type: ignore[no-untyped-def]
        if not self.streaming:
            return super()._get_soap_parts(response)
        return None, response

    def _get_soap_messages(self, body):  # type: ignore[no-untyped-def]
        if not self.streaming:
            return super()._get_soap_messages(body)
        parser = StreamingBase64Parser()
        parser.setContentHandler(
            StreamingContentHandler(parser=parser, ns=TNS, element_name="MimeContent")
        )
        return parser.parse(body)

    def stream_mime(self, item_id: ItemId) -> Iterator[bytes]:
        """The item's MIME (RFC 5322) bytes, chunk by chunk."""
        payload = self.get_payload(
            items=[item_id],
            additional_fields=[FieldPath(field=Message.get_field_by_fieldname("mime_content"))],
            shape=ID_ONLY,
        )
        self.streaming = True
        try:
            yield from self._get_response_xml(payload=payload)
        except ElementNotFound as missing:
            # No MimeContent: the answer is an error message; parse it to raise its ResponseCode.
            _, body = super()._get_soap_parts(response=DummyResponse(content=missing.data))
            for answer in self._get_elements_in_response(super()._get_soap_messages(body=body)):
                if isinstance(answer, Exception):
                    raise answer from None
            raise
        finally:
            self.stop_streaming()
            self.streaming = False


@contextlib.contextmanager
def open_stream(
    transport: EwsTransport, mailbox: str, start: Callable[[], Iterator[bytes]]
) -> Iterator[Iterator[bytes]]:
    """A ByteStream over ``start()``: retried until its first chunk, translated afterwards."""

    def first() -> tuple[Iterator[bytes], bytes | None]:
        chunks = start()
        return chunks, next(chunks, None)

    chunks, head = transport.call(first, mailbox=mailbox)

    def rest() -> Iterator[bytes]:
        if head is not None:
            yield head
        try:
            yield from chunks
        except (ews.EWSError, OSError, HTTPError, ValueError) as exc:
            raise translate(exc, mailbox=mailbox) from None

    try:
        yield rest()
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
