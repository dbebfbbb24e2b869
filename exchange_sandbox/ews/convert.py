"""ConvertId between the id formats the sandbox's ids can take (EwsId, EntryId, HexEntryId...).

The sandbox's EWS id is base64 of its raw entry id bytes, so EwsId, EwsLegacyId and EntryId
share one spelling and HexEntryId is the same bytes in hex. RestId (Graph's form, URL-safe
base64) is accepted too, although Exchange's schema only offers it to Graph's
translateExchangeIds.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from lxml import etree

from .. import id_forms, ids
from .errors import EwsError
from .service import EwsContext, operation, per_item
from .soap import XSI_NS, M, m


def _from_hex(value: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(value)).decode("ascii")
    except ValueError:
        return value


def _to_hex(ews: str) -> str:
    return base64.b64decode(ews).hex().upper()


_READERS: dict[str, Callable[[str], str]] = {
    "EwsId": ids.to_ews,
    "EwsLegacyId": ids.to_ews,
    "EntryId": ids.to_ews,
    "HexEntryId": _from_hex,
    "RestId": ids.to_ews,
    "RestImmutableEntryId": ids.to_ews,
}
_WRITERS: dict[str, Callable[[str], str]] = {
    "EwsId": ids.to_ews,
    "EwsLegacyId": ids.to_ews,
    "EntryId": ids.to_ews,
    "HexEntryId": _to_hex,
    "RestId": ids.to_rest,
    "RestImmutableEntryId": ids.to_rest,
}


def _alternate_id(
    context: EwsContext, source: etree._Element, destination: str
) -> list[etree._Element]:
    reader = _READERS.get(source.get("Format", ""))
    writer = _WRITERS.get(destination)
    key = ids.parse(reader(source.get("Id", ""))) if reader and writer else None
    if key is None or writer is None:
        raise EwsError("ErrorInvalidIdMalformed")
    found = id_forms.translated(
        context.store, key.full, immutable=destination == "RestImmutableEntryId"
    )
    if found is None:
        raise EwsError("ErrorItemNotFound")
    try:
        converted = writer(found)
    except binascii.Error:
        raise EwsError("ErrorInvalidIdMalformed") from None
    alternate = M.AlternateId(Format=destination, Id=converted, Mailbox=source.get("Mailbox", ""))
    alternate.set(f"{{{XSI_NS}}}type", "t:AlternateIdType")
    return [alternate]


@operation("ConvertId", since="Exchange2007_SP1")
def convert_id(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS ConvertId."""
    destination = request.get("DestinationFormat", "")
    container = request.find(m("SourceIds"))
    sources = [] if container is None else [c for c in container if isinstance(c.tag, str)]
    return per_item(
        "ConvertId", sources, lambda source: _alternate_id(context, source, destination)
    )
