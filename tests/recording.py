"""Recorded traffic: the scenarios, the vcrpy setup, the scrubbing and the in-process runner.

``make record`` (``tests/record.py [action ...]``) runs every scenario (or those of the actions
named) on both backends against the sandbox tenant (or a real tenant, see ``record.py``) and
writes ``tests/cassettes/<backend>/<action>.yaml`` plus ``<action>.json`` (the config without
secrets, the parameters, the envelope's ``data``).
``tests/test_cassettes.py`` replays them without any server. Secrets, tokens, client assertions
and Authorization headers never reach a cassette: ``scrub_request`` / ``scrub_response``.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import vcr

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = ROOT / "tests" / "cassettes"
BACKENDS = ("graph", "ews")
SCRUBBED = "scrubbed"
TOKEN_PATH = re.compile(r"/oauth2/v2\.0/token$")
_SECRET_FORM_FIELDS = ("client_secret", "client_assertion", "password")
_EWS_OPERATION = re.compile(rb"<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)")
_EWS_IMPERSONATED = re.compile(rb"<(?:\w+:)?PrimarySmtpAddress>([^<]+)<")
CAMPAIGN = "<inv-20931-{user}@contoso-payments.com>"
REPORT = "<report-inv-20931-alice@contoso.com>"


@dataclass(frozen=True)
class Scenario:
    """One action run: its parameters and the ``data`` paths that legitimately change per run."""

    action: str
    parameters: dict[str, Any]
    volatile: tuple[str, ...] = field(default=())


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("test_connection", {}, volatile=("token_expires_at",)),
    Scenario("get_searchable_mailboxes", {}),
    Scenario(
        "search_emails_extended",
        {"all_mailboxes": True, "sender": "billing@contoso-payments.com", "subject": "INV-20931"},
    ),
    Scenario(
        "get_attachments",
        {"mailbox": "alice@contoso.com", "internet_message_id": CAMPAIGN.format(user="alice")},
    ),
    Scenario(
        "download_mail_as_eml",
        {"mailbox": "alice@contoso.com", "internet_message_id": CAMPAIGN.format(user="alice")},
    ),
    Scenario("get_contacts", {"mailbox": "alice@contoso.com"}),
    Scenario("get_out_of_office", {"mailbox": "dave@contoso.com"}, volatile=("active_now",)),
    Scenario(
        "copy_email",
        {
            "mailbox": "alice@contoso.com",
            "internet_message_id": CAMPAIGN.format(user="alice"),
            "destination_mailbox": "soc@contoso.com",
            "destination_folder": "inbox",
        },
    ),
    Scenario(
        "delete_attachments",
        {
            "mailbox": "bob@contoso.com",
            "internet_message_id": CAMPAIGN.format(user="bob"),
            "attachment_names": ["INV-20931.zip"],
        },
    ),
    Scenario(
        "delete_email",
        {"mailbox": "carol@contoso.com", "internet_message_id": CAMPAIGN.format(user="carol")},
    ),
    Scenario(
        "junk_mail",
        {
            "mailbox": "alice@contoso.com",
            "internet_message_id": CAMPAIGN.format(user="alice"),
            "is_junk": True,
            "block_sender": True,
        },
    ),
    Scenario(
        "send_email",
        {
            "mailbox": "soc@contoso.com",
            "to": ["alice@contoso.com"],
            "subject": "Phishing campaign INV-20931 contained",
            "body": "We removed the message from every mailbox.",
        },
        volatile=("message.internet_message_id", "message.id"),
    ),
    Scenario(
        "reply_to_email",
        {
            "mailbox": "soc@contoso.com",
            "internet_message_id": REPORT,
            "body": "Thank you for reporting it: it was phishing.",
        },
        volatile=("reply.internet_message_id", "reply.id"),
    ),
    Scenario(
        "poll_mailbox",
        {"mailbox": "phish-report@contoso.com", "since": "2026-11-20T00:00:00Z", "enrich": True},
        volatile=("checkpoint",),
    ),
    Scenario(
        "get_email",
        {
            "mailbox": "phish-report@contoso.com",
            "internet_message_id": "<report-quota-bob@contoso.com>",
        },
    ),
    Scenario(
        "search_and_delete_emails",
        {"all_mailboxes": True, "sender": "contoso-payments.com"},
        volatile=("approval_token", "approval_expires_at"),
    ),
)


# -- scrubbing -------------------------------------------------------------------------------
def _scrub_jwt(token: str) -> str:
    """Keeps a JWT's header and claims (expiry, roles) readable; drops its signature."""
    parts = token.split(".")
    return ".".join([*parts[:2], SCRUBBED]) if len(parts) == 3 else SCRUBBED


def scrub_request(request: Any) -> Any:
    """Authorization headers and the token request's secrets or client assertion."""
    if getattr(request, "_was_iter", False):
        # A streamed upload (MIME import): store its bytes, not a pickled Python iterator.
        materialized = request.body_bytes
        request._was_iter = False
        request.body = materialized
    for name in list(request.headers):
        if name.lower() == "authorization":
            request.headers[name] = SCRUBBED
    if TOKEN_PATH.search(request.path) and request.body:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        form = [(k, SCRUBBED if k in _SECRET_FORM_FIELDS else v) for k, v in parse_qsl(body)]
        request.body = urlencode(form).encode()
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """Access tokens lose their signature, so a cassette holds no usable bearer token."""
    body = response.get("body", {}).get("string")
    if not body or b'"access_token"' not in body:
        return response
    document = json.loads(body)
    document["access_token"] = _scrub_jwt(document["access_token"])
    response["body"]["string"] = json.dumps(document).encode()
    return response


