"""One predicate model for message queries, shared by the Graph and EWS faces.

Graph ``$filter`` (OData) and EWS ``Restriction`` (XML) are compiled by their faces into the
nodes below; Graph ``$search`` (KQL) and EWS ``QueryString`` (AQS) share a syntax and are
parsed by ``kql.parse_kql``. ``matches`` evaluates a predicate against a store ``Message``.

Nodes (frozen dataclasses; build them directly):

- ``TrueP()`` — matches everything (an absent filter).
- ``Eq(field, value, ignore_case=True)`` — equality. ``value`` is ``str``, ``bool``, ``int`` or
  an aware ``datetime`` depending on the field.
- ``Contains(field, text, ignore_case=True)`` — substring (Graph ``contains()``, EWS
  ``Contains ContainmentMode="Substring"``).
- ``StartsWith(field, text, ignore_case=True)`` — prefix (Graph ``startswith()``, EWS
  ``ContainmentMode="Prefixed"``).
- ``Compare(field, op, value)`` — ``op`` one of ``"eq" "ne" "lt" "le" "gt" "ge"``; for dates
  (aware ``datetime``), ``size`` and strings.
- ``Exists(field)`` — the field has a value (EWS ``Exists``).
- ``FreeText(text)`` — KQL/AQS free text: the words of ``text`` start consecutive words of the
  subject, the body text, a sender/recipient address or name, or an attachment name
  (``words.match``: Exchange's content index matches word prefixes, not substrings).
- ``Words(field, text)`` — KQL/AQS ``property:text``, the same word-prefix match on one field.
- ``And(items)``, ``Or(items)`` (tuples of predicates), ``Not(item)``.

Field names (the ``Message`` attribute names, plus derived ones):

- text: ``subject``, ``body`` (HTML bodies are matched on their text), ``body_preview``,
  ``internet_message_id``, ``conversation_id``, ``importance`` (``low|normal|high``),
  ``in_reply_to``, ``folder_id``, ``id``, ``body_type``;
- addresses (matched on each address AND each display name; a predicate holds when it holds
  for any of them): ``from``, ``sender``, ``to``, ``cc``, ``bcc``, ``reply_to``,
  ``recipients`` (to + cc + bcc), ``participants`` (from + sender + recipients);
- lists (a predicate holds when it holds for any element): ``categories``,
  ``attachment_names``;
- booleans: ``is_read``, ``is_draft``, ``has_attachments``;
- dates: ``received_at``, ``sent_at``, ``created_at``, ``modified_at``;
- integer: ``size``.

KQL/AQS accepted by ``kql.parse_kql``: free text and ``"quoted phrases"`` (``FreeText``; a
trailing ``*`` is dropped; single quotes are punctuation, as to Exchange's word breaker),
``from: to: cc: bcc: participants: recipients: subject: body: attachment: attachments:
attachmentnames: category:`` (``Words``), ``hasattachment(s):`` and ``isread:``
true/false/yes/no, ``importance:``, ``kind:`` (ignored), ``size`` in bytes (``size:1..500000``,
``size>1000``), ``received``/``sent`` with ``:`` ``=`` ``<`` ``<=`` ``>`` ``>=`` ``<>`` or a
``a..b`` range (dates ``YYYY-MM-DD``,
``M/D/YYYY``, ISO 8601 instants, ``today``, ``yesterday``; a bare day means that whole UTC
day), ``AND``/``OR``/``NOT`` (also ``-term``), parentheses, AQS value groups
``subject:(a OR b)``. Adjacent terms are ANDed; NOT binds tighter than AND, AND than OR. An
unknown ``name:value`` is free text (as Graph does). A ``$search`` value wrapped whole in
quotes that holds properties or operators is parsed inside the quotes.

``QueryError(message)`` is raised for malformed KQL/AQS and for unknown fields or operators;
the faces map it to their own error (Graph 400 ``BadRequest``, EWS ``ErrorInvalidRestriction``
or ``ErrorInvalidArgument``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Union

from . import words
from .mime import html_to_text

if TYPE_CHECKING:
    from .store import Address, Message

CompareOp = Literal["eq", "ne", "lt", "le", "gt", "ge"]

TEXT_FIELDS = frozenset(
    {
        "subject",
        "body",
        "body_preview",
        "internet_message_id",
        "conversation_id",
        "importance",
        "in_reply_to",
        "folder_id",
        "id",
        "body_type",
    }
)
ADDRESS_FIELDS = frozenset(
    {"from", "sender", "to", "cc", "bcc", "reply_to", "recipients", "participants"}
)
LIST_FIELDS = frozenset({"categories", "attachment_names"})
BOOL_FIELDS = frozenset({"is_read", "is_draft", "has_attachments"})
DATE_FIELDS = frozenset({"received_at", "sent_at", "created_at", "modified_at"})
INT_FIELDS = frozenset({"size"})
FIELDS = TEXT_FIELDS | ADDRESS_FIELDS | LIST_FIELDS | BOOL_FIELDS | DATE_FIELDS | INT_FIELDS


class QueryError(ValueError):
    """A malformed query, unknown field or unsupported operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TrueP:
    """Matches every message."""


