"""Graph message actions that relocate an item: ``copy``, ``move``, ``permanentDelete``, and the
beta-only ``markAsJunk`` / ``markAsNotJunk`` (absent from v1.0, which answers 400)."""

from __future__ import annotations

from typing import Any

from ..web import Response
from . import errors, permissions
from .messages import message_response
from .pipeline import PURGES, GraphCall, GraphRoutes, action_parameter


def _destination(call: GraphCall) -> str:
    destination = action_parameter(call.json_body(), "destinationId")
    if not destination or not isinstance(destination, str):
        raise errors.bad_request(
            "Missing value for the required parameter 'destinationId'.",
            code="ErrorInvalidParameter",
        )
    return call.folder(destination).id


def copy_message(call: GraphCall) -> Response:
    """POST /users/{id}/messages/{id}/copy: 201 and the new copy."""
    assert call.mailbox is not None
    m = call.message()
    copied = call.store.copy_message(m.id, call.mailbox.id, _destination(call))
    return message_response(call, copied, status=201)


def move_message(call: GraphCall) -> Response:
    """POST /users/{id}/messages/{id}/move: 201 and the moved message."""
    m = call.message()
    moved = call.store.move_message(m.id, _destination(call))
    return message_response(call, moved, status=201, typed=True)


def permanent_delete(call: GraphCall) -> Response:
    """POST /users/{id}/messages/{id}/permanentDelete: into Recoverable Items\\Purges, which
    Graph cannot reach any more."""
    assert call.mailbox is not None
    m = call.message()
    call.store.move_message(m.id, call.store.folder(call.mailbox.id, PURGES).id)
    return Response.empty(204)


def _classify(call: GraphCall, *, junk: bool, move_parameter: str, destination: str) -> Response:
    """Junk or not-junk: update the blocked senders list, optionally move; 202 + message."""
    assert call.mailbox is not None
    m = call.message()
    sender = m.from_ or m.sender
    if sender:
        call.store.block_sender(call.mailbox.id, sender.address, junk)
    if action_parameter(call.json_body(), move_parameter) in (None, True):
        m = call.store.move_message(m.id, call.folder(destination).id)
    return message_response(call, m, status=202)


def mark_as_junk(call: GraphCall) -> Response:
    """POST beta .../messages/{id}/markAsJunk: block the sender, move to Junk Email; 202."""
    return _classify(call, junk=True, move_parameter="moveToJunk", destination="junkemail")


def mark_as_not_junk(call: GraphCall) -> Response:
    """POST beta .../messages/{id}/markAsNotJunk: unblock the sender, back to the Inbox; 202."""
    return _classify(call, junk=False, move_parameter="moveToInbox", destination="inbox")


def _not_in_v1(segment: str) -> Any:
    def handler(call: GraphCall) -> Response:
        raise errors.segment_not_found(segment)

    handler.__doc__ = f"POST v1.0 .../messages/{{id}}/{segment}: only beta has it."
    return handler


def register(routes: GraphRoutes) -> None:
    """Adds the copy/move/delete/junk action routes."""
    write = permissions.MAIL_WRITE
    routes.add_item("POST", "/copy", copy_message, write)
    routes.add_item("POST", "/move", move_message, write)
    routes.add_item("POST", "/permanentDelete", permanent_delete, write)
    for segment, handler in (("markAsJunk", mark_as_junk), ("markAsNotJunk", mark_as_not_junk)):
        routes.add_item("POST", f"/{segment}", handler, write, versions=("beta",))
        routes.add_item(
            "POST", f"/{segment}", _not_in_v1(segment), (), versions=("v1.0",), target="none"
        )
