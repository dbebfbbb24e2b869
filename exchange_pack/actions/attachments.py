"""Choosing a message's attachments by id or name, and saving them under ``output_dir``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..backend import MailboxBackend
from ..errors import AttachmentNotFoundError, ConfigError, InputError
from ..models import AttachmentInfo, FileDigest, MessageRef, SavedAttachment
from . import Warn
from .files import INLINE_CONTENT_LIMIT, FileTooLargeError, OutputFolder, discard

# Downloads of one message's attachments in flight at once: Outlook allows 4 concurrent
# requests per app and mailbox (Graph and EWS alike), so one action never throttles itself.
DOWNLOAD_CONCURRENCY = 4


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
    """Streams each attachment into its own file, up to DOWNLOAD_CONCURRENCY at once;
    attached messages become ``.eml`` files. Results and file names follow ``attachments``."""
    # Names are reserved in message order before any download starts, so two attachments
    # with one name get "x.pdf" and "x (2).pdf" in that order, whichever finishes first.
    jobs: list[_Download | SavedAttachment] = []
    for attachment in attachments:
        if attachment.size > max_size_bytes:
            reason = _too_large(attachment.size, max_size_bytes)
            jobs.append(SavedAttachment(**attachment.model_dump(), skipped_reason=reason))
            continue
        extension = ".eml" if attachment.kind == "item" else None
        path, fd = folder.reserve(attachment.name, extension=extension)
        jobs.append(_Download(attachment, path, fd))
    downloads = [job for job in jobs if isinstance(job, _Download)]
    run = partial(
        _download,
        mailbox,
        message,
        max_size_bytes=max_size_bytes,
        include_content=include_content,
    )
    if len(downloads) <= 1 or DOWNLOAD_CONCURRENCY <= 1:
        for job in downloads:
            job.result = run(job)
    else:
        _download_all(downloads, run)
    saved: list[SavedAttachment] = []
    for job in jobs:
        if isinstance(job, SavedAttachment):
            saved.append(job)
            continue
        assert job.result is not None
        saved.append(job.result)
        digest = job.result.file
        if include_content and digest is not None and digest.content_base64 is None:
            warn(
                f"{job.attachment.name}: content not included (over {INLINE_CONTENT_LIMIT} "
                f"bytes); read it from {digest.path}."
            )
    return saved


@dataclass
class _Download:
    """One attachment to stream into the file reserved for it."""

    attachment: AttachmentInfo
    path: Path
    fd: int
    result: SavedAttachment | None = None


def _download(
    mailbox: MailboxBackend,
    message: MessageRef,
    job: _Download,
    *,
    max_size_bytes: int,
    include_content: bool,
) -> SavedAttachment:
    """One attachment's request, streamed into its file (removed again on failure)."""
    info = job.attachment.model_dump()
    filled = False
    try:
        with mailbox.open_attachment(message, job.attachment) as chunks:
            filled = True  # fill owns the file from here: it closes, and removes on failure
            digest = OutputFolder.fill(
                job.path,
                job.fd,
                chunks,
                max_size_bytes=max_size_bytes,
                include_content=include_content,
            )
    except FileTooLargeError as error:
        return SavedAttachment(**info, skipped_reason=_too_large(error.size, error.limit))
    finally:
        if not filled:
            discard(job.path, job.fd)
    return SavedAttachment(**info, file=digest)


def _download_all(downloads: list[_Download], run: Callable[[_Download], SavedAttachment]) -> None:
    """Runs the downloads on a bounded pool; the first failure in message order is raised
    after the others stopped, with no file left behind for a download that never ran."""
    with ThreadPoolExecutor(max_workers=min(DOWNLOAD_CONCURRENCY, len(downloads))) as pool:
        futures = [pool.submit(run, job) for job in downloads]
        failure: BaseException | None = None
        for job, future in zip(downloads, futures, strict=True):
            if failure is not None and future.cancel():
                discard(job.path, job.fd)
                continue
            try:
                job.result = future.result()
            except BaseException as error:  # re-raised below, once the pool is idle
                failure = failure or error
    if failure is not None:
        raise failure


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
