"""The Microsoft identity platform (v2.0) part of the sandbox: OpenID discovery, the signing
keys, and the client-credentials token endpoint, with Entra ID's error bodies and headers.

Access tokens are the v1-format tokens Entra issues for Graph and Exchange Online app-only
calls (``iss`` ``https://sts.windows.net/{tid}/``, ``appid``, ``roles``), signed RS256 with the
key published at ``/{tenant}/discovery/v2.0/keys``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_plus

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import Encoding

from .store import App
from .tls import KeyPair, certificate_thumbprints
from .web import Request, Response, Router

if TYPE_CHECKING:
    from .tenant import Tenant

GRAPH_RESOURCE = "https://graph.microsoft.com"
EWS_RESOURCE = "https://outlook.office365.com"
# First-party app ids Entra also accepts as resource names in a scope.
_RESOURCE_ALIASES = {
    GRAPH_RESOURCE: GRAPH_RESOURCE,
    "00000003-0000-0000-c000-000000000000": GRAPH_RESOURCE,
    EWS_RESOURCE: EWS_RESOURCE,
    "00000002-0000-0ff1-ce00-000000000000": EWS_RESOURCE,
}
EWS_ROLES = frozenset({"full_access_as_app"})
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ESTS_SERVER = "2.1.20000.4 - SBX ProdSlices"
_SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
}


def roles_for_resource(roles: list[str], resource: str) -> list[str]:
    """The app roles that belong to one resource: EWS's ``full_access_as_app`` or Graph's."""
    if resource == EWS_RESOURCE:
        return [r for r in roles if r in EWS_ROLES]
    return [r for r in roles if r not in EWS_ROLES]


# -- errors -----------------------------------------------------------------------------------
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
        body = {
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
        headers = _token_headers(trace_id)
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


def _missing_parameter(name: str) -> AadError:
    return AadError(
        400,
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{name}'.",
    )


def _invalid_scope(scope: str) -> AadError:
    return AadError(
        400,
        "invalid_scope",
        70011,
        f"The provided value for the input parameter 'scope' is not valid. "
        f"The scope {scope} is not valid.",
    )


def _token_headers(request_id: str) -> dict[str, str]:
    return {
        "Cache-Control": "no-store, no-cache",
        "Pragma": "no-cache",
        "Expires": "-1",
        **_SECURITY_HEADERS,
        "x-ms-request-id": request_id,
        "x-ms-ests-server": _ESTS_SERVER,
    }


def _discovery_headers() -> dict[str, str]:
    return {
        "Cache-Control": "max-age=86400, private",
        **_SECURITY_HEADERS,
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, OPTIONS",
        "x-ms-request-id": str(uuid.uuid4()),
        "x-ms-ests-server": _ESTS_SERVER,
    }


# -- access tokens ----------------------------------------------------------------------------
class TokenInvalid(Exception):
    """An access token failed validation; ``reason`` is the text Graph puts in its 401."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenService:
    """Issues and validates the tenant's RS256 access tokens (Entra's v1 app-only format)."""

    _CACHE_SIZE = 4096

    def __init__(self, tenant_id: str, signing: KeyPair) -> None:
        self.tenant_id = tenant_id
        self.signing = signing
        self.issuer = f"https://sts.windows.net/{tenant_id}/"
        self._public_key: RSAPublicKey = signing.key.public_key()
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set as ``/discovery/v2.0/keys`` publishes it."""
        numbers = self._public_key.public_numbers()

        def b64uint(value: int) -> str:
            raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

        der = self.signing.certificate.public_bytes(Encoding.DER)
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.signing.x5t,
                    "x5t": self.signing.x5t,
                    "n": b64uint(numbers.n),
                    "e": b64uint(numbers.e),
                    "x5c": [base64.b64encode(der).decode("ascii")],
                    "issuer": f"https://login.microsoftonline.com/{self.tenant_id}/v2.0",
                }
            ]
        }

    def issue(
        self,
        app: App,
        resource: str,
        roles: list[str],
        *,
        now: dt.datetime,
        lifetime: int,
        with_certificate: bool,
    ) -> str:
        """A signed access token for ``resource`` carrying the app's roles for it."""
        issued = int(now.timestamp())
        principal = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp:{self.tenant_id}:{app.client_id}"))
        claims: dict[str, Any] = {
            "aud": resource,
            "iss": self.issuer,
            "iat": issued,
            "nbf": issued,
            "exp": issued + lifetime,
            "aio": base64.b64encode(uuid.uuid4().bytes).decode("ascii"),
            "app_displayname": app.display_name,
            "appid": app.client_id,
            "appidacr": "2" if with_certificate else "1",
            "idp": self.issuer,
            "idtyp": "app",
            "oid": principal,
            "sub": principal,
            "tid": self.tenant_id,
            "uti": base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode("ascii"),
            "ver": "1.0",
        }
        if roles:  # Entra leaves the claim out when the app holds no role for the resource
            claims["roles"] = sorted(roles)
        headers = {"typ": "JWT", "x5t": self.signing.x5t, "kid": self.signing.x5t}
        return jwt.encode(claims, self.signing.key, algorithm="RS256", headers=headers)

    def verify(self, token: str, audience: str, now: dt.datetime) -> dict[str, Any]:
        """Validates signature, issuer/tenant, audience and lifetime; returns the claims."""
        if not token:
            raise TokenInvalid("Access token is empty.")
        with self._lock:
            claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            with self._lock:
                self._verified[token] = claims
                if len(self._verified) > self._CACHE_SIZE:
                    self._verified.popitem(last=False)
        if claims.get("tid") != self.tenant_id or claims.get("iss") != self.issuer:
            raise TokenInvalid("Access token validation failure. Invalid issuer.")
        if claims.get("aud") not in (audience, audience + "/"):
            raise TokenInvalid("Access token validation failure. Invalid audience.")
        current = now.timestamp()
        if float(claims.get("exp", 0)) <= current:
            raise TokenInvalid("Lifetime validation failed, the token is expired.")
        if float(claims.get("nbf", 0)) > current + 300:
            raise TokenInvalid("Lifetime validation failed, the token is not yet valid.")
        return claims

    def _decode(self, token: str) -> dict[str, Any]:
        if token.count(".") != 2:
            raise TokenInvalid(
                "IDX14100: JWT is not well formed, there are no dots (.).\n"
                "The token needs to be in JWS or JWE Compact Serialization Format."
            )
        try:
            return jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                options={
                    "verify_aud": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise TokenInvalid("Access token validation failure. Invalid signature.") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid("CompactToken parsing failed with error code: 80049217") from exc


# -- the identity endpoints -------------------------------------------------------------------
class Identity:
    """The endpoints of ``login.microsoftonline.com`` that msal's client credentials flow uses."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    def router(self) -> Router:
        """Routes for discovery, keys and the token endpoint."""
        router = Router()
        router.add(
            "GET",
            r"/(?P<tenant_ref>[^/]+)/v2\.0/\.well-known/openid-configuration",
            self.openid_configuration,
            "openid-configuration",
        )
        router.add(
            "GET", r"/(?P<tenant_ref>[^/]+)/discovery/v2\.0/keys", self.keys, "discovery-keys"
        )
        router.add("POST", r"/(?P<tenant_ref>[^/]+)/oauth2/v2\.0/token", self.token, "token")
        return router

    def _base_url(self, request: Request) -> str:
        host = request.headers.get("Host")
        return f"https://{host}" if host else self.tenant.base_url

    def openid_configuration(self, request: Request, tenant_ref: str) -> Response:
        """GET /{tenant}/v2.0/.well-known/openid-configuration (OpenID Connect discovery)."""
        request.operation = "openid-configuration"
        if not self.tenant.knows_tenant(tenant_ref):
            return tenant_not_found(tenant_ref).response(request, self.tenant.now())
        tid = self.tenant.tenant_id
        root = f"{self._base_url(request)}/{tid}"
        document = {
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
            "claims_supported": [
                "sub",
                "iss",
                "cloud_instance_name",
                "cloud_instance_host_name",
                "cloud_graph_host_name",
                "msgraph_host",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "acr",
                "nonce",
                "preferred_username",
                "name",
                "tid",
                "ver",
                "at_hash",
                "c_hash",
                "email",
            ],
            "kerberos_endpoint": f"{root}/kerberos",
            "tenant_region_scope": "WW",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }
        return Response.json(200, document, _discovery_headers())

    def keys(self, request: Request, tenant_ref: str) -> Response:
        """GET /{tenant}/discovery/v2.0/keys (the JWKS that signs access tokens)."""
        request.operation = "discovery-keys"
        if not self.tenant.knows_tenant(tenant_ref):
            return tenant_not_found(tenant_ref).response(request, self.tenant.now())
        return Response.json(200, self.tenant.tokens.jwks(), _discovery_headers())

    def token(self, request: Request, tenant_ref: str) -> Response:
        """POST /{tenant}/oauth2/v2.0/token, client credentials grant (secret or assertion)."""
        request.operation = "token"
        now = self.tenant.now()
        try:
            body = self._issue(request, tenant_ref, now)
        except AadError as error:
            return error.response(request, now)
        headers = _token_headers(str(uuid.uuid4()))
        headers["x-ms-clitelem"] = "1,0,0,,"
        return Response.json(200, body, headers)

    def _issue(self, request: Request, tenant_ref: str, now: dt.datetime) -> dict[str, Any]:
        if not self.tenant.knows_tenant(tenant_ref):
            raise tenant_not_found(tenant_ref)
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        basic_id, basic_secret = _basic_credentials(request)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise _missing_parameter("grant_type")
        if grant_type != "client_credentials":
            raise AadError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
            )
        client_id = form.get("client_id") or basic_id
        if not client_id:
            raise _missing_parameter("client_id")
        app = self.tenant.app(client_id)
        if app is None:
            raise AadError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.tenant.domain}'. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in "
                "the tenant. You may have sent your authentication request to the wrong tenant.",
            )
        request.app = client_id
        assertion = form.get("client_assertion")
        if assertion:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise AadError(
                    400,
                    "invalid_request",
                    50027,
                    "JWT token is invalid or malformed. "
                    f"client_assertion_type must be '{JWT_BEARER}'.",
                )
            token_endpoint = f"{self._base_url(request)}{request.path}"
            self._check_assertion(app, assertion, token_endpoint, tenant_ref, now)
        else:
            self._check_secret(app, form.get("client_secret") or basic_secret, now)
        scope = form.get("scope")
        if not scope:
            raise _missing_parameter("scope")
        resource = _resource_of(scope)
        if resource is None:
            raise _invalid_scope(scope)
        lifetime = int(self.tenant.settings.token_lifetime)
        access_token = self.tenant.tokens.issue(
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

    @staticmethod
    def _check_secret(app: App, secret: str | None, now: dt.datetime) -> None:
        if not secret:
            raise AadError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
            )
        if not app.client_secret or not hmac.compare_digest(
            secret.encode("utf-8"), app.client_secret.encode("utf-8")
        ):
            raise AadError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                "the client secret value, not the client secret ID, for a secret added to app "
                f"'{app.client_id}'.",
            )
        expires = app.secret_expires_at
        if expires is not None:
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=dt.timezone.utc)
            if expires <= now:
                raise AadError(
                    401,
                    "invalid_client",
                    7000222,
                    f"The provided client secret keys for app '{app.client_id}' are expired. "
                    "Visit the Azure portal to create new keys for your app: "
                    "https://aka.ms/NewClientSecret, or consider using certificate credentials "
                    "for added security: https://aka.ms/certCreds.",
                )

    def _check_assertion(
        self, app: App, assertion: str, token_endpoint: str, tenant_ref: str, now: dt.datetime
    ) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError as exc:
            raise AadError(
                400, "invalid_request", 50027, "JWT token is invalid or malformed."
            ) from exc
        algorithm = header.get("alg")
        if algorithm not in ("RS256", "PS256"):
            raise AadError(
                400,
                "invalid_request",
                50027,
                f"JWT token is invalid or malformed. Unsupported algorithm '{algorithm}'.",
            )
        thumbprint = _header_thumbprint(header)
        key = _registered_key(app, thumbprint)
        if key is None:
            shown = thumbprint.hex().upper() if thumbprint else ""
            raise AadError(
                401,
                "invalid_client",
                700027,
                "Client assertion contains an invalid signature. [Reason - The key was not "
                f"found., Thumbprint of key used by client: '{shown}', Please visit the Azure "
                "Portal, Graph Explorer or directly use MS Graph to see configured keys for app "
                f"Id '{app.client_id}'.]",
            )
        try:
            claims = jwt.decode(
                assertion,
                key,
                algorithms=[algorithm],
                options={
                    "verify_aud": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise AadError(
                401, "invalid_client", 700027, "Client assertion failed signature validation."
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise AadError(
                400, "invalid_request", 50027, "JWT token is invalid or malformed."
            ) from exc
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            raise AadError(
                401,
                "invalid_client",
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter. "
                "Review the documentation at https://docs.microsoft.com/azure/active-directory/"
                "develop/active-directory-certificate-credentials .",
            )
        accepted = {
            token_endpoint,
            token_endpoint.replace(f"/{tenant_ref}/", f"/{self.tenant.tenant_id}/"),
        }
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not accepted.intersection(audiences):
            raise AadError(
                401,
                "invalid_client",
                700212,
                f"No matching federated identity record found for presented assertion "
                f"audience '{audience}'. The audience must be the token endpoint "
                f"'{token_endpoint}'.",
            )
        current = now.timestamp()
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
        if exp is None or float(exp) <= current or (nbf is not None and float(nbf) > current + 300):
            raise AadError(
                401,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range. Current time: "
                f"{now.strftime('%Y-%m-%dT%H:%M:%S.0000000Z')}, expiry time of assertion "
                f"{_stamp(exp)}.",
            )


def _stamp(value: Any) -> str:
    try:
        moment = dt.datetime.fromtimestamp(float(value), dt.timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return "(none)"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _resource_of(scope: str) -> str | None:
    """The one resource of a client-credentials scope (``<resource>/.default``), or None."""
    parts = scope.split()
    if len(parts) != 1 or not parts[0].endswith("/.default"):
        return None
    return _RESOURCE_ALIASES.get(parts[0][: -len("/.default")].rstrip("/"))


def _basic_credentials(request: Request) -> tuple[str | None, str | None]:
    """client_secret_basic: ``Authorization: Basic base64(client_id:secret)``."""
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
