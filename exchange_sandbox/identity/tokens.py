"""The tenant's access tokens: Entra's v1 app-only format, RS256, validated for the faces.

Claims as Entra issues them for Graph and Exchange Online app-only calls: ``aud`` (the
resource), ``iss`` ``https://sts.windows.net/{tid}/``, ``tid``, ``appid``, ``appidacr``,
``roles`` (left out when the app holds none for that resource), ``iat``/``nbf``/``exp``.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
import uuid
from collections import OrderedDict
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import Encoding

from ..store import App
from ..tls import KeyPair

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
_LENIENT = {"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False}


def resource_of(scope: str) -> str | None:
    """The one resource of a client-credentials scope (``<resource>/.default``), or None."""
    parts = scope.split()
    if len(parts) != 1 or not parts[0].endswith("/.default"):
        return None
    return _RESOURCE_ALIASES.get(parts[0][: -len("/.default")].rstrip("/"))


def roles_for_resource(roles: list[str], resource: str) -> list[str]:
    """The app roles that belong to one resource: EWS's ``full_access_as_app`` or Graph's."""
    if resource == EWS_RESOURCE:
        return [r for r in roles if r in EWS_ROLES]
    return [r for r in roles if r not in EWS_ROLES]


class TokenInvalid(Exception):
    """An access token failed validation; ``reason`` is the text Graph puts in its 401."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenService:
    """Issues and validates the tenant's RS256 access tokens."""

    _CACHE_SIZE = 4096  # verified tokens remembered, so a hot path skips the RSA check

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
            return jwt.decode(token, self._public_key, algorithms=["RS256"], options=_LENIENT)
        except jwt.InvalidSignatureError as exc:
            raise TokenInvalid("Access token validation failure. Invalid signature.") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid("CompactToken parsing failed with error code: 80049217") from exc
