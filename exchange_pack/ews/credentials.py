"""exchangelib credentials fed by the pack: msal app-only tokens, or an on-premises account.

``MsalCredentials`` hands exchangelib the token the pack's msal app acquired (client secret or
certificate, any national cloud, the shared token cache), so exchangelib never runs its own
OAuth flow. Both classes are scoped to one pack session: exchangelib caches one Protocol (and
its connection pool) per credentials value, and a pool must count requests for one session.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from exchangelib.credentials import Credentials, OAuth2Credentials

from ..errors import AuthenticationError

if TYPE_CHECKING:
    from ..session import Session

# exchangelib caches one Protocol per (endpoint, credentials): each pack session's credentials are
# unique for the life of the process (an id() could be reused by a later session after GC).
_SESSION_KEYS = itertools.count(1)
# Hand exchangelib tokens that expire a little before the real expiry: its OAuth session then
# raises TokenExpiredError and asks ``refresh`` instead of sending a token the server rejects.
EXPIRY_MARGIN_SECONDS = 60


class MsalCredentials(OAuth2Credentials):
    """OAuth 2.0 client credentials whose access token comes from the pack's msal app."""

    def __init__(self, session: Session) -> None:
        config = session.config
        super().__init__(client_id=config.client_id, client_secret=None, tenant_id=config.tenant_id)
        self.session_key = next(_SESSION_KEYS)
        self._session = session

    @property
    def token_url(self) -> str:
        """The token endpoint of the config's authority (informational: msal does the flow)."""
        return f"{self._session.config.authority}/oauth2/v2.0/token"

    @property
    def scope(self) -> list[str]:
        """The EWS ``.default`` scope of the config's cloud."""
        return [self._session.config.ews_scope]

    def session_params(self) -> dict[str, Any]:
        """A current token for the OAuth2Session exchangelib is creating (no auto-refresh)."""
        with self.lock:
            token = self.access_token
            if token is None or token["expires_at"] <= time.time():
                self.access_token = token = self._acquire()
            return {"token": token}

    def refresh(self, session: Any) -> None:
        """Called by exchangelib when the token expired: take the next one from msal."""
        with self.lock:
            self.access_token = self._acquire()

    def renew(self, refused: str | None) -> None:
        """Replaces a token EWS refused (401) with a new one from msal, bypassing its cache."""
        with self.lock:
            self.access_token = self._acquire(force_refresh=True, refused=refused)

    def _acquire(self, force_refresh: bool = False, refused: str | None = None) -> dict[str, Any]:
        token = self._session.tokens.acquire("ews", force_refresh, refused=refused)
        now = time.time()
        lifetime = token.expires_at - now
        if lifetime <= 0:
            # exchangelib would ask again for ever: a token born expired is an error, not a loop.
            raise AuthenticationError(
                "The identity platform issued an EWS access token that has already expired.",
                hint="Check the token lifetime policy of the tenant and this machine's clock.",
            )
        expires_at = token.expires_at - min(EXPIRY_MARGIN_SECONDS, lifetime / 2)
        return {
            "access_token": token.access_token,
            "token_type": "Bearer",
            "expires_in": max(0, int(expires_at - now)),
            "expires_at": expires_at,
        }

    def __hash__(self) -> int:
        return hash((type(self), self.client_id, self.tenant_id, self.session_key))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MsalCredentials)
            and other.session_key == self.session_key
            and other.client_id == self.client_id
        )

    def __repr__(self) -> str:
        return f"MsalCredentials(client_id={self.client_id!r})"


class ServiceAccountCredentials(Credentials):
    """An on-premises service account for NTLM or Basic authentication."""

    def __init__(self, session: Session) -> None:
        config = session.config
        password = config.password.get_secret_value() if config.password else ""
        super().__init__(username=config.username or "", password=password)
        self.session_key = next(_SESSION_KEYS)

    def __hash__(self) -> int:
        return hash((type(self), self.username, self.session_key))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ServiceAccountCredentials)
            and other.session_key == self.session_key
            and other.username == self.username
        )
