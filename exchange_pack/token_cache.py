"""The msal token cache persisted in a private file, shared safely by concurrent action processes.

Each action is its own process, so without a file every run would ask the token endpoint again.
Reads and writes happen under an exclusive advisory lock held around the whole acquisition: when
several processes start at once, the first fetches the token and the others find it in the file.

msal keys cached tokens by app, not by credential, so the file also records (as a one-way hash)
which credential obtained each app's tokens: a wrong or rotated secret never gets a token that
another credential fetched, the token endpoint checks it instead. It also keeps msal's answers
from the authority's discovery documents, so a process whose token is cached makes no request to
the identity platform at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msal

from .discovery_cache import DiscoveryCache

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the atomic replace still keeps the file whole.
    fcntl = None  # type: ignore[assignment]

DISABLED = "none"
# Top-level keys of the file beside msal's own: {client_id: credential hash}, and msal's cached
# answers from the sign-in authority's discovery documents (see discovery_cache).
CREDENTIALS_KEY = "ExchangePackCredentials"
DISCOVERY_KEY = "ExchangePackDiscovery"
# msal's time stamps, stored as text and read with int().
_NUMERIC_FIELDS = frozenset({"cached_at", "expires_on", "extended_expires_on", "refresh_on"})


def token_fingerprint(access_token: str) -> str:
    """A one-way name for an access token, so a refused token can be named without holding it."""
    return hashlib.sha256(access_token.encode()).hexdigest()[:32]


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/exchange-pack/tokens`` (``~/.cache/...`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "exchange-pack" / "tokens"


def default_cache_path(cloud: str, authority: str, client_id: str) -> Path:
    """One file per cloud, tenant (authority) and app."""
    digest = hashlib.sha256(
        "\n".join((cloud, authority.lower(), client_id.lower())).encode()
    ).hexdigest()[:32]
    return default_cache_dir() / f"{cloud}-{digest}.json"


class PersistentTokenCache:
    """An msal ``SerializableTokenCache`` mirrored in a mode-0600 file (or memory only)."""

    def __init__(
        self,
        path: Path | None,
        client_id: str = "",
        credential_key: str = "",
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self.cache = msal.SerializableTokenCache()
        self.http_cache = DiscoveryCache()
        self.client_id = client_id
        self.credential_key = credential_key
        self._credentials: dict[str, str] = {}
        self._warn = warn or (lambda text: None)

    @classmethod
    def from_setting(
        cls,
        setting: str | None,
        default: Callable[[], Path],
        client_id: str,
        credential_key: str,
        warn: Callable[[str], None],
    ) -> PersistentTokenCache:
        """From ``token_cache_path``: a file path, ``none`` (memory only) or unset (default)."""
        if setting is not None and setting.strip().lower() == DISABLED:
            return cls(None, client_id, credential_key, warn)
        path = Path(setting).expanduser() if setting else default()
        return cls(path, client_id, credential_key, warn)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[msal.SerializableTokenCache]:
        """Locks the file, loads it, yields the cache and writes it back if msal changed it."""
        if self.path is None:
            yield self.cache
            return
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            self._warn(f"Token cache disabled: cannot use {self.path.parent} ({exc.strerror}).")
            self.path = None
            yield self.cache
            return
        try:
            if fcntl is not None:
                fcntl.flock(lock_fd, fcntl.LOCK_EX)
            self._load()
            yield self.cache
            if self.cache.has_state_changed or self.http_cache.has_state_changed:
                self._save()
        finally:
            os.close(lock_fd)  # closing the descriptor releases the lock

    def _load(self) -> None:
        assert self.path is not None
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            self._warn(f"Token cache {self.path} unreadable ({exc.strerror}); starting empty.")
            return
        try:
            document = json.loads(raw.decode("utf-8"))
            problem = _damage(document)
            if problem:
                raise ValueError(problem)
            credentials = document.pop(CREDENTIALS_KEY, {})
            self._credentials = credentials if isinstance(credentials, dict) else {}
            self.http_cache.merge_json(document.pop(DISCOVERY_KEY, None))
            self.cache.deserialize(json.dumps(document))
            self._probe()
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
            self._set_aside(raw, exc)
            return
        if self._credentials.get(self.client_id) != self.credential_key:
            self._forget_app_tokens()

    def _probe(self) -> None:
        """Reads every cached entry as msal will, so a damaged one fails here, not mid-action."""
        for kind in (
            msal.TokenCache.CredentialType.ACCESS_TOKEN,
            msal.TokenCache.CredentialType.REFRESH_TOKEN,
            msal.TokenCache.CredentialType.ACCOUNT,
            msal.TokenCache.CredentialType.ID_TOKEN,
        ):
            for _ in self.cache.search(kind, query={"client_id": self.client_id}):
                pass

    def _set_aside(self, raw: bytes, exc: BaseException) -> None:
        """Renames a damaged file (kept for a look) and starts with an empty cache."""
        assert self.path is not None
        self.cache = msal.SerializableTokenCache()
        self.cache.deserialize("{}")
        self.cache.has_state_changed = True
        self._credentials = {}
        if not raw.strip():
            self._warn(f"Token cache {self.path} was empty (corrupt); it will be rewritten.")
            return
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{os.getpid()}")
        reason = type(exc).__name__
        try:
            os.replace(self.path, aside)
        except OSError as err:
            self._warn(
                f"Token cache {self.path} is corrupt ({reason}) and could not be set aside "
                f"({err.strerror}); it will be rewritten."
            )
            return
        self._warn(
            f"Token cache {self.path} is corrupt ({reason}); set aside as {aside.name} and a "
            "new token is fetched."
        )

    def forget_access_token(self, scope: str, fingerprint: str | None = None) -> None:
        """Drops this app's cached access token for ``scope`` (only the one with ``fingerprint``
        when given: another process may already have replaced a refused token)."""
        kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
        query = {"client_id": self.client_id}
        for entry in list(self.cache.search(kind, target=[scope], query=query)):
            if fingerprint is None or token_fingerprint(entry.get("secret", "")) == fingerprint:
                self.cache.remove_at(entry)

    def _forget_app_tokens(self) -> None:
        """Drops this app's tokens that another credential (or an unknown one) obtained."""
        kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
        for entry in list(self.cache.search(kind, query={"client_id": self.client_id})):
            self.cache.remove_at(entry)

    def _save(self) -> None:
        assert self.path is not None
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()  # left over by a crashed process that had the same pid
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_EXCL, 0o600)
            document = json.loads(self.cache.serialize())
            self._credentials[self.client_id] = self.credential_key
            document[CREDENTIALS_KEY] = self._credentials
            document[DISCOVERY_KEY] = self.http_cache.to_json()
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(document))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
            self.cache.has_state_changed = self.http_cache.has_state_changed = False
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            self._warn(f"Token cache {self.path} not written ({exc.strerror}).")


def _damage(document: object) -> str | None:
    """Why a parsed cache file is not msal's layout (plus this module's keys), or None."""
    if not isinstance(document, dict):
        return "not a JSON object"
    for section, entries in document.items():
        if section in (CREDENTIALS_KEY, DISCOVERY_KEY):
            continue
        if not isinstance(entries, dict):
            return f"{section} is not an object"
        for entry in entries.values():
            if not isinstance(entry, dict):
                return f"an entry of {section} is not an object"
            if not all(isinstance(v, (str, type(None))) for v in entry.values()):
                return f"an entry of {section} holds a non-text value"
            for stamp in _NUMERIC_FIELDS & set(entry):
                if not str(entry[stamp]).isdigit():
                    return f"an entry of {section} has a malformed {stamp}"
    return None
