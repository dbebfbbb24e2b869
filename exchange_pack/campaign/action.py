"""search_and_delete_emails: inputs checked, the engine chosen, estimate or delete, the output.

``estimate`` (default) counts per mailbox, samples the matches and issues the
``approval_token``; ``delete`` requires that token, searches again (so new arrivals that match
go too), removes, appends the audit file and names in ``next_cursor`` the mailboxes a rerun
should take up (failed, throttled, or with more matches than ``limit``).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..actions.search import criteria_from, error_of
from ..actions.targets import search_scope, unique
from ..config import ConnectionConfig
from ..envelope import ActionResult
from ..errors import InputError
from ..models import SearchCriteria
from . import approval, audit, engine, fanout, purview_run
from .cursor import ALL, decode_cursor, encode_cursor, taken_up
from .models import MailboxCount, SearchAndDeleteResult, Totals

if TYPE_CHECKING:
    from ..runtime import ActionContext

NARROWING = (
    "query",
    "sender",
    "recipient",
    "subject",
    "body",
    "internet_message_id",
    "attachment_name",
)


def checked_criteria(params: Mapping[str, Any]) -> SearchCriteria:
    """The filters, refusing a search that would match everything (or only by flags/dates)."""
    criteria = criteria_from(params)
    if not any(getattr(criteria, name) for name in NARROWING):
        raise InputError(
            "search_and_delete_emails needs at least one narrowing filter: "
            + ", ".join(NARROWING)
            + " (flags, dates and folder alone would remove whole mailboxes).",
            hint="Give the campaign's sender, subject or internet_message_id.",
        )
    return criteria


def scope_of(params: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """``all_mailboxes`` or the listed ``mailboxes`` (one is required; never a default)."""
    everything = bool(params.get("all_mailboxes"))
    listed = unique(str(m).strip() for m in params.get("mailboxes") or [])
    if everything and listed:
        raise InputError("Give mailboxes or all_mailboxes, not both.")
    if not everything and not listed:
        raise InputError(
            "mailboxes is required (or all_mailboxes true): the scope of the removal.",
            hint="List the mailboxes, or set all_mailboxes true for every searchable mailbox.",
        )
    return everything, listed


def run(params: dict[str, Any], config: ConnectionConfig, ctx: ActionContext) -> ActionResult:
    """Estimates or deletes the campaign; see the module docstring."""
    criteria = checked_criteria(params)
    everything, listed = scope_of(params)
    scope = approval.scope_digest(everything, listed)
    mode, delete_type, limit = params["mode"], params["delete_type"], params["limit"]
    token = params.get("approval_token")
    cursor = params.get("cursor")
    if mode == "estimate" and cursor:
        raise InputError("cursor belongs to mode delete (it resumes a removal).")
    if mode == "delete":
        if not token:
            raise InputError(
                "approval_token is required with mode delete.",
                hint="Run mode estimate first and pass its approval_token once approved.",
            )
        approved = approval.verify(config, token, criteria, scope)
    backend = ctx.session.backend
    requested = params["engine"]
    if requested == "ediscovery":
        engine.choose(requested, backend, ctx, everything=everything, mailboxes=0)
        if mode == "delete":
            purview_run.check_delete_type(delete_type)

    @functools.cache
    def approved_scope() -> list[str]:
        """The approved mailboxes in order (a cursor's ``rest_from`` is a place in them)."""
        return listed or search_scope({"all_mailboxes": True}, config, backend)

    if cursor and token:
        resume = decode_cursor(cursor, approval.token_id(token))
        addresses = taken_up(resume, approved_scope)
    elif listed:
        addresses = listed
    elif requested == "ediscovery":
        addresses = [ALL]  # Purview searches the whole tenant itself: no listing needed
    else:
        addresses = search_scope({"all_mailboxes": True}, config, backend)
    if addresses == [ALL]:
        chosen = engine.Choice("ediscovery", "resuming an eDiscovery purge")
    else:
        chosen = engine.choose(
            requested,
            backend,
            ctx,
            everything=everything,
            mailboxes=len(addresses),
            delete_type=delete_type,
        )
    if chosen.name == "ediscovery":
        job = purview_run.Job(
            mode=mode,
            delete_type=delete_type,
            dry_run=params["dry_run"],
            everything=everything,
            mailboxes=[] if addresses == [ALL] else addresses,
            token=token,
            estimated=approved.estimated if mode == "delete" else None,
            reason=chosen.reason,
        )
        result = purview_run.run(job, config, ctx, criteria, scope)
        return (
            delete_result(result, ctx) if result.mode == "delete" else estimate_result(result, ctx)
        )

    found = fanout.find(backend, addresses, criteria, limit, ctx.progress)
    if found and all(f.status.status != "ok" for f in found):
        # Nothing was searched: the reason is the run's error (and its exit code).
        raise found[0].error or error_of(found[0].status)
    sample = [m for f in found for m in f.messages][: params["sample_size"]]
    result_args: dict[str, Any] = {
        "mode": mode,
        "engine": "fanout",
        "all_mailboxes": everything,
        "sample": sample,
    }
    if mode == "estimate" or params["dry_run"]:
        counts = [fanout.count_of(f) for f in found]
        matched = sum(c.matched for c in counts)
        issued, expires = (
            (None, None) if mode == "delete" else approval.issue(config, criteria, scope, matched)
        )
        result = SearchAndDeleteResult(
            delete_type=delete_type if mode == "delete" else None,
            totals=totals(counts),
            mailboxes=shown(counts),
            approval_token=issued,
            approval_expires_at=expires,
            truncated=any(c.more for c in counts),
            notes=["dry_run: nothing was removed."] if mode == "delete" else [],
            **result_args,
        )
        return estimate_result(result, ctx)

    token_id = approval.token_id(token)
    path = audit.audit_path(ctx.output_dir, token_id)
    run_id = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    deletion = fanout.delete(
        backend,
        found,
        delete_type,
        run=run_id,
        previously=audit.previously_deleted(path),
        progress=ctx.progress,
    )
    audit_file = audit.append(path, deletion.records)
    result = SearchAndDeleteResult(
        delete_type=delete_type,
        totals=totals(deletion.counts),
        mailboxes=shown(deletion.counts),
        estimated_at_approval=approved.estimated,
        audit_file=audit_file,
        truncated=bool(deletion.resume),
        next_cursor=encode_cursor(token_id, deletion.resume, approved_scope)
        if deletion.resume
        else None,
        **result_args,
    )
    return delete_result(result, ctx)


def totals(counts: list[MailboxCount]) -> Totals:
    """The sums over every searched mailbox."""
    return Totals(
        mailboxes_searched=len(counts),
        mailboxes_with_matches=sum(1 for c in counts if c.matched),
        failed_mailboxes=sum(1 for c in counts if c.status != "ok"),
        matched=sum(c.matched for c in counts),
        deleted=sum(c.deleted for c in counts),
        failed=sum(c.failed for c in counts),
        not_found=sum(c.not_found for c in counts),
        already_deleted=sum(c.already_deleted for c in counts),
        in_deleted_items=sum(c.in_deleted_items for c in counts),
    )


def shown(counts: list[MailboxCount]) -> list[MailboxCount]:
    """The mailboxes worth a line: with matches, removals, earlier removals or a failure."""
    return [
        c
        for c in counts
        if c.matched or c.status != "ok" or c.already_deleted or c.failed or c.deleted
    ]


def _warn_failures(result: SearchAndDeleteResult, ctx: ActionContext) -> None:
    failed = [c for c in result.mailboxes if c.status != "ok" or c.failed]
    if failed:
        named = ", ".join(f"{c.mailbox} ({c.error or c.status})" for c in failed[:5])
        ctx.warn(f"{len(failed)} mailboxes failed or kept messages: {named}.")


def _searched(result: SearchAndDeleteResult) -> str:
    """How many mailboxes were searched, in words (Purview does not say for the tenant)."""
    if result.engine == "ediscovery" and not result.totals.mailboxes_searched:
        return "all"
    return str(result.totals.mailboxes_searched)


def estimate_result(result: SearchAndDeleteResult, ctx: ActionContext) -> ActionResult:
    """The envelope parts of an estimate."""
    _warn_failures(result, ctx)
    t = result.totals
    more = " (at least: some mailboxes hold more than limit)" if result.truncated else ""
    return ActionResult(
        data=result,
        message=(
            f"Estimate: {t.matched} messages{more} in {t.mailboxes_with_matches} of "
            f"{_searched(result)} mailboxes ({result.engine}); approve approval_token to "
            "delete them."
        ),
        summary={
            "mode": "estimate",
            "engine": result.engine,
            "matched": t.matched,
            "mailboxes_with_matches": t.mailboxes_with_matches,
            "failed_mailboxes": t.failed_mailboxes,
        },
    )


def delete_result(result: SearchAndDeleteResult, ctx: ActionContext) -> ActionResult:
    """The envelope parts of a delete run."""
    _warn_failures(result, ctx)
    t = result.totals
    rest = "; rerun with next_cursor for the rest" if result.next_cursor else ""
    return ActionResult(
        data=result,
        message=(
            f"Deleted {t.deleted} messages ({result.delete_type}, {result.engine}) in "
            f"{t.mailboxes_with_matches} mailboxes; {t.not_found} already gone, {t.failed} "
            f"failed, {t.already_deleted} removed by earlier runs{rest}."
        ),
        summary={
            "mode": "delete",
            "engine": result.engine,
            "deleted": t.deleted,
            "failed": t.failed,
            "not_found": t.not_found,
            "already_deleted": t.already_deleted,
        },
    )
