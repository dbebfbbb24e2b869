"""Helpers for the EWS face tests: exchangelib accounts and raw SOAP over real HTTPS."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msal
import requests
import requests.adapters
from exchangelib import (
    IMPERSONATION,
    OAUTH2,
    Account,
    Configuration,
    FailFast,
    Identity,
    OAuth2Credentials,
)
from exchangelib.protocol import BaseProtocol
from lxml import etree

from exchange_sandbox.ews import schema
from exchange_sandbox.ews.soap import MESSAGES_NS, SOAP_NS, TYPES_NS
from exchange_sandbox.process import Sandbox

EWS_SCOPE = "https://outlook.office365.com/.default"
NS = {"s": SOAP_NS, "m": MESSAGES_NS, "t": TYPES_NS}
SCHEMA_DIR = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "research"
    / "fixtures"
    / "ews-xsd"
    / "exchange-online"
)


def trust_sandbox_ca(ca_bundle: str) -> None:
    """Makes exchangelib verify TLS against the sandbox CA (its supported adapter hook)."""

    class SandboxCAAdapter(requests.adapters.HTTPAdapter):
        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            super().cert_verify(conn, url, ca_bundle, cert)

        def get_connection_with_tls_context(
            self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
        ) -> Any:
            return super().get_connection_with_tls_context(request, ca_bundle, proxies, cert)

    BaseProtocol.HTTP_ADAPTER_CLS = SandboxCAAdapter


def ews_token(sandbox: Sandbox, app: str = "full") -> str:
    """An app-only EWS access token from the sandbox through the real msal."""
    registration = sandbox.app(app)
    http = requests.Session()
    http.trust_env = False
    http.verify = sandbox.ca_bundle
    client = msal.ConfidentialClientApplication(
        registration["client_id"],
        client_credential=registration["client_secret"],
        authority=f"{sandbox.info['authority_host']}/{sandbox.tenant_id}",
        instance_discovery=False,
        http_client=http,
    )
    result = client.acquire_token_for_client([EWS_SCOPE])
    assert "access_token" in result, result
    return result["access_token"]


def oauth_account(sandbox: Sandbox, address: str, token: str, client_id: str = "") -> Account:
    """An exchangelib Account impersonating ``address`` with an app-only OAuth token."""
    trust_sandbox_ca(sandbox.ca_bundle)
    credentials = OAuth2Credentials(
        client_id=client_id or sandbox.app("full")["client_id"],
        client_secret="unused: the token is given",
        tenant_id=sandbox.tenant_id,
        identity=Identity(primary_smtp_address=address),
        access_token={
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 3000,
            "expires_at": time.time() + 3000,
        },
    )
    config = Configuration(
        service_endpoint=sandbox.info["ews_url"],
        credentials=credentials,
        auth_type=OAUTH2,
        retry_policy=FailFast(),
    )
    return Account(address, access_type=IMPERSONATION, autodiscover=False, config=config)


def envelope(
    body: str, *, impersonate: str | None = None, version: str | None = "Exchange2016"
) -> bytes:
    """A SOAP 1.1 request with the usual EWS headers around ``body``."""
    headers = []
    if version:
        headers.append(f'<t:RequestServerVersion Version="{version}"/>')
    if impersonate:
        headers.append(
            "<t:ExchangeImpersonation><t:ConnectingSID>"
            f"<t:PrimarySmtpAddress>{impersonate}</t:PrimarySmtpAddress>"
            "</t:ConnectingSID></t:ExchangeImpersonation>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{SOAP_NS}" xmlns:m="{MESSAGES_NS}" xmlns:t="{TYPES_NS}">'
        f"<s:Header>{''.join(headers)}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def post(
    sandbox: Sandbox,
    data: bytes,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """POSTs a SOAP request to the sandbox's EWS endpoint over HTTPS."""
    http = requests.Session()
    http.trust_env = False
    sent = {"Content-Type": "text/xml; charset=utf-8"}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    sent.update(headers or {})
    with http:
        return http.post(sandbox.info["ews_url"], data=data, headers=sent, verify=sandbox.ca_bundle)


def body_payload(response: requests.Response) -> etree._Element:
    """The element inside ``s:Body`` of a SOAP response."""
    root = etree.fromstring(response.content)
    body = root.find("s:Body", NS)
    assert body is not None, response.text
    return body[0]


def assert_schema_valid(payload: etree._Element) -> None:
    """The response payload is valid against Exchange Online's messages.xsd."""
    compiled = schema.load_schema(SCHEMA_DIR)
    errors = schema.violations(compiled, payload)
    assert not errors, [e.message for e in errors]
