"""The running tenant: store, signing keys, realism knobs, and the one request pipeline.

The Graph face (``exchange_sandbox/graph/``), the EWS face (``exchange_sandbox/ews/``),
identity and the admin API code against these names.

Pipeline for every request (``Tenant.__call__``): admin routes bypass everything; otherwise
latency (``--latency-ms``), then fault injection (matched by method + path regex), then the
router. Faces call ``authenticate`` and ``throttle`` themselves because only they know the
audience, the mailbox, and how to render the error (Graph JSON vs SOAP fault).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import importlib
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from . import admin, identity
from .faults import FaultInjector
from .identity import EWS_RESOURCE, GRAPH_RESOURCE, TokenInvalid, TokenService
from .requestlog import RequestLog
from .seeds import seed
from .store import App, Mailbox, Store
from .throttle import EWS_EXCHANGE_ONLINE, GRAPH_OUTLOOK, Limit, Throttler
from .tls import ensure_client_certificate, ensure_server_tls, ensure_signing_key, load_key_pair
from .web import Request, Response, Router

Audience = Literal["graph", "ews"]

GRAPH_AUDIENCE = GRAPH_RESOURCE
EWS_AUDIENCE = EWS_RESOURCE
_AUDIENCE_URL: dict[str, str] = {"graph": GRAPH_AUDIENCE, "ews": EWS_AUDIENCE}

STORE_FILE = "tenant.sqlite"
# What Exchange Server's EWS virtual directory offers to a client without credentials.
EWS_CHALLENGE = 'Negotiate, NTLM, Basic realm="127.0.0.1"'
_SEEDED_KEY = "sandbox.seeded"  # the seed this state was built from
# Request.extra keys a caller running requests on the tenant's behalf ($batch) may set:
LATENCY_WAITED = "latency_waited"  # the request's latency was already waited for
HELD_SLOTS = "held_slots"  # a list that keeps the request's concurrency slots past its answer
_SERVICE_ACCOUNT_KEY = "service_account"


class TokenError(Exception):
    """The bearer token is missing, malformed, badly signed, expired or for another audience.

    ``reason`` is the text Microsoft puts in the error message ("Access token is empty.",
    "Lifetime validation failed, the token is expired.", ...).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Settings:
    """The ``exchange-sandbox serve`` options; latency, throttle, ews_blocked and
    token_lifetime also change at runtime through ``/_sandbox/settings``."""

    host: str = "127.0.0.1"
    port: int = 0
    state_dir: Path = Path(".sandbox-state")
    seed: str = "demo"  # demo | none | bulk:M:N
    latency_ms: int = 0
    throttle: Literal["microsoft", "off"] = "off"
    token_lifetime: int = 3599
    schema_dir: Path | None = None
    ews_blocked: bool = False
    # Graph's per app + mailbox budget under ``throttle="microsoft"``; lowered only to rehearse
    # throttling (benches), Outlook's own limits otherwise.
    graph_limit: Limit = GRAPH_OUTLOOK
    # eDiscovery operation durations relative to Exchange Online's (exchange_sandbox/ediscovery)
    ediscovery_time_scale: float = 0.01


@dataclass
class Throttled:
    """A request over a limit; the face renders it (Graph 429, EWS ErrorServerBusy)."""

    retry_after_seconds: float  # Graph: Retry-After header; EWS: BackOffMilliseconds


def app_name(app: App) -> str:
    """The short name tests and the demo use for an app (``full``, ``readonly``, ``scoped``)."""
    return re.sub(r"[^a-z0-9]+", "-", app.display_name.lower()).strip("-") or app.client_id


