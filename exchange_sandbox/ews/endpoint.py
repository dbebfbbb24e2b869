"""``POST /EWS/Exchange.asmx``: the request pipeline of the EWS face."""

from __future__ import annotations

from lxml import etree

from ..tenant import Tenant, TokenError
from ..web import Request, Response
from . import auth, schema
from .errors import EwsFault
from .ntlm import NtlmAcceptor
from .service import OPERATIONS, EwsContext
from .soap import SOAP_NS, Envelope, build_envelope, build_fault, parse_envelope, schema_fault

_XML = "text/xml; charset=utf-8"
_BLOCKED_DIAGNOSTICS = (
    '2000010;reason="EWS is blocked for this application in Exchange Online. Use Microsoft '
    'Graph, or ask an administrator to allow the application for EWS.";'
    'error_category="insufficient_claims"'
)


def _fault_response(fault: EwsFault, envelope: Envelope | None = None) -> Response:
    return Response(500, {"Content-Type": _XML}, build_fault(fault, envelope))


def _denied_response(denied: auth.HttpDenied) -> Response:
    headers = {"x-ms-diagnostics": denied.diagnostics, "Content-Type": "text/html"}
    headers.update(denied.headers)
    return Response(denied.status, headers, b"")


def _throttled(retry_after_seconds: float) -> EwsFault:
    """Exchange Online's ErrorServerBusy fault; BackOffMilliseconds tells clients to wait."""
    return EwsFault(
        "ErrorServerBusy",
        message_xml=[("Value", "BackOffMilliseconds", str(int(retry_after_seconds * 1000)))],
    )


def handle(tenant: Tenant, request: Request, ntlm: NtlmAcceptor | None = None) -> Response:
    """Answers one EWS SOAP request like Exchange Online (or an on-premises server)."""
    if tenant.settings.ews_blocked:
        return _denied_response(auth.HttpDenied(403, _BLOCKED_DIAGNOSTICS))
    try:
        envelope: Envelope | EwsFault = parse_envelope(request.body)
    except EwsFault as fault:
        envelope = fault
    if isinstance(envelope, Envelope):
        request.operation = envelope.operation_name
    challenge = ntlm.step(request) if ntlm is not None else None
    if challenge is not None:
        return challenge
    try:
        claims = tenant.authenticate(request, "ews")
        auth.require_ews_permission(tenant, claims)
    except TokenError as exc:
        # Without a bearer token (none, Basic or NTLM), every scheme is offered again, as IIS does.
        scheme = (request.headers.get("Authorization") or "").strip().partition(" ")[0]
        offer_all = scheme.lower() != "bearer"
        return _denied_response(auth.token_rejected(exc.reason, offer_all=offer_all))
    except auth.HttpDenied as denied:
        return _denied_response(denied)
    if isinstance(envelope, EwsFault):
        return _fault_response(envelope)
    try:
        if tenant.settings.schema_dir:
            schema.validate_request(schema.load_schema(tenant.settings.schema_dir), envelope)
        mailbox = auth.acting_mailbox(tenant, request, envelope, claims)
    except EwsFault as fault:
        return _fault_response(fault, envelope)
    if mailbox is not None:
        request.mailbox = mailbox.address
    throttled = tenant.throttle(request, "ews", mailbox)
    if throttled is not None:
        return _fault_response(_throttled(throttled.retry_after_seconds))
    try:
        return _dispatch(EwsContext(tenant, request, envelope, claims, mailbox))
    except EwsFault as fault:
        return _fault_response(fault, envelope)
    finally:
        tenant.release(request)


def _unknown_operation(context: EwsContext) -> EwsFault:
    """Exchange validates a request against its schema before dispatching it, so an operation it
    does not know is ErrorSchemaValidation, which no client mistakes for a version mismatch (as
    exchangelib does with ErrorInvalidRequest and ErrorInvalidServerVersion)."""
    element = context.envelope.operation
    name = etree.QName(element)
    line = element.sourceline or 1
    lines = context.request.body.decode("utf-8", "replace").splitlines() or [""]
    text = lines[line - 1] if line <= len(lines) else ""
    position = text.find(name.localname) if name.localname in text else 0
    return schema_fault(
        line,
        position,
        f"The element 'Body' in namespace '{SOAP_NS}' has invalid child element "
        f"'{name.localname}' in namespace '{name.namespace}'.",
    )


def _dispatch(context: EwsContext) -> Response:
    envelope = context.envelope
    registered = OPERATIONS.get(envelope.operation_name)
    if registered is None:
        raise _unknown_operation(context)
    handler, since = registered
    if envelope.requested_version and not envelope.version_at_least(since):
        raise EwsFault("ErrorInvalidServerVersion")
    payload = handler(context, envelope.operation)
    body = build_envelope(payload, envelope.requested_version)
    return Response(200, {"Content-Type": _XML}, body)
