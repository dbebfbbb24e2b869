"""Microsoft Graph error bodies: ``{"error": {"code", "message", "innerError": {...}}}``.

Codes and messages are the ones Exchange Online's REST front end answers for mail, so a client's
error mapping written against Microsoft's service works unchanged against the sandbox.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from ..web import Request, Response


class GraphError(Exception):
    """An OData error Graph answers with ``status`` and ``{"error": {"code", "message"}}``."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    """400 with Graph's generic ``BadRequest`` code unless a more specific one is given."""
    return GraphError(400, code, message)


def invalid_token(reason: str) -> GraphError:
    """401 InvalidAuthenticationToken, with the reason Microsoft's token validation gives."""
    return GraphError(
        401,
        "InvalidAuthenticationToken",
        reason,
        {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'},
    )


def access_denied(
    message: str = "Access is denied. Check credentials and try again.",
) -> GraphError:
    """403 ErrorAccessDenied: a missing application permission or an Exchange RBAC refusal."""
    return GraphError(403, "ErrorAccessDenied", message)


RBAC_DENIED = (
    "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy "
    "settings."
)


def invalid_user(user: str) -> GraphError:
    """404 ErrorInvalidUser for a mailbox route naming no mailbox of the tenant."""
    return GraphError(404, "ErrorInvalidUser", f"The requested user '{user}' is invalid.")


def mailbox_not_enabled() -> GraphError:
    """404 MailboxNotEnabledForRESTAPI for a disabled (inactive, soft-deleted) mailbox."""
    return GraphError(
        404,
        "MailboxNotEnabledForRESTAPI",
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
    )


def directory_object_not_found(ref: str) -> GraphError:
    """404 Request_ResourceNotFound, the directory's answer for an unknown user object."""
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{ref}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


def item_not_found() -> GraphError:
    """404 ErrorItemNotFound for a message, folder, attachment, contact or rule id."""
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def malformed_id() -> GraphError:
    """400 ErrorInvalidIdMalformed for an id that does not decode."""
    return GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.")


def foreign_item() -> GraphError:
    """400 ErrorInvalidMailboxItemId: the id names an item of another mailbox."""
    return GraphError(
        400, "ErrorInvalidMailboxItemId", "Item Id doesn't belong to the current mailbox."
    )


def invalid_filter(detail: str) -> GraphError:
    """400 BadRequest "Invalid filter clause" for a ``$filter`` Graph cannot parse."""
    return GraphError(400, "BadRequest", f"Invalid filter clause: {detail}")


def invalid_query(message: str) -> GraphError:
    """400 ErrorInvalidUrlQuery for query options Exchange refuses (combinations, ranges)."""
    return GraphError(400, "ErrorInvalidUrlQuery", message)


def unknown_property(name: str, type_name: str) -> GraphError:
    """400 for ``$select``/``$orderby`` naming a property the entity type lacks."""
    return GraphError(
        400,
        "RequestBroker--ParseUri",
        f"Could not find a property named '{name}' on type 'microsoft.graph.{type_name}'.",
    )


def segment_not_found(segment: str) -> GraphError:
    """400 BadRequest for a path segment this Graph version does not have."""
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def throttled(retry_after_seconds: float) -> GraphError:
    """429 ApplicationThrottled with ``Retry-After`` (whole seconds, as Outlook sends them)."""
    seconds = max(1, int(retry_after_seconds + 0.999))
    return GraphError(
        429,
        "ApplicationThrottled",
        "Application is over its MailboxConcurrency limit.",
        {"Retry-After": str(seconds)},
    )


# Request ids need no secrecy: drawn without the system call of uuid4, whose release of the
# GIL let other request threads hold up the batch handlers' lock.
_request_ids = random.Random()


def request_ids(request: Request) -> tuple[str, str]:
    """The (request-id, client-request-id) pair of a request, minted once and remembered."""
    ids = request.extra.get("graph_request_ids")
    if ids is None:
        request_id = str(uuid.UUID(int=_request_ids.getrandbits(128), version=4))
        ids = (request_id, request.headers.get("client-request-id") or request_id)
        request.extra["graph_request_ids"] = ids
    return ids


def trace_headers(request: Request) -> dict[str, str]:
    """Graph's per-response tracing headers."""
    request_id, client_request_id = request_ids(request)
    return {
        "request-id": request_id,
        "client-request-id": client_request_id,
        "x-ms-ags-diagnostic": '{"ServerInfo":{"DataCenter":"Sandbox","Slice":"E",'
        '"Ring":"0","ScaleUnit":"000","RoleInstance":"SANDBOX"}}',
    }


def error_response(error: GraphError, request: Request) -> Response:
    """Render a GraphError as Graph does: the OData error body plus tracing headers."""
    request_id, client_request_id = request_ids(request)
    body = {
        "error": {
            "code": error.code,
            "message": error.message,
            "innerError": {
                "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }
    headers = trace_headers(request)
    headers.update(error.headers)
    return Response.json(error.status, body, headers)
