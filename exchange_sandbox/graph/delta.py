"""Graph ``GET /users/{id}/mailFolders/{id}/messages/delta``: a folder's message changes.

As Microsoft documents it: the first request of a round returns the folder's messages (those
the round's ``$filter`` selects: ``receivedDateTime ge|gt``), a page at a time
(``Prefer: odata.maxpagesize``, default 10) with ``@odata.nextLink`` (``$skiptoken``), and the
last page carries ``@odata.deltaLink`` (``$deltatoken``); the delta link's next round returns
what changed since: new and updated messages in full, and deleted or moved-out ones as
``{"id", "@removed": {"reason": "deleted"}}``. Query options of the first request ride in the
tokens. An unknown or expired token answers 410 ``SyncStateNotFound``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .. import ids, query, sync_states
from ..store import Message
from ..web import Response
from . import errors, message_query, messages, odata, permissions, serialize
from .pipeline import GraphCall, GraphRoutes

DEFAULT_PAGE = 10
MAX_PAGE = 1000
_CHANGE_TYPES = ("created", "updated", "deleted")


def sync_state_not_found() -> errors.GraphError:
    """410 Gone for a delta or skip token Exchange no longer (or never) had."""
    return errors.GraphError(
        410,
        "SyncStateNotFound",
        "The sync state generation is not found. The delta token is expired and data must be "
        "synchronized again.",
    )


def _page_size(call: GraphCall) -> int:
    for header in call.request.headers.get_all("Prefer") or []:
        for item in header.split(","):
            name, _, value = item.strip().partition("=")
            if name.strip().lower() == "odata.maxpagesize" and value.strip().isdigit():
                return max(1, min(int(value.strip()), MAX_PAGE))
    return DEFAULT_PAGE


def _check_options(options: odata.QueryOptions, change_type: str | None) -> None:
    if options.search is not None or options.expand or options.count:
        raise errors.invalid_query("The query option is not supported with delta.")
    if options.filter is not None:
        ops = _filter_ops(options.filter)
        if not ops or any(op not in ("ge", "gt") for op in ops):
            raise errors.invalid_filter(
                "delta on messages supports only receivedDateTime ge or gt in $filter."
            )
    for name, descending in options.orderby:
        if name.lower() != "receiveddatetime" or not descending:
            raise errors.invalid_query("delta on messages supports only receivedDateTime desc.")
    if change_type is not None and change_type not in _CHANGE_TYPES:
        raise errors.invalid_query(f"Invalid changeType '{change_type}'.")


def _filter_ops(expr: odata.Expr) -> list[str]:
    if isinstance(expr, odata.Compare) and expr.prop.path.lower() == "receiveddatetime":
        return [expr.op]
    if isinstance(expr, odata.And):
        return _filter_ops(expr.left) + _filter_ops(expr.right)
    return ["unsupported"]


def _folder_messages(call: GraphCall, folder_id: str) -> list[Message]:
    assert call.mailbox is not None
    return call.store.messages(call.mailbox.id, [folder_id])


def _selected(options: dict[str, Any], found: list[Message]) -> set[str]:
    """Ids of the messages the round's ``$filter`` keeps."""
    raw = options.get("filter")
    if not raw:
        return {m.id for m in found}
    predicate = message_query.compile_filter(odata.parse_filter(str(raw)))
    return {m.id for m in query.filter_messages(predicate, found, None)}


def _link(call: GraphCall, folder: str, name: str, value: str) -> str:
    user = quote(call.params["user"], safe="@")
    return (
        f"{call.base}/users/{user}/mailFolders/{quote(folder, safe='')}/messages/delta"
        f"?{name}={quote(value, safe='')}"
    )


def _removed(call: GraphCall, message_id: str, folder_id: str) -> dict[str, Any]:
    # The id the client knew: the message's entry id in this folder (it changed on the move
    # out), unless the client asked for immutable ids.
    shown = message_id if call.prefer.immutable_id else ids.entry_id(message_id, folder_id)
    return {
        "@odata.type": "#microsoft.graph.message",
        "id": serialize.rest_id(shown),
        "@removed": {"reason": "deleted"},
    }


def _page(call: GraphCall, state: sync_states.SyncState, offset: int) -> Response:
    size = _page_size(call)
    options = odata.QueryOptions(select=state.options.get("select"))  # type: ignore[arg-type]
    render = messages.renderer(call, options)
    value: list[dict[str, Any]] = []
    for change in state.changes[offset : offset + size]:
        found = call.store.message(change.id) if change.kind != "removed" else None
        if found is None or found.folder_id != state.folder_id:
            value.append(_removed(call, change.id, state.folder_id))
        else:
            value.append({"@odata.type": "#microsoft.graph.message", **render(found)})
    folder = str(state.options.get("folder_ref") or call.params["folder"])
    body: dict[str, Any] = {
        "@odata.context": call.context("Collection(message)"),
        "value": value,
    }
    if offset + size < len(state.changes):
        body["@odata.nextLink"] = _link(
            call, folder, "$skiptoken", f"{state.token}.{offset + size}"
        )
    else:
        body["@odata.deltaLink"] = _link(call, folder, "$deltatoken", state.token)
    return Response.json(200, body, messages.prefer_headers(call))


def _wanted(change: sync_states.Change, change_type: str | None, selected: set[str]) -> bool:
    if change.kind == "removed":
        return change_type in (None, "deleted")
    if change.id not in selected:
        return False
    if change_type == "created":
        return change.kind == "created"
    if change_type == "updated":
        return change.kind != "created"
    return change_type is None


def message_delta(call: GraphCall) -> Response:
    """GET /users/{id}/mailFolders/{id}/messages/delta."""
    assert call.mailbox is not None
    q = call.request.query
    now = call.tenant.now()
    if "$skiptoken" in q:
        token, _, offset = q["$skiptoken"].rpartition(".")
        state = sync_states.load(call.store, token, now) if offset.isdigit() else None
        if state is None or state.mailbox_id != call.mailbox.id:
            raise sync_state_not_found()
        return _page(call, state, int(offset))
    folder = call.folder()
    if "$deltatoken" in q:
        previous = sync_states.load(call.store, q["$deltatoken"], now)
        if previous is None or previous.folder_id != folder.id:
            raise sync_state_not_found()
        options = previous.options
        found = _folder_messages(call, folder.id)
        changes = sync_states.diff(previous.snapshot, found)
    else:
        parsed = call.options()
        change_type = q.get("changeType")
        _check_options(parsed, change_type)
        options = {
            "select": parsed.select,
            "filter": q.get("$filter"),
            "change_type": change_type,
            "folder_ref": call.params["folder"],
        }
        found = _folder_messages(call, folder.id)
        changes = sync_states.diff({}, found)
    selected = _selected(options, found)
    kind = options.get("change_type")
    changes = [c for c in changes if _wanted(c, kind if kind else None, selected)]  # type: ignore[arg-type]
    state = sync_states.save(
        call.store,
        call.mailbox.id,
        folder.id,
        now,
        sync_states.snapshot_of(found),
        changes,
        options,
    )
    return _page(call, state, 0)


def register(routes: GraphRoutes) -> None:
    """Adds the delta route (before the message item routes, which would take ``delta``)."""
    routes.add(
        "GET",
        "/users/{user}/mailFolders/{folder}/messages/delta",
        message_delta,
        permissions.MAIL_READ_BASIC,
    )
