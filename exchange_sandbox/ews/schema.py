"""XSD validation of EWS requests and responses against the schema Exchange Online publishes."""

from __future__ import annotations

import threading
from pathlib import Path

import xmlschema
from lxml import etree

from .errors import EwsFault
from .soap import MESSAGES_NS, TYPES_NS, Envelope, schema_fault

_XML_NS = "http://www.w3.org/XML/1998/namespace"
_cache: dict[Path, etree.XMLSchema] = {}
_lock = threading.Lock()


def _xml_xsd(schema_dir: Path) -> Path:
    """The W3C schema of the ``xml:`` namespace, which types.xsd imports without a location."""
    for candidate in (schema_dir / "xml.xsd", schema_dir.parent / "xml.xsd"):
        if candidate.is_file():
            return candidate
    return Path(xmlschema.__file__).parent / "schemas" / "XML" / "xml.xsd"


def load_schema(schema_dir: Path | str) -> etree.XMLSchema:
    """The compiled messages.xsd + types.xsd of ``schema_dir``, loaded once per process."""
    directory = Path(schema_dir).resolve()
    with _lock:
        if directory not in _cache:
            wrapper = (
                '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
                f'<xs:import namespace="{_XML_NS}" '
                f'schemaLocation="{_xml_xsd(directory).as_uri()}"/>'
                f'<xs:import namespace="{MESSAGES_NS}" '
                f'schemaLocation="{(directory / "messages.xsd").as_uri()}"/>'
                "</xs:schema>"
            )
            document = etree.fromstring(wrapper.encode(), base_url=directory.as_uri() + "/")
            _cache[directory] = etree.XMLSchema(document)
    return _cache[directory]


def violations(schema: etree.XMLSchema, element: etree._Element) -> list[etree._LogEntry]:
    """Schema errors of one EWS element (a header entry or the body payload), validated alone."""
    with _lock:  # one validator's error log is shared state
        if schema.validate(element):
            return []
        return list(schema.error_log)


def validate_request(schema: etree.XMLSchema, envelope: Envelope) -> None:
    """Raises Exchange's ErrorSchemaValidation fault when a header entry or the body is invalid."""
    for element in [*envelope.headers, envelope.operation]:
        if etree.QName(element).namespace not in (MESSAGES_NS, TYPES_NS):
            continue
        errors = violations(schema, element)
        if errors:
            first = errors[0]
            raise schema_fault(first.line, first.column, first.message)


def validate_response(schema: etree.XMLSchema, payload: etree._Element) -> None:
    """Raises EwsFault(ErrorInternalServerError) when the sandbox built an invalid response."""
    errors = violations(schema, payload)
    if errors:
        raise EwsFault("ErrorInternalServerError", f"invalid response: {errors[0].message}")
