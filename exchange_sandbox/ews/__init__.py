"""The sandbox's Exchange Web Services face: SOAP 1.1 at ``/EWS/Exchange.asmx``.

Each operation group lives in its own module and registers itself in ``service.OPERATIONS``.
"""

from __future__ import annotations

from ..tenant import Tenant
from ..web import Request, Response, Router
from . import (  # noqa: F401
    attachments,
    availability,
    convert,
    discovery,
    folders,
    items,
    oof,
    people,
    send,
    sync,
    update,
)
from .endpoint import handle
from .ntlm import NtlmAcceptor

EWS_PATH = r"(?i)/ews/exchange\.asmx"


def build_router(tenant: Tenant) -> Router:
    """The EWS routes of ``tenant`` (Exchange Web Services SOAP endpoint)."""
    router = Router()
    ntlm = NtlmAcceptor(tenant)

    def ews(request: Request) -> Response:
        return handle(tenant, request, ntlm)

    router.add("POST", EWS_PATH, ews, name="ews")
    return router
