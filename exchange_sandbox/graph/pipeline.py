"""The one request pipeline every Graph route runs through.

Authenticate the bearer token, check the application permission the route needs, resolve the
target user and its mailbox, apply RBAC for Applications, count the request against the
throttling budget, run the handler, and render any failure as Graph's OData error body.
Handlers receive a ``GraphCall`` that resolves ids the way Exchange does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .. import ids
from ..store import Attachment, Folder, Mailbox, Message, Store
from ..tenant import TokenError
from ..web import Request, Response, Router
from . import errors, odata
from .errors import GraphError

if TYPE_CHECKING:
    from ..tenant import Tenant

Target = Literal["mailbox", "directory", "none"]
Handler = Callable[["GraphCall"], Response]

VERSIONS = ("v1.0", "beta")
# Request.extra key: the verified claims of the $batch a sub-request belongs to.
BATCH_CLAIMS = "batch_claims"
PURGES = "recoverableitemspurges"  # where permanentDelete puts items; hidden from Graph

# Placeholders usable in route templates, and what they match.
_PLACEHOLDERS = {
    "user": r"(?P<user>[^/]+)",
    "message": r"(?P<message>[^/]+)",
    "attachment": r"(?P<attachment>[^/]+)",
    "folder": r"(?P<folder>[^/]+(?:/childFolders/[^/]+)*)",
    "contact": r"(?P<contact>[^/]+)",
    "contactfolder": r"(?P<contactfolder>[^/]+)",
    "rule": r"(?P<rule>[^/]+)",
    "setting": r"(?P<setting>[A-Za-z]+)",
    "session": r"(?P<session>[^/]+)",
    "rest": r"(?P<rest>(?:/.*)?)",
    "case": r"(?P<case>[^/()']+)",
    "search": r"(?P<search>[^/()']+)",
    "operation": r"(?P<operation>[^/()']+)",
    "casekey": r"\('(?P<case>[^/()']+)'\)",
    "operationkey": r"\('(?P<operation>[^/()']+)'\)",
}


@dataclass
class Prefer:
    """The ``Prefer`` header preferences Graph honours for mail."""

    immutable_id: bool = False
    body_type: Literal["text", "html"] | None = None

    @classmethod
    def parse(cls, request: Request) -> Prefer:
        """Reads every ``Prefer`` header (several, or one comma-separated)."""
        prefer = cls()
        for header in request.headers.get_all("Prefer") or []:
            for item in header.split(","):
                name, _, value = item.strip().partition("=")
                value = value.strip().strip('"').lower()
                if name.lower() == "idtype" and value == "immutableid":
                    prefer.immutable_id = True
                elif name.lower() == "outlook.body-content-type" and value in ("text", "html"):
                    prefer.body_type = value  # type: ignore[assignment]
        return prefer

    def applied(self, *, bodies: bool) -> str | None:
        """The ``Preference-Applied`` value for a response (bodies: it carries message bodies)."""
        parts = []
        if self.immutable_id:
            parts.append('IdType="ImmutableId"')
        if bodies and self.body_type:
            parts.append(f'outlook.body-content-type="{self.body_type}"')
        return ", ".join(parts) or None


@dataclass
class GraphCall:
    """One authorised Graph request: its tenant, caller, target mailbox and path parameters."""

    tenant: Tenant
    request: Request
    claims: dict[str, Any]
    version: str
    params: dict[str, str]
    mailbox: Mailbox | None = None
    prefer: Prefer = field(default_factory=Prefer)
    _options: odata.QueryOptions | None = field(default=None, init=False, repr=False)

    @property
    def store(self) -> Store:
        """The tenant's store."""
        return self.tenant.store

    @property
    def base(self) -> str:
        """``https://host:port/v1.0`` — the service root this request addressed."""
        return f"{odata.base_url(self.request)}/{self.version}"

    def options(self) -> odata.QueryOptions:
        """The request's OData system query options (parsed once; a malformed one raises)."""
        if self._options is None:
            self._options = odata.QueryOptions.parse(self.request)
        return self._options

    def context(self, fragment: str) -> str:
        """An ``@odata.context`` URL on this server: ``<root>/$metadata#<fragment>``."""
        return f"{self.base}/$metadata#{fragment}"

    def has_role(self, *roles: str) -> bool:
        """True when the caller's token carries any of ``roles``."""
        return self.tenant.has_role(self.claims, *roles)

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object (400 when it is not one)."""
        try:
            body = self.request.json()
        except (ValueError, UnicodeDecodeError):
            raise errors.bad_request("Unable to read JSON request payload.") from None
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise errors.bad_request("The request payload must be a JSON object.")
        return body

    # -- id resolution, as Exchange answers it ---------------------------------------------
    def _own(self, any_id: str, kind: ids.Kind) -> str:
        key = ids.parse(any_id, kind)
        if key is None:
            raise errors.malformed_id()
        if self.mailbox is not None and key.mailbox_id != self.mailbox.id:
            raise errors.foreign_item()
        return key.full

    def message(self, any_id: str | None = None) -> Message:
        """The message the path names, in this mailbox (400 malformed, 404 absent or purged)."""
        found = self.store.message(self._own(any_id or self.params["message"], "message"))
        if found is None or self._purged(found.folder_id):
            raise errors.item_not_found()
        return found

    def _purged(self, folder_id: str) -> bool:
        """Recoverable Items\\Purges is not reachable through Graph (no well-known name)."""
        assert self.mailbox is not None
        folder = self.store.folder(self.mailbox.id, folder_id)
        return folder is not None and folder.well_known == PURGES

    def folder(self, ref: str | None = None) -> Folder:
        """A folder by id or well-known name; ``a/childFolders/b`` paths resolve to ``b``."""
        assert self.mailbox is not None
        ref = ref or self.params["folder"]
        last = ref.split("/childFolders/")[-1]
        if ids.parse(last) is None:  # not an id: a well-known name, or garbage
            found = self.store.folder(self.mailbox.id, last)
            if (found is None or found.well_known == PURGES) and re.fullmatch(r"[A-Za-z]+", last):
                raise errors.item_not_found()
            if found is None:
                raise errors.malformed_id()
            return found
        found = self.store.folder(self.mailbox.id, self._own(last, "folder"))
        if found is None or found.well_known == PURGES:
            raise errors.item_not_found()
        return found

    def attachment(self, message: Message) -> Attachment:
        """The attachment the path names, on ``message``."""
        found = self.store.attachment(self._own(self.params["attachment"], "attachment"))
        if found is None or found.message_id != message.id:
            raise errors.item_not_found()
        return found


def action_parameter(data: dict[str, Any], name: str) -> Any:
    """An action's body parameter: docs send camelCase, the CSDL spells it in PascalCase."""
    for key in (name, name[0].upper() + name[1:]):
        if key in data:
            return data[key]
    return None


