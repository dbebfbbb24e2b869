"""Compiles Graph's message ``$filter`` and ``$search`` to the store's predicate AST (query.py).

Only what Exchange Online's REST face filters on is accepted; anything else is the 400
"Invalid filter clause" Graph answers.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable

from .. import ids, kql, query
from ..query import Predicate
from . import odata
from .errors import bad_request, invalid_filter

# Graph property path -> store query field.
_FIELDS: dict[str, str] = {
    "receiveddatetime": "received_at",
    "sentdatetime": "sent_at",
    "createddatetime": "created_at",
    "lastmodifieddatetime": "modified_at",
    "from/emailaddress/address": "from",
    "from/emailaddress/name": "from",
    "sender/emailaddress/address": "sender",
    "sender/emailaddress/name": "sender",
    "subject": "subject",
    "body/content": "body",
    "bodypreview": "body_preview",
    "hasattachments": "has_attachments",
    "isread": "is_read",
    "isdraft": "is_draft",
    "internetmessageid": "internet_message_id",
    "conversationid": "conversation_id",
    "importance": "importance",
    "parentfolderid": "folder_id",
    "id": "id",
}
# Collections usable with any(): Graph name -> (store field, element path that holds the value).
_COLLECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "torecipients": ("to", ("emailaddress/address", "emailaddress/name")),
    "ccrecipients": ("cc", ("emailaddress/address", "emailaddress/name")),
    "bccrecipients": ("bcc", ("emailaddress/address", "emailaddress/name")),
    "replyto": ("reply_to", ("emailaddress/address", "emailaddress/name")),
    "categories": ("categories", ("",)),
}
_ID_FIELDS = {"id", "folder_id"}


def _field(path: str) -> str:
    field = _FIELDS.get(path.lower())
    if field is None:
        raise invalid_filter(f"Could not find a property named '{path}' on type message.")
    return field


def _value(field: str, literal: odata.Literal) -> object:
    value = literal.value
    if field in query.DATE_FIELDS:
        if isinstance(value, str):
            try:
                value = odata._parse_datetime(value)
            except ValueError:
                value = None
        if not isinstance(value, dt.datetime):
            raise invalid_filter(f"A DateTimeOffset literal is expected for '{field}'.")
    elif field in query.BOOL_FIELDS:
        if not isinstance(value, bool):
            raise invalid_filter("A Boolean literal (true or false) is expected.")
    elif field in _ID_FIELDS:
        canonical = ids.canonical(str(value))
        value = canonical or str(value)
    elif field == "conversation_id":
        value = ids.to_ews(str(value))
    elif not isinstance(value, str):
        raise invalid_filter(f"A string literal is expected, not '{value}'.")
    return value


def _comparison(field: str, op: str, literal: odata.Literal) -> Predicate:
    value = _value(field, literal)
    if op in ("eq", "ne") and field not in query.DATE_FIELDS:
        eq = query.Eq(field, value)
        return eq if op == "eq" else query.Not(eq)
    return query.Compare(field, op, value)  # type: ignore[arg-type]


def _logical(
    node: odata.Expr, compile_operand: Callable[[odata.Expr], Predicate]
) -> Predicate | None:
    """``and``/``or``/``not`` with their operands compiled by ``compile_operand``; else None."""
    if isinstance(node, odata.And):
        return query.And((compile_operand(node.left), compile_operand(node.right)))
    if isinstance(node, odata.Or):
        return query.Or((compile_operand(node.left), compile_operand(node.right)))
    if isinstance(node, odata.Not):
        return query.Not(compile_operand(node.operand))
    return None


def _any(expr: odata.AnyOf) -> Predicate:
    found = _COLLECTIONS.get(expr.collection.lower())
    if found is None:
        raise invalid_filter(f"'{expr.collection}' is not a collection of type message.")
    field, element_paths = found

    def compile_element(node: odata.Expr) -> Predicate:
        if (logical := _logical(node, compile_element)) is not None:
            return logical
        if isinstance(node, odata.AnyOf) or node.prop.path.lower() not in element_paths:
            raise invalid_filter(f"Unsupported lambda expression over '{expr.collection}'.")
        if isinstance(node, odata.Function):
            return _function(node.name, field, node.value)
        if isinstance(node, odata.In):
            return query.Or(tuple(_comparison(field, "eq", v) for v in node.values))
        if node.op not in ("eq", "ne"):
            raise invalid_filter(f"Operator '{node.op}' is not supported on '{expr.collection}'.")
        return _comparison(field, node.op, node.value)

    return compile_element(expr.predicate)


def _function(name: str, field: str, literal: odata.Literal) -> Predicate:
    text = str(literal.value)
    if name == "startswith":
        return query.StartsWith(field, text)
    if name == "contains":
        return query.Contains(field, text)
    raise invalid_filter(f"The function '{name}' is not supported on messages.")


@functools.lru_cache(maxsize=256)  # parsed filters are cached and frozen, predicates too
def compile_filter(expr: odata.Expr) -> Predicate:
    """The store predicate for a parsed message ``$filter``."""
    if (logical := _logical(expr, compile_filter)) is not None:
        return logical
    if isinstance(expr, odata.AnyOf):
        return _any(expr)
    field = _field(expr.prop.path)
    if isinstance(expr, odata.Function):
        if field in query.DATE_FIELDS | query.BOOL_FIELDS:
            raise invalid_filter(f"The function '{expr.name}' needs a string property.")
        return _function(expr.name, field, expr.value)
    if isinstance(expr, odata.In):
        return query.Or(tuple(_comparison(field, "eq", v) for v in expr.values))
    return _comparison(field, expr.op, expr.value)


_UNQUOTED_OK = re.compile(r"^[^:\"()]+$")


def search_text(raw: str) -> str:
    """The KQL inside Graph's ``$search`` value, applying Graph's quoting rules.

    Graph wants the whole value in double quotes (``$search="from:alice subject:invoice"``);
    inner double quotes are escaped with a backslash. Plain words may go unquoted; a property
    restriction (``from:x``) or a phrase may not.
    """
    text = raw.strip()
    if not text:
        raise bad_request("The $search query option value is empty.")
    if text.startswith('"'):
        if len(text) < 2 or not text.endswith('"') or text.endswith('\\"'):
            raise bad_request(f"Syntax error: unterminated string in '$search={raw}'.")
        inner = text[1:-1]
        unescaped = re.sub(r'(?<!\\)"', "", inner)
        if unescaped != inner:
            raise bad_request(
                f"Syntax error: the double quotes inside '$search={raw}' must be escaped as \\\"."
            )
        return inner.replace('\\"', '"').replace("\\\\", "\\")
    if not _UNQUOTED_OK.match(text):
        position = next((i for i, c in enumerate(text) if c in ':"()'), 0)
        raise bad_request(
            f"Syntax error: character '{text[position]}' is not valid at position {position} "
            f"in '{text}'."
        )
    return text


def compile_search(raw: str, now: dt.datetime) -> Predicate:
    """The store predicate for a ``$search`` value (KQL, parsed by kql.parse_kql)."""
    try:
        return kql.parse_kql(search_text(raw), now)
    except query.QueryError as exc:
        raise bad_request(f"Syntax error in '$search': {exc.message}.") from None
