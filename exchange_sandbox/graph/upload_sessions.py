"""Large attachments: ``attachments/createUploadSession`` and the upload URL it hands out.

As in Exchange Online, the upload URL carries its own ``authtoken`` and takes ``PUT`` requests
with ``Content-Range`` byte ranges and no bearer token; the last range creates the attachment
(201 + ``Location``). ``DELETE`` on the URL cancels the session. Sessions live in memory.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..web import Request, Response
from . import errors, odata, permissions, serialize
from .errors import GraphError
from .pipeline import GraphCall, GraphRoutes

if TYPE_CHECKING:
    from ..tenant import Tenant

MIN_SIZE = 3 * 1024 * 1024  # smaller attachments go in one POST, as Graph insists
MAX_SIZE = 150 * 1024 * 1024
MAX_CHUNK = 4 * 1024 * 1024
LIFETIME = dt.timedelta(hours=2)
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
UPLOAD_PATH = (
    r"/api/v2\.0/Users\('(?P<owner>[^']+)'\)/Messages\('(?P<message>[^']+)'\)"
    r"/AttachmentSessions\('(?P<session>[^']+)'\)"
)


@dataclass
class UploadSession:
    """One pending attachment upload."""

    owner: str  # mailbox address
    app: str | None
    message_id: str
    name: str
    content_type: str
    is_inline: bool
    content_id: str | None
    size: int
    token: str
    expires: dt.datetime
    received: bytearray = field(default_factory=bytearray)

    def next_ranges(self) -> list[str]:
        """``nextExpectedRanges``: everything from the first byte not yet received."""
        return [f"{len(self.received)}-"]


class UploadSessions:
    """The tenant's open upload sessions and the handlers of their upload URLs."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self._sessions: dict[str, UploadSession] = {}
        self._lock = threading.Lock()

    def create(self, call: GraphCall) -> Response:
        """POST /users/{id}/messages/{id}/attachments/createUploadSession: 201 + uploadUrl."""
        assert call.mailbox is not None
        message = call.message()
        item = call.json_body().get("AttachmentItem") or call.json_body().get("attachmentItem")
        if not isinstance(item, dict):
            raise errors.bad_request("The AttachmentItem parameter is required.")
        if str(item.get("attachmentType", "file")).lower() != "file":
            raise errors.bad_request("Only file attachments can be uploaded in a session.")
        size = item.get("size")
        if not isinstance(size, int) or not item.get("name"):
            raise errors.bad_request("AttachmentItem needs a name and a size.")
        if size < MIN_SIZE:
            raise GraphError(
                400,
                "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
                "Attachment size must be greater than the minimum size.",
            )
        if size > MAX_SIZE:
            raise GraphError(413, "ErrorRequestEntityTooLarge", "The attachment is over 150 MB.")
        session_id = secrets.token_urlsafe(18)
        session = UploadSession(
            owner=call.mailbox.address,
            app=call.request.app,
            message_id=message.id,
            name=str(item["name"]),
            content_type=str(item.get("contentType") or "application/octet-stream"),
            is_inline=bool(item.get("isInline", False)),
            content_id=item.get("contentId"),
            size=size,
            token=secrets.token_urlsafe(32),
            expires=call.tenant.now() + LIFETIME,
        )
        with self._lock:
            self._sessions[session_id] = session
        url = (
            f"{odata.base_url(call.request)}/api/v2.0/Users('{call.mailbox.guid}')"
            f"/Messages('{serialize.rest_id(message.id)}')/AttachmentSessions('{session_id}')"
            f"?authtoken={session.token}"
        )
        body = {
            "@odata.context": call.context("microsoft.graph.uploadSession"),
            "uploadUrl": url,
            "expirationDateTime": serialize.timestamp(session.expires),
            "nextExpectedRanges": session.next_ranges(),
        }
        return Response.json(201, body)

    def _session(self, request: Request, session_id: str) -> tuple[str, UploadSession]:
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None or session.expires < self.tenant.now():
            raise errors.item_not_found()
        if not hmac.compare_digest(request.query.get("authtoken", ""), session.token):
            raise errors.invalid_token("The upload session token is invalid.")
        request.mailbox, request.app = session.owner, session.app
        return session_id, session

    def upload(self, request: Request, session: str, **_: str) -> Response:
        """PUT <uploadUrl>: one byte range; the last one creates the attachment."""
        request.operation = "PUT /uploadSession"
        try:
            session_id, state = self._session(request, session)
            return self._accept(request, session_id, state)
        except GraphError as exc:
            return errors.error_response(exc, request)

    def _accept(self, request: Request, session_id: str, state: UploadSession) -> Response:
        found = _RANGE.fullmatch((request.headers.get("Content-Range") or "").strip())
        if found is None:
            raise errors.bad_request("A Content-Range header 'bytes start-end/total' is required.")
        start, end, total = (int(g) for g in found.groups())
        if total != state.size:
            raise errors.bad_request(f"The total size must be {state.size} bytes, as declared.")
        if len(request.body) > MAX_CHUNK:
            raise GraphError(413, "ErrorRequestEntityTooLarge", "A range may hold at most 4 MB.")
        if start != len(state.received) or end < start or len(request.body) != end - start + 1:
            raise GraphError(
                416,
                "InvalidRange",
                f"The uploaded range does not match the expected range '{len(state.received)}-'.",
            )
        state.received.extend(request.body)
        headers = errors.trace_headers(request)
        if len(state.received) < state.size:
            body = {
                "expirationDateTime": serialize.timestamp(state.expires),
                "nextExpectedRanges": state.next_ranges(),
            }
            return Response.json(200, body, headers)
        with self._lock:
            self._sessions.pop(session_id, None)
        created = self.tenant.store.add_attachment(
            state.message_id,
            state.name,
            state.content_type,
            bytes(state.received),
            is_inline=state.is_inline,
            content_id=state.content_id,
        )
        mailbox = self.tenant.store.mailbox(state.owner)
        headers["Location"] = (
            f"{odata.base_url(request)}/v1.0/users('{mailbox.guid if mailbox else state.owner}')"
            f"/messages('{serialize.rest_id(state.message_id)}')"
            f"/attachments('{serialize.rest_id(created.id)}')"
        )
        return Response.empty(201, headers)

    def cancel(self, request: Request, session: str, **_: Any) -> Response:
        """DELETE <uploadUrl>: cancel the session."""
        request.operation = "DELETE /uploadSession"
        try:
            session_id, _state = self._session(request, session)
        except GraphError as exc:
            return errors.error_response(exc, request)
        with self._lock:
            self._sessions.pop(session_id, None)
        return Response.empty(204, errors.trace_headers(request))


def register(routes: GraphRoutes) -> None:
    """Adds createUploadSession and the upload URL routes."""
    sessions = UploadSessions(routes.tenant)
    routes.add_item(
        "POST", "/attachments/createUploadSession", sessions.create, permissions.MAIL_WRITE
    )
    routes.router.add("PUT", UPLOAD_PATH, sessions.upload, "PUT /uploadSession")
    routes.router.add("DELETE", UPLOAD_PATH, sessions.cancel, "DELETE /uploadSession")
