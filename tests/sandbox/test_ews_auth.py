"""EWS authentication, impersonation, RBAC, throttling and the blocked-EWS switch."""

from __future__ import annotations

import base64

import pytest
import requests
import spnego
from ews_face_support import (
    NS,
    body_payload,
    envelope,
    ews_token,
    oauth_account,
    post,
    trust_sandbox_ca,
)
from exchangelib import BASIC, IMPERSONATION, NTLM, Account, Configuration, Credentials
from exchangelib.errors import ErrorServerBusy
from lxml import etree

from exchange_sandbox.process import Sandbox

pytestmark = pytest.mark.sandbox

GET_INBOX = (
    "<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>"
    '<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>'
)


@pytest.fixture(scope="module")
def token(sandbox: Sandbox) -> str:
    return ews_token(sandbox)


def fault_code(response: requests.Response) -> str:
    root = etree.fromstring(response.content)
    return root.findtext(".//s:Fault/detail/{*}ResponseCode", namespaces=NS) or ""


def test_missing_token_is_401_with_challenges(sandbox: Sandbox) -> None:
    response = post(sandbox, envelope(GET_INBOX, impersonate="alice@contoso.com"))
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert "Bearer" in challenge and "NTLM" in challenge and "Basic" in challenge
    assert "x-ms-diagnostics" in response.headers


def test_malformed_token_is_401_with_one_line_diagnostics(sandbox: Sandbox) -> None:
    # The reason has two sentences on two lines in Microsoft's wording: a raw line break in
    # the header would end the header block early and leave the client waiting for its body.
    http = requests.Session()
    http.trust_env = False
    with http:
        response = http.post(
            sandbox.info["ews_url"],
            data=envelope(GET_INBOX, impersonate="alice@contoso.com"),
            headers={"Content-Type": "text/xml", "Authorization": "Bearer not-a-jwt"},
            verify=sandbox.ca_bundle,
            timeout=10,
        )
    assert response.status_code == 401
    diagnostics = response.headers["x-ms-diagnostics"]
    assert diagnostics.startswith('2000001;reason="IDX14100: JWT is not well formed')
    assert "Compact Serialization Format." in diagnostics and "\n" not in diagnostics
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_without_full_access_as_app_is_401(sandbox: Sandbox) -> None:
    token = ews_token(sandbox, app="readonly")
    response = post(sandbox, envelope(GET_INBOX, impersonate="alice@contoso.com"), token)
    assert response.status_code == 401
    assert response.headers["x-ms-diagnostics"].startswith("2000008;")


def test_app_token_needs_the_impersonation_header(sandbox: Sandbox, token: str) -> None:
    response = post(sandbox, envelope(GET_INBOX), token)
    assert response.status_code == 500
    assert fault_code(response) == "ErrorInvalidExchangeImpersonationHeaderData"
    assert b"must be present for this type of OAuth token" in response.content


@pytest.mark.parametrize(
    ("connecting", "expected"),
    [
        (
            "<t:PrimarySmtpAddress>ghost@contoso.com</t:PrimarySmtpAddress>",
            "ErrorNonExistentMailbox",
        ),
        (
            "<t:PrimarySmtpAddress> </t:PrimarySmtpAddress>",
            "ErrorInvalidExchangeImpersonationHeaderData",
        ),
        ("<t:SID>S-1-5-21-0-0-0-9999</t:SID>", "ErrorNonExistentMailbox"),
    ],
)
def test_impersonation_errors(sandbox: Sandbox, token: str, connecting: str, expected: str) -> None:
    data = envelope(GET_INBOX).replace(
        b"</s:Header>",
        f"<t:ExchangeImpersonation><t:ConnectingSID>{connecting}</t:ConnectingSID>"
        "</t:ExchangeImpersonation></s:Header>".encode(),
    )
    response = post(sandbox, data, token)
    assert response.status_code == 500
    assert fault_code(response) == expected


@pytest.mark.parametrize("kind", ["PrincipalName", "SmtpAddress", "PrimarySmtpAddress"])
def test_impersonation_by_principal_name_and_smtp(sandbox: Sandbox, token: str, kind: str) -> None:
    data = envelope(GET_INBOX).replace(
        b"</s:Header>",
        f"<t:ExchangeImpersonation><t:ConnectingSID><t:{kind}>bob@contoso.com</t:{kind}>"
        "</t:ConnectingSID></t:ExchangeImpersonation></s:Header>".encode(),
    )
    response = post(sandbox, data, token, {"X-AnchorMailbox": "bob@contoso.com"})
    assert response.status_code == 200, response.text
    assert body_payload(response).find(".//t:DisplayName", NS).text == "Inbox"
    log = [r for r in sandbox.requests() if r["path"].endswith(".asmx")][-1]
    assert (log["mailbox"], log["operation"]) == ("bob@contoso.com", "GetFolder")


