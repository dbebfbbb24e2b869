"""Microsoft Graph HTTP transport: one client for every request the Graph backend sends.

It owns what every call shares: the ``/v1.0`` root, the bearer token, ``Prefer:
IdType="ImmutableId"``, percent-encoded path segments, per-request retries (429/502/503/504 honour
``Retry-After``, bounded by ``max_retries`` and ``max_retry_wait_seconds``), ``@odata.nextLink``
paging with an origin check and a page bound, streaming downloads, ``$batch``, and the request
counters in ``session.stats``.

A request that may already have been applied is never sent twice: after a reset or timeout
only GETs and requests whose connection failed before sending are retried; anything else
raises ``AmbiguousOutcomeError``. A 502 or 504 (gateway error) is treated the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
from pydantic import BaseModel, ConfigDict
from urllib3.exceptions import NameResolutionError, NewConnectionError

from ..auth import token_fingerprint
from ..errors import (
    AmbiguousOutcomeError,
    ExchangePackError,
    InputError,
    InternalError,
    MessageNotFoundError,
    NotFoundError,
    TransientError,
)
from .errors import graph_error, retry_after_seconds

API_VERSION = "v1.0"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# A gateway error may come after the service applied the request: never repeat a send on it.
GATEWAY_STATUSES = frozenset({502, 504})
REPEATABLE_METHODS = frozenset({"GET", "HEAD"})
PREFER_IMMUTABLE_IDS = 'IdType="ImmutableId"'
CHUNK_SIZE = 64 * 1024
BATCH_LIMIT = 20  # Graph's maximum number of sub-requests in one $batch
MAX_PAGES = 100  # page bound for one listing; a warning says when it stopped there
BACKOFF_SECONDS = 1.0  # first wait when the server names none; doubles per retry
QUERY_SAFE = "$'(),/:"

Body = bytes | str | Callable[[], Iterable[bytes]] | None


def segment(value: str) -> str:
    """One percent-encoded path segment: no id can add, remove or climb a path level."""
    if not value or value.strip(".") == "":
        raise InputError(f"{value!r} is not a valid Microsoft Graph identifier.")
    return quote(value, safe="")


def graph_path(template: str, *values: str) -> str:
    """``graph_path("/users/{}/messages/{}", mailbox, id)``, each value encoded as one segment."""
    return template.format(*(segment(value) for value in values))


def with_query(path: str, params: Mapping[str, Any] | None) -> str:
    """``path?$select=...`` with OData options encoded the way Graph documents them."""
    if not params:
        return path
    pairs = {key: value for key, value in params.items() if value is not None}
    return f"{path}?{urlencode(pairs, quote_via=quote, safe=QUERY_SAFE)}"


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default


class BatchRequest(BaseModel):
    """One sub-request of a JSON ``$batch`` (``url`` relative to the version root)."""

    model_config = ConfigDict(frozen=True)

    id: str
    url: str
    method: str = "GET"
    body: Any = None

    def payload(self) -> dict[str, Any]:
        """The sub-request as Graph's ``$batch`` body expects it."""
        item: dict[str, Any] = {
            "id": self.id,
            "method": self.method,
            "url": self.url,
            "headers": {"Prefer": PREFER_IMMUTABLE_IDS},
        }
        if self.body is not None:
            item["body"] = self.body
            item["headers"]["Content-Type"] = "application/json"
        return item


class BatchResponse(BaseModel):
    """One sub-response of a JSON ``$batch``."""

    id: str
    status: int
    headers: dict[str, str] = {}
    body: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(
        self, request: BatchRequest, not_found: type[NotFoundError] = MessageNotFoundError
    ) -> ExchangePackError:
        """The pack exception this failed sub-response stands for."""
        path = urlsplit(request.url).path
        return graph_error(
            self.status,
            self.body,
            self.headers,
            method=request.method,
            path=path,
            not_found=not_found,
        )


class RetryBudget:
    """What is left of ``max_retries`` and ``max_retry_wait_seconds`` for one request."""

    def __init__(self, retries: int, wait_seconds: float) -> None:
        self.retries = retries
        self.wait_seconds = wait_seconds
        self.used = 0

    def next_wait(self, retry_after: float | None) -> float | None:
        """Seconds to wait before the next try, or None when the budget does not allow one."""
        wait = retry_after if retry_after is not None else BACKOFF_SECONDS * 2**self.used
        if self.used >= self.retries or wait > self.wait_seconds:
            return None
        self.used += 1
        self.wait_seconds -= wait
        return wait


