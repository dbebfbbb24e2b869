"""The outgoing message of send_email and reply_to_email, checked before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..models import OutgoingMessage
from .targets import unique

MAX_TOTAL_ATTACHMENT_BYTES = 150 * 1024 * 1024  # Exchange Online's message size ceiling


def attachment_files(paths: list[str] | None) -> list[Path]:
    """The files to attach: each must exist and be readable, together at most 150 MB."""
    files: list[Path] = []
    total = 0
    for raw in paths or []:
        path = Path(raw).expanduser()
        if not path.is_file():
            raise InputError(f"attachment_paths: {raw} is not a file.")
        try:
            with path.open("rb"):
                pass
        except OSError as error:
            raise InputError(f"attachment_paths: cannot read {raw} ({error.strerror}).") from None
        total += path.stat().st_size
        files.append(path.resolve())
    if total > MAX_TOTAL_ATTACHMENT_BYTES:
        raise InputError(
            f"attachment_paths: {total} bytes in all, over the {MAX_TOTAL_ATTACHMENT_BYTES} "
            "bytes a message can carry."
        )
    return files


def outgoing_message(params: Mapping[str, Any]) -> OutgoingMessage:
    """The draft a backend sends: recipients de-duplicated, attachments checked."""
    return OutgoingMessage(
        to=unique(params.get("to") or []),
        cc=unique(params.get("cc") or []),
        bcc=unique(params.get("bcc") or []),
        subject=params.get("subject") or "",
        body=params.get("body") or "",
        body_type=params.get("body_type") or "text",
        attachment_paths=[str(p) for p in attachment_files(params.get("attachment_paths"))],
        importance=params.get("importance") or "normal",
        reply_to=unique(params.get("reply_to") or []),
        save_to_sent_items=params.get("save_to_sent_items", True),
    )


def require_recipients(draft: OutgoingMessage) -> None:
    """send_email needs at least one recipient."""
    if not (draft.to or draft.cc or draft.bcc):
        raise InputError("Give at least one recipient in to, cc or bcc.")
