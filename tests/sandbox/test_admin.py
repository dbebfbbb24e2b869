"""The admin API: request log, fault injection, clock skew, runtime settings, reset."""

from __future__ import annotations

import datetime as dt
import time
from email.message import Message
from pathlib import Path

import jwt
import pytest
import requests

from exchange_sandbox.faults import Fault
from exchange_sandbox.process import Sandbox, SandboxError
from exchange_sandbox.tenant import Settings, Tenant, Throttled
from exchange_sandbox.throttle import Limit
from exchange_sandbox.web import Request, Response

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def _discovery_path(sandbox: Sandbox) -> str:
    return f"/{sandbox.tenant_id}/v2.0/.well-known/openid-configuration"


def _discover(sandbox: Sandbox, http: requests.Session) -> requests.Response:
    return http.get(f"{sandbox.base_url}{_discovery_path(sandbox)}", timeout=30)


def _token(
    sandbox: Sandbox, http: requests.Session, secret: str | None = None
) -> requests.Response:
    full = sandbox.app("full")
    return http.post(
        f"{sandbox.base_url}/{sandbox.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": full["client_id"],
            "client_secret": secret or full["client_secret"],
            "scope": GRAPH_SCOPE,
        },
        timeout=30,
    )


# -- request log --------------------------------------------------------------------------------
def test_request_log_records_token_requests_but_not_admin_calls(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    assert fresh_sandbox.requests() == []
    assert _token(fresh_sandbox, sandbox_http).status_code == 200
    assert _token(fresh_sandbox, sandbox_http, secret="wrong").status_code == 401
    log = fresh_sandbox.requests()
    assert [(e["status"], e["operation"]) for e in log] == [(200, "token"), (401, "token")]
    entry = log[0]
    assert set(entry) == {
        "method",
        "path",
        "status",
        "duration_ms",
        "app",
        "mailbox",
        "operation",
        "ts",
    }
    assert entry["method"] == "POST"
    assert entry["path"] == f"/{fresh_sandbox.tenant_id}/oauth2/v2.0/token"
    assert entry["app"] == fresh_sandbox.app("full")["client_id"]
    assert entry["mailbox"] is None
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert log[0]["ts"] <= log[1]["ts"] <= time.time()
    fresh_sandbox.clear_requests()
    assert fresh_sandbox.requests() == []


def test_unknown_paths_are_logged_as_404(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    response = sandbox_http.get(f"{fresh_sandbox.base_url}/nowhere")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"
    assert fresh_sandbox.requests()[-1]["status"] == 404


# -- faults -----------------------------------------------------------------------------------
def test_fault_by_count_fires_that_many_times(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    described = fresh_sandbox.fault(path=r"/oauth2/v2\.0/token$", status=503, count=2)
    assert described["remaining"] == 2
    statuses = [_token(fresh_sandbox, sandbox_http).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [e["status"] for e in fresh_sandbox.requests()] == [503, 503, 200]
    assert fresh_sandbox.admin("GET", "faults") == []


def test_fault_body_headers_and_method_filter(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    fresh_sandbox.fault(
        method="GET",
        path="openid-configuration",
        status=500,
        body={"error": "boom"},
        headers={"x-ms-ags-diagnostic": "injected"},
    )
    assert _token(fresh_sandbox, sandbox_http).status_code == 200  # POST: not matched
    response = _discover(fresh_sandbox, sandbox_http)
    assert response.status_code == 500
    assert response.json() == {"error": "boom"}
    assert response.headers["x-ms-ags-diagnostic"] == "injected"
    assert _discover(fresh_sandbox, sandbox_http).status_code == 200  # count defaults to 1


def test_fault_without_body_gets_a_json_error(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    fresh_sandbox.fault(path="openid-configuration", status=504)
    response = _discover(fresh_sandbox, sandbox_http)
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "GatewayTimeout"


def test_fault_by_probability(fresh_sandbox: Sandbox, sandbox_http: requests.Session) -> None:
    fresh_sandbox.fault(path="openid-configuration", status=503, probability=0)
    assert [_discover(fresh_sandbox, sandbox_http).status_code for _ in range(5)] == [200] * 5
    fresh_sandbox.clear_faults()
    fresh_sandbox.fault(path="openid-configuration", status=503, probability=1)
    assert [_discover(fresh_sandbox, sandbox_http).status_code for _ in range(5)] == [503] * 5
    assert len(fresh_sandbox.admin("GET", "faults")) == 1  # probability alone never runs out
    fresh_sandbox.clear_faults()
    assert _discover(fresh_sandbox, sandbox_http).status_code == 200


def test_reset_fault_drops_the_connection(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    fresh_sandbox.fault(path="openid-configuration", reset=True)
    with pytest.raises(requests.ConnectionError):
        _discover(fresh_sandbox, sandbox_http)
    assert _discover(fresh_sandbox, sandbox_http).status_code == 200
    assert [e["status"] for e in fresh_sandbox.requests()] == [0, 200]


def test_delay_fault_lets_the_request_through_late(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    fresh_sandbox.fault(path="openid-configuration", delay_ms=150)
    assert _discover(fresh_sandbox, sandbox_http).status_code == 200
    # The log's duration includes the injected sleep: a lower bound, not a timing race.
    assert fresh_sandbox.requests()[0]["duration_ms"] >= 150


@pytest.mark.parametrize(
    "spec",
    [
        {"path": "(", "status": 500},
        {"path": "x"},
        {"path": "x", "status": 99},
        {"path": "x", "status": 500, "probability": 2},
        {"path": "x", "status": 500, "colour": "red"},
    ],
)
def test_bad_fault_specs_are_refused(fresh_sandbox: Sandbox, spec: dict) -> None:
    with pytest.raises(SandboxError, match="400"):
        fresh_sandbox.fault(**spec)


# -- clock, settings, reset ----------------------------------------------------------------------
def test_clock_skew_moves_token_times(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    state = fresh_sandbox.clock(7200)
    assert state["skew_seconds"] == 7200
    issued = jwt.decode(
        _token(fresh_sandbox, sandbox_http).json()["access_token"],
        options={"verify_signature": False},
    )["iat"]
    expected = dt.datetime.now(dt.timezone.utc).timestamp() + 7200
    assert abs(issued - expected) < 120
    assert fresh_sandbox.clock(0)["skew_seconds"] == 0


def test_runtime_settings(fresh_sandbox: Sandbox) -> None:
    changed = fresh_sandbox.settings(latency_ms=5, throttle="microsoft", ews_blocked=True)
    assert changed == {
        "latency_ms": 5,
        "throttle": "microsoft",
        "ews_blocked": True,
        "token_lifetime": 3599,
        "ediscovery_time_scale": 0.01,
    }
    with pytest.raises(SandboxError, match="400"):
        fresh_sandbox.settings(throttle="sometimes")
    with pytest.raises(SandboxError, match="400"):
        fresh_sandbox.settings(colour="red")
    assert (
        fresh_sandbox.settings(latency_ms=0, throttle="off", ews_blocked=False)["latency_ms"] == 0
    )


def test_reset_drops_added_apps_and_keeps_the_tenant(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    extra = fresh_sandbox.add_app(name="temporary", roles=["Mail.Read"])
    names = {a["name"] for a in fresh_sandbox.admin("GET", "apps")}
    assert "temporary" in names
    before = fresh_sandbox.admin("GET", "info")
    fresh_sandbox.reset()
    after = fresh_sandbox.admin("GET", "info")
    assert extra["client_id"] not in {a["client_id"] for a in after["apps"]}
    assert after["tenant_id"] == before["tenant_id"]
    assert after["service_account"] == before["service_account"]
    full_before = next(a for a in before["apps"] if a["name"] == "full")
    full_after = next(a for a in after["apps"] if a["name"] == "full")
    assert full_after["client_secret"] == full_before["client_secret"]
    assert (
        Path(full_after["certificate_path"]).read_text()
        == Path(full_before["certificate_path"]).read_text()
    )
    assert _token(fresh_sandbox, sandbox_http).status_code == 200


# -- in-process pipeline checks (loopback guard, throttling) ----------------------------------
@pytest.fixture
def local_tenant(tmp_path: Path) -> Tenant:
    return Tenant(Settings(state_dir=tmp_path, seed="none"))


def _request(method: str, path: str, client: str = "127.0.0.1") -> Request:
    return Request(method, path, path, {}, Message(), b"", client_address=client)


def test_admin_api_answers_loopback_only(local_tenant: Tenant) -> None:
    assert local_tenant(_request("GET", "/_sandbox/requests", "192.0.2.7")).status == 403
    assert local_tenant(_request("GET", "/_sandbox/requests", "::1")).status == 200


def test_microsoft_limits_four_concurrent_per_app_and_mailbox(local_tenant: Tenant) -> None:
    local_tenant.settings.throttle = "microsoft"
    mailbox = local_tenant.store.add_mailbox("alice@contoso.com", "Alice")
    running = []
    for _ in range(4):
        request = _request("GET", "/v1.0/users")
        request.app = "app-1"
        assert local_tenant.throttle(request, "graph", mailbox) is None
        running.append(request)
    fifth = _request("GET", "/v1.0/users")
    fifth.app = "app-1"
    assert isinstance(local_tenant.throttle(fifth, "graph", mailbox), Throttled)
    other_app = _request("GET", "/v1.0/users")
    other_app.app = "app-2"
    assert local_tenant.throttle(other_app, "graph", mailbox) is None
    local_tenant.release(running[0])
    local_tenant.release(running[0])  # a second release is harmless
    assert local_tenant.throttle(fifth, "graph", mailbox) is None
    for _ in range(2):
        extra = _request("GET", "/v1.0/users")
        extra.app = "app-1"
        assert local_tenant.throttle(extra, "graph", mailbox) is not None


def test_throttle_fault_reaches_the_face_and_pipeline_releases_slots(
    local_tenant: Tenant,
) -> None:
    seen: list[Throttled | None] = []

    def face(request: Request) -> Response:
        seen.append(local_tenant.throttle(request, "graph", None))
        return Response.empty(200)

    local_tenant.router.add("GET", r"/v1\.0/probe", face, "probe")
    local_tenant.settings.throttle = "microsoft"
    local_tenant.faults.add(Fault.from_spec({"path": "/probe", "throttle": 7}))
    for _ in range(6):  # more than 4: the pipeline frees the slots the face did not release
        request = _request("GET", "/v1.0/probe")
        response = local_tenant(request)
        local_tenant.complete(request, response, 1.0)
    assert seen[0] == Throttled(7.0)
    assert seen[1:] == [None] * 5
    assert [e["operation"] for e in local_tenant.request_log.entries()] == ["probe"] * 6


def test_streamed_answers_hold_their_slot_until_sent(local_tenant: Tenant) -> None:
    mailbox = local_tenant.store.add_mailbox("bob@contoso.com", "Bob")

    def stream(request: Request) -> Response:
        request.app = "app-1"
        assert local_tenant.throttle(request, "graph", mailbox) is None
        return Response(200, {}, iter([b"chunk"]))

    local_tenant.router.add("GET", r"/v1\.0/stream", stream, "stream")
    local_tenant.settings.throttle = "microsoft"
    bodies = [local_tenant(_request("GET", "/v1.0/stream")).body for _ in range(4)]
    probe = _request("GET", "/v1.0/stream")
    probe.app = "app-1"
    assert local_tenant.throttle(probe, "graph", mailbox) is not None  # four streams open
    assert b"".join(bodies[0]) == b"chunk"  # type: ignore[arg-type]
    assert local_tenant.throttle(probe, "graph", mailbox) is None


def test_throttle_fault_on_graph_is_429_application_throttled(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session, graph_token: str
) -> None:
    fresh_sandbox.fault(
        method="GET", path=r"^/v1\.0/users/alice@contoso\.com/messages$", throttle=3
    )
    url = f"{fresh_sandbox.info['graph_url']}/v1.0/users/alice@contoso.com/messages"
    headers = {"Authorization": f"Bearer {graph_token}"}
    throttled = sandbox_http.get(url, headers=headers)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "3"
    assert throttled.json()["error"]["code"] == "ApplicationThrottled"
    assert sandbox_http.get(url, headers=headers).status_code == 200
    log = [e for e in fresh_sandbox.requests() if e["path"].endswith("/messages")]
    assert [e["status"] for e in log] == [429, 200]
    assert log[0]["mailbox"] == "alice@contoso.com"


def test_a_lowered_graph_budget_throttles_the_second_request(local_tenant: Tenant) -> None:
    local_tenant.settings.throttle = "microsoft"
    local_tenant.settings.graph_limit = Limit.parse("4:1:30")
    mailbox = local_tenant.store.add_mailbox("carol@contoso.com", "Carol")
    first, second = _request("GET", "/v1.0/users"), _request("GET", "/v1.0/users")
    first.app = second.app = "app-1"
    assert local_tenant.throttle(first, "graph", mailbox) is None
    local_tenant.release(first)
    verdict = local_tenant.throttle(second, "graph", mailbox)
    assert isinstance(verdict, Throttled) and 1 <= verdict.retry_after_seconds <= 30
    with pytest.raises(ValueError):
        Limit.parse("4:0:600")
