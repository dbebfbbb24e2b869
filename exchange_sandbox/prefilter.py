"""A SQL pre-filter for message queries: a necessary condition SQLite tests before a row is
decoded, so a search decodes only the rows that may match.

``query.matches`` still decides every row the pre-filter lets through; the pre-filter never
drops a message that would match. Where it cannot say so exactly (a predicate it does not know,
a value it cannot find verbatim in a column) it lets everything through. Exchange answers a
restriction from its indexes the same way, which is why a search of a large mailbox costs the
hits, not the mailbox.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, NamedTuple

from . import query

# Address fields are stored as JSON ([address, name] pairs, ASCII-escaped by json.dumps).
_ADDRESS_COLUMNS: dict[str, tuple[str, ...]] = {
    "from": ("from_",),
    "sender": ("sender",),
    "to": ("to_",),
    "cc": ("cc",),
    "bcc": ("bcc",),
    "reply_to": ("reply_to",),
    "recipients": ("to_", "cc", "bcc"),
    "participants": ("from_", "sender", "to_", "cc", "bcc"),
}
# Text fields stored as they are matched (body is matched on its text, so it is not here).
_TEXT_COLUMNS = frozenset(
    {"subject", "internet_message_id", "conversation_id", "importance", "in_reply_to"}
)
_ORDERED_OPS = {"eq": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_SAFE_TEXT = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


class Condition(NamedTuple):
    """A SQL boolean expression over the ``messages`` columns and its parameters."""

    sql: str
    params: tuple[Any, ...]


def condition(pred: query.Predicate) -> Condition | None:
    """A necessary condition for ``pred``, or None when every row must be tested."""
    try:
        return _kept_condition(pred)  # a fan-out sends one query to every mailbox
    except TypeError:  # a value that cannot be hashed (a list): worked out each time
        return _condition(pred)


@functools.lru_cache(maxsize=256)
def _kept_condition(pred: query.Predicate) -> Condition | None:
    return _condition(pred)


def _condition(pred: query.Predicate) -> Condition | None:
    if isinstance(pred, query.And):
        parts = [c for c in map(condition, pred.items) if c is not None]
        return _joined(parts, " AND ") if parts else None
    if isinstance(pred, query.Or):
        parts = [condition(item) for item in pred.items]
        if not parts or any(c is None for c in parts):
            return None
        return _joined([c for c in parts if c is not None], " OR ")
    if isinstance(pred, query.Eq):
        return _scalar(pred.field, "eq", pred.value) or _text(
            pred.field, pred.value, pred.ignore_case
        )
    if isinstance(pred, query.Compare):
        return _scalar(pred.field, pred.op, pred.value)
    if isinstance(pred, query.Contains | query.StartsWith):
        return _text(pred.field, pred.text, pred.ignore_case)
    return None


def _joined(parts: list[Condition], glue: str) -> Condition:
    sql = glue.join(f"({c.sql})" for c in parts)
    return Condition(sql, tuple(p for c in parts for p in c.params))


def _scalar(field: str, op: str, value: Any) -> Condition | None:
    """Dates (stored as fixed-width UTC text that sorts in time order), booleans and size."""
    sql_op = _ORDERED_OPS.get(op)
    if sql_op is None:  # "ne" also holds for an absent value, which SQL's != does not
        return None
    if field in query.DATE_FIELDS and isinstance(value, dt.datetime) and value.tzinfo:
        stamp = value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return Condition(f"{field} {sql_op} ?", (stamp,))
    if field in query.BOOL_FIELDS and isinstance(value, bool) and op == "eq":
        return Condition(f"{field} = ?", (int(value),))
    if field in query.INT_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return Condition(f"{field} {sql_op} ?", (value,))
    return None


def _text(field: str, text: Any, ignore_case: bool) -> Condition | None:
    """A value that matches (equals, contains or starts) appears in its column verbatim.

    Only for printable ASCII without quote or backslash, which JSON writes as it is; SQLite's
    lower() folds ASCII alone, so a row holding anything else (a JSON escape, a non-ASCII
    character, which casefold() may fold to ASCII) is always let through."""
    if not isinstance(text, str) or not set(text) <= _SAFE_TEXT:
        return None
    needle = text.lower() if ignore_case else text
    if field in _ADDRESS_COLUMNS:
        columns, escaped = _ADDRESS_COLUMNS[field], "instr({0}, '\\') > 0"
    elif field in _TEXT_COLUMNS:
        columns, escaped = (field,), "length({0}) != length(CAST({0} AS BLOB))"
    else:
        return None
    found = "instr(lower({0}), ?) > 0" if ignore_case else "instr({0}, ?) > 0"
    each = f"{found} OR {escaped}" if ignore_case else found
    sql = " OR ".join(each.format(column) for column in columns)
    return Condition(sql, (needle,) * len(columns))
