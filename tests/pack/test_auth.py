"""Auth against the sandbox's real TLS token endpoint with the real msal: credentials, the token
cache across processes, and every AADSTS error in plain words without leaking a secret."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from action_process import run_action
from contract_action import ACTION_ID, build_contract_pack
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from exchange_pack.auth import TokenProvider, decode_jwt_claims
from exchange_pack.errors import (
    AccessDeniedError,
    AuthenticationError,
    ConfigError,
    ExchangePackError,
    ServiceUnavailableError,
    TransientError,
)
from exchange_pack.inputs import validate_config
from exchange_pack.session import SessionStats, build_http
from exchange_pack.token_cache import CREDENTIALS_KEY, DISCOVERY_KEY

pytestmark = pytest.mark.sandbox
TOKEN_PATH = "/oauth2/v2.0/token"
DISCOVERY_PATH = "/v2.0/.well-known/openid-configuration"


def provider(config: dict[str, Any]) -> TokenProvider:
    validated = validate_config(config)
    return TokenProvider(validated, build_http(validated), SessionStats())


def token_requests(sandbox: Any) -> list[dict[str, Any]]:
    return [
        r for r in sandbox.requests() if r["method"] == "POST" and r["path"].endswith(TOKEN_PATH)
    ]


def secrets_of(config: dict[str, Any]) -> list[str]:
    keys = ("client_secret", "certificate_pem", "certificate_password", "password")
    return [str(config[k]) for k in keys if config.get(k)]


def assert_no_secret(error: ExchangePackError, secrets: list[str]) -> None:
    text = f"{error} {error!r} {json.dumps(error.to_dict())} {error.hint}"
    for secret in secrets:
        assert secret not in text


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "tokens.json"


# -- credentials --------------------------------------------------------------------------------
def test_client_secret_token_and_info(fresh_sandbox: Any, cache_path: Path) -> None:
    config = fresh_sandbox.pack_config(token_cache_path=str(cache_path))
    tokens = provider(config)
    info = tokens.token_info("graph")
    assert info.auth_method == "client_secret"
    assert {"Mail.ReadWrite", "Mail.Send", "User.Read.All"} <= set(info.roles)
    assert info.app_id == config["client_id"]
    assert info.tenant_id == fresh_sandbox.tenant_id
    assert info.audience == "https://graph.microsoft.com"
    assert info.expires_at is not None
    expires = dt.datetime.fromisoformat(info.expires_at.replace("Z", "+00:00"))
    assert expires > dt.datetime.now(dt.timezone.utc)
    ews = tokens.token_info("ews")
    assert ews.roles == ["full_access_as_app"]
    assert ews.scope == "https://outlook.office365.com/.default"
    assert len(token_requests(fresh_sandbox)) == 2  # one per resource
    assert tokens.stats.requests >= 3  # discovery + two token requests


def test_token_reused_within_a_process(fresh_sandbox: Any) -> None:
    tokens = provider(fresh_sandbox.pack_config(token_cache_path="none"))
    first = tokens.token("graph")
    assert tokens.token("graph") == first
    assert len(token_requests(fresh_sandbox)) == 1
    assert decode_jwt_claims(first)["roles"]


def test_certificate_file(fresh_sandbox: Any) -> None:
    tokens = provider(fresh_sandbox.pack_config(auth="certificate", token_cache_path="none"))
    assert tokens.token_info("graph").auth_method == "certificate"
    assert tokens.token_info("ews").roles == ["full_access_as_app"]


def _reencrypted_pem(pem: bytes, password: bytes) -> str:
    key = serialization.load_pem_private_key(pem, None)
    cert = x509.load_pem_x509_certificates(pem)[0]
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    return (encrypted + cert.public_bytes(serialization.Encoding.PEM)).decode()


def test_inline_pem_with_password(fresh_sandbox: Any) -> None:
    pem = Path(fresh_sandbox.app("full")["certificate_path"]).read_bytes()
    config = fresh_sandbox.pack_config(
        auth="certificate",
        token_cache_path="none",
        certificate_path=None,
        certificate_pem=_reencrypted_pem(pem, b"pem-passphrase-1"),
        certificate_password="pem-passphrase-1",
    )
    config.pop("certificate_path")
    tokens = provider(config)
    assert tokens.token_info("graph").auth_method == "certificate"


@pytest.mark.parametrize(
    ("password", "fragment"),
    [("wrong-passphrase", "wrong certificate_password"), (None, "no certificate_password")],
)
def test_bad_certificate_password_fails_before_any_request(
    fresh_sandbox: Any, password: str | None, fragment: str
) -> None:
    pem = Path(fresh_sandbox.app("full")["certificate_path"]).read_bytes()
    config = fresh_sandbox.pack_config(auth="certificate", token_cache_path="none")
    config.pop("certificate_path")
    config["certificate_pem"] = _reencrypted_pem(pem, b"pem-passphrase-1")
    if password:
        config["certificate_password"] = password
    with pytest.raises(ConfigError, match=fragment) as caught:
        provider(config).token("graph")
    assert fresh_sandbox.requests() == []
    assert_no_secret(caught.value, [*secrets_of(config), "pem-passphrase-1"])


def _self_signed_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not-registered")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (key_pem + cert.public_bytes(serialization.Encoding.PEM)).decode()


# -- AADSTS errors --------------------------------------------------------------------------------
def _expired_secret_config(sandbox: Any) -> dict[str, Any]:
    past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).isoformat()
    app = sandbox.add_app(name="expired", roles=["Mail.Read"], secret_expires_at=past)
    return sandbox.pack_config(client_id=app["client_id"], client_secret=app["client_secret"])


def _unregistered_certificate_config(sandbox: Any) -> dict[str, Any]:
    config = sandbox.pack_config(auth="certificate")
    config.pop("certificate_path")
    config["certificate_pem"] = _self_signed_pem()
    return config


CASES = {
    "wrong secret": (
        lambda sb: sb.pack_config(client_secret="Wrong~Secret.Value_123"),
        AuthenticationError,
        "AADSTS7000215",
        "client secret is wrong",
    ),
    "expired secret": (
        _expired_secret_config,
        AuthenticationError,
        "AADSTS7000222",
        "expired",
    ),
    "unknown app": (
        lambda sb: sb.pack_config(client_id="11111111-2222-3333-4444-555555555555"),
        AuthenticationError,
        "AADSTS700016",
        "No app with this client_id",
    ),
    "unknown tenant": (
        lambda sb: sb.pack_config(tenant_id="no-such-tenant.example"),
        ConfigError,
        "AADSTS90002",
        "tenant was not found",
    ),
    "bad scope": (
        lambda sb: sb.pack_config(cloud="usgovhigh"),
        ConfigError,
        "AADSTS70011",
        "scope is not valid",
    ),
    "bad certificate": (
        _unregistered_certificate_config,
        AuthenticationError,
        "AADSTS700027",
        "certificate was rejected",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_aadsts_errors_in_plain_words(fresh_sandbox: Any, case: str) -> None:
    make_config, error_class, code, words = CASES[case]
    config = make_config(fresh_sandbox) | {"token_cache_path": "none"}
    with pytest.raises(error_class) as caught:
        provider(config).token("graph")
    error = caught.value
    assert type(error) is error_class
    assert error.backend_code == code
    assert words in error.message
    assert error.hint
    assert error.exit_code in (77, 78)
    assert_no_secret(error, secrets_of(config))


def _aad_error_body(code: int, error: str, text: str) -> dict[str, Any]:
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: x\r\nCorrelation ID: y",
        "error_codes": [code],
    }


def test_consent_missing_is_access_denied(fresh_sandbox: Any) -> None:
    text = "The user or administrator has not consented to use the application."
    fresh_sandbox.fault(
        method="POST",
        path=TOKEN_PATH,
        status=400,
        body=_aad_error_body(65001, "invalid_grant", text),
        count=1,
    )
    with pytest.raises(AccessDeniedError) as caught:
        provider(fresh_sandbox.pack_config(token_cache_path="none")).token("graph")
    assert caught.value.backend_code == "AADSTS65001"
    assert "admin consent" in (caught.value.hint or "")
    assert caught.value.exit_code == 77


def test_unknown_aadsts_code_keeps_microsofts_words(fresh_sandbox: Any) -> None:
    body = _aad_error_body(9999999, "invalid_request", "Something unusual happened.")
    fresh_sandbox.fault(method="POST", path=TOKEN_PATH, status=400, body=body, count=1)
    with pytest.raises(AuthenticationError, match="Something unusual happened") as caught:
        provider(fresh_sandbox.pack_config(token_cache_path="none")).token("graph")
    assert "Trace ID" not in caught.value.message
    assert caught.value.backend_code == "AADSTS9999999"


def test_token_endpoint_5xx_is_transient(fresh_sandbox: Any) -> None:
    fresh_sandbox.fault(method="POST", path=TOKEN_PATH, status=503, count=1)
    with pytest.raises(TransientError) as caught:
        provider(fresh_sandbox.pack_config(token_cache_path="none")).token("graph")
    assert caught.value.retryable and caught.value.exit_code == 75


def test_unreachable_authority(fresh_sandbox: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = fresh_sandbox.pack_config(
        token_cache_path="none", authority_host=f"https://127.0.0.1:{port}", timeout_seconds=5
    )
    with pytest.raises(ServiceUnavailableError, match="Could not reach the sign-in endpoint"):
        provider(config).token("graph")


def test_untrusted_tls_certificate_is_a_config_error(fresh_sandbox: Any) -> None:
    config = fresh_sandbox.pack_config(token_cache_path="none")
    config.pop("ca_bundle")
    with pytest.raises(ConfigError, match="TLS verification") as caught:
        provider(config).token("graph")
    assert "ca_bundle" in (caught.value.hint or "")


# -- the token cache ----------------------------------------------------------------------------
def test_cache_file_is_private_and_holds_no_secret(fresh_sandbox: Any, cache_path: Path) -> None:
    config = fresh_sandbox.pack_config(token_cache_path=str(cache_path))
    provider(config).token("graph")
    assert stat.S_IMODE(cache_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache_path.parent.stat().st_mode) == 0o700
    text = cache_path.read_text()
    assert config["client_secret"] not in text
    assert json.loads(text)[CREDENTIALS_KEY][config["client_id"]].startswith("secret:")
    assert not list(cache_path.parent.glob(".*.tmp"))


def test_second_provider_reads_the_file(fresh_sandbox: Any, cache_path: Path) -> None:
    config = fresh_sandbox.pack_config(token_cache_path=str(cache_path))
    first = provider(config).token("graph")
    assert provider(config).token("graph") == first
    assert len(token_requests(fresh_sandbox)) == 1


def test_wrong_secret_is_not_hidden_by_a_cached_token(fresh_sandbox: Any, cache_path: Path) -> None:
    provider(fresh_sandbox.pack_config(token_cache_path=str(cache_path))).token("graph")
    wrong = fresh_sandbox.pack_config(
        token_cache_path=str(cache_path), client_secret="Wrong~Secret.Value_123"
    )
    with pytest.raises(AuthenticationError, match="AADSTS7000215"):
        provider(wrong).token("graph")
    assert len(token_requests(fresh_sandbox)) == 2


def test_corrupt_cache_is_replaced(fresh_sandbox: Any, cache_path: Path) -> None:
    cache_path.parent.mkdir(mode=0o700)
    cache_path.write_text("{not json")
    tokens = provider(fresh_sandbox.pack_config(token_cache_path=str(cache_path)))
    tokens.token("graph")
    assert any("corrupt" in w for w in tokens.stats.warnings)
    assert "AccessToken" in json.loads(cache_path.read_text())


def identity_requests(sandbox: Any) -> list[str]:
    """The paths of requests to the tenant's identity platform (discovery, token endpoint)."""
    return [r["path"] for r in sandbox.requests() if r["path"].startswith(f"/{sandbox.tenant_id}/")]


