"""The ``exchange-sandbox serve`` process: its JSON line, TLS, keep-alive, restarts, signals."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from exchange_sandbox.process import CA_ENV_VARS, Sandbox, start_sandbox
from exchange_sandbox.web import Response, Router


def _context(ca_bundle: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_bundle)


def test_json_line_has_every_field(sandbox: Sandbox) -> None:
    info = sandbox.info
    for key in (
        "base_url",
        "authority_host",
        "graph_url",
        "ews_url",
        "ca_bundle",
        "tenant_id",
        "apps",
        "mailboxes",
        "service_account",
    ):
        assert key in info, key
    assert info["base_url"].startswith("https://127.0.0.1:")
    assert info["authority_host"] == info["graph_url"] == info["base_url"]
    assert info["ews_url"] == f"{info['base_url']}/EWS/Exchange.asmx"
    assert Path(info["ca_bundle"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert set(info["service_account"]) == {"username", "password"}
    assert "alice@contoso.com" in info["mailboxes"]
    names = {app["name"] for app in info["apps"]}
    assert {"full", "readonly"} <= names
    for app in info["apps"]:
        assert {"client_id", "client_secret", "certificate_path", "roles"} <= set(app)
        pem = Path(app["certificate_path"]).read_text()
        assert "PRIVATE KEY" in pem and "BEGIN CERTIFICATE" in pem
        assert oct(Path(app["certificate_path"]).stat().st_mode & 0o777) == "0o600"
    assert "full_access_as_app" in sandbox.app("full")["roles"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tls_certificate_verifies_with_the_generated_ca(sandbox: Sandbox, host: str) -> None:
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        _context(sandbox.ca_bundle).wrap_socket(raw, server_hostname=host) as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        assert tls.selected_alpn_protocol() in (None, "http/1.1")


def test_tls_is_refused_without_the_ca(sandbox: Sandbox) -> None:
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, trusts nothing
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        context.wrap_socket(raw, server_hostname="127.0.0.1")


def test_keep_alive_reuses_one_connection(sandbox: Sandbox) -> None:
    host, port = sandbox.base_url.removeprefix("https://").rsplit(":", 1)
    connection = http.client.HTTPSConnection(host, int(port), context=_context(sandbox.ca_bundle))
    path = f"/{sandbox.tenant_id}/v2.0/.well-known/openid-configuration"
    connection.request("GET", path)
    first = connection.getresponse()
    first.read()
    sock = connection.sock
    for _ in range(3):
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Connection") != "close"
        response.read()
        assert connection.sock is sock  # no reconnect happened
    connection.close()


def test_state_survives_a_restart_and_sigterm_exits_zero(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with start_sandbox(state, seed="none") as first:
        added = first.add_app(name="persisted", roles=["Mail.Read"])
        info = first.admin("GET", "info")
        ca = Path(first.ca_bundle).read_bytes()
        http = requests.Session()
        http.trust_env = False
        token = http.post(
            f"{first.base_url}/{first.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": added["client_id"],
                "client_secret": added["client_secret"],
                "scope": "https://graph.microsoft.com/.default",
            },
            verify=first.ca_bundle,
        ).json()["access_token"]
        keys = http.get(
            f"{first.base_url}/{first.tenant_id}/discovery/v2.0/keys", verify=first.ca_bundle
        ).json()
        first.reset()  # a seedless tenant keeps its random tenant id and service account
        assert first.admin("GET", "info")["tenant_id"] == info["tenant_id"]
        assert first.add_app(
            **{k: added[k] for k in ("name", "client_id", "client_secret", "roles")}
        )
        assert first.stop() == 0
    with start_sandbox(state, seed="none") as second:
        again = second.admin("GET", "info")
        assert again["tenant_id"] == info["tenant_id"]
        assert again["service_account"] == info["service_account"]
        assert Path(second.ca_bundle).read_bytes() == ca
        assert [a for a in again["apps"] if a["client_id"] == added["client_id"]] == [
            a for a in info["apps"] if a["client_id"] == added["client_id"]
        ]
        assert (
            http.get(
                f"{second.base_url}/{second.tenant_id}/discovery/v2.0/keys", verify=second.ca_bundle
            ).json()
            == keys
        )
        assert token.count(".") == 2
        second.process.send_signal(signal.SIGINT)
        assert second.process.wait(15) == 0


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CA_ENV_VARS}
    return subprocess.run(
        [sys.executable, "-m", "exchange_sandbox", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_non_loopback_host_is_refused(tmp_path: Path) -> None:
    result = _serve("--host", "0.0.0.0", "--state", str(tmp_path), "--seed", "none")
    assert result.returncode == 64
    assert result.stdout == ""
    assert "not a loopback address" in result.stderr


def test_bad_seed_is_a_usage_error(tmp_path: Path) -> None:
    result = _serve("--seed", "bulk:x", "--state", str(tmp_path))
    assert result.returncode == 2
    assert "bulk:MAILBOXES:MESSAGES" in result.stderr


def test_json_line_is_the_only_stdout(tmp_path: Path) -> None:
    with start_sandbox(tmp_path / "state", seed="none") as running:
        json.dumps(running.info)
        assert running.stop() == 0
        assert running.process.stdout is not None
        assert running.process.stdout.read() == ""


@pytest.mark.parametrize(
    ("backend", "auth"),
    [("graph", "secret"), ("graph", "certificate"), ("ews", "secret"), ("ews", "basic")],
)
def test_pack_config_is_a_valid_connection_config(
    sandbox: Sandbox, backend: str, auth: str
) -> None:
    from exchange_pack.config import ConnectionConfig

    config = ConnectionConfig(**sandbox.pack_config(backend=backend, auth=auth))
    assert config.backend == backend
    assert config.tls_verify == sandbox.ca_bundle
    if auth == "basic":
        assert config.ews_auth == "basic" and config.username and config.password
    else:
        assert config.authority == f"{sandbox.base_url}/{sandbox.tenant_id}"
    assert config.default_mailbox == "alice@contoso.com"
    assert config.token_cache_path and config.token_cache_path.startswith(str(sandbox.workdir))


def test_router_takes_the_first_route_for_the_method_and_answers_405_for_another() -> None:
    router = Router()
    router.add("GET", r"/users/(?P<user>[^/]+)", lambda **kw: Response(200), "get-user")
    router.add("*", r"/users/me", lambda **kw: Response(200), "any-me")
    router.add("POST", r"/users/(?P<user>[^/]+)", lambda **kw: Response(201), "post-user")
    router.add("POST", r"/users/me", lambda **kw: Response(202), "post-me")
    assert router.match("GET", "/users/me")[1:] == ({"user": "me"}, "get-user")  # type: ignore[index]
    assert router.match("POST", "/users/me")[2] == "any-me"  # type: ignore[index]
    assert router.match("POST", "/users/b%40c")[1:] == ({"user": "b@c"}, "post-user")  # type: ignore[index]
    assert router.match("DELETE", "/users/bob")[2] == "405"  # type: ignore[index]
    assert router.match("DELETE", "/users/me")[2] == "any-me"  # type: ignore[index]
    assert router.match("GET", "/groups") is None
    router.add("DELETE", r"/users/(?P<user>[^/]+)", lambda **kw: Response(204), "delete-user")
    assert router.match("DELETE", "/users/bob")[2] == "delete-user"  # type: ignore[index]
