"""OData system query options as Graph reads them: ``$filter`` (parsed to a small expression
tree), ``$select``, ``$top``, ``$skip``, ``$skiptoken``, ``$count``, ``$orderby``, ``$search``,
``$expand``, and the ``@odata.nextLink`` that pages through a collection.

The expression tree is entity-neutral; ``message_query`` compiles it to the store's query AST
for mail, and ``evaluate`` runs it over plain property maps (users, contacts).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from ..web import Request
from .errors import GraphError, bad_request, invalid_filter, invalid_query

T = TypeVar("T")

MAX_TOP = 1000


# -- $filter expression tree -------------------------------------------------------------------
@dataclass(frozen=True)
class Prop:
    """A property path such as ``from/emailAddress/address`` (lambda-relative inside ``any``)."""

    path: str


@dataclass(frozen=True)
class Literal:
    """A literal: str, bool, int, float, None or an aware datetime."""

    value: Any


@dataclass(frozen=True)
class Compare:
    """``prop <op> value`` with op one of eq ne gt ge lt le."""

    op: str
    prop: Prop
    value: Literal


@dataclass(frozen=True)
class Function:
    """``startswith``/``contains``/``endswith(prop, value)``."""

    name: str
    prop: Prop
    value: Literal


@dataclass(frozen=True)
class In:
    """``prop in (v1, v2, ...)``."""

    prop: Prop
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class And:
    """Both sides hold."""

    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or:
    """Either side holds."""

    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not:
    """The operand does not hold."""

    operand: Expr


@dataclass(frozen=True)
class AnyOf:
    """``collection/any(v: predicate)``; the predicate's props are relative to one element."""

    collection: str
    predicate: Expr


Expr = Compare | Function | In | And | Or | Not | AnyOf

