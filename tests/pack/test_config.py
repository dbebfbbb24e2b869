"""The connection config: schema ↔ model agreement, the cloud table, coercion, the session."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from exchange_pack.auth import MICROSOFT_AUTHORITY_HOSTS
from exchange_pack.clouds import CLOUDS
from exchange_pack.config import SECRET_KEYS, ConnectionConfig
from exchange_pack.errors import ConfigError, InputError
from exchange_pack.inputs import (
    ParsedArgs,
    coerce,
    coerce_value,
    config_from_environ,
    read_input,
    validate_config,
)
from exchange_pack.session import HTTP_POOL_SIZE, USER_AGENT, Session, SessionStats

REPO_ROOT = Path(__file__).resolve().parents[2]
CONNECTION_SCHEMA = json.loads((REPO_ROOT / "schemas" / "connection.json").read_text())
BINDING_KEYS = {
    "tenant_id", "client_id", "client_secret", "certificate_path", "certificate_pem",
    "certificate_password", "cloud", "backend", "ews_url", "ews_auth", "username", "password",
    "default_mailbox", "authority_host", "graph_url", "ca_bundle", "verify_tls", "proxy_url",
    "timeout_seconds", "max_retries", "max_retry_wait_seconds", "token_cache_path", "output_dir",
}  # fmt: skip
BASE = {"tenant_id": "contoso.com", "client_id": "app", "client_secret": "secret-value"}


def test_schema_has_every_binding_key_and_matches_the_model() -> None:
    properties = set(CONNECTION_SCHEMA["properties"])
    assert properties == BINDING_KEYS
    assert properties == set(ConnectionConfig.model_fields)
    assert CONNECTION_SCHEMA["additionalProperties"] is False


def test_secrets_are_marked_in_the_schema() -> None:
    marked = {k for k, p in CONNECTION_SCHEMA["properties"].items() if p.get("x-secret")}
    assert marked == SECRET_KEYS
    for key in marked:
        assert CONNECTION_SCHEMA["properties"][key]["writeOnly"] is True


def test_schema_defaults_match_the_model() -> None:
    for key, prop in CONNECTION_SCHEMA["properties"].items():
        if "default" in prop:
            default = ConnectionConfig.model_fields[key].default
            assert str(default) == str(prop["default"]), key


def test_schema_enums_match_the_model() -> None:
    assert CONNECTION_SCHEMA["properties"]["cloud"]["enum"] == list(CLOUDS)
    for key in ("backend", "ews_auth", "cloud"):
        annotation = ConnectionConfig.model_fields[key].annotation
        assert list(annotation.__args__) == CONNECTION_SCHEMA["properties"][key]["enum"]


# -- the cloud table ------------------------------------------------------------------------
CLOUD_TABLE = {
    "global": (
        "https://login.microsoftonline.com",
        "https://graph.microsoft.com",
        "https://outlook.office365.com/EWS/Exchange.asmx",
        "https://outlook.office365.com/.default",
    ),
    "usgov": (
        "https://login.microsoftonline.com",
        "https://graph.microsoft.com",
        "https://outlook.office365.com/EWS/Exchange.asmx",
        "https://outlook.office365.com/.default",
    ),
    "usgovhigh": (
        "https://login.microsoftonline.us",
        "https://graph.microsoft.us",
        "https://outlook.office365.us/EWS/Exchange.asmx",
        "https://outlook.office365.us/.default",
    ),
    "dod": (
        "https://login.microsoftonline.us",
        "https://dod-graph.microsoft.us",
        "https://webmail.apps.mil/EWS/Exchange.asmx",
        "https://webmail.apps.mil/.default",
    ),
    "china": (
        "https://login.chinacloudapi.cn",
        "https://microsoftgraph.chinacloudapi.cn",
        "https://partner.outlook.cn/EWS/Exchange.asmx",
        "https://partner.outlook.cn/.default",
    ),
}


@pytest.mark.parametrize("cloud", sorted(CLOUD_TABLE))
def test_cloud_alone_points_everything_at_the_right_place(cloud: str) -> None:
    authority_host, graph, ews_url, ews_scope = CLOUD_TABLE[cloud]
    config = ConnectionConfig(**BASE, cloud=cloud)
    assert config.authority == f"{authority_host}/contoso.com"
    assert config.graph_base == graph
    assert config.graph_scope == f"{graph}/.default"
    assert config.ews_endpoint == ews_url
    assert config.ews_scope == ews_scope
    assert config.cloud_info.supports_permanent_delete is (cloud == "global")
    assert authority_host.removeprefix("https://") in MICROSOFT_AUTHORITY_HOSTS


def test_overrides_move_hosts_but_keep_the_cloud_scopes() -> None:
    config = ConnectionConfig(
        **BASE,
        cloud="usgovhigh",
        authority_host="https://127.0.0.1:8443/",
        graph_url="https://127.0.0.1:8443",
        ews_url="https://127.0.0.1:8443/EWS/Exchange.asmx",
    )
    assert config.authority == "https://127.0.0.1:8443/contoso.com"
    assert config.graph_base == "https://127.0.0.1:8443"
    assert config.graph_scope == "https://graph.microsoft.us/.default"
    assert config.ews_endpoint == "https://127.0.0.1:8443/EWS/Exchange.asmx"
    assert config.ews_scope == "https://outlook.office365.us/.default"


def test_tls_verify_choices(tmp_path: Path) -> None:
    assert ConnectionConfig(**BASE).tls_verify is True
    assert ConnectionConfig(**BASE, verify_tls=False, ca_bundle=tmp_path).tls_verify is False
    assert ConnectionConfig(**BASE, ca_bundle=tmp_path / "ca.pem").tls_verify == str(
        tmp_path / "ca.pem"
    )


def test_secrets_never_in_repr() -> None:
    config = ConnectionConfig(**BASE, password="pw-value-123", certificate_pem="PEMTEXT-1234")
    text = repr(config) + str(config) + str(config.model_dump())
    for secret in ("secret-value", "pw-value-123", "PEMTEXT-1234"):
        assert secret not in text


# -- coercion and validation ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "schema", "expected"),
    [
        ("true", {"type": "boolean"}, True),
        ("Off", {"type": "boolean"}, False),
        ("5", {"type": "integer"}, 5),
        ("-3", {"type": ["integer", "null"]}, -3),
        ("2.5", {"type": "number"}, 2.5),
        ("", {"type": ["integer", "null"]}, None),
        ("null", {"type": ["boolean", "null"]}, None),
        ("a, b,,c", {"type": "array", "items": {"type": "string"}}, ["a", "b", "c"]),
        ('["a,b", "c"]', {"type": "array", "items": {"type": "string"}}, ["a,b", "c"]),
        ("1,2", {"type": "array", "items": {"type": "integer"}}, [1, 2]),
        (["1", "0"], {"type": "array", "items": {"type": "boolean"}}, [True, False]),
        ("5", {"type": "string"}, "5"),
        ("maybe", {"type": "boolean"}, "maybe"),  # left for validation to reject by name
        ("hard", {"enum": ["soft", "hard"]}, "hard"),
        ("7", {"$ref": "#/$defs/count"}, 7),
        ("7", {"anyOf": [{"type": "integer"}, {"type": "null"}]}, 7),
    ],
)
def test_coerce_value(value: Any, schema: dict[str, Any], expected: Any) -> None:
    root = {"$defs": {"count": {"type": "integer"}}}
    assert coerce_value(value, schema, root) == expected


def test_coerce_drops_blank_non_string_values() -> None:
    schema = {"properties": {"limit": {"type": "integer"}, "note": {"type": "string"}}}
    assert coerce({"limit": " ", "note": ""}, schema) == {"note": ""}


def test_bad_json_list_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not a valid JSON list"):
        coerce_value("[1,", {"type": "array"}, {})


def test_config_from_environ_reads_both_names_as_two_sources() -> None:
    found = config_from_environ(
        {"tenant_id": "a", "EXCHANGE_TENANT_ID": "b", "EXCHANGE_CLIENT_ID": "c", "PATH": "/bin"}
    )
    assert [values for _, values in found] == [
        {"tenant_id": "a"},
        {"tenant_id": "b", "client_id": "c"},
    ]


def test_config_variables_that_disagree_are_refused() -> None:
    environ = {"tenant_id": "a", "EXCHANGE_TENANT_ID": "b"}
    with pytest.raises(
        ConfigError,
        match="environment variable tenant_id and environment variable EXCHANGE_TENANT_ID",
    ):
        read_input(ParsedArgs(), None, environ, "get_out_of_office")


def test_validate_config_coerces_strings() -> None:
    config = validate_config(
        BASE | {"verify_tls": "false", "timeout_seconds": "12.5", "max_retries": "2"}
    )
    assert config.verify_tls is False
    assert config.timeout_seconds == 12.5
    assert config.max_retries == 2


def test_validate_config_ignores_blank_optional_fields() -> None:
    config = validate_config(BASE | {"max_retries": "", "verify_tls": ""})
    assert config.max_retries == 4 and config.verify_tls is True


def test_validate_config_credential_rule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="give client_secret, or certificate_path"):
        validate_config({"tenant_id": "t", "client_id": "c"})


# -- the session ------------------------------------------------------------------------------
def test_session_http_settings(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    config = ConnectionConfig(**BASE, ca_bundle=ca, proxy_url="http://proxy.contoso.com:3128")
    with Session(config) as session:
        http = session.http
        assert http is session.http  # one shared pool
        assert isinstance(http, requests.Session)
        assert http.trust_env is False
        assert http.verify == str(ca)
        assert http.proxies == {
            "http": "http://proxy.contoso.com:3128",
            "https": "http://proxy.contoso.com:3128",
        }
        assert http.headers["User-Agent"] == USER_AGENT
        assert http.get_adapter("https://graph.microsoft.com")._pool_maxsize == HTTP_POOL_SIZE
        assert session.tokens.stats is session.stats


def test_session_mailbox_needs_an_address() -> None:
    session = Session(ConnectionConfig(**BASE))
    assert session.mailbox_address(" bob@contoso.com ") == "bob@contoso.com"
    with pytest.raises(InputError, match="No mailbox given"):
        session.mailbox_address(None)
    defaulted = Session(ConnectionConfig(**BASE, default_mailbox="soc@contoso.com"))
    assert defaulted.mailbox_address() == "soc@contoso.com"


def test_stats_meta_and_warnings() -> None:
    stats = SessionStats()
    stats.note_request()
    stats.note_request(2)
    stats.note_throttle(1.5)
    stats.note_throttle(2)
    stats.note_retry()
    stats.warn("throttled")
    stats.warn("throttled")
    assert stats.as_meta() == {
        "requests": 3,
        "throttled": 2,
        "throttle_wait_seconds": 3.5,
        "retries": 1,
    }
    assert stats.warnings == ["throttled"]


def test_null_values_count_as_not_given() -> None:
    config = validate_config(BASE | {"proxy_url": None, "max_retries": None})
    assert config.proxy_url is None and config.max_retries == 4


def test_graph_path_never_imports_exchangelib() -> None:
    code = (
        "import sys\n"
        "from exchange_pack.config import ConnectionConfig\n"
        "from exchange_pack.runtime import run_action\n"
        "from exchange_pack.session import Session\n"
        "config = ConnectionConfig(tenant_id='t', client_id='c', client_secret='s')\n"
        "backend = Session(config).backend\n"
        "print(type(backend).__name__, 'exchangelib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["GraphBackend", "False"], done.stderr
