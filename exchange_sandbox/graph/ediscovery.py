"""Graph ``/security/cases/ediscoveryCases``: Microsoft Purview eDiscovery (v1.0), as the pack's
ediscovery engine uses it: cases, searches with a KQL ``contentQuery`` and data sources,
``estimateStatistics`` and ``purgeData`` (202 + ``Location`` of a caseOperation to poll), the
operations and ``lastEstimateStatisticsOperation``. The model is ``exchange_sandbox/ediscovery``.
"""

from __future__ import annotations

import re
from typing import Any

from ..ediscovery import EDiscovery, EDiscoveryError
from ..web import Response
from . import errors, responses
from .pipeline import GraphCall, GraphRoutes

READ = ("eDiscovery.Read.All", "eDiscovery.ReadWrite.All")
WRITE = ("eDiscovery.ReadWrite.All",)
CASES = "/security/cases/ediscoveryCases"
NS = "#microsoft.graph.security."
_DISPLAY_NAME_EQ = re.compile(r"^\s*displayName\s+eq\s+'((?:[^']|'')*)'\s*$")


def _service(call: GraphCall) -> EDiscovery:
    return EDiscovery(call.tenant)


def _creator(call: GraphCall) -> dict[str, Any]:
    app_id = call.claims.get("appid") or call.claims.get("azp")
    app = call.tenant.store.app(str(app_id)) if app_id else None
    return {
        "user": None,
        "application": {"id": app_id, "displayName": app.display_name if app else None},
    }


def _run(call: GraphCall, work: Any) -> Response:
    try:
        return work()
    except EDiscoveryError as exc:
        raise errors.GraphError(exc.status, exc.code, exc.message) from None


def _case(case: dict[str, Any]) -> dict[str, Any]:
    return {"@odata.type": f"{NS}ediscoveryCase", **case}


def _search(search: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in search.items() if k not in ("caseId", "lastEstimateId")}
    return {"@odata.type": f"{NS}ediscoverySearch", **shown}


def _operation(service: EDiscovery, operation: dict[str, Any]) -> dict[str, Any]:
    status, percent, completed = service.progress(operation)
    body: dict[str, Any] = {
        "id": operation["id"],
        "createdDateTime": operation["createdDateTime"],
        "completedDateTime": completed,
        "percentProgress": percent,
        "status": status,
        "action": operation["action"],
        "createdBy": operation["createdBy"],
        "resultInfo": None,
    }
    if operation["action"] == "estimateStatistics":
        body["@odata.type"] = f"{NS}ediscoveryEstimateOperation"
        for key in (
            "indexedItemCount",
            "indexedItemsSize",
            "unindexedItemCount",
            "unindexedItemsSize",
            "mailboxCount",
            "siteCount",
        ):
            body[key] = operation[key] if status == "succeeded" else 0
    else:
        body["@odata.type"] = f"{NS}ediscoveryPurgeDataOperation"
        body["reportFileMetadata"] = []
    return body


def _accepted(call: GraphCall, operation: dict[str, Any]) -> Response:
    location = f"{call.base}{CASES}('{operation['caseId']}')/operations('{operation['id']}')"
    return Response.empty(202, {"Location": location})


def list_cases(call: GraphCall) -> Response:
    """GET /security/cases/ediscoveryCases (``$filter=displayName eq '...'``)."""
    found = _service(call).cases()
    raw = call.request.query.get("$filter")
    if raw:
        match = _DISPLAY_NAME_EQ.match(raw)
        if match is None:
            raise errors.bad_request("Only displayName eq '...' filters cases in the sandbox.")
        wanted = match.group(1).replace("''", "'")
        found = [c for c in found if c["displayName"] == wanted]
    body = {
        "@odata.context": call.context("security/cases/ediscoveryCases"),
        "value": [_case(c) for c in found],
    }
    return Response.json(200, body)


def create_case(call: GraphCall) -> Response:
    """POST /security/cases/ediscoveryCases: 201 and the case."""
    data = call.json_body()
    name = data.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise errors.bad_request("displayName is required.")
    return _run(
        call,
        lambda: responses.entity(
            call,
            _case(
                _service(call).create_case(name, str(data.get("description") or ""), _creator(call))
            ),
            "security/cases/ediscoveryCases",
            status=201,
        ),
    )


