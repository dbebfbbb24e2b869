"""The request log is written before the answer goes out, so a client that holds its answer
always finds the request in the log (request-count assertions in every suite rely on it)."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from exchange_sandbox.tls import ensure_server_tls
from exchange_sandbox.web import Request, Response, SandboxHTTPServer, serve_in_thread


def test_an_answer_is_in_the_log_before_the_client_reads_it(tmp_path: Path) -> None:
    tls = ensure_server_tls(tmp_path)
    logged: list[str] = []

    def slow_log(request: Request, response: Response, duration_ms: float) -> None:
        time.sleep(0.5)  # a server thread descheduled at the worst moment (a busy machine)
        logged.append(request.path)

    server = SandboxHTTPServer(
        ("127.0.0.1", 0),
        lambda request: Response.json(200, {"token_type": "Bearer"}),
        tls.ssl_context(),
        on_complete=slow_log,
    )
    serve_in_thread(server)
    http = requests.Session()
    http.trust_env = False
    http.verify = str(tls.ca_path)
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/tenant/oauth2/v2.0/token"
        answer = http.post(url, data={"grant_type": "client_credentials"}, timeout=30)
        assert answer.status_code == 200
        assert logged == ["/tenant/oauth2/v2.0/token"]
    finally:
        http.close()
        server.shutdown()
        server.server_close()
