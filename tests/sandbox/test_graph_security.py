"""Graph face enforcement: bearer tokens, application permissions, RBAC for Applications,
disabled mailboxes, throttling, and Graph's tracing headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msal
import pytest
import requests
from graph_support import GraphClient, app_client, assert_graph_error, graph_token

from exchange_sandbox.process import Sandbox
from exchange_sandbox.store import App
from exchange_sandbox.tenant import Settings, Tenant
from exchange_sandbox.web import SandboxHTTPServer, serve_in_thread

ALICE = "/users/alice@contoso.com"


@pytest.fixture
def graph(fresh_sandbox: Sandbox) -> GraphClient:
    return GraphClient(fresh_sandbox, graph_token(fresh_sandbox))


def test_missing_and_bad_tokens_are_401(fresh_sandbox: Sandbox) -> None:
    anonymous = GraphClient(fresh_sandbox, None)
    error = assert_graph_error(
        anonymous.get(f"{ALICE}/messages"), 401, "InvalidAuthenticationToken"
    )
    assert error["message"] == "Access token is empty."
    forged = GraphClient(fresh_sandbox, "eyJhbGciOiJub25lIn0.eyJ9.sig")
    assert_graph_error(forged.get(f"{ALICE}/messages"), 401, "InvalidAuthenticationToken")


def test_expired_token_is_401(fresh_sandbox: Sandbox, graph: GraphClient) -> None:
    assert graph.get(f"{ALICE}/messages").status_code == 200
    fresh_sandbox.clock(3 * 3600)
    assert_graph_error(graph.get(f"{ALICE}/messages"), 401, "InvalidAuthenticationToken")


def test_ews_audience_token_is_refused_by_graph(fresh_sandbox: Sandbox) -> None:
    registration = fresh_sandbox.app("full")
    http = requests.Session()
    http.trust_env = False
    http.verify = fresh_sandbox.ca_bundle
    client = msal.ConfidentialClientApplication(
        registration["client_id"],
        client_credential=registration["client_secret"],
        authority=f"{fresh_sandbox.info['authority_host']}/{fresh_sandbox.tenant_id}",
        instance_discovery=False,
        http_client=http,
    )
    token = client.acquire_token_for_client(["https://outlook.office365.com/.default"])
    ews_client = GraphClient(fresh_sandbox, token["access_token"])
    assert_graph_error(ews_client.get(f"{ALICE}/messages"), 401, "InvalidAuthenticationToken")


def test_read_only_app_cannot_write_or_send(fresh_sandbox: Sandbox) -> None:
    reader = GraphClient(fresh_sandbox, graph_token(fresh_sandbox, "readonly"))
    phish = reader.phish()
    assert reader.get(f"{ALICE}/messages/{phish['id']}/$value").status_code == 200
    for response in (
        reader.patch(f"{ALICE}/messages/{phish['id']}", json={"isRead": True}),
        reader.delete(f"{ALICE}/messages/{phish['id']}"),
        reader.post(f"{ALICE}/messages/{phish['id']}/move", json={"destinationId": "archive"}),
        reader.post(f"{ALICE}/sendMail", json={"message": {"subject": "x"}}),
        reader.patch(f"{ALICE}/mailboxSettings", json={"timeZone": "UTC"}),
    ):
        error = assert_graph_error(response, 403, "ErrorAccessDenied")
        assert error["message"] == "Access is denied. Check credentials and try again."


def test_mail_read_basic_hides_bodies(fresh_sandbox: Sandbox) -> None:
    basic = app_client(fresh_sandbox, ["Mail.ReadBasic.All"])
    message = basic.ok("GET", f"{ALICE}/messages", params={"$top": "1"})["value"][0]
    assert message["subject"] and "body" not in message and "bodyPreview" not in message
    assert_graph_error(
        basic.get(f"{ALICE}/messages/{message['id']}/$value"), 403, "ErrorAccessDenied"
    )
    assert_graph_error(
        basic.get(f"{ALICE}/messages/{message['id']}/attachments"), 403, "ErrorAccessDenied"
    )
    assert_graph_error(basic.get("/users"), 403, "ErrorAccessDenied")


def test_rbac_for_applications_scope(fresh_sandbox: Sandbox) -> None:
    scoped = GraphClient(fresh_sandbox, graph_token(fresh_sandbox, "scoped"))
    assert scoped.get(f"{ALICE}/messages").status_code == 200
    error = assert_graph_error(
        scoped.get("/users/bob@contoso.com/messages"), 403, "ErrorAccessDenied"
    )
    assert "Access to OData is disabled" in error["message"]


def test_unknown_user_and_me(graph: GraphClient) -> None:
    error = assert_graph_error(
        graph.get("/users/nobody@contoso.com/mailFolders"), 404, "ErrorInvalidUser"
    )
    assert "nobody@contoso.com" in error["message"]
    error = assert_graph_error(graph.get("/me/mailFolders/inbox/messages"), 400, "BadRequest")
    assert "delegated authentication flow" in error["message"]


def test_throttled_request_gets_429_with_retry_after(
    fresh_sandbox: Sandbox, graph: GraphClient
) -> None:
    fresh_sandbox.fault(method="GET", path=r"^/v1\.0/users/[^/]+/messages$", throttle=7, count=1)
    response = graph.get(f"{ALICE}/messages")
    assert_graph_error(response, 429, "ApplicationThrottled")
    assert response.headers["Retry-After"] == "7"
    assert graph.get(f"{ALICE}/messages").status_code == 200
    logged = [
        e for e in fresh_sandbox.requests() if e["path"] == "/v1.0/users/alice@contoso.com/messages"
    ]
    assert [e["status"] for e in logged] == [429, 200]


def test_microsoft_limits_allow_sequential_traffic(
    fresh_sandbox: Sandbox, graph: GraphClient
) -> None:
    fresh_sandbox.settings(throttle="microsoft")
    statuses = {graph.get(f"{ALICE}/messages", params={"$top": "1"}).status_code for _ in range(12)}
    assert statuses == {200}


def test_tracing_headers_echo_client_request_id(graph: GraphClient) -> None:
    response = graph.get(f"{ALICE}/messages", headers={"client-request-id": "abc-123"})
    assert response.headers["client-request-id"] == "abc-123"
    assert response.headers["request-id"]
    failed = graph.get("/users/nobody@contoso.com/messages", headers={"client-request-id": "x-9"})
    assert failed.json()["error"]["innerError"]["client-request-id"] == "x-9"


@pytest.fixture
def disabled_tenant(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A small tenant served in-process with one disabled mailbox: (graph root, token, CA)."""
    tenant = Tenant(Settings(state_dir=tmp_path, seed="none"))
    tenant.store.add_app(
        App("c0ffee00-0000-4000-8000-000000000001", "t", "s3cret", None, None, ["Mail.Read"])
    )
    gone = tenant.store.add_mailbox("gone@contoso.com", "Gone User")
    tenant.store.set_mailbox_enabled(gone.id, False)
    server = SandboxHTTPServer(
        ("127.0.0.1", 0), tenant, tenant.tls.ssl_context(), on_complete=tenant.complete
    )
    tenant.base_url = f"https://127.0.0.1:{server.server_address[1]}"
    serve_in_thread(server)
    http = requests.Session()
    http.trust_env = False
    http.verify = str(tenant.tls.ca_path)
    client = msal.ConfidentialClientApplication(
        "c0ffee00-0000-4000-8000-000000000001",
        client_credential="s3cret",
        authority=f"{tenant.base_url}/{tenant.tenant_id}",
        instance_discovery=False,
        http_client=http,
    )
    token = client.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    try:
        yield f"{tenant.base_url}/v1.0", token["access_token"], str(tenant.tls.ca_path)
    finally:
        server.shutdown()
        server.server_close()
        tenant.store.close()


def test_disabled_mailbox_is_not_enabled_for_rest(disabled_tenant: tuple[str, str, str]) -> None:
    root, token, ca_path = disabled_tenant
    response = requests.get(
        f"{root}/users/gone@contoso.com/messages",
        headers={"Authorization": f"Bearer {token}"},
        verify=ca_path,
        timeout=30,
    )
    assert_graph_error(response, 404, "MailboxNotEnabledForRESTAPI")
