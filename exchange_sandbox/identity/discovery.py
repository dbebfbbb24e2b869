"""OpenID Connect discovery: ``/{tenant}/v2.0/.well-known/openid-configuration`` and the
signing keys at ``/{tenant}/discovery/v2.0/keys``, shaped like Entra's documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..web import Request, Response
from .errors import discovery_headers, tenant_not_found

if TYPE_CHECKING:
    from ..tenant import Tenant

_CLAIMS_SUPPORTED = [
    "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
    "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
    "name", "tid", "ver", "at_hash", "c_hash", "email",
]  # fmt: skip


def base_url(tenant: Tenant, request: Request) -> str:
    """The server root as the client addressed it (``127.0.0.1`` or ``localhost``)."""
    host = request.headers.get("Host")
    return f"https://{host}" if host else tenant.base_url


def openid_document(root: str) -> dict[str, Any]:
    """The v2.0 OpenID configuration for a tenant whose endpoints live under ``root``."""
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{root}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
        "claims_supported": list(_CLAIMS_SUPPORTED),
        "kerberos_endpoint": f"{root}/kerberos",
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


def openid_configuration(tenant: Tenant, request: Request, tenant_ref: str) -> Response:
    """GET /{tenant}/v2.0/.well-known/openid-configuration (OpenID Connect discovery)."""
    if not tenant.knows_tenant(tenant_ref):
        return tenant_not_found(tenant_ref).response(request, tenant.now())
    root = f"{base_url(tenant, request)}/{tenant.tenant_id}"
    return Response.json(200, openid_document(root), discovery_headers())


def keys(tenant: Tenant, request: Request, tenant_ref: str) -> Response:
    """GET /{tenant}/discovery/v2.0/keys (the JWKS that signs access tokens)."""
    if not tenant.knows_tenant(tenant_ref):
        return tenant_not_found(tenant_ref).response(request, tenant.now())
    return Response.json(200, tenant.tokens.jwks(), discovery_headers())
