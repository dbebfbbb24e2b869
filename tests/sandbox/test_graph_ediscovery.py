"""Graph face: Microsoft Purview eDiscovery (``/security/cases/ediscoveryCases``) over the store —
cases, searches and their sources, estimateStatistics and purgeData as operations with
Microsoft's statuses, the 100-items-per-location purge limit, KQL, and permissions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graph_support import GraphClient, assert_graph_error, graph_token
from jsonschema import Draft202012Validator

from exchange_sandbox.process import Sandbox, start_sandbox
from exchange_sandbox.seeds import FULL_ROLES

CASES = "/security/cases/ediscoveryCases"
EDISCOVERY_ROLES = [*FULL_ROLES, "eDiscovery.ReadWrite.All"]
MAILBOXES, PER_MAILBOX = 2, 250


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


_TIME = {"type": ["string", "null"], "format": "date-time"}
_IDENTITY = {"type": ["object", "null"]}
# The documented properties of each resource (Graph v1.0 reference, microsoft.graph.security).
CASE = _object(
    ["id", "displayName", "status", "createdDateTime", "lastModifiedDateTime"],
    id={"type": "string"},
    displayName={"type": "string"},
    description={"type": ["string", "null"]},
    status={"enum": ["unknown", "active", "pendingDelete", "closing", "closed", "closedWithError"]},
    externalId={"type": ["string", "null"]},
    createdDateTime=_TIME,
    lastModifiedDateTime=_TIME,
    closedDateTime=_TIME,
    createdBy=_IDENTITY,
    lastModifiedBy=_IDENTITY,
    closedBy=_IDENTITY,
)
SEARCH = _object(
    ["id", "displayName", "contentQuery", "dataSourceScopes", "createdDateTime"],
    id={"type": "string"},
    displayName={"type": "string"},
    description={"type": ["string", "null"]},
    contentQuery={"type": "string"},
    dataSourceScopes={
        "enum": ["none", "allTenantMailboxes", "allTenantSites", "allCaseCustodians"]
    },
    createdDateTime=_TIME,
    lastModifiedDateTime=_TIME,
    createdBy=_IDENTITY,
    lastModifiedBy=_IDENTITY,
)
_OPERATION = {
    "id": {"type": "string"},
    "action": {"enum": ["estimateStatistics", "purgeData"]},
    "status": {
        "enum": [
            "notStarted",
            "submissionFailed",
            "running",
            "succeeded",
            "partiallySucceeded",
            "failed",
        ]
    },
    "percentProgress": {"type": "integer", "minimum": 0, "maximum": 100},
    "createdDateTime": _TIME,
    "completedDateTime": _TIME,
    "createdBy": _IDENTITY,
    "resultInfo": {"type": ["object", "null"]},
}
_COUNT = {"type": "integer", "minimum": 0}
ESTIMATE = _object(
    ["id", "action", "status", "percentProgress", "indexedItemCount", "mailboxCount"],
    **_OPERATION,
    indexedItemCount=_COUNT,
    indexedItemsSize=_COUNT,
    unindexedItemCount=_COUNT,
    unindexedItemsSize=_COUNT,
    mailboxCount=_COUNT,
    siteCount=_COUNT,
)
PURGE = _object(["id", "action", "status", "percentProgress"], **_OPERATION)


def valid(schema: dict[str, Any], body: dict[str, Any], odata_type: str) -> dict[str, Any]:
    Draft202012Validator(schema).validate(body)
    assert body["@odata.type"] == f"#microsoft.graph.security.{odata_type}"
    assert body["@odata.context"].startswith("https://")
    return body


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A bulk tenant: every mailbox holds PER_MAILBOX messages (more than one purge can take)."""
    with start_sandbox(
        tmp_path_factory.mktemp("ediscovery"), seed=f"bulk:{MAILBOXES}:{PER_MAILBOX}"
    ) as running:
        yield running


