"""test_connection: token facts, which actions the granted roles allow, and a mailbox probe.

The permissions each action needs come from ``integration.yaml``; a broader permission
satisfies a narrower one (Mail.ReadWrite covers Mail.Read), as Microsoft Graph grants them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import (
    AccessDeniedError,
    ConfigError,
    EwsBlockedError,
    MailboxNotFoundError,
    ServiceUnavailableError,
    TransientError,
)
from ..manifest import Manifest
from ..session import Session
from .outputs import ActionCheck, ConnectionReport, MailboxProbe

# Permission -> the broader permissions that include it (Microsoft Graph application roles).
IMPLIED_BY: dict[str, frozenset[str]] = {
    "Mail.ReadBasic": frozenset({"Mail.ReadBasic.All", "Mail.Read", "Mail.ReadWrite"}),
    "Mail.ReadBasic.All": frozenset({"Mail.Read", "Mail.ReadWrite"}),
    "Mail.Read": frozenset({"Mail.ReadWrite"}),
    "MailboxSettings.Read": frozenset({"MailboxSettings.ReadWrite"}),
    "Contacts.Read": frozenset({"Contacts.ReadWrite"}),
    "eDiscovery.Read.All": frozenset({"eDiscovery.ReadWrite.All"}),
    "User.Read.All": frozenset(
        {"User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
    ),
}
ROLE_BASED_AUTH = frozenset({"client_secret", "certificate"})


def missing_permissions(required: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The required permissions neither granted nor implied by a broader granted one."""
    have = set(granted)
    return [p for p in required if p not in have and not (IMPLIED_BY.get(p, set()) & have)]


def check_actions(
    manifest: Manifest, backend: str, roles: Iterable[str] | None
) -> list[ActionCheck]:
    """For each action, whether ``roles`` allow it on ``backend`` (None: roles unknown)."""
    checks = []
    for spec in manifest.actions:
        required = list(spec.permissions.get(backend, []))
        missing = [] if roles is None else missing_permissions(required, roles)
        checks.append(
            ActionCheck(id=spec.id, allowed=not missing, required=required, missing=missing)
        )
    return checks


def mailbox_probe(facts: Mapping[str, Any], address: str | None) -> MailboxProbe:
    """The outcome of the backend probe's one read of the mailbox's Inbox."""
    if not address:
        return MailboxProbe(mailbox=None, status="skipped", error="no mailbox to probe")
    error = facts.get("probe_error")
    if error is None:
        return MailboxProbe(mailbox=address, status="ok")
    if isinstance(error, (EwsBlockedError, TransientError)):
        raise error  # the whole connection is affected, not only this mailbox
    if isinstance(error, MailboxNotFoundError):
        return MailboxProbe(mailbox=address, status="not_found", error=error.message)
    if isinstance(error, AccessDeniedError):
        return MailboxProbe(mailbox=address, status="access_denied", error=error.message)
    return MailboxProbe(mailbox=address, status="error", error=error.message)


def connection_report(
    session: Session, manifest: Manifest, mailbox: str | None
) -> ConnectionReport:
    """Everything test_connection reports; raises when the connection is not usable."""
    config = session.config
    facts = _probe_facts(session, mailbox)
    auth_method = str(facts.get("auth_method") or _auth_method(session))
    roles = [str(r) for r in facts.get("roles") or []]
    known_roles = roles if auth_method in ROLE_BASED_AUTH else None
    actions = check_actions(manifest, config.backend, known_roles)
    probe = mailbox_probe(facts, mailbox)
    report = ConnectionReport(
        backend=config.backend,
        auth_method=auth_method,
        token_expires_at=facts.get("token_expires_at") or facts.get("expires_at"),
        roles=roles,
        endpoint=facts.get("endpoint")
        or (config.ews_endpoint if config.backend == "ews" else config.graph_base),
        ews_status=_ews_status(facts) if config.backend == "ews" else None,
        usable=False,
        mailbox_probe=probe,
        actions=actions,
    )
    usable_actions = [a for a in actions if a.allowed and a.required]
    report = report.model_copy(
        update={"usable": bool(usable_actions) and probe.status in ("ok", "skipped")}
    )
    _raise_when_unusable(report)
    return report


def _probe_facts(session: Session, mailbox: str | None) -> Mapping[str, Any]:
    """The backend's probe of ``mailbox``, flattened (``token`` facts lifted) and completed
    with the token's decoded facts when it lacks them."""
    facts: dict[str, Any] = dict(session.backend.probe(mailbox) or {})
    token = facts.get("token") or {}
    for key, token_key in (("auth_method", "auth_method"), ("token_expires_at", "expires_at")):
        if not facts.get(key) and token.get(token_key):
            facts[key] = token[token_key]
    if "roles" not in facts and "roles" in token:
        facts["roles"] = token["roles"]
    if "roles" not in facts and _auth_method(session) in ROLE_BASED_AUTH:
        resource = "ews" if session.config.backend == "ews" else "graph"
        info = session.tokens.token_info(resource)
        facts.setdefault("auth_method", info.auth_method)
        facts.setdefault("token_expires_at", info.expires_at)
        facts["roles"] = info.roles
    return facts


def _auth_method(session: Session) -> str:
    config = session.config
    if config.backend == "ews" and config.ews_auth in ("ntlm", "basic"):
        return config.ews_auth
    return "client_secret" if config.client_secret else "certificate"


def _ews_status(facts: Mapping[str, Any]) -> str:
    status = facts.get("ews_status")
    if status in ("reachable", "blocked", "unreachable"):
        return str(status)
    error = facts.get("error") or {}
    if facts.get("blocked") or error.get("code") == EwsBlockedError.code:
        return "blocked"
    return "reachable" if facts.get("reachable", True) else "unreachable"


def _raise_when_unusable(report: ConnectionReport) -> None:
    details = {"report": report.dump()}
    probe = report.mailbox_probe
    if report.ews_status == "blocked":
        raise EwsBlockedError("EWS is blocked for this app in Exchange Online.", details=details)
    if probe.status == "not_found":
        raise ConfigError(
            f"The mailbox {probe.mailbox} does not exist.",
            hint="Fix default_mailbox in the connection (a primary SMTP address).",
            details=details,
        )
    if probe.status == "error":
        raise ServiceUnavailableError(
            f"Probing {probe.mailbox} failed: {probe.error}", details=details
        )
    if probe.status == "access_denied":
        raise AccessDeniedError(
            f"The app may not open {probe.mailbox}: {probe.error}",
            hint=_grant_hint(report),
            details=details,
        )
    if not report.usable:
        raise AccessDeniedError(
            "The granted permissions allow none of the pack's actions.",
            hint=_grant_hint(report),
            details=details,
        )


def _grant_hint(report: ConnectionReport) -> str:
    missing = sorted({p for a in report.actions for p in a.missing})
    if not missing:
        return "Check the app's mailbox scope (RBAC for Applications / impersonation rights)."
    return f"Grant {', '.join(missing)} to the app and give admin consent."
