"""search_emails_extended on EWS: SearchCriteria split between the server query and a local check.

EWS takes either a Restriction (exact: subject, sender, internet_message_id, flags, dates) or
an AQS QueryString (free text, body, attachment names, recipients), not both. The exact filters
go into a Restriction when possible; as soon as a filter needs AQS, every filter AQS can express
goes into the QueryString. Either way each filter is also checked locally on the answer, so
fuzzy AQS matches are narrowed and no filter is silently dropped; only ``query`` (free AQS/KQL
text) is the server's word alone.

One page = FindItem (ids, newest first, all target folders in one request) + GetItem (the page's
properties). The cursor is the offset into the server's ordered answer.
"""

from __future__ import annotations

import base64
import binascii
import json

from exchangelib import Account, Q
from exchangelib.items import Item

from ..errors import InputError
from ..models import MessageSummary, Page, SearchCriteria
from ..search_filters import aware, is_whole_address, matches
from . import folders as folder_lookup
from .find import find
from .messages import get_items
from .shape import SUMMARY_FIELDS, message_summary
from .transport import EwsTransport

_AQS_ONLY = ("query", "body", "attachment_name", "recipient")


def needs_aqs(criteria: SearchCriteria) -> bool:
    """True when a filter only AQS expresses (a Restriction on From compares whole addresses)."""
    partial_sender = criteria.sender and not is_whole_address(criteria.sender)
    return bool(partial_sender or any(getattr(criteria, name) for name in _AQS_ONLY))


def server_query(criteria: SearchCriteria) -> Q | None:
    """The Restriction (Q objects) or, when a filter needs it, the AQS QueryString."""
    if needs_aqs(criteria):
        return Q(aqs(criteria))
    parts: list[Q] = []
    if criteria.internet_message_id:
        parts.append(Q(message_id=criteria.internet_message_id))
    if criteria.sender:
        parts.append(Q(author=criteria.sender))
    if criteria.subject:
        # IgnoreCase: ContainmentComparison Exact is case-sensitive, Graph's contains() is not.
        parts.append(Q(subject__icontains=criteria.subject))
    if criteria.has_attachments is not None:
        parts.append(Q(has_attachments=criteria.has_attachments))
    if criteria.is_read is not None:
        parts.append(Q(is_read=criteria.is_read))
    if criteria.received_after:
        parts.append(Q(datetime_received__gte=aware(criteria.received_after)))
    if criteria.received_before:
        parts.append(Q(datetime_received__lt=aware(criteria.received_before)))
    if not parts:
        return None
    query = parts[0]
    for part in parts[1:]:
        query &= part
    return query


def aqs(criteria: SearchCriteria) -> str:
    """The criteria as one AQS string (dates to the day: the local check makes them exact)."""
    terms: list[str] = []
    if criteria.query:
        terms.append(f"({criteria.query})")
    for prop, value in (
        ("from", (criteria.sender or "").lstrip("@")),
        ("subject", criteria.subject),
        ("body", criteria.body),
        ("attachment", criteria.attachment_name),
    ):
        if value:
            terms.append(f"{prop}:{_quoted(value)}")
    if criteria.recipient:
        value = _quoted(criteria.recipient.lstrip("@"))
        terms.append(f"(to:{value} OR cc:{value} OR bcc:{value})")
    if criteria.has_attachments is not None:
        terms.append(f"hasattachment:{str(criteria.has_attachments).lower()}")
    if criteria.is_read is not None:
        terms.append(f"isread:{str(criteria.is_read).lower()}")
    if criteria.received_after:
        terms.append(f"received>={aware(criteria.received_after).date().isoformat()}")
    if criteria.received_before:
        terms.append(f"received<={aware(criteria.received_before).date().isoformat()}")
    return " AND ".join(terms)


def local_match(criteria: SearchCriteria, item: Item, summary: MessageSummary) -> bool:
    """The exact form of every filter except free-text ``query``, on a GetItem answer."""
    if criteria.body and criteria.body.lower() not in (item.text_body or "").lower():
        return False
    return matches(criteria, summary, item.datetime_received)


def search(
    transport: EwsTransport,
    account: Account,
    criteria: SearchCriteria,
    limit: int,
    cursor: str | None = None,
) -> Page[MessageSummary]:
    """EWS FindItem + GetItem: one page of messages matching ``criteria``, newest first."""
    if limit < 1:
        raise InputError("limit must be at least 1.")
    offset = decode_cursor(cursor)
    if criteria.folder:
        folder, label, _ = folder_lookup.resolve(transport, account, criteria.folder)
        targets, labels, default_label = [folder], {}, label
    else:
        tree = folder_lookup.load_tree(transport, account)
        mail = tree.mail_folders()
        targets = [folder_lookup.by_id(account, f.id) for f in mail]
        labels, default_label = {f.id: f.label for f in mail}, None
        if not targets:
            targets = [
                folder_lookup.distinguished(account, name)
                for name in folder_lookup.COMMON_MAIL_FOLDERS
            ]
    result = find(transport, account, targets, server_query(criteria), window=offset + limit)
    window = result.items[offset : offset + limit]
    more = result.more or len(result.items) > offset + limit
    names = (*SUMMARY_FIELDS, "attachments") if criteria.attachment_name else SUMMARY_FIELDS
    items = get_items(transport, account, [f.id for f in window], names) if window else []
    messages: list[MessageSummary] = []
    for found, item in zip(window, items, strict=True):
        summary = message_summary(
            account.primary_smtp_address,
            item,
            folder=labels.get(found.folder_id or "", default_label),
        )
        if criteria.attachment_name:
            summary.attachment_names = [a.name or "" for a in item.attachments or []]
        if local_match(criteria, item, summary):
            messages.append(summary)
    return Page(items=messages, next_cursor=encode_cursor(offset + limit) if more else None)


def encode_cursor(offset: int) -> str:
    """An opaque cursor for the next page."""
    return base64.urlsafe_b64encode(json.dumps({"ews_offset": offset}).encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The offset inside a cursor made by ``encode_cursor`` (InputError for anything else)."""
    if not cursor:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))["ews_offset"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeEncodeError):
        raise InputError(
            "cursor is not a cursor from an EWS search.",
            hint="Pass next_cursor from the previous search_emails_extended run, unchanged.",
        ) from None
    if not isinstance(offset, int) or offset < 0:
        raise InputError("cursor is not a cursor from an EWS search.")
    return offset


def _quoted(value: str) -> str:
    return '"' + value.replace('"', " ") + '"'
