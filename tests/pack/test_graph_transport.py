"""Graph transport: path encoding, link checks, retries (429/503/504, resets), error mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from graph_backend_support import GraphHarness, campaign_id, harness

from exchange_pack import errors
from exchange_pack.graph.errors import graph_error, required_permission, retry_after_seconds
from exchange_pack.graph.messages import message_path, rest_id
from exchange_pack.graph.transport import RetryBudget, graph_path, segment, with_query
from exchange_sandbox.process import Sandbox

HOSTILE_IDS = ["a/b", "../../users/bob", "x?$select=body", "x#frag", "a%2Fb", "a b+c"]


@pytest.fixture
def graph(fresh_sandbox: Sandbox) -> GraphHarness:
    return harness(fresh_sandbox)


# -- pure logic ----------------------------------------------------------------------------
@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_an_id_stays_one_path_segment(hostile: str) -> None:
    path = graph_path("/users/{}/messages/{}/attachments", "alice@contoso.com", hostile)
    prepared = requests.Request("GET", "https://graph.example" + path).prepare()
    assert prepared.path_url.count("/") == 5  # users, mailbox, messages, id, attachments
    assert "?" not in prepared.path_url and "#" not in prepared.url
    assert prepared.path_url.endswith("/attachments")


@pytest.mark.parametrize("dots", [".", "..", "", "..."])
def test_dot_segments_are_refused(dots: str) -> None:
    with pytest.raises(errors.InputError):
        segment(dots)


def test_ews_ids_convert_to_rest_form_locally() -> None:
    assert rest_id("AAMk+AB/cd==") == "AAMk_AB-cd=="
    assert message_path("a@b.c", "AAMk+AB/cd==", "/$value").endswith(
        "/messages/AAMk_AB-cd%3D%3D/$value"
    )


def test_query_keeps_odata_syntax_readable() -> None:
    url = with_query("/users", {"$filter": "mail eq 'a+b@c.d'", "$top": 5, "$skip": None})
    assert url == "/users?$filter=mail%20eq%20'a%2Bb%40c.d'&$top=5"


def test_retry_budget_bounds_count_and_total_wait() -> None:
    budget = RetryBudget(retries=3, wait_seconds=10)
    assert budget.next_wait(4) == 4
    assert budget.next_wait(None) == 2.0  # backoff doubles from 1 s
    assert budget.next_wait(5) is None  # 5 s would exceed the 4 s left
    assert budget.next_wait(4) == 4
    assert budget.next_wait(0) is None  # retries used up


def test_retry_after_accepts_decimal_seconds_and_dates() -> None:
    assert retry_after_seconds({"Retry-After": "2.128"}) == pytest.approx(2.128)
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({}) is None


def test_permission_hints_follow_the_request() -> None:
    assert required_permission("POST", "/v1.0/users/a/sendMail") == "Mail.Send"
    assert required_permission("GET", "/v1.0/users/a/messages/x") == "Mail.Read"
    assert required_permission("POST", "/v1.0/users/a/messages/x/move") == "Mail.ReadWrite"
    assert required_permission("GET", "/v1.0/users/a/mailboxSettings") == "MailboxSettings.Read"
    assert required_permission("GET", "/v1.0/users") == "User.Read.All"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("error-404-ErrorItemNotFound.json", errors.MessageNotFoundError),
        ("error-403-ErrorAccessDenied.json", errors.AccessDeniedError),
        ("error-401-InvalidAuthenticationToken.json", errors.AuthenticationError),
        ("error-429-TooManyRequests-docs.json", errors.ThrottledError),
        ("error-429-ApplicationThrottled-MailboxConcurrency.json", errors.ThrottledError),
    ],
)
def test_documented_error_bodies_map_to_pack_errors(
    shared_dir: Path, name: str, expected: type[errors.ExchangePackError]
) -> None:
    sample = json.loads((shared_dir / "graph" / "errors" / name).read_text())
    headers = {k: v for k, v in sample.get("headers", {}).items() if v[:1].isdigit()}
    error = graph_error(
        sample["status"], sample["body"], headers, method="GET", path="/v1.0/users/a/messages/x"
    )
    assert type(error) is expected
    assert error.backend_code == sample["body"]["error"]["code"]
    if expected is errors.AccessDeniedError:
        assert "Mail.Read" in (error.hint or "") and "admin consent" in (error.hint or "")
    if name == "error-429-TooManyRequests-docs.json":
        assert error.retry_after_seconds == pytest.approx(2.128)


def test_unknown_user_is_mailbox_not_found() -> None:
    body = {"error": {"code": "ErrorInvalidUser", "message": "The requested user is invalid."}}
    error = graph_error(404, body, {}, method="GET", path="/v1.0/users/nobody/messages")
    assert isinstance(error, errors.MailboxNotFoundError)


# -- against the sandbox ------------------------------------------------------------------
MESSAGES = r"^/v1\.0/users/[^/]+/messages$"


def _lookup(graph: GraphHarness) -> None:
    graph.mailbox().resolve(campaign_id("alice"))


def test_throttled_get_waits_the_retry_after_then_succeeds(graph: GraphHarness) -> None:
    graph.sandbox.fault(method="GET", path=MESSAGES, status=429, headers={"Retry-After": "2"})
    _lookup(graph)
    assert graph.sleeps == [2.0]
    assert [r["status"] for r in graph.graph_requests()] == [429, 200]
    assert graph.session.stats.throttled == 1
    assert graph.session.stats.throttle_wait_seconds == 2.0
    assert graph.session.stats.requests == 2


def test_503_without_retry_after_backs_off(graph: GraphHarness) -> None:
    graph.sandbox.fault(method="GET", path=MESSAGES, status=503, count=2)
    _lookup(graph)
    assert graph.sleeps == [1.0, 2.0]
    assert [r["status"] for r in graph.graph_requests()] == [503, 503, 200]


def test_retries_stop_at_max_retries(fresh_sandbox: Sandbox) -> None:
    graph = harness(fresh_sandbox, max_retries=2)
    graph.sandbox.fault(method="GET", path=MESSAGES, status=503, count=5)
    with pytest.raises(errors.TransientError):
        _lookup(graph)
    assert len(graph.graph_requests()) == 3
    assert len(graph.sleeps) == 2


def test_retry_after_beyond_the_wait_budget_is_reported_not_waited(
    fresh_sandbox: Sandbox,
) -> None:
    graph = harness(fresh_sandbox, max_retry_wait_seconds=5)
    graph.sandbox.fault(method="GET", path=MESSAGES, status=429, headers={"Retry-After": "30"})
    with pytest.raises(errors.ThrottledError) as caught:
        _lookup(graph)
    assert caught.value.retry_after_seconds == 30
    assert caught.value.exit_code == 75
    assert graph.sleeps == []
    assert len(graph.graph_requests()) == 1


def test_a_reset_get_is_retried(graph: GraphHarness) -> None:
    graph.sandbox.fault(method="GET", path=MESSAGES, reset=True)
    _lookup(graph)
    assert graph.sleeps == [1.0]
    assert graph.session.stats.requests == 2


def test_a_reset_copy_is_never_repeated(graph: GraphHarness) -> None:
    mailbox = graph.mailbox()
    message = mailbox.resolve(campaign_id("alice"))
    graph.start_counting()
    graph.sandbox.fault(method="POST", path=r"/copy$", reset=True)
    with pytest.raises(errors.AmbiguousOutcomeError) as caught:
        mailbox.copy(message, "inbox", None)
    assert caught.value.exit_code == 75 and not caught.value.retryable
    assert graph.session.stats.requests == 1
    assert graph.sleeps == []


def test_a_gateway_timeout_on_copy_is_not_repeated(graph: GraphHarness) -> None:
    mailbox = graph.mailbox()
    message = mailbox.resolve(campaign_id("alice"))
    graph.start_counting()
    graph.sandbox.fault(method="POST", path=r"/copy$", status=504)
    with pytest.raises(errors.AmbiguousOutcomeError):
        mailbox.copy(message, "inbox", None)
    assert [r["status"] for r in graph.graph_requests()] == [504]


def test_a_throttled_copy_is_retried_because_429_means_not_applied(graph: GraphHarness) -> None:
    mailbox = graph.mailbox()
    message = mailbox.resolve(campaign_id("alice"))
    graph.start_counting()
    graph.sandbox.fault(method="POST", path=r"/copy$", status=429, headers={"Retry-After": "1"})
    copied = mailbox.copy(message, "inbox", None)
    assert copied.id != message.id
    assert [r["status"] for r in graph.graph_requests()] == [429, 201]


def test_a_refused_token_is_asked_again_once(graph: GraphHarness) -> None:
    body = {"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}}
    graph.sandbox.fault(method="GET", path=MESSAGES, status=401, body=body)
    _lookup(graph)
    assert [r["status"] for r in graph.graph_requests()] == [401, 200]


def test_a_next_link_to_another_host_is_refused(graph: GraphHarness) -> None:
    page = {"value": [], "@odata.nextLink": "https://evil.example/v1.0/users/a/messages?$skip=1"}
    graph.sandbox.fault(method="GET", path=MESSAGES, status=200, body=page)
    with pytest.raises(errors.InternalError):
        list(graph.backend.client.pages("/users/alice@contoso.com/messages"))


@pytest.mark.parametrize(
    "link",
    [
        "http://{host}/v1.0/users/a/messages",  # scheme changed
        "https://{host}:1/v1.0/users/a/messages",  # port changed
        "https://{host}/_sandbox/requests",  # outside the version root
    ],
)
def test_links_must_keep_scheme_host_port_and_root(graph: GraphHarness, link: str) -> None:
    host = graph.backend.client.root.split("/")[2].split(":")[0]
    port = graph.backend.client.root.split("/")[2].split(":")[1]
    real = link.format(host=f"{host}:{port}") if ":1/" not in link else link.format(host=host)
    with pytest.raises(errors.InternalError):
        graph.backend.client.check_link(real)
    graph.backend.client.check_link(graph.backend.client.root + "/users/a/messages?$skip=10")


def test_hostile_ids_are_not_found_not_another_resource(graph: GraphHarness) -> None:
    mailbox = graph.mailbox()
    for hostile in HOSTILE_IDS:
        with pytest.raises((errors.MessageNotFoundError, errors.InputError)):
            mailbox.resolve(hostile)
