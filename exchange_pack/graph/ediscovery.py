"""Microsoft Purview eDiscovery through Graph v1.0's security API (``eDiscovery.ReadWrite.All``).

A case for the pack (found by name or created), a search with a KQL ``contentQuery`` and its
data sources (all tenant mailboxes, or the listed ones as ``additionalSources`` through
``$batch``), and the asynchronous operations: ``estimateStatistics`` and ``purgeData`` answer
202 with the operation's URL in ``Location``, polled until it leaves notStarted/running.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import InternalError, TransientError
from ..models import Model
from .odata import literal
from .transport import BatchRequest, GraphClient, graph_path, with_query

CASES = "/security/cases/ediscoveryCases"
CASE_NAME = "Exchange Pack - phishing campaign removal"
RUNNING = ("notStarted", "running")
FIRST_POLL_SECONDS = 0.2
MAX_POLL_SECONDS = 15.0
MAX_WAIT_SECONDS = 3600.0  # an estimate over a large tenant takes minutes, a purge longer


class Operation(Model):
    """A caseOperation as polled: estimate figures are filled for estimateStatistics."""

    id: str
    action: str
    status: str
    percent_progress: int = 0
    indexed_item_count: int = 0
    unindexed_item_count: int = 0
    mailbox_count: int = 0


def case_id(client: GraphClient) -> str:
    """The pack's case: ``GET ediscoveryCases?$filter=displayName eq`` or ``POST`` a new one."""
    path = with_query(CASES, {"$filter": f"displayName eq {literal(CASE_NAME)}"})
    found = client.get_json(path).get("value") or []
    if found:
        return str(found[0]["id"])
    created = client.post_json(
        CASES,
        {"displayName": CASE_NAME, "description": "Searches and purges run by exchange-pack."},
    )
    return str(created["id"])


def create_search(
    client: GraphClient, case: str, name: str, content_query: str, mailboxes: Sequence[str] | None
) -> str:
    """``POST searches`` (all tenant mailboxes when ``mailboxes`` is None, else each listed
    mailbox as a userSource in ``additionalSources``, 20 per ``$batch``)."""
    body = {
        "displayName": name,
        "description": "exchange-pack search_and_delete_emails",
        "contentQuery": content_query,
        "dataSourceScopes": "allTenantMailboxes" if mailboxes is None else "none",
    }
    search = str(client.post_json(graph_path(CASES + "/{}/searches", case), body)["id"])
    if mailboxes:
        sources = graph_path(CASES + "/{}/searches/{}/additionalSources", case, search)
        requests = [
            BatchRequest(
                id=str(i),
                method="POST",
                url=sources,
                body={
                    "@odata.type": "microsoft.graph.security.userSource",
                    "email": address,
                    "includedSources": "mailbox",
                },
            )
            for i, address in enumerate(mailboxes)
        ]
        answers = client.batch(requests, concurrency=4)
        for request in requests:
            if not answers[request.id].ok:
                raise answers[request.id].error(request)
    return search


def start(client: GraphClient, case: str, search: str, action: str, body: Any = None) -> str:
    """``POST searches/{id}/estimateStatistics|purgeData``: the operation's root-relative URL."""
    path = graph_path(CASES + "/{}/searches/{}/" + action, case, search)
    response = client.request("POST", path, json=body if body is not None else {})
    location = response.headers.get("Location")
    response.close()
    if not location:
        raise InternalError(f"eDiscovery {action} answered without an operation Location.")
    return client.relative(location)


def wait(
    client: GraphClient,
    operation_path: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    max_wait_seconds: float = MAX_WAIT_SECONDS,
    progress: Callable[[int], None] | None = None,
) -> Operation:
    """Polls the operation until it is done (TransientError when it outlasts the wait)."""
    pause, waited = FIRST_POLL_SECONDS, 0.0
    while True:
        body = client.get_json(operation_path)
        operation = Operation(
            id=str(body.get("id")),
            action=str(body.get("action")),
            status=str(body.get("status")),
            percent_progress=int(body.get("percentProgress") or 0),
            indexed_item_count=int(body.get("indexedItemCount") or 0),
            unindexed_item_count=int(body.get("unindexedItemCount") or 0),
            mailbox_count=int(body.get("mailboxCount") or 0),
        )
        if progress:
            progress(operation.percent_progress)
        if operation.status not in RUNNING:
            if operation.status in ("failed", "submissionFailed"):
                raise TransientError(
                    f"The eDiscovery {operation.action} operation {operation.id} failed.",
                    hint="Run the action again; Purview may retry the operation.",
                )
            return operation
        if waited >= max_wait_seconds:
            raise TransientError(
                f"The eDiscovery {operation.action} operation {operation.id} is still "
                f"{operation.status} after {int(waited)} s.",
                hint="Run the action again later: it continues from where Purview is.",
            )
        sleep(pause)
        waited += pause
        pause = min(pause * 1.5, MAX_POLL_SECONDS)


def estimate(client: GraphClient, case: str, search: str, **options: Any) -> Operation:
    """``estimateStatistics`` run to completion."""
    return wait(client, start(client, case, search, "estimateStatistics"), **options)


def purge(
    client: GraphClient, case: str, search: str, purge_type: str, **options: Any
) -> Operation:
    """``purgeData`` (``recoverable`` or ``permanentlyDelete``, mailboxes) run to completion."""
    body = {"purgeType": purge_type, "purgeAreas": "mailboxes"}
    return wait(client, start(client, case, search, "purgeData", body), **options)
