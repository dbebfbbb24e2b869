"""What the analyst should do next, per kind of failure: one text for both backends."""

MALFORMED_ID = (
    "The message id is not a Graph id or an EWS ItemId of this mailbox (it may be cut short, "
    "or come from another mailbox or backend); pass the id from a search result of the same "
    "backend, or the internet_message_id (<...@...>)."
)
MESSAGE_NOT_FOUND = (
    "The message may have been moved or deleted since it was found; search again, or address "
    "it by internet_message_id."
)
MAILBOX_NOT_FOUND = (
    "Check the SMTP address; the mailbox must exist and be licensed for Exchange "
    "(get_searchable_mailboxes lists the mailboxes the app can reach)."
)
FOLDER_NOT_FOUND = (
    "Use a well-known folder name (inbox, junkemail, deleteditems, sentitems, drafts, "
    "archive) or a folder path such as Inbox/Phishing."
)
ATTACHMENT_NOT_FOUND = (
    "The attachment id does not belong to this message (or was removed); list the "
    "attachments with get_attachments first."
)
RECIPIENTS = "Check the to/cc/bcc addresses: one SMTP address per list item."
TRANSIENT = "A temporary server-side failure; run the action again later."
