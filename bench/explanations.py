"""Why an action makes more requests than its minimum, and the change that removes the excess.

Keyed by what the extra requests are, so RESULTS.md can attribute every request above a
minimum; a run whose excess no explanation covers is reported as unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Excess:
    """Extra requests of one kind: how many per run, why, and the fix (file and change)."""

    key: str
    requests: int
    why: str
    fix: str


OPENID = Excess(
    "openid-configuration",
    1,
    "Every action process GETs /{tenant}/v2.0/.well-known/openid-configuration: msal builds "
    "its ConfidentialClientApplication (authority discovery) even when the token then comes "
    "from the file cache.",
    "exchange_pack/auth.py (_build_app): pass msal's http_cache= a dict persisted beside the "
    "token cache (pickle/JSON, mode 0600, as ews-versions.json is) so msal serves the "
    "discovery GET from it for 24 h; or read an unexpired access token from the cache file "
    "before building the msal app at all (also spares msal's import and app construction).",
)

GRAPH_RESOLVE = Excess(
    "graph-resolve",
    1,
    "A message given by Graph id is first resolved with GET messages/{id}?$select=... only to "
    "fill the output's reference fields (subject, internet_message_id), which the next request "
    "returns anyway.",
    "exchange_pack/actions/targets.py resolve_message + the Graph backend: when the reference "
    "is a backend id, skip the GET and take the reference fields from the request that does "
    "the work: the MIME headers ($value: download, cross-mailbox copy), the copy/move "
    "response (copy, junk move), $expand=attachments($select=id,name,contentType,size,"
    "isInline) on a single GET (get/delete attachments), the junk $batch's message entry "
    "(add subject,internetMessageId to its $select).",
)

GRAPH_PROBE = Excess(
    "graph-probe",
    1,
    "test_connection probes with GET mailFolders/inbox and then GET mailFolders/inbox/messages; "
    "the folder GET alone already proves the mailbox exists and Mail.Read(Basic) is granted.",
    "exchange_pack/actions/connection.py (or the Graph backend's probe): one GET "
    "mailFolders/inbox?$select=id,totalItemCount.",
)

EWS_PROBE = Excess(
    "ews-probe",
    2,
    "test_connection on EWS probes with GetFolder(inbox), then FindItem and GetItem on one "
    "message; GetFolder with impersonation already proves the mailbox and the EWS role.",
    "exchange_pack/actions/connection.py (or the EWS backend's probe): GetFolder(inbox) only.",
)

EWS_DOUBLE_GETITEM = Excess(
    "ews-double-getitem",
    1,
    "The message is resolved with one GetItem (reference fields) and fetched again with a "
    "second GetItem (MIME or the attachment list).",
    "exchange_pack/ews (resolve + mime/attachments): one GetItem whose shape carries Subject, "
    "InternetMessageId and the attachments (or MimeContent, parsed from the same streamed "
    "response); after a FindItem lookup, ask FindItem for Subject and InternetMessageId "
    "instead of a GetItem.",
)

GRAPH_LOOKUP_EXPAND = Excess(
    "graph-lookup-then-attachments",
    1,
    "By internet_message_id, the $filter lookup is followed by a separate GET "
    "messages/{id}/attachments.",
    "exchange_pack/graph/messages.py find_by_internet_message_id (and the attachments path): "
    "let the lookup carry $expand=attachments($select=id,name,contentType,size,isInline) when "
    "the caller needs the attachment list, and use it instead of listing again.",
)

GRAPH_JUNK_LOOKUP = Excess(
    "graph-junk-lookup",
    1,
    "junk_mail by internet_message_id looks the message up before the $batch that reads the "
    "sender, the inbox rules and the Junk Email folder id.",
    "exchange_pack/graph/junk.py set_sender_rule: put the $filter=internetMessageId lookup "
    "(with from, subject, internetMessageId) in that $batch in place of the message GET; it "
    "does not depend on the other two entries.",
)

EWS_FINDITEM_THEN_GETITEM = Excess(
    "ews-finditem-then-getitem",
    1,
    "By internet_message_id on EWS, FindItem finds the ItemId and a GetItem then reads the "
    "reference fields, which FindItem can return itself.",
    "exchange_pack/ews/find.py (the internet_message_id lookup): ask FindItem for Subject, "
    "InternetMessageId, ParentFolderId and From (first-class properties allowed in a FindItem "
    "shape) and build the reference from its answer; no GetItem.",
)

EWS_SEND_DRAFT = Excess(
    "ews-send-draft",
    2,
    "send_email on EWS saves a draft (CreateItem SaveOnly), reads its InternetMessageId "
    "(GetItem) and sends it (SendItem), so the Message-ID is known before the one "
    "non-repeatable step.",
    "exchange_pack/ews/send.py: CreateItem MessageDisposition=SendAndSaveCopy with MimeContent "
    "carrying a Message-ID the pack generates (what the Graph path does with MIME sendMail); "
    "never retried after an unclear failure, so still sent at most once.",
)

# (case name, backend, addressing) -> the excess beyond the identity request every run makes.
SPECIFIC: dict[tuple[str, str, str], tuple[Excess, ...]] = {
    ("test_connection", "graph", "-"): (GRAPH_PROBE,),
    ("download_mail_as_eml", "graph", "id"): (GRAPH_RESOLVE,),
    ("get_attachments (4 files)", "graph", "id"): (GRAPH_RESOLVE,),
    ("get_attachments (4 files)", "graph", "internet_message_id"): (GRAPH_LOOKUP_EXPAND,),
    ("delete_attachments (by name)", "graph", "id"): (GRAPH_RESOLVE,),
    ("delete_attachments (by name)", "graph", "internet_message_id"): (GRAPH_LOOKUP_EXPAND,),
    ("copy_email (same mailbox)", "graph", "id"): (GRAPH_RESOLVE,),
    ("copy_email (other mailbox)", "graph", "id"): (GRAPH_RESOLVE,),
    ("junk_mail (move + block sender)", "graph", "id"): (GRAPH_RESOLVE,),
    ("junk_mail (move + block sender)", "graph", "internet_message_id"): (GRAPH_JUNK_LOOKUP,),
    ("test_connection", "ews", "-"): (EWS_PROBE,),
    ("download_mail_as_eml", "ews", "id"): (EWS_DOUBLE_GETITEM,),
    ("download_mail_as_eml", "ews", "internet_message_id"): (EWS_DOUBLE_GETITEM,),
    ("get_attachments (4 files)", "ews", "id"): (EWS_DOUBLE_GETITEM,),
    ("get_attachments (4 files)", "ews", "internet_message_id"): (EWS_DOUBLE_GETITEM,),
    ("delete_attachments (by name)", "ews", "id"): (EWS_DOUBLE_GETITEM,),
    ("delete_attachments (by name)", "ews", "internet_message_id"): (EWS_DOUBLE_GETITEM,),
    ("copy_email (same mailbox)", "ews", "internet_message_id"): (EWS_FINDITEM_THEN_GETITEM,),
    ("copy_email (other mailbox)", "ews", "internet_message_id"): (EWS_FINDITEM_THEN_GETITEM,),
    ("junk_mail (move + block sender)", "ews", "internet_message_id"): (EWS_FINDITEM_THEN_GETITEM,),
    ("delete_email (to Deleted Items)", "ews", "internet_message_id"): (EWS_FINDITEM_THEN_GETITEM,),
    ("reply_to_email", "ews", "internet_message_id"): (EWS_FINDITEM_THEN_GETITEM,),
    ("send_email", "ews", "-"): (EWS_SEND_DRAFT,),
}

FURTHER: tuple[Excess, ...] = ()


def explain(
    case: str, backend: str, addressing: str, identity_requests: int, excess: int
) -> list[Excess]:
    """The known causes of one run's excess (none when it is at its minimum)."""
    if excess <= 0:
        return []
    causes = [OPENID] * min(identity_requests, 1)
    return causes + list(SPECIFIC.get((case, backend, addressing), ()))
