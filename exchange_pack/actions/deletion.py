"""delete_email over many (mailbox, message) targets, with a status per message.

A message that is already gone is ``not_found``, not a failure; so is a message already in
Deleted Items when ``move_to_deleted_items`` is asked (deleting it again would purge it).
One target failing does not stop the others; only when every target failed for the same kind
of reason is that error raised (so a missing permission still exits 77).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from ..backend import Backend, is_internet_message_id
from ..errors import ExchangePackError, MessageNotFoundError
from ..models import DeleteOutcome, DeleteType
from . import Progress
from .targets import Target

MAX_PARALLEL_DELETES = 4  # stays well under Exchange's concurrent-request limit per app


def delete_one(
    backend: Backend, target: Target, delete_type: DeleteType, dry_run: bool
) -> tuple[DeleteOutcome, ExchangePackError | None]:
    """Resolves the message and deletes it (or only resolves it, on a dry run)."""
    outcome = DeleteOutcome(mailbox=target.mailbox, message=target.ref, status="failed")
    try:
        mailbox = backend.mailbox(target.mailbox)
        if delete_type == "move_to_deleted_items":
            message, already_deleted = mailbox.resolve_in(target.ref, "deleteditems")
        else:
            message, already_deleted = mailbox.reference(target.ref, resolved=True), False
        outcome = outcome.model_copy(
            update={
                "id": message.id,
                "internet_message_id": message.internet_message_id,
                "subject": message.subject,
            }
        )
        if already_deleted:
            return outcome.model_copy(update={"status": "not_found"}), None
        if dry_run:
            return outcome.model_copy(update={"status": "would_delete"}), None
        mailbox.delete(message, delete_type)
    except MessageNotFoundError:
        return outcome.model_copy(update={"status": "not_found"}), None
    except ExchangePackError as error:
        return outcome.model_copy(update={"error": error.message}), error
    return outcome.model_copy(update={"status": "deleted"}), None


def delete_messages(
    backend: Backend,
    targets: Sequence[Target],
    delete_type: DeleteType,
    *,
    dry_run: bool,
    progress: Progress,
) -> list[DeleteOutcome]:
    """Every target's outcome, in target order (a few deletes run in parallel)."""
    results: list[tuple[DeleteOutcome, ExchangePackError | None]] = []
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_DELETES) as pool:
        futures = [pool.submit(delete_one, backend, t, delete_type, dry_run) for t in targets]
        for done, future in enumerate(futures, start=1):
            results.append(future.result())
            progress(done, len(futures), f"{done} of {len(futures)} messages")
    raise_when_all_failed([error for _, error in results])
    return drop_foreign_ids([outcome for outcome, _ in results])


def raise_when_all_failed(errors: Sequence[ExchangePackError | None]) -> None:
    """Re-raises the error when every item failed, all with the same kind of error."""
    failures = [error for error in errors if error is not None]
    if failures and len(failures) == len(errors) and len({type(e) for e in failures}) == 1:
        raise failures[0]


def drop_foreign_ids(outcomes: list[DeleteOutcome]) -> list[DeleteOutcome]:
    """A backend id names a message in one mailbox: when it was found in one of several
    mailboxes, its ``not_found`` entries for the others are noise and are dropped."""
    found_refs = {o.message for o in outcomes if o.status != "not_found"}
    return [
        o
        for o in outcomes
        if not (
            o.status == "not_found"
            and o.message in found_refs
            and not is_internet_message_id(o.message)
        )
    ]
