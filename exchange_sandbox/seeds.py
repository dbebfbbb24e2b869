"""Seeds for the sandbox tenant: ``demo``, ``none`` and ``bulk:MAILBOXES:MESSAGES``.

Deterministic: ids, GUIDs, client ids and secrets come from a seeded RNG and every timestamp
is fixed relative to ``SEED_DATE`` (except dave's out-of-office window, which is relative to
the real clock so that it is active whenever the seed runs), so the same seed gives the same
tenant, and Graph and EWS answers and recorded cassettes stay stable.

``demo`` (names are binding for the whole team):

- domain ``contoso.com``; users alice, bob, carol, dave (``<name>@contoso.com``), shared
  mailbox ``soc@contoso.com``, room ``room-boardroom@contoso.com``;
- the phishing campaign: from ``Contoso Payments <billing@contoso-payments.com>``, subject
  ``Action required: overdue invoice INV-20931``, in the Inbox of alice, bob and carol, each copy
  with Message-ID ``<inv-20931-<user>@contoso-payments.com>``, an HTML body with links and the
  attachments ``INV-20931.pdf``, ``INV-20931.zip`` (holding ``invoice.js``), ``remittance.html``
  and ``forwarded-notice.eml`` (an attached message);
- alice's report to soc: ``FW: Action required: overdue invoice INV-20931`` (the original
  attached), in soc's Inbox and alice's Sent Items;
- ordinary mail around it (10+ per mailbox, some read, some with attachments), internal mail
  also in the sender's Sent Items; folders ``Inbox/Projects`` (alice) and ``Inbox/Triage``
  (soc); contacts in alice's and soc's Contacts; dave out of office (scheduled); an inbox rule
  for alice; a blocked sender for bob;
- the reporting mailbox ``phish-report@contoso.com`` (shared) with two user reports of a
  credential phish, the original attached as an item and as an ``.eml`` file
  (``seed_reports``);
- apps ``full``, ``readonly`` and ``scoped`` (Mail.Read, limited to alice by RBAC for
  Applications), and the EWS service account ``svc-soar@contoso.com``.

``bulk:M:N``: the same apps and service account, ``M`` user mailboxes ``user00001@contoso.com``
... each with ``N`` messages; message 0 of every mailbox is a copy of the campaign (same sender
and subject), the others are ordinary mail built from a few pre-parsed templates.

Client certificates: the tenant (``Tenant.register_certificate``) generates each app's key pair
and registers the certificate after seeding; ``seed(..., app_cert_pem=PEM)`` registers one for
the ``full`` app directly instead.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import random
import struct
import uuid
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from .mime import ParsedMessage, build_mime, parse_mime
from .seed_reports import seed_phish_reports
from .store import (
    Address,
    App,
    Contact,
    Mailbox,
    MailboxType,
    NewMessage,
    OutOfOffice,
    Rule,
    Store,
)

DOMAIN = "contoso.com"
SEED_DATE = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)

CAMPAIGN_SENDER = Address("billing@contoso-payments.com", "Contoso Payments")
CAMPAIGN_SUBJECT = "Action required: overdue invoice INV-20931"
CAMPAIGN_TARGETS = ("alice", "bob", "carol")
SERVICE_ACCOUNT = f"svc-soar@{DOMAIN}"

FULL_ROLES = [
    "Mail.ReadWrite",
    "Mail.Send",
    "MailboxSettings.ReadWrite",
    "Contacts.Read",
    "User.Read.All",
    "full_access_as_app",
]
READONLY_ROLES = ["Mail.Read", "MailboxSettings.Read", "Contacts.Read", "User.Read.All"]
SCOPED_ROLES = ["Mail.Read"]

_MAILBOXES: list[tuple[str, str, MailboxType, list[str]]] = [
    (f"alice@{DOMAIN}", "Alice Johnson", "user", [f"alice.johnson@{DOMAIN}"]),
    (f"bob@{DOMAIN}", "Bob Smith", "user", [f"bob.smith@{DOMAIN}"]),
    (f"carol@{DOMAIN}", "Carol Nguyen", "user", [f"carol.nguyen@{DOMAIN}"]),
    (f"dave@{DOMAIN}", "Dave Patel", "user", [f"dave.patel@{DOMAIN}"]),
    (f"soc@{DOMAIN}", "Security Operations", "shared", [f"security@{DOMAIN}"]),
    (f"room-boardroom@{DOMAIN}", "Boardroom", "room", []),
]


def seed(store: Store, name: str, app_cert_pem: str | None = None) -> None:
    """Fills an empty store with the named seed (``demo``, ``none``, ``bulk:M:N``)."""
    if name == "none":
        return
    with store.deterministic_ids(f"exchange-sandbox/{name}"), store.transaction():
        rng = random.Random(f"exchange-sandbox/{name}/credentials")
        _tenant(store, rng, app_cert_pem)
        if name == "demo":
            _demo(store)
        elif name.startswith("bulk:"):
            _, mailboxes, messages = name.split(":")
            _bulk(store, int(mailboxes), int(messages))
        else:
            raise ValueError(f"unknown seed {name!r}: demo, none or bulk:MAILBOXES:MESSAGES")


# -- tenant, apps, credentials -------------------------------------------------------------------


def _secret(rng: random.Random, length: int = 40) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    body = "".join(rng.choice(alphabet) for _ in range(length - 4))
    return f"{body[:3]}8Q~{body[3:]}"  # the shape of an Entra client secret


def _tenant(store: Store, rng: random.Random, app_cert_pem: str | None) -> None:
    store.set_setting("tenant_id", str(uuid.UUID(bytes=rng.randbytes(16), version=4)))
    store.set_setting("domain", DOMAIN)
    store.set_setting("tenant_display_name", "Contoso")
    store.set_setting("service_account", {"username": SERVICE_ACCOUNT, "password": _secret(rng)})
    expires = SEED_DATE + dt.timedelta(days=730)
    for display_name, roles, scope in (
        ("full", FULL_ROLES, None),
        ("readonly", READONLY_ROLES, None),
        ("scoped", SCOPED_ROLES, [f"alice@{DOMAIN}"]),
    ):
        store.add_app(
            App(
                client_id=str(uuid.UUID(bytes=rng.randbytes(16), version=4)),
                display_name=display_name,
                client_secret=_secret(rng),
                secret_expires_at=expires,
                certificate_pem=app_cert_pem if display_name == "full" else None,
                roles=list(roles),
                mailbox_scope=scope,
            )
        )


# -- real attachment files -----------------------------------------------------------------------


def pdf_document(lines: list[str]) -> bytes:
    """A small valid one-page PDF showing ``lines`` (Helvetica 12pt)."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(f"({escape(x)}) '" for x in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
        "/Resources << /Font << /F1 4 0 R >> >> >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return bytes(out + trailer.encode("ascii"))


