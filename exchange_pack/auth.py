"""App-only tokens for Graph and EWS through msal's client-credentials flow.

One msal ``ConfidentialClientApplication`` per connection (cloud authority, tenant, app) serves
both resources; its token cache lives in a private file so the next action process makes no token
request. Certificates are read with ``cryptography`` (PEM file or inline PEM, optional password).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import msal
import requests
from msal.exceptions import MsalServiceError
from pydantic import BaseModel

from . import __version__
from .aadsts import error_from_token_response, error_from_transport
from .clouds import CLOUDS
from .config import ConnectionConfig
from .errors import ConfigError, InputError
from .models import iso_utc
from .token_cache import PersistentTokenCache, default_cache_path, token_fingerprint

Resource = Literal["graph", "ews"]
AuthMethod = Literal["client_secret", "certificate"]

# msal itself renews tokens with less than 5 minutes left; reuse ours only before that point.
REFRESH_MARGIN_SECONDS = 300
# How far the issuer's clock may be from ours before a token's own ``exp`` is not trusted.
CLOCK_TOLERANCE = 300
# Hosts where msal may run its instance discovery; any other host (the sandbox, a proxy) gets
# instance_discovery=False, which also stops msal's hidden alias lookup on error.
MICROSOFT_AUTHORITY_HOSTS = frozenset(
    {urlsplit(c.authority_host).hostname for c in CLOUDS.values()}
    | {"login.microsoft.com", "login.windows.net", "sts.windows.net"}
)
_PRIVATE_KEY_BLOCK = re.compile(
    rb"-----BEGIN ((?:ENCRYPTED |RSA |EC )?PRIVATE KEY)-----.+?-----END \1-----", re.DOTALL
)


class TokenInfo(BaseModel):
    """What test_connection reports about a token (claims decoded without verification)."""

    resource: Resource
    scope: str
    auth_method: AuthMethod
    expires_at: str | None
    roles: list[str]
    app_id: str | None
    tenant_id: str | None
    audience: str | None


@dataclass(frozen=True)
class ClientCredential:
    """The msal ``client_credential`` and what may be said about it (never its value)."""

    method: AuthMethod
    msal_value: str | dict[str, str] = field(repr=False)
    cache_key: str = field(repr=False)  # a one-way hash: whose tokens the cache file holds


@dataclass(frozen=True)
class AccessToken:
    """An access token and when it expires, on this machine's clock (as msal reckons it)."""

    access_token: str = field(repr=False)
    expires_at: float


def _expiry(result: dict[str, Any]) -> float:
    """When msal's token expires on this machine's clock: the token's ``exp`` (the same in
    every process) while the issuer's clock agrees with ours, else msal's ``expires_in``.

    Every expiry check here runs on the local clock; with a skewed one, ``exp`` would call a
    token msal still serves expired, and exchangelib would ask for it again and again."""
    now = time.time()
    expires_in = result.get("expires_in")
    by_msal = now + float(expires_in) if isinstance(expires_in, (int, float)) else None
    exp = decode_jwt_claims(result["access_token"]).get("exp")
    by_issuer = float(exp) if isinstance(exp, (int, float)) else None
    if by_issuer is not None and (by_msal is None or abs(by_issuer - by_msal) <= CLOCK_TOLERANCE):
        return by_issuer
    return by_msal if by_msal is not None else now


def decode_jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT access token, decoded WITHOUT signature verification."""
    parts = token.split(".")
    if len(parts) < 2:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def load_certificate_credential(pem: bytes, password: str | None, source: str) -> dict[str, str]:
    """msal's certificate credential (private key, SHA-1 thumbprint, certificate) from a PEM."""
    # Imported here: a client-secret configuration (most of them) never loads cryptography.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    key_block = _PRIVATE_KEY_BLOCK.search(pem)
    if key_block is None:
        raise ConfigError(
            f"No private key found in {source}.",
            hint="The PEM must hold the app's private key and its certificate.",
        )
    try:
        key = serialization.load_pem_private_key(
            key_block.group(0), password.encode() if password else None
        )
    except TypeError:
        raise ConfigError(
            f"The private key in {source} is encrypted but no certificate_password was given."
            if not password
            else f"The private key in {source} is not encrypted; remove certificate_password.",
            hint="Set certificate_password only for an encrypted private key.",
        ) from None
    except ValueError:
        raise ConfigError(
            f"The private key in {source} could not be read (wrong certificate_password?).",
            hint="Check certificate_password and that the PEM is not damaged.",
        ) from None
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError:
        certificates = []
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    matching = [
        c
        for c in certificates
        if c.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == public
    ]
    if not matching:
        raise ConfigError(
            f"{source} holds no certificate for its private key.",
            hint="Put the app's certificate (-----BEGIN CERTIFICATE-----) in the same PEM.",
        )
    certificate = matching[0]
    return {
        "private_key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "thumbprint": certificate.fingerprint(hashes.SHA1()).hex().upper(),
        "public_certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
    }


