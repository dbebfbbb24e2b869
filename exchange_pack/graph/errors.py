"""Graph error bodies (``{"error": {"code", "message"}}``) mapped onto ``exchange_pack.errors``.

Codes come from Graph's OData errors and the Exchange codes it passes through (ErrorItemNotFound,
ErrorInvalidUser, ...). The hint for a 403 names the application permission the call needs,
derived from the request, because Graph's own message ("Access is denied") does not say.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

from .. import hints
from ..errors import (
    AccessDeniedError,
    AttachmentNotFoundError,
    AuthenticationError,
    ExchangePackError,
    FolderNotFoundError,
    InputError,
    InternalError,
    MailboxNotFoundError,
    MessageNotFoundError,
    NotFoundError,
    ThrottledError,
    TransientError,
)

MAILBOX_CODES = frozenset(
    {
        "ErrorInvalidUser",
        "MailboxNotEnabledForRESTAPI",
        "MailboxNotFound",
        "ErrorNonExistentMailbox",
        "Request_ResourceNotFound",
    }
)
ACCESS_CODES = frozenset(
    {
        "ErrorAccessDenied",
        "Authorization_RequestDenied",
        "AccessDenied",
        "Forbidden",
        "ErrorInsufficientPermissions",
    }
)
INPUT_CODES = frozenset(
    {
        "ErrorInvalidIdMalformed",
        "ErrorInvalidRequest",
        "ErrorInvalidParameter",
        "ErrorInvalidRecipients",
        "ErrorInvalidProperty",
        "BadRequest",
        "badRequest",
        "RequestBodyRead",
        "InvalidRequest",
        "ErrorMessageSizeExceeded",
    }
)
_INPUT_HINTS = {"ErrorInvalidRecipients": hints.RECIPIENTS}
_NOT_FOUND_HINTS: dict[type[NotFoundError], str] = {
    MessageNotFoundError: hints.MESSAGE_NOT_FOUND,
    FolderNotFoundError: hints.FOLDER_NOT_FOUND,
    AttachmentNotFoundError: hints.ATTACHMENT_NOT_FOUND,
}
_USER_PATH = re.compile(r"^/(?:v1\.0|beta)?/?users/[^/]+/?$")

# Least-privilege application permission per kind of request (matched on the path, in order).
_PERMISSIONS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"/security/cases/ediscoveryCases"), "*", "eDiscovery.ReadWrite.All"),
    (re.compile(r"/(sendMail|send|reply|replyAll)$"), "POST", "Mail.Send"),
    (re.compile(r"/messageRules"), "*", "MailboxSettings.ReadWrite"),
    (re.compile(r"/mailboxSettings"), "GET", "MailboxSettings.Read"),
    (re.compile(r"/contacts"), "GET", "Contacts.Read"),
    (re.compile(r"^/(?:v1\.0/)?users/?$"), "GET", "User.Read.All"),
    (re.compile(r"/(messages|mailFolders)"), "GET", "Mail.Read"),
    (re.compile(r"/(messages|mailFolders)"), "*", "Mail.ReadWrite"),
)


def required_permission(method: str, path: str) -> str:
    """The Graph application permission a request needs (for the 403 hint)."""
    for pattern, verb, permission in _PERMISSIONS:
        if verb in ("*", method.upper()) and pattern.search(path):
            return permission
    return "Mail.ReadWrite"


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` as seconds (decimal seconds as Graph sends them, or an HTTP date)."""
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if raw is None or not str(raw).strip():
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(str(raw))
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def error_body(body: Any) -> tuple[str | None, str]:
    """(code, message) from a Graph OData error body, whatever shape it arrived in."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code")
    message = error.get("message") or ""
    inner = error.get("innerError") or error.get("innererror")
    if isinstance(inner, dict) and not message:
        message = inner.get("message") or ""
    return (str(code) if code else None), str(message)


def graph_error(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    method: str,
    path: str,
    not_found: type[NotFoundError] = MessageNotFoundError,
) -> ExchangePackError:
    """The pack exception for a failed Graph response (status, OData body, headers)."""
    code, text = error_body(body)
    summary = f"Microsoft Graph answered {status}" + (f" {code}" if code else "")
    message = f"{summary}: {text}" if text else summary
    backend_code = code or str(status)
    common: dict[str, Any] = {"backend_code": backend_code}

    if status == 429 or code in ("ApplicationThrottled", "TooManyRequests"):
        return ThrottledError(message, retry_after_seconds=retry_after_seconds(headers), **common)
    if status == 401:
        return AuthenticationError(
            message,
            hint="The access token was refused; check the app registration, tenant and clock.",
            **common,
        )
    if status == 403 or code in ACCESS_CODES:
        return access_denied(message, method, path, text, **common)
    if code in MAILBOX_CODES or (status == 404 and _USER_PATH.match(path)):
        return MailboxNotFoundError(message, hint=hints.MAILBOX_NOT_FOUND, **common)
    if code in ("ErrorFolderNotFound",):
        return FolderNotFoundError(message, hint=hints.FOLDER_NOT_FOUND, **common)
    if code == "ErrorInvalidIdMalformed":
        return InputError(message, hint=hints.MALFORMED_ID, **common)
    if status == 404 or code == "ErrorItemNotFound":
        return not_found(message, hint=_NOT_FOUND_HINTS.get(not_found), **common)
    if code in INPUT_CODES or status in (400, 413, 422):
        return InputError(message, hint=_INPUT_HINTS.get(code or ""), **common)
    if status >= 500 or status == 409:  # 503 included: a transient failure, as on EWS
        return TransientError(message, retry_after_seconds=retry_after_seconds(headers), **common)
    return InternalError(message, **common)


def access_denied(
    message: str, method: str, path: str, text: str, **common: Any
) -> AccessDeniedError:
    """403: RBAC for Applications scoping, or a missing application permission."""
    if "OData is disabled" in text or "scope" in text.lower():
        hint = (
            "The app's RBAC for Applications (management scope) excludes this mailbox; "
            "ask an Exchange admin to include it."
        )
    else:
        permission = required_permission(method, path)
        hint = f"Grant the Microsoft Graph application permission {permission} and admin consent."
    return AccessDeniedError(message, hint=hint, **common)
