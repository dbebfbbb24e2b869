"""Fixtures for talking to the sandbox tenant the way real clients do (msal, requests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import msal
import pytest
import requests

from exchange_sandbox.process import Sandbox

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
EWS_SCOPE = "https://outlook.office365.com/.default"


@pytest.fixture(scope="session")
def sandbox_http(sandbox: Sandbox) -> Iterator[requests.Session]:
    """A keep-alive requests session trusting only the sandbox CA (environment ignored)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = sandbox.ca_bundle
    yield session
    session.close()


def msal_app(
    sandbox: Sandbox,
    http: requests.Session,
    app: str = "full",
    auth: str = "secret",
    tenant: str | None = None,
) -> msal.ConfidentialClientApplication:
    """A real msal confidential client pointed at the sandbox authority."""
    registration = sandbox.app(app)
    credential: Any = registration["client_secret"]
    if auth == "certificate":
        with open(registration["certificate_path"]) as handle:
            pem = handle.read()
        credential = {"private_key": pem, "public_certificate": pem}
    return msal.ConfidentialClientApplication(
        registration["client_id"],
        client_credential=credential,
        authority=f"{sandbox.info['authority_host']}/{tenant or sandbox.tenant_id}",
        instance_discovery=False,
        http_client=http,
    )


def access_token(
    sandbox: Sandbox, http: requests.Session, scope: str = GRAPH_SCOPE, app: str = "full"
) -> str:
    """A fresh access token from the sandbox token endpoint, through msal."""
    result = msal_app(sandbox, http, app).acquire_token_for_client([scope])
    assert "access_token" in result, result
    return result["access_token"]


@pytest.fixture
def msal_client(
    sandbox: Sandbox, sandbox_http: requests.Session
) -> Callable[..., msal.ConfidentialClientApplication]:
    """``msal_client(app="full", auth="secret"|"certificate", tenant=None)``: a new msal app."""

    def make(
        app: str = "full", auth: str = "secret", tenant: str | None = None
    ) -> msal.ConfidentialClientApplication:
        return msal_app(sandbox, sandbox_http, app, auth, tenant)

    return make


@pytest.fixture
def graph_token(sandbox: Sandbox, sandbox_http: requests.Session) -> str:
    """An app-only Graph token of the ``full`` app."""
    return access_token(sandbox, sandbox_http, GRAPH_SCOPE)


@pytest.fixture
def ews_token(sandbox: Sandbox, sandbox_http: requests.Session) -> str:
    """An app-only EWS token (``full_access_as_app``) of the ``full`` app."""
    return access_token(sandbox, sandbox_http, EWS_SCOPE)
