"""KQL (Graph ``$search``) and AQS (EWS ``QueryString``), parsed to query.py's predicates.

The accepted syntax is described in query.py's module docstring.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .query import (
    And,
    Compare,
    Eq,
    FreeText,
    Not,
    Or,
    Predicate,
    QueryError,
    TrueP,
    Words,
)

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


def _size_predicate(op: str, text: str) -> Predicate:
    """``size:1..500000`` (bytes, both ends included) or ``size>=1000`` and the like."""
    try:
        if ".." in text and op in ("", "="):
            low, _, high = text.partition("..")
            return And((Compare("size", "ge", int(low)), Compare("size", "le", int(high))))
        value = int(text)
    except ValueError:
        raise QueryError(f"size: expects a number of bytes, not {text!r}") from None
    ops = {"": "eq", "=": "eq", "<>": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
    return Compare("size", ops[op], value)  # type: ignore[arg-type]


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
    if prop == "size":
        return _size_predicate(op, value)
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
        return Words(_TEXT_PROPERTIES[prop], value.rstrip("*"))
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
