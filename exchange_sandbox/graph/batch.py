"""Graph JSON batching: ``POST /$batch`` with at most 20 requests, relative URLs, ``dependsOn``.

Each sub-request runs through the tenant's own pipeline (latency, faults, then the Graph
route with its authentication, permissions and throttling), authorised by the outer request's
bearer token and counted against the limits on its own, as Graph does.
"""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from email.message import Message as HeaderMap
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..web import Request, Response
from . import errors
from .pipeline import GraphCall, GraphRoutes

if TYPE_CHECKING:
    from ..tenant import Tenant

MAX_REQUESTS = 20
_FORWARDED = ("Authorization", "client-request-id", "Host")


def _invalid(message: str) -> errors.GraphError:
    return errors.bad_request(message, code="BadRequest")


def _validated(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The batch's request list, or 400 for the whole batch, as Graph answers."""
    items = data.get("requests")
    if not isinstance(items, list) or not items:
        raise _invalid("Invalid batch payload format: 'requests' must be a non-empty array.")
    if len(items) > MAX_REQUESTS:
        raise _invalid(
            f"The number of batch request steps ({len(items)}) exceeds the maximum of "
            f"{MAX_REQUESTS}."
        )
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not all(item.get(k) for k in ("id", "method", "url")):
            raise _invalid("Each batch request needs an id, a method and a url.")
        item_id = str(item["id"])
        if item_id in seen:
            raise _invalid(f"Batch request ids must be unique; '{item_id}' is repeated.")
        seen.add(item_id)
        headers = {k.lower(): v for k, v in (item.get("headers") or {}).items()}
        if "body" in item and item["body"] is not None and "content-type" not in headers:
            raise _invalid(f"Batch request '{item_id}' has a body but no Content-Type header.")
    for item in items:
        unknown = [d for d in item.get("dependsOn") or [] if str(d) not in seen]
        if unknown:
            raise _invalid(f"Batch request '{item['id']}' depends on unknown ids {unknown}.")
    return items


def _waves(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Groups of requests that may run together: each after everything it depends on."""
    done: set[str] = set()
    waves: list[list[dict[str, Any]]] = []
    pending = list(items)
    while pending:
        ready = [i for i in pending if all(str(d) in done for d in i.get("dependsOn") or [])]
        if not ready:
            raise _invalid("The dependsOn references of the batch form a cycle.")
        waves.append(ready)
        done.update(str(item["id"]) for item in ready)
        pending = [i for i in pending if i not in ready]
    return waves


def _sub_request(outer: Request, version: str, item: dict[str, Any]) -> Request:
    url = str(item["url"])
    if url.lower().startswith(("http://", "https://")):
        split = urlsplit(url)
        url = split.path.removeprefix(f"/{version}") + (f"?{split.query}" if split.query else "")
    url = "/" + url.lstrip("/")
    target = f"/{version}{url}"
    split = urlsplit(target)
    headers = HeaderMap()
    for name in _FORWARDED:
        if outer.headers.get(name):
            headers[name] = outer.headers[name]
    for name, value in (item.get("headers") or {}).items():
        del headers[name]
        headers[name] = str(value)
    body = item.get("body")
    if body is None:
        raw = b""
    elif isinstance(body, str):
        raw = body.encode("utf-8")
    else:
        raw = json.dumps(body).encode("utf-8")
    return Request(
        method=str(item["method"]).upper(),
        target=target,
        path=unquote(split.path),
        query={k: v for k, v in reversed(parse_qsl(split.query, keep_blank_values=True))},
        headers=headers,
        body=raw,
        client_address=outer.client_address,
    )


def _body_of(response: Response) -> Any:
    raw = (
        bytes(response.body)
        if isinstance(response.body, bytes | bytearray)
        else b"".join(response.body)
    )
    if not raw:
        return None
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith("application/json"):
        return json.loads(raw)
    return base64.b64encode(raw).decode("ascii")


def _failed_dependency(item_id: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "status": 424,
        "body": {
            "error": {
                "code": "FailedDependency",
                "message": "The request depends on a request of this batch that failed.",
            }
        },
    }


def _run_one(tenant: Tenant, call: GraphCall, item: dict[str, Any]) -> dict[str, Any]:
    """One sub-request through the tenant's pipeline, as a batch response entry."""
    sub = _sub_request(call.request, call.version, item)
    if sub.path.rstrip("/").endswith("/$batch"):
        response = errors.error_response(_invalid("A batch cannot contain a batch."), sub)
    else:
        response = tenant(sub)
        tenant.release(sub)
        if response.status == 0:  # an injected connection reset: the gateway reports it
            response = errors.error_response(
                errors.GraphError(503, "ServiceUnavailable", "The service is unavailable."),
                sub,
            )
    result: dict[str, Any] = {
        "id": str(item["id"]),
        "status": response.status,
        "headers": {
            k: v
            for k, v in response.headers.items()
            if k.lower() in ("content-type", "retry-after", "location", "preference-applied")
        },
    }
    body = _body_of(response)
    if body is not None:
        result["body"] = body
    return result


def run_batch(tenant: Tenant, call: GraphCall) -> Response:
    """POST /$batch.

    Like Graph, independent sub-requests run concurrently (each with its own latency,
    faults and throttling); a request that ``dependsOn`` others waits for them."""
    items = _validated(call.json_body())
    failed: set[str] = set()
    by_id: dict[str, dict[str, Any]] = {}
    with ThreadPoolExecutor(max_workers=MAX_REQUESTS, thread_name_prefix="batch") as pool:
        for wave in _waves(items):
            runnable = []
            for item in wave:
                if any(str(d) in failed for d in item.get("dependsOn") or []):
                    by_id[str(item["id"])] = _failed_dependency(str(item["id"]))
                else:
                    runnable.append(item)
            for result in pool.map(lambda item: _run_one(tenant, call, item), runnable):
                by_id[result["id"]] = result
            failed.update(i for i, r in by_id.items() if r["status"] >= 400)
    # Graph does not promise an order; answering in execution order shows the dependencies.
    return Response.json(200, {"responses": list(by_id.values())})


def register(routes: GraphRoutes) -> None:
    """Adds ``/$batch``."""
    tenant = routes.tenant
    routes.add("POST", "/$batch", lambda call: run_batch(tenant, call), (), target="none")