def client_credential(config: ConnectionConfig) -> ClientCredential:
    """The app credential from the config: client secret, certificate file or inline PEM."""
    password = (
        config.certificate_password.get_secret_value() if config.certificate_password else None
    )
    if config.certificate_pem is not None:
        pem = config.certificate_pem.get_secret_value().encode()
        value = load_certificate_credential(pem, password, "certificate_pem")
        return ClientCredential("certificate", value, f"cert:{value['thumbprint']}")
    if config.certificate_path is not None:
        path = Path(config.certificate_path).expanduser()
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"certificate_path {path} cannot be read ({exc.strerror}).",
                hint="Point certificate_path at a PEM file with the private key and certificate.",
            ) from None
        value = load_certificate_credential(pem, password, f"certificate_path {path}")
        return ClientCredential("certificate", value, f"cert:{value['thumbprint']}")
    if config.client_secret is not None:
        secret = config.client_secret.get_secret_value()
        digest = hashlib.sha256(b"exchange-pack token cache\n" + secret.encode()).hexdigest()
        return ClientCredential("client_secret", secret, f"secret:{digest}")
    raise ConfigError(
        "No app credential configured.",
        hint="Set client_secret, or certificate_path / certificate_pem.",
    )


class MsalHttpClient:
    """msal's ``HttpClient`` over the shared session: config timeout, counted round trips."""

    def __init__(self, http: requests.Session, timeout: float, stats: Any = None) -> None:
        self._http = http
        self._timeout = timeout
        self._stats = stats

    def _count(self) -> None:
        if self._stats is not None:
            self._stats.note_request()

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kw: Any):
        """POST for msal (the token endpoint)."""
        self._count()
        kw.setdefault("timeout", self._timeout)
        return self._http.post(url, params=params, data=data, headers=headers, **kw)

    def get(self, url: str, params: Any = None, headers: Any = None, **kw: Any):
        """GET for msal (the openid-configuration document)."""
        self._count()
        kw.setdefault("timeout", self._timeout)
        return self._http.get(url, params=params, headers=headers, **kw)

    def close(self) -> None:
        """The shared session outlives msal: nothing to close here."""


