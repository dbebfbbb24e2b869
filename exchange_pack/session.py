"""The shared session every action uses: config, counters, one HTTP pool, tokens, the backend."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter

from . import __version__
from .auth import TokenProvider
from .config import ConnectionConfig
from .errors import InputError

if TYPE_CHECKING:
    from .backend import Backend, MailboxBackend

USER_AGENT = f"exchange-pack/{__version__}"
# Fan-out (search across many mailboxes) runs this many requests at once at most.
HTTP_POOL_SIZE = 32


class SessionStats:
    """Request and throttling counters reported in the envelope's ``meta`` and ``warnings``."""

    def __init__(self) -> None:
        self.requests = 0
        self.throttled = 0
        self.throttle_wait_seconds = 0.0
        self.retries = 0
        self.warnings: list[str] = []
        self._lock = threading.Lock()

    def note_request(self, count: int = 1) -> None:
        """Counts HTTP round trips to Microsoft (token endpoint, Graph, EWS)."""
        with self._lock:
            self.requests += count

    def note_retry(self) -> None:
        """Counts a request sent again after a throttled or transient answer."""
        with self._lock:
            self.retries += 1

    def note_throttle(self, seconds: float) -> None:
        """Counts a throttled answer (Graph 429, EWS ErrorServerBusy) and the wait it asked for."""
        with self._lock:
            self.throttled += 1
            self.throttle_wait_seconds += max(0.0, float(seconds))

    def warn(self, text: str) -> None:
        """Adds an analyst-facing warning to the envelope (each text once)."""
        with self._lock:
            if text not in self.warnings:
                self.warnings.append(text)

    def all_warnings(self) -> list[str]:
        """The warnings, plus one that says how much Microsoft throttled this action."""
        with self._lock:
            if not self.throttled:
                return list(self.warnings)
            return [
                *self.warnings,
                f"Microsoft throttled {self.throttled} request(s); the pack waited "
                f"{self.throttle_wait_seconds:.1f} s in total as asked (Retry-After / "
                "BackOffMilliseconds).",
            ]

    def as_meta(self) -> dict[str, Any]:
        """The counters as the envelope's ``meta`` fields."""
        with self._lock:
            return {
                "requests": self.requests,
                "throttled": self.throttled,
                "throttle_wait_seconds": round(self.throttle_wait_seconds, 3),
                "retries": self.retries,
            }


def build_http(config: ConnectionConfig) -> requests.Session:
    """One keep-alive ``requests.Session`` honouring the config's TLS and proxy settings."""
    http = requests.Session()
    # REQUESTS_CA_BUNDLE / proxy variables would silently override the config's choices.
    http.trust_env = False
    http.verify = config.tls_verify
    if config.proxy_url:
        http.proxies = {"http": config.proxy_url, "https": config.proxy_url}
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=HTTP_POOL_SIZE, max_retries=0)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    http.headers["User-Agent"] = USER_AGENT
    return http


class Session:
    """A validated connection: shared HTTP pool, token provider and the chosen backend."""

    def __init__(self, config: ConnectionConfig, stats: SessionStats | None = None) -> None:
        self.config = config
        self.stats = stats or SessionStats()
        self._lock = threading.RLock()
        self._http: requests.Session | None = None
        self._tokens: TokenProvider | None = None
        self._backend: Backend | None = None

    @property
    def http(self) -> requests.Session:
        """The one ``requests.Session`` for Graph and the token endpoint."""
        with self._lock:
            if self._http is None:
                self._http = build_http(self.config)
            return self._http

    @property
    def tokens(self) -> TokenProvider:
        """The msal-backed token provider (Graph and EWS scopes)."""
        with self._lock:
            if self._tokens is None:
                self._tokens = TokenProvider(self.config, self.http, stats=self.stats)
            return self._tokens

    @property
    def backend(self) -> Backend:
        """The Graph or EWS backend, imported on first use (Graph never imports exchangelib)."""
        with self._lock:
            if self._backend is None:
                if self.config.backend == "ews":
                    from .ews import EwsBackend

                    self._backend = EwsBackend(self)
                else:
                    from .graph import GraphBackend

                    self._backend = GraphBackend(self)
            return self._backend

    def mailbox_address(self, address: str | None = None) -> str:
        """The mailbox to act on: the given address, else the config's ``default_mailbox``."""
        chosen = (address or "").strip() or (self.config.default_mailbox or "").strip()
        if not chosen:
            raise InputError(
                "No mailbox given.",
                hint="Pass the mailbox parameter or set default_mailbox in the connection config.",
            )
        return chosen

    def mailbox(self, address: str | None = None) -> MailboxBackend:
        """The backend object for one mailbox (defaults to ``default_mailbox``)."""
        return self.backend.mailbox(self.mailbox_address(address))

    def close(self) -> None:
        """Closes the backend (if it holds resources) and the HTTP pool."""
        with self._lock:
            backend_close = getattr(self._backend, "close", None)
            if callable(backend_close):
                backend_close()
            if self._http is not None:
                self._http.close()
            self._backend = self._tokens = self._http = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Session(backend={self.config.backend!r}, cloud={self.config.cloud!r})"
