"""The Microsoft Graph face of the sandbox tenant: ``/v1.0`` (and the ``/beta`` routes the pack
uses) for mail, users, contacts, mailbox settings and ``$batch``, with application permissions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..web import Router
from . import (
    attachments,
    batch,
    contacts,
    delta,
    ediscovery,
    folders,
    mailbox_settings,
    message_actions,
    messages,
    rules,
    send,
    translate,
    upload_sessions,
    users,
)
from .pipeline import GraphRoutes

if TYPE_CHECKING:
    from ..tenant import Tenant


def build_router(tenant: Tenant) -> Router:
    """Every Graph route of the sandbox, each behind the authorisation/throttling pipeline."""
    routes = GraphRoutes(tenant)
    for module in (
        users,
        delta,
        messages,
        attachments,
        upload_sessions,
        message_actions,
        send,
        folders,
        rules,
        contacts,
        mailbox_settings,
        ediscovery,
        translate,
        batch,
    ):
        module.register(routes)
    return routes.router
