"""Choosing a message's attachments by id or name, and saving them under ``output_dir``."""

from __future__ import annotations

from collections.abc import Sequence

from ..backend import MailboxBackend
from ..errors import AttachmentNotFoundError, ConfigError, InputError
from ..models import AttachmentInfo, FileDigest, MessageRef, SavedAttachment
from . import Warn
from .files import INLINE_CONTENT_LIMIT, FileTooLargeError, OutputFolder


def select_attachments(
    attachments: Sequence[AttachmentInfo],
    ids: Sequence[str] | None,
    names: Sequence[str] | None,
    warn: Warn,
) -> list[AttachmentInfo]:
    """All attachments when neither ids nor names are given, else those matching either.

    Files come first, then attached messages, each in message order: the one order both
    backends can give (exchangelib lists item attachments before file attachments).
    Names match case-insensitively. Nothing matched raises AttachmentNotFoundError; a
    requested id or name that matched nothing while others did becomes a warning."""
    attachments = sorted(attachments, key=lambda a: a.kind == "item")
    if not ids and not names:
        return attachments
    wanted_ids = set(ids or [])
    wanted_names = {n.casefold() for n in names or []}
    chosen = [a for a in attachments if a.id in wanted_ids or a.name.casefold() in wanted_names]
    missing = sorted(wanted_ids - {a.id for a in chosen}) + sorted(
        n for n in names or [] if n.casefold() not in {a.name.casefold() for a in chosen}
    )
    if not chosen:
        present = ", ".join(a.name for a in attachments) or "none"
        raise AttachmentNotFoundError(
            f"No attachment matches {', '.join(missing)} (the message has: {present}).",
        )
    if missing:
        warn(f"No attachment matches {', '.join(missing)}; acting on the others.")
    return chosen


def require_selection(
    ids: Sequence[str] | None, names: Sequence[str] | None, everything: bool
) -> None:
    """delete_attachments removes all attachments only when asked to explicitly."""
    if not ids and not names and not everything:
        raise InputError(
            "Name the attachments to remove (attachment_ids or attachment_names), "
            "or set all_attachments to true.",
        )


def save_attachments(
    mailbox: MailboxBackend,
    message: MessageRef,
    attachments: Sequence[AttachmentInfo],
    folder: OutputFolder,
    *,
    include_content: bool,
    max_size_bytes: int,
    warn: Warn,
) -> list[SavedAttachment]:
    """Streams each attachment into its own file; attached messages become ``.eml`` files."""
    saved: list[SavedAttachment] = []
    for attachment in attachments:
        info = attachment.model_dump()
        if attachment.size > max_size_bytes:
            saved.append(
                SavedAttachment(**info, skipped_reason=_too_large(attachment.size, max_size_bytes))
            )
            continue
        extension = ".eml" if attachment.kind == "item" else None
        try:
            with mailbox.open_attachment(message, attachment) as chunks:
                digest = folder.write(
                    attachment.name,
                    chunks,
                    extension=extension,
                    max_size_bytes=max_size_bytes,
                    include_content=include_content,
                )
        except FileTooLargeError as error:
            saved.append(
                SavedAttachment(**info, skipped_reason=_too_large(error.size, error.limit))
            )
            continue
        if include_content and digest.content_base64 is None:
            warn(
                f"{attachment.name}: content not included (over {INLINE_CONTENT_LIMIT} bytes); "
                f"read it from {digest.path}."
            )
        saved.append(SavedAttachment(**info, file=digest))
    return saved


def _too_large(size: int, limit: int) -> str:
    return f"larger than max_size_bytes ({size} > {limit} bytes); not downloaded"


def keep_copy(
    mailbox: MailboxBackend, message: MessageRef, attachment: AttachmentInfo, folder: OutputFolder
) -> FileDigest:
    """Saves one attachment (an attached message as ``.eml``) before it is removed."""
    extension = ".eml" if attachment.kind == "item" else None
    try:
        with mailbox.open_attachment(message, attachment) as chunks:
            return folder.write(attachment.name, chunks, extension=extension)
    except OSError as exc:
        raise ConfigError(
            f"{attachment.name}: not removed, its copy could not be written in {folder.root} "
            f"({exc.strerror}).",
            hint="Give output_dir room and write access, or set save_copies to false.",
        ) from None
