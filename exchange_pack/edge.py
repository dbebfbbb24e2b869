"""Strict checks at the edge, before any network call: what the schemas' formats cannot say.

Text reaches Microsoft inside XML (EWS), MIME headers (subject, addresses), OData and URLs
(Graph). Whatever one of those cannot carry, or could be read as something else (a second
recipient, a header line), is refused here as bad input naming the field, instead of failing
deep in a backend as an internal error or being sent as something the caller did not mean.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError, InputError

MAX_DEPTH = 32  # inputs are flat: a few levels at most; deeper is an attack or a bug
# A dot-atom local part and a domain name: the RFC 5321 addr-spec a mailbox address needs.
# Quoted local parts and address literals are legal SMTP but are refused: no Exchange mailbox
# needs them and they are how "a,b"@x or "x" <y> forms slip past a naive check.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL_PART = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*\Z")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
_MAX_LOCAL, _MAX_DOMAIN, _MAX_ADDRESS = 64, 255, 254  # RFC 5321 4.5.3.1 (path 256 - "<>")
# Characters XML 1.0 cannot carry (EWS requests are XML): C0 controls but tab, LF and CR;
# U+FFFE and U+FFFF. Lone surrogates are caught before, as invalid Unicode.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("[\r\n\u2028\u2029\x85]")
# Bidirectional overrides and isolates: they make a value read differently from what it is.
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Parameters and config keys that may span lines; everything else goes into one header,
# query or URL line.
MULTILINE = frozenset({"body", "certificate_pem"})
# URL config keys that may carry credentials (a proxy's); they are scrubbed from all output.
USERINFO_ALLOWED = frozenset({"proxy_url"})


def depth_problem(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """Why a JSON value is nested too deeply (counted without recursion), or None."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return f"is nested more than {limit} levels deep"
        if isinstance(item, Mapping):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
    return None


def text_problem(text: str, multiline: bool = False) -> str | None:
    """Why text cannot go into an EWS request, a MIME header or a Graph URL, or None."""
    found = _SURROGATE.search(text)
    if found:
        return f"holds a lone surrogate (U+{ord(found.group()):04X}), which is not valid Unicode"
    found = _XML_ILLEGAL.search(text)
    if found:
        return f"holds the control character U+{ord(found.group()):04X}"
    found = None if multiline else _LINE_BREAK.search(text)
    if found:
        return f"holds a line break (U+{ord(found.group()):04X}); it must be one line"
    return None


def address_problem(address: str) -> str | None:
    """Why text is not exactly one mailbox address (RFC 5321 addr-spec, dot-atom form), or None."""
    if not address:
        return "is empty"
    if _BIDI_CONTROL.search(address):
        return "holds a bidirectional control character"
    if not address.isascii():
        return "holds non-ASCII characters (give the domain in its xn-- form)"
    if any(c in address for c in ',;<>"() \t'):
        return "is not a single email address (one address per item, no display name)"
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return "is not an email address (local-part@domain)"
    if len(address) > _MAX_ADDRESS or len(local) > _MAX_LOCAL or len(domain) > _MAX_DOMAIN:
        return "is longer than an email address may be"
    if not _LOCAL_PART.match(local):
        return "has a local part (before the @) that is not a valid dot-atom"
    if not all(_LABEL.match(label) for label in domain.split(".")):
        return "has an invalid domain (after the @)"
    return None


def url_problem(url: str, userinfo_allowed: bool = False) -> str | None:
    """Why text is not a usable http(s) URL, or None; never echoes the URL (it may hold a
    password)."""
    if any(c.isspace() for c in url):
        return "is not a URL (it holds white space)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "is not a valid URL"
    if not parts.hostname:
        return "is not a URL with a host name"
    if "@" in parts.netloc and not userinfo_allowed:
        return (
            "holds a user name or password (user:password@); credentials are never taken "
            "from this URL"
        )
    return None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Each string in a flat value with its display path (``to[0]``)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _is_address_field(prop: Mapping[str, Any]) -> bool:
    items = prop.get("items")
    return prop.get("format") == "email" or (
        isinstance(items, Mapping) and items.get("format") == "email"
    )


def _shown(text: str) -> str:
    return json.dumps(text[:80])  # ASCII-escaped: no control or bidi character reaches output


def value_problems(
    values: Mapping[str, Any], schema: Mapping[str, Any], noun: str, secret_keys: frozenset[str]
) -> list[str]:
    """Every edge problem of coerced top-level values, as sentences naming the field."""
    problem = depth_problem(values, MAX_DEPTH + 1)
    if problem:
        return [f"{noun}s {problem}"]
    properties = schema.get("properties", {})
    problems: list[str] = []
    for key, value in values.items():
        prop = properties.get(key, {})
        addresses = isinstance(prop, Mapping) and _is_address_field(prop)
        for path, text in _strings(value, key):
            issue = text_problem(text, multiline=key in MULTILINE)
            if issue is None and addresses:
                issue = address_problem(text)
            if issue is None:
                continue
            shown = "" if key in secret_keys or not addresses else f" (got {_shown(text)})"
            problems.append(f"{noun} '{path}' {issue}{shown}")
    return problems


def check_parameters(
    values: Mapping[str, Any], schema: Mapping[str, Any], secret_keys: frozenset[str], hint: str
) -> None:
    """Raises InputError (exit 64) naming each parameter that fails an edge check."""
    problems = value_problems(values, schema, "parameter", secret_keys)
    if problems:
        raise InputError("Invalid parameters: " + "; ".join(problems) + ".", hint=hint)


def check_config(
    values: Mapping[str, Any], schema: Mapping[str, Any], secret_keys: frozenset[str], hint: str
) -> None:
    """Raises ConfigError (exit 78) naming each config key that fails an edge check."""
    problems = value_problems(values, schema, "config key", secret_keys)
    properties = schema.get("properties", {})
    for key, value in values.items():
        prop = properties.get(key)
        if isinstance(value, str) and isinstance(prop, Mapping) and prop.get("format") == "uri":
            issue = url_problem(value, userinfo_allowed=key in USERINFO_ALLOWED)
            if issue:
                problems.append(f"config key '{key}' {issue}")
    ca_bundle = values.get("ca_bundle")
    if not problems and isinstance(ca_bundle, str) and values.get("verify_tls", True) is not False:
        path = Path(ca_bundle).expanduser()
        if not path.exists():  # a bundle file, or a folder of hashed certificates (c_rehash)
            problems.append(f"config key 'ca_bundle' names no file or folder ({_shown(ca_bundle)})")
    if problems:
        raise ConfigError("Invalid connection config: " + "; ".join(problems) + ".", hint=hint)


def check_document_depth(document: Any, where: str) -> None:
    """Raises InputError when a whole input document is nested too deeply."""
    problem = depth_problem(document, MAX_DEPTH + 2)
    if problem:
        raise InputError(
            f"{where} {problem}.",
            hint="Inputs are flat: strings, numbers, booleans and lists of strings.",
        )