def test_discovery_answer_kept_in_the_cache_file(fresh_sandbox: Any, cache_path: Path) -> None:
    config = fresh_sandbox.pack_config(token_cache_path=str(cache_path))
    provider(config).token("graph")
    saved = json.loads(cache_path.read_text())[DISCOVERY_KEY]
    [(key, answer)] = saved["answers"].items()
    assert key.startswith("GET ") and DISCOVERY_PATH in key
    assert json.loads(answer["text"])["token_endpoint"].endswith(TOKEN_PATH)
    fresh_sandbox.clear_requests()
    second = provider(config)
    second.token("graph")
    second.token("ews")  # a token request, but no second discovery
    assert identity_requests(fresh_sandbox) == [f"/{fresh_sandbox.tenant_id}{TOKEN_PATH}"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda saved: saved.update(answers="not an object"),
        lambda saved: [a.update(status_code="200") for a in saved["answers"].values()],
        lambda saved: [t.__setitem__(0, 1) for t in saved["expiry"].values()],  # expired
    ],
    ids=["not-an-object", "wrong-type", "expired"],
)
def test_unusable_discovery_answer_is_fetched_again(
    fresh_sandbox: Any, cache_path: Path, damage: Any
) -> None:
    config = fresh_sandbox.pack_config(token_cache_path=str(cache_path))
    provider(config).token("graph")
    document = json.loads(cache_path.read_text())
    damage(document[DISCOVERY_KEY])
    cache_path.write_text(json.dumps(document))
    fresh_sandbox.clear_requests()
    provider(config).token("graph")
    assert identity_requests(fresh_sandbox) == [f"/{fresh_sandbox.tenant_id}{DISCOVERY_PATH}"]
    assert len(json.loads(cache_path.read_text())[DISCOVERY_KEY]["answers"]) == 1