class TokenProvider:
    """Client-credentials tokens (msal) for ``graph`` and ``ews``, cached in a private file."""

    def __init__(self, config: ConnectionConfig, http: requests.Session, stats: Any = None) -> None:
        self.config = config
        self.http = http
        self.stats = stats
        self._lock = threading.RLock()
        self._credential: ClientCredential | None = None
        self._app: msal.ConfidentialClientApplication | None = None
        self._cache: PersistentTokenCache | None = None
        self._tokens: dict[str, AccessToken] = {}

    # -- configuration --------------------------------------------------------------------
    def scope(self, resource: Resource) -> str:
        """The ``.default`` scope of Graph or EWS in the config's cloud."""
        if resource == "graph":
            return self.config.graph_scope
        if resource == "ews":
            return self.config.ews_scope
        raise InputError(f"Unknown token resource {resource!r}; expected graph or ews.")

    @property
    def credential(self) -> ClientCredential:
        """The app credential, loaded (and checked) on first use."""
        with self._lock:
            if self._credential is None:
                self._credential = client_credential(self.config)
            return self._credential

    @property
    def auth_method(self) -> AuthMethod:
        """``client_secret`` or ``certificate``."""
        return self.credential.method

    @property
    def cache(self) -> PersistentTokenCache:
        """The token cache (file from ``token_cache_path``, the default file, or memory)."""
        with self._lock:
            if self._cache is None:
                self._cache = PersistentTokenCache.from_setting(
                    self.config.token_cache_path,
                    lambda: default_cache_path(
                        self.config.cloud, self.config.authority, self.config.client_id or ""
                    ),
                    self.config.client_id or "",
                    self.credential.cache_key,
                    self._warn,
                )
            return self._cache

    def _warn(self, text: str) -> None:
        if self.stats is not None:
            self.stats.warn(text)

    def _require_app_registration(self) -> None:
        if not (self.config.tenant_id and self.config.client_id):
            raise ConfigError(
                "OAuth needs tenant_id and client_id.",
                hint="Set tenant_id and client_id of the app registration.",
            )

    # -- msal -------------------------------------------------------------------------------
    def msal_app(self, resource: Resource = "graph") -> msal.ConfidentialClientApplication:
        """The msal ``ConfidentialClientApplication`` (GETs the authority's OpenID config)."""
        self.scope(resource)
        with self._lock:
            if self._app is None:
                with self.cache.transaction():
                    return self._loaded_app()
            return self._app

    def _loaded_app(self) -> msal.ConfidentialClientApplication:
        """The msal app; call inside a cache transaction."""
        # The file is loaded by then: msal's discovery GET is answered from it when current.
        if self._app is None:
            self._app = self._build_app()
        return self._app

    def _build_app(self) -> msal.ConfidentialClientApplication:
        self._require_app_registration()
        authority = self.config.authority
        microsoft = urlsplit(authority).hostname in MICROSOFT_AUTHORITY_HOSTS
        try:
            return msal.ConfidentialClientApplication(
                self.config.client_id,
                client_credential=self.credential.msal_value,
                authority=authority,
                http_client=MsalHttpClient(self.http, self.config.timeout_seconds, self.stats),
                token_cache=self.cache.cache,
                http_cache=self.cache.http_cache,
                instance_discovery=None if microsoft else False,
                app_name="exchange-pack",
                app_version=__version__,
            )
        except requests.RequestException as exc:
            raise error_from_transport(exc, authority) from None
        except ValueError:
            # msal says only "Unable to get authority configuration"; ask the authority why.
            raise self._authority_error() from None

    def _authority_error(self) -> Exception:
        """The reason msal could not load ``/{tenant}/v2.0/.well-known/openid-configuration``."""
        url = f"{self.config.authority}/v2.0/.well-known/openid-configuration"
        try:
            response = self.http.get(url, timeout=self.config.timeout_seconds)
            body = response.json()
        except requests.RequestException as exc:
            return error_from_transport(exc, url)
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("error"):
            return error_from_token_response(body)
        return ConfigError(
            f"The sign-in authority {self.config.authority} is not a valid OpenID authority.",
            hint="Check tenant_id, cloud and authority_host.",
        )

    # -- public -----------------------------------------------------------------------------
    def acquire(
        self,
        resource: Resource = "graph",
        force_refresh: bool = False,
        *,
        refused: str | None = None,
    ) -> AccessToken:
        """An app-only access token for the resource, with its expiry (``token`` explains
        ``force_refresh`` and ``refused``)."""
        scope = self.scope(resource)
        with self._lock:
            cached = self._tokens.get(resource)
            if cached is not None:
                held = token_fingerprint(cached.access_token)
                replaced = refused is not None and held != refused
                if cached.expires_at - time.time() > REFRESH_MARGIN_SECONDS and (
                    not force_refresh or replaced
                ):
                    return cached
                if force_refresh and refused is None:
                    refused = held
            with self.cache.transaction():
                app = self._loaded_app()
                if force_refresh:
                    self.cache.forget_access_token(scope, refused)
                try:
                    result = app.acquire_token_for_client(scopes=[scope])
                except (requests.RequestException, MsalServiceError) as exc:
                    raise error_from_transport(exc, self.config.authority) from None
                except ValueError:
                    raise self._authority_error() from None
            if not result or "access_token" not in result:
                raise error_from_token_response(result or {})
            token = AccessToken(result["access_token"], _expiry(result))
            self._tokens[resource] = token
            return token

    def token(
        self,
        resource: Resource = "graph",
        force_refresh: bool = False,
        *,
        refused: str | None = None,
    ) -> str:
        """An app-only access token for the resource (Microsoft identity platform v2.0)."""
        # force_refresh follows a 401: the cached token is dropped from the msal cache and a new
        # one requested. ``refused`` (token_fingerprint of the refused token) keeps a token that
        # another thread or process has already renewed, so one key rotation costs one request.
        return self.acquire(resource, force_refresh, refused=refused).access_token

    def token_info(self, resource: Resource = "graph") -> TokenInfo:
        """Facts about the resource's token: auth method, expiry, roles, app and tenant ids."""
        token = self.acquire(resource)
        claims = decode_jwt_claims(token.access_token)
        roles = claims.get("roles")
        return TokenInfo(
            resource=resource,
            scope=self.scope(resource),
            auth_method=self.auth_method,
            expires_at=iso_utc(dt.datetime.fromtimestamp(token.expires_at, dt.timezone.utc)),
            roles=sorted(str(r) for r in roles) if isinstance(roles, list) else [],
            app_id=claims.get("appid") or claims.get("azp"),
            tenant_id=claims.get("tid"),
            audience=claims.get("aud"),
        )

    def __repr__(self) -> str:
        config = self.config
        return f"TokenProvider(authority={config.authority!r}, client_id={config.client_id!r})"
