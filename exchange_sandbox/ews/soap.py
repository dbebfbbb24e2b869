"""SOAP 1.1 envelopes as Exchange Web Services reads and writes them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from lxml.builder import ElementMaker

from .errors import EwsFault, MessageXml

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MESSAGES_NS = "http://schemas.microsoft.com/exchange/services/2006/messages"
TYPES_NS = "http://schemas.microsoft.com/exchange/services/2006/types"
ERRORS_NS = "http://schemas.microsoft.com/exchange/services/2006/errors"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSD_NS = "http://www.w3.org/2001/XMLSchema"

NSMAP = {"m": MESSAGES_NS, "t": TYPES_NS}
# Characters XML 1.0 cannot carry (a NUL in an attachment name, say); Exchange drops them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _append_text(element: etree._Element, text: str) -> None:
    """ElementMaker's text handling, minus the characters an XML document cannot hold."""
    text = _NOT_XML.sub("", text)
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


M = ElementMaker(namespace=MESSAGES_NS, nsmap=NSMAP, typemap={str: _append_text})
T = ElementMaker(namespace=TYPES_NS, nsmap=NSMAP, typemap={str: _append_text})

# ExchangeVersionType, oldest first (types.xsd of Exchange Online).
EXCHANGE_VERSIONS = (
    "Exchange2007",
    "Exchange2007_SP1",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2015",
    "Exchange2016",
    "V2015_10_05",
    "V2016_01_06",
    "V2017_04_14",
    "V2017_07_11",
    "V2018_01_08",
)
# Exchange Online's build; it reports its own schema version to every request of Exchange2013
# or later and echoes the older ones it still serves.
SERVER_BUILD = {
    "MajorVersion": "15",
    "MinorVersion": "20",
    "MajorBuildNumber": "8769",
    "MinorBuildNumber": "21",
}
SERVER_SCHEMA_VERSION = "V2018_01_08"

# huge_tree: a MimeContent or attachment Content element holds a whole message or file in
# base64, and libxml2 otherwise refuses a text node over 10 MB; entities stay unresolved.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False
)


def tag(namespace: str, name: str) -> str:
    """Clark notation ``{namespace}name`` for lxml."""
    return f"{{{namespace}}}{name}"


def m(name: str) -> str:
    """Clark name in the EWS messages namespace."""
    return tag(MESSAGES_NS, name)


def t(name: str) -> str:
    """Clark name in the EWS types namespace."""
    return tag(TYPES_NS, name)


@dataclass
class Envelope:
    """A parsed EWS request: SOAP header entries, the operation element and the schema version."""

    document: etree._ElementTree
    headers: list[etree._Element]
    operation: etree._Element
    requested_version: str | None

    @property
    def operation_name(self) -> str:
        """The SOAP operation (GetUserOofSettingsRequest is the GetUserOofSettings operation,
        GetUserAvailabilityRequest the GetUserAvailability operation)."""
        name = etree.QName(self.operation).localname
        wrapped = name.endswith("SettingsRequest") or name == "GetUserAvailabilityRequest"
        return name.removesuffix("Request") if wrapped else name

    def header(self, name: str) -> etree._Element | None:
        """The header entry ``t:<name>``, if sent."""
        return next((h for h in self.headers if h.tag == t(name)), None)

    def version_at_least(self, version: str) -> bool:
        """True when the request targets ``version`` or later (no header = Exchange2007)."""
        requested = self.requested_version or EXCHANGE_VERSIONS[0]
        return EXCHANGE_VERSIONS.index(requested) >= EXCHANGE_VERSIONS.index(version)


