"""Many removals over Graph JSON ``$batch``: 20 sub-requests per call, at most 4 per mailbox.

Outlook allows 4 concurrent requests per app and mailbox, and Graph runs a batch's
sub-requests side by side; so a batch carries at most ``PER_MAILBOX`` removals of one mailbox
and batches in flight at once never share a mailbox. A throttled sub-request is sent again
on its own after its ``Retry-After`` (``GraphClient.batch_round``); one still throttled when
the retry budget is spent is reported ``failed`` and retryable.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from ..errors import ExchangePackError, UnsupportedError
from ..models import DeleteType, MessageRef, Removal
from .messages import message_path
from .move import DELETE_FOLDERS
from .transport import BATCH_LIMIT, BatchRequest, BatchResponse, GraphClient

PER_MAILBOX = 4  # Outlook's concurrent requests per app and mailbox
CONCURRENCY = 8  # batches in flight, each on its own mailboxes


def removal_request(request_id: str, message: MessageRef, delete_type: DeleteType) -> BatchRequest:
    """``POST .../move`` to Deleted Items or Recoverable Items, or ``POST .../permanentDelete``."""
    if delete_type == "hard":
        path = message_path(message.mailbox, message.id, "/permanentDelete")
        return BatchRequest(id=request_id, url=path, method="POST")
    path = message_path(message.mailbox, message.id, "/move")
    body = {"destinationId": DELETE_FOLDERS[delete_type]}
    return BatchRequest(id=request_id, url=path, method="POST", body=body)


def plan_batches(
    messages: Sequence[MessageRef], limit: int = BATCH_LIMIT, per_mailbox: int = PER_MAILBOX
) -> list[list[list[int]]]:
    """Waves of batches (indexes into ``messages``): within a wave no mailbox is in two
    batches, within a batch no mailbox has more than ``per_mailbox`` messages."""
    queues: OrderedDict[str, deque[int]] = OrderedDict()
    for index, message in enumerate(messages):
        queues.setdefault(message.mailbox.lower(), deque()).append(index)
    waves: list[list[list[int]]] = []
    while queues:
        wave: list[list[int]] = []
        busy: set[str] = set()
        while len(wave) < CONCURRENCY:
            batch: list[int] = []
            for mailbox, queue in queues.items():
                if mailbox in busy:
                    continue
                take = min(per_mailbox, limit - len(batch), len(queue))
                batch.extend(queue.popleft() for _ in range(take))
                busy.add(mailbox)
                if len(batch) == limit:
                    break
            if not batch:
                break
            wave.append(batch)
        for mailbox in [m for m, q in queues.items() if not q]:
            del queues[mailbox]
        waves.append(wave)
    return waves


def outcome(message: MessageRef, request: BatchRequest, answer: BatchResponse) -> Removal:
    """The removal's outcome from its sub-response."""
    return Removal.of(message.mailbox, message.id, None if answer.ok else answer.error(request))


def delete_many(
    client: GraphClient, messages: Sequence[MessageRef], delete_type: DeleteType
) -> list[Removal]:
    """Every message removed through ``$batch``; one outcome per message, in order."""
    if delete_type == "hard" and not client.config.cloud_info.supports_permanent_delete:
        raise UnsupportedError(
            "Hard delete (Graph permanentDelete) is not available in the "
            f"{client.config.cloud_info.name} cloud; only the global cloud has it.",
            hint="Use delete_type soft, or the EWS backend (DeleteItem HardDelete).",
        )
    results: list[Removal | None] = [None] * len(messages)

    def send(batch: list[int]) -> None:
        requests = [removal_request(str(i), messages[i], delete_type) for i in batch]
        try:
            answers = client.batch_round(requests)
        except ExchangePackError as error:
            for index in batch:
                results[index] = Removal.of(messages[index].mailbox, messages[index].id, error)
            return
        for request, index in zip(requests, batch, strict=True):
            results[index] = outcome(messages[index], request, answers[request.id])

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        for wave in plan_batches(messages):
            list(pool.map(send, wave))
    return [r for r in results if r is not None]
