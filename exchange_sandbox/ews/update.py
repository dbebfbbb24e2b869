"""UpdateItem on messages: SetItemField, AppendToItemField and DeleteItemField of the
properties the sandbox keeps (read state, categories, importance, subject, follow-up flag)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from .. import flags, ids
from ..store import Message
from .errors import EwsError
from .serialize import item_id
from .service import EwsContext, operation, per_item
from .soap import M, T, m, t

_IMPORTANCE = {"Low": "low", "Normal": "normal", "High": "high"}
# FieldURI -> (store field, the element holding the value inside t:Message).
_FIELDS = {
    "message:IsRead": ("is_read", "IsRead"),
    "item:Categories": ("categories", "Categories"),
    "item:Importance": ("importance", "Importance"),
    "item:Subject": ("subject", "Subject"),
    "item:Flag": ("flag", "Flag"),
}
_FLAG_STATUS = {"NotFlagged": "notFlagged", "Flagged": "flagged", "Complete": "complete"}


def _field_uri(change: etree._Element) -> str:
    uri = change.find(t("FieldURI"))
    if uri is None:
        # IndexedFieldURI / ExtendedFieldURI name properties the store does not keep.
        raise EwsError("ErrorInvalidPropertyRequest")
    return uri.get("FieldURI", "")


def _value(field: str, element: str, change: etree._Element) -> Any:
    item = next((c for c in change if isinstance(c.tag, str) and c.tag != t("FieldURI")), None)
    value = item.find(t(element)) if item is not None else None
    if value is None:
        raise EwsError("ErrorInvalidPropertySet" if item is not None else "ErrorInvalidRequest")
    if field == "categories":
        return [(s.text or "").strip() for s in value.findall(t("String"))]
    if field == "flag":
        status = (value.findtext(t("FlagStatus")) or "").strip()
        if status not in _FLAG_STATUS:
            raise EwsError("ErrorInvalidValueForProperty")
        return _FLAG_STATUS[status]
    text = (value.text or "").strip()
    if field == "is_read":
        if text not in ("true", "false", "1", "0"):
            raise EwsError("ErrorInvalidValueForProperty")
        return text in ("true", "1")
    if field == "importance":
        if text not in _IMPORTANCE:
            raise EwsError("ErrorInvalidValueForProperty")
        return _IMPORTANCE[text]
    return text


def _changes(message: Message, updates: etree._Element | None) -> dict[str, Any]:
    """The store fields an ``t:Updates`` list sets, in order (a later change wins)."""
    changes: dict[str, Any] = {}
    for change in [] if updates is None else [c for c in updates if isinstance(c.tag, str)]:
        kind = etree.QName(change).localname
        uri = _field_uri(change)
        if uri not in _FIELDS:
            raise EwsError("ErrorInvalidPropertyRequest", message_xml=[("Value", "FieldURI", uri)])
        field, element = _FIELDS[uri]
        if kind == "DeleteItemField":
            if field == "is_read":
                raise EwsError("ErrorInvalidPropertyDelete")
            defaults = {
                "categories": [],
                "importance": "normal",
                "subject": "",
                "flag": "notFlagged",
            }
            changes[field] = defaults[field]
        elif kind == "AppendToItemField":
            if field != "categories":
                raise EwsError("ErrorInvalidPropertyAppend")
            current = changes.get("categories", list(message.categories))
            changes["categories"] = current + _value(field, element, change)
        else:
            changes[field] = _value(field, element, change)
    return changes


@operation("UpdateItem")
def update_item(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS UpdateItem for messages (ConflictResolution NeverOverwrite refuses a stale
    ChangeKey with ErrorIrresolvableConflict, as Exchange does)."""
    never_overwrite = request.get("ConflictResolution", "AutoResolve") == "NeverOverwrite"
    disposition = request.get("MessageDisposition", "SaveOnly")

    def one(change: etree._Element) -> list[etree._Element]:
        id_element = change.find(t("ItemId"))
        if id_element is None:
            raise EwsError("ErrorInvalidIdMalformed")
        message = context.message(id_element)
        sent_key = id_element.get("ChangeKey")
        if never_overwrite and sent_key and sent_key != ids.change_key(message.version):
            raise EwsError("ErrorIrresolvableConflict")
        if disposition != "SaveOnly" and not message.is_draft:
            raise EwsError("ErrorInvalidOperation")
        changes = _changes(message, change.find(t("Updates")))
        flag_status = changes.pop("flag", None)
        if flag_status is not None:
            flags.set_status(context.store, message.id, flag_status)
            changes.setdefault("is_read", message.is_read)  # a flag change is a change
        updated = context.store.update_message(message.id, **changes) if changes else message
        return [M.Items(T.Message(item_id(updated))), M.ConflictResults(T.Count("0"))]

    changes = request.find(m("ItemChanges"))
    items = [] if changes is None else [c for c in changes if isinstance(c.tag, str)]
    return per_item("UpdateItem", items, one, lambda: [M.Items()])
