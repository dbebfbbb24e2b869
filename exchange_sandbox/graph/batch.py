"""Graph JSON batching: ``POST /$batch`` with at most 20 requests, relative URLs, ``dependsOn``.

Each sub-request runs through the tenant's own pipeline (faults, then the Graph route with its
permissions and throttling) and is counted against the limits on its own, as Graph does. Graph
authenticates the batch, not its steps: the outer request's verified claims authorise every
sub-request.

Sub-requests that do not depend on each other run side by side in Graph, so here they share
one latency wait and hold their concurrency slots together until the last of them is answered
(five to one mailbox: the fifth is over Outlook's limit of four). Their handlers then run one
after another under one lock for the whole tenant: a handler is short CPU work, and run on many
threads at once, SQLite's release of the GIL at every row handed the interpreter from thread to
thread, which made each sub-request cost two to three times the CPU. (A delay injected on a
sub-request therefore also delays the batches waiting behind it.)
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from email.message import Message as HeaderMap
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ..tenant import HELD_SLOTS, LATENCY_WAITED
from ..web import Request, Response, compact_json, parse_query
from . import errors
from .pipeline import BATCH_CLAIMS, GraphCall, GraphRoutes

if TYPE_CHECKING:
    from ..tenant import Tenant

MAX_REQUESTS = 20
_FORWARDED = ("Authorization", "client-request-id", "Host")
_ENTRY_HEADERS = ("content-type", "retry-after", "location", "preference-applied")


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


def _forwarded(outer: Request) -> list[tuple[str, str]]:
    """The outer request's headers every sub-request carries (read once per batch)."""
    found = outer.extra.get("batch_forwarded")
    if found is None:
        found = [(n, outer.headers[n]) for n in _FORWARDED if outer.headers.get(n)]
        outer.extra["batch_forwarded"] = found
    return found


def _sub_request(
    outer: Request, version: str, item: dict[str, Any], held: list[tuple[str, str, str]]
) -> Request:
    url = str(item["url"])
    if url.lower().startswith(("http://", "https://")):
        split = urlsplit(url)
        url = split.path.removeprefix(f"/{version}") + (f"?{split.query}" if split.query else "")
    url = "/" + url.lstrip("/")
    target = f"/{version}{url}"
    split = urlsplit(target)
    headers = HeaderMap()
    for name, value in _forwarded(outer):
        headers[name] = value
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
        query=parse_query(split.query),
        headers=headers,
        body=raw,
        client_address=outer.client_address,
        app=outer.app,
        claims=outer.claims,
        extra={BATCH_CLAIMS: outer.claims, LATENCY_WAITED: True, HELD_SLOTS: held},
    )


def _body_of(response: Response) -> bytes | None:
    """The entry's ``body`` as JSON text: a JSON answer as it is (never parsed and encoded
    again), anything else base64-encoded, as Graph returns binary content in a batch."""
    raw = (
        bytes(response.body)
        if isinstance(response.body, bytes | bytearray)
        else b"".join(response.body)
    )
    if not raw:
        return None
    if response.headers.get("Content-Type", "").startswith("application/json"):
        return raw
    return b'"' + base64.b64encode(raw) + b'"'


@dataclass
class _Entry:
    """One answer of the batch: its status, headers and body (JSON text)."""

    id: str
    status: int
    headers: dict[str, str]
    body: bytes | None = None

    def encoded(self) -> bytes:
        """The entry as a JSON object; the body is spliced in as the JSON text it already is."""
        head = {"id": self.id, "status": self.status, "headers": self.headers}
        text = compact_json(head)
        if self.body is None:
            return text
        return text[:-1] + b',"body":' + self.body + b"}"


def _failed_dependency(item_id: str) -> _Entry:
    return _Entry(
        item_id,
        424,
        {},
        compact_json(
            {
                "error": {
                    "code": "FailedDependency",
                    "message": "The request depends on a request of this batch that failed.",
                }
            }
        ),
    )


def _run_one(
    tenant: Tenant, call: GraphCall, item: dict[str, Any], held: list[tuple[str, str, str]]
) -> _Entry:
    """One sub-request through the tenant's pipeline, as a batch response entry."""
    sub = _sub_request(call.request, call.version, item, held)
    if sub.path.rstrip("/").endswith("/$batch"):
        response = errors.error_response(_invalid("A batch cannot contain a batch."), sub)
    else:
        response = tenant(sub)
        if response.status == 0:  # an injected connection reset: the gateway reports it
            response = errors.error_response(
                errors.GraphError(503, "ServiceUnavailable", "The service is unavailable."),
                sub,
            )
    headers = {k: v for k, v in response.headers.items() if k.lower() in _ENTRY_HEADERS}
    return _Entry(str(item["id"]), response.status, headers, _body_of(response))


def _run_wave(
    tenant: Tenant, call: GraphCall, wave: list[dict[str, Any]], handlers: threading.Lock
) -> list[_Entry]:
    """Requests that run side by side: one latency, slots held until all are answered."""
    tenant.wait_latency()
    held: list[tuple[str, str, str]] = []
    try:
        with handlers:
            return [_run_one(tenant, call, item, held) for item in wave]
    finally:
        tenant.release_slots(held)


def run_batch(tenant: Tenant, call: GraphCall, handlers: threading.Lock) -> Response:
    """POST /$batch.

    Like Graph, independent sub-requests run together (each with its own faults and
    throttling); a request that ``dependsOn`` others waits for them."""
    items = _validated(call.json_body())
    failed: set[str] = set()
    by_id: dict[str, _Entry] = {}
    for wave in _waves(items):
        runnable = []
        for item in wave:
            item_id = str(item["id"])
            if any(str(d) in failed for d in item.get("dependsOn") or []):
                by_id[item_id] = _failed_dependency(item_id)
            else:
                runnable.append(item)
        if runnable:
            by_id.update((e.id, e) for e in _run_wave(tenant, call, runnable, handlers))
        failed.update(i for i, entry in by_id.items() if entry.status >= 400)
    # Graph does not promise an order; answering in execution order shows the dependencies.
    body = b'{"responses":[' + b",".join(e.encoded() for e in by_id.values()) + b"]}"
    return Response(200, {"Content-Type": "application/json; charset=utf-8"}, body)


def register(routes: GraphRoutes) -> None:
    """Adds ``/$batch``."""
    tenant = routes.tenant
    handlers = threading.Lock()
    routes.add("POST", "/$batch", lambda call: run_batch(tenant, call, handlers), (), target="none")
