"""search_and_delete_emails on the ``ediscovery`` engine: one estimate or delete run over
Purview (see ``ediscovery``), shaped into the action's output like the fan-out's."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING

from ..config import ConnectionConfig
from ..errors import UnsupportedError
from ..models import DeleteType, Model, SearchCriteria
from . import approval, audit
from .cursor import ALL, encode_cursor
from .ediscovery import Purview, check_delete_type, round_records
from .models import Mode, SearchAndDeleteResult, Totals

if TYPE_CHECKING:
    from ..runtime import ActionContext

__all__ = ["Job", "check_delete_type", "run"]


class Job(Model):
    """What the action asks of the engine."""

    mode: Mode
    delete_type: DeleteType
    dry_run: bool
    everything: bool
    mailboxes: list[str]  # the listed scope (empty: every mailbox of the tenant)
    token: str | None
    estimated: int | None
    reason: str


def _notes(job: Job) -> list[str]:
    notes = [
        f"engine ediscovery ({job.reason}): Microsoft Purview searched and counted; it reports "
        "totals, not per-mailbox counts or messages, so mailboxes and sample are empty.",
    ]
    if job.mode == "estimate" and job.delete_type == "move_to_deleted_items":
        notes.append("A delete run on this engine needs delete_type soft or hard.")
    return notes


def run(
    job: Job,
    config: ConnectionConfig,
    ctx: ActionContext,
    criteria: SearchCriteria,
    scope: str,
) -> SearchAndDeleteResult:
    """Estimate (approval_token) or purge through Purview."""
    backend = ctx.session.backend
    client = getattr(backend, "client", None)
    if client is None:
        raise UnsupportedError("engine ediscovery needs backend graph.")
    purview = Purview(client, ctx)
    run_id = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    report = purview.open(
        f"exchange-pack {run_id}", criteria, None if not job.mailboxes else job.mailboxes
    )
    searched = len(job.mailboxes)
    common = {
        "engine": "ediscovery",
        "all_mailboxes": job.everything,
        "mailboxes": [],
        "sample": [],
        "ediscovery": report,
        "notes": _notes(job),
    }
    if job.mode == "estimate" or job.dry_run:
        operation = purview.estimate(report)
        totals = Totals(
            mailboxes_searched=searched,
            mailboxes_with_matches=operation.mailbox_count,
            failed_mailboxes=0,
            matched=operation.indexed_item_count,
        )
        issued, expires = (None, None)
        if job.mode == "estimate":
            issued, expires = approval.issue(config, criteria, scope, totals.matched)
        return SearchAndDeleteResult(
            mode=job.mode,
            delete_type=job.delete_type if job.mode == "delete" else None,
            totals=totals,
            approval_token=issued,
            approval_expires_at=expires,
            **common,
        )

    check_delete_type(job.delete_type)
    assert job.token is not None
    token_id = approval.token_id(job.token)
    path = audit.audit_path(ctx.output_dir, token_id)
    previously = sum(audit.previously_deleted(path).values())
    removed, remains = purview.purge(report, job.delete_type)
    where = ALL if not job.mailboxes else ",".join(job.mailboxes)
    audit_file = audit.append(
        path,
        round_records(report, run=run_id, delete_type=job.delete_type, scope=where),
    )
    totals = Totals(
        mailboxes_searched=searched,
        mailboxes_with_matches=report.mailboxes_with_hits,
        failed_mailboxes=0,
        matched=removed + report.indexed_items,
        deleted=removed,
        already_deleted=previously,
    )
    cursor = None
    if remains:
        cursor = encode_cursor(token_id, job.mailboxes or [ALL], lambda: job.mailboxes)
    return SearchAndDeleteResult(
        mode="delete",
        delete_type=job.delete_type,
        totals=totals,
        estimated_at_approval=job.estimated,
        audit_file=audit_file,
        truncated=remains,
        next_cursor=cursor,
        **common,
    )
