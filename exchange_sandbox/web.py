"""A small threaded HTTPS/1.1 server with a regex router: the machinery every sandbox face uses.

Kept on the standard library on purpose: the sandbox must start in milliseconds in a test
fixture, keep connections alive like Microsoft's front ends, and run one thread per
connection so injected latency (``time.sleep``) costs wall time, not throughput.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message as HeaderMap
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

Body = bytes | Iterable[bytes]


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact_json(obj: Any) -> bytes:
    """``obj`` as compact UTF-8 JSON (one encoder for every answer, not one per call)."""
    return _COMPACT.encode(obj).encode("utf-8")


@functools.lru_cache(maxsize=1024)
def _query_pairs(query: str) -> tuple[tuple[str, str], ...]:
    return tuple(parse_qsl(query, keep_blank_values=True))


def parse_query(query: str) -> dict[str, str]:
    """A query string as {name: first value}, decoded (a fan-out sends one query many times)."""
    return {k: v for k, v in reversed(_query_pairs(query))}


@dataclass
class Request:
    """One parsed HTTP request, plus what the handlers learn about it for the request log."""

    method: str
    target: str  # the raw request target, as sent (path and query)
    path: str  # percent-decoded path, no query
    query: dict[str, str]  # first value of each query parameter, decoded
    headers: HeaderMap  # case-insensitive
    body: bytes
    client_address: str = "127.0.0.1"
    # Filled in by handlers, read by the request log:
    app: str | None = None  # client_id of the calling app
    mailbox: str | None = None  # primary SMTP address of the target mailbox
    operation: str | None = None  # EWS operation or Graph route template
    claims: dict[str, Any] | None = None  # verified access-token claims
    extra: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        """The body decoded as JSON (raises ValueError when it is not)."""
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Body = b""

    @classmethod
    def json(cls, status: int, obj: Any, headers: dict[str, str] | None = None) -> Response:
        data = compact_json(obj)
        hdrs = {"Content-Type": "application/json; charset=utf-8"}
        hdrs.update(headers or {})
        return cls(status, hdrs, data)

    @classmethod
    def empty(cls, status: int = 204, headers: dict[str, str] | None = None) -> Response:
        return cls(status, dict(headers or {}), b"")


Handler = Callable[..., Response]


class Router:
    """Maps (method, path regex) to handlers; named groups become keyword arguments."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler, str]] = []
        self._by_method: dict[str, list[tuple[str, re.Pattern[str], Handler, str]]] = {}

    def add(self, method: str, pattern: str, handler: Handler, name: str | None = None) -> None:
        """Register ``handler`` for ``method`` (or ``*``) and a full-match path regex."""
        self._routes.append((method.upper(), re.compile(pattern), handler, name or pattern))
        self._by_method.clear()

    def route(self, method: str, pattern: str, name: str | None = None):
        def decorate(handler: Handler) -> Handler:
            self.add(method, pattern, handler, name)
            return handler

        return decorate

    def include(self, other: Router) -> None:
        self._routes.extend(other._routes)
        self._by_method.clear()

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str], str] | None:
        """The first route for this method and path; a 405 handler when only the method
        differs."""
        routes = self._by_method.get(method)
        if routes is None:  # the routes a method can take, in order (a request tries no other)
            routes = [r for r in self._routes if r[0] in ("*", method)]
            self._by_method[method] = routes
        for _, regex, handler, name in routes:
            m = regex.fullmatch(path)
            if m:
                return handler, {k: unquote(v) for k, v in m.groupdict().items() if v}, name
        if any(regex.fullmatch(path) for _, regex, _, _ in self._routes):
            return _method_not_allowed, {}, "405"
        return None


_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def _one_line(value: str) -> str:
    """A header value with its line breaks folded into spaces."""
    return _LINE_BREAKS.sub(" ", str(value))


def _method_not_allowed(request: Request) -> Response:
    return Response.json(405, {"error": {"code": "BadRequest", "message": "Method not allowed."}})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Microsoft's front ends
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """The sandbox keeps its own structured request log; no stderr chatter."""

    def _dispatch(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        split = urlsplit(self.path)
        request = Request(
            method=self.command,
            target=self.path,
            path=unquote(split.path),
            query=parse_query(split.query),
            headers=self.headers,
            body=body,
            client_address=self.client_address[0],
        )
        try:
            response = self.server.app(request)
        except Exception as exc:  # a sandbox bug must still answer like a server would
            response = Response.json(
                500,
                {"error": {"code": "InternalServerError", "message": f"sandbox: {exc!r}"}},
            )
        # Before the bytes go out: a client holding its answer always finds it in the log.
        self.server.on_complete(request, response, (time.perf_counter() - started) * 1000)
        self._send(response)

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, response: Response) -> None:
        if response.status == 0:  # fault injection: drop the connection without answering
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        # A line break inside a value would end the header block early and hang the client.
        headers = {k: _one_line(v) for k, v in response.headers.items()}
        if isinstance(response.body, bytes | bytearray):
            headers["Content-Length"] = str(len(response.body))
            for k, v in headers.items():
                self.send_header(k, v)
            # Head and body in one write: one TLS record and segment for a small answer.
            self._headers_buffer.append(b"\r\n")
            if self.command != "HEAD":
                self._headers_buffer.append(bytes(response.body))
            self.flush_headers()
            return
        headers.pop("Content-Length", None)
        headers["Transfer-Encoding"] = "chunked"
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        for chunk in response.body:
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


class SandboxHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer over TLS; ``app`` answers requests, ``on_complete`` sees each answer
    just before it is sent."""

    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        app: Callable[[Request], Response],
        ssl_context: ssl.SSLContext,
        on_complete: Callable[[Request, Response, float], None] = lambda *a: None,
    ) -> None:
        # IPv6 literal hosts ("::1") need an AF_INET6 socket; TCPServer reads this on bind.
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)
        self.app = app
        self.on_complete = on_complete
        self.ssl_context = ssl_context

    def server_bind(self) -> None:
        """Binds without HTTPServer's reverse DNS lookup of the host (slow on some machines)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        # Headers and body go out in separate writes; without NODELAY, Nagle's algorithm and
        # the client's delayed ACK would stall every response by ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.ssl_context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), addr

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs on the connection's own thread, never on the accept loop.
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client resets and aborted TLS sessions are normal under fault injection; stay quiet."""


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1, IPv4-mapped loopback and ``localhost``."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address == "localhost"
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def serve_in_thread(server: SandboxHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="sandbox-http", daemon=True)
    thread.start()
    return thread


def iter_chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
