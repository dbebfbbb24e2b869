"""Microsoft Graph application permissions, grouped by what a route needs.

Each tuple lists every role that grants the access (least privileged first), as the
"Permissions" table of the route's Microsoft Graph reference page does.
"""

from __future__ import annotations

MAIL_READ_BASIC = ("Mail.ReadBasic.All", "Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite")
MAIL_READ = ("Mail.Read", "Mail.ReadWrite")
MAIL_WRITE = ("Mail.ReadWrite",)
MAIL_SEND = ("Mail.Send",)
MAILBOX_SETTINGS_READ = ("MailboxSettings.Read", "MailboxSettings.ReadWrite")
MAILBOX_SETTINGS_WRITE = ("MailboxSettings.ReadWrite",)
CONTACTS_READ = ("Contacts.Read", "Contacts.ReadWrite")
USERS_READ = (
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