def test_unknown_anchor_mailbox(sandbox: Sandbox, token: str) -> None:
    data = envelope(GET_INBOX, impersonate="bob@contoso.com")
    response = post(sandbox, data, token, {"X-AnchorMailbox": "nobody@contoso.com"})
    assert fault_code(response) == "ErrorNonExistentMailbox"


def test_rbac_scope_denies_impersonation(fresh_sandbox: Sandbox) -> None:
    scoped = fresh_sandbox.add_app(
        display_name="ews-rbac", roles=["full_access_as_app"], mailbox_scope=["soc@contoso.com"]
    )
    fresh_sandbox.info["apps"].insert(0, {**scoped, "name": "ews-rbac"})
    try:
        token = ews_token(fresh_sandbox, app="ews-rbac")
    finally:
        fresh_sandbox.info["apps"].pop(0)
    allowed = post(fresh_sandbox, envelope(GET_INBOX, impersonate="soc@contoso.com"), token)
    assert allowed.status_code == 200, allowed.headers
    denied = post(fresh_sandbox, envelope(GET_INBOX, impersonate="alice@contoso.com"), token)
    assert fault_code(denied) == "ErrorImpersonateUserDenied"


def test_ews_blocked_is_403_at_runtime(fresh_sandbox: Sandbox, token: str) -> None:
    fresh_sandbox.settings(ews_blocked=True)
    response = post(fresh_sandbox, envelope(GET_INBOX, impersonate="alice@contoso.com"), token)
    assert response.status_code == 403
    assert "EWS is blocked" in response.headers["x-ms-diagnostics"]
    fresh_sandbox.settings(ews_blocked=False)
    response = post(fresh_sandbox, envelope(GET_INBOX, impersonate="alice@contoso.com"), token)
    assert response.status_code == 200


def test_throttling_answers_server_busy_with_back_off(fresh_sandbox: Sandbox, token: str) -> None:
    fresh_sandbox.fault(method="POST", path="/EWS/.*", throttle=2.5, count=1)
    response = post(fresh_sandbox, envelope(GET_INBOX, impersonate="alice@contoso.com"), token)
    assert response.status_code == 500
    assert fault_code(response) == "ErrorServerBusy"
    back_off = etree.fromstring(response.content).find(".//t:Value", NS)
    assert (back_off.get("Name"), back_off.text) == ("BackOffMilliseconds", "2500")
    account = oauth_account(fresh_sandbox, "alice@contoso.com", token)
    assert account.version.build  # the version probe happens before the throttled call
    fresh_sandbox.fault(method="POST", path="/EWS/.*", throttle=3, count=1)
    with pytest.raises(ErrorServerBusy) as raised:
        account.inbox.all().count()
    assert raised.value.back_off == 3.0


@pytest.mark.parametrize("auth_type", [NTLM, BASIC])
def test_service_account_ntlm_and_basic(sandbox: Sandbox, auth_type: str) -> None:
    trust_sandbox_ca(sandbox.ca_bundle)
    service = sandbox.info["service_account"]
    credentials = Credentials(service["username"], service["password"])
    config = Configuration(
        service_endpoint=sandbox.info["ews_url"], credentials=credentials, auth_type=auth_type
    )
    account = Account(
        "carol@contoso.com", access_type=IMPERSONATION, autodiscover=False, config=config
    )
    assert account.inbox.total_count > 0
    log = [r for r in sandbox.requests() if r["path"].endswith(".asmx") and r["status"] == 200]
    assert log[-1]["app"] == service["username"]


def test_wrong_service_password_is_401(sandbox: Sandbox) -> None:
    service = sandbox.info["service_account"]
    response = post(
        sandbox,
        envelope(GET_INBOX, impersonate="alice@contoso.com"),
        headers={"Authorization": requests.auth._basic_auth_str(service["username"], "wrong")},
    )
    assert response.status_code == 401


def test_interleaved_ntlm_handshakes_both_succeed(sandbox: Sandbox) -> None:
    # Two clients negotiate before either authenticates (concurrent action processes): each
    # AUTHENTICATE must find its own challenge, whichever answers first.
    service = sandbox.info["service_account"]
    request = envelope(GET_INBOX, impersonate="alice@contoso.com")
    clients = [
        spnego.client(service["username"], service["password"], protocol="ntlm") for _ in range(2)
    ]
    answers = []
    for client in clients:
        negotiate = base64.b64encode(client.step()).decode("ascii")
        challenged = post(sandbox, request, headers={"Authorization": f"NTLM {negotiate}"})
        assert challenged.status_code == 401
        challenge = challenged.headers["WWW-Authenticate"].split(" ", 1)[1]
        answers.append(base64.b64encode(client.step(base64.b64decode(challenge))).decode("ascii"))
    for answer in answers:
        response = post(sandbox, request, headers={"Authorization": f"NTLM {answer}"})
        assert response.status_code == 200, response.status_code
    replayed = post(sandbox, request, headers={"Authorization": f"NTLM {answers[0]}"})
    assert replayed.status_code == 401  # a finished handshake cannot be answered again
    assert "NTLM" in replayed.headers["WWW-Authenticate"]
