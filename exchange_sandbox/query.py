"""One predicate model for message queries, shared by the Graph and EWS faces.

Graph ``$filter`` (OData) and EWS ``Restriction`` (XML) are compiled by their faces into the
nodes below; Graph ``$search`` (KQL) and EWS ``QueryString`` (AQS) share a syntax and are
parsed here by ``parse_kql``. ``matches`` evaluates a predicate against a store ``Message``.

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
- ``FreeText(text)`` — KQL/AQS free text: a case-insensitive substring of the subject, the
  body text, any sender/recipient address or name, or an attachment name.
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

KQL/AQS accepted by ``parse_kql``: free text and ``"quoted phrases"`` (``FreeText``; a trailing
``*`` is dropped), ``from: to: cc: bcc: participants: recipients: subject: body:
attachment: attachments: attachmentnames: category:`` (``Contains``), ``hasattachment(s):``
and ``isread:`` true/false/yes/no, ``importance:``, ``kind:`` (ignored), ``received``/``sent``
with ``:`` ``=`` ``<`` ``<=`` ``>`` ``>=`` ``<>`` or a ``a..b`` range (dates ``YYYY-MM-DD``,
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

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Union

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
    """KQL/AQS free text over subject, body, addresses and attachment names."""

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


Predicate = Union[TrueP, Eq, Contains, StartsWith, Compare, Exists, FreeText, And, Or, Not]  # noqa: UP007

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
        needle = pred.text.casefold()
        return any(
            needle in value.casefold()
            for field in _FREE_TEXT_FIELDS
            for value in subject.strings(field)
        )
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


# -- KQL / AQS ---------------------------------------------------------------------------------

# Property name (lower case) -> how its value becomes a predicate.
_TEXT_PROPERTIES: dict[str, str] = {
    "from": "from",
    "sender": "sender",
    "to": "to",
    "cc": "cc",
    "bcc": "bcc",
    "participants": "participants",
    "recipients": "recipients",
    "subject": "subject",
    "body": "body",
    "attachment": "attachment_names",
    "attachments": "attachment_names",
    "attachmentnames": "attachment_names",
    "category": "categories",
    "categories": "categories",
}
_BOOL_PROPERTIES = {
    "hasattachment": "has_attachments",
    "hasattachments": "has_attachments",
    "isread": "is_read",
}
_DATE_PROPERTIES = {"received": "received_at", "sent": "sent_at"}
_TRUE_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<lparen>\() | (?P<rparen>\)) |
      (?P<prop>[A-Za-z]+)\s*(?P<op>:\s*(?:>=|<=|<>|>|<|=)?|>=|<=|<>|>|<|=)\s*
          (?P<pvalue>"[^"]*"?|[^\s()"]+)? |
      (?P<quoted>[-+]?"[^"]*"?) |
      (?P<word>[^\s()"]+)
    )""",
    re.VERBOSE,
)


@dataclass
class _Token:
    kind: str  # "(" ")" "AND" "OR" "NOT" "term"
    pred: Predicate | None = None


def _unquote(value: str) -> str:
    if value.startswith('"'):
        if len(value) < 2 or not value.endswith('"'):
            raise QueryError("unterminated quoted phrase")
        return value[1:-1]
    return value


def _parse_date(text: str, now: dt.datetime) -> tuple[dt.datetime, bool]:
    """(instant, whole_day) for a KQL/AQS date value."""
    word = text.strip().lower()
    today = now.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if word == "today":
        return today, True
    if word == "yesterday":
        return today - dt.timedelta(days=1), True
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(word, fmt).replace(tzinfo=dt.timezone.utc), True
        except ValueError:
            pass
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"invalid date {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value, False


