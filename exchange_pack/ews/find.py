"""FindItem across several folders in ONE request, newest first.

exchangelib's FindItem pages on until ``max_items`` is reached over all folders together, which
costs one request per extra page. The pack wants exactly one request per result window: each
folder answers its newest ``window`` items (IndexedPageItemView applies per parent folder), the
answers are merged by DateTimeReceived, and a folder whose view did not include its last item
says there is more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from exchangelib import Account, Message, Q
from exchangelib.errors import ErrorFolderNotFound
from exchangelib.fields import FieldOrder, FieldPath
from exchangelib.folders import Folder
from exchangelib.folders.queryset import SHALLOW
from exchangelib.items import ID_ONLY
from exchangelib.restriction import Restriction
from exchangelib.services import FindItem

from .errors import checked_answers
from .transport import EwsTransport

# Properties FindItem returns with the ids: enough to merge folders and name each item's folder.
_FIND_FIELDS = ("datetime_received", "parent_folder_id")


@dataclass(frozen=True)
class Found:
    id: str
    received: dt.datetime | None
    folder_id: str | None
    item: Any = None  # the exchangelib item, with the ``fields`` find() was asked for


@dataclass(frozen=True)
class FindResult:
    items: list[Found]  # newest first, over all folders
    more: bool  # some folder holds more matches than the window


class SinglePageFindItem(FindItem):
    """EWS FindItem that sends one request and reports, per folder, whether more items follow."""

    ERRORS_TO_CATCH_IN_RESPONSE = (*FindItem.ERRORS_TO_CATCH_IN_RESPONSE, ErrorFolderNotFound)

    def _paged_call(self, payload_func: Any, max_items: Any, folders: Any, **kwargs: Any) -> Any:
        kwargs["folders"] = list(folders)
        self.more = False
        for page, next_offset in self._get_pages(payload_func, kwargs, len(kwargs["folders"])):
            if isinstance(page, ErrorFolderNotFound):
                continue  # a well-known folder this mailbox does not have (e.g. archive)
            if isinstance(page, Exception):
                yield page
                continue
            self.more = self.more or next_offset is not None
            if page is not None:
                yield from self._get_elems_from_page(page, None, 0)


def find_page(
    transport: EwsTransport,
    account: Account,
    folders: list[Folder],
    query: Q | None,
    fields: list[FieldPath],
    window: int,
    *,
    offset: int = 0,
    order: list[FieldOrder] | None = None,
) -> tuple[list[Any], bool]:
    """EWS FindItem (Shallow, IdOnly + ``fields``): one page per folder, and whether more follow."""
    restriction = query_string = None
    if query is not None and not query.is_empty():
        wrapped = Restriction(query, folders=folders, applies_to=Restriction.ITEMS)
        if query.query_string:
            query_string = wrapped
        else:
            restriction = wrapped

    def run() -> tuple[list[Any], bool]:
        service = SinglePageFindItem(account=account, page_size=max(1, window))
        elements = checked_answers(
            service.call(
                folders=folders,
                additional_fields=fields,
                restriction=restriction,
                order_fields=order,
                shape=ID_ONLY,
                query_string=query_string,
                depth=SHALLOW,
                calendar_view=None,
                max_items=None,
                offset=offset,
            )
        )
        return elements, service.more

    return transport.call(run, mailbox=account.primary_smtp_address)


def find(
    transport: EwsTransport,
    account: Account,
    folders: list[Folder],
    query: Q | None,
    window: int,
    fields: tuple[str, ...] = (),
) -> FindResult:
    """EWS FindItem over ``folders``: each folder's newest ``window`` matches, merged; each
    with the Message ``fields`` asked for (FindItem returns no recipients or body)."""
    names = dict.fromkeys((*_FIND_FIELDS, *fields))
    paths = [FieldPath(field=Message.get_field_by_fieldname(name)) for name in names]
    order = [FieldOrder(field_path=paths[0], reverse=True)]
    items, more = find_page(transport, account, folders, query, paths, window, order=order)
    found = [
        Found(
            id=item.id,
            received=item.datetime_received,
            folder_id=item.parent_folder_id.id if item.parent_folder_id else None,
            item=item,
        )
        for item in items
    ]
    epoch = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    found.sort(key=lambda f: f.received or epoch, reverse=True)
    return FindResult(items=found, more=more)
