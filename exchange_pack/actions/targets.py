"""Which mailboxes and messages an action works on, from its flat parameters and the config."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..backend import Backend, MailboxBackend, is_internet_message_id, is_unresolved
from ..config import ConnectionConfig
from ..errors import InputError
from ..models import MessageRef, MessageSummary, Model
from ..session import Session


class Target(Model):
    """One message to act on: the mailbox and the reference as the analyst gave it."""

    mailbox: str
    ref: str

    @property
    def is_backend_id(self) -> bool:
        return not is_internet_message_id(self.ref)


def normalize_internet_message_id(value: str) -> str:
    """``<id@host>``: adds the angle brackets a copied header value often lacks."""
    value = value.strip()
    if not value.startswith("<"):
        value = f"<{value}"
    if not value.endswith(">"):
        value = f"{value}>"
    return value


def unique(values: Iterable[str], *, fold_case: bool = True) -> list[str]:
    """Order-preserving de-duplication; addresses fold case, backend ids (base64) must not."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.strip().lower() if fold_case else value.strip()
        if key and key not in seen:
            seen.add(key)
            out.append(value.strip())
    return out


def mailbox_of(params: Mapping[str, Any], config: ConnectionConfig) -> str:
    """``mailbox``, else the config's ``default_mailbox``."""
    address = params.get("mailbox") or config.default_mailbox
    if not address:
        raise InputError(
            "No mailbox given and no default_mailbox in the connection config.",
            hint="Pass the mailbox parameter or set default_mailbox in the connection.",
        )
    return str(address).strip()


def mailboxes_of(params: Mapping[str, Any], config: ConnectionConfig) -> list[str]:
    """``mailboxes`` plus ``mailbox``, else the default mailbox (not ``all_mailboxes``)."""
    given = [
        *(params.get("mailboxes") or []),
        *([params["mailbox"]] if params.get("mailbox") else []),
    ]
    return unique(given) or [mailbox_of(params, config)]


def search_scope(
    params: Mapping[str, Any], config: ConnectionConfig, backend: Backend
) -> list[str]:
    """The mailboxes a search covers; ``all_mailboxes`` asks the backend for searchable ones."""
    if every_mailbox(params):
        return unique(box.address for box in backend.searchable_mailboxes())
    return mailboxes_of(params, config)


def every_mailbox(params: Mapping[str, Any]) -> bool:
    """Whether ``all_mailboxes`` is asked (refused beside mailbox / mailboxes)."""
    if not params.get("all_mailboxes"):
        return False
    if params.get("mailbox") or params.get("mailboxes"):
        raise InputError("Give all_mailboxes, or mailbox / mailboxes, not both.")
    return True


def message_ref(params: Mapping[str, Any]) -> str:
    """The one message an action targets: ``message_id``, else ``internet_message_id``."""
    if params.get("message_id"):
        return str(params["message_id"]).strip()
    if params.get("internet_message_id"):
        return normalize_internet_message_id(str(params["internet_message_id"]))
    raise InputError(
        "Name the message: give message_id (a Graph id or EWS ItemId) or internet_message_id.",
    )


def message_refs(params: Mapping[str, Any]) -> list[str]:
    """Every message named by ``message_ids`` (backend ids or ``<internet message ids>``),
    ``message_id`` and ``internet_message_id``."""
    refs = [str(v).strip() for v in params.get("message_ids") or []]
    if params.get("message_id"):
        refs.append(str(params["message_id"]).strip())
    if params.get("internet_message_id"):
        refs.append(normalize_internet_message_id(str(params["internet_message_id"])))
    refs = unique(refs, fold_case=False)
    if not refs:
        raise InputError(
            "Name the messages: give message_ids, message_id or internet_message_id.",
        )
    return refs


def delete_targets(params: Mapping[str, Any], config: ConnectionConfig) -> list[Target]:
    """Every (mailbox, message) pair delete_email looks at: each reference in each mailbox."""
    mailboxes = mailboxes_of(params, config)
    return [Target(mailbox=box, ref=ref) for ref in message_refs(params) for box in mailboxes]


def message_ref_of(message: MessageRef) -> MessageRef:
    """Only the reference fields of a message (a MessageSummary carries many more)."""
    return MessageRef(
        mailbox=message.mailbox,
        id=message.id,
        internet_message_id=message.internet_message_id,
        subject=message.subject,
    )


def locate_message(
    session: Session,
    params: Mapping[str, Any],
    config: ConnectionConfig,
    *,
    resolved: bool = False,
    deferred: bool = False,
) -> tuple[MailboxBackend, MessageSummary]:
    """The mailbox and the message's reference (``MailboxBackend.reference``): a backend id
    is read only when ``resolved``, else only its ``id`` is known until the request doing the
    work answers the rest (``completed``); an internet_message_id costs its one lookup, which
    ``deferred`` lets a backend make inside the work's own requests."""
    mailbox = session.backend.mailbox(mailbox_of(params, config))
    return mailbox, mailbox.reference(message_ref(params), resolved=resolved, deferred=deferred)


def completed(
    message: MessageRef, internet_message_id: str | None, subject: str | None
) -> MessageRef:
    """The reference fields of ``message``; an unresolved one takes its internet_message_id
    and subject from the answer that did the work (a copy's reference, the MIME headers)."""
    ref = message_ref_of(message)
    if not is_unresolved(message):
        return ref
    return ref.model_copy(update={"internet_message_id": internet_message_id, "subject": subject})
