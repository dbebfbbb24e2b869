"""The sandbox's identity platform with the real msal over TLS: discovery, tokens, AADSTS errors."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

import jwt
import msal
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from exchange_sandbox.process import Sandbox
from exchange_sandbox.store import App
from exchange_sandbox.tenant import Settings, Tenant, TokenError
from exchange_sandbox.web import Request

MsalFactory = Callable[..., msal.ConfidentialClientApplication]
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
EWS_SCOPE = "https://outlook.office365.com/.default"
EWS_ROLES = {"full_access_as_app"}


def _token_url(sandbox: Sandbox, tenant: str | None = None) -> str:
    return f"{sandbox.base_url}/{tenant or sandbox.tenant_id}/oauth2/v2.0/token"


def _post_token(http: requests.Session, sandbox: Sandbox, **form: str) -> requests.Response:
    form.setdefault("grant_type", "client_credentials")
    form.setdefault("scope", GRAPH_SCOPE)
    return http.post(_token_url(sandbox, form.pop("tenant", None)), data=form, timeout=30)


def _verified_claims(http: requests.Session, sandbox: Sandbox, token: str, audience: str) -> dict:
    """Validates the token against the published JWKS, as a resource server would."""
    config = http.get(
        f"{sandbox.base_url}/{sandbox.tenant_id}/v2.0/.well-known/openid-configuration"
    ).json()
    keys = http.get(config["jwks_uri"]).json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(jwt.PyJWK(k) for k in keys if k["kid"] == kid)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience)


def _assert_aadsts(response: requests.Response, status: int, error: str, code: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert "\r\nTrace ID: " in body["error_description"]
    assert body["error_uri"] == f"https://login.microsoftonline.com/error?code={code}"
    assert response.headers["Cache-Control"] == "no-store, no-cache"
    assert response.headers["Pragma"] == "no-cache"
    assert response.headers["Expires"] == "-1"
    assert response.headers["x-ms-request-id"] == body["trace_id"]
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return body


# -- successful client credentials --------------------------------------------------------
def test_msal_client_secret_gets_a_signed_graph_token(
    msal_client: MsalFactory, fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    result = msal_client().acquire_token_for_client([GRAPH_SCOPE])
    assert result["token_type"] == "Bearer"
    assert result["expires_in"] > 3000
    full = fresh_sandbox.app("full")
    claims = _verified_claims(
        sandbox_http, fresh_sandbox, result["access_token"], "https://graph.microsoft.com"
    )
    assert claims["tid"] == fresh_sandbox.tenant_id
    assert claims["iss"] == f"https://sts.windows.net/{fresh_sandbox.tenant_id}/"
    assert claims["appid"] == full["client_id"]
    assert claims["appidacr"] == "1"
    assert set(claims["roles"]) == set(full["roles"]) - EWS_ROLES
    assert "Mail.ReadWrite" in claims["roles"]
    assert claims["exp"] - claims["iat"] == 3599
    assert claims["nbf"] <= claims["iat"]
    assert claims["ver"] == "1.0"


def test_msal_certificate_rs256_thumbprint_gets_an_ews_token(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    registration = fresh_sandbox.app("full")
    pem = Path(registration["certificate_path"]).read_text()
    assert "PRIVATE KEY" in pem and "BEGIN CERTIFICATE" in pem
    thumbprint = x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA1()).hex()
    app = msal.ConfidentialClientApplication(
        registration["client_id"],
        client_credential={"private_key": pem, "thumbprint": thumbprint},
        authority=f"{fresh_sandbox.info['authority_host']}/{fresh_sandbox.tenant_id}",
        instance_discovery=False,
        http_client=sandbox_http,
    )
    result = app.acquire_token_for_client([EWS_SCOPE])
    assert "access_token" in result, result
    claims = _verified_claims(
        sandbox_http, fresh_sandbox, result["access_token"], "https://outlook.office365.com"
    )
    assert claims["roles"] == ["full_access_as_app"]
    assert claims["appidacr"] == "2"


def test_msal_certificate_ps256_sha256_thumbprint(
    msal_client: MsalFactory, fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    result = msal_client(auth="certificate").acquire_token_for_client([GRAPH_SCOPE])
    assert "access_token" in result, result
    assert (
        jwt.decode(result["access_token"], options={"verify_signature": False})["appid"]
        == (fresh_sandbox.app("full")["client_id"])
    )


def test_msal_serves_the_second_call_from_its_cache(
    msal_client: MsalFactory, fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    app = msal_client()
    first = app.acquire_token_for_client([GRAPH_SCOPE])
    second = app.acquire_token_for_client([GRAPH_SCOPE])
    assert first["access_token"] == second["access_token"]
    paths = [(e["method"], e["path"]) for e in fresh_sandbox.requests()]
    token_path = f"/{fresh_sandbox.tenant_id}/oauth2/v2.0/token"
    assert paths.count(("POST", token_path)) == 1
    assert paths[0] == ("GET", f"/{fresh_sandbox.tenant_id}/v2.0/.well-known/openid-configuration")


def test_readonly_app_gets_graph_roles_only_and_no_ews_role(
    msal_client: MsalFactory, fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    app = msal_client(app="readonly")
    graph = jwt.decode(
        app.acquire_token_for_client([GRAPH_SCOPE])["access_token"],
        options={"verify_signature": False},
    )
    assert "Mail.Read" in graph["roles"]
    assert "Mail.ReadWrite" not in graph["roles"]
    ews = jwt.decode(
        app.acquire_token_for_client([EWS_SCOPE])["access_token"],
        options={"verify_signature": False},
    )
    assert ews["aud"] == "https://outlook.office365.com"
    assert "roles" not in ews  # Entra omits the claim when no role for the resource is granted


def test_client_secret_basic_and_the_tenant_domain_are_accepted(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    full = fresh_sandbox.app("full")
    response = sandbox_http.post(
        _token_url(fresh_sandbox, "contoso.com"),
        data={"grant_type": "client_credentials", "scope": GRAPH_SCOPE},
        auth=(full["client_id"], full["client_secret"]),
    )
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store, no-cache"
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}


def test_token_lifetime_setting_is_honoured(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    fresh_sandbox.settings(token_lifetime=600)
    full = fresh_sandbox.app("full")
    body = _post_token(
        sandbox_http,
        fresh_sandbox,
        client_id=full["client_id"],
        client_secret=full["client_secret"],
    ).json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert body["expires_in"] == 600
    assert claims["exp"] - claims["iat"] == 600


# -- discovery --------------------------------------------------------------------------------
def test_openid_configuration_has_microsofts_shape_and_points_here(
    sandbox: Sandbox, sandbox_http: requests.Session, shared_dir: Path
) -> None:
    real = json.loads((shared_dir / "token" / "openid-configuration-v2.json").read_text())
    response = sandbox_http.get(
        f"{sandbox.base_url}/{sandbox.tenant_id}/v2.0/.well-known/openid-configuration"
    )
    assert response.status_code == 200
    document = response.json()
    assert set(document) == set(real["body"])
    root = f"{sandbox.base_url}/{sandbox.tenant_id}"
    assert document["token_endpoint"] == f"{root}/oauth2/v2.0/token"
    assert document["authorization_endpoint"] == f"{root}/oauth2/v2.0/authorize"
    assert document["issuer"] == f"{root}/v2.0"
    assert response.headers["Cache-Control"] == real["headers"]["Cache-Control"]
    keys = sandbox_http.get(document["jwks_uri"]).json()["keys"]
    assert keys and keys[0]["kty"] == "RSA" and keys[0]["use"] == "sig"


# -- AADSTS errors ------------------------------------------------------------------------------
def test_wrong_secret_is_aadsts7000215(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session, shared_dir: Path
) -> None:
    full = fresh_sandbox.app("full")
    response = _post_token(
        sandbox_http, fresh_sandbox, client_id=full["client_id"], client_secret="not-the-secret"
    )
    body = _assert_aadsts(response, 401, "invalid_client", 7000215)
    real = json.loads(
        (shared_dir / "token" / "token-error-AADSTS7000215-invalid-secret.json").read_text()
    )
    assert set(body) == set(real["body"])
    assert real["status"] == 401
    assert "not-the-secret" not in response.text
    result = msal.ConfidentialClientApplication(
        full["client_id"],
        client_credential="not-the-secret",
        authority=f"{fresh_sandbox.info['authority_host']}/{fresh_sandbox.tenant_id}",
        instance_discovery=False,
        http_client=sandbox_http,
    ).acquire_token_for_client([GRAPH_SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]


def test_correlation_id_echoes_client_request_id(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    correlation = str(uuid.uuid4())
    response = sandbox_http.post(
        _token_url(fresh_sandbox),
        data={"grant_type": "client_credentials", "client_id": str(uuid.uuid4()), "scope": "x"},
        headers={"client-request-id": correlation},
    )
    assert response.json()["correlation_id"] == correlation


def test_expired_secret_is_aadsts7000222(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session, shared_dir: Path
) -> None:
    expired = fresh_sandbox.add_app(
        name="expired-secret",
        roles=["Mail.Read"],
        secret_expires_at=(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).isoformat(),
    )
    response = _post_token(
        sandbox_http,
        fresh_sandbox,
        client_id=expired["client_id"],
        client_secret=expired["client_secret"],
    )
    body = _assert_aadsts(response, 401, "invalid_client", 7000222)
    real = json.loads(
        (shared_dir / "token" / "token-error-AADSTS7000222-expired-secret.json").read_text()
    )
    assert set(body) == set(real["body"])


def test_unknown_app_is_aadsts700016(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session, shared_dir: Path
) -> None:
    stranger = str(uuid.uuid4())
    response = _post_token(sandbox_http, fresh_sandbox, client_id=stranger, client_secret="x")
    body = _assert_aadsts(response, 400, "unauthorized_client", 700016)
    assert f"Application with identifier '{stranger}' was not found" in body["error_description"]
    real = json.loads(
        (shared_dir / "token" / "token-error-AADSTS700016-app-not-found.json").read_text()
    )
    assert set(body) == set(real["body"])


def test_unknown_tenant_is_aadsts90002_and_msal_fails_in_its_constructor(
    msal_client: MsalFactory, sandbox: Sandbox, sandbox_http: requests.Session, shared_dir: Path
) -> None:
    stranger = str(uuid.uuid4())
    discovery = sandbox_http.get(
        f"{sandbox.base_url}/{stranger}/v2.0/.well-known/openid-configuration"
    )
    body = _assert_aadsts(discovery, 400, "invalid_tenant", 90002)
    assert f"Tenant '{stranger}' not found" in body["error_description"]
    real = json.loads(
        (shared_dir / "token" / "token-error-AADSTS90002-tenant-not-found.json").read_text()
    )
    assert set(body) == set(real["body"])
    _assert_aadsts(
        _post_token(sandbox_http, sandbox, tenant=stranger, client_id="x", client_secret="y"),
        400,
        "invalid_tenant",
        90002,
    )
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        msal_client(tenant=stranger)


@pytest.mark.parametrize(
    "scope",
    [
        "https://foo.microsoft.com/.default",
        "https://graph.microsoft.com/Mail.Read",
        f"{GRAPH_SCOPE} {EWS_SCOPE}",
    ],
)
def test_bad_scope_is_aadsts70011(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session, scope: str
) -> None:
    full = fresh_sandbox.app("full")
    response = _post_token(
        sandbox_http,
        fresh_sandbox,
        client_id=full["client_id"],
        client_secret=full["client_secret"],
        scope=scope,
    )
    body = _assert_aadsts(response, 400, "invalid_scope", 70011)
    assert f"The scope {scope} is not valid." in body["error_description"]


def test_bad_scope_through_msal(
    msal_client: MsalFactory, fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    result = msal_client().acquire_token_for_client(["https://foo.microsoft.com/.default"])
    assert result["error"] == "invalid_scope"
    assert result["error_codes"] == [70011]


def test_missing_credentials_and_wrong_grant(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    full = fresh_sandbox.app("full")
    _assert_aadsts(
        _post_token(sandbox_http, fresh_sandbox, client_id=full["client_id"]),
        401,
        "invalid_client",
        7000218,
    )
    _assert_aadsts(
        _post_token(sandbox_http, fresh_sandbox, grant_type="password", client_id="x"),
        400,
        "unsupported_grant_type",
        70003,
    )


# -- certificate assertions ----------------------------------------------------------------------
def _assertion(sandbox: Sandbox, pem: str, **overrides: Any) -> str:
    certificate = x509.load_pem_x509_certificate(pem.encode())
    x5t = jwt.utils.base64url_encode(certificate.fingerprint(hashes.SHA1())).decode()
    client_id = sandbox.app("full")["client_id"]
    now = time.time()
    claims = {
        "aud": _token_url(sandbox),
        "iss": client_id,
        "sub": client_id,
        "iat": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
        **overrides,
    }
    return jwt.encode(claims, pem, algorithm="RS256", headers={"x5t": x5t})


def _post_assertion(http: requests.Session, sandbox: Sandbox, assertion: str) -> requests.Response:
    return _post_token(
        http,
        sandbox,
        client_id=sandbox.app("full")["client_id"],
        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion=assertion,
    )


def test_handmade_assertion_is_accepted(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    pem = Path(fresh_sandbox.app("full")["certificate_path"]).read_text()
    response = _post_assertion(sandbox_http, fresh_sandbox, _assertion(fresh_sandbox, pem))
    assert response.status_code == 200, response.text


def test_assertion_signed_by_an_unregistered_certificate_is_aadsts700027(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    other = Path(fresh_sandbox.app("readonly")["certificate_path"]).read_text()
    response = _post_assertion(sandbox_http, fresh_sandbox, _assertion(fresh_sandbox, other))
    body = _assert_aadsts(response, 401, "invalid_client", 700027)
    assert "The key was not found" in body["error_description"]


def test_assertion_for_another_audience_is_rejected(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    pem = Path(fresh_sandbox.app("full")["certificate_path"]).read_text()
    assertion = _assertion(fresh_sandbox, pem, aud="https://login.microsoftonline.com/x/token")
    _assert_aadsts(
        _post_assertion(sandbox_http, fresh_sandbox, assertion), 401, "invalid_client", 700212
    )


def test_expired_assertion_is_aadsts700024(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session
) -> None:
    pem = Path(fresh_sandbox.app("full")["certificate_path"]).read_text()
    assertion = _assertion(fresh_sandbox, pem, iat=time.time() - 1200, exp=time.time() - 600)
    _assert_aadsts(
        _post_assertion(sandbox_http, fresh_sandbox, assertion), 401, "invalid_client", 700024
    )


# -- using the tokens ----------------------------------------------------------------------------
def test_expired_token_gets_graph_401_invalid_authentication_token(
    fresh_sandbox: Sandbox, sandbox_http: requests.Session, graph_token: str
) -> None:
    url = f"{fresh_sandbox.info['graph_url']}/v1.0/users/alice@contoso.com/messages"
    headers = {"Authorization": f"Bearer {graph_token}"}
    assert sandbox_http.get(url, headers=headers).status_code == 200
    fresh_sandbox.clock(4000)
    response = sandbox_http.get(url, headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert "expired" in error["message"]


@pytest.fixture
def local_tenant(tmp_path: Path) -> Tenant:
    """An in-process tenant (no seed) with one registered app, for the pure token checks."""
    tenant = Tenant(Settings(state_dir=tmp_path, seed="none"))
    tenant.store.add_app(
        App(
            "11111111-2222-3333-4444-555555555555",
            "full",
            "s3cret",
            None,
            None,
            ["Mail.Read", "full_access_as_app"],
        )
    )
    return tenant


def _bearer(token: str) -> Request:
    headers = Message()
    headers["Authorization"] = f"Bearer {token}"
    return Request("GET", "/", "/", {}, headers, b"")


def test_authenticate_checks_audience_signature_and_lifetime(local_tenant: Tenant) -> None:
    app = local_tenant.app("11111111-2222-3333-4444-555555555555")
    assert app is not None
    token = local_tenant.tokens.issue(
        app,
        "https://graph.microsoft.com",
        ["Mail.Read"],
        now=local_tenant.now(),
        lifetime=600,
        with_certificate=False,
    )
    request = _bearer(token)
    claims = local_tenant.authenticate(request, "graph")
    assert request.app == app.client_id and request.claims == claims
    assert local_tenant.has_role(claims, "Mail.ReadWrite", "Mail.Read")
    assert not local_tenant.has_role(claims, "Mail.Send")
    with pytest.raises(TokenError, match="Invalid audience"):
        local_tenant.authenticate(_bearer(token), "ews")
    with pytest.raises(TokenError, match="Invalid signature"):
        local_tenant.authenticate(_bearer(token[:-4] + "AAAA"), "graph")
    with pytest.raises(TokenError, match="Access token is empty"):
        local_tenant.authenticate(_bearer(""), "graph")
    with pytest.raises(TokenError, match="not well formed"):
        local_tenant.authenticate(_bearer("garbage"), "graph")
    local_tenant.clock_skew = dt.timedelta(seconds=601)
    with pytest.raises(TokenError, match=r"Lifetime validation failed, the token is expired\."):
        local_tenant.authenticate(_bearer(token), "graph")


def _basic(username: str, password: str) -> Request:
    headers = Message()
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    headers["Authorization"] = f"Basic {token}"
    return Request("POST", "/EWS/Exchange.asmx", "/EWS/Exchange.asmx", {}, headers, b"")


def test_ews_basic_service_account(local_tenant: Tenant) -> None:
    account = local_tenant.service_account
    user, _, domain = account["username"].partition("@")
    for username in (account["username"], f"{domain.split('.')[0].upper()}\\{user}"):
        request = _basic(username, account["password"])
        claims = local_tenant.authenticate(request, "ews")
        assert claims["service_account"] == account["username"]
        assert not local_tenant.has_role(claims, "full_access_as_app")
        assert request.app == account["username"]
    with pytest.raises(TokenError):
        local_tenant.authenticate(_basic(account["username"], "wrong"), "ews")
    with pytest.raises(TokenError):  # Graph never takes Basic
        local_tenant.authenticate(_basic(account["username"], account["password"]), "graph")
