"""The exact form of SearchCriteria, checked by both backends on the messages a server returned.

A server query can be fuzzier than the filters (EWS AQS, Graph ``$search``), and Graph refuses
``$search`` together with ``$filter``; so each backend checks the filters here on the found
messages, and none is silently dropped. Only the free-text ``query`` is the server's word alone;
``body`` is checked by the backend that can read the body back (EWS).

Text filters match as Exchange's own search does (KQL / AQS match at the start of words), so
every server query the backends send (``$filter`` contains, Restriction substring, ``$search``,
AQS) returns a superset of what these checks keep, on Exchange and in the sandbox alike:

- ``sender`` / ``recipient``: a whole address (``local@domain.tld``) matches that address; a
  domain (``@domain.tld`` or ``domain.tld``) matches addresses at that domain or a subdomain;
  anything else matches at the start of the address or of a word in it (after ``@ . - _ +``).
- ``subject`` and ``attachment_name``: the text at the start of a word (case-insensitive).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from .models import MessageSummary, Recipient, SearchCriteria


def aware(value: dt.datetime) -> dt.datetime:
    """A criteria time as an aware datetime (a naive one is UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def matches(
    criteria: SearchCriteria, message: MessageSummary, received: dt.datetime | None
) -> bool:
    """True when ``message`` (received at ``received``) meets every filter but query and body."""
    people_from = [message.from_] if message.from_ else []
    tests = (
        not criteria.sender or _has_address(criteria.sender, people_from),
        not criteria.recipient or _has_address(criteria.recipient, [*message.to, *message.cc]),
        not criteria.subject or word_prefix(criteria.subject, message.subject or ""),
        not criteria.internet_message_id
        or criteria.internet_message_id == message.internet_message_id,
        criteria.has_attachments is None or criteria.has_attachments == message.has_attachments,
        criteria.is_read is None or criteria.is_read == message.is_read,
        not criteria.received_after
        or (received is not None and received >= aware(criteria.received_after)),
        not criteria.received_before
        or (received is not None and received < aware(criteria.received_before)),
        not criteria.attachment_name or _has_attachment_named(criteria.attachment_name, message),
    )
    return all(tests)


AddressKind = Literal["address", "domain", "part"]
_ADDRESS_SEPARATORS = "@.-_+"


def address_kind(wanted: str) -> AddressKind:
    """How an address filter matches: a whole ``address``, a ``domain``, or a ``part``."""
    local, at, domain = wanted.strip().rpartition("@")
    if at and local and "." in domain.strip("."):
        return "address"
    if (not at or not local) and "." in domain.strip(".") and " " not in domain:
        return "domain"
    return "part"


def is_whole_address(wanted: str) -> bool:
    """True when an address filter names one whole address (servers can match it exactly)."""
    return address_kind(wanted) == "address"


def address_matches(wanted: str, address: str) -> bool:
    """``address`` meets the sender/recipient filter ``wanted`` (case-insensitive)."""
    wanted, address = wanted.strip().casefold(), address.strip().casefold()
    kind = address_kind(wanted)
    if kind == "address":
        return address == wanted
    if kind == "domain":
        domain = wanted.lstrip("@").strip(".")
        actual = address.rpartition("@")[2]
        return actual == domain or actual.endswith("." + domain)
    starts = [0] + [i + 1 for i, c in enumerate(address) if c in _ADDRESS_SEPARATORS]
    return any(address.startswith(wanted, start) for start in starts)


def word_prefix(wanted: str, text: str) -> bool:
    """``wanted`` occurs in ``text`` at the start of a word (case-insensitive)."""
    needle, haystack = wanted.strip().casefold(), text.casefold()
    if not needle:
        return True
    start = haystack.find(needle)
    while start != -1:
        if start == 0 or not haystack[start - 1].isalnum():
            return True
        start = haystack.find(needle, start + 1)
    return False


def _has_address(wanted: str, people: list[Recipient]) -> bool:
    return any(address_matches(wanted, person.address) for person in people)


def _has_attachment_named(wanted: str, message: MessageSummary) -> bool:
    if message.attachment_names is None:  # not read back: the server's term already decided
        return True
    return any(word_prefix(wanted, name) for name in message.attachment_names)