def parse_envelope(body: bytes) -> Envelope:
    """Parses a SOAP 1.1 request; malformed ones get Exchange's ErrorSchemaValidation fault."""
    try:
        document = etree.ElementTree(etree.fromstring(body, _PARSER))
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise schema_fault(line, column, str(exc.msg)) from None
    root = document.getroot()
    if root.tag != tag(SOAP_NS, "Envelope"):
        raise schema_fault(1, 1, "The root element must be a SOAP 1.1 Envelope.")
    header = root.find(tag(SOAP_NS, "Header"))
    soap_body = root.find(tag(SOAP_NS, "Body"))
    operations = [] if soap_body is None else [c for c in soap_body if isinstance(c.tag, str)]
    if not operations:
        raise schema_fault(1, 1, "The SOAP Body must contain one EWS operation.")
    headers = [] if header is None else [c for c in header if isinstance(c.tag, str)]
    version_header = next((h for h in headers if h.tag == t("RequestServerVersion")), None)
    version = None if version_header is None else version_header.get("Version")
    if version is not None and version not in EXCHANGE_VERSIONS:
        raise EwsFault("ErrorInvalidServerVersion")
    return Envelope(document, headers, operations[0], version)


def schema_fault(line: int, position: int, violation: str) -> EwsFault:
    """Exchange's ErrorSchemaValidation fault, with the line, position and violation."""
    return EwsFault(
        "ErrorSchemaValidation",
        f"The request failed schema validation: {violation}",
        [
            ("LineNumber", None, str(line)),
            ("LinePosition", None, str(position)),
            ("Violation", None, violation),
        ],
    )


def _server_version_info(requested: str | None) -> etree._Element:
    legacy = requested is not None and EXCHANGE_VERSIONS.index(requested) < 5
    attributes = dict(SERVER_BUILD, Version=requested if legacy else SERVER_SCHEMA_VERSION)
    nsmap = {"h": TYPES_NS, None: TYPES_NS, "xsd": XSD_NS, "xsi": XSI_NS}
    return etree.Element(tag(TYPES_NS, "ServerVersionInfo"), attributes, nsmap=nsmap)


def build_envelope(payload: etree._Element, requested_version: str | None) -> bytes:
    """The response envelope: ServerVersionInfo in the header, ``payload`` in the body."""
    envelope = etree.Element(tag(SOAP_NS, "Envelope"), nsmap={"s": SOAP_NS})
    header = etree.SubElement(envelope, tag(SOAP_NS, "Header"))
    header.append(_server_version_info(requested_version))
    body = etree.SubElement(envelope, tag(SOAP_NS, "Body"), nsmap={"xsi": XSI_NS, "xsd": XSD_NS})
    body.append(payload)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def message_xml_children(message_xml: MessageXml) -> list[etree._Element]:
    """``t:Value Name=...`` and friends, the content of a MessageXml element."""
    children = []
    for local_name, name, text in message_xml:
        child = etree.Element(t(local_name), nsmap={"t": TYPES_NS})
        if name is not None:
            child.set("Name", name)
        child.text = text
        children.append(child)
    return children


def build_fault(fault: EwsFault, envelope_of: Envelope | None = None) -> bytes:
    """A SOAP fault laid out like Exchange's (faultcode ``a:<ResponseCode>``, detail in e:);
    with ServerVersionInfo when the request got as far as EWS (``envelope_of``)."""
    envelope = etree.Element(tag(SOAP_NS, "Envelope"), nsmap={"s": SOAP_NS})
    if envelope_of is not None:
        header = etree.SubElement(envelope, tag(SOAP_NS, "Header"))
        header.append(_server_version_info(envelope_of.requested_version))
    body = etree.SubElement(envelope, tag(SOAP_NS, "Body"))
    soap_fault = etree.SubElement(body, tag(SOAP_NS, "Fault"))
    if fault.fault_code:
        code = etree.SubElement(soap_fault, "faultcode")
        code.text = fault.fault_code
    else:
        code = etree.SubElement(soap_fault, "faultcode", nsmap={"a": TYPES_NS})
        code.text = f"a:{fault.code}"
    string = etree.SubElement(soap_fault, "faultstring")
    string.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    string.text = fault.text
    detail = etree.SubElement(soap_fault, "detail")
    for name, text in (("ResponseCode", fault.code), ("Message", fault.text)):
        etree.SubElement(detail, tag(ERRORS_NS, name), nsmap={"e": ERRORS_NS}).text = text
    if fault.message_xml:
        container = etree.SubElement(detail, t("MessageXml"), nsmap={"t": TYPES_NS})
        container.extend(message_xml_children(fault.message_xml))
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
