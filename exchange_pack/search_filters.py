"""The exact form of SearchCriteria, checked by both backends on the messages a server returned.

A server query can be fuzzier than the filters (EWS AQS, Graph ``$search``), and Graph refuses
``$search`` together with ``$filter``; so each backend checks the filters here on the found
messages, and none is silently dropped. Only the free-text ``query`` is the server's word alone;
``body`` is checked by the backend that can read the body back (EWS).
"""

from __future__ import annotations

import datetime as dt

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
        not criteria.subject or criteria.subject.lower() in (message.subject or "").lower(),
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


def _has_address(wanted: str, people: list[Recipient]) -> bool:
    """An exact (case-insensitive) address match, as Graph's ``address eq`` filter."""
    return any(person.address.lower() == wanted.lower() for person in people)


def _has_attachment_named(wanted: str, message: MessageSummary) -> bool:
    if message.attachment_names is None:  # not read back: the server's term already decided
        return True
    return any(wanted.lower() in name.lower() for name in message.attachment_names)
