"""Graph face: JSON batching — at most 20 requests, relative URLs, dependsOn, per-request
authorisation and throttling."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from graph_support import GraphClient, assert_graph_error, graph_token, openapi

from exchange_sandbox.process import Sandbox

ALICE = "/users/alice@contoso.com"


@pytest.fixture
def graph(fresh_sandbox: Sandbox) -> GraphClient:
    return GraphClient(fresh_sandbox, graph_token(fresh_sandbox))


def _get(item_id: str, url: str, **extra: object) -> dict[str, object]:
    return {"id": item_id, "method": "GET", "url": url, **extra}


def test_batch_runs_each_request(graph: GraphClient, shared_dir: Path) -> None:
    phish = graph.phish()
    body = graph.ok(
        "POST",
        "/$batch",
        json={
            "requests": [
                _get("1", f"{ALICE}/messages?$top=2&$select=subject"),
                _get("2", "users/bob@contoso.com/mailFolders/inbox"),
                _get("3", f"{ALICE}/messages/{phish['id']}/$value"),
                _get("4", "/users/nobody@contoso.com/messages"),
                {
                    "id": "5",
                    "method": "PATCH",
                    "url": f"{ALICE}/messages/{phish['id']}",
                    "headers": {"Content-Type": "application/json"},
                    "body": {"isRead": False},
                },
            ]
        },
    )
    openapi(shared_dir).validate("POST", "/$batch", body)
    by_id = {r["id"]: r for r in body["responses"]}
    assert by_id["1"]["status"] == 200 and len(by_id["1"]["body"]["value"]) == 2
    assert by_id["2"]["body"]["displayName"] == "Inbox"
    mime = base64.b64decode(by_id["3"]["body"])
    assert b"INV-20931" in mime
    assert by_id["4"]["status"] == 404
    assert by_id["4"]["body"]["error"]["code"] == "ErrorInvalidUser"
    assert by_id["5"]["status"] == 200 and by_id["5"]["body"]["isRead"] is False


def test_depends_on_orders_and_fails_dependents(graph: GraphClient) -> None:
    body = graph.ok(
        "POST",
        "/$batch",
        json={
            "requests": [
                _get("b", "/users/nobody@contoso.com/messages", dependsOn=["a"]),
                _get("a", f"{ALICE}/mailFolders/inbox"),
                _get("c", "/users", dependsOn=["b"]),
            ]
        },
    )
    assert [r["id"] for r in body["responses"]] == ["a", "b", "c"]
    statuses = {r["id"]: r["status"] for r in body["responses"]}
    assert statuses == {"a": 200, "b": 404, "c": 424}


def test_batch_limits_and_payload_errors(graph: GraphClient) -> None:
    too_many = {"requests": [_get(str(i), "/users") for i in range(21)]}
    assert_graph_error(graph.post("/$batch", json=too_many), 400, "BadRequest")
    twenty = {"requests": [_get(str(i), "/users?$top=1") for i in range(20)]}
    assert len(graph.ok("POST", "/$batch", json=twenty)["responses"]) == 20
    duplicate = {"requests": [_get("1", "/users"), _get("1", "/users")]}
    assert_graph_error(graph.post("/$batch", json=duplicate), 400, "BadRequest")
    no_type = {"requests": [{"id": "1", "method": "POST", "url": "/x", "body": {"a": 1}}]}
    assert_graph_error(graph.post("/$batch", json=no_type), 400, "BadRequest")
    unknown_dep = {"requests": [_get("1", "/users", dependsOn=["9"])]}
    assert_graph_error(graph.post("/$batch", json=unknown_dep), 400, "BadRequest")


def test_sub_requests_use_the_outer_token(fresh_sandbox: Sandbox, graph: GraphClient) -> None:
    reader = GraphClient(fresh_sandbox, graph_token(fresh_sandbox, "readonly"))
    phish = reader.phish()
    body = reader.ok(
        "POST",
        "/$batch",
        json={
            "requests": [
                _get("read", f"{ALICE}/messages/{phish['id']}?$select=subject"),
                {"id": "delete", "method": "DELETE", "url": f"{ALICE}/messages/{phish['id']}"},
            ]
        },
    )
    statuses = {r["id"]: r["status"] for r in body["responses"]}
    assert statuses == {"read": 200, "delete": 403}
    anonymous = GraphClient(fresh_sandbox, None)
    assert_graph_error(
        anonymous.post("/$batch", json={"requests": [_get("1", "/users")]}),
        401,
        "InvalidAuthenticationToken",
    )


def test_each_sub_request_is_throttled_on_its_own(
    fresh_sandbox: Sandbox, graph: GraphClient
) -> None:
    fresh_sandbox.fault(
        method="GET", path=r"^/v1\.0/users/bob@contoso\.com/messages$", throttle=3, count=1
    )
    body = graph.ok(
        "POST",
        "/$batch",
        json={
            "requests": [
                _get("alice", f"{ALICE}/messages?$top=1"),
                _get("bob", "/users/bob@contoso.com/messages?$top=1"),
                _get("carol", "/users/carol@contoso.com/messages?$top=1"),
            ]
        },
    )
    by_id = {r["id"]: r for r in body["responses"]}
    assert by_id["bob"]["status"] == 429
    assert by_id["bob"]["headers"]["Retry-After"] == "3"
    assert by_id["bob"]["body"]["error"]["code"] == "ApplicationThrottled"
    assert by_id["alice"]["status"] == by_id["carol"]["status"] == 200


def test_sub_requests_to_one_mailbox_share_its_four_concurrent_slots(
    fresh_sandbox: Sandbox, graph: GraphClient
) -> None:
    fresh_sandbox.settings(throttle="microsoft")
    try:
        steps = [_get(str(i), f"{ALICE}/messages?$top=1") for i in range(5)]
        steps.append(_get("bob", "/users/bob@contoso.com/messages?$top=1"))
        steps.append(_get("later", f"{ALICE}/messages?$top=1", dependsOn=["0"]))
        body = graph.ok("POST", "/$batch", json={"requests": steps})
        by_id = {r["id"]: r for r in body["responses"]}
        # The five run side by side: Outlook's limit of four per app and mailbox refuses one.
        assert sorted(by_id[str(i)]["status"] for i in range(5)) == [200, 200, 200, 200, 429]
        assert by_id["4"]["body"]["error"]["code"] == "ApplicationThrottled"
        assert by_id["4"]["headers"]["Retry-After"]
        assert by_id["bob"]["status"] == 200
        assert by_id["later"]["status"] == 200  # the first wave's slots were given back
    finally:
        fresh_sandbox.settings(throttle="off")
