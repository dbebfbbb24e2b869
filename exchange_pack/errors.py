"""One exception hierarchy for both backends, mirroring the server error codes it maps.

Every error carries the contract's fields: a stable ``code``, a ``category``, the process exit
code (sysexits), whether a retry may succeed, the backend's own code, and a ``hint`` telling
the analyst what to fix. Backends raise these; the runtime turns them into the envelope.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ExchangePackError(Exception):
    """Base class. ``str(error)`` is the analyst-facing message: it never holds a secret."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    category: ClassVar[str] = "internal"
    exit_code: ClassVar[int] = 70
    retryable: ClassVar[bool] = False
    default_hint: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        backend_code: str | None = None,
        retry_after_seconds: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        self.backend_code = backend_code
        self.retry_after_seconds = retry_after_seconds
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The envelope's ``error`` object."""
        out: dict[str, Any] = {
            "code": self.code,
            "category": self.category,
            "message": self.message,
            "retryable": self.retryable,
            "backend_code": self.backend_code,
            "hint": self.hint,
        }
        if self.retry_after_seconds is not None:
            out["retry_after_seconds"] = round(self.retry_after_seconds, 3)
        if self.details:
            out["details"] = self.details
        return out


# -- 64: bad input --------------------------------------------------------------------------
class InputError(ExchangePackError):
    code, category, exit_code = "INVALID_INPUT", "input", 64


class UnsupportedError(InputError):
    """The chosen backend cannot do this; the message says which backend can."""

    code = "UNSUPPORTED_ON_BACKEND"


# -- 66: item not found ---------------------------------------------------------------------
class NotFoundError(ExchangePackError):
    code, category, exit_code = "NOT_FOUND", "not_found", 66


class MessageNotFoundError(NotFoundError):
    code = "MESSAGE_NOT_FOUND"


class FolderNotFoundError(NotFoundError):
    code = "FOLDER_NOT_FOUND"


class AttachmentNotFoundError(NotFoundError):
    code = "ATTACHMENT_NOT_FOUND"


# -- 67: mailbox or user not found ----------------------------------------------------------
class MailboxNotFoundError(ExchangePackError):
    code, category, exit_code = "MAILBOX_NOT_FOUND", "not_found", 67
    default_hint = "Check the mailbox address; it must be a primary SMTP address or alias."


# -- 69: service unavailable ----------------------------------------------------------------
class ServiceUnavailableError(ExchangePackError):
    code, category, exit_code, retryable = "SERVICE_UNAVAILABLE", "unavailable", 69, True


class EwsBlockedError(ServiceUnavailableError):
    code, retryable = "EWS_BLOCKED", False
    default_hint = (
        "EWS is blocked for this app in Exchange Online (since 2026-10-01). Use backend graph, "
        "or have an admin allow-list the app for EWS until the final shutdown (2027-04-01)."
    )


# -- 70: internal ---------------------------------------------------------------------------
class InternalError(ExchangePackError):
    """A bug or an answer the pack does not understand."""


# -- 75: throttled or transient -------------------------------------------------------------
class TransientError(ExchangePackError):
    code, category, exit_code, retryable = "TRANSIENT", "transient", 75, True
    default_hint = "A temporary failure; run the action again later."


class ThrottledError(TransientError):
    code, category = "THROTTLED", "throttled"
    default_hint = "Microsoft throttled the app; retry after the given delay or lower concurrency."


class SyncStateExpiredError(TransientError):
    """A delta token or SyncState the server no longer knows (Graph 410 SyncStateNotFound,
    EWS ErrorInvalidSyncStateData): the caller starts a new sync."""

    code = "SYNC_STATE_EXPIRED"


class AmbiguousOutcomeError(TransientError):
    """A request that changes state failed in a way that does not say whether it was applied.

    Never retried automatically (a send could go out twice); the analyst checks first."""

    code, retryable = "OUTCOME_UNKNOWN", False
    default_hint = "Check the mailbox (for example Sent Items) before running the action again."


# -- 77: permission -------------------------------------------------------------------------
class AccessDeniedError(ExchangePackError):
    code, category, exit_code = "ACCESS_DENIED", "permission", 77


# -- 78: configuration or credentials -------------------------------------------------------
class ConfigError(ExchangePackError):
    code, category, exit_code = "INVALID_CONFIG", "config", 78


class AuthenticationError(ConfigError):
    code, category = "AUTHENTICATION_FAILED", "auth"


EXIT_CODES: dict[int, str] = {
    0: "success (also: nothing matched)",
    64: "bad input (parameters failed validation)",
    66: "message, folder or attachment not found",
    67: "mailbox or user not found",
    69: "service unavailable (includes EWS blocked in Exchange Online)",
    70: "internal error",
    75: "throttled or transient failure: retry later (retry_after_seconds given)",
    77: "access denied or missing permission",
    78: "bad configuration or credentials",
}


def directory_changed(mailbox: str) -> InputError:
    """A search cursor resumes at a mailbox that is no longer among those searched."""
    return InputError(
        f"cursor resumes at {mailbox}, which is no longer among the mailboxes searched.",
        hint="Run the search again without cursor.",
    )