@pytest.fixture
def graph(tenant: Sandbox) -> Iterator[GraphClient]:
    tenant.reset()
    tenant.settings(ediscovery_time_scale=0)
    app = tenant.add_app(name="ediscovery", roles=EDISCOVERY_ROLES)
    yield GraphClient(tenant, graph_token(tenant, app))
    tenant.settings(ediscovery_time_scale=0.01)


def new_search(graph: GraphClient, query: str, **extra: Any) -> tuple[str, str]:
    case = valid(
        CASE,
        graph.ok("POST", CASES, 201, json={"displayName": f"case {time.time()}"}),
        "ediscoveryCase",
    )
    body = {"displayName": "campaign", "contentQuery": query, **extra}
    search = graph.ok("POST", f"{CASES}/{case['id']}/searches", 201, json=body)
    valid(SEARCH, search, "ediscoverySearch")
    assert search["contentQuery"] == query
    return case["id"], search["id"]


def run(graph: GraphClient, case: str, search: str, action: str, body: Any = None) -> dict:
    """Starts the operation (202 + Location) and polls it to the end."""
    response = graph.post(f"{CASES}/{case}/searches/{search}/{action}", json=body or {})
    assert response.status_code == 202, response.text
    assert response.content == b""
    location = response.headers["Location"]
    assert f"ediscoveryCases('{case}')/operations('" in location
    for _ in range(200):
        operation = graph.ok("GET", location)
        if operation["status"] not in ("notStarted", "running"):
            return operation
        time.sleep(0.05)
    raise AssertionError("the operation never finished")


def test_cases_are_created_found_by_name_and_refused_twice(graph: GraphClient) -> None:
    created = graph.ok("POST", CASES, 201, json={"displayName": "Phish 1", "description": "x"})
    valid(CASE, created, "ediscoveryCase")
    assert created["status"] == "active"
    assert created["createdBy"]["application"]["displayName"] == "ediscovery"
    found = graph.ok("GET", CASES, params={"$filter": "displayName eq 'Phish 1'"})["value"]
    assert [c["id"] for c in found] == [created["id"]]
    assert graph.ok("GET", CASES, params={"$filter": "displayName eq 'nope'"})["value"] == []
    assert_graph_error(graph.post(CASES, json={"displayName": "Phish 1"}), 400, "BadRequest")
    again = graph.ok("GET", f"{CASES}/{created['id']}")
    assert again["id"] == created["id"]
    assert_graph_error(graph.get(f"{CASES}/no-such-case"), 404, "NotFound")


def test_estimate_counts_the_campaign_over_all_tenant_mailboxes(graph: GraphClient) -> None:
    query = 'kind:email AND from:contoso-payments.com AND subject:"overdue invoice"'
    case, search = new_search(graph, query, dataSourceScopes="allTenantMailboxes")
    operation = valid(
        ESTIMATE, run(graph, case, search, "estimateStatistics"), "ediscoveryEstimateOperation"
    )
    assert operation["status"] == "succeeded" and operation["percentProgress"] == 100
    assert operation["action"] == "estimateStatistics"
    assert operation["indexedItemCount"] == MAILBOXES  # one campaign copy per mailbox
    assert operation["mailboxCount"] == MAILBOXES
    last = graph.ok("GET", f"{CASES}/{case}/searches/{search}/lastEstimateStatisticsOperation")
    assert last["id"] == operation["id"]


def test_additional_sources_narrow_the_search(graph: GraphClient) -> None:
    case, search = new_search(graph, "from:contoso-payments.com")
    source = graph.ok(
        "POST",
        f"{CASES}/{case}/searches/{search}/additionalSources",
        201,
        json={
            "@odata.type": "microsoft.graph.security.userSource",
            "email": "user00001@contoso.com",
            "includedSources": "mailbox",
        },
    )
    assert source["@odata.type"] == "#microsoft.graph.security.userSource"
    assert run(graph, case, search, "estimateStatistics")["indexedItemCount"] == 1
    missing = graph.post(
        f"{CASES}/{case}/searches/{search}/additionalSources",
        json={"@odata.type": "microsoft.graph.security.userSource", "email": "nobody@x.com"},
    )
    assert_graph_error(missing, 404, "NotFound")


