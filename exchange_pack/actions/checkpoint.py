"""poll_mailbox's checkpoint: an opaque string the engine stores and hands back, and the local
journal that recognises a re-delivery.

The checkpoint says where the next run starts: the backend's sync token (Graph delta token,
EWS SyncState; None = the folder's initial round, from ``floor``), the keys of messages
delivered since that token when a run delivered only part of its changes (``held``), and the
keys delivered near the newest received time (``recent``), which let a restart after an
expired token skip what was delivered. Keys are backend-neutral (Message-ID + received time),
so a checkpoint survives a switch of backend by restarting from the watermark.

A crash between the fetch and the engine storing the new checkpoint makes the engine pass the
same checkpoint again: the run delivers the same messages again (never skips). The journal
(``output_dir/.poll-journal.json``) remembers which keys each checkpoint already delivered, so
those come out marked ``redelivered``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import tempfile
import zlib
from pathlib import Path

from pydantic import ValidationError

from ..errors import InputError
from ..models import MessageSummary, Model

PREFIX = "xp1."
LOOKBACK = dt.timedelta(minutes=15)  # how far before the watermark a late message is caught
JOURNAL_FILE = ".poll-journal.json"
JOURNAL_ENTRIES = 64


class Checkpoint(Model):
    backend: str
    mailbox: str
    folder: str
    sync: str | None = None
    floor: str  # ISO UTC: nothing received before is delivered on an initial round
    watermark: str  # ISO UTC: the newest received time delivered (floor at first)
    held: list[str] = []
    recent: list[tuple[str, str]] = []  # (received_at, key)


def message_key(message: MessageSummary) -> str:
    """The backend-neutral key of a delivered message (16 hex digits)."""
    text = f"{message.internet_message_id or message.id}|{message.received_at or ''}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def encode(checkpoint: Checkpoint) -> str:
    """``xp1.`` + base64url(zlib(JSON)): opaque to the engine, one string to store."""
    raw = json.dumps(checkpoint.dump(), separators=(",", ":")).encode("utf-8")
    return PREFIX + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode(text: str) -> Checkpoint:
    """The checkpoint inside ``text``; InputError naming ``checkpoint`` for anything else."""
    if not text.startswith(PREFIX):
        raise InputError("checkpoint: not a checkpoint written by poll_mailbox.")
    try:
        raw = zlib.decompressobj().decompress(
            base64.urlsafe_b64decode(text[len(PREFIX) :].encode("ascii")), 1 << 22
        )
        checkpoint = Checkpoint.model_validate(json.loads(raw))
        for stamp in (checkpoint.floor, checkpoint.watermark, *(t for t, _ in checkpoint.recent)):
            parse_time(stamp)
        return checkpoint
    except (binascii.Error, zlib.error, ValueError, UnicodeError, ValidationError):
        raise InputError("checkpoint: damaged or not written by poll_mailbox.") from None


def parse_time(value: str) -> dt.datetime:
    """An ISO 8601 time (``Z`` or offset) as an aware UTC datetime."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


class Journal:
    """Keys each input checkpoint delivered, in ``output_dir`` (last JOURNAL_ENTRIES kept)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / JOURNAL_FILE

    @staticmethod
    def _digest(checkpoint: str) -> str:
        return hashlib.sha256(checkpoint.encode("utf-8")).hexdigest()[:32]

    def _load(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def delivered(self, checkpoint: str) -> set[str]:
        """Keys a run from this same checkpoint delivered before."""
        return set(self._load().get(self._digest(checkpoint), []))

    def record(self, checkpoint: str, keys: list[str]) -> None:
        """Remembers what this run, started from ``checkpoint``, delivered."""
        data = self._load()
        digest = self._digest(checkpoint)
        merged = list(dict.fromkeys([*data.pop(digest, []), *keys]))
        data[digest] = merged
        for old in list(data)[:-JOURNAL_ENTRIES]:
            del data[old]
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".poll-journal-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(temp, self.path)
