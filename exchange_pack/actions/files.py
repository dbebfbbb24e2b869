"""Files the actions write under ``output_dir``: safe unique names, streamed, hashed on the way.

A name taken from a mail (attachment name, subject) is hostile until cleaned: it cannot carry a
path out of the folder (``../../etc/passwd``), a NUL or control character, a Windows-reserved
device name, a leading dot, a leading dash (``-rf`` becomes ``_-rf``: a shell would read it as
options), or more than ``MAX_NAME_BYTES`` bytes of UTF-8.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from ..models import FileDigest

MAX_NAME_BYTES = 200
INLINE_CONTENT_LIMIT = 1024 * 1024  # include_content embeds base64 only up to this size
_MAX_EXTENSION_BYTES = 16
_MAX_UNIQUE_TRIES = 10_000

_SEPARATORS = re.compile(r"[/\\]+")
# Control characters, the characters Windows forbids in names, and Unicode format characters
# such as the right-to-left override used to disguise "exe.pdf" as "fdp.exe".
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]')
_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{dev}{n}" for dev in ("COM", "LPT") for n in "123456789¹²³"]
)
_OPEN_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
)


class FileTooLargeError(Exception):
    """The content is larger than the caller's ``max_size_bytes``; nothing was kept."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes is over max_size_bytes ({limit})")
        self.size = size
        self.limit = limit


def safe_file_name(name: str | None, fallback: str = "attachment") -> str:
    """A name that stays inside its folder on POSIX and Windows, NFC, at most 200 bytes."""
    text = unicodedata.normalize("NFC", name or "")
    parts = [p for p in _SEPARATORS.split(text) if p.strip() not in ("", ".", "..")]
    text = _UNSAFE_CHARS.sub("_", "_".join(parts))
    text = text.strip(" ").lstrip(". ").rstrip(". ")
    if not text:
        text = fallback
    if text.startswith("-"):  # a shell or script would take "-rf" for options
        text = f"_{text}"
    if text.split(".", 1)[0].upper().rstrip(" ") in _WINDOWS_RESERVED:
        text = f"_{text}"
    return _fit(text, MAX_NAME_BYTES)


def split_extension(name: str) -> tuple[str, str]:
    """``("report", ".pdf")``; a suffix longer than a real extension stays in the stem."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext.encode()) + 1 > _MAX_EXTENSION_BYTES or " " in ext:
        return name, ""
    return stem, f".{ext}"


def with_extension(name: str, extension: str) -> str:
    """``name`` ending in ``extension`` (``.eml``), added when missing, still within bounds."""
    if name.lower().endswith(extension.lower()):
        return name
    return _fit(name + extension, MAX_NAME_BYTES)


def _fit(name: str, max_bytes: int) -> str:
    """Truncate to ``max_bytes`` of UTF-8 on a character boundary, keeping the extension."""
    if len(name.encode()) <= max_bytes:
        return name
    stem, ext = split_extension(name)
    room = max_bytes - len(ext.encode())
    cut = stem.encode()[:room].decode("utf-8", errors="ignore").rstrip(". ")
    return unicodedata.normalize("NFC", cut or "_") + ext


class OutputFolder:
    """The action's ``output_dir``: every file it creates gets a fresh name inside it."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()

    def reserve(self, name: str | None, *, extension: str | None = None) -> tuple[Path, int]:
        """Creates an empty file with a safe, unused name and returns it with its descriptor."""
        self.root.mkdir(parents=True, exist_ok=True)
        base = safe_file_name(name)
        if extension:
            base = with_extension(base, extension)
        stem, ext = split_extension(base)
        for attempt in range(1, _MAX_UNIQUE_TRIES + 1):
            candidate = base if attempt == 1 else _numbered(stem, ext, attempt)
            path = self.root / candidate
            if path.parent != self.root:  # cannot happen after safe_file_name; belt and braces
                raise ValueError(f"unsafe file name {candidate!r}")
            try:
                return path, os.open(path, _OPEN_FLAGS, 0o644)
            except FileExistsError:
                continue
        raise FileExistsError(f"no free file name for {base!r} in {self.root}")

    def write(
        self,
        name: str | None,
        chunks: Iterable[bytes],
        *,
        extension: str | None = None,
        max_size_bytes: int | None = None,
        include_content: bool = False,
    ) -> FileDigest:
        """Streams ``chunks`` into a new file, computing SHA-256, SHA-1 and MD5 as they pass.

        Over ``max_size_bytes`` the partial file is removed and FileTooLargeError raised.
        ``include_content`` embeds base64 only when the file is at most INLINE_CONTENT_LIMIT.
        """
        path, fd = self.reserve(name, extension=extension)
        return self.fill(
            path, fd, chunks, max_size_bytes=max_size_bytes, include_content=include_content
        )

    @staticmethod
    def fill(
        path: Path,
        fd: int,
        chunks: Iterable[bytes],
        *,
        max_size_bytes: int | None = None,
        include_content: bool = False,
    ) -> FileDigest:
        """Streams ``chunks`` into a file ``reserve`` created (closing ``fd``), hashing as they
        pass; on any failure the file is removed."""
        # SHA-1 and MD5 are indicators for threat-intel lookups, not integrity checks.
        digests = (
            hashlib.sha256(),
            hashlib.sha1(usedforsecurity=False),
            hashlib.md5(usedforsecurity=False),
        )
        kept: bytearray | None = bytearray() if include_content else None
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    if not chunk:
                        continue
                    size += len(chunk)
                    if max_size_bytes is not None and size > max_size_bytes:
                        raise FileTooLargeError(size, max_size_bytes)
                    out.write(chunk)
                    for digest in digests:
                        digest.update(chunk)
                    if kept is not None:
                        kept += chunk
                        if len(kept) > INLINE_CONTENT_LIMIT:
                            kept = None
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        sha256, sha1, md5 = (d.hexdigest() for d in digests)
        return FileDigest(
            path=str(path),
            file_name=path.name,
            size=size,
            sha256=sha256,
            sha1=sha1,
            md5=md5,
            content_base64=base64.b64encode(kept).decode("ascii") if kept is not None else None,
        )


def discard(path: Path, fd: int) -> None:
    """Closes and removes a file ``reserve`` created that will not be filled."""
    try:
        os.close(fd)
    finally:
        path.unlink(missing_ok=True)


def _numbered(stem: str, ext: str, n: int) -> str:
    """``report (2).pdf``, truncating the stem so the result stays within MAX_NAME_BYTES."""
    suffix = f" ({n}){ext}"
    room = MAX_NAME_BYTES - len(suffix.encode())
    return stem.encode()[:room].decode("utf-8", errors="ignore") + suffix
