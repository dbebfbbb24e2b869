"""The ``approval_token`` of search_and_delete_emails: an estimate's criteria and scope, signed.

The token is issued by an estimate run and required by a delete run, so a playbook's approval
step sits between the two and what was approved is what gets deleted: a token for other
criteria, another scope, another app, or older than ``MAX_AGE`` is refused (exit 64). It is an
HMAC-SHA256 under a key derived from the app's own credential (never output, never stored), so
only a process holding that credential could have issued it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..config import ConnectionConfig
from ..errors import InputError
from ..models import Model, SearchCriteria, iso_utc

TOKEN_VERSION = 1
MAX_AGE = dt.timedelta(hours=72)
_CONTEXT = b"exchange-pack search_and_delete_emails approval v1"


class Approval(Model):
    """What a token says: which search, over which scope, estimated to match how many."""

    v: int = TOKEN_VERSION
    criteria: str  # digest of the criteria
    scope: str  # digest of the scope
    estimated: int
    issued_at: str


def digest(value: Any) -> str:
    """A stable SHA-256 of a JSON value (sorted keys, compact)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def criteria_digest(criteria: SearchCriteria) -> str:
    """The digest of the filters (what the approver saw)."""
    return digest(criteria.model_dump(mode="json", exclude_none=True))


def scope_digest(all_mailboxes: bool, mailboxes: list[str]) -> str:
    """The digest of the scope: every mailbox, or these (order and case do not matter)."""
    return digest({"all": True} if all_mailboxes else sorted({m.lower() for m in mailboxes}))


def _key(config: ConnectionConfig) -> bytes:
    material = b""
    for secret in (config.client_secret, config.certificate_pem, config.password):
        if secret is not None:
            material += secret.get_secret_value().encode()
    if config.certificate_path and not material:
        material = Path(config.certificate_path).expanduser().read_bytes()
    identity = f"{config.tenant_id}|{config.client_id}|{config.username}".encode()
    return hmac.new(hashlib.sha256(material).digest(), _CONTEXT + identity, "sha256").digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(
    config: ConnectionConfig,
    criteria: SearchCriteria,
    scope: str,
    estimated: int,
    now: dt.datetime | None = None,
) -> tuple[str, str]:
    """The token for this estimate and when it expires (ISO 8601)."""
    issued = now or dt.datetime.now(dt.timezone.utc)
    approval = Approval(
        criteria=criteria_digest(criteria),
        scope=scope,
        estimated=estimated,
        issued_at=iso_utc(issued) or "",
    )
    body = approval.model_dump_json().encode()
    signature = hmac.new(_key(config), body, "sha256").digest()
    return f"{_b64(body)}.{_b64(signature)}", iso_utc(issued + MAX_AGE) or ""


def verify(
    config: ConnectionConfig,
    token: str,
    criteria: SearchCriteria,
    scope: str,
    now: dt.datetime | None = None,
) -> Approval:
    """The approval the token carries, checked against these criteria and scope (InputError)."""
    rerun = "Run mode estimate with the same filters and scope, and approve its approval_token."
    try:
        body_text, signature_text = token.strip().split(".")
        body, signature = _unb64(body_text), _unb64(signature_text)
        approval = Approval.model_validate_json(body)
    except (ValueError, binascii.Error, ValidationError):
        raise InputError(
            "approval_token is not a token issued by search_and_delete_emails.", hint=rerun
        ) from None
    expected = hmac.new(_key(config), body, "sha256").digest()
    if not hmac.compare_digest(signature, expected) or approval.v != TOKEN_VERSION:
        raise InputError("approval_token was not issued for this app registration.", hint=rerun)
    if approval.criteria != criteria_digest(criteria):
        raise InputError(
            "approval_token was issued for other filters (sender, subject...).", hint=rerun
        )
    if approval.scope != scope:
        raise InputError(
            "approval_token was issued for another scope (mailboxes / all_mailboxes).", hint=rerun
        )
    issued = dt.datetime.fromisoformat(approval.issued_at.replace("Z", "+00:00"))
    if (now or dt.datetime.now(dt.timezone.utc)) - issued > MAX_AGE:
        raise InputError(
            f"approval_token expired (issued {approval.issued_at}; valid "
            f"{int(MAX_AGE.total_seconds() // 3600)} hours).",
            hint=rerun,
        )
    return approval


def token_id(token: str) -> str:
    """A short public name for a token (names its audit file and cursor)."""
    return hashlib.sha256(token.strip().encode()).hexdigest()[:16]