def get_case(call: GraphCall) -> Response:
    """GET /security/cases/ediscoveryCases/{id}."""
    return _run(
        call,
        lambda: responses.entity(
            call,
            _case(_service(call).case(call.params["case"])),
            "security/cases/ediscoveryCases",
        ),
    )


def create_search(call: GraphCall) -> Response:
    """POST .../{caseId}/searches: 201 and the search."""
    data = call.json_body()
    return _run(
        call,
        lambda: responses.entity(
            call,
            _search(_service(call).create_search(call.params["case"], data, _creator(call))),
            f"security/cases/ediscoveryCases('{call.params['case']}')/searches",
            status=201,
        ),
    )


def get_search(call: GraphCall) -> Response:
    """GET .../{caseId}/searches/{searchId}."""
    return _run(
        call,
        lambda: responses.entity(
            call,
            _search(_service(call).search(call.params["case"], call.params["search"])),
            f"security/cases/ediscoveryCases('{call.params['case']}')/searches",
        ),
    )


def add_source(call: GraphCall) -> Response:
    """POST .../searches/{searchId}/additionalSources: 201 and the userSource."""
    data = call.json_body()
    case, search = call.params["case"], call.params["search"]
    return _run(
        call,
        lambda: responses.entity(
            call,
            {
                "@odata.type": f"{NS}userSource",
                **_service(call).add_source(case, search, data),
            },
            f"security/cases/ediscoveryCases('{case}')/searches('{search}')/additionalSources"
            "/$entity",
            status=201,
        ),
    )


def estimate(call: GraphCall) -> Response:
    """POST .../searches/{searchId}/estimateStatistics: 202 + Location of the operation."""
    case, search = call.params["case"], call.params["search"]
    return _run(
        call, lambda: _accepted(call, _service(call).estimate(case, search, _creator(call)))
    )


def purge(call: GraphCall) -> Response:
    """POST .../searches/{searchId}/purgeData: 202 + Location of the operation."""
    data = call.json_body()
    case, search = call.params["case"], call.params["search"]
    return _run(
        call, lambda: _accepted(call, _service(call).purge(case, search, data, _creator(call)))
    )


def get_operation(call: GraphCall) -> Response:
    """GET .../{caseId}/operations/{operationId}: status, progress, results when done."""
    service = _service(call)
    case = call.params["case"]
    return _run(
        call,
        lambda: responses.entity(
            call,
            _operation(service, service.operation(case, call.params["operation"])),
            f"security/cases/ediscoveryCases('{case}')/operations",
        ),
    )


def last_estimate(call: GraphCall) -> Response:
    """GET .../searches/{searchId}/lastEstimateStatisticsOperation."""
    service = _service(call)
    case, search = call.params["case"], call.params["search"]
    return _run(
        call,
        lambda: responses.entity(
            call,
            _operation(service, service.last_estimate(case, search)),
            f"security/cases/ediscoveryCases('{case}')/searches('{search}')"
            "/lastEstimateStatisticsOperation",
        ),
    )


def register(routes: GraphRoutes) -> None:
    """Adds the eDiscovery routes (v1.0 and beta; no mailbox target: Outlook's per-mailbox
    limits do not apply)."""
    searches = CASES + "/{case}/searches"
    one = searches + "/{search}"
    for method, template, handler, roles in (
        ("GET", CASES, list_cases, READ),
        ("POST", CASES, create_case, WRITE),
        ("GET", CASES + "/{case}", get_case, READ),
        ("POST", searches, create_search, WRITE),
        ("GET", one, get_search, READ),
        ("POST", one + "/additionalSources", add_source, WRITE),
        ("POST", one + "/estimateStatistics", estimate, WRITE),
        ("POST", one + "/purgeData", purge, WRITE),
        ("GET", one + "/lastEstimateStatisticsOperation", last_estimate, READ),
        ("GET", CASES + "/{case}/operations/{operation}", get_operation, READ),
        # The Location header's form: ediscoveryCases('{id}')/operations('{id}').
        ("GET", CASES + "{casekey}/operations{operationkey}", get_operation, READ),
    ):
        routes.add(method, template, handler, roles, target="none")