def zip_archive(files: dict[str, str], when: dt.datetime) -> bytes:
    """A real (deflated) zip archive of text files, with fixed timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()


def png_image(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real solid-colour PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height, 9))
        + chunk(b"IEND", b"")
    )


_INVOICE_JS = """// INV-20931 invoice viewer (sandbox sample: inert, for detection tests only)
var portal = "https://contoso-payments.com.invoice-portal.example/INV-20931/view";
var shell = "WScript.Shell";
function open_invoice() { return portal + "?ref=INV-20931"; }
WScript.Echo("Loading invoice INV-20931 from " + open_invoice());
"""

_REMITTANCE_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Contoso Payments - Remittance</title></head>
<body>
<h1>Remittance advice INV-20931</h1>
<p>Sign in with your Microsoft 365 account to release the payment.</p>
<form action="https://contoso-payments.com.invoice-portal.example/collect" method="post">
<input name="email" placeholder="you@contoso.com"><input name="password" type="password">
<button type="submit">Release payment</button></form>
</body></html>
"""

_CAMPAIGN_HTML = """<html><body>
<p>Dear customer,</p>
<p>Our records show that invoice <b>INV-20931</b> for <b>$4,870.00</b> is <b>overdue</b>.
To avoid a late fee and suspension of your account, review and pay the invoice today:</p>
<p><a href="https://contoso-payments.com.invoice-portal.example/INV-20931">
View invoice INV-20931</a></p>
<p>If you already paid, upload your remittance here:
<a href="http://198.51.100.23/remit?ref=INV-20931">http://198.51.100.23/remit</a></p>
<p>Regards,<br>Contoso Payments - Accounts Receivable</p>
</body></html>"""


