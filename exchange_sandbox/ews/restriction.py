"""EWS ``Restriction``, ``QueryString`` and ``SortOrder`` as the store's query predicates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from lxml import etree

from .. import kql, query
from ..store import Address, Message
from .errors import EwsError
from .soap import t

# FieldURI -> (query field, value kind). Value kinds convert the Constant's text.
FIELDS: dict[str, tuple[str, str]] = {
    "item:Subject": ("subject", "text"),
    "message:ConversationTopic": ("subject", "text"),
    "item:Body": ("body", "text"),
    "item:TextBody": ("body", "text"),
    "item:Preview": ("body_preview", "text"),
    "message:From": ("from", "text"),
    "message:Sender": ("sender", "text"),
    "message:ToRecipients": ("to", "text"),
    "message:CcRecipients": ("cc", "text"),
    "message:BccRecipients": ("bcc", "text"),
    "message:ReplyTo": ("reply_to", "text"),
    "item:DisplayTo": ("to", "text"),
    "item:DisplayCc": ("cc", "text"),
    "message:InternetMessageId": ("internet_message_id", "text"),
    "item:InReplyTo": ("in_reply_to", "text"),
    "item:Importance": ("importance", "lower"),
    "item:Categories": ("categories", "text"),
    "item:ItemId": ("id", "text"),
    "item:ParentFolderId": ("folder_id", "text"),
    "item:ConversationId": ("conversation_id", "text"),
    "item:DateTimeReceived": ("received_at", "date"),
    "item:DateTimeSent": ("sent_at", "date"),
    "item:DateTimeCreated": ("created_at", "date"),
    "item:LastModifiedTime": ("modified_at", "date"),
    "item:HasAttachments": ("has_attachments", "bool"),
    "message:IsRead": ("is_read", "bool"),
    "item:IsDraft": ("is_draft", "bool"),
    "item:Size": ("size", "int"),
}
_COMPARISONS = {
    "IsEqualTo": "eq",
    "IsNotEqualTo": "ne",
    "IsGreaterThan": "gt",
    "IsGreaterThanOrEqualTo": "ge",
    "IsLessThan": "lt",
    "IsLessThanOrEqualTo": "le",
}
_CASE_SENSITIVE = {"Exact"}


def _field(expression: etree._Element) -> tuple[str, str]:
    path = next((c for c in expression if isinstance(c.tag, str)), None)
    if path is None or path.tag != t("FieldURI"):
        raise EwsError("ErrorUnsupportedPathForQuery")
    uri = path.get("FieldURI", "")
    if uri == "item:ItemClass":
        return "item_class", "text"
    if uri not in FIELDS:
        raise EwsError("ErrorUnsupportedPathForQuery", message_xml=[("Value", "FieldURI", uri)])
    return FIELDS[uri]


def _value(kind: str, text: str) -> Any:
    if kind == "bool":
        return text.strip().lower() in ("true", "1")
    if kind == "int":
        return int(text)
    if kind == "lower":
        return text.strip().lower()
    if kind == "date":
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return text


def _constant(expression: etree._Element, kind: str) -> Any:
    constant = expression.find(f"{t('FieldURIOrConstant')}/{t('Constant')}")
    if constant is None:
        constant = expression.find(t("Constant"))
    if constant is None:
        raise EwsError("ErrorUnsupportedQueryFilter")
    try:
        return _value(kind, constant.get("Value", ""))
    except ValueError as exc:
        raise EwsError("ErrorInvalidValueForProperty", str(exc)) from None


def _item_class(op: str, value: str) -> query.Predicate:
    """Everything the sandbox stores is IPM.Note."""
    holds = "ipm.note".startswith(value.lower()) if op == "prefix" else value.lower() == "ipm.note"
    return query.TrueP() if holds == (op != "ne") else query.Not(query.TrueP())


def _comparison(name: str, expression: etree._Element) -> query.Predicate:
    field, kind = _field(expression)
    value = _constant(expression, kind)
    op = _COMPARISONS[name]
    if field == "item_class":
        return _item_class(op, value)
    if kind in ("text", "lower", "bool") and op in ("eq", "ne"):
        equal = query.Eq(field, value)
        return equal if op == "eq" else query.Not(equal)
    return query.Compare(field, op, value)  # type: ignore[arg-type]


def _contains(expression: etree._Element) -> query.Predicate:
    field, _ = _field(expression)
    text = str(_constant(expression, "text"))
    mode = expression.get("ContainmentMode", "FullString")
    ignore_case = expression.get("ContainmentComparison", "Exact") not in _CASE_SENSITIVE
    if field == "item_class":
        return _item_class("prefix" if mode == "Prefixed" else "eq", text)
    if mode == "FullString":
        return query.Eq(field, text, ignore_case)
    if mode == "Prefixed":
        return query.StartsWith(field, text, ignore_case)
    return query.Contains(field, text, ignore_case)


def to_predicate(element: etree._Element) -> query.Predicate:
    """One ``t:`` search expression (``And``, ``IsEqualTo``, ``Contains``...) as a predicate."""
    name = etree.QName(element).localname
    children = [c for c in element if isinstance(c.tag, str)]
    try:
        if name == "And":
            return query.And(tuple(to_predicate(c) for c in children))
        if name == "Or":
            return query.Or(tuple(to_predicate(c) for c in children))
        if name == "Not":
            return query.Not(to_predicate(children[0]))
        if name == "Exists":
            field, _ = _field(element)
            return query.TrueP() if field == "item_class" else query.Exists(field)
        if name == "Contains":
            return _contains(element)
        if name in _COMPARISONS:
            return _comparison(name, element)
    except query.QueryError as exc:
        raise EwsError("ErrorInvalidRestriction", exc.message) from None
    raise EwsError("ErrorUnsupportedQueryFilter")


def restriction(element: etree._Element | None) -> query.Predicate:
    """``m:Restriction`` (absent = everything)."""
    if element is None:
        return query.TrueP()
    expression = next((c for c in element if isinstance(c.tag, str)), None)
    return query.TrueP() if expression is None else to_predicate(expression)


def query_string(text: str | None, now: dt.datetime) -> query.Predicate:
    """``m:QueryString`` (AQS) via the shared KQL/AQS parser."""
    if not text or not text.strip():
        return query.TrueP()
    try:
        return kql.parse_kql(text, now)
    except query.QueryError as exc:
        raise EwsError("ErrorInvalidArgument", f"The AQS query is invalid: {exc.message}") from None


def _address_key(address: Address | None) -> str:
    return "" if address is None else (address.name or address.address).lower()


_SORT_KEYS: dict[str, Callable[[Message], Any]] = {
    "subject": lambda m: m.subject.lower(),
    "from": lambda m: _address_key(m.from_),
    "sender": lambda m: _address_key(m.sender),
    "importance": lambda m: ("low", "normal", "high").index(m.importance),
    "received_at": lambda m: m.received_at,
    "sent_at": lambda m: m.sent_at or m.received_at,
    "created_at": lambda m: m.created_at,
    "modified_at": lambda m: m.modified_at,
    "size": lambda m: m.size,
    "is_read": lambda m: m.is_read,
    "has_attachments": lambda m: m.has_attachments,
}


def sort(messages: list[Message], element: etree._Element | None) -> list[Message]:
    """Messages ordered by ``m:SortOrder`` (stable, last FieldOrder applied first)."""
    if element is None:
        return messages
    ordered = list(messages)
    for order in reversed([c for c in element if c.tag == t("FieldOrder")]):
        field, _ = _field(order)
        key = _SORT_KEYS.get(field)
        if key is None:
            raise EwsError("ErrorUnsupportedPathForSortGroup")
        ordered.sort(key=key, reverse=order.get("Order", "Ascending") == "Descending")
    return ordered
