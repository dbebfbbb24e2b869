"""Graph ``mailFolders/inbox/messageRules``: list, create, get, update, delete. Rules act on
new mail delivered to the mailbox (see delivery.py for the predicates and actions honoured)."""

from __future__ import annotations

from typing import Any

from .. import ids
from ..store import Rule
from ..web import Response
from . import delivery, errors, permissions, responses, serialize
from .pipeline import GraphCall, GraphRoutes

_FIELDS = {
    "displayName": "display_name",
    "sequence": "sequence",
    "isEnabled": "is_enabled",
    "conditions": "conditions",
    "actions": "actions",
}


def _inbox(call: GraphCall) -> None:
    if call.folder().well_known != "inbox":
        raise errors.bad_request(
            "Message rules are only available on the Inbox folder.", code="ErrorInvalidRequest"
        )


def _fragment(call: GraphCall) -> str:
    return f"{responses.user_set(call)}/mailFolders('inbox')/messageRules"


def _rule(call: GraphCall) -> Rule:
    assert call.mailbox is not None
    key = ids.parse(call.params["rule"], "rule")
    if key is None:
        raise errors.malformed_id()
    found = call.store.rule(key.ews)
    if found is None or found.mailbox_id != call.mailbox.id:
        raise errors.item_not_found()
    return found


def _validated(call: GraphCall, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Store fields from a messageRule body; only predicates and actions the sandbox runs."""
    assert call.mailbox is not None
    fields: dict[str, Any] = {}
    for name, value in data.items():
        if name.startswith("@odata.") or name in ("id", "hasError", "isReadOnly"):
            continue
        if name not in _FIELDS:
            raise errors.bad_request(
                f"The property '{name}' is not supported on a messageRule in the sandbox.",
                code="ErrorInvalidRequest",
            )
        fields[_FIELDS[name]] = value
    if creating and not fields.get("display_name"):
        raise errors.bad_request("A rule needs a displayName.", code="ErrorInvalidRequest")
    sequence = fields.get("sequence", 1)
    if not isinstance(sequence, int) or sequence < 1:
        raise errors.bad_request("sequence must be a positive integer.", code="ErrorInvalidRequest")
    conditions = fields.get("conditions") or {}
    actions = fields.get("actions") or {}
    if not isinstance(conditions, dict) or not isinstance(actions, dict):
        raise errors.bad_request("conditions and actions must be objects.")
    for kind, given, supported in (
        ("condition", conditions, delivery.SUPPORTED_CONDITIONS),
        ("action", actions, delivery.SUPPORTED_ACTIONS),
    ):
        unsupported = sorted(set(given) - supported)
        if unsupported:
            raise errors.bad_request(
                f"The sandbox does not run the rule {kind}(s) {', '.join(unsupported)}; "
                f"supported: {', '.join(sorted(supported))}.",
                code="ErrorInvalidRequest",
            )
    if actions.get("moveToFolder"):
        target = call.folder(str(actions["moveToFolder"]))
        actions["moveToFolder"] = serialize.rest_id(target.id)
    return fields


def list_rules(call: GraphCall) -> Response:
    """GET /users/{id}/mailFolders/inbox/messageRules."""
    assert call.mailbox is not None
    _inbox(call)
    found = call.store.rules(call.mailbox.id)
    options = call.options()
    return responses.collection(
        call, found, serialize.rule, _fragment(call), options, default_top=max(len(found), 1)
    )


def create_rule(call: GraphCall) -> Response:
    """POST /users/{id}/mailFolders/inbox/messageRules: 201 and the rule."""
    assert call.mailbox is not None
    _inbox(call)
    fields = _validated(call, call.json_body(), creating=True)
    rule = Rule(
        id="",
        mailbox_id=call.mailbox.id,
        display_name=str(fields["display_name"]),
        sequence=fields.get("sequence", 1),
        is_enabled=bool(fields.get("is_enabled", True)),
        conditions=fields.get("conditions") or {},
        actions=fields.get("actions") or {},
    )
    created = call.store.add_rule(call.mailbox.id, rule)
    return responses.entity(call, serialize.rule(created), _fragment(call), status=201)


def get_rule(call: GraphCall) -> Response:
    """GET /users/{id}/mailFolders/inbox/messageRules/{id}."""
    _inbox(call)
    return responses.entity(call, serialize.rule(_rule(call)), _fragment(call))


def update_rule(call: GraphCall) -> Response:
    """PATCH /users/{id}/mailFolders/inbox/messageRules/{id}."""
    _inbox(call)
    rule = _rule(call)
    fields = _validated(call, call.json_body(), creating=False)
    updated = call.store.update_rule(rule.id, **fields) if fields else rule
    return responses.entity(call, serialize.rule(updated), _fragment(call))


def delete_rule(call: GraphCall) -> Response:
    """DELETE /users/{id}/mailFolders/inbox/messageRules/{id}."""
    _inbox(call)
    call.store.delete_rule(_rule(call).id)
    return Response.empty(204)


def register(routes: GraphRoutes) -> None:
    """Adds the inbox rule routes."""
    read, write = permissions.MAILBOX_SETTINGS_READ, permissions.MAILBOX_SETTINGS_WRITE
    base = "/users/{user}/mailFolders/{folder}/messageRules"
    routes.add("GET", base, list_rules, read)
    routes.add("POST", base, create_rule, write)
    routes.add("GET", f"{base}/{{rule}}", get_rule, read)
    routes.add("PATCH", f"{base}/{{rule}}", update_rule, write)
    routes.add("DELETE", f"{base}/{{rule}}", delete_rule, write)
