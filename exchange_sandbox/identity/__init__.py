"""The Microsoft identity platform (v2.0) part of the sandbox: what msal's client credentials
flow calls on ``login.microsoftonline.com`` — discovery, signing keys, the token endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..web import Request, Response, Router
from . import client_credentials, discovery
from .tokens import EWS_RESOURCE, GRAPH_RESOURCE, TokenInvalid, TokenService

if TYPE_CHECKING:
    from ..tenant import Tenant

__all__ = ["EWS_RESOURCE", "GRAPH_RESOURCE", "TokenInvalid", "TokenService", "build_router"]

_TENANT = r"/(?P<tenant_ref>[^/]+)"


def build_router(tenant: Tenant) -> Router:
    """Routes for discovery, keys and the token endpoint, bound to ``tenant``."""
    router = Router()

    def openid_configuration(request: Request, tenant_ref: str) -> Response:
        return discovery.openid_configuration(tenant, request, tenant_ref)

    def keys(request: Request, tenant_ref: str) -> Response:
        return discovery.keys(tenant, request, tenant_ref)

    def token(request: Request, tenant_ref: str) -> Response:
        return client_credentials.token(tenant, request, tenant_ref)

    router.add(
        "GET",
        rf"{_TENANT}/v2\.0/\.well-known/openid-configuration",
        openid_configuration,
        "openid-configuration",
    )
    router.add("GET", rf"{_TENANT}/discovery/v2\.0/keys", keys, "discovery-keys")
    router.add("POST", rf"{_TENANT}/oauth2/v2\.0/token", token, "token")
    return router