# -- matching --------------------------------------------------------------------------------
def _fingerprint(request: Any) -> tuple[str, ...]:
    """What names a request across runs: EWS operation and mailbox, Graph $batch sub-URLs.

    Other bodies (MIME with fresh Message-IDs, token forms with timestamps) vary per run and are
    matched by order among requests with the same method and URI."""
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    if request.path.endswith("/EWS/Exchange.asmx"):
        operation = _EWS_OPERATION.search(body)
        mailbox = _EWS_IMPERSONATED.search(body)
        return (
            operation.group(1).decode() if operation else "",
            mailbox.group(1).decode().lower() if mailbox else "",
        )
    if request.path.endswith("/$batch"):
        return tuple(sorted(r["url"] for r in json.loads(body).get("requests", [])))
    return ()


def _body_fingerprint_matcher(r1: Any, r2: Any) -> None:
    assert _fingerprint(r1) == _fingerprint(r2)


def cassette_vcr(record_mode: str) -> vcr.VCR:
    machine = vcr.VCR(
        record_mode=record_mode,
        match_on=("method", "scheme", "host", "port", "path", "query", "fingerprint"),
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
        filter_headers=["authorization"],
    )
    machine.register_matcher("fingerprint", _body_fingerprint_matcher)
    return machine


# -- running an action in-process ------------------------------------------------------------
def load_action(action: str) -> Any:
    """The action script as a module, for its ``run`` (the in-process SOAR adapter path)."""
    path = ROOT / "actions" / f"{action}.py"
    spec = importlib.util.spec_from_file_location(f"action_{action}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_in_process(
    action: str, config: dict[str, Any], parameters: dict[str, Any]
) -> tuple[int, dict[str, Any], str]:
    """Runs the action through the contract runtime; returns (exit code, envelope, stderr)."""
    from exchange_pack.runtime import run_action

    module = load_action(action)
    stdin = io.StringIO(json.dumps({"config": config, "parameters": parameters}))
    stdout, stderr = io.StringIO(), io.StringIO()
    _drop_pooled_connections()
    with _serial_fan_out():
        code = run_action(
            action, module.run, argv=[], stdin=stdin, environ={}, stdout=stdout, stderr=stderr
        )
    return code, json.loads(stdout.getvalue()), stderr.getvalue()


def _drop_pooled_connections() -> None:
    """exchangelib caches protocols, with their open connections, across runs in a process; a
    connection opened under an earlier cassette would bypass (or replay) the wrong one."""
    if "exchangelib" in sys.modules:
        sys.modules["exchangelib"].close_connections()


@contextlib.contextmanager
def _serial_fan_out() -> Iterator[None]:
    """vcrpy is not thread-safe, and a fan-out's request order depends on which answer comes
    first: record and replay it one request at a time. The limits are put back afterwards:
    a test worker runs other tests in the same process."""
    from exchange_pack.actions import attachments
    from exchange_pack.ews import fanout as ews_fanout
    from exchange_pack.graph import fanout as graph_fanout

    limits = [
        (ews_fanout, "MAX_CONNECTIONS"),
        (graph_fanout, "CONCURRENCY"),
        (attachments, "DOWNLOAD_CONCURRENCY"),
    ]
    saved = [getattr(module, name) for module, name in limits]
    for module, name in limits:
        setattr(module, name, 1)
    try:
        yield
    finally:
        for (module, name), value in zip(limits, saved, strict=True):
            setattr(module, name, value)


@contextlib.contextmanager
def cassette(backend: str, action: str, record_mode: str) -> Iterator[Path]:
    path = CASSETTES / backend / f"{action}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    with cassette_vcr(record_mode).use_cassette(str(path)):
        yield path


def normalize(data: Any, volatile: tuple[str, ...], output_dir: str) -> Any:
    """``data`` without the run-specific parts: volatile paths and the output folder prefix."""
    text = json.dumps(data, sort_keys=True).replace(output_dir.rstrip("/"), "<output_dir>")
    document = json.loads(text)
    for dotted in volatile:
        node = document
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict) and leaf in node:
            node[leaf] = "<volatile>"
    return document


def recorded_config(config: dict[str, Any]) -> dict[str, Any]:
    """The connection config as stored beside a cassette: endpoints only, never a secret."""
    keep = ("tenant_id", "client_id", "authority_host", "graph_url", "ews_url", "backend")
    stored = {k: config[k] for k in keep if config.get(k)}
    stored["default_mailbox"] = config.get("default_mailbox")
    return stored


def replay_config(stored: dict[str, Any], output_dir: Path) -> dict[str, Any]:
    """A config that reaches no server: a placeholder secret, no token cache, no CA file."""
    placeholder = base64.b64encode(b"replay-only-placeholder").decode()
    return {
        **stored,
        "client_secret": placeholder,
        "token_cache_path": "none",
        "output_dir": str(output_dir),
        "max_retries": 0,
    }
