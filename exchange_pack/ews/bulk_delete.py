"""Many removals over EWS: one DeleteItem per mailbox with up to 100 ItemIds, a few mailboxes
at a time (each request impersonates one mailbox, so there is no cross-mailbox batch).

DeleteItem answers one ResponseMessage per ItemId, so an item already gone
(``ErrorItemNotFound``) is ``not_found`` without failing the rest; a throttled call
(``ErrorServerBusy``) waits ``BackOffMilliseconds`` and is sent again within the retry budget.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from exchangelib.items import ALL_OCCURRENCES, SEND_TO_NONE
from exchangelib.services import DeleteItem

from ..errors import ExchangePackError
from ..models import DeleteType, MessageRef, Removal
from .errors import translate
from .messages import item_id
from .mutate import DELETE_TYPES
from .transport import MAX_CONNECTIONS, EwsTransport

ITEMS_PER_CALL = 100  # ItemIds per DeleteItem (exchangelib's and Exchange's usual page)


def _removal(message: MessageRef, answer: object) -> Removal:
    error = translate(answer, mailbox=message.mailbox) if isinstance(answer, Exception) else None
    return Removal.of(message.mailbox, message.id, error)


def delete_chunk(
    transport: EwsTransport, messages: Sequence[MessageRef], delete_type: DeleteType
) -> list[Removal]:
    """One DeleteItem for messages of one mailbox: an outcome per ItemId."""
    address = messages[0].mailbox
    try:
        account = transport.account(address)

        def run() -> list[object]:
            return list(
                DeleteItem(account=account, chunk_size=ITEMS_PER_CALL).call(
                    items=[item_id(m) for m in messages],
                    delete_type=DELETE_TYPES[delete_type],
                    send_meeting_cancellations=SEND_TO_NONE,
                    affected_task_occurrences=ALL_OCCURRENCES,
                    suppress_read_receipts=True,
                )
            )

        answers = transport.call(run, mailbox=address)
    except ExchangePackError as error:
        return [Removal.of(m.mailbox, m.id, error) for m in messages]
    return [_removal(m, a) for m, a in zip(messages, answers, strict=True)]


def delete_many(
    transport: EwsTransport, messages: Sequence[MessageRef], delete_type: DeleteType
) -> list[Removal]:
    """Every message removed, grouped by mailbox into DeleteItem calls; outcomes in order."""
    groups: OrderedDict[str, list[int]] = OrderedDict()
    for index, message in enumerate(messages):
        groups.setdefault(message.mailbox.lower(), []).append(index)
    chunks = [
        indexes[start : start + ITEMS_PER_CALL]
        for indexes in groups.values()
        for start in range(0, len(indexes), ITEMS_PER_CALL)
    ]
    results: list[Removal | None] = [None] * len(messages)

    def one(chunk: list[int]) -> None:
        for index, removal in zip(
            chunk, delete_chunk(transport, [messages[i] for i in chunk], delete_type), strict=True
        ):
            results[index] = removal

    if chunks:
        transport.version  # noqa: B018 - probe once before the threads start
        with ThreadPoolExecutor(max_workers=min(MAX_CONNECTIONS, len(chunks))) as pool:
            list(pool.map(one, chunks))
    return [r for r in results if r is not None]
