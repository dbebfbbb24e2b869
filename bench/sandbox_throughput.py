"""Throughput of the sandbox tenant on a plain Graph message GET, over keep-alive TLS.

    python bench/sandbox_throughput.py [--threads 8] [--seconds 5] [--seed demo]

Starts ``exchange-sandbox serve`` as a subprocess (the real command), takes an app-only token
through msal, then N client threads (one keep-alive ``requests.Session`` each) GET the same
message for the given time. Prints one JSON line: requests, errors, requests_per_second. The
client runs on the same cores as the server, so the figure is a floor for the server.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

import msal
import requests

from exchange_sandbox.process import Sandbox, start_sandbox

MAILBOX = "alice@contoso.com"


def _session(sandbox: Sandbox, token: str | None = None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # the sandbox CA, never REQUESTS_CA_BUNDLE
    session.verify = sandbox.ca_bundle
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def _token(sandbox: Sandbox) -> str:
    full = sandbox.app("full")
    app = msal.ConfidentialClientApplication(
        full["client_id"],
        client_credential=full["client_secret"],
        authority=f"{sandbox.info['authority_host']}/{sandbox.tenant_id}",
        instance_discovery=False,
        http_client=_session(sandbox),
    )
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    if "access_token" not in result:
        raise SystemExit(f"no token: {result.get('error')}")
    return result["access_token"]


def measure(sandbox: Sandbox, threads: int, seconds: float) -> dict[str, Any]:
    """Runs the GET loop on ``threads`` keep-alive sessions for ``seconds``."""
    token = _token(sandbox)
    graph = f"{sandbox.info['graph_url']}/v1.0/users/{MAILBOX}/messages"
    listing = _session(sandbox, token).get(graph, params={"$top": "1", "$select": "id"})
    listing.raise_for_status()
    url = f"{graph}/{listing.json()['value'][0]['id']}"
    counts = [0] * threads
    errors = [0] * threads
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        session = _session(sandbox, token)
        while time.perf_counter() < deadline:
            response = session.get(url, params={"$select": "subject"})
            if response.status_code == 200:
                counts[index] += 1
            else:
                errors[index] += 1
        session.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "benchmark": "sandbox_throughput",
        "operation": "GET /v1.0/users/{id}/messages/{id}",
        "threads": threads,
        "seconds": round(elapsed, 3),
        "requests": sum(counts),
        "errors": sum(errors),
        "requests_per_second": round(sum(counts) / elapsed, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: start a sandbox, measure, print the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--seed", default="demo")
    args = parser.parse_args(argv)
    with start_sandbox(seed=args.seed) as sandbox:
        result = measure(sandbox, args.threads, args.seconds)
    print(json.dumps(result))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
