"""Targets, attachment selection, deletion outcomes and permission checks (pure logic)."""

from __future__ import annotations

import pytest

from exchange_pack.actions.attachments import require_selection, select_attachments
from exchange_pack.actions.connection import check_actions, missing_permissions
from exchange_pack.actions.deletion import drop_foreign_ids, raise_when_all_failed
from exchange_pack.actions.drafts import attachment_files, outgoing_message
from exchange_pack.actions.targets import (
    delete_targets,
    mailbox_of,
    message_ref,
    normalize_internet_message_id,
)
from exchange_pack.config import ConnectionConfig
from exchange_pack.errors import (
    AccessDeniedError,
    AttachmentNotFoundError,
    InputError,
    MailboxNotFoundError,
)
from exchange_pack.manifest import load_manifest
from exchange_pack.models import AttachmentInfo, DeleteOutcome

CONFIG = ConnectionConfig(
    tenant_id="t", client_id="c", client_secret="s", default_mailbox="soc@contoso.com"
)
NO_DEFAULT = ConnectionConfig(tenant_id="t", client_id="c", client_secret="s")


def test_mailbox_defaults_to_the_config() -> None:
    assert mailbox_of({}, CONFIG) == "soc@contoso.com"
    assert mailbox_of({"mailbox": "alice@contoso.com"}, CONFIG) == "alice@contoso.com"
    with pytest.raises(InputError, match="default_mailbox"):
        mailbox_of({}, NO_DEFAULT)


def test_message_reference() -> None:
    assert message_ref({"message_id": "AAMkAD=="}) == "AAMkAD=="
    assert message_ref({"internet_message_id": "a@b"}) == "<a@b>"
    assert normalize_internet_message_id(" <a@b> ") == "<a@b>"
    with pytest.raises(InputError):
        message_ref({})


def test_delete_targets_cover_every_message_in_every_mailbox() -> None:
    targets = delete_targets(
        {
            "mailboxes": ["alice@contoso.com", "Alice@contoso.com", "bob@contoso.com"],
            "message_ids": ["AAMk1", "AAMk1", "aamk1"],
            "internet_message_id": "inv@contoso-payments.com",
        },
        CONFIG,
    )
    assert [(t.mailbox, t.ref) for t in targets] == [
        ("alice@contoso.com", "AAMk1"),
        ("bob@contoso.com", "AAMk1"),
        ("alice@contoso.com", "aamk1"),  # ids are case-sensitive (base64)
        ("bob@contoso.com", "aamk1"),
        ("alice@contoso.com", "<inv@contoso-payments.com>"),
        ("bob@contoso.com", "<inv@contoso-payments.com>"),
    ]
    assert [t.mailbox for t in delete_targets({"message_id": "AAMk1"}, CONFIG)] == [
        "soc@contoso.com"
    ]
    with pytest.raises(InputError):
        delete_targets({"mailbox": "a@contoso.com"}, CONFIG)


def outcome(mailbox: str, ref: str, status: str) -> DeleteOutcome:
    return DeleteOutcome(mailbox=mailbox, message=ref, status=status)


def test_backend_id_not_found_elsewhere_is_dropped_but_internet_ids_are_kept() -> None:
    outcomes = [
        outcome("a@x", "AAMk1", "deleted"),
        outcome("b@x", "AAMk1", "not_found"),
        outcome("a@x", "AAMk2", "not_found"),
        outcome("b@x", "AAMk2", "not_found"),
        outcome("a@x", "<m@x>", "deleted"),
        outcome("b@x", "<m@x>", "not_found"),
    ]
    kept = [(o.mailbox, o.message, o.status) for o in drop_foreign_ids(outcomes)]
    assert kept == [
        ("a@x", "AAMk1", "deleted"),
        ("a@x", "AAMk2", "not_found"),
        ("b@x", "AAMk2", "not_found"),
        ("a@x", "<m@x>", "deleted"),
        ("b@x", "<m@x>", "not_found"),
    ]


def test_all_failed_alike_raises_otherwise_not() -> None:
    denied = AccessDeniedError("denied")
    with pytest.raises(AccessDeniedError):
        raise_when_all_failed([denied, AccessDeniedError("denied too")])
    raise_when_all_failed([denied, None])
    raise_when_all_failed([denied, MailboxNotFoundError("gone")])
    raise_when_all_failed([])


ATTACHMENTS = [
    AttachmentInfo(id="A1", name="INV-20931.pdf", content_type="application/pdf", size=10),
    AttachmentInfo(id="A2", name="INV-20931.zip", content_type="application/zip", size=10),
    AttachmentInfo(id="A3", name="notice", content_type="message/rfc822", size=10, kind="item"),
]


def test_select_attachments() -> None:
    warnings: list[str] = []
    assert select_attachments(ATTACHMENTS, None, None, warnings.append) == ATTACHMENTS
    chosen = select_attachments(ATTACHMENTS, ["A3"], ["inv-20931.PDF", "x.txt"], warnings.append)
    assert [a.id for a in chosen] == ["A1", "A3"]
    assert warnings == ["No attachment matches x.txt; acting on the others."]
    with pytest.raises(AttachmentNotFoundError, match=r"INV-20931\.pdf"):
        select_attachments(ATTACHMENTS, ["nope"], None, warnings.append)


def test_deleting_every_attachment_needs_an_explicit_flag() -> None:
    with pytest.raises(InputError, match="all_attachments"):
        require_selection(None, [], False)
    require_selection(None, None, True)
    require_selection(["A1"], None, False)


def test_attachment_paths_are_checked_before_sending(tmp_path) -> None:
    good = tmp_path / "report.pdf"
    good.write_bytes(b"%PDF")
    assert attachment_files([str(good)]) == [good.resolve()]
    with pytest.raises(InputError, match="not a file"):
        attachment_files([str(tmp_path / "missing.pdf")])
    with pytest.raises(InputError, match="not a file"):
        attachment_files([str(tmp_path)])
    draft = outgoing_message(
        {"to": ["a@x.com", "A@x.com"], "subject": "s", "attachment_paths": [str(good)]}
    )
    assert draft.to == ["a@x.com"] and draft.save_to_sent_items is True


def test_permission_checks_follow_the_manifest() -> None:
    assert missing_permissions(["Mail.Read"], ["Mail.ReadWrite"]) == []
    assert missing_permissions(["Mail.ReadWrite", "Mail.Send"], ["Mail.Read"]) == [
        "Mail.ReadWrite",
        "Mail.Send",
    ]
    readonly = ["Mail.Read", "MailboxSettings.Read", "Contacts.Read", "User.Read.All"]
    checks = {c.id: c for c in check_actions(load_manifest(), "graph", readonly)}
    assert checks["search_emails_extended"].allowed
    assert checks["test_connection"].allowed
    assert not checks["delete_email"].allowed
    assert checks["delete_email"].missing == ["Mail.ReadWrite"]
    assert checks["send_email"].missing == ["Mail.Send"]
    ews = {c.id: c for c in check_actions(load_manifest(), "ews", [])}
    assert not ews["get_contacts"].allowed and ews["get_contacts"].missing == ["full_access_as_app"]
    unknown = check_actions(load_manifest(), "ews", None)
    assert all(c.allowed for c in unknown)