@dataclass(frozen=True)
class _OnField:
    """A predicate on one known message field."""

    field: str

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise QueryError(f"unknown field {self.field!r}")


@dataclass(frozen=True)
class Eq(_OnField):
    """``field`` equals ``value``."""

    value: Any
    ignore_case: bool = True


@dataclass(frozen=True)
class _TextMatch(_OnField):
    """``field`` matches ``text`` (how, the subclass says)."""

    text: str
    ignore_case: bool = True


@dataclass(frozen=True)
class Contains(_TextMatch):
    """``field`` contains ``text``."""


@dataclass(frozen=True)
class StartsWith(_TextMatch):
    """``field`` starts with ``text``."""


@dataclass(frozen=True)
class Compare(_OnField):
    """``field`` <op> ``value`` (dates, size, strings)."""

    op: CompareOp
    value: Any

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.op not in ("eq", "ne", "lt", "le", "gt", "ge"):
            raise QueryError(f"unknown comparison operator {self.op!r}")


@dataclass(frozen=True)
class Exists(_OnField):
    """``field`` has a (non-empty) value."""


@dataclass(frozen=True)
class FreeText:
    """KQL/AQS free text over subject, body, addresses and attachment names (word prefixes)."""

    text: str


@dataclass(frozen=True)
class Words(_OnField):
    """KQL/AQS ``property:text``: the words of ``text`` start consecutive words of the field."""

    text: str


@dataclass(frozen=True)
class And:
    """Every item matches."""

    items: tuple[Predicate, ...]


@dataclass(frozen=True)
class Or:
    """At least one item matches."""

    items: tuple[Predicate, ...]


@dataclass(frozen=True)
class Not:
    """The item does not match."""

    item: Predicate


Predicate = Union[  # noqa: UP007
    TrueP, Eq, Contains, StartsWith, Compare, Exists, FreeText, Words, And, Or, Not
]

AttachmentNames = Callable[[str], Iterable[str]]


# -- evaluation --------------------------------------------------------------------------------


class _Subject:
    """A message with its derived values computed at most once per evaluation."""

    def __init__(self, message: Message, attachment_names: AttachmentNames | None) -> None:
        self.message = message
        self._lookup = attachment_names
        self._cache: dict[str, Any] = {}

    def _addresses(self, *names: str) -> list[Address]:
        m = self.message
        found: list[Address] = []
        for name in names:
            if name in ("from", "sender"):
                one = m.from_ if name == "from" else m.sender
                found.extend([one] if one else [])
            else:
                found.extend(getattr(m, name))
        return found

    def strings(self, field: str) -> list[str]:
        """Every string the field offers for text predicates."""
        if field in self._cache:
            return self._cache[field]
        m = self.message
        values: list[str]
        if field in ADDRESS_FIELDS:
            groups = {
                "recipients": ("to", "cc", "bcc"),
                "participants": ("from", "sender", "to", "cc", "bcc"),
            }.get(field, (field,))
            values = []
            for address in self._addresses(*groups):
                values.extend(v for v in (address.address, address.name) if v)
        elif field == "attachment_names":
            names = self._lookup(m.id) if self._lookup and m.has_attachments else ()
            values = list(names)
        elif field == "categories":
            values = list(m.categories)
        elif field == "body":
            values = [html_to_text(m.body) if m.body_type == "html" else m.body]
        else:
            value = getattr(m, field)
            values = [] if value is None else [str(value)]
        self._cache[field] = values
        return values

    def scalar(self, field: str) -> Any:
        """The field's single value for comparisons (None when absent)."""
        if field in BOOL_FIELDS or field in DATE_FIELDS or field in INT_FIELDS:
            return getattr(self.message, field)
        values = self.strings(field)
        return values[0] if values else None


