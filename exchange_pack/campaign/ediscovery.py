"""The ``ediscovery`` engine: the campaign searched and purged by Microsoft Purview eDiscovery
(Graph ``/security/cases/ediscoveryCases``), so the work at tenant scale runs on Microsoft's
own distributed search instead of on the SOAR worker.

The criteria become a KQL ``contentQuery`` (``from:``, ``recipients:``, ``subject:``,
``attachmentnames:``, ``hasattachment:``, ``received`` dates to the day, the free ``query``
and ``body`` as keywords). A delete run estimates again (new arrivals count), then repeats
``purgeData`` - at most 100 items per mailbox per call - and re-estimates until nothing is
left, the estimate stops falling, or ``MAX_PURGE_ROUNDS`` is reached (then ``next_cursor``).
Purview reports totals, not per-mailbox counts, and purges ``soft`` (recoverable) or ``hard``
(permanentlyDelete) only.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ..errors import AccessDeniedError, UnsupportedError
from ..graph import ediscovery as purview
from ..graph.transport import GraphClient
from ..models import SearchCriteria
from ..search_filters import aware
from .audit import AuditRecord, now_text
from .models import EDiscoveryReport, PurgeRound

if TYPE_CHECKING:
    from ..runtime import ActionContext

MAX_PURGE_ROUNDS = 20  # 2,000 copies in one mailbox per run; more continue via next_cursor
PURGE_TYPES = {"soft": "recoverable", "hard": "permanentlyDelete"}
NOT_IN_KQL = ("internet_message_id", "is_read", "folder")
PERMISSION_HINT = (
    "Grant the Microsoft Graph application permission eDiscovery.ReadWrite.All and admin "
    "consent, or use engine fanout."
)


def _value(text: str) -> str:
    cleaned = text.replace('"', " ").strip()
    return f'"{cleaned}"' if any(c in cleaned for c in " :()") else cleaned


def content_query(criteria: SearchCriteria) -> str:
    """The KQL contentQuery for the criteria (UnsupportedError for filters KQL lacks here)."""
    missing = [name for name in NOT_IN_KQL if getattr(criteria, name) not in (None, "")]
    if missing:
        raise UnsupportedError(
            f"engine ediscovery cannot filter on {', '.join(missing)} (no eDiscovery KQL "
            "property for it).",
            hint="Use engine fanout for these filters.",
        )
    terms = ["kind:email"]
    if criteria.query:
        terms.append(f"({criteria.query})")
    if criteria.body:
        terms.append(_value(criteria.body))
    if criteria.sender:
        terms.append(f"from:{_value(criteria.sender.lstrip('@'))}")
    if criteria.recipient:
        terms.append(f"recipients:{_value(criteria.recipient.lstrip('@'))}")
    if criteria.subject:
        terms.append(f"subject:{_value(criteria.subject)}")
    if criteria.attachment_name:
        terms.append(f"attachmentnames:{_value(criteria.attachment_name)}")
    if criteria.has_attachments is not None:
        terms.append(f"hasattachment:{str(criteria.has_attachments).lower()}")
    if criteria.received_after:
        terms.append(f"received>={aware(criteria.received_after).date().isoformat()}")
    if criteria.received_before:
        before = aware(criteria.received_before)
        day = before.date() + (
            dt.timedelta(days=1) if before.time() != dt.time() else dt.timedelta()
        )
        terms.append(f"received<{day.isoformat()}")
    return " AND ".join(terms)


class Purview:
    """One run's case and search, and the estimate/purge loop over them."""

    def __init__(self, client: GraphClient, ctx: ActionContext) -> None:
        self.client = client
        self.ctx = ctx

    def _guarded(self, work: Any) -> Any:
        try:
            return work()
        except AccessDeniedError as error:
            raise AccessDeniedError(error.message, hint=PERMISSION_HINT) from None

    def open(
        self, name: str, criteria: SearchCriteria, mailboxes: list[str] | None
    ) -> EDiscoveryReport:
        """The case (found or created) and a new search for the criteria and scope."""
        query = content_query(criteria)

        def run() -> EDiscoveryReport:
            case = purview.case_id(self.client)
            search = purview.create_search(self.client, case, name, query, mailboxes)
            return EDiscoveryReport(case_id=case, search_id=search)

        return self._guarded(run)

    def estimate(self, report: EDiscoveryReport) -> purview.Operation:
        """``estimateStatistics`` to completion; the figures go into ``report``."""
        operation = self._guarded(
            lambda: purview.estimate(
                self.client,
                report.case_id,
                report.search_id,
                progress=lambda p: self.ctx.progress(p, 100, "eDiscovery estimate"),
            )
        )
        report.estimate_operation_id = operation.id
        report.indexed_items = operation.indexed_item_count
        report.unindexed_items = operation.unindexed_item_count
        report.mailboxes_with_hits = operation.mailbox_count
        return operation

    def purge(self, report: EDiscoveryReport, delete_type: str) -> tuple[int, bool]:
        """purgeData rounds until nothing is left: (items removed, whether some remain)."""
        purge_type = PURGE_TYPES[delete_type]
        first = self.estimate(report)
        remaining = start = first.indexed_item_count
        for number in range(1, MAX_PURGE_ROUNDS + 1):
            if remaining == 0:
                break
            operation = self._guarded(
                lambda: purview.purge(self.client, report.case_id, report.search_id, purge_type)
            )
            before = remaining
            remaining = self.estimate(report).indexed_item_count
            report.purge_rounds.append(
                PurgeRound(
                    round=number,
                    operation_id=operation.id,
                    status=operation.status,
                    removed=max(0, before - remaining),
                    remaining=remaining,
                )
            )
            if remaining >= before:  # nothing more leaves (e.g. held or unpurgeable items)
                break
        report.mailboxes_with_hits = first.mailbox_count  # where the campaign was
        return start - remaining, remaining > 0


def check_delete_type(delete_type: str) -> None:
    """purgeData deletes soft or hard; Deleted Items is the fan-out's."""
    if delete_type not in PURGE_TYPES:
        raise UnsupportedError(
            "engine ediscovery purges soft (recoverable) or hard (permanentlyDelete); "
            f"delete_type {delete_type} needs engine fanout.",
            hint="Use delete_type soft or hard with engine ediscovery, or engine fanout.",
        )


def round_records(
    report: EDiscoveryReport, *, run: str, delete_type: str, scope: str
) -> list[AuditRecord]:
    """Audit lines for a purge: one per round (Purview does not list the purged items)."""
    return [
        AuditRecord(
            at=now_text(),
            run=run,
            engine="ediscovery",
            delete_type=delete_type,
            mailbox=scope,
            message_id=None,
            internet_message_id=None,
            subject=None,
            sender=None,
            received=None,
            outcome="purged",
            items=purge_round.removed,
            error=None,
        )
        for purge_round in report.purge_rounds
    ]