def _file(name: str, content_type: str, content: bytes) -> tuple[str, str, bytes, bool, None]:
    """A regular (not inline) file attachment for ``build_mime``."""
    return name, content_type, content, False, None


def _campaign_attachments() -> list[tuple[str, str, bytes, bool, str | None]]:
    notice = build_mime(
        sender=Address("collections@contoso-payments.com", "Contoso Payments Collections"),
        to=[Address("billing@contoso-payments.com", "Contoso Payments")],
        subject="Final notice: INV-20931",
        body="This is the final notice for invoice INV-20931 before collection.\n"
        "Open the invoice portal to settle the balance.",
        date=SEED_DATE - dt.timedelta(days=2, hours=3),
        internet_message_id="<final-notice-inv-20931@contoso-payments.com>",
    )
    pdf = pdf_document(
        ["Contoso Payments", "Invoice INV-20931", "Amount due: $4,870.00", "Status: OVERDUE"]
    )
    archive = zip_archive({"invoice.js": _INVOICE_JS}, SEED_DATE - dt.timedelta(days=1))
    return [
        _file("INV-20931.pdf", "application/pdf", pdf),
        _file("INV-20931.zip", "application/zip", archive),
        _file("remittance.html", "text/html", _REMITTANCE_HTML.encode("utf-8")),
        _file("forwarded-notice.eml", "message/rfc822", notice),
    ]


def campaign_mime(user: str, to: Address, date: dt.datetime) -> bytes:
    """The campaign message as delivered to one user."""
    return build_mime(
        sender=CAMPAIGN_SENDER,
        to=[to],
        subject=CAMPAIGN_SUBJECT,
        body=_CAMPAIGN_HTML,
        body_type="html",
        attachments=_campaign_attachments(),
        importance="high",
        internet_message_id=f"<inv-20931-{user}@contoso-payments.com>",
        date=date,
        extra_headers=[
            ("X-Mailer", "PHPMailer 6.9.1"),
            ("Return-Path", "<bounce@cp-mail.example>"),
        ],
    )


# -- demo ----------------------------------------------------------------------------------------


@dataclass
class _Mail:
    """One message of the demo: delivered to every tenant recipient (and the sender's Sent
    Items when the sender is a tenant mailbox)."""

    key: str
    sender: Address
    to: list[Address]
    subject: str
    body: str
    at: dt.datetime
    cc: list[Address] = field(default_factory=list)
    body_type: Literal["text", "html"] = "text"
    attachments: list[tuple[str, str, bytes, bool, str | None]] = field(default_factory=list)
    in_reply_to: str | None = None
    read: bool | None = None  # None: decided by the seeded RNG


def _day(days_before: int, hour: int, minute: int = 0) -> dt.datetime:
    return (SEED_DATE - dt.timedelta(days=days_before)).replace(hour=hour, minute=minute)


def _people() -> dict[str, Address]:
    return {address.split("@")[0]: Address(address, name) for address, name, _, _ in _MAILBOXES}