@dataclass
class Route:
    """A registered Graph route: template, handler, the roles it needs, what it targets."""

    method: str
    template: str  # e.g. /users/{user}/messages/{message}/$value
    handler: Handler
    roles: tuple[str, ...]
    target: Target
    versions: tuple[str, ...]


def operation_name(method: str, template: str) -> str:
    """The request-log name of a route: ``GET /users/{id}/messages/{id}/$value``."""
    path = template.replace("{rest}", "/...")
    return f"{method} {re.sub(r'{[a-z]+}', '{id}', path)}"


def _regex(template: str) -> str:
    out = ""
    for part in re.split(r"(\{[a-z]+\})", template):
        out += _PLACEHOLDERS[part[1:-1]] if part.startswith("{") else re.escape(part)
    return out


class GraphRoutes:
    """Collects Graph routes and turns each into a web.Router route behind the pipeline."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.router = Router()

    def add(
        self,
        method: str,
        template: str,
        handler: Handler,
        roles: Iterable[str],
        *,
        target: Target = "mailbox",
        versions: tuple[str, ...] = VERSIONS,
    ) -> None:
        """Registers ``handler`` for ``method template`` on each API version."""
        route = Route(method, template, handler, tuple(roles), target, versions)
        pattern = rf"/(?P<version>{'|'.join(re.escape(v) for v in versions)}){_regex(template)}/?"
        self.router.add(method, pattern, self._bind(route), operation_name(method, template))

    def add_item(
        self, method: str, suffix: str, handler: Handler, roles: Iterable[str], **kw: Any
    ) -> None:
        """Registers a message route under ``/messages/{message}`` and under a folder path."""
        roles = tuple(roles)
        self.add(method, f"/users/{{user}}/messages/{{message}}{suffix}", handler, roles, **kw)
        self.add(
            method,
            f"/users/{{user}}/mailFolders/{{folder}}/messages/{{message}}{suffix}",
            handler,
            roles,
            **kw,
        )

    def _bind(self, route: Route) -> Callable[..., Response]:
        def run(request: Request, **params: str) -> Response:
            return self.execute(route, request, params)

        return run

    def execute(self, route: Route, request: Request, params: dict[str, str]) -> Response:
        """Runs one request through authentication, authorisation, throttling and the handler."""
        request.operation = operation_name(route.method, route.template)
        version = params.pop("version", "v1.0")
        throttled_mailbox: Mailbox | None = None
        admitted = False
        try:
            claims = request.extra.get(BATCH_CLAIMS) or self._authenticate(request)
            if route.roles and not self.tenant.has_role(claims, *route.roles):
                raise errors.access_denied()
            call = GraphCall(
                self.tenant, request, claims, version, params, prefer=Prefer.parse(request)
            )
            if route.target != "none" and "user" in params:
                call.mailbox = self._resolve_user(call, route.target)
                if route.target == "mailbox":
                    throttled_mailbox = call.mailbox
            verdict = self.tenant.throttle(request, "graph", throttled_mailbox)
            if verdict is not None:
                raise errors.throttled(verdict.retry_after_seconds)
            admitted = True
            response = route.handler(call)
        except GraphError as exc:
            if admitted:
                self.tenant.release(request)
            return errors.error_response(exc, request)
        except BaseException:
            if admitted:
                self.tenant.release(request)
            raise
        response.headers.update(errors.trace_headers(request))
        if isinstance(response.body, bytes | bytearray):
            self.tenant.release(request)
        else:  # streamed: the request holds its concurrency slot until the last chunk is sent
            response.body = self._release_after(request, response.body)
        return response

    def _authenticate(self, request: Request) -> dict[str, Any]:
        try:
            return self.tenant.authenticate(request, "graph")
        except TokenError as exc:
            raise errors.invalid_token(exc.reason) from None

    def _release_after(self, request: Request, body: Iterable[bytes]) -> Iterator[bytes]:
        try:
            yield from body
        finally:
            self.tenant.release(request)

    def _resolve_user(self, call: GraphCall, target: Target) -> Mailbox:
        user = call.params["user"]
        if user.lower() == "me":
            raise errors.bad_request(
                "/me request is only valid with delegated authentication flow."
            )
        mailbox = call.store.mailbox(user)
        if mailbox is None:
            if target == "directory":
                raise errors.directory_object_not_found(user)
            raise errors.invalid_user(user)
        call.request.mailbox = mailbox.address
        if target == "mailbox":
            if not mailbox.enabled:
                raise errors.mailbox_not_enabled()
            if call.request.app and not self.tenant.in_scope(call.request.app, mailbox):
                raise errors.access_denied(errors.RBAC_DENIED)
        return mailbox
