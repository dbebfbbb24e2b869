"""SearchCriteria as a Graph message query: ``$filter`` where Graph can, ``$search`` (KQL)
for free text, body and attachment names, and a local check for the rest.

Graph refuses ``$search`` together with ``$filter``; when a search needs ``$search``, every
other criterion is checked locally on the returned messages (never silently dropped).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..models import MessageSummary, SearchCriteria
from ..search_filters import is_whole_address, matches
from .folders import well_known
from .odata import all_of, literal
from .shape import SUMMARY_FIELDS, message_summary, parse_time, select
from .transport import graph_path, with_query

MAX_PAGE_SIZE = 100  # messages per Graph page when a local check may discard some
Check = Callable[[dict[str, Any]], bool]


def needs_search(criteria: SearchCriteria) -> bool:
    """True when a criterion only ``$search`` can express (free text, body, attachment, or a
    domain or part of an address: ``$filter`` compares whole addresses only)."""
    partial = [v for v in (criteria.sender, criteria.recipient) if v and not is_whole_address(v)]
    return bool(criteria.query or criteria.body or criteria.attachment_name or partial)


def _kql_value(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'\\"{escaped}\\"' if any(c in text for c in ' :"()') else escaped


def kql(criteria: SearchCriteria) -> str:
    """The ``$search`` value: the analyst's query plus body:/attachment:/from:/recipients:/
    subject: terms (KQL matches word prefixes; the exact match is checked locally)."""
    terms = []
    if criteria.query:
        terms.append(criteria.query.replace("\\", "\\\\").replace('"', '\\"'))
    if criteria.body:
        terms.append(f"body:{_kql_value(criteria.body)}")
    if criteria.attachment_name:
        terms.append(f"attachment:{_kql_value(criteria.attachment_name)}")
    # These narrow the server's answer (at most 1,000 results per $search); the exact
    # match is checked locally.
    if criteria.sender:
        terms.append(f"from:{_kql_value(criteria.sender.lstrip('@'))}")
    if criteria.recipient:
        terms.append(f"recipients:{_kql_value(criteria.recipient.lstrip('@'))}")
    if criteria.subject:
        terms.append(f"subject:{_kql_value(criteria.subject)}")
    return '"' + " ".join(terms) + '"'


def _recipient_clause(address: str) -> str:
    any_of = "{}/any(r:r/emailAddress/address eq " + literal(address) + ")"
    return f"({any_of.format('toRecipients')} or {any_of.format('ccRecipients')})"


def filter_clauses(criteria: SearchCriteria) -> list[str]:
    """The ``$filter`` clauses for every criterion Graph filters on."""
    clauses = []
    if criteria.sender:
        clauses.append(f"from/emailAddress/address eq {literal(criteria.sender)}")
    if criteria.recipient:
        clauses.append(_recipient_clause(criteria.recipient))
    if criteria.subject:
        clauses.append(f"contains(subject,{literal(criteria.subject)})")
    if criteria.internet_message_id:
        clauses.append(f"internetMessageId eq {literal(criteria.internet_message_id)}")
    if criteria.has_attachments is not None:
        clauses.append(f"hasAttachments eq {literal(criteria.has_attachments)}")
    if criteria.is_read is not None:
        clauses.append(f"isRead eq {literal(criteria.is_read)}")
    if criteria.received_after:
        clauses.append(f"receivedDateTime ge {literal(criteria.received_after)}")
    if criteria.received_before:
        clauses.append(f"receivedDateTime lt {literal(criteria.received_before)}")
    return clauses


def local_check(criteria: SearchCriteria, mailbox: str) -> Check:
    """The criteria ``$filter`` would express, evaluated on a returned message."""

    def check(message: dict[str, Any]) -> bool:
        summary = message_summary(message, mailbox, None)
        summary.attachment_names = attachment_names(message)
        return matches(criteria, summary, parse_time(message.get("receivedDateTime")))

    return check


def attachment_names(message: dict[str, Any]) -> list[str] | None:
    """Names of the expanded attachments (present only when the search asked for them)."""
    attachments = message.get("attachments")
    return None if attachments is None else [a.get("name") or "" for a in attachments]


def collection_path(mailbox: str, folder: str | None) -> str:
    """``/users/{id}/messages`` (all folders) or ``/users/{id}/mailFolders/{id}/messages``."""
    if folder is None:
        return graph_path("/users/{}/messages", mailbox)
    return graph_path("/users/{}/mailFolders/{}/messages", mailbox, folder)


@dataclass(frozen=True)
class FirstPage:
    """A search's first-page request: the query is encoded once, the same in every mailbox."""

    criteria: SearchCriteria
    query: str  # ``$select=...&$filter=...`` (or ``$search``), percent-encoded
    checked: bool  # returned messages need the local check

    @classmethod
    def of(cls, criteria: SearchCriteria, limit: int) -> FirstPage:
        """``$filter`` when Graph can express every criterion, else ``$search`` + local check."""
        names = ["attachments($select=name)"] if criteria.attachment_name else []
        params: dict[str, Any] = select(SUMMARY_FIELDS, *names)
        if needs_search(criteria):
            params["$search"] = kql(criteria)
            checked = True
        else:
            params["$filter"] = all_of(filter_clauses(criteria))
            # contains() matches anywhere in the subject; the filter holds at word starts only.
            checked = bool(criteria.subject)
        params["$top"] = MAX_PAGE_SIZE if checked else max(1, min(limit, MAX_PAGE_SIZE))
        return cls(criteria, with_query("", params).removeprefix("?"), checked)

    def request(self, mailbox: str, folder: str | None) -> tuple[str, Check | None]:
        """The mailbox's first-page path and the local check still to apply (None: none)."""
        check = local_check(self.criteria, mailbox) if self.checked else None
        return f"{collection_path(mailbox, folder)}?{self.query}", check


def folder_label(folder: str | None) -> str | None:
    """The output name of the searched folder: its well-known name, else the path given."""
    if folder is None:
        return None
    return well_known(folder) or folder.strip().strip("/")


def summary(item: dict[str, Any], mailbox: str, criteria: SearchCriteria) -> MessageSummary:
    """A found message as a summary, its folder not named yet."""
    found = message_summary(item, mailbox, None)
    if criteria.attachment_name:
        found.attachment_names = attachment_names(item)
    return found


Found = tuple[MessageSummary, str | None]  # a summary and the id of its message's folder


def named(
    found: list[Found], criteria: SearchCriteria, folder_name: Callable[[str | None], str | None]
) -> list[MessageSummary]:
    """The summaries, their folders named after the searched folder, else by folder id."""
    label = folder_label(criteria.folder)
    for message, folder_id in found:
        message.folder = label or folder_name(folder_id)
    return [message for message, _ in found]


def summaries(
    items: list[dict[str, Any]],
    mailbox: str,
    criteria: SearchCriteria,
    folder_name: Callable[[str | None], str | None],
) -> list[MessageSummary]:
    """Found messages as summaries, folders named after the searched folder or by id."""
    found = [(summary(item, mailbox, criteria), item.get("parentFolderId")) for item in items]
    return named(found, criteria, folder_name)
