"""The action contract's output side: the stdout envelope, the stderr line, secret scrubbing."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, field_validator

from . import __version__
from .errors import ExchangePackError

REDACTED = "[REDACTED]"
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
# A JWT lies within one run of base64url characters and dots, and the run holds two dots. Run
# on a whole text, _JWT would restart at every "eyJ" of a long dotless run (a search cursor is
# megabytes of base64) and scan to the run's end each time: quadratic.
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_.-]{21,}")


def _redact_jwts(run: re.Match[str]) -> str:
    text = run[0]
    return _JWT.sub(REDACTED, text) if "eyJ" in text and text.count(".") >= 2 else text


# Credentials that may turn up in text even when their value is unknown to the scrubber.
_CREDENTIAL_PATTERNS: tuple[tuple[re.Pattern[str], Any], ...] = (
    (_TOKEN_RUN, _redact_jwts),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{16,}"), rf"\g<1>{REDACTED}"),
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        REDACTED,
    ),
    (re.compile(r"(?i)((?:client_secret|client_assertion|password)=)[^&\s]+"), rf"\g<1>{REDACTED}"),
    # The userinfo of a URL (scheme://user:password@host): a proxy's credentials, for example.
    # Anchored on "://" alone: "-1http://u:p@h" or "xhttps://u:p@h" must not slip through.
    (re.compile(r"(://)[^/?#@\s\"<>\\]+@"), rf"\g<1>{REDACTED}@"),
)
# Text no pattern above can match lacks all of these: one search screens a string in place of
# every substitution (an envelope holds tens of thousands of strings at max_results 10,000).
_CREDENTIAL_SCREEN = re.compile(
    r"eyJ|PRIVATE KEY|(?i:bearer)|(?i:client_secret|client_assertion|password)=|://"
)
_MIN_SECRET_LENGTH = 4  # shorter values would shred ordinary words


@functools.lru_cache(maxsize=1)
def _own_sentences() -> re.Pattern[str]:
    """The pack's fixed messages and hints (AADSTS meanings, hints module) as one pattern."""
    from . import aadsts, hints

    sentences = {text for meaning in aadsts.AADSTS_ERRORS.values() for text in meaning[1:]}
    sentences |= {v for k, v in vars(hints).items() if k.isupper() and isinstance(v, str)}
    alternatives = "|".join(re.escape(s) for s in sorted(sentences, key=len, reverse=True))
    return re.compile(f"({alternatives})")


def without_userinfo(text: str) -> str:
    """The text with the ``user:password@`` of every URL in it replaced."""
    return _CREDENTIAL_PATTERNS[-1][0].sub(_CREDENTIAL_PATTERNS[-1][1], text)


def url_secrets(values: Mapping[str, Any]) -> list[str]:
    """The userinfo and password of every URL among ``values`` (as given and percent-decoded)."""
    found: list[str] = []
    for value in values.values():
        if not isinstance(value, str) or "@" not in value:
            continue
        try:
            userinfo = urlsplit(value.strip()).netloc.rpartition("@")[0]
        except ValueError:  # not a URL; validation says so, scrubbed by the pattern above
            continue
        if userinfo:
            password = userinfo.partition(":")[2]
            found += [userinfo, unquote(userinfo), password, unquote(password)]
    return found


class ActionResult(BaseModel):
    """What an action's ``run`` returns: the envelope's ``data``, ``message`` and ``summary``."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    data: dict[str, Any] = {}
    message: str = ""
    summary: dict[str, Any] = {}

    @field_validator("data", mode="before")
    @classmethod
    def _dump_models(cls, value: Any) -> Any:
        return (
            value.model_dump(mode="json", by_alias=True) if isinstance(value, BaseModel) else value
        )


class Scrubber:
    """Replaces known secret values and credential-shaped text: the last line of defence."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._longest_first: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Adds secret values (each also in its JSON-escaped form)."""
        for secret in secrets:
            if isinstance(secret, str) and len(secret) >= _MIN_SECRET_LENGTH:
                self._secrets.add(secret)
                escaped = secret.encode("unicode_escape").decode("ascii").replace('"', '\\"')
                self._secrets.add(escaped)
        self._longest_first = sorted(self._secrets, key=len, reverse=True)

    def text(self, text: str) -> str:
        """The text with every secret replaced, the pack's own fixed sentences left whole.

        A secret that happens to be an ordinary word ("wrong") would otherwise turn "The client
        secret is wrong." into nonsense; those sentences are constants, so they reveal nothing.
        """
        if any(secret in text for secret in self._longest_first):
            parts = _own_sentences().split(text)
            # re.split with one capturing group: odd indexes are the pack's own sentences
            text = "".join(
                part if index % 2 else self._replace_secrets(part)
                for index, part in enumerate(parts)
            )
        if _CREDENTIAL_SCREEN.search(text) is None:
            return text
        for pattern, replacement in _CREDENTIAL_PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def _replace_secrets(self, text: str) -> str:
        for secret in self._longest_first:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def value(self, value: Any) -> Any:
        """A JSON-ready value with every string scrubbed (each distinct string once)."""
        return self._value(value, {})

    def _value(self, value: Any, seen: dict[str, str]) -> Any:
        if isinstance(value, str):
            done = seen.get(value)
            if done is None:
                done = seen[value] = self.text(value)
            return done
        if isinstance(value, list):
            return [self._value(v, seen) for v in value]
        if isinstance(value, dict):
            return {k: self._value(v, seen) for k, v in value.items()}
        return value


def base_meta(backend: str | None, duration_ms: float, counters: dict[str, Any]) -> dict[str, Any]:
    """The envelope's ``meta``: backend, duration, request and throttle counts, pack version."""
    return {
        "backend": backend,
        "duration_ms": round(duration_ms, 1),
        **counters,
        "pack_version": __version__,
    }


def success_envelope(
    action_id: str, result: ActionResult, warnings: list[str], meta: dict[str, Any]
) -> dict[str, Any]:
    """``ok: true`` with the action's data (exit 0, also when nothing matched)."""
    return {
        "ok": True,
        "action": action_id,
        "message": result.message or f"{action_id} completed.",
        "summary": result.summary,
        "data": result.data,
        "warnings": list(warnings),
        "meta": meta,
    }


def failure_envelope(
    action_id: str, error: ExchangePackError, warnings: list[str], meta: dict[str, Any]
) -> dict[str, Any]:
    """``ok: false`` with the error object (code, category, message, retryable, hint, ...)."""
    return {
        "ok": False,
        "action": action_id,
        "message": error.message,
        "summary": {},
        "data": None,
        "warnings": list(warnings),
        "meta": meta,
        "error": error.to_dict(),
    }


def stderr_line(error: ExchangePackError) -> str:
    """The one stderr line of a failure: ``ERROR <CODE>: message``."""
    message = " ".join(error.message.split())
    return f"ERROR {error.code}: {message}\n"