def test_purge_takes_at_most_100_items_per_location(graph: GraphClient) -> None:
    case, search = new_search(graph, "kind:email", dataSourceScopes="allTenantMailboxes")
    total = MAILBOXES * PER_MAILBOX
    assert run(graph, case, search, "estimateStatistics")["indexedItemCount"] == total
    left = [total]
    while left[-1]:
        purge = run(
            graph,
            case,
            search,
            "purgeData",
            {"purgeType": "recoverable", "purgeAreas": "mailboxes"},
        )
        valid(PURGE, purge, "ediscoveryPurgeDataOperation")
        assert purge["status"] == "succeeded"
        left.append(run(graph, case, search, "estimateStatistics")["indexedItemCount"])
    assert left == [500, 300, 100, 0]
    # recoverable: the items sit in Recoverable Items\Deletions, out of every mail folder
    assert graph.messages("user00001@contoso.com", "?$top=100") == []


def test_permanently_delete_and_bad_purge_requests(graph: GraphClient) -> None:
    case, search = new_search(
        graph, "from:contoso-payments.com", dataSourceScopes="allTenantMailboxes"
    )
    bad_type = graph.post(
        f"{CASES}/{case}/searches/{search}/purgeData", json={"purgeType": "shred"}
    )
    assert_graph_error(bad_type, 400, "BadRequest")
    run(graph, case, search, "purgeData", {"purgeType": "permanentlyDelete"})
    assert run(graph, case, search, "estimateStatistics")["indexedItemCount"] == 0
    bad_query = graph.post(
        f"{CASES}/{case}/searches", json={"displayName": "x", "contentQuery": 'subject:"open'}
    )
    assert_graph_error(bad_query, 400, "BadRequest")


def test_operations_run_on_a_clock(tenant: Sandbox, graph: GraphClient) -> None:
    """An estimate is notStarted/running before it succeeds, its figures only then."""
    tenant.settings(ediscovery_time_scale=0.02)  # 60 s in Exchange Online -> 1.2 s here
    case, search = new_search(
        graph, "from:contoso-payments.com", dataSourceScopes="allTenantMailboxes"
    )
    response = graph.post(f"{CASES}/{case}/searches/{search}/estimateStatistics", json={})
    first = graph.ok("GET", response.headers["Location"])
    assert first["status"] in ("notStarted", "running")
    assert first["completedDateTime"] is None and first["indexedItemCount"] == 0
    done = run(graph, case, search, "estimateStatistics")
    assert done["status"] == "succeeded" and done["completedDateTime"]


def test_ediscovery_needs_its_permission(tenant: Sandbox, graph: GraphClient) -> None:
    plain = GraphClient(tenant, graph_token(tenant, "full"))
    assert_graph_error(plain.get(CASES), 403, "ErrorAccessDenied")
    assert_graph_error(plain.post(CASES, json={"displayName": "x"}), 403, "ErrorAccessDenied")
    reader = tenant.add_app(name="reader", roles=["eDiscovery.Read.All"])
    read_only = GraphClient(tenant, graph_token(tenant, reader))
    assert read_only.ok("GET", CASES)["value"] == []
    assert_graph_error(read_only.post(CASES, json={"displayName": "x"}), 403, "ErrorAccessDenied")


def test_reset_clears_the_cases(tenant: Sandbox, graph: GraphClient, tmp_path: Path) -> None:
    new_search(graph, "from:contoso-payments.com")
    assert graph.ok("GET", CASES)["value"]
    tenant.reset()
    app = tenant.add_app(name="ediscovery", roles=EDISCOVERY_ROLES)
    again = GraphClient(tenant, graph_token(tenant, app))
    assert again.ok("GET", CASES)["value"] == []
