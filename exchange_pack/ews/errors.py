"""EWS ResponseCodes (exchangelib's exception classes) mapped to ``exchange_pack.errors``.

exchangelib raises one exception class per EWS ResponseCode (``ErrorItemNotFound``...); the
pack's hierarchy carries the contract's code, exit code and a hint. ``translate`` is the one
place that knows the correspondence; every EWS call goes through it (see ``transport``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

from exchangelib import errors as ews
from urllib3.exceptions import HTTPError

from .. import hints
from ..errors import (
    AccessDeniedError,
    AttachmentNotFoundError,
    AuthenticationError,
    ConfigError,
    ExchangePackError,
    FolderNotFoundError,
    InputError,
    InternalError,
    MailboxNotFoundError,
    MessageNotFoundError,
    ServiceUnavailableError,
    ThrottledError,
    TransientError,
)

PERMISSION_HINT = (
    "Grant the app the Exchange application permission full_access_as_app (Office 365 Exchange "
    "Online) with admin consent; on-premises, give the service account the "
    "ApplicationImpersonation role or mailbox permissions."
)
T = TypeVar("T")
_SUGGESTED_BACKOFF = re.compile(r"backoff time (\d+) ?ms", re.IGNORECASE)


class HttpBusyError(ews.ErrorServerBusy):
    """An HTTP 429 or 503 from the EWS endpoint (not a SOAP ErrorServerBusy): backed off like
    one; after the retries a 503 is a transient failure, as on Graph, and 429 throttling."""

    def __init__(self, status: int, back_off: float | None) -> None:
        super().__init__(f"HTTP {status} from the EWS endpoint", back_off=back_off)
        self.status = status
        self.requested = back_off  # exchangelib fills back_off with its own default wait


# ResponseCode -> (pack error class, hint). Subclasses of a listed class map like it.
_BY_CODE: dict[type[Exception], tuple[type[ExchangePackError], str | None]] = {
    ews.ErrorItemNotFound: (MessageNotFoundError, hints.MESSAGE_NOT_FOUND),
    ews.ErrorInvalidIdMalformed: (InputError, hints.MALFORMED_ID),
    ews.ErrorInvalidIdMalformedEwsLegacyIdFormat: (InputError, hints.MALFORMED_ID),
    ews.ErrorFolderNotFound: (FolderNotFoundError, hints.FOLDER_NOT_FOUND),
    ews.ErrorInvalidAttachmentId: (AttachmentNotFoundError, hints.ATTACHMENT_NOT_FOUND),
    ews.ErrorNonExistentMailbox: (MailboxNotFoundError, hints.MAILBOX_NOT_FOUND),
    ews.ErrorMailboxMoveInProgress: (TransientError, hints.TRANSIENT),
    ews.ErrorMailboxStoreUnavailable: (TransientError, hints.TRANSIENT),
    ews.ErrorInternalServerTransientError: (TransientError, hints.TRANSIENT),
    ews.ErrorTimeoutExpired: (TransientError, hints.TRANSIENT),
    ews.ErrorAccessDenied: (AccessDeniedError, PERMISSION_HINT),
    ews.ErrorImpersonateUserDenied: (AccessDeniedError, PERMISSION_HINT),
    ews.ErrorImpersonationDenied: (AccessDeniedError, PERMISSION_HINT),
    ews.ErrorImpersonationFailed: (AccessDeniedError, PERMISSION_HINT),
    ews.ErrorSendAsDenied: (
        AccessDeniedError,
        "The app may not send as this mailbox; grant full_access_as_app (or Send As on-premises).",
    ),
    ews.ErrorMessageSizeExceeded: (InputError, "The message is larger than the server allows."),
    ews.ErrorAttachmentSizeLimitExceeded: (InputError, None),
    ews.ErrorInvalidRecipients: (InputError, hints.RECIPIENTS),
    ews.ErrorInvalidServerVersion: (
        ConfigError,
        "The EWS server refused the requested schema version; delete the cached version file.",
    ),
    ews.ErrorInvalidSchemaVersionForMailboxVersion: (ConfigError, None),
    ews.UnauthorizedError: (
        AuthenticationError,
        "EWS refused the credentials: check the app's certificate/secret and that the token is "
        "for the EWS resource (or username/password for ntlm/basic).",
    ),
    ews.CASError: (ServiceUnavailableError, None),
}


def backoff_seconds(error: ews.ErrorServerBusy) -> float | None:
    """BackOffMilliseconds of a SOAP fault, or the "Suggested backoff time" in the message text."""
    if isinstance(error, HttpBusyError):
        return error.requested
    match = _SUGGESTED_BACKOFF.search(str(error))
    if match:
        return int(match.group(1)) / 1000.0
    return float(error.back_off) if error.back_off else None


def translate(error: Exception, *, mailbox: str | None = None) -> ExchangePackError:
    """The pack error for an exchangelib exception (already-translated errors pass through)."""
    if isinstance(error, ExchangePackError):
        return error
    code = type(error).__name__
    text = _message(error)
    if isinstance(error, HttpBusyError) and error.status != 429:
        return TransientError(
            f"The EWS endpoint is unavailable for now (HTTP {error.status}).",
            backend_code=f"HTTP {error.status}",
            retry_after_seconds=backoff_seconds(error),
        )
    if isinstance(error, ews.ErrorServerBusy):
        return ThrottledError(
            f"EWS is throttling the app: {text}",
            backend_code=code,
            retry_after_seconds=backoff_seconds(error),
        )
    for ews_class, (pack_class, hint) in _BY_CODE.items():
        if isinstance(error, ews_class):
            where = f" ({mailbox})" if mailbox and pack_class is MailboxNotFoundError else ""
            return pack_class(f"{text}{where}", hint=hint, backend_code=code)
    if isinstance(error, ews.TransportError) and "certificate verify failed" in text:
        return ConfigError(
            f"TLS verification of the EWS endpoint failed: {text}",
            hint="Set ca_bundle to the CA that signed the server certificate.",
            backend_code=code,
        )
    if isinstance(error, (OSError, HTTPError)):
        # requests/urllib3 failures while a streamed answer was being read
        return TransientError(f"The connection to EWS broke: {text}", backend_code=code)
    if isinstance(error, ews.ResponseMessageError):
        return InternalError(f"EWS answered {code}: {text}", backend_code=code)
    if isinstance(error, ews.TransportError):
        return ServiceUnavailableError(f"EWS endpoint unreachable: {text}", backend_code=code)
    return InternalError(f"Unexpected EWS failure ({code}): {text}", backend_code=code)


def _message(error: Exception) -> str:
    """exchangelib's text, trimmed: response bodies can be long."""
    text = str(error).strip() or type(error).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def checked_answers(answers: Iterable[T | Exception]) -> list[T]:
    """An exchangelib service call's answers, all read, raising the first EWS error among them."""
    found = list(answers)
    for answer in found:
        if isinstance(answer, Exception):
            raise answer
    return found  # type: ignore[return-value]
