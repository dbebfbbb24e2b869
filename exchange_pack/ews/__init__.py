"""The EWS backend (``exchange_pack.backend.Backend``) on exchangelib: Exchange Server
on-premises, and Exchange Online tenants that allow-listed the app for EWS.

Only this package imports exchangelib; the Graph path never loads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from exchangelib.services import GetFolder

from ..backend import MailboxesDone, TenantSearch, from_mailbox
from ..errors import EwsBlockedError, ExchangePackError
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
from . import folders as folder_lookup
from .errors import checked_answers
from .mailbox import EwsMailbox
from .transport import EwsTransport

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["EwsBackend", "EwsMailbox", "EwsTransport"]


class EwsBackend:
    """The tenant over EWS: mailboxes, searchable mailboxes, fan-out search, probe."""

    name = "ews"

    def __init__(self, session: Session) -> None:
        self.session = session
        self.transport = EwsTransport(session)

    def mailbox(self, address: str) -> EwsMailbox:
        """The mailbox, impersonated (OAuth) or opened as delegate (NTLM/Basic)."""
        return EwsMailbox(self.transport, address)

    def searchable_mailboxes(self, limit: int | None = None) -> list[MailboxInfo]:
        """EWS GetSearchableMailboxes."""
        return directory.searchable_mailboxes(self.transport, limit)

    def search_many(
        self,
        addresses: Sequence[str],
        criteria: SearchCriteria,
        limit: int,
        progress: MailboxesDone | None = None,
    ) -> list[tuple[MailboxStatus, list[MessageSummary]]]:
        """The search in every mailbox, a few at a time, with a status per mailbox."""
        return fanout.search_many(self.transport, addresses, criteria, limit, progress)

    def delete_many(self, messages: Sequence[MessageRef], delete_type: DeleteType) -> list[Removal]:
        """EWS DeleteItem per mailbox, up to 100 ItemIds per call, a few mailboxes at once."""
        return bulk_delete.delete_many(self.transport, messages, delete_type)

    def search_all(
        self,
        criteria: SearchCriteria,
        limit: int,
        progress: MailboxesDone | None = None,
        start_at: str | None = None,
        enough: int | None = None,
    ) -> TenantSearch:
        """EWS GetSearchableMailboxes, then the search over them in that order (each address
        once), starting no further mailbox once the first ones hold ``enough`` messages."""
        seen: set[str] = set()
        addresses = []
        for box in self.searchable_mailboxes():
            key = box.address.strip().lower()
            if key and key not in seen:
                seen.add(key)
                addresses.append(box.address.strip())
        if start_at is not None:
            addresses = from_mailbox(addresses, start_at)
        return fanout.search_until(self.transport, addresses, criteria, limit, progress, enough)

    def probe(self, mailbox: str | None = None) -> dict[str, Any]:
        """Token facts (OAuth) and whether EWS answers: EWS GetFolder of ``mailbox``'s Inbox
        (default: the default mailbox; else the server-version probe)."""
        config = self.session.config
        mailbox = mailbox or config.default_mailbox
        facts: dict[str, Any] = {"endpoint": config.ews_endpoint, "mailbox": mailbox}
        if config.ews_auth == "oauth":
            facts["token"] = self.session.tokens.token_info("ews").model_dump(mode="json")
        else:
            facts["auth_method"] = config.ews_auth
        try:
            version = self.transport.version
            if mailbox:
                self._open_inbox(mailbox)
        except EwsBlockedError as error:
            facts.update(reachable=False, blocked=True, ews_status="blocked")
            facts.update(error=error.to_dict(), probe_error=error)
        except ExchangePackError as error:
            facts.update(reachable=False, blocked=False, error=error.to_dict(), probe_error=error)
            facts["ews_status"] = "unreachable" if error.exit_code in (69, 75) else "reachable"
        else:
            facts.update(
                reachable=True,
                blocked=False,
                ews_status="reachable",
                error=None,
                probe_error=None,
                server_version=str(version.build),
                api_version=version.api_version,
            )
        return facts

    def close(self) -> None:
        """Closes the EWS connections."""
        self.transport.close()

    def _open_inbox(self, address: str) -> None:
        account = self.transport.account(address)
        inbox = folder_lookup.distinguished(account, "inbox")

        def run() -> None:
            checked_answers(
                GetFolder(account=account).call(
                    folders=[inbox], additional_fields=[], shape="IdOnly"
                )
            )

        self.transport.call(run, mailbox=address)