def _demo_mail() -> list[_Mail]:
    p = _people()
    csv = b"department,q3_actual,q4_budget\nsecurity,120000,135000\nit,340000,310000\n"
    offsite_photo = png_image(64, 48, (46, 117, 182))
    internal = [
        _Mail(
            "budget",
            p["alice"],
            [p["bob"], p["carol"]],
            "Q4 budget review",
            "Hi both,\n\nAttached are the Q4 numbers. Please review before Thursday.\n\nAlice",
            _day(12, 9, 5),
            attachments=[_file("budget-q4.csv", "text/csv", csv)],
        ),
        _Mail(
            "budget-re",
            p["bob"],
            [p["alice"]],
            "RE: Q4 budget review",
            "Looks good to me. Security line is fine.\n\nBob",
            _day(11, 14, 20),
            in_reply_to="budget",
        ),
        _Mail(
            "offsite",
            p["carol"],
            [p["alice"], p["bob"], p["dave"]],
            "Team offsite agenda",
            "<p>Hi team,</p><p>The offsite is on <b>December 3</b> in the Boardroom.</p>"
            "<ul><li>09:00 Planning</li><li>13:00 Workshops</li></ul><p>Carol</p>",
            _day(10, 10, 30),
            body_type="html",
        ),
        _Mail(
            "falcon",
            p["dave"],
            [p["alice"]],
            "Project Falcon timeline",
            "Alice,\n\nThe updated Falcon timeline is attached.\n\nDave",
            _day(9, 16, 45),
            attachments=[
                _file(
                    "falcon-timeline.txt",
                    "text/plain",
                    b"M1 design 2026-12-01\nM2 build 2027-01-15\nM3 launch 2027-03-01\n",
                )
            ],
        ),
        _Mail(
            "falcon-re",
            p["alice"],
            [p["dave"]],
            "RE: Project Falcon timeline",
            "Thanks Dave, M2 looks tight but doable.",
            _day(8, 8, 10),
            in_reply_to="falcon",
        ),
        _Mail(
            "lunch",
            p["bob"],
            [p["carol"]],
            "Lunch on Friday?",
            "Carol, lunch on Friday at the usual place?",
            _day(7, 11, 0),
        ),
        _Mail(
            "lunch-re",
            p["carol"],
            [p["bob"]],
            "RE: Lunch on Friday?",
            "Sure, 12:30 works.",
            _day(7, 11, 40),
            in_reply_to="lunch",
        ),
        _Mail(
            "login",
            p["carol"],
            [p["soc"]],
            "Suspicious sign-in alert on my account",
            "Hi SOC,\n\nI got a sign-in alert from an unknown location (Lagos) this morning. "
            "I did not sign in from there.\n\nCarol",
            _day(6, 7, 55),
            cc=[p["alice"]],
        ),
        _Mail(
            "reminder",
            p["soc"],
            [p["alice"], p["bob"], p["carol"], p["dave"]],
            "Reminder: report suspicious email with the Report button",
            "<p>Reminder: if an email looks suspicious, do not open attachments or links. "
            "Use the <b>Report</b> button in Outlook, or forward it to "
            '<a href="mailto:soc@contoso.com">soc@contoso.com</a>.</p>',
            _day(5, 9, 0),
            body_type="html",
        ),
        _Mail(
            "photos",
            p["dave"],
            [p["bob"], p["carol"]],
            "Photos from the offsite",
            '<p>A few photos from last year:</p><p><img src="cid:offsite-1"></p>',
            _day(4, 17, 30),
            body_type="html",
            attachments=[
                ("offsite-1.png", "image/png", offsite_photo, True, "offsite-1"),
                _file("offsite-2.png", "image/png", png_image(32, 32, (200, 60, 60))),
            ],
        ),
        _Mail(
            "status",
            p["alice"],
            [p["carol"]],
            "Weekly status report",
            "Status this week: vendor review done, Falcon on track, two open audit items.",
            _day(3, 15, 0),
            attachments=[
                _file(
                    "status.txt",
                    "text/plain",
                    b"Vendor review: done\nFalcon: on track\nAudit: 2 open\n",
                )
            ],
        ),
        _Mail(
            "contract",
            p["bob"],
            [p["dave"]],
            "Contract renewal - Northwind",
            "Dave, draft of the Northwind renewal attached for your review.",
            _day(2, 13, 10),
            cc=[p["alice"]],
            attachments=[
                _file(
                    "contract-draft.pdf",
                    "application/pdf",
                    pdf_document(["Northwind Traders", "Service renewal 2027", "DRAFT"]),
                )
            ],
        ),
    ]
    everyone = [p["alice"], p["bob"], p["carol"], p["dave"], p["soc"]]
    external: list[_Mail] = []
    for index, person in enumerate(everyone):
        user = person.address.split("@")[0]
        shift = index * 7  # minutes, so copies do not share a timestamp
        external += [
            _Mail(
                f"fabrikam-{user}",
                Address("accounts@fabrikam.com", "Fabrikam Accounts"),
                [person],
                "Invoice 4471 from Fabrikam",
                "Please find attached invoice 4471 for October services. Payment terms: 30 days.",
                _day(13, 8, 30 + shift),
                attachments=[
                    _file(
                        "Fabrikam-4471.pdf",
                        "application/pdf",
                        pdf_document(["Fabrikam, Inc.", "Invoice 4471", "Amount: $1,250.00"]),
                    )
                ],
            ),
            _Mail(
                f"newsletter-{user}",
                Address("news@northwindtraders.com", "Northwind Traders"),
                [person],
                "Northwind Traders - November newsletter",
                "<h2>November at Northwind</h2><p>New suppliers, holiday hours and more.</p>"
                '<p><a href="https://northwindtraders.com/news/2026-11">Read online</a></p>',
                _day(11, 6, 0 + shift),
                body_type="html",
            ),
            _Mail(
                f"expenses-{user}",
                Address(f"expenses@{DOMAIN}", "Contoso Expenses"),
                [person],
                "Your expense report EXP-3321 was approved",
                "Your expense report EXP-3321 ($184.20) was approved and will be paid on the "
                "next payroll run.",
                _day(9, 10, 15 + shift),
            ),
            _Mail(
                f"password-{user}",
                Address(f"it-helpdesk@{DOMAIN}", "Contoso IT Helpdesk"),
                [person],
                "Your password expires in 7 days",
                "Your Contoso password expires in 7 days. Change it from any company PC with "
                "Ctrl+Alt+Del > Change a password. IT will never ask for your password by email.",
                _day(6, 5, 30 + shift),
                read=True,
            ),
            _Mail(
                f"shipping-{user}",
                Address("orders@adventure-works.com", "Adventure Works"),
                [person],
                "Shipping confirmation: order 55-1029",
                "Your order 55-1029 has shipped and will arrive in 3-5 business days.",
                _day(4, 12, 5 + shift),
            ),
            _Mail(
                f"conference-{user}",
                Address("events@tailspintoys.com", "Tailspin Events"),
                [person],
                "Registration confirmed: SecureCon 2027",
                "You are registered for SecureCon 2027. Your ticket is attached.",
                _day(1, 18, 0 + shift),
                attachments=[
                    _file(
                        "ticket.pdf",
                        "application/pdf",
                        pdf_document(["SecureCon 2027", "Admit one", f"Attendee: {person.name}"]),
                    )
                ],
            ),
        ]
    soc_alerts = [
        _Mail(
            "defender-rule",
            Address("defender-noreply@microsoft.com", "Microsoft Defender"),
            [p["soc"]],
            "Alert: suspicious inbox forwarding rule created",
            "A suspicious inbox rule forwarding mail to an external address was created for "
            "bob@contoso.com. Severity: Medium.",
            _day(2, 3, 12),
        ),
        _Mail(
            "defender-signin",
            Address("defender-noreply@microsoft.com", "Microsoft Defender"),
            [p["soc"]],
            "Alert: atypical travel sign-in",
            "Atypical travel detected for carol@contoso.com (Seattle, Lagos) within 2 hours. "
            "Severity: High.",
            _day(6, 7, 40),
        ),
    ]
    room = [
        _Mail(
            "booking",
            Address(f"facilities@{DOMAIN}", "Contoso Facilities"),
            [Address(f"room-boardroom@{DOMAIN}", "Boardroom")],
            "Booking confirmed: Team offsite",
            "The Boardroom is booked for the team offsite on December 3, 09:00-17:00.",
            _day(10, 11, 0),
            read=True,
        ),
    ]
    return internal + external + soc_alerts + room


