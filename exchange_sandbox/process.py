"""Run the real ``exchange-sandbox serve`` command as a subprocess, for tests, benches and demos.

``with start_sandbox(seed="demo") as sb:`` starts it, reads its JSON line into ``sb.info``,
and gives connection configs for the pack (``sb.pack_config()``) and an admin client.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import requests

# These variables override ``verify=`` in requests; the sandbox process must not inherit them.
CA_ENV_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
DEFAULT_MAILBOX = "alice@contoso.com"
_FLAGS = {
    "host": "--host",
    "port": "--port",
    "seed": "--seed",
    "latency_ms": "--latency-ms",
    "throttle": "--throttle",
    "graph_mailbox_limit": "--graph-mailbox-limit",
    "token_lifetime": "--token-lifetime",
    "schema_dir": "--schema-dir",
}
_SWITCHES = {"ews_blocked": "--ews-blocked", "allow_remote": "--allow-remote"}


class SandboxError(RuntimeError):
    """The sandbox did not start, or an admin call failed."""


def _command() -> list[str]:
    """The installed ``exchange-sandbox`` script beside this interpreter, else ``-m``."""
    script = Path(sys.executable).with_name("exchange-sandbox")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "exchange_sandbox"]


class Sandbox:
    """A running sandbox subprocess: its JSON line, pack configs and the admin API."""

    def __init__(self, process: subprocess.Popen[str], info: dict[str, Any], workdir: Path):
        self.process = process
        self.info = info
        self.workdir = workdir
        self.base_url: str = info["base_url"]
        self.ca_bundle: str = info["ca_bundle"]
        self.tenant_id: str = info["tenant_id"]
        self._http = requests.Session()
        self._http.trust_env = False  # never let REQUESTS_CA_BUNDLE replace the sandbox CA
        self._http.verify = self.ca_bundle

    # -- connection configs ------------------------------------------------------------------
    def app(self, name: str = "full") -> dict[str, Any]:
        """The app registration named ``name`` from the JSON line."""
        for app in self.info["apps"]:
            if app["name"] == name or app["client_id"] == name:
                return app
        raise KeyError(f"no app {name!r} in this sandbox")

    def pack_config(
        self, app: str = "full", backend: str = "graph", auth: str = "secret", **overrides: Any
    ) -> dict[str, Any]:
        """A connection config for the pack (``schemas/connection.json`` keys).

        ``auth``: ``secret`` or ``certificate`` (OAuth app), or ``basic`` / ``ntlm`` (EWS
        service account).
        """
        config: dict[str, Any] = {
            "backend": backend,
            "authority_host": self.info["authority_host"],
            "graph_url": self.info["graph_url"],
            "ews_url": self.info["ews_url"],
            "ca_bundle": self.ca_bundle,
            "token_cache_path": str(self.workdir / "token-cache.json"),
            "output_dir": str(self.workdir / "output"),
            "default_mailbox": DEFAULT_MAILBOX,
        }
        if auth in ("basic", "ntlm"):
            account = self.info["service_account"]
            config.update(ews_auth=auth, username=account["username"], password=account["password"])
        else:
            registration = self.app(app)
            config.update(tenant_id=self.tenant_id, client_id=registration["client_id"])
            if auth == "secret":
                config["client_secret"] = registration["client_secret"]
            elif auth == "certificate":
                config["certificate_path"] = registration["certificate_path"]
            else:
                raise ValueError("auth is secret, certificate, basic or ntlm")
        config.update(overrides)
        return config

    # -- admin API -----------------------------------------------------------------------------
    def admin(self, method: str, path: str, json: Any = None) -> Any:
        """Calls ``/_sandbox/<path>``; returns the decoded JSON (None for 204)."""
        url = f"{self.base_url}/_sandbox/{path.lstrip('/').removeprefix('_sandbox/')}"
        response = self._http.request(method, url, json=json, timeout=60)
        if response.status_code >= 400:
            raise SandboxError(f"admin {method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def deliver(self, mailbox: str, mime: bytes, folder: str = "inbox") -> dict[str, Any]:
        """Stores raw MIME in a mailbox folder as delivered now (``POST /_sandbox/deliver``)."""
        response = self._http.post(
            f"{self.base_url}/_sandbox/deliver",
            params={"mailbox": mailbox, "folder": folder},
            data=mime,
            headers={"Content-Type": "message/rfc822"},
            timeout=300,
        )
        if response.status_code >= 400:
            raise SandboxError(f"deliver: {response.status_code} {response.text}")
        return response.json()

    def requests(self) -> list[dict[str, Any]]:
        """The request log (admin calls excluded)."""
        return self.admin("GET", "requests")

    def clear_requests(self) -> None:
        """Empties the request log."""
        self.admin("DELETE", "requests")

    def fault(self, **spec: Any) -> dict[str, Any]:
        """Injects a fault: method, path (regex), status, body, headers, count or probability,
        delay_ms, reset (drop the connection), throttle (seconds)."""
        return self.admin("POST", "faults", json=spec)

    def clear_faults(self) -> None:
        """Removes every injected fault."""
        self.admin("DELETE", "faults")

    def reset(self) -> None:
        """Back to the seed."""
        self.admin("POST", "reset")

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Changes latency_ms, throttle, ews_blocked or token_lifetime at runtime."""
        return self.admin("POST", "settings", json=changes)

    def clock(self, skew_seconds: float) -> dict[str, Any]:
        """Moves the tenant's clock by ``skew_seconds`` from real time."""
        return self.admin("POST", "clock", json={"skew_seconds": skew_seconds})

    def add_app(self, **registration: Any) -> dict[str, Any]:
        """Registers another app (roles, mailbox_scope, client_secret, secret_expires_at)."""
        return self.admin("POST", "apps", json=registration)

    # -- lifecycle -----------------------------------------------------------------------------
    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, wait, and return the exit code (kills it when it does not stop in time)."""
        self._http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _read_line(stream: IO[str], timeout: float) -> str | None:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return None


@contextlib.contextmanager
def start_sandbox(
    state: str | os.PathLike[str] | None = None, *, startup_timeout: float = 120, **opts: Any
) -> Iterator[Sandbox]:
    """Starts ``exchange-sandbox serve`` with ``opts`` (seed, latency_ms, throttle,
    token_lifetime, schema_dir, ews_blocked, host, port); stops it on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="exchange-sandbox-"))
    state_dir = Path(state) if state is not None else workdir / "state"
    argv = [*_command(), "serve", "--state", str(state_dir)]
    for key, value in opts.items():
        if key in _SWITCHES:
            if value:
                argv.append(_SWITCHES[key])
        elif key in _FLAGS:
            if value is not None:
                argv += [_FLAGS[key], str(value)]
        else:
            raise TypeError(f"start_sandbox() got an unknown option {key!r}")
    env = {k: v for k, v in os.environ.items() if k not in CA_ENV_VARS}
    stderr_path = workdir / "stderr.log"
    with open(stderr_path, "w") as stderr:
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
    sandbox: Sandbox | None = None
    try:
        assert process.stdout is not None
        line = _read_line(process.stdout, startup_timeout)
        if not line:
            process.kill()
            process.wait()
            raise SandboxError(
                f"exchange-sandbox did not start (exit {process.returncode}): "
                f"{stderr_path.read_text()[-4000:]}"
            )
        sandbox = Sandbox(process, json.loads(line), workdir)
        yield sandbox
    finally:
        if sandbox is not None:
            sandbox.stop()
        elif process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(workdir, ignore_errors=True)
