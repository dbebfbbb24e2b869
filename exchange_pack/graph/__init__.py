"""The Microsoft Graph backend (``exchange_pack.backend.Backend``) for Exchange Online.

Never imports exchangelib: a Graph action process loads only requests, msal and pydantic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..backend import MailboxesDone, TenantSearch
from ..errors import ExchangePackError
from ..models import (
    DeleteType,
    MailboxInfo,
    MailboxStatus,
    MessageRef,
    MessageSummary,
    Removal,
    SearchCriteria,
)
from . import bulk_delete, directory, fanout
from .folders import FolderDirectory
from .mailbox import GraphMailbox
from .transport import GraphClient, graph_path, with_query

__all__ = ["GraphBackend", "GraphClient", "GraphMailbox"]


class GraphBackend:
    """The tenant over Microsoft Graph v1.0: mailboxes, directory, fan-out search, probe."""

    name = "graph"

    def __init__(self, session: Any, client: GraphClient | None = None) -> None:
        self.session = session
        self.client = client or GraphClient(session)
        self.folders = FolderDirectory(self.client)

    def mailbox(self, address: str) -> GraphMailbox:
        """The mailbox ``/users/{address}``."""
        return GraphMailbox(self.client, self.folders, address)

    def searchable_mailboxes(self, limit: int | None = None) -> list[MailboxInfo]:
        """``GET /users`` + ``mailboxSettings/userPurpose`` via ``$batch``."""
        return directory.searchable_mailboxes(self.client, limit)

    def search_many(
        self,
        addresses: Sequence[str],
        criteria: SearchCriteria,
        limit: int,
        progress: MailboxesDone | None = None,
    ) -> list[tuple[MailboxStatus, list[MessageSummary]]]:
        """The search in every mailbox through ``$batch``, per-mailbox status."""
        return fanout.search_many(self.client, self.folders, addresses, criteria, limit, progress)

    def delete_many(self, messages: Sequence[MessageRef], delete_type: DeleteType) -> list[Removal]:
        """Moves or ``permanentDelete`` through ``$batch``: 20 per call, 4 per mailbox."""
        return bulk_delete.delete_many(self.client, messages, delete_type)

    def search_all(
        self,
        criteria: SearchCriteria,
        limit: int,
        progress: MailboxesDone | None = None,
        start_at: str | None = None,
        enough: int | None = None,
    ) -> TenantSearch:
        """``GET /users`` pages fed into the ``$batch`` search as they arrive (no
        ``mailboxSettings`` read: a user without a mailbox answers its search with 404)."""
        return fanout.search_directory(
            self.client, self.folders, criteria, limit, progress, start_at, enough
        )

    def probe(self, mailbox: str | None = None) -> dict[str, Any]:
        """Token facts and ``GET /users/{mailbox}/mailFolders/inbox`` (or ``GET /users``)."""
        info = self.session.tokens.token_info("graph")
        mailbox = mailbox or self.session.config.default_mailbox
        result: dict[str, Any] = {"token": info.model_dump(mode="json"), "mailbox": mailbox}
        if mailbox:
            path = with_query(
                graph_path("/users/{}/mailFolders/inbox", mailbox),
                {"$select": "id,totalItemCount"},
            )
        else:
            path = with_query("/users", {"$select": "id", "$top": 1})
        try:
            self.client.get_json(path)
        except ExchangePackError as error:
            result.update(reachable=False, error=error.to_dict(), probe_error=error)
        else:
            result.update(reachable=True, error=None, probe_error=None)
        return result