def _fold(text: str, ignore_case: bool) -> str:
    return text.casefold() if ignore_case else text


_FREE_TEXT_FIELDS = ("subject", "body", "participants", "attachment_names")


def _compare(left: Any, op: CompareOp, right: Any) -> bool:
    if left is None or right is None:
        return op == "ne" and left is not right
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.casefold(), right.casefold()
    try:
        return {
            "eq": left == right,
            "ne": left != right,
            "lt": left < right,
            "le": left <= right,
            "gt": left > right,
            "ge": left >= right,
        }[op]
    except TypeError as exc:
        raise QueryError(f"cannot compare {type(left).__name__} with {right!r}") from exc


def _eval(pred: Predicate, subject: _Subject) -> bool:
    if isinstance(pred, TrueP):
        return True
    if isinstance(pred, And):
        return all(_eval(item, subject) for item in pred.items)
    if isinstance(pred, Or):
        return any(_eval(item, subject) for item in pred.items)
    if isinstance(pred, Not):
        return not _eval(pred.item, subject)
    if isinstance(pred, FreeText):
        return any(
            words.match(pred.text, value)
            for field in _FREE_TEXT_FIELDS
            for value in subject.strings(field)
        )
    if isinstance(pred, Words):
        return any(words.match(pred.text, value) for value in subject.strings(pred.field))
    if isinstance(pred, Exists):
        if pred.field in BOOL_FIELDS | DATE_FIELDS | INT_FIELDS:
            return subject.scalar(pred.field) is not None
        return any(subject.strings(pred.field))
    if isinstance(pred, Compare):
        return _compare(subject.scalar(pred.field), pred.op, pred.value)
    if isinstance(pred, Eq):
        if isinstance(pred.value, str) and pred.field not in DATE_FIELDS | INT_FIELDS:
            wanted = _fold(pred.value, pred.ignore_case)
            return any(_fold(v, pred.ignore_case) == wanted for v in subject.strings(pred.field))
        return _compare(subject.scalar(pred.field), "eq", pred.value)
    if isinstance(pred, Contains):
        wanted = _fold(pred.text, pred.ignore_case)
        return any(wanted in _fold(v, pred.ignore_case) for v in subject.strings(pred.field))
    if isinstance(pred, StartsWith):
        wanted = _fold(pred.text, pred.ignore_case)
        return any(
            _fold(v, pred.ignore_case).startswith(wanted) for v in subject.strings(pred.field)
        )
    raise QueryError(f"unsupported predicate {type(pred).__name__}")


def matches(
    pred: Predicate, message: Message, attachments_lookup: AttachmentNames | None = None
) -> bool:
    """True when ``message`` satisfies ``pred``; ``attachments_lookup(message_id)`` gives
    attachment names and is only called when the predicate needs them."""
    return _eval(pred, _Subject(message, attachments_lookup))


def conjoin(*preds: Predicate) -> Predicate:
    """``And`` of the predicates, dropping ``TrueP`` (TrueP when nothing is left)."""
    items = tuple(p for p in preds if not isinstance(p, TrueP))
    if not items:
        return TrueP()
    return items[0] if len(items) == 1 else And(items)


def filter_messages(
    pred: Predicate, messages: Sequence[Message], attachments_lookup: AttachmentNames | None
) -> list[Message]:
    """The messages that match, in their given order."""
    return [m for m in messages if matches(pred, m, attachments_lookup)]
