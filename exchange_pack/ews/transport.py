"""The EWS connection: exchangelib Configuration, Protocol and Accounts for one pack session.

- Explicit service endpoint (no autodiscover), auth from the config: OAuth 2.0 app-only tokens
  from the pack's msal app (ExchangeImpersonation + X-AnchorMailbox per mailbox), or NTLM/Basic
  with an on-premises service account (delegate access).
- TLS and proxy from the config, never from REQUESTS_CA_BUNDLE or proxy variables: the pack's
  Protocol subclass configures every requests session exchangelib creates, and mounts an
  adapter that counts each HTTP round trip (NTLM handshake legs included) into session.stats.
- exchangelib runs fail-fast; ``EwsTransport.call`` is the one bounded retry loop: it honours
  ErrorServerBusy's BackOffMilliseconds within ``max_retries``/``max_retry_wait_seconds``, and
  never repeats a state-changing request whose outcome is unknown (AmbiguousOutcomeError).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from exchangelib import Account, Configuration
from exchangelib import errors as ews
from exchangelib.account import Identity
from exchangelib.credentials import DELEGATE, IMPERSONATION
from exchangelib.ewsdatetime import UTC
from exchangelib.protocol import FailFast, Protocol
from exchangelib.transport import BASIC, NTLM, OAUTH2
from exchangelib.util import _get_retry_after
from exchangelib.version import Build, Version

from .. import __version__
from ..auth import token_fingerprint
from ..errors import (
    AccessDeniedError,
    AmbiguousOutcomeError,
    AuthenticationError,
    EwsBlockedError,
    ExchangePackError,
)
from . import version as version_cache
from .credentials import MsalCredentials, ServiceAccountCredentials
from .errors import PERMISSION_HINT, HttpBusyError, backoff_seconds, translate

if TYPE_CHECKING:
    from ..session import Session, SessionStats

T = TypeVar("T")

# Connections to the EWS endpoint one session may hold (fan-out runs this many mailboxes at once).
MAX_CONNECTIONS = 8
# Wait after a transient failure that names no back-off (doubles per retry, bounded by config).
TRANSIENT_WAIT_SECONDS = 1.0
# The RequestServerVersion every supported server accepts (Exchange 2016/2019/SE, Online),
# used only before the first probe has answered.
DEFAULT_VERSION = Version(build=Build(15, 1), api_version="Exchange2016")
_AUTH_TYPES = {"oauth": OAUTH2, "ntlm": NTLM, "basic": BASIC}
_DIAGNOSTIC_REASON = re.compile(r'reason="([^"]*)"')
_TRANSIENT = (ews.ErrorServerBusy, ews.ErrorTimeoutExpired, ews.ErrorInternalServerTransientError)


class CountingAdapter(requests.adapters.HTTPAdapter):
    """A transport adapter that counts every HTTP round trip into the session's stats."""

    def __init__(self, stats: SessionStats, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stats = stats

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        """One HTTP round trip (requests' adapter ``send``)."""
        self.stats.note_request()
        return super().send(request, *args, **kwargs)


class PackRetryPolicy(FailFast):
    """exchangelib's fail-fast policy, plus the HTTP answers the pack names itself."""

    def __init__(self, exchange_online: bool) -> None:
        self.exchange_online = exchange_online

    def raise_response_errors(self, response: requests.Response) -> None:
        """Maps HTTP 403 (EWS blocked), 401 with Exchange Online's diagnostics, 429/503 (busy,
        with Retry-After) before exchangelib does, and other 5xx pages to transient errors."""
        if response.status_code == 403:
            if self.exchange_online:
                raise EwsBlockedError(
                    "EWS is blocked for this app in Exchange Online (HTTP 403 from the EWS "
                    "endpoint).",
                    backend_code="HTTP 403",
                )
            raise AccessDeniedError(
                "The EWS endpoint refused the service account (HTTP 403).",
                hint="Check that EWS is enabled for the service account (Set-CASMailbox).",
                backend_code="HTTP 403",
            )
        if response.status_code == 401 and self.exchange_online:
            raise _unauthorized(response)
        if response.status_code in (429, 503):
            raise HttpBusyError(response.status_code, back_off=_get_retry_after(response))
        try:
            super().raise_response_errors(response)
        except ews.MalformedResponseError:
            # exchangelib's "Unknown failure" for a 5xx page (502, 504, a bare 500): transient,
            # as on Graph; a state-changing request is then not repeated (AmbiguousOutcomeError).
            if response.status_code >= 500:
                raise ews.ErrorInternalServerTransientError(
                    f"HTTP {response.status_code} from the EWS endpoint"
                ) from None
            raise


class PackProtocol(Protocol):
    """exchangelib's Protocol with the pack's TLS, proxy, timeout and request counting."""

    USERAGENT = f"exchange-pack/{__version__}"

    def __init__(
        self,
        *args: Any,
        stats: SessionStats,
        verify: bool | str,
        proxy_url: str | None,
        timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.stats = stats
        self.verify = verify
        self.proxies = {"http": proxy_url, "https": proxy_url} if proxy_url else {}
        self.TIMEOUT = timeout

    def create_session(self) -> requests.Session:
        """A requests session as exchangelib makes it, with the config's TLS and proxy."""
        session = super().create_session()
        # REQUESTS_CA_BUNDLE / HTTPS_PROXY would otherwise override verify= and the proxy.
        session.trust_env = False
        session.verify = self.verify
        session.proxies = dict(self.proxies)
        session.mount(
            self.service_endpoint,
            CountingAdapter(
                self.stats,
                pool_block=True,
                pool_connections=self.CONNECTIONS_PER_SESSION,
                pool_maxsize=self.CONNECTIONS_PER_SESSION,
                max_retries=0,
            ),
        )
        return session


class EwsTransport:
    """One pack session's EWS endpoint: the shared Protocol and an Account per mailbox."""

    def __init__(self, session: Session) -> None:
        self.session = session
        config = session.config
        self.oauth = config.ews_auth == "oauth"
        credentials: MsalCredentials | ServiceAccountCredentials
        if self.oauth:
            credentials = MsalCredentials(session)
            if config.default_mailbox:
                # Protocol-level operations (GetSearchableMailboxes, ConvertId) impersonate it.
                credentials.identity = Identity(primary_smtp_address=config.default_mailbox)
        else:
            credentials = ServiceAccountCredentials(session)
        self.ews_config = Configuration(
            service_endpoint=config.ews_endpoint,
            credentials=credentials,
            auth_type=_AUTH_TYPES[config.ews_auth],
            version=version_cache.load(config),
            retry_policy=PackRetryPolicy(exchange_online=self.oauth),
            max_connections=MAX_CONNECTIONS,
        )
        self.protocol = PackProtocol(
            config=self.ews_config,
            stats=session.stats,
            verify=config.tls_verify,
            proxy_url=config.proxy_url,
            timeout=config.timeout_seconds,
        )
        self._accounts: dict[str, Account] = {}
        self._lock = threading.Lock()

    @property
    def version(self) -> Version:
        """The server version: from the cache file, else probed now (one request) and cached."""
        if self.ews_config.version is None or self.ews_config.version.build is None:
            with self._lock:
                if self.ews_config.version is None or self.ews_config.version.build is None:
                    probed = self.call(self._probe_version)
                    version_cache.save(self.session.config, probed)
        return self.ews_config.version

    @property
    def versioned_protocol(self) -> PackProtocol:
        """The protocol for an operation on no mailbox (GetSearchableMailboxes), the server
        version probed first: exchangelib's own guess inside such a call reads a busy server
        as "No valid version headers"."""
        self.version  # noqa: B018
        return self.protocol

    def _probe_version(self) -> Version:
        """exchangelib's version guess (one ConvertId), with a busy or transient answer raised as
        itself so that ``call`` backs off; exchangelib wraps it as "No valid version headers"."""
        transient: BaseException
        try:
            return self.protocol.version
        except ews.TransportError as exc:
            cause = exc.__context__
            if not isinstance(cause, _TRANSIENT):
                raise
            transient = cause
        # Raised outside the handler so the error keeps its own context (a timeout behind a
        # busy answer still reads as lost in transit).
        raise transient

    def account(self, address: str) -> Account:
        """The exchangelib Account for a mailbox (no request: the endpoint is explicit)."""
        self.version  # noqa: B018 - the probe must run before exchangelib builds requests
        key = address.lower()
        with self._lock:
            account = self._accounts.get(key)
            if account is None:
                account = Account(
                    primary_smtp_address=address,
                    access_type=IMPERSONATION if self.oauth else DELEGATE,
                    config=self.ews_config,
                    autodiscover=False,
                    default_timezone=UTC,
                )
                account.protocol = self.protocol
                self._accounts[key] = account
            return account

    def call(
        self, operation: Callable[[], T], *, mailbox: str | None = None, idempotent: bool = True
    ) -> T:
        """Runs one EWS operation with the bounded retry policy and error translation.

        ``operation`` must consume exchangelib's generators (return a list, not an iterator) so
        that failures surface here. ``idempotent=False`` (send, reply, copy) is never repeated
        after an answer that leaves its outcome unknown."""
        config = self.session.config
        stats = self.session.stats
        waited = 0.0
        attempt = 0
        renewed = False
        while True:
            try:
                return operation()
            except TokenRefusedError as refusal:
                # A 401 applied nothing, so even a send is repeated once with a new token.
                if renewed:
                    raise
                renewed = True
                self._renew_token(refusal.refused)
                continue
            except _TRANSIENT as exc:
                busy = isinstance(exc, ews.ErrorServerBusy) and not _lost_in_transit(exc)
                if not busy and not idempotent:
                    raise _ambiguous(exc) from None
                if busy:
                    named = backoff_seconds(exc)  # type: ignore[arg-type]
                    delay = named or TRANSIENT_WAIT_SECONDS * 2**attempt
                else:
                    delay = TRANSIENT_WAIT_SECONDS * 2**attempt
                if attempt >= config.max_retries or waited + delay > config.max_retry_wait_seconds:
                    if busy:
                        stats.note_throttle(0)
                    raise translate(_cause(exc), mailbox=mailbox) from None
                if busy:
                    stats.note_throttle(delay)
            except Exception as exc:
                raise translate(exc, mailbox=mailbox) from None
            time.sleep(delay)
            waited += delay
            attempt += 1
            stats.note_retry()

    def _renew_token(self, refused: str | None) -> None:
        """Replaces the token EWS refused and drops the idle connections that still carry it."""
        credentials = self.ews_config.credentials
        if isinstance(credentials, MsalCredentials):
            credentials.renew(refused)
        self.protocol.close()

    def close(self) -> None:
        """Closes the pooled connections and drops the Protocol from exchangelib's cache."""
        # exchangelib keeps every Protocol (and its pool) in a process-wide cache; an in-process
        # SOAR adapter running many actions would otherwise keep one per closed session.
        with contextlib.suppress(KeyError):
            cached, _ = Protocol[self.ews_config]
            if cached is self.protocol:
                del Protocol[self.ews_config]
        self.protocol.close()
        with self._lock:
            self._accounts.clear()


class TokenRefusedError(AuthenticationError):
    """EWS answered 401 to the app's token (expired early, new signing key, revoked)."""

    def __init__(self, message: str, *, refused: str | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.refused = refused  # token_fingerprint of the refused token, never the token


def _unauthorized(response: requests.Response) -> ExchangePackError:
    """Exchange Online's 401: ``x-ms-diagnostics`` 2000008 means a token without EWS roles."""
    diagnostics = response.headers.get("x-ms-diagnostics", "")
    reason = _DIAGNOSTIC_REASON.search(diagnostics)
    text = reason.group(1) if reason else "the token was refused"
    code = diagnostics.split(";", 1)[0].strip() or "HTTP 401"
    if code == "2000008":
        return AccessDeniedError(
            f"EWS refused the app's token: {text}", hint=PERMISSION_HINT, backend_code=code
        )
    authorization = response.request.headers.get("Authorization", "") if response.request else ""
    sent = authorization.removeprefix("Bearer ").strip()
    return TokenRefusedError(
        f"EWS refused the app's token: {text}",
        refused=token_fingerprint(sent) if sent else None,
        hint="Check tenant_id, client_id and cloud: the token must be for the EWS resource of "
        "the tenant that hosts the mailboxes.",
        backend_code=code,
    )


def _lost_in_transit(error: ews.ErrorServerBusy) -> bool:
    """exchangelib re-raises timeouts and 5xx pages as ErrorServerBusy; those are not a refusal."""
    return isinstance(
        error.__context__, (ews.ErrorTimeoutExpired, ews.ErrorInternalServerTransientError)
    )


def _cause(error: Exception) -> Exception:
    """The timeout or 5xx behind exchangelib's re-raised ErrorServerBusy, else the error."""
    context = error.__context__
    if isinstance(error, ews.ErrorServerBusy) and isinstance(
        context, (ews.ErrorTimeoutExpired, ews.ErrorInternalServerTransientError)
    ):
        return context
    return error


def _ambiguous(error: Exception) -> AmbiguousOutcomeError:
    return AmbiguousOutcomeError(
        f"EWS did not confirm the request ({type(error).__name__}); it may or may not have "
        "been applied, so it was not sent again.",
        backend_code=type(error).__name__,
    )