def _date_predicate(field: str, op: str, text: str, now: dt.datetime) -> Predicate:
    if ".." in text and op in ("", "="):
        low, _, high = text.partition("..")
        start, _ = _parse_date(low, now)
        end, whole = _parse_date(high, now)
        return And(
            (
                Compare(field, "ge", start),
                Compare(field, "lt", end + dt.timedelta(days=1) if whole else end),
            )
        )
    value, whole = _parse_date(text, now)
    if not whole:
        ops = {"": "eq", "=": "eq", "<>": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
        return Compare(field, ops[op], value)  # type: ignore[arg-type]
    next_day = value + dt.timedelta(days=1)
    if op in ("", "="):
        return And((Compare(field, "ge", value), Compare(field, "lt", next_day)))
    if op == "<>":
        return Or((Compare(field, "lt", value), Compare(field, "ge", next_day)))
    return {
        "<": Compare(field, "lt", value),
        "<=": Compare(field, "lt", next_day),
        ">": Compare(field, "ge", next_day),
        ">=": Compare(field, "ge", value),
    }[op]


def _property_predicate(name: str, op: str, raw: str, now: dt.datetime) -> Predicate | None:
    """The predicate for ``name<op>raw``; None when ``name`` is not a known property."""
    prop = name.lower()
    value = _unquote(raw).strip()
    if prop == "kind":
        return TrueP()  # kind:email — everything the sandbox stores is mail
    if prop in _DATE_PROPERTIES:
        if not value:
            raise QueryError(f"{name}: needs a date")
        return _date_predicate(_DATE_PROPERTIES[prop], op, value, now)
    if op not in ("", "="):
        if prop in _TEXT_PROPERTIES or prop in _BOOL_PROPERTIES:
            raise QueryError(f"operator {op} is not valid for {name}")
        return None
    if prop in _BOOL_PROPERTIES:
        if value.lower() not in _TRUE_WORDS:
            raise QueryError(f"{name}: expects true or false")
        return Eq(_BOOL_PROPERTIES[prop], _TRUE_WORDS[value.lower()])
    if prop == "importance":
        return Eq("importance", value.lower())
    if prop in _TEXT_PROPERTIES:
        if not value:
            raise QueryError(f"{name}: needs a value")
        return Contains(_TEXT_PROPERTIES[prop], value.rstrip("*"))
    return None


def _closing_paren(text: str, start: int) -> int:
    depth, quoted = 0, False
    for index in range(start, len(text)):
        char = text[index]
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise QueryError("missing closing parenthesis")


def _scoped(pred: Predicate, prop: str, now: dt.datetime) -> Predicate:
    """Applies a property to the free-text terms of a value group."""
    if isinstance(pred, FreeText):
        scoped = _property_predicate(prop, "", pred.text, now)
        if scoped is None:
            raise QueryError(f"unknown property {prop!r}")
        return scoped
    if isinstance(pred, (And, Or)):
        return type(pred)(tuple(_scoped(item, prop, now) for item in pred.items))
    if isinstance(pred, Not):
        return Not(_scoped(pred.item, prop, now))
    return pred


def _tokenize(text: str, now: dt.datetime) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        found = _TOKEN.match(text, pos)
        if found is None or found.end() == pos:
            raise QueryError(f"unexpected character at position {pos}")
        pos = found.end()
        if found["lparen"]:
            tokens.append(_Token("("))
        elif found["rparen"]:
            tokens.append(_Token(")"))
        elif found["prop"]:
            op = found["op"].replace(":", "").strip()
            raw = found["pvalue"] or ""
            if not raw and not op and text[pos:].lstrip().startswith("("):
                # AQS value group: subject:(invoice OR payment)
                start = text.index("(", pos)
                end = _closing_paren(text, start)
                inner = _Parser(_tokenize(text[start + 1 : end], now)).parse()
                tokens.append(_Token("term", _scoped(inner, found["prop"], now)))
                pos = end + 1
                continue
            pred = _property_predicate(found["prop"], op, raw, now)
            if pred is None:  # not a property we know: Graph treats it as free text
                pred = FreeText(found.group(0).strip())
            tokens.append(_Token("term", pred))
        else:
            raw = found["quoted"] or found["word"]
            negate = raw[0] == "-" and len(raw) > 1
            if raw[0] in "-+" and len(raw) > 1:
                raw = raw[1:]
            if raw in ("AND", "OR", "NOT", "&&", "||"):
                tokens.append(_Token({"&&": "AND", "||": "OR"}.get(raw, raw)))
                continue
            phrase = _unquote(raw).rstrip("*") if raw.startswith('"') else raw.rstrip("*")
            if not phrase.strip():
                raise QueryError("empty search term")
            term: Predicate = FreeText(phrase)
            tokens.append(_Token("term", Not(term) if negate else term))
    return tokens


class _Parser:
    """Recursive descent: or := and ("OR" and)*; and := unary (["AND"] unary)*;
    unary := "NOT" unary | "(" or ")" | term."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos].kind if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Predicate:
        pred = self.or_()
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek()!r}")
        return pred

    def or_(self) -> Predicate:
        items = [self.and_()]
        while self.peek() == "OR":
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Predicate:
        items = [self.unary()]
        while self.peek() in ("AND", "NOT", "(", "term"):
            if self.peek() == "AND":
                self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Predicate:
        kind = self.peek()
        if kind is None:
            raise QueryError("query ends where a term was expected")
        token = self.take()
        if kind == "NOT":
            return Not(self.unary())
        if kind == "(":
            inner = self.or_()
            if self.peek() != ")":
                raise QueryError("missing closing parenthesis")
            self.take()
            return inner
        if kind == "term" and token.pred is not None:
            return token.pred
        raise QueryError(f"unexpected {kind!r}")


def parse_kql(text: str, now: dt.datetime | None = None) -> Predicate:
    """Parses Graph ``$search`` (KQL) or EWS ``QueryString`` (AQS) into a predicate."""
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] == '"' and '"' not in stripped[1:-1]:
        # Graph wants $search="..." quoted as a whole; the quotes are not a phrase marker then
        # when the inner text holds its own operators or properties.
        inner = stripped[1:-1]
        if re.search(r"[:()]|\b(AND|OR|NOT)\b", inner):
            stripped = inner
    if not stripped:
        raise QueryError("empty search query")
    tokens = _tokenize(stripped, now or dt.datetime.now(dt.timezone.utc))
    if not tokens:
        raise QueryError("empty search query")
    return _Parser(tokens).parse()


def filter_messages(
    pred: Predicate, messages: Sequence[Message], attachments_lookup: AttachmentNames | None
) -> list[Message]:
    """The messages that match, in their given order."""
    return [m for m in messages if matches(pred, m, attachments_lookup)]