class Tenant:
    """One sandbox tenant. Faces receive it when they build their routers."""

    tenant_id: str
    settings: Settings
    store: Store
    router: Router

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state_dir = Path(settings.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.tls = ensure_server_tls(self.state_dir)
        self.store = Store(self.state_dir / STORE_FILE)
        self.base_url = f"https://{settings.host}:{settings.port}"  # set again once bound
        self.clock_skew = dt.timedelta(0)
        self.faults = FaultInjector()
        self.request_log = RequestLog()
        self.throttler = Throttler()
        self._reset_lock = threading.Lock()
        if self.store.get_setting(_SEEDED_KEY) is None:
            self._seed()
        self.tenant_id = self._ensure_tenant_id()
        self._ensure_credentials()
        self.tokens = TokenService(self.tenant_id, ensure_signing_key(self.state_dir))
        self.router = self._build_router()
        self.admin_router = admin.build_router(self)

    # -- state ---------------------------------------------------------------------------------
    def _seed(self) -> None:
        seed(self.store, self.settings.seed)
        self.store.set_setting(_SEEDED_KEY, self.settings.seed)

    def _ensure_tenant_id(self) -> str:
        tenant_id = self.store.get_setting("tenant_id")
        if not tenant_id:
            tenant_id = str(uuid.uuid4())
            self.store.set_setting("tenant_id", tenant_id)
        return str(tenant_id)

    def _ensure_credentials(self) -> None:
        """The service account and every app's client certificate (kept in the state dir)."""
        if not self.store.get_setting(_SERVICE_ACCOUNT_KEY):
            self.store.set_setting(
                _SERVICE_ACCOUNT_KEY,
                {"username": f"svc-soar@{self.domain}", "password": secrets.token_urlsafe(18)},
            )
        for app in self.store.apps():
            self.register_certificate(app)

    def register_certificate(self, app: App) -> None:
        """Registers the app's client certificate (generated on first use) on the app."""
        certificate = load_key_pair(self.certificate_path(app)).certificate_pem
        if app.certificate_pem != certificate:
            self.store.update_app(app.client_id, certificate_pem=certificate)

    def certificate_path(self, app: App) -> Path:
        """The PEM (private key + certificate) the app authenticates with."""
        return ensure_client_certificate(self.state_dir, app.client_id)

    @property
    def domain(self) -> str:
        """The tenant's default domain (``contoso.com`` in the demo)."""
        configured = self.store.get_setting("domain") or self.store.get_setting("tenant_domain")
        if configured:
            return str(configured)
        first = self.store.mailboxes(limit=1)
        return first[0].address.rsplit("@", 1)[-1] if first else "contoso.com"

    @property
    def service_account(self) -> dict[str, str]:
        """The on-premises style EWS service account ``{"username", "password"}``."""
        return dict(self.store.get_setting(_SERVICE_ACCOUNT_KEY))

    def knows_tenant(self, ref: str) -> bool:
        """True for the tenant id and the tenant's domains (as Entra accepts either)."""
        ref = ref.lower()
        domain = self.domain.lower()
        return ref in (self.tenant_id, domain, f"{domain.split('.', 1)[0]}.onmicrosoft.com")

    def reset(self) -> None:
        """Back to the seed: data, apps and limits; tenant id and credentials stay the same."""
        # One transaction: concurrent readers see the old tenant or the new one, never a gap.
        with self._reset_lock, self.store.transaction():
            kept = {
                key: self.store.get_setting(key)
                for key in ("tenant_id", _SERVICE_ACCOUNT_KEY, _SEEDED_KEY)
            }
            self.store.reset()
            self.settings.seed = str(kept[_SEEDED_KEY] or self.settings.seed)
            self._seed()
            for key, value in kept.items():  # seeds are deterministic; "none" has random ids
                if value is not None:
                    self.store.set_setting(key, value)
            self._ensure_credentials()
        self.throttler.clear()

    def info(self) -> dict[str, Any]:
        """What ``exchange-sandbox serve`` prints once ready (the binding JSON line)."""
        base = self.base_url
        return {
            "base_url": base,
            "authority_host": base,
            "graph_url": base,
            "ews_url": f"{base}/EWS/Exchange.asmx",
            "ca_bundle": str(self.tls.ca_path),
            "tenant_id": self.tenant_id,
            "domain": self.domain,
            "apps": [self.app_info(app) for app in self.store.apps()],
            "mailboxes": [m.address for m in self.store.mailboxes()],
            "service_account": self.service_account,
            "state_dir": str(self.state_dir),
        }

    def app_info(self, app: App) -> dict[str, Any]:
        """An app registration as the JSON line and the admin API describe it."""
        return {
            "name": app_name(app),
            "display_name": app.display_name,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "secret_expires_at": app.secret_expires_at.isoformat()
            if app.secret_expires_at
            else None,
            "certificate_path": str(self.certificate_path(app)),
            "roles": list(app.roles),
            "mailbox_scope": app.mailbox_scope,
        }

    # -- time ----------------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        """Current UTC time including any clock skew set through the admin API."""
        return dt.datetime.now(dt.timezone.utc) + self.clock_skew

    # -- authentication and authorisation ------------------------------------------------------
    def authenticate(self, request: Request, audience: Audience) -> dict[str, Any]:
        """Verifies ``Authorization: Bearer`` (RS256, ``aud``, ``tid``, ``exp``) and returns the
        claims (``appid``, ``roles``...). Also sets ``request.app`` and ``request.claims``.
        Raises TokenError. For EWS also accepts Basic/NTLM service accounts (claims then carry
        ``"service_account": username`` and no roles)."""
        header = (request.headers.get("Authorization") or "").strip()
        scheme, _, credentials = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            try:
                claims = self.tokens.verify(
                    credentials.strip(), _AUDIENCE_URL[audience], self.now()
                )
            except TokenInvalid as exc:
                raise TokenError(exc.reason) from exc
            request.app = claims.get("appid")
        elif audience == "ews" and scheme == "basic":
            username = self._check_basic(credentials)
            claims = {"service_account": username, "tid": self.tenant_id}
            request.app = username
        elif audience == "ews" and request.extra.get("ntlm_user"):
            username = self.service_account["username"]
            claims = {"service_account": username, "tid": self.tenant_id}
            request.app = username
        elif audience == "ews" and scheme in ("ntlm", "negotiate"):
            raise TokenError("The request failed with HTTP status 401: Unauthorized.")
        elif not header or not credentials.strip():
            raise TokenError("Access token is empty.")
        else:
            raise TokenError(
                "IDX14100: JWT is not well formed, there are no dots (.).\n"
                "The token needs to be in JWS or JWE Compact Serialization Format."
            )
        request.claims = claims
        return claims

    def _check_basic(self, credentials: str) -> str:
        try:
            decoded = base64.b64decode(credentials.strip()).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise TokenError("The request failed with HTTP status 401: Unauthorized.") from exc
        username, _, password = decoded.partition(":")
        if self.service_account_matches(username, password):
            return self.service_account["username"]
        raise TokenError("The request failed with HTTP status 401: Unauthorized.")

    def service_account_matches(self, username: str, password: str) -> bool:
        """UPN or ``DOMAIN\\user`` with the service account's password."""
        account = self.service_account
        expected = account["username"].lower()
        given = username.lower()
        if "\\" in given:  # DOMAIN\user, as on-premises clients send it
            given = given.split("\\", 1)[1]
            expected = expected.split("@", 1)[0]
        return given in (expected, account["username"].lower()) and hmac.compare_digest(
            password.encode("utf-8"), account["password"].encode("utf-8")
        )

    def app(self, client_id: str) -> App | None:
        """The app registration with this client id."""
        return self.store.app(client_id)

    def has_role(self, claims: dict[str, Any], *roles: str) -> bool:
        """True when the token carries any of ``roles``."""
        held = claims.get("roles") or []
        return any(role in held for role in roles)

    def in_scope(self, client_id: str, mailbox: Mailbox) -> bool:
        """RBAC for Applications: False when the app's mailbox scope excludes this mailbox."""
        allowed = self.store.kept(("app.mailbox_scope", client_id), lambda: self._scope(client_id))
        if allowed is None:
            return True
        names = {mailbox.address.lower(), *(alias.lower() for alias in mailbox.aliases)}
        return bool(allowed & names)

    def _scope(self, client_id: str) -> frozenset[str] | None:
        app = self.app(client_id)
        if app is None or app.mailbox_scope is None:
            return None
        return frozenset(address.lower() for address in app.mailbox_scope)

    # -- throttling ----------------------------------------------------------------------------
    def throttle(
        self, request: Request, audience: Audience, mailbox: Mailbox | None
    ) -> Throttled | None:
        """Counts the request against Microsoft's limits (per app + mailbox when ``--throttle
        microsoft``: Graph 4 concurrent and 10,000 per 10 minutes; EWS budgets) and any throttle
        fault injected through the admin API. None = go ahead. Callers that get None must call
        ``release(request)`` when done (concurrency accounting)."""
        injected = request.extra.pop("throttle_fault", None)
        if injected is not None:
            return Throttled(float(injected))
        if self.settings.throttle != "microsoft":
            return None
        if audience == "graph" and mailbox is None:
            # Outlook's limits are per app AND mailbox: directory calls and the $batch envelope
            # (its sub-requests count one by one) fall under Graph's global limits instead.
            return None
        key = (audience, request.app or "-", mailbox.address if mailbox else "-")
        limit = self.settings.graph_limit if audience == "graph" else EWS_EXCHANGE_ONLINE
        retry_after = self.throttler.acquire(key, limit)
        if retry_after is not None:
            return Throttled(retry_after)
        held = request.extra.get(HELD_SLOTS)
        if held is not None:  # the caller frees them with release_slots
            held.append(key)
        else:
            request.extra.setdefault("throttle_keys", []).append(key)
        return None

    def release(self, request: Request) -> None:
        """Ends the request's concurrent slots (safe to call twice; the pipeline calls it too)."""
        self.release_slots(request.extra.pop("throttle_keys", []))

    def release_slots(self, keys: Iterable[tuple[str, str, str]]) -> None:
        """Ends concurrent slots a caller held with ``HELD_SLOTS``."""
        for key in keys:
            self.throttler.release(key)

    def wait_latency(self) -> None:
        """Waits the configured ``--latency-ms``, as every request does before it is answered."""
        if self.settings.latency_ms > 0:
            time.sleep(self.settings.latency_ms / 1000)

    # -- the pipeline --------------------------------------------------------------------------
    def _build_router(self) -> Router:
        router = Router()
        router.include(identity.build_router(self))
        for face in self._faces():
            router.include(face)
        return router

    def _faces(self) -> Iterator[Router]:
        """The Graph and EWS faces, when their packages are installed and wired up."""
        for name in ("exchange_sandbox.graph", "exchange_sandbox.ews"):
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
                continue
            build_router = getattr(module, "build_router", None)
            if build_router is not None:
                yield build_router(self)

    def __call__(self, request: Request) -> Response:
        """Answers one request: admin API, or latency -> faults -> router."""
        if request.path.startswith(admin.PREFIX):
            return admin.dispatch(self, request)
        response = self._answer(request)
        if isinstance(response.body, bytes | bytearray):
            self.release(request)
        else:  # a streamed body holds its concurrency slot until the last chunk is out
            response.body = self._release_after(request, response.body)
        return response

    def _release_after(self, request: Request, chunks: Iterable[bytes]) -> Iterator[bytes]:
        try:
            yield from chunks
        finally:
            self.release(request)

    def _answer(self, request: Request) -> Response:
        if not request.extra.get(LATENCY_WAITED):
            self.wait_latency()
        match = self.router.match(request.method, request.path)
        if match is not None:
            request.operation = match[2]
        fault = self.faults.take(request.method, request.path, request.body or b"")
        if fault is not None:
            if fault.delay_ms:
                time.sleep(fault.delay_ms / 1000)
            if fault.throttle is not None:
                request.extra["throttle_fault"] = fault.throttle
            injected = fault.response()
            if injected is not None:
                return injected
        if match is None:
            return Response.json(
                404,
                {
                    "error": {
                        "code": "NotFound",
                        "message": f"No resource at {request.method} {request.path}.",
                    }
                },
            )
        handler, arguments, _ = match
        return handler(request, **arguments)

    def complete(self, request: Request, response: Response, duration_ms: float) -> None:
        """Writes the request log entry as the answer goes out (admin calls excluded)."""
        if not request.path.startswith(admin.PREFIX):
            self.request_log.record(request, response, duration_ms)
