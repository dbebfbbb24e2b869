"""The cases of the requests-per-action benchmark and the fewest requests each one needs.

A minimum counts HTTP round trips to the tenant with the token already cached (so no identity
request at all), for the output the action's schema promises (a message reference carries
``id``, ``internet_message_id`` and ``subject``), keeping downloads streamed (one request per
attachment body rather than inline base64). A Graph ``$batch`` counts as one round trip only
where the pack's design batches (fan-out, directory types, the junk rule lookups). Addressing a
message by ``internet_message_id`` costs one lookup more, unless the lookup itself returns what
the by-id minimum spends a request on (then ``Minimum.lookup`` says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CAMPAIGN_SENDER = "billing@contoso-payments.com"
CAMPAIGN_ATTACHMENTS = 4  # INV-20931.pdf, INV-20931.zip, remittance.html, forwarded-notice.eml


def campaign_internet_message_id(user: str) -> str:
    """The Message-ID of ``user``'s copy of the demo seed's phishing message."""
    return f"<inv-20931-{user}@contoso-payments.com>"


@dataclass(frozen=True)
class Minimum:
    """The fewest round trips on one backend and why; ``lookup``: the same by
    internet_message_id (None: one lookup more than by id)."""

    requests: int
    reason: str
    lookup: int | None = None
    lookup_reason: str = "one $filter/FindItem lookup for the id first"

    def by_internet_message_id(self) -> tuple[int, str]:
        """The minimum and its reason when the message is given by its Message-ID."""
        if self.lookup is None:
            return self.requests + 1, f"{self.reason}; + {self.lookup_reason}"
        return self.lookup, self.lookup_reason


@dataclass(frozen=True)
class Case:
    """One action run: its parameters, the message it targets (if any), the minima."""

    name: str
    action: str
    params: dict[str, Any]
    graph: Minimum
    ews: Minimum
    target_user: str | None = None  # whose campaign copy the action addresses
    writes: bool = False  # changes the tenant: reset to the seed before it runs

    def minimum(self, backend: str) -> Minimum:
        return self.graph if backend == "graph" else self.ews


CASES: tuple[Case, ...] = (
    Case(
        "test_connection",
        "test_connection",
        {},
        Minimum(1, "token from cache (roles read from it); one probe of the default mailbox"),
        Minimum(1, "token from cache; one GetFolder(inbox) probe with impersonation"),
    ),
    Case(
        "get_searchable_mailboxes",
        "get_searchable_mailboxes",
        {},
        Minimum(2, "GET /users (1 page) + 1 $batch of mailboxSettings (type) per 20 users"),
        Minimum(1, "GetSearchableMailboxes"),
    ),
    Case(
        "get_out_of_office",
        "get_out_of_office",
        {"mailbox": "dave@contoso.com"},
        Minimum(1, "GET mailboxSettings/automaticRepliesSetting"),
        Minimum(1, "GetUserOofSettings"),
    ),
    Case(
        "get_contacts",
        "get_contacts",
        {"mailbox": "alice@contoso.com"},
        Minimum(1, "GET contacts (one page)"),
        Minimum(1, "FindItem in Contacts (one page)"),
    ),
    Case(
        "search_emails_extended (1 mailbox)",
        "search_emails_extended",
        {"mailbox": "alice@contoso.com", "sender": CAMPAIGN_SENDER},
        Minimum(2, "GET messages $filter over all folders + GET mailFolders (folder names)"),
        Minimum(
            3,
            "FindFolder (mail folders) + FindItem over them + GetItem (recipients and "
            "preview, which FindItem cannot return)",
        ),
    ),
    Case(
        "download_mail_as_eml",
        "download_mail_as_eml",
        {"mailbox": "alice@contoso.com"},
        Minimum(1, "GET messages/{id}/$value; subject and Message-ID are in the MIME headers"),
        Minimum(1, "GetItem with IncludeMimeContent + Subject + InternetMessageId"),
        target_user="alice",
    ),
    Case(
        "get_attachments (4 files)",
        "get_attachments",
        {"mailbox": "alice@contoso.com"},
        Minimum(
            1 + CAMPAIGN_ATTACHMENTS,
            "GET message $select ref fields $expand=attachments (metadata) + 1 streamed "
            "$value per attachment",
            1 + CAMPAIGN_ATTACHMENTS,
            "the $filter lookup itself carries $expand=attachments + 1 $value per attachment",
        ),
        Minimum(
            1 + CAMPAIGN_ATTACHMENTS,
            "GetItem (ref fields + attachment list) + 1 streamed GetAttachment per attachment",
        ),
        target_user="alice",
    ),
    Case(
        "delete_attachments (by name)",
        "delete_attachments",
        {"mailbox": "bob@contoso.com", "attachment_names": ["remittance.html"]},
        Minimum(
            3,
            "GET message $expand=attachments (names) + streamed $value (the copy kept) + "
            "DELETE attachments/{id}",
            3,
            "the $filter lookup with $expand=attachments + streamed $value (the copy kept) + "
            "DELETE attachments/{id}",
        ),
        Minimum(
            3,
            "GetItem (ref fields + attachment list) + GetAttachment (the copy kept) + "
            "DeleteAttachment",
        ),
        target_user="bob",
        writes=True,
    ),
    Case(
        "copy_email (same mailbox)",
        "copy_email",
        {"mailbox": "alice@contoso.com", "destination_folder": "archive"},
        Minimum(1, "POST messages/{id}/copy (returns the copy with subject and Message-ID)"),
        Minimum(
            2,
            "GetItem (ref fields; CopyItem returns only the new ItemId) + CopyItem",
            2,
            "FindItem (returns Subject and InternetMessageId) + CopyItem",
        ),
        target_user="alice",
        writes=True,
    ),
    Case(
        "copy_email (other mailbox)",
        "copy_email",
        {
            "mailbox": "alice@contoso.com",
            "destination_folder": "inbox",
            "destination_mailbox": "soc@contoso.com",
        },
        Minimum(2, "GET $value (MIME, ref fields from its headers) + POST MIME import"),
        Minimum(
            2,
            "GetItem (ref fields) + CopyItem to the other mailbox's folder",
            2,
            "FindItem (returns Subject and InternetMessageId) + CopyItem",
        ),
        target_user="alice",
        writes=True,
    ),
    Case(
        "junk_mail (move + block sender)",
        "junk_mail",
        {"mailbox": "bob@contoso.com", "is_junk": True, "move": True, "block_sender": True},
        Minimum(
            3,
            "$batch (message ref fields + from, inbox rules, junkemail id) + POST messageRules "
            "+ POST move",
            3,
            "the $filter lookup joins the same $batch (it does not depend on the rules or the "
            "junkemail id) + POST messageRules + POST move",
        ),
        Minimum(
            2,
            "GetItem (ref fields, sender) + MarkAsJunk (IsJunk, MoveItem)",
            2,
            "FindItem (returns Subject, InternetMessageId, From) + MarkAsJunk",
        ),
        target_user="bob",
        writes=True,
    ),
    Case(
        "delete_email (to Deleted Items)",
        "delete_email",
        {"mailbox": "carol@contoso.com"},
        Minimum(
            2,
            "$batch of GET message (ref fields, parentFolderId) and GET mailFolders/deleteditems "
            "(is it in Deleted Items already? the ids compared) + POST move",
            2,
            "the $filter lookup (ref fields, parentFolderId) takes the GET's place in the $batch",
        ),
        Minimum(
            3,
            "GetItem (ref fields, ParentFolderId) + the Deleted Items check (GetFolder or "
            "FindItem) + DeleteItem",
            3,
            "FindItem (ref fields, ParentFolderId) takes GetItem's place",
        ),
        target_user="carol",
        writes=True,
    ),
    Case(
        "send_email",
        "send_email",
        {
            "mailbox": "soc@contoso.com",
            "to": ["alice@contoso.com"],
            "subject": "bench",
            "body": "bench",
        },
        Minimum(1, "POST sendMail with MIME (the pack sets the Message-ID)"),
        Minimum(
            1,
            "CreateItem SendAndSaveCopy with MimeContent carrying the pack's Message-ID",
        ),
        writes=True,
    ),
    Case(
        "reply_to_email",
        "reply_to_email",
        {"mailbox": "alice@contoso.com", "body": "Thank you for the report."},
        Minimum(
            2,
            "$batch (GET message for the in_reply_to ref fields + POST createReply: the draft "
            "carries the reply's Message-ID; a bare reply answers 202 without it) + POST send",
        ),
        Minimum(
            3,
            "CreateItem ReplyToItem SaveOnly + GetItem (the draft's InternetMessageId and the "
            "original's ref fields, one request) + SendItem",
        ),
        target_user="alice",
        writes=True,
    ),
)