def _message_id(mail: _Mail) -> str:
    domain = mail.sender.address.rpartition("@")[2]
    return f"<{mail.key}@{domain}>"


def _demo(store: Store) -> None:
    mailboxes = store.add_mailboxes(_MAILBOXES)
    by_address = {m.address: m for m in mailboxes}
    people = _people()
    rng = random.Random("exchange-sandbox/demo/flags")
    alice, soc = by_address[f"alice@{DOMAIN}"], by_address[f"soc@{DOMAIN}"]
    projects = store.create_folder(alice.id, "inbox", "Projects")
    store.create_folder(soc.id, "inbox", "Triage")

    mails = _demo_mail()
    message_ids = {mail.key: _message_id(mail) for mail in mails}
    batch: list[NewMessage] = []

    def deliver(
        mime: bytes,
        mail_to: Iterable[Address],
        at: dt.datetime,
        sender: Address,
        read: bool | None,
        folder_of: dict[int, str] | None = None,
    ) -> None:
        parsed = parse_mime(mime)
        for recipient in mail_to:
            mailbox = by_address.get(recipient.address)
            if mailbox is None:
                continue
            folder = (folder_of or {}).get(mailbox.id, "inbox")
            is_read = rng.random() < 0.6 if read is None else read
            batch.append(_new(store, mailbox, folder, mime, parsed, at, is_read))
        own = by_address.get(sender.address)
        if own is not None:
            batch.append(_new(store, own, "sentitems", mime, parsed, at, True))

    for mail in mails:
        mime = build_mime(
            sender=mail.sender,
            to=mail.to,
            cc=mail.cc,
            subject=mail.subject,
            body=mail.body,
            body_type=mail.body_type,
            attachments=mail.attachments,
            internet_message_id=message_ids[mail.key],
            in_reply_to=message_ids.get(mail.in_reply_to or ""),
            date=mail.at - dt.timedelta(minutes=1),
        )
        folders = {alice.id: projects.id} if mail.key == "falcon" else None
        deliver(mime, [*mail.to, *mail.cc], mail.at, mail.sender, mail.read, folders)

    campaign_copies: dict[str, bytes] = {}
    for offset, user in enumerate(CAMPAIGN_TARGETS):
        at = _day(1, 8, 14) + dt.timedelta(minutes=offset * 2 + offset // 2)
        mime = campaign_mime(user, people[user], at - dt.timedelta(seconds=40))
        campaign_copies[user] = mime
        deliver(mime, [people[user]], at, CAMPAIGN_SENDER, user == "alice")

    report = build_mime(
        sender=people["alice"],
        to=[people["soc"]],
        subject=f"FW: {CAMPAIGN_SUBJECT}",
        body="Hi SOC,\n\nThis looks like phishing: the sender is contoso-payments.com, not one of "
        "our vendors, and it wants me to sign in to release a payment. Original attached.\n\n"
        "Alice",
        attachments=[_file(f"{CAMPAIGN_SUBJECT}.eml", "message/rfc822", campaign_copies["alice"])],
        internet_message_id=f"<report-inv-20931-alice@{DOMAIN}>",
        date=_day(1, 8, 31),
    )
    deliver(report, [people["soc"]], _day(1, 8, 32), people["alice"], False)
    store.add_messages(batch)

    _demo_people_and_settings(store, by_address, projects.id)
    seed_phish_reports(store, SEED_DATE)


def _new(
    store: Store,
    mailbox: Mailbox,
    folder: str,
    mime: bytes,
    parsed: ParsedMessage,
    at: dt.datetime,
    is_read: bool,
) -> NewMessage:
    target = store.folder(mailbox.id, folder)
    assert target is not None  # every mailbox has the well-known folders
    return NewMessage(
        mailbox.id,
        target.id,
        mime,
        parsed=parsed,
        received_at=at,
        is_read=is_read,
        created_at=at,
    )


def _contact(
    name: str, email: str, company: str, title: str, department: str, phone: str, mobile: str = ""
) -> Contact:
    given, _, surname = name.partition(" ")
    phones = [{"type": "business", "number": phone}]
    if mobile:
        phones.append({"type": "mobile", "number": mobile})
    return Contact(
        id="",
        mailbox_id=0,
        display_name=name,
        given_name=given,
        surname=surname,
        emails=[Address(email, name)],
        phones=phones,
        company=company,
        job_title=title,
        department=department,
    )


def _demo_people_and_settings(
    store: Store, by_address: dict[str, Mailbox], projects_folder_id: str
) -> None:
    alice = by_address[f"alice@{DOMAIN}"]
    bob = by_address[f"bob@{DOMAIN}"]
    dave = by_address[f"dave@{DOMAIN}"]
    soc = by_address[f"soc@{DOMAIN}"]
    for contact in (
        _contact(
            "Bob Smith",
            f"bob@{DOMAIN}",
            "Contoso",
            "Finance Manager",
            "Finance",
            "+1 425 555 0102",
            "+1 425 555 0152",
        ),
        _contact(
            "Carol Nguyen",
            f"carol@{DOMAIN}",
            "Contoso",
            "HR Business Partner",
            "Human Resources",
            "+1 425 555 0103",
        ),
        _contact(
            "Dave Patel",
            f"dave@{DOMAIN}",
            "Contoso",
            "Program Manager",
            "Engineering",
            "+1 425 555 0104",
            "+1 425 555 0154",
        ),
        _contact(
            "Megan Bowen",
            "megan.bowen@fabrikam.com",
            "Fabrikam, Inc.",
            "Accounts Receivable Lead",
            "Finance",
            "+1 206 555 0177",
        ),
        _contact(
            "Lee Gu",
            "lee.gu@northwindtraders.com",
            "Northwind Traders",
            "Account Executive",
            "Sales",
            "+44 20 7946 0958",
            "+44 7700 900123",
        ),
    ):
        store.add_contact(alice.id, contact)
    for contact in (
        _contact(
            "Alice Johnson",
            f"alice@{DOMAIN}",
            "Contoso",
            "Finance Analyst",
            "Finance",
            "+1 425 555 0101",
        ),
        _contact(
            "Contoso CERT",
            f"cert@{DOMAIN}",
            "Contoso",
            "Incident Response",
            "Security",
            "+1 425 555 0199",
        ),
        _contact(
            "Adele Vance",
            "adele.vance@tailspintoys.com",
            "Tailspin Toys",
            "DFIR Consultant",
            "Incident Response",
            "+1 312 555 0130",
            "+1 312 555 0131",
        ),
        _contact(
            "Fabrikam Security",
            "security@fabrikam.com",
            "Fabrikam, Inc.",
            "Security Desk",
            "Security",
            "+1 206 555 0100",
        ),
    ):
        store.add_contact(soc.id, contact)

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    store.set_out_of_office(
        dave.id,
        OutOfOffice(
            status="scheduled",
            external_audience="all",
            start=now - dt.timedelta(days=1),
            end=now + dt.timedelta(days=30),
            internal_reply="<p>I'm out of the office and back next month. For Project Falcon "
            "contact Alice Johnson (alice@contoso.com).</p>",
            external_reply="<p>Thank you for your message. I'm out of the office with limited "
            "access to email and will reply when I'm back.</p>",
        ),
    )
    store.set_mailbox_settings(alice.id, {"timeZone": "Pacific Standard Time"})
    store.add_rule(
        alice.id,
        Rule(
            id="",
            mailbox_id=alice.id,
            display_name="Falcon to Projects",
            sequence=1,
            is_enabled=True,
            conditions={"subjectContains": ["Falcon"]},
            actions={"moveToFolder": projects_folder_id, "stopProcessingRules": True},
        ),
    )
    store.block_sender(bob.id, "deals@promo-blast.example")


# -- bulk ----------------------------------------------------------------------------------------

_BULK_TEMPLATES = [
    ("Weekly status report", "Status: all green this week. Details in the tracker."),
    ("Invoice 4471 from Fabrikam", "Please find the October invoice in the portal."),
    ("Lunch on Friday?", "Lunch on Friday at the usual place?"),
    ("Your password expires in 7 days", "Change your password from any company PC."),
]
_TEMPLATE_ID = "<bulk-template-000000000000@contoso.com>"


def _template(mime: bytes) -> tuple[bytes, ParsedMessage]:
    return mime, parse_mime(mime)


def _bulk(store: Store, mailbox_count: int, per_mailbox: int) -> None:
    specs: list[tuple[str, str, MailboxType, list[str]]] = [
        (f"user{n:05d}@{DOMAIN}", f"Bulk User {n:05d}", "user", [])
        for n in range(1, mailbox_count + 1)
    ]
    mailboxes = store.add_mailboxes(specs)
    sender = Address(f"colleague@{DOMAIN}", "A Colleague")
    target = Address(f"user00000@{DOMAIN}", "Bulk User")
    ordinary = [
        _template(
            build_mime(
                sender=sender,
                to=[target],
                subject=subject,
                body=body,
                internet_message_id=_TEMPLATE_ID,
                date=SEED_DATE,
            )
        )
        for subject, body in _BULK_TEMPLATES
    ]
    campaign = _template(
        build_mime(
            sender=CAMPAIGN_SENDER,
            to=[target],
            subject=CAMPAIGN_SUBJECT,
            body=_CAMPAIGN_HTML,
            body_type="html",
            attachments=_campaign_attachments()[:1],
            internet_message_id=_TEMPLATE_ID,
            date=SEED_DATE - dt.timedelta(days=1),
        )
    )
    inboxes = store.well_known_folder_ids("inbox")
    batch: list[NewMessage] = []
    for mailbox in mailboxes:
        user = mailbox.address.split("@")[0]
        mime: bytes
        for n in range(per_mailbox):
            mime, parsed = campaign if n == 0 else ordinary[n % len(ordinary)]
            message_id = f"<bulk-{user}-{n:06d}@contoso.com>"
            headers = [(k, message_id if v == _TEMPLATE_ID else v) for k, v in parsed.headers]
            parsed = dataclasses.replace(parsed, internet_message_id=message_id, headers=headers)
            at = SEED_DATE - dt.timedelta(minutes=37 * n + mailbox.id % 30)
            batch.append(
                NewMessage(
                    mailbox.id,
                    inboxes[mailbox.id],
                    mime.replace(_TEMPLATE_ID.encode(), message_id.encode(), 1),
                    parsed=parsed,
                    received_at=at,
                    is_read=n % 3 != 0,
                    created_at=at,
                )
            )
        if len(batch) >= 5000:  # bounded memory; still one transaction (see seed())
            store.add_messages(batch)
            batch = []
    store.add_messages(batch)
