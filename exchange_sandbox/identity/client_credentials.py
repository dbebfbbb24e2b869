"""``POST /{tenant}/oauth2/v2.0/token`` for the client credentials grant: a client secret
(form or HTTP Basic) or a certificate client assertion (RS256/PS256, ``x5t``/``x5t#S256``,
``aud`` = this token endpoint, ``exp``), checked in Entra's order with its AADSTS errors."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_plus

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from ..store import App
from ..tls import certificate_thumbprints
from ..web import Request, Response
from . import errors
from .discovery import base_url
from .tokens import resource_of, roles_for_resource

if TYPE_CHECKING:
    from ..tenant import Tenant

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_LENIENT = {"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False}
_NBF_LEEWAY_SECONDS = 300


def token(tenant: Tenant, request: Request, tenant_ref: str) -> Response:
    """POST /{tenant}/oauth2/v2.0/token, client credentials grant (secret or assertion)."""
    now = tenant.now()
    try:
        body = _grant(tenant, request, tenant_ref, now)
    except errors.AadError as error:
        return error.response(request, now)
    headers = errors.token_headers(str(uuid.uuid4()))
    headers["x-ms-clitelem"] = "1,0,0,,"
    return Response.json(200, body, headers)


def _grant(tenant: Tenant, request: Request, tenant_ref: str, now: dt.datetime) -> dict[str, Any]:
    if not tenant.knows_tenant(tenant_ref):
        raise errors.tenant_not_found(tenant_ref)
    form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    basic_id, basic_secret = _basic_credentials(request)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise errors.missing_parameter("grant_type")
    if grant_type != "client_credentials":
        raise errors.unsupported_grant_type(grant_type)
    client_id = form.get("client_id") or basic_id
    if not client_id:
        raise errors.missing_parameter("client_id")
    app = tenant.app(client_id)
    if app is None:
        raise errors.app_not_found(client_id, tenant.domain)
    request.app = client_id
    assertion = form.get("client_assertion")
    if assertion:
        if form.get("client_assertion_type") != JWT_BEARER:
            raise errors.malformed_assertion(f"client_assertion_type must be '{JWT_BEARER}'.")
        endpoints = {
            f"{base_url(tenant, request)}/{ref}/oauth2/v2.0/token"
            for ref in (tenant_ref, tenant.tenant_id)
        }
        check_assertion(app, assertion, endpoints, now)
    else:
        check_secret(app, form.get("client_secret") or basic_secret, now)
    scope = form.get("scope")
    if not scope:
        raise errors.missing_parameter("scope")
    resource = resource_of(scope)
    if resource is None:
        raise errors.invalid_scope(scope)
    lifetime = int(tenant.settings.token_lifetime)
    access_token = tenant.tokens.issue(
        app,
        resource,
        roles_for_resource(app.roles, resource),
        now=now,
        lifetime=lifetime,
        with_certificate=bool(assertion),
    )
    return {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    }


def check_secret(app: App, secret: str | None, now: dt.datetime) -> None:
    """The client secret matches (constant time) and has not expired."""
    if not secret:
        raise errors.no_client_credential()
    if not app.client_secret or not hmac.compare_digest(
        secret.encode("utf-8"), app.client_secret.encode("utf-8")
    ):
        raise errors.invalid_secret(app.client_id)
    expires = app.secret_expires_at
    if expires is not None:
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.timezone.utc)
        if expires <= now:
            raise errors.expired_secret(app.client_id)


def check_assertion(app: App, assertion: str, endpoints: set[str], now: dt.datetime) -> None:
    """The assertion is signed by the app's registered certificate, for this endpoint, now."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.InvalidTokenError as exc:
        raise errors.malformed_assertion() from exc
    algorithm = header.get("alg")
    if algorithm not in ("RS256", "PS256"):
        raise errors.malformed_assertion(f"Unsupported algorithm '{algorithm}'.")
    thumbprint = _header_thumbprint(header)
    key = _registered_key(app, thumbprint)
    if key is None:
        raise errors.unknown_key(app.client_id, thumbprint.hex().upper() if thumbprint else "")
    try:
        claims = jwt.decode(assertion, key, algorithms=[algorithm], options=_LENIENT)
    except jwt.InvalidSignatureError as exc:
        raise errors.bad_signature() from exc
    except jwt.InvalidTokenError as exc:
        raise errors.malformed_assertion() from exc
    if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
        raise errors.assertion_client_mismatch()
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if not endpoints.intersection(audiences):
        raise errors.assertion_audience(audience, min(endpoints))
    current = now.timestamp()
    expiry, not_before = claims.get("exp"), claims.get("nbf", claims.get("iat"))
    if (
        expiry is None
        or float(expiry) <= current
        or (not_before is not None and float(not_before) > current + _NBF_LEEWAY_SECONDS)
    ):
        raise errors.assertion_time(now, _stamp(expiry))


def _stamp(value: Any) -> str:
    try:
        moment = dt.datetime.fromtimestamp(float(value), dt.timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return "(none)"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _basic_credentials(request: Request) -> tuple[str | None, str | None]:
    """client_secret_basic: ``Authorization: Basic base64(urlencoded id:secret)``."""
    value = request.headers.get("Authorization") or ""
    if not value.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(value[6:].strip()).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, _, password = decoded.partition(":")
    return unquote_plus(user), unquote_plus(password)


def _header_thumbprint(header: dict[str, Any]) -> bytes | None:
    """The certificate thumbprint from ``x5t`` (SHA-1) or ``x5t#S256``, base64 or base64url."""
    value = header.get("x5t#S256") or header.get("x5t")
    if not isinstance(value, str):
        return None
    text = value.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        return None


def _registered_key(app: App, thumbprint: bytes | None) -> RSAPublicKey | None:
    """The app's registered certificate's public key, when the assertion names that cert."""
    if not app.certificate_pem or thumbprint is None:
        return None
    if thumbprint not in certificate_thumbprints(app.certificate_pem):
        return None
    key = x509.load_pem_x509_certificate(app.certificate_pem.encode("ascii")).public_key()
    return key if isinstance(key, RSAPublicKey) else None
