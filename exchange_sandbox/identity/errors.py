"""Entra ID's OAuth errors (AADSTS codes) and response headers, as login.microsoftonline.com
sends them: ``error``, ``error_description`` with trace/correlation ids, ``error_codes``...
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from ..web import Request, Response

_ESTS_SERVER = "2.1.20000.4 - SBX ProdSlices"
_SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
}


def token_headers(request_id: str) -> dict[str, str]:
    """Headers of every token endpoint answer (never cached)."""
    return {
        "Cache-Control": "no-store, no-cache",
        "Pragma": "no-cache",
        "Expires": "-1",
        **_SECURITY_HEADERS,
        "x-ms-request-id": request_id,
        "x-ms-ests-server": _ESTS_SERVER,
    }


def discovery_headers() -> dict[str, str]:
    """Headers of the discovery documents (cached a day, CORS open)."""
    return {
        "Cache-Control": "max-age=86400, private",
        **_SECURITY_HEADERS,
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, OPTIONS",
        "x-ms-request-id": str(uuid.uuid4()),
        "x-ms-ests-server": _ESTS_SERVER,
    }


@dataclass
class AadError(Exception):
    """An Entra ID (AADSTS) OAuth error, rendered exactly like login.microsoftonline.com."""

    status: int
    error: str
    code: int
    text: str

    def response(self, request: Request, now: dt.datetime) -> Response:
        """The JSON error body with Entra's trace/correlation ids and no-cache headers."""
        trace_id = str(uuid.uuid4())
        correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        body: dict[str, Any] = {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.code}: {self.text}\r\nTrace ID: {trace_id}\r\n"
                f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}"
            ),
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }
        headers = token_headers(trace_id)
        headers["x-ms-clitelem"] = f"1,{self.code},0,,"
        return Response.json(self.status, body, headers)


def tenant_not_found(tenant_ref: str) -> AadError:
    """AADSTS90002, what both discovery and the token endpoint answer for an unknown tenant."""
    return AadError(
        400,
        "invalid_tenant",
        90002,
        f"Tenant '{tenant_ref}' not found. Check to make sure you have the correct tenant ID "
        "and are signing into the correct cloud. Check with your subscription administrator, "
        "this may happen if there are no active subscriptions for the tenant.",
    )


def missing_parameter(name: str) -> AadError:
    """AADSTS900144: a required form field is absent."""
    return AadError(
        400,
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{name}'.",
    )


def unsupported_grant_type(grant_type: str) -> AadError:
    """AADSTS70003: anything but client_credentials."""
    return AadError(
        400,
        "unsupported_grant_type",
        70003,
        f"The app requested an unsupported grant type '{grant_type}'.",
    )


def app_not_found(client_id: str, directory: str) -> AadError:
    """AADSTS700016: no such app registration in this tenant."""
    return AadError(
        400,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory "
        f"'{directory}'. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You may have "
        "sent your authentication request to the wrong tenant.",
    )


def invalid_scope(scope: str) -> AadError:
    """AADSTS70011: not exactly one known ``<resource>/.default``."""
    return AadError(
        400,
        "invalid_scope",
        70011,
        f"The provided value for the input parameter 'scope' is not valid. "
        f"The scope {scope} is not valid.",
    )


def no_client_credential() -> AadError:
    """AADSTS7000218: neither a secret nor an assertion."""
    return AadError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'.",
    )


def invalid_secret(client_id: str) -> AadError:
    """AADSTS7000215: wrong client secret."""
    return AadError(
        401,
        "invalid_client",
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the "
        "client secret value, not the client secret ID, for a secret added to app "
        f"'{client_id}'.",
    )


def expired_secret(client_id: str) -> AadError:
    """AADSTS7000222: the right secret, past its end date."""
    return AadError(
        401,
        "invalid_client",
        7000222,
        f"The provided client secret keys for app '{client_id}' are expired. Visit the Azure "
        "portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider "
        "using certificate credentials for added security: https://aka.ms/certCreds.",
    )


def malformed_assertion(detail: str = "") -> AadError:
    """AADSTS50027: the client assertion is not a usable JWT."""
    text = "JWT token is invalid or malformed."
    return AadError(400, "invalid_request", 50027, f"{text} {detail}".strip())


def unknown_key(client_id: str, thumbprint: str) -> AadError:
    """AADSTS700027: the assertion names a certificate the app does not have."""
    return AadError(
        401,
        "invalid_client",
        700027,
        "Client assertion contains an invalid signature. [Reason - The key was not found., "
        f"Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, "
        "Graph Explorer or directly use MS Graph to see configured keys for app Id "
        f"'{client_id}'.]",
    )


def bad_signature() -> AadError:
    """AADSTS700027: the assertion's signature does not verify."""
    return AadError(401, "invalid_client", 700027, "Client assertion failed signature validation.")


def assertion_client_mismatch() -> AadError:
    """AADSTS700021: ``iss``/``sub`` are not the client id."""
    return AadError(
        401,
        "invalid_client",
        700021,
        "Client assertion application identifier doesn't match 'client_id' parameter. Review "
        "the documentation at https://docs.microsoft.com/azure/active-directory/develop/"
        "active-directory-certificate-credentials .",
    )


def assertion_audience(audience: Any, token_endpoint: str) -> AadError:
    """AADSTS700212: ``aud`` is not this token endpoint."""
    return AadError(
        401,
        "invalid_client",
        700212,
        f"No matching federated identity record found for presented assertion audience "
        f"'{audience}'. The audience must be the token endpoint '{token_endpoint}'.",
    )


def assertion_time(now: dt.datetime, expiry: str) -> AadError:
    """AADSTS700024: the assertion is expired or not yet valid."""
    return AadError(
        401,
        "invalid_client",
        700024,
        "Client assertion is not within its valid time range. Current time: "
        f"{now.strftime('%Y-%m-%dT%H:%M:%S.0000000Z')}, expiry time of assertion {expiry}.",
    )