_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCTIONS = {"startswith", "contains", "endswith"}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<datetime>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_@][\w.@]*(?:/[A-Za-z_][\w.]*)*)
      | (?P<punct>[(),:/])
    )""",
    re.VERBOSE,
)


@dataclass
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise invalid_filter(f"Syntax error at position {pos} in '{text}'.")
        kind = m.lastgroup or "punct"
        tokens.append(_Token(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return tokens


def _parse_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


class _FilterParser:
    """Recursive descent: or < and < not < primary, as OData's operator precedence."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def fail(self, what: str) -> GraphError:
        pos = self.tokens[self.i].pos if self.i < len(self.tokens) else len(self.text)
        return invalid_filter(f"{what} at position {pos} in '{self.text}'.")

    def peek(self, offset: int = 0) -> _Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def keyword(self, *words: str) -> str | None:
        tok = self.peek()
        if tok and tok.kind == "name" and tok.text.lower() in words:
            self.i += 1
            return tok.text.lower()
        return None

    def expect(self, text: str) -> None:
        tok = self.peek()
        if not tok or tok.text != text:
            raise self.fail(f"Syntax error: expected '{text}'")
        self.i += 1

    def parse(self) -> Expr:
        if not self.tokens:
            raise invalid_filter("The filter expression is empty.")
        expr = self.parse_or()
        if self.peek() is not None:
            raise self.fail("Syntax error")
        return expr

    def parse_or(self) -> Expr:
        left = self.parse_and()
        while self.keyword("or"):
            left = Or(left, self.parse_and())
        return left

    def parse_and(self) -> Expr:
        left = self.parse_not()
        while self.keyword("and"):
            left = And(left, self.parse_not())
        return left

    def parse_not(self) -> Expr:
        if self.keyword("not"):
            return Not(self.parse_not())
        return self.parse_primary()

    def parse_primary(self) -> Expr:
        tok = self.peek()
        if tok is None:
            raise self.fail("Syntax error: unexpected end of expression")
        if tok.text == "(":
            self.i += 1
            expr = self.parse_or()
            self.expect(")")
            return expr
        if tok.kind != "name":
            raise self.fail("Syntax error")
        nxt = self.peek(1)
        if tok.text.lower() in _FUNCTIONS and nxt and nxt.text == "(":
            return self.parse_function()
        if tok.text.lower().endswith("/any") and nxt and nxt.text == "(":
            return self.parse_any()
        self.i += 1
        prop = Prop(tok.text)
        op = self.keyword(*_COMPARISONS, "in")
        if op is None:
            raise self.fail("Syntax error: expected a comparison operator")
        if op == "in":
            return In(prop, self.parse_list())
        return Compare(op, prop, self.parse_literal())

    def parse_any(self) -> Expr:
        collection = self.tokens[self.i].text[: -len("/any")]
        self.i += 1
        self.expect("(")
        var_tok = self.peek()
        if not var_tok or var_tok.kind != "name":
            raise self.fail("Syntax error: expected a lambda variable")
        self.i += 1
        self.expect(":")
        predicate = _relative(self.parse_or(), var_tok.text)
        self.expect(")")
        return AnyOf(collection, predicate)

    def parse_function(self) -> Expr:
        name = self.tokens[self.i].text.lower()
        self.i += 1
        self.expect("(")
        tok = self.peek()
        if not tok or tok.kind != "name":
            raise self.fail(f"Syntax error: {name} expects a property")
        self.i += 1
        self.expect(",")
        value = self.parse_literal()
        self.expect(")")
        if not isinstance(value.value, str):
            raise self.fail(f"{name} expects a string literal")
        # ``startswith(subject,'x') eq true`` is the long form of the same predicate.
        if self.keyword("eq"):
            flag = self.parse_literal()
            if flag.value is False:
                return Not(Function(name, Prop(tok.text), value))
        return Function(name, Prop(tok.text), value)

    def parse_list(self) -> tuple[Literal, ...]:
        self.expect("(")
        values = [self.parse_literal()]
        while self.peek() and self.peek().text == ",":  # type: ignore[union-attr]
            self.i += 1
            values.append(self.parse_literal())
        self.expect(")")
        return tuple(values)

    def parse_literal(self) -> Literal:
        tok = self.peek()
        if tok is None:
            raise self.fail("Syntax error: expected a literal")
        self.i += 1
        if tok.kind == "string":
            return Literal(tok.text[1:-1].replace("''", "'"))
        if tok.kind == "datetime":
            try:
                return Literal(_parse_datetime(tok.text))
            except ValueError:
                raise self.fail("The DateTimeOffset text is not valid") from None
        if tok.kind == "number":
            return Literal(float(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "name" and tok.text.lower() in ("true", "false"):
            return Literal(tok.text.lower() == "true")
        if tok.kind == "name" and tok.text.lower() == "null":
            return Literal(None)
        if (
            tok.kind == "name" and "." in tok.text
        ):  # enum member, e.g. microsoft.graph.importance'high'
            return Literal(tok.text)
        self.i -= 1
        raise self.fail("Syntax error: expected a literal")


def _relative(expr: Expr, var: str) -> Expr:
    """Rewrites ``r/emailAddress/address`` inside a lambda to ``emailAddress/address``."""

    def prop(p: Prop) -> Prop:
        if p.path == var:
            return Prop("")
        if p.path.startswith(var + "/"):
            return Prop(p.path[len(var) + 1 :])
        raise invalid_filter(f"Property '{p.path}' is not reachable from lambda variable '{var}'.")

    if isinstance(expr, Compare):
        return Compare(expr.op, prop(expr.prop), expr.value)
    if isinstance(expr, Function):
        return Function(expr.name, prop(expr.prop), expr.value)
    if isinstance(expr, In):
        return In(prop(expr.prop), expr.values)
    if isinstance(expr, And):
        return And(_relative(expr.left, var), _relative(expr.right, var))
    if isinstance(expr, Or):
        return Or(_relative(expr.left, var), _relative(expr.right, var))
    if isinstance(expr, Not):
        return Not(_relative(expr.operand, var))
    raise invalid_filter("Nested lambda expressions are not supported.")


@functools.lru_cache(maxsize=256)  # a fan-out sends one $filter to every mailbox; Expr is frozen
def parse_filter(text: str) -> Expr:
    """Parses an OData ``$filter`` value; raises GraphError 400 "Invalid filter clause"."""
    return _FilterParser(text).parse()


def props_of(expr: Expr) -> list[str]:
    """Property paths an expression reads, in order of appearance."""
    if isinstance(expr, Compare | Function | In):
        return [expr.prop.path]
    if isinstance(expr, And | Or):
        return props_of(expr.left) + props_of(expr.right)
    if isinstance(expr, Not):
        return props_of(expr.operand)
    return [expr.collection]


def evaluate(expr: Expr, lookup: Callable[[str], Any]) -> bool:
    """Evaluates a filter over one entity; ``lookup(path)`` gives a property value."""
    if isinstance(expr, And):
        return evaluate(expr.left, lookup) and evaluate(expr.right, lookup)
    if isinstance(expr, Or):
        return evaluate(expr.left, lookup) or evaluate(expr.right, lookup)
    if isinstance(expr, Not):
        return not evaluate(expr.operand, lookup)
    if isinstance(expr, AnyOf):
        items = lookup(expr.collection) or []
        return any(evaluate(expr.predicate, _element_lookup(item)) for item in items)
    actual = lookup(expr.prop.path)
    if isinstance(expr, In):
        return any(_equal(actual, v.value) for v in expr.values)
    if isinstance(expr, Function):
        text = str(actual or "").lower()
        needle = str(expr.value.value).lower()
        return {
            "startswith": text.startswith,
            "endswith": text.endswith,
            "contains": lambda n: n in text,
        }[expr.name](needle)
    return _compare(expr.op, actual, expr.value.value)


def _element_lookup(item: Any) -> Callable[[str], Any]:
    def lookup(path: str) -> Any:
        value = item
        for part in [p for p in path.split("/") if p]:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return lookup


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.lower() == expected.lower()
    return actual == expected


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "eq":
        return _equal(actual, expected)
    if op == "ne":
        return not _equal(actual, expected)
    if actual is None or expected is None:
        return False
    if isinstance(actual, str) and isinstance(expected, str):
        actual, expected = actual.lower(), expected.lower()
    try:
        return {
            "gt": actual > expected,
            "ge": actual >= expected,
            "lt": actual < expected,
            "le": actual <= expected,
        }[op]
    except TypeError:
        raise invalid_filter(f"Cannot compare with the literal '{expected}'.") from None


# -- the other query options ------------------------------------------------------------------
@dataclass
class QueryOptions:
    """The system query options of one request, validated where they are type-neutral."""

    top: int | None = None
    skip: int = 0
    count: bool = False
    select: list[str] | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    search: str | None = None
    filter: Expr | None = None
    expand: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, request: Request) -> QueryOptions:
        """Reads ``$top/$skip/$skiptoken/$count/$select/$orderby/$search/$filter/$expand``."""
        q = request.query
        options = cls()
        if "$top" in q:
            options.top = _integer(q["$top"], "$top")
            if not 1 <= options.top <= MAX_TOP:
                raise invalid_query(
                    f"The value '{q['$top']}' of the query parameter '$top' is out of range; "
                    f"it must be between 1 and {MAX_TOP}."
                )
        if "$skip" in q:
            options.skip = _integer(q["$skip"], "$skip")
            if options.skip < 0:
                raise invalid_query("The query parameter '$skip' must not be negative.")
        if "$skiptoken" in q:
            options.skip = decode_skiptoken(q["$skiptoken"])
        if "$count" in q:
            if q["$count"].lower() not in ("true", "false"):
                raise bad_request(f"Invalid value '{q['$count']}' for the query option '$count'.")
            options.count = q["$count"].lower() == "true"
        if q.get("$select"):
            options.select = split_top_level(q["$select"])
        if q.get("$orderby"):
            options.orderby = [_order_term(t) for t in q["$orderby"].split(",") if t.strip()]
        if q.get("$expand"):
            options.expand = split_top_level(q["$expand"])
        if "$search" in q:
            options.search = q["$search"]
        if q.get("$filter", "").strip():
            options.filter = parse_filter(q["$filter"])
        return options


def split_top_level(text: str) -> list[str]:
    """Comma-separated items, ignoring commas inside parentheses (``a($select=x,y),b``)."""
    return list(_split_top_level(text))


@functools.lru_cache(maxsize=1024)
def _split_top_level(text: str) -> tuple[str, ...]:
    if "(" not in text and ")" not in text:
        return tuple(item.strip() for item in text.split(",") if item.strip())
    items: list[str] = []
    depth, current = 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    items.append(current.strip())
    return tuple(item for item in items if item)


@dataclass(frozen=True)
class Expansion:
    """One ``$expand`` item: a navigation property and its nested ``$select``."""

    name: str
    select: list[str] | None
    filter: Expr | None = None


def parse_expansion(item: str) -> Expansion:
    """``attachments($select=name,size)`` -> Expansion("attachments", ["name", "size"]);
    nested ``$filter`` is parsed too (``singleValueExtendedProperties($filter=id eq '...')``)."""
    name, _, nested = item.partition("(")
    select: list[str] | None = None
    condition: Expr | None = None
    if nested:
        if not nested.endswith(")"):
            raise bad_request(f"Parsing OData Select and Expand failed: '{item}'.")
        for option in nested[:-1].split(";"):
            key, _, value = option.partition("=")
            if key.strip().lower() == "$select":
                select = split_top_level(value)
            elif key.strip().lower() == "$filter":
                condition = parse_filter(value)
            else:
                raise bad_request(f"Query option '{key.strip()}' is not supported in $expand.")
    return Expansion(name.strip(), select, condition)


def _integer(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise bad_request(f"Invalid value '{text}' for the query option '{name}'.") from None


def _order_term(term: str) -> tuple[str, bool]:
    parts = term.split()
    if len(parts) == 1 or (len(parts) == 2 and parts[1].lower() in ("asc", "desc")):
        return parts[0], len(parts) == 2 and parts[1].lower() == "desc"
    raise bad_request(f"Syntax error in '$orderby': '{term}'.")


def encode_skiptoken(offset: int) -> str:
    """An opaque ``$skiptoken`` naming a position in the collection."""
    return base64.urlsafe_b64encode(f"MSZ{offset}".encode()).decode("ascii").rstrip("=")


def decode_skiptoken(token: str) -> int:
    """The position a ``$skiptoken`` of ours names; 400 when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        if raw.startswith("MSZ"):
            return int(raw[3:])
    except (binascii.Error, ValueError, UnicodeDecodeError):
        pass
    raise bad_request("The $skiptoken value is invalid.")


@dataclass
class Page:
    """One page of a collection: the items and, when more remain, the next position."""

    items: list[Any]
    next_offset: int | None
    total: int


def paginate(items: Sequence[T], options: QueryOptions, default_top: int) -> Page:
    """The page ``$skip``/``$skiptoken``+``$top`` select, with the position of the next one."""
    top = options.top or default_top
    start = options.skip
    chunk = list(items[start : start + top])
    nxt = start + top if start + top < len(items) else None
    return Page(chunk, nxt, len(items))


def base_url(request: Request) -> str:
    """This server's origin as the client addressed it (``https://host:port``)."""
    return f"https://{request.headers.get('Host', '127.0.0.1')}"


# A query value keeps only the characters that mean nothing to a form decoder: ``+`` (read as
# a space), ``&``, ``=`` and ``#`` are percent-encoded, as Graph writes its links.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_VALUE_SAFE = "/:@!$'()*,;-._~"


def next_link(request: Request, offset: int) -> str:
    """An absolute ``@odata.nextLink`` on this server: the same query, the next ``$skiptoken``."""
    pairs = [
        f"{quote(k, safe='$')}={quote(v, safe=_VALUE_SAFE)}"
        for k, v in sorted(request.query.items())
        if k not in ("$skip", "$skiptoken")
    ]
    pairs.append(f"$skiptoken={encode_skiptoken(offset)}")
    return f"{base_url(request)}{quote(request.path, safe=_PATH_SAFE)}?{'&'.join(pairs)}"
