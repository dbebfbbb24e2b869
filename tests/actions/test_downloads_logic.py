"""Concurrent attachment downloads (save_attachments): order, bound, failures (pure logic).

A stand-in mailbox serves bytes from memory so the scheduling can be steered; the downloads
over real HTTPS are in test_e2e_read.py."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from exchange_pack.actions import attachments as downloads
from exchange_pack.actions.attachments import save_attachments
from exchange_pack.actions.files import OutputFolder
from exchange_pack.errors import TransientError
from exchange_pack.models import AttachmentInfo, MessageRef

MESSAGE = MessageRef(mailbox="alice@contoso.com", id="m1", internet_message_id=None)


class SlowMailbox:
    """Serves ``content[attachment.id]`` after ``delay[attachment.id]`` seconds; counts how
    many downloads are open at once."""

    def __init__(self, content: dict[str, bytes], delay: dict[str, float]) -> None:
        self.content = content
        self.delay = delay
        self.failing: set[str] = set()
        self.open_now = 0
        self.most_open = 0
        self.started: list[str] = []
        self._lock = threading.Lock()

    @contextmanager
    def open_attachment(self, message: MessageRef, attachment: AttachmentInfo) -> Iterator:
        with self._lock:
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
            self.started.append(attachment.id)
        try:
            time.sleep(self.delay.get(attachment.id, 0.0))
            if attachment.id in self.failing:
                raise TransientError(f"download of {attachment.id} interrupted")
            data = self.content[attachment.id]
            yield iter([data[: len(data) // 2], data[len(data) // 2 :]])
        finally:
            with self._lock:
                self.open_now -= 1


def _info(attachment_id: str, name: str, size: int) -> AttachmentInfo:
    return AttachmentInfo(id=attachment_id, name=name, content_type="application/pdf", size=size)


def _save(mailbox: SlowMailbox, infos: list[AttachmentInfo], root: Path, **options: int):
    return save_attachments(
        mailbox,  # type: ignore[arg-type]
        MESSAGE,
        infos,
        OutputFolder(root),
        include_content=False,
        max_size_bytes=options.get("max_size_bytes", 10_000),
        warn=lambda text: None,
    )


def test_names_and_results_follow_message_order_whoever_finishes_first(tmp_path: Path) -> None:
    content = {"a": b"first report" * 50, "b": b"second report" * 50, "c": b"notes" * 10}
    # The first "report.pdf" is the slowest: it still gets the plain name.
    mailbox = SlowMailbox(content, {"a": 0.3, "b": 0.0, "c": 0.0})
    infos = [_info("a", "report.pdf", 600), _info("b", "report.pdf", 650), _info("c", "n.txt", 50)]
    saved = _save(mailbox, infos, tmp_path)
    assert [s.id for s in saved] == ["a", "b", "c"]
    assert [s.file.file_name for s in saved if s.file] == ["report.pdf", "report (2).pdf", "n.txt"]
    for entry in saved:
        assert entry.file is not None
        data = Path(entry.file.path).read_bytes()
        assert data == content[entry.id]
        assert entry.file.sha256 == hashlib.sha256(content[entry.id]).hexdigest()
    assert mailbox.most_open > 1  # they did overlap


def test_at_most_four_downloads_in_flight(tmp_path: Path) -> None:
    content = {str(i): bytes([i]) * 100 for i in range(10)}
    mailbox = SlowMailbox(content, dict.fromkeys(content, 0.05))
    infos = [_info(i, f"f{i}.bin", 100) for i in content]
    saved = _save(mailbox, infos, tmp_path)
    assert len([s for s in saved if s.file]) == 10
    assert mailbox.most_open == downloads.DOWNLOAD_CONCURRENCY == 4


def test_a_failed_download_raises_and_leaves_no_partial_or_unused_file(tmp_path: Path) -> None:
    content = {str(i): bytes([65 + i]) * 100 for i in range(8)}
    mailbox = SlowMailbox(content, dict.fromkeys(content, 0.05))
    mailbox.failing = {"1"}
    infos = [_info(i, f"f{i}.bin", 100) for i in content]
    with pytest.raises(TransientError, match="download of 1"):
        _save(mailbox, infos, tmp_path)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert "f1.bin" not in left
    # Every file left is complete; downloads that never started left no empty file behind.
    started = set(mailbox.started)
    assert left == sorted(f"f{i}.bin" for i in started if i != "1")
    for name in left:
        assert (tmp_path / name).read_bytes() == content[name[1:-4]]


def test_oversized_attachments_are_skipped_in_place(tmp_path: Path) -> None:
    content = {"a": b"x" * 10, "b": b"y" * 5000, "c": b"z" * 10}
    mailbox = SlowMailbox(content, {})
    # "b" declares a small size but streams more than the limit: removed while downloading.
    infos = [_info("a", "a.bin", 10), _info("b", "b.bin", 10), _info("big", "big.bin", 10**9)]
    infos.append(_info("c", "c.bin", 10))
    saved = _save(mailbox, infos, tmp_path, max_size_bytes=1000)
    assert [s.id for s in saved] == ["a", "b", "big", "c"]
    assert [bool(s.skipped_reason) for s in saved] == [False, True, True, False]
    assert "big" not in mailbox.started
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "c.bin"]
