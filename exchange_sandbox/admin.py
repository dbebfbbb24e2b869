"""The admin API under ``/_sandbox/``: loopback only, no auth, never logged, never faulted.

``GET|DELETE /_sandbox/requests`` (request log), ``GET|POST|DELETE /_sandbox/faults``,
``POST /_sandbox/reset``, ``GET|POST /_sandbox/clock`` (skew), ``GET|POST /_sandbox/settings``
(latency_ms, throttle, ews_blocked, token_lifetime), ``GET|POST /_sandbox/apps`` (register an
app, e.g. with an expired secret or a mailbox scope), ``GET /_sandbox/info`` (the JSON line),
``POST /_sandbox/sync-states/expire`` (forget every Graph delta token and EWS SyncState),
``POST /_sandbox/deliver?mailbox=&folder=`` (store the body, raw MIME, as a delivered message).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from . import sync_states
from .faults import Fault, FaultSpecError
from .store import App
from .web import Request, Response, Router, is_loopback

if TYPE_CHECKING:
    from .tenant import Tenant

PREFIX = "/_sandbox/"


class AdminError(Exception):
    """A bad admin request (rendered as 400 with the reason)."""


def _ok(obj: Any, status: int = 200) -> Response:
    return Response.json(status, obj)


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as exc:
        raise AdminError(f"body is not JSON: {exc}") from exc
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise AdminError("body must be a JSON object")
    return body


def build_router(tenant: Tenant) -> Router:
    """The admin routes, bound to ``tenant``."""
    router = Router()

    def info(request: Request) -> Response:
        """GET /_sandbox/info: the JSON line ``serve`` printed, current."""
        return _ok(tenant.info())

    def requests_log(request: Request) -> Response:
        """GET /_sandbox/requests: the request log."""
        return _ok(tenant.request_log.entries())

    def clear_requests(request: Request) -> Response:
        """DELETE /_sandbox/requests: empties the log."""
        tenant.request_log.clear()
        return Response.empty()

    def list_faults(request: Request) -> Response:
        """GET /_sandbox/faults: the active faults."""
        return _ok(tenant.faults.list())

    def add_fault(request: Request) -> Response:
        """POST /_sandbox/faults: injects one fault."""
        try:
            fault = tenant.faults.add(Fault.from_spec(_body(request)))
        except FaultSpecError as exc:
            raise AdminError(str(exc)) from exc
        return _ok(fault.describe(), 201)

    def clear_faults(request: Request) -> Response:
        """DELETE /_sandbox/faults: removes every fault."""
        tenant.faults.clear()
        return Response.empty()

    def reset(request: Request) -> Response:
        """POST /_sandbox/reset: back to the seed."""
        tenant.reset()
        return _ok({"reset": True, "seed": tenant.settings.seed})

    def clock(request: Request) -> Response:
        """GET|POST /_sandbox/clock: reads or sets the clock skew."""
        if request.method == "POST":
            body = _body(request)
            seconds = body.get("skew_seconds", body.get("seconds", body.get("skew")))
            if not isinstance(seconds, int | float):
                raise AdminError("give skew_seconds (a number; negative moves the clock back)")
            tenant.clock_skew = dt.timedelta(seconds=seconds)
        return _ok(
            {"skew_seconds": tenant.clock_skew.total_seconds(), "now": tenant.now().isoformat()}
        )

    def settings(request: Request) -> Response:
        """GET|POST /_sandbox/settings: reads or changes the realism knobs."""
        if request.method == "POST":
            _apply_settings(tenant, _body(request))
        current = tenant.settings
        return _ok(
            {
                "latency_ms": current.latency_ms,
                "throttle": current.throttle,
                "ews_blocked": current.ews_blocked,
                "token_lifetime": current.token_lifetime,
                "ediscovery_time_scale": current.ediscovery_time_scale,
            }
        )

    def apps(request: Request) -> Response:
        """GET /_sandbox/apps: the app registrations."""
        return _ok([tenant.app_info(app) for app in tenant.store.apps()])

    def add_app(request: Request) -> Response:
        """POST /_sandbox/apps: registers an app (with a generated certificate)."""
        app = _app_from(_body(request))
        tenant.store.add_app(app)
        tenant.register_certificate(app)
        return _ok(tenant.app_info(tenant.store.app(app.client_id) or app), 201)

    def expire_sync_states(request: Request) -> Response:
        """POST /_sandbox/sync-states/expire: every delta token and SyncState is now unknown."""
        return _ok({"expired": sync_states.expire(tenant.store)})

    def deliver(request: Request) -> Response:
        """POST /_sandbox/deliver: the body (RFC 5322 MIME) lands in a mailbox folder as if
        delivered now (tests: mail no client could send, e.g. hostile or huge)."""
        mailbox = tenant.store.mailbox(request.query.get("mailbox", ""))
        if mailbox is None:
            raise AdminError("mailbox: no such mailbox")
        folder = tenant.store.folder(mailbox.id, request.query.get("folder", "inbox"))
        if folder is None or not request.body:
            raise AdminError("folder: no such folder, or an empty body")
        message = tenant.store.add_message(
            mailbox.id, folder.id, request.body, received_at=tenant.now()
        )
        return _ok({"id": message.id, "internet_message_id": message.internet_message_id}, 201)

    router.add("GET", r"/_sandbox/info", info)
    router.add("POST", r"/_sandbox/deliver", deliver)
    router.add("POST", r"/_sandbox/sync-states/expire", expire_sync_states)
    router.add("GET", r"/_sandbox/requests", requests_log)
    router.add("DELETE", r"/_sandbox/requests", clear_requests)
    router.add("GET", r"/_sandbox/faults", list_faults)
    router.add("POST", r"/_sandbox/faults", add_fault)
    router.add("DELETE", r"/_sandbox/faults", clear_faults)
    router.add("POST", r"/_sandbox/reset", reset)
    router.add("*", r"/_sandbox/clock", clock)
    router.add("*", r"/_sandbox/settings", settings)
    router.add("GET", r"/_sandbox/apps", apps)
    router.add("POST", r"/_sandbox/apps", add_app)
    return router


def _apply_settings(tenant: Tenant, body: dict[str, Any]) -> None:
    known = {"latency_ms", "throttle", "ews_blocked", "token_lifetime", "ediscovery_time_scale"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise AdminError(f"unknown settings: {', '.join(unknown)}")
    if "latency_ms" in body:
        if not isinstance(body["latency_ms"], int) or body["latency_ms"] < 0:
            raise AdminError("latency_ms must be a non-negative integer")
        tenant.settings.latency_ms = body["latency_ms"]
    if "throttle" in body:
        if body["throttle"] not in ("microsoft", "off"):
            raise AdminError("throttle is 'microsoft' or 'off'")
        tenant.settings.throttle = body["throttle"]
        tenant.throttler.clear()
    if "ews_blocked" in body:
        tenant.settings.ews_blocked = bool(body["ews_blocked"])
    if "token_lifetime" in body:
        if not isinstance(body["token_lifetime"], int) or body["token_lifetime"] < 1:
            raise AdminError("token_lifetime must be a positive number of seconds")
        tenant.settings.token_lifetime = body["token_lifetime"]
    if "ediscovery_time_scale" in body:
        scale = body["ediscovery_time_scale"]
        if not isinstance(scale, int | float) or isinstance(scale, bool) or scale < 0:
            raise AdminError("ediscovery_time_scale must be a non-negative number")
        tenant.settings.ediscovery_time_scale = float(scale)


def _app_from(body: dict[str, Any]) -> App:
    """An app registration from the admin API's JSON (secret generated unless given)."""
    roles = body.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise AdminError("roles must be a list of strings")
    scope = body.get("mailbox_scope")
    if scope is not None and not (
        isinstance(scope, list) and all(isinstance(s, str) for s in scope)
    ):
        raise AdminError("mailbox_scope must be a list of addresses or null")
    expires = body.get("secret_expires_at")
    try:
        expires_at = dt.datetime.fromisoformat(expires) if expires else None
    except (TypeError, ValueError) as exc:
        raise AdminError("secret_expires_at must be an ISO 8601 timestamp") from exc
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=dt.timezone.utc)
    return App(
        client_id=str(body.get("client_id") or uuid.uuid4()),
        display_name=str(body.get("name") or body.get("display_name") or "custom"),
        client_secret=body.get("client_secret") or secrets.token_urlsafe(30),
        secret_expires_at=expires_at,
        certificate_pem=None,
        roles=roles,
        mailbox_scope=scope,
    )


def dispatch(tenant: Tenant, request: Request) -> Response:
    """Answers an admin request; refuses anything that does not come from loopback."""
    if not is_loopback(request.client_address):
        return Response.json(403, {"error": "the admin API answers loopback clients only"})
    match = tenant.admin_router.match(request.method, request.path)
    if match is None:
        return Response.json(404, {"error": f"no admin route {request.method} {request.path}"})
    handler, arguments, _ = match
    try:
        return handler(request, **arguments)
    except AdminError as exc:
        return Response.json(400, {"error": str(exc)})
