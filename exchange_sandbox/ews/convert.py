"""ConvertId: between the EWS and REST forms of an item or folder id (Exchange's EwsId/RestId)."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from .. import ids
from .errors import EwsError
from .service import EwsContext, operation, per_item
from .soap import XSI_NS, M, m

# The formats the sandbox's ids can take; the MAPI entry-id forms have no meaning here.
_CONVERTERS: dict[str, Callable[[str], str]] = {
    "EwsId": ids.to_ews,
    "EwsLegacyId": ids.to_ews,
    "EwsImmutableId": ids.to_ews,
    "RestId": ids.to_rest,
    "RestImmutableEntryId": ids.to_rest,
}


def _alternate_id(source: etree._Element, destination: str) -> list[etree._Element]:
    if source.get("Format") not in _CONVERTERS or destination not in _CONVERTERS:
        raise EwsError("ErrorInvalidIdMalformed")
    key = ids.parse(source.get("Id", ""))
    if key is None:
        raise EwsError("ErrorInvalidIdMalformed")
    alternate = M.AlternateId(
        Format=destination, Id=_CONVERTERS[destination](key.ews), Mailbox=source.get("Mailbox", "")
    )
    alternate.set(f"{{{XSI_NS}}}type", "t:AlternateIdType")
    return [alternate]


@operation("ConvertId", since="Exchange2007_SP1")
def convert_id(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS ConvertId."""
    destination = request.get("DestinationFormat", "")
    container = request.find(m("SourceIds"))
    sources = [] if container is None else [c for c in container if isinstance(c.tag, str)]
    return per_item("ConvertId", sources, lambda source: _alternate_id(source, destination))
