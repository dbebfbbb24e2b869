"""The running tenant: store, signing keys, realism knobs, and the one request pipeline.

INTERFACE DRAFT — the Graph face (``exchange_sandbox/graph/``), the EWS face
(``exchange_sandbox/ews/``), identity and the admin API code against these names.

Pipeline for every request (``Tenant.__call__``): admin routes bypass everything; otherwise
clock/latency (``--latency-ms``), then fault injection (matched by method + path regex), then
the router. Faces call ``authenticate`` and ``throttle`` themselves because only they know the
audience, the mailbox, and how to render the error (Graph JSON vs SOAP fault).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .store import App, Mailbox, Store
from .web import Request, Response, Router

Audience = Literal["graph", "ews"]

GRAPH_AUDIENCE = "https://graph.microsoft.com"
EWS_AUDIENCE = "https://outlook.office365.com"


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
    host: str = "127.0.0.1"
    port: int = 0
    state_dir: Path = Path(".sandbox-state")
    seed: str = "demo"  # demo | none | bulk:M:N
    latency_ms: int = 0
    throttle: Literal["microsoft", "off"] = "off"
    token_lifetime: int = 3599
    schema_dir: Path | None = None
    ews_blocked: bool = False


@dataclass
class Throttled:
    retry_after_seconds: float  # Graph: Retry-After header; EWS: BackOffMilliseconds


class Tenant:
    """One sandbox tenant. Faces receive it when they build their routers."""

    tenant_id: str
    settings: Settings
    store: Store
    router: Router

    def now(self) -> dt.datetime:
        """Current UTC time including any clock skew set through the admin API."""

    def authenticate(self, request: Request, audience: Audience) -> dict[str, Any]:
        """Verifies ``Authorization: Bearer`` (RS256, ``aud``, ``tid``, ``exp``) and returns the
        claims (``appid``, ``roles``...). Also sets ``request.app`` and ``request.claims``.
        Raises TokenError. For EWS also accepts Basic/NTLM service accounts (claims then carry
        ``"service_account": username`` and no roles)."""

    def app(self, client_id: str) -> App | None: ...

    def has_role(self, claims: dict[str, Any], *roles: str) -> bool:
        """True when the token carries any of ``roles``."""

    def in_scope(self, client_id: str, mailbox: Mailbox) -> bool:
        """RBAC for Applications: False when the app's mailbox scope excludes this mailbox."""

    def throttle(
        self, request: Request, audience: Audience, mailbox: Mailbox | None
    ) -> Throttled | None:
        """Counts the request against Microsoft's limits (per app + mailbox when ``--throttle
        microsoft``: Graph 4 concurrent and 10,000 per 10 minutes; EWS budgets) and any throttle
        fault injected through the admin API. None = go ahead. Callers that get None must call
        ``release(request)`` when done (concurrency accounting)."""

    def release(self, request: Request) -> None: ...

    def __call__(self, request: Request) -> Response: ...
