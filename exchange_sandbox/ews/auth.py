"""Who an EWS request acts as: the token's EWS permission, Exchange Impersonation and
X-AnchorMailbox, with the HTTP statuses and SOAP faults Exchange Online answers."""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..store import Mailbox
from ..tenant import EWS_CHALLENGE, Tenant
from ..web import Request
from .errors import EwsFault
from .soap import Envelope, t

FULL_ACCESS_AS_APP = "full_access_as_app"
# The resource Exchange Online names in its OAuth challenge (Office 365 Exchange Online).
_EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"


class HttpDenied(Exception):
    """The front end refuses the request before EWS runs: an HTTP status, no SOAP body."""

    def __init__(self, status: int, diagnostics: str, headers: dict[str, str] | None = None):
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.headers = headers or {}


def bearer_challenge(error: str | None = None) -> str:
    """Exchange Online's ``WWW-Authenticate: Bearer ...`` challenge."""
    challenge = (
        f'Bearer client_id="{_EXCHANGE_APP_ID}", '
        'trusted_issuers="00000001-0000-0000-c000-000000000000@*", '
        'token_types="app_asserted_user_v1 service_asserted_app_v1", '
        'authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"'
    )
    return f'{challenge}, error="{error}"' if error else challenge


def token_rejected(reason: str, *, offer_all: bool = False) -> HttpDenied:
    """401 for a missing, malformed, expired or foreign token (``x-ms-diagnostics`` 2000001);
    ``offer_all`` also offers the on-premises schemes, as to a client without credentials."""
    diagnostics = f'2000001;reason="{reason}";error_category="invalid_token"'
    challenge = bearer_challenge("invalid_token")
    if offer_all:
        challenge = f"{EWS_CHALLENGE}, {challenge}"
    return HttpDenied(401, diagnostics, {"WWW-Authenticate": challenge})


def require_ews_permission(tenant: Tenant, claims: dict[str, Any]) -> None:
    """App tokens need ``full_access_as_app``; without it Exchange Online answers 401."""
    if "service_account" in claims or tenant.has_role(claims, FULL_ACCESS_AS_APP):
        return
    diagnostics = (
        '2000008;reason="The token contains no permissions, or permissions can not be '
        'understood.";error_category="invalid_grant"'
    )
    raise HttpDenied(401, diagnostics, {"WWW-Authenticate": bearer_challenge("invalid_token")})


def _impersonation_target(header: etree._Element) -> tuple[str, str]:
    """(kind, value) from ``t:ConnectingSID``: PrimarySmtpAddress, SmtpAddress, PrincipalName
    or SID."""
    connecting = header.find(t("ConnectingSID"))
    for child in [] if connecting is None else connecting:
        if isinstance(child.tag, str) and (child.text or "").strip():
            return etree.QName(child).localname, child.text.strip()
    raise EwsFault(
        "ErrorInvalidExchangeImpersonationHeaderData",
        "The impersonation header must specify a user principal name, SID or SMTP address.",
    )


def _lookup(tenant: Tenant, kind: str, value: str) -> Mailbox | None:
    mailbox = tenant.store.mailbox(value)
    if mailbox is None and kind == "PrincipalName" and "@" in value:
        mailbox = tenant.store.mailbox(value.lower())
    if mailbox is not None and kind == "SID" and mailbox.sid.lower() != value.lower():
        return None
    return mailbox if mailbox is not None and mailbox.enabled else None


def acting_mailbox(
    tenant: Tenant, request: Request, envelope: Envelope, claims: dict[str, Any]
) -> Mailbox | None:
    """The mailbox the request acts as (impersonated, or the service account's own)."""
    header = envelope.header("ExchangeImpersonation")
    is_app_token = "service_account" not in claims
    if header is None:
        if is_app_token:
            raise EwsFault("ErrorInvalidExchangeImpersonationHeaderData")
        own = tenant.store.mailbox(claims["service_account"])
        return _anchor(tenant, request, own)
    kind, value = _impersonation_target(header)
    mailbox = _lookup(tenant, kind, value)
    if mailbox is None:
        if kind == "SID":
            raise EwsFault(
                "ErrorNonExistentMailbox",
                "The SID has no mailbox associated with it.",
                [("Value", "SID", value)],
            )
        raise EwsFault("ErrorNonExistentMailbox", message_xml=[("Value", "SmtpAddress", value)])
    if is_app_token and not tenant.in_scope(claims.get("appid", ""), mailbox):
        raise EwsFault("ErrorImpersonateUserDenied")
    return _anchor(tenant, request, mailbox)


def _anchor(tenant: Tenant, request: Request, mailbox: Mailbox | None) -> Mailbox | None:
    """Honours ``X-AnchorMailbox``: it routes the request, so it must name a real mailbox."""
    anchor = (request.headers.get("X-AnchorMailbox") or "").strip()
    if anchor and tenant.store.mailbox(anchor) is None:
        raise EwsFault("ErrorNonExistentMailbox", message_xml=[("Value", "SmtpAddress", anchor)])
    return mailbox
