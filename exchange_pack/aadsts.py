"""Microsoft identity platform (AADSTS) token errors mapped to the pack's errors, in plain words.

msal returns the token endpoint's 4xx JSON body as a dict (``error``, ``error_description``,
``error_codes``); these helpers turn it, or a transport failure, into an ``ExchangePackError``
whose message says what is wrong and whose hint says what to fix. They never echo the request,
so no secret or client assertion can leak through them.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import requests
from msal.exceptions import MsalServiceError

from .errors import (
    AccessDeniedError,
    AuthenticationError,
    ConfigError,
    ExchangePackError,
    ServiceUnavailableError,
    ThrottledError,
    TransientError,
)

_AADSTS_CODE = re.compile(r"AADSTS(\d+)")
_HTTP_STATUS = re.compile(r"\b([45]\d\d)\b")


class AadstsMeaning(NamedTuple):
    error: type[ExchangePackError]
    message: str
    hint: str


AADSTS_ERRORS: dict[int, AadstsMeaning] = {
    7000215: AadstsMeaning(
        AuthenticationError,
        "The client secret is wrong.",
        "Copy the secret's Value (not its Secret ID) from the app registration's "
        "'Certificates & secrets' page into client_secret.",
    ),
    7000222: AadstsMeaning(
        AuthenticationError,
        "The client secret has expired.",
        "Create a new client secret for the app registration and update client_secret.",
    ),
    700016: AadstsMeaning(
        AuthenticationError,
        "No app with this client_id exists in the tenant.",
        "Check client_id and tenant_id; the app must be registered in, or consented to by, "
        "this tenant.",
    ),
    90002: AadstsMeaning(
        ConfigError,
        "The tenant was not found.",
        "Check tenant_id (the directory ID or a verified domain) and cloud: a tenant lives in "
        "one national cloud only.",
    ),
    70011: AadstsMeaning(
        ConfigError,
        "The requested scope is not valid.",
        "Check cloud: the Graph and EWS resources must belong to the tenant's cloud.",
    ),
    500011: AadstsMeaning(
        ConfigError,
        "The requested resource is not available in the tenant.",
        "Check cloud, or (for EWS) that the tenant has Exchange Online.",
    ),
    65001: AadstsMeaning(
        AccessDeniedError,
        "The app has not been granted consent in this tenant.",
        "Have an administrator grant admin consent for the app's application permissions.",
    ),
    700027: AadstsMeaning(
        AuthenticationError,
        "The certificate was rejected: it is not registered for the app or the signature is wrong.",
        "Upload the certificate's public part to the app registration and check that "
        "certificate_path / certificate_pem hold its matching private key.",
    ),
    700024: AadstsMeaning(
        AuthenticationError,
        "The client assertion is outside its validity period.",
        "Check this machine's clock: it must be within a few minutes of the real time.",
    ),
    7000112: AadstsMeaning(
        AuthenticationError,
        "The app is disabled in the tenant.",
        "Enable the app's enterprise application (service principal) in the tenant.",
    ),
    53003: AadstsMeaning(
        AccessDeniedError,
        "A Conditional Access policy blocked the sign-in.",
        "Ask an administrator to exclude the app's service principal or allow this location.",
    ),
}

_ERROR_FALLBACK: dict[str, AadstsMeaning] = {
    "invalid_client": AadstsMeaning(
        AuthenticationError,
        "The app's credentials were rejected.",
        "Check client_id and the client secret or certificate.",
    ),
    "unauthorized_client": AadstsMeaning(
        AuthenticationError,
        "The app is not allowed to sign in to this tenant.",
        "Check client_id and tenant_id.",
    ),
    "invalid_tenant": AADSTS_ERRORS[90002],
    "invalid_scope": AADSTS_ERRORS[70011],
    "consent_required": AADSTS_ERRORS[65001],
}


def aadsts_code(body: dict[str, Any]) -> int | None:
    """The first AADSTS number of a token error body (``error_codes`` or the description)."""
    codes = body.get("error_codes")
    if isinstance(codes, list) and codes and isinstance(codes[0], int):
        return codes[0]
    match = _AADSTS_CODE.search(str(body.get("error_description") or ""))
    return int(match.group(1)) if match else None


def _server_summary(body: dict[str, Any]) -> str:
    """The description's first line without the ``AADSTSnnn:`` prefix or trace ids."""
    first = str(body.get("error_description") or "").splitlines()[0:1]
    text = first[0] if first else ""
    return _AADSTS_CODE.sub("", text).lstrip(": ").strip()


def error_from_token_response(body: dict[str, Any]) -> ExchangePackError:
    """The pack error for an msal token error dict (Microsoft identity platform error body)."""
    code = aadsts_code(body)
    error = str(body.get("error") or "unknown_error")
    backend_code = f"AADSTS{code}" if code is not None else error
    meaning = AADSTS_ERRORS.get(code) if code is not None else None
    if meaning is None and error in ("temporarily_unavailable", "server_error"):
        return TransientError(
            f"The sign-in service is temporarily unavailable ({backend_code}).",
            backend_code=backend_code,
        )
    if meaning is None and error in ("slow_down", "too_many_requests"):
        return ThrottledError("The sign-in service throttled the app.", backend_code=backend_code)
    meaning = meaning or _ERROR_FALLBACK.get(error)
    if meaning is None:
        summary = _server_summary(body) or error
        return AuthenticationError(
            f"Sign-in failed ({backend_code}): {summary}",
            backend_code=backend_code,
            hint="Check tenant_id, client_id and the client secret or certificate.",
        )
    return meaning.error(
        f"Sign-in failed ({backend_code}): {meaning.message}",
        hint=meaning.hint,
        backend_code=backend_code,
    )


def error_from_transport(
    exc: requests.RequestException | MsalServiceError, url: str
) -> ExchangePackError:
    """The pack error for a failed HTTP exchange with the sign-in endpoint."""
    host = urlsplit(url).netloc or url
    if isinstance(exc, MsalServiceError):  # msal's raise_for_status on a non-JSON error answer
        status = _HTTP_STATUS.search(str(exc))
        code = f"HTTP{status.group(1)}" if status else "MsalServiceError"
        failing = (
            TransientError
            if status and status.group(1).startswith("5")
            else (ServiceUnavailableError)
        )
        return failing(
            f"The sign-in endpoint {host} answered with an error ({code}).",
            hint="Microsoft's sign-in service is failing; retry later.",
            backend_code=code,
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return ConfigError(
            f"TLS verification of the sign-in endpoint {host} failed.",
            hint="Set ca_bundle to the CA that issued the server certificate (or fix proxy_url).",
            backend_code="SSLError",
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        return ConfigError(
            f"The proxy refused the connection to the sign-in endpoint {host}.",
            hint="Check proxy_url.",
            backend_code="ProxyError",
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return TransientError(
            f"The sign-in endpoint {host} did not answer in time.",
            backend_code="Timeout",
        )
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        status = exc.response.status_code
        failing = TransientError if status >= 500 else ServiceUnavailableError
        return failing(
            f"The sign-in endpoint {host} answered HTTP {status}.",
            hint="Microsoft's sign-in service is failing; retry later.",
            backend_code=f"HTTP{status}",
        )
    return ServiceUnavailableError(
        f"Could not reach the sign-in endpoint {host}.",
        hint="Check network access, proxy_url and authority_host.",
        backend_code=type(exc).__name__,
    )
