"""The Microsoft Graph face of the sandbox tenant: ``/v1.0`` (and the ``/beta`` routes the pack
uses) for mail, users, contacts, mailbox settings and ``$batch``, with application permissions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..web import Router
from . import attachments, contacts, folders, messages, users
from .pipeline import GraphRoutes

if TYPE_CHECKING:
    from ..tenant import Tenant


def build_router(tenant: Tenant) -> Router:
    """Every Graph route of the sandbox, each behind the authorisation/throttling pipeline."""
    routes = GraphRoutes(tenant)
    for module in (users, messages, attachments, folders, contacts):
        module.register(routes)
    return routes.router
