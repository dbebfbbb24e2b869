"""poll_mailbox's delivery logic on a stand-in backend (pure logic; the sandbox runs are in
tests/actions/test_e2e_incidents.py): the held token under a limit, a restart after an
expired token, checkpoints of another folder or backend, and the re-delivery journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exchange_pack.actions.checkpoint import Journal, decode, encode
from exchange_pack.actions.polling import poll
from exchange_pack.errors import InputError, SyncStateExpiredError
from exchange_pack.models import FolderChanges, MessageSummary


class FakeFolder:
    """A folder whose sync tokens are the number of messages seen (a created-only feed)."""

    address = "reports@contoso.com"

    def __init__(self, times: list[str]) -> None:
        self.messages = [self._message(i, t) for i, t in enumerate(times)]
        self.expired = False
        self.calls: list[str | None] = []

    @staticmethod
    def _message(index: int, received: str) -> MessageSummary:
        return MessageSummary(
            mailbox="reports@contoso.com",
            id=f"id{index}",
            internet_message_id=f"<m{index}@contoso.com>",
            subject=f"s{index}",
            received_at=received,
        )

    def arrive(self, received: str) -> None:
        self.messages.append(self._message(len(self.messages), received))

    def folder_changes(self, folder: str, sync_token: str | None) -> FolderChanges:
        self.calls.append(sync_token)
        if sync_token and self.expired:
            raise SyncStateExpiredError("gone", backend_code="SyncStateNotFound")
        start = int(sync_token or 0)
        return FolderChanges(messages=self.messages[start:], sync_token=str(len(self.messages)))


def run(mailbox: FakeFolder, warnings: list[str], **params: Any) -> Any:
    journal = params.pop("journal", None)
    return poll(
        mailbox,  # type: ignore[arg-type]
        "graph",
        {"folder": "inbox", "limit": 50, **params},
        journal=journal,
        warn=warnings.append,
    )


def subjects(result: Any) -> list[str]:
    return [m.subject for m in result.messages]


def test_a_limit_holds_the_token_until_the_backlog_is_delivered() -> None:
    folder, warnings = FakeFolder([f"2026-11-20T10:00:0{i}Z" for i in range(5)]), []
    first = run(folder, warnings, since="2026-11-20T00:00:00Z", limit=2)
    assert subjects(first) == ["s0", "s1"] and first.more
    assert decode(first.checkpoint).sync is None  # the initial round is read again
    second = run(folder, warnings, checkpoint=first.checkpoint, limit=2)
    third = run(folder, warnings, checkpoint=second.checkpoint, limit=2)
    assert (subjects(second), subjects(third)) == (["s2", "s3"], ["s4"])
    assert not third.more and decode(third.checkpoint).sync == "5"
    assert decode(third.checkpoint).held == []
    folder.arrive("2026-11-20T11:00:00Z")
    fourth = run(folder, warnings, checkpoint=third.checkpoint)
    assert subjects(fourth) == ["s5"] and folder.calls[-1] == "5"


def test_an_expired_token_restarts_from_the_watermark_without_duplicates() -> None:
    folder, warnings = FakeFolder(["2026-11-20T10:00:00Z", "2026-11-20T10:05:00Z"]), []
    first = run(folder, warnings, since="2026-11-20T00:00:00Z")
    folder.arrive("2026-11-20T10:06:00Z")
    folder.arrive("2026-11-20T09:00:00Z")  # older than the watermark less 15 minutes
    folder.expired = True
    second = run(folder, warnings, checkpoint=first.checkpoint)
    assert subjects(second) == ["s2"] and second.resynced
    assert any("expired" in w for w in warnings)
    assert decode(second.checkpoint).floor == "2026-11-20T09:50:00Z"


def test_a_checkpoint_names_its_mailbox_and_folder() -> None:
    folder, warnings = FakeFolder([]), []
    first = run(folder, warnings)
    with pytest.raises(InputError, match="checkpoint"):
        run(folder, warnings, checkpoint=first.checkpoint, folder="junkemail")
    with pytest.raises(InputError, match="checkpoint"):
        run(folder, warnings, checkpoint="xp1." + "A" * 20)
    other = decode(first.checkpoint).model_copy(update={"backend": "ews", "sync": "e:1"})
    switched = run(folder, warnings, checkpoint=encode(other))
    assert folder.calls[-1] is None and any("written on ews" in w for w in warnings)
    assert not switched.resynced


def test_the_journal_marks_a_repeated_run(tmp_path: Path) -> None:
    folder, warnings = FakeFolder(["2026-11-20T10:00:00Z"]), []
    journal = Journal(tmp_path)
    first = run(folder, warnings)
    folder.arrive("2026-12-01T10:00:00Z")
    lost = run(folder, warnings, checkpoint=first.checkpoint, journal=journal)
    again = run(folder, warnings, checkpoint=first.checkpoint, journal=journal)
    assert [m.redelivered for m in lost.messages] == [False]
    assert [m.redelivered for m in again.messages] == [True] and again.redelivered == 1
    assert [m.key for m in again.messages] == [m.key for m in lost.messages]


def test_bad_since_or_forged_times_are_input_errors() -> None:
    folder, warnings = FakeFolder([]), []
    with pytest.raises(InputError, match="since"):
        run(folder, warnings, since="yesterday")
    forged = decode(run(folder, warnings).checkpoint).model_copy(update={"floor": "never"})
    with pytest.raises(InputError, match="checkpoint"):
        run(folder, warnings, checkpoint=encode(forged))
