"""EWS UpdateItem, for the one field the pack changes on a message: ``message:IsRead``.

Any other SetItemField, AppendToItemField or DeleteItemField answers
ErrorInvalidPropertyRequest, per item, as Exchange does for a property it will not set.
"""

from __future__ import annotations

from lxml import etree

from .errors import EwsError
from .serialize import item_id
from .service import EwsContext, operation, per_item
from .soap import M, T, m, t


def _is_read(updates: etree._Element | None) -> bool:
    changes = [] if updates is None else [c for c in updates if isinstance(c.tag, str)]
    value: bool | None = None
    for change in changes:
        uri = change.find(t("FieldURI"))
        if (
            change.tag != t("SetItemField")
            or uri is None
            or uri.get("FieldURI") != "message:IsRead"
        ):
            raise EwsError("ErrorInvalidPropertyRequest")
        text = change.findtext(f"{t('Message')}/{t('IsRead')}")
        if text not in ("true", "false", "1", "0"):
            raise EwsError("ErrorInvalidPropertyRequest")
        value = text in ("true", "1")
    if value is None:
        raise EwsError("ErrorInvalidPropertyRequest")
    return value


@operation("UpdateItem")
def update_item(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS UpdateItem for ``message:IsRead`` (AutoResolve; ChangeKey not checked)."""
    container = request.find(m("ItemChanges"))
    changes = [] if container is None else container.findall(t("ItemChange"))

    def one(change: etree._Element) -> list[etree._Element]:
        target = change.find(t("ItemId"))
        if target is None:
            raise EwsError("ErrorInvalidIdMalformed")
        message = context.message(target)
        value = _is_read(change.find(t("Updates")))
        updated = context.store.update_message(message.id, is_read=value)
        return [M.Items(T.Message(item_id(updated))), M.ConflictResults(T.Count("0"))]

    return per_item("UpdateItem", changes, one, lambda: [M.Items()])