def failed_before_sending(exc: requests.RequestException) -> bool:
    """True when the connection failed before the request left (so it cannot have applied)."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (NewConnectionError, NameResolutionError))


class GraphClient:
    """Sends Microsoft Graph v1.0 requests on the session's shared ``requests.Session``."""

    def __init__(self, session: Any, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.session = session
        self.config = session.config
        self.root = f"{self.config.graph_base}/{API_VERSION}"
        self._root_origin = origin(self.root)
        self._root_path = urlsplit(self.root).path
        self._sleep = sleep

    # -- URLs --------------------------------------------------------------------------------
    def url(self, path_or_link: str, *, foreign_ok: bool = False) -> str:
        """Absolute URL for a root-relative path, or a Graph link checked to stay on Graph
        (``foreign_ok``: an https upload URL, which is sent without the bearer token)."""
        if path_or_link.startswith("/"):
            return self.root + path_or_link
        if foreign_ok and urlsplit(path_or_link).scheme == "https":
            return path_or_link
        self.check_link(path_or_link)
        return path_or_link

    def check_link(self, link: str) -> None:
        """Refuses a server-given link (nextLink, cursor) that leaves the Graph version root."""
        path = urlsplit(link).path
        if origin(link) != self._root_origin or not path.startswith(f"{self._root_path}/"):
            raise InternalError(
                "Microsoft Graph returned a paging link to another host or path; refused.",
                hint="Check graph_url in the connection config.",
            )

    def relative(self, link: str) -> str:
        """A Graph link as a root-relative URL (what ``$batch`` sub-requests take)."""
        self.check_link(link)
        parts = urlsplit(link)
        path = parts.path[len(self._root_path) :]
        return f"{path}?{parts.query}" if parts.query else path

    # -- requests ----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        repeatable: bool | None = None,
        not_found: type[NotFoundError] = MessageNotFoundError,
        authorize: bool = True,
        wait_when_throttled: bool = True,
    ) -> requests.Response:
        """One Graph call with retries; raises the mapped pack error for a failed answer.
        ``wait_when_throttled=False``: a 429/503/504 is raised at once (ThrottledError with
        its Retry-After) for a caller that schedules the retry without holding a thread."""
        method = method.upper()
        url = self.url(path, foreign_ok=not authorize)
        if repeatable is None:
            repeatable = method in REPEATABLE_METHODS
        budget = RetryBudget(self.config.max_retries, self.config.max_retry_wait_seconds)
        refreshed = False
        while True:
            token = self.session.tokens.token("graph") if authorize else None
            try:
                response = self._send(method, url, json, data, headers, stream, token)
            except requests.RequestException as exc:
                self._after_connection_error(exc, method, url, repeatable, budget)
                continue
            status = response.status_code
            if status < 400:
                return response
            body = self._error_body(response)
            if status == 401 and token is not None and not refreshed:
                # A token refused before its expiry (new signing key, clock skew, revocation):
                # a 401 applied nothing, so the request is sent once more with a new token.
                refreshed = True
                self.session.tokens.token(
                    "graph", force_refresh=True, refused=token_fingerprint(token)
                )
                continue
            error = graph_error(
                status,
                body,
                response.headers,
                method=method,
                path=urlsplit(url).path,
                not_found=not_found,
            )
            if status in RETRY_STATUSES:
                if status in GATEWAY_STATUSES and not repeatable:
                    raise AmbiguousOutcomeError(
                        f"Microsoft Graph's gateway answered {status} on {method} "
                        f"{urlsplit(url).path}; "
                        "it may or may not have been applied.",
                        backend_code=error.backend_code,
                    )
                wait = budget.next_wait(error.retry_after_seconds) if wait_when_throttled else None
                if wait is not None:
                    self._pause(wait, throttled=True)
                    continue
            raise error

    def _send(
        self,
        method: str,
        url: str,
        json: Any,
        data: Body,
        headers: Mapping[str, str] | None,
        stream: bool,
        token: str | None,
    ) -> requests.Response:
        sent_headers = {"Prefer": PREFER_IMMUTABLE_IDS, "Accept": "application/json"}
        sent_headers.update(headers or {})
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        body = data() if callable(data) else data
        self.session.stats.note_request()
        return self.session.http.request(
            method,
            url,
            json=json,
            data=body,
            headers=sent_headers,
            stream=stream,
            timeout=self.config.timeout_seconds,
            allow_redirects=False,
        )

    def _after_connection_error(
        self,
        exc: requests.RequestException,
        method: str,
        url: str,
        repeatable: bool,
        budget: RetryBudget,
    ) -> None:
        """Waits before a retry that is safe, else raises (never repeats a maybe-applied call)."""
        where = f"{method} {urlsplit(url).path}"
        reason = type(exc).__name__
        if not repeatable and not failed_before_sending(exc):
            raise AmbiguousOutcomeError(
                f"The connection to Microsoft Graph broke during {where} ({reason}); "
                "the request may or may not have been applied, so it was not repeated."
            ) from None
        wait = budget.next_wait(None)
        if wait is None:
            raise TransientError(
                f"Could not reach Microsoft Graph for {where} ({reason}).",
                hint="Check the network path to Graph (proxy_url, TLS) and try again.",
            ) from None
        self._pause(wait, throttled=False)

    def sleep(self, seconds: float) -> None:
        """Waits on the client's clock (a test replaces it), counting nothing."""
        self._sleep(seconds)

    def _pause(self, seconds: float, *, throttled: bool) -> None:
        self.session.stats.note_retry()
        if throttled:
            self.session.stats.note_throttle(seconds)
        self._sleep(seconds)

    @staticmethod
    def _error_body(response: requests.Response) -> Any:
        with response:
            try:
                return response.json()
            except ValueError:
                return None

    # -- conveniences ------------------------------------------------------------------------
    def get_json(self, path: str, **options: Any) -> dict[str, Any]:
        """GET returning the JSON body."""
        return self.json_of(self.request("GET", path, **options))

    def post_json(self, path: str, body: Any, **options: Any) -> dict[str, Any]:
        """POST a JSON body, returning the JSON answer ({} for 202/204)."""
        return self.json_of(self.request("POST", path, json=body, **options))

    @staticmethod
    def json_of(response: requests.Response) -> dict[str, Any]:
        """The JSON object of a response ({} when the body is empty)."""
        with response:
            if not response.content:
                return {}
            try:
                value = response.json()
            except ValueError:
                raise InternalError(
                    "Microsoft Graph answered with a body that is not JSON."
                ) from None
        return value if isinstance(value, dict) else {"value": value}

    @contextmanager
    def stream(self, path: str, **options: Any) -> Iterator[Iterator[bytes]]:
        """Streams a body (``$value``) in 64 KiB chunks; the response closes on exit."""
        response = self.request("GET", path, stream=True, headers={"Accept": "*/*"}, **options)
        with response:
            yield self._chunks(response)

    @staticmethod
    def _chunks(response: requests.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_content(CHUNK_SIZE)
        except requests.RequestException as exc:
            raise TransientError(
                f"The download from Microsoft Graph was interrupted ({type(exc).__name__})."
            ) from None

    def pages(self, path: str, *, max_pages: int = MAX_PAGES, **options: Any) -> Iterator[dict]:
        """The pages of a collection, following ``@odata.nextLink`` (origin-checked, bounded)."""
        link: str | None = path
        for _ in range(max_pages):
            page = self.get_json(link, **options)
            yield page
            link = page.get("@odata.nextLink")
            if not link:
                return
            self.check_link(link)
        self.session.stats.warn(
            f"Stopped after {max_pages} pages of results from Microsoft Graph; narrow the query."
        )

    # -- $batch ------------------------------------------------------------------------------
    def batch(
        self, requests_: Sequence[BatchRequest], concurrency: int = 1
    ) -> dict[str, BatchResponse]:
        """JSON ``$batch``: 20 sub-requests per round trip, up to ``concurrency`` batches in
        flight on the shared session; answers by sub-request id."""
        chunks = [requests_[i : i + BATCH_LIMIT] for i in range(0, len(requests_), BATCH_LIMIT)]
        answers: dict[str, BatchResponse] = {}
        if concurrency <= 1 or len(chunks) <= 1:
            for chunk in chunks:
                answers.update(self.batch_round(chunk))
            return answers
        with ThreadPoolExecutor(max_workers=min(concurrency, len(chunks))) as pool:
            for result in pool.map(self.batch_round, chunks):
                answers.update(result)
        return answers

    def batch_round(self, requests_: Sequence[BatchRequest]) -> dict[str, BatchResponse]:
        """One ``$batch`` of at most 20; throttled sub-requests are sent again on their own."""
        if len(requests_) > BATCH_LIMIT:
            raise InternalError(f"A $batch holds at most {BATCH_LIMIT} requests.")
        pending = {request.id: request for request in requests_}
        answers: dict[str, BatchResponse] = {}
        budget = RetryBudget(self.config.max_retries, self.config.max_retry_wait_seconds)
        while pending:
            repeatable = all(r.method in REPEATABLE_METHODS for r in pending.values())
            body = {"requests": [request.payload() for request in pending.values()]}
            result = self.post_json("/$batch", body, repeatable=repeatable)
            retry: dict[str, BatchRequest] = {}
            waits: list[float] = []
            for item in result.get("responses") or []:
                answer = BatchResponse.model_validate(
                    {**item, "headers": item.get("headers") or {}}
                )
                request = pending.get(answer.id)
                if request is None:
                    continue
                answers[answer.id] = answer
                if answer.status in RETRY_STATUSES and (
                    request.method in REPEATABLE_METHODS or answer.status not in GATEWAY_STATUSES
                ):
                    retry[answer.id] = request
                    waits.append(retry_after_seconds(answer.headers) or 0.0)
            for missing in set(pending) - set(answers):
                answers[missing] = BatchResponse(id=missing, status=500, body=None)
            if not retry:
                break
            wait = budget.next_wait(max(waits) if any(waits) else None)
            if wait is None:
                break  # the throttled answers stay: callers report them as throttled
            self._pause(wait, throttled=True)
            pending = retry
        return answers
