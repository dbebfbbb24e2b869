"""The demo's reporting mailbox: ``phish-report@contoso.com`` (shared), where users report
phishing with the original attached, as Outlook's Report button and a forward-as-attachment do.

Two reports of one credential-phishing message (``Your mailbox is almost full``, from
``IT Help Desk <it-helpdesk@contoso-support.net>``, SafeLinks-wrapped links, SPF/DKIM/DMARC
failing, a Reply-To on another domain), delivered to bob's and carol's Inboxes; bob's report
carries the original as an attached item (``message/rfc822``), carol's as an ``.eml`` file.
Created after the rest of the demo, so the ids of everything seeded before stay the same.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from .mime import build_mime, parse_mime
from .store import Address, NewMessage, Store

DOMAIN = "contoso.com"
REPORT_MAILBOX = f"phish-report@{DOMAIN}"
PHISH_SENDER = Address("it-helpdesk@contoso-support.net", "IT Help Desk")
PHISH_SUBJECT = "Your mailbox is almost full"
PHISH_URL = "https://contoso-support.net/owa/quota/verify?user={user}"
SAFELINKS = "https://nam02.safelinks.protection.outlook.com/?url={url}&data=05%7C02&reserved=0"


def _phish_html(user: str) -> str:
    target = PHISH_URL.format(user=user)
    wrapped = SAFELINKS.format(url=quote(target, safe=""))
    return (
        "<html><head><style>p{margin:0}</style></head><body>"
        f"<p>Dear {user},</p>"
        "<p>Your mailbox has reached 98% of its quota. Messages will stop arriving in 24 hours."
        "</p>"
        f'<p><a href="{wrapped}">Verify your mailbox</a> to keep receiving mail.</p>'
        '<p style="display:none">quota verify helpdesk</p>'
        '<p>Help: <a href="https://contoso-support.net/help">contoso-support.net/help</a></p>'
        "<script>track()</script></body></html>"
    )


def phish_mime(user: str, to: Address, at: dt.datetime) -> bytes:
    """The phishing message as delivered to ``to``, with its transport and anti-spam headers."""
    stamp = at.strftime("%a, %d %b %Y %H:%M:%S +0000")
    earlier = (at - dt.timedelta(seconds=7)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    first = (at - dt.timedelta(seconds=9)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return build_mime(
        sender=PHISH_SENDER,
        to=[to],
        reply_to=[Address("quota-team@mailbox-verify.example", "Quota Team")],
        subject=PHISH_SUBJECT,
        body=_phish_html(user),
        body_type="html",
        internet_message_id=f"<quota-{user}@contoso-support.net>",
        date=at - dt.timedelta(seconds=12),
        extra_headers=[
            (
                "Received",
                f"from BN8PR04MB1234.namprd04.prod.outlook.com (2603:10b6:408:1::10) by "
                f"SN6PR04MB4321.namprd04.prod.outlook.com with HTTPS; {stamp}",
            ),
            (
                "Received",
                "from mail.contoso-support.net (203.0.113.45) by "
                f"BN8PR04MB1234.mail.protection.outlook.com (10.167.242.10) with Microsoft SMTP "
                f"Server id 15.20.7452.22 via Frontend Transport; {earlier}",
            ),
            (
                "Received",
                f"from [198.51.100.23] (helo=desktop-7h2k) by "
                f"mail.contoso-support.net (203.0.113.45) with ESMTPSA; {first}",
            ),
            ("Return-Path", "<bounce-7731@mailer.bulk-sender.example>"),
            (
                "Authentication-Results",
                "spf=fail (sender IP is 203.0.113.45) smtp.mailfrom=mailer.bulk-sender.example; "
                "dkim=none (message not signed) header.d=none;dmarc=fail action=quarantine "
                "header.from=contoso-support.net;compauth=fail reason=000",
            ),
            ("X-Originating-IP", "[198.51.100.23]"),
            ("X-MS-Exchange-Organization-SCL", "5"),
            ("X-MS-Exchange-Organization-AuthAs", "Anonymous"),
            (
                "X-Forefront-Antispam-Report",
                "CIP:203.0.113.45;CTRY:NL;LANG:en;SCL:5;SRV:;IPV:NLI;SFV:SPM;H:mail.contoso-"
                "support.net;PTR:mail.contoso-support.net;CAT:PHSH;SFS:(13230031);DIR:INB;",
            ),
            ("X-Microsoft-Antispam", "BCL:0;ARA:13230031;"),
        ],
    )


def seed_phish_reports(store: Store, seed_date: dt.datetime) -> None:
    """Adds the reporting mailbox and its two reports (bob's: item; carol's: .eml file)."""
    (mailbox,) = store.add_mailboxes(
        [(REPORT_MAILBOX, "Phishing Reports", "shared", [f"report-phish@{DOMAIN}"])]
    )
    inbox = store.folder(mailbox.id, "inbox")
    assert inbox is not None
    report_to = Address(REPORT_MAILBOX, "Phishing Reports")
    batch: list[NewMessage] = []
    reporters = [
        ("bob", "Bob Smith", dt.timedelta(hours=2, minutes=5), "message/rfc822"),
        ("carol", "Carol Nguyen", dt.timedelta(hours=2, minutes=20), "application/octet-stream"),
    ]
    for user, name, after, content_type in reporters:
        reporter = Address(f"{user}@{DOMAIN}", name)
        delivered_at = seed_date + after - dt.timedelta(minutes=4)
        original = phish_mime(user, reporter, delivered_at)
        own = store.mailbox(reporter.address)
        own_inbox = store.folder(own.id, "inbox") if own else None
        if own is not None and own_inbox is not None:  # the phish itself, in the user's Inbox
            batch.append(
                NewMessage(
                    own.id,
                    own_inbox.id,
                    original,
                    parsed=parse_mime(original),
                    received_at=delivered_at,
                    created_at=delivered_at,
                )
            )
        mime = build_mime(
            sender=reporter,
            to=[report_to],
            subject=f"Phishing report: {PHISH_SUBJECT}",
            body=f"Reported as phishing by {name} with the Report Message add-in.",
            attachments=[(f"{PHISH_SUBJECT}.eml", content_type, original, False, None)],
            internet_message_id=f"<report-quota-{user}@{DOMAIN}>",
            date=seed_date + after - dt.timedelta(seconds=30),
        )
        at = seed_date + after
        batch.append(
            NewMessage(
                mailbox.id,
                inbox.id,
                mime,
                parsed=parse_mime(mime),
                received_at=at,
                created_at=at,
            )
        )
    store.add_messages(batch)