def test_cache_disabled_writes_nothing(fresh_sandbox: Any, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    provider(fresh_sandbox.pack_config(token_cache_path="none")).token("graph")
    assert not (tmp_path / "xdg").exists()


def test_default_cache_path_under_the_user_cache_dir(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    config = fresh_sandbox.pack_config()
    config.pop("token_cache_path")
    provider(config).token("graph")
    files = list((tmp_path / "xdg" / "exchange-pack" / "tokens").glob("global-*.json"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600


# -- across processes ---------------------------------------------------------------------------
@pytest.fixture
def contract_pack(tmp_path: Path) -> Path:
    return build_contract_pack(tmp_path / "pack")


def _start_probe(pack: Path, config: dict[str, Any], *argv: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        env.pop(name, None)
    env["EXCHANGE_PACK_ROOT"] = str(pack)
    process = subprocess.Popen(
        [sys.executable, str(pack / "actions" / f"{ACTION_ID}.py"), *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps({"config": config, "parameters": {"token": "graph"}}))
    process.stdin.close()
    return process


def _finish(process: subprocess.Popen[str]) -> tuple[int, dict[str, Any], str]:
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr = process.stdout.read(), process.stderr.read()
    code = process.wait(timeout=120)
    return code, json.loads(stdout), stderr


def test_second_process_makes_no_token_request(
    fresh_sandbox: Any, contract_pack: Path, cache_path: Path
) -> None:
    config = fresh_sandbox.pack_config(token_cache_path=str(cache_path))
    code, first, stderr = _finish(_start_probe(contract_pack, config))
    assert (code, stderr) == (0, ""), first
    assert len(token_requests(fresh_sandbox)) == 1
    assert first["data"]["token"]["auth_method"] == "client_secret"
    fresh_sandbox.clear_requests()

    code, second, stderr = _finish(_start_probe(contract_pack, config))
    assert (code, stderr) == (0, ""), second
    assert fresh_sandbox.requests() == []  # neither the token endpoint nor discovery
    assert second["meta"]["requests"] == 0
    assert second["data"]["token"]["expires_at"] == first["data"]["token"]["expires_at"]


@pytest.mark.parametrize("backend", ["graph", "ews"])
def test_second_action_process_makes_no_identity_request(
    fresh_sandbox: Any, cache_path: Path, backend: str
) -> None:
    config = fresh_sandbox.pack_config(backend=backend, token_cache_path=str(cache_path))
    params = {"mailbox": "alice@contoso.com"}
    first = run_action("get_out_of_office", config, params)
    tenant = fresh_sandbox.tenant_id
    assert identity_requests(fresh_sandbox) == [
        f"/{tenant}{DISCOVERY_PATH}",
        f"/{tenant}{TOKEN_PATH}",
    ]
    assert first["meta"]["requests"] == len(fresh_sandbox.requests())
    fresh_sandbox.clear_requests()

    second = run_action("get_out_of_office", config, params)
    assert identity_requests(fresh_sandbox) == []
    assert second["meta"]["requests"] == len(fresh_sandbox.requests()) >= 1
    assert second["data"] == first["data"]


def test_concurrent_processes_share_one_token_request(
    fresh_sandbox: Any, contract_pack: Path, cache_path: Path
) -> None:
    config = fresh_sandbox.pack_config(token_cache_path=str(cache_path))
    processes = [_start_probe(contract_pack, config) for _ in range(4)]
    results = [_finish(p) for p in processes]
    assert [code for code, _, _ in results] == [0, 0, 0, 0], results
    assert len(token_requests(fresh_sandbox)) == 1
    assert len({r[1]["data"]["token"]["expires_at"] for r in results}) == 1


def test_failed_sign_in_process_leaks_no_secret_even_when_debugging(
    fresh_sandbox: Any, contract_pack: Path, cache_path: Path
) -> None:
    wrong = "Wrong~Secret.Value_123"
    config = fresh_sandbox.pack_config(token_cache_path=str(cache_path), client_secret=wrong)
    code, envelope, stderr = _finish(_start_probe(contract_pack, config, "--debug"))
    assert code == 78
    assert envelope["error"]["backend_code"] == "AADSTS7000215"
    assert "DEBUG" in stderr  # the logs were on
    assert stderr.splitlines()[-1].startswith("ERROR AUTHENTICATION_FAILED: ")
    assert wrong not in json.dumps(envelope) + stderr
    assert not cache_path.exists() or wrong not in cache_path.read_text()


def test_slow_token_endpoint_does_not_break_the_lock(
    fresh_sandbox: Any, contract_pack: Path, cache_path: Path
) -> None:
    # The first process holds the lock while the token endpoint is slow; the others wait for
    # the file instead of asking too.
    fresh_sandbox.fault(method="POST", path=TOKEN_PATH, delay_ms=1500, count=1)
    config = fresh_sandbox.pack_config(token_cache_path=str(cache_path))
    first = _start_probe(contract_pack, config)
    time.sleep(0.2)
    others = [_start_probe(contract_pack, config) for _ in range(2)]
    results = [_finish(p) for p in (first, *others)]
    assert [code for code, _, _ in results] == [0, 0, 0]
    assert len(token_requests(fresh_sandbox)) == 1
