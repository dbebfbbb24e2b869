"""Hostile input and damaged local state, end to end on both backends: every run is one clean
envelope with the documented exit code (never 70), the field named, nothing sent."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from pack_runner import (
    CAMPAIGN_ATTACHMENTS,
    ROOT,
    Outcome,
    PackRunner,
    campaign_id,
    check_envelope,
)

from exchange_pack.config import ConnectionConfig
from exchange_pack.graph import GraphClient
from exchange_pack.session import Session

pytestmark = pytest.mark.sandbox

DAMAGED_CACHES = {
    "not-utf8": b"\x00\xff garbage {{{",
    "wrong-shape": b'{"AccessToken": [], "ExchangePackCredentials": "x", '
    b'"ExchangePackDiscovery": 5}',
    "bad-timestamp": b'{"AccessToken": {"k": {"client_id": "c", "expires_on": "soon"}}}',
}


# -- 1: a damaged token cache is set aside -----------------------------------------------------
@pytest.mark.parametrize("damage", sorted(DAMAGED_CACHES))
def test_damaged_token_cache_is_set_aside(
    fresh_pack: PackRunner, backend: str, tmp_path: Path, damage: str
) -> None:
    cache = tmp_path / "cache" / "tokens.json"
    cache.parent.mkdir(mode=0o700)
    cache.write_bytes(DAMAGED_CACHES[damage])
    first = fresh_pack.run(
        "get_out_of_office", {"mailbox": "dave@contoso.com"}, backend, token_cache_path=str(cache)
    )
    assert first.code == 0, first.envelope
    assert any("corrupt" in w and "set aside" in w for w in first.warnings), first.warnings
    [aside] = cache.parent.glob("tokens.json.corrupt-*")
    assert aside.read_bytes() == DAMAGED_CACHES[damage]
    second = fresh_pack.run(
        "get_out_of_office", {"mailbox": "dave@contoso.com"}, backend, token_cache_path=str(cache)
    )
    assert second.code == 0 and second.warnings == []
    assert len(list(cache.parent.glob("tokens.json.corrupt-*"))) == 1


# -- 2: one list item is one mailbox address ---------------------------------------------------
INJECTED_RECIPIENTS = [
    "x@evil.example,bob@contoso.com",
    '"x@evil.example" <bob@contoso.com>',
    "a b@c.com",
    "\u0000@b.com",
    "a@b.com\r\nBcc: x@y",
    "bob@contoso.com;x@evil.example",
]


@pytest.mark.parametrize("recipient", INJECTED_RECIPIENTS)
def test_send_email_refuses_anything_but_one_address_per_item(
    fresh_pack: PackRunner, backend: str, recipient: str
) -> None:
    fresh_pack.sandbox.clear_requests()
    outcome = fresh_pack.run(
        "send_email",
        {"to": ["alice@contoso.com", recipient], "subject": "s", "body": "b"},
        backend,
    )
    assert outcome.code == 64, outcome.envelope
    assert "'to[1]'" in outcome.error["message"]
    assert outcome.envelope["meta"]["requests"] == 0
    assert fresh_pack.sandbox.requests() == []  # nothing reached the tenant


@pytest.mark.parametrize(
    ("action", "field", "params"),
    [
        ("send_email", "cc", {"to": ["alice@contoso.com"], "subject": "s", "body": "b"}),
        ("send_email", "bcc", {"to": ["alice@contoso.com"], "subject": "s", "body": "b"}),
        ("send_email", "reply_to", {"to": ["alice@contoso.com"], "subject": "s", "body": "b"}),
        ("reply_to_email", "to", {"message_id": "AAMk", "body": "b"}),
        ("reply_to_email", "cc", {"message_id": "AAMk", "body": "b"}),
        ("get_out_of_office", "mailbox", {}),
        ("copy_email", "destination_mailbox", {"message_id": "AAMk"}),
    ],
)
def test_every_address_field_is_strict(
    fresh_pack: PackRunner, backend: str, action: str, field: str, params: dict[str, object]
) -> None:
    hostile = "x@evil.example,bob@contoso.com"
    value: object = hostile if field.endswith("mailbox") else [hostile]
    outcome = fresh_pack.run(action, {**params, field: value}, backend)
    assert outcome.code == 64, outcome.envelope
    shown = field if field.endswith("mailbox") else f"{field}[0]"
    assert f"'{shown}'" in outcome.error["message"]
    assert outcome.envelope["meta"]["requests"] == 0


# -- 4: input at fault is 64 (78 for config), never 70 ------------------------------------------
def run_raw(pack: PackRunner, action: str, stdin: str) -> Outcome:
    """An action process fed ``stdin`` as is (text json.dumps could not even produce)."""
    process = subprocess.run(
        [sys.executable, str(ROOT / "actions" / f"{action}.py")],
        input=stdin,
        capture_output=True,
        text=True,
        env=pack.env,
        cwd=ROOT,
        timeout=120,
    )
    envelope = json.loads(process.stdout)
    check_envelope(action, process.returncode, envelope, process.stderr)
    return Outcome(action, process.returncode, envelope, process.stderr)


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_stdin_is_bad_input(fresh_pack: PackRunner, backend: str, depth: int) -> None:
    config = json.dumps(fresh_pack.config(backend))
    nested = "[" * depth + "]" * depth
    stdin = f'{{"config": {config}, "parameters": {{"mailbox": {nested}}}}}'
    outcome = run_raw(fresh_pack, "get_out_of_office", stdin)
    assert outcome.code == 64, outcome.envelope
    assert "stdin" in outcome.error["message"]


def test_deeply_nested_parameter_string_is_bad_input(fresh_pack: PackRunner, backend: str) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    outcome = fresh_pack.run("delete_email", {"message_ids": nested}, backend)
    assert outcome.code == 64, outcome.envelope
    assert "'message_ids'" in outcome.error["message"]


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        ("search_emails_extended", {"query": "\ud800"}, "query"),
        ("search_emails_extended", {"query": "a\u0001b"}, "query"),
        ("search_emails_extended", {"subject": "x\r\ny"}, "subject"),
        ("send_email", {"to": ["alice@contoso.com"], "subject": "\ud800", "body": "b"}, "subject"),
        (
            "send_email",
            {"to": ["alice@contoso.com"], "subject": "s\nBcc: x@y", "body": "b"},
            "subject",
        ),
        ("send_email", {"to": ["alice@contoso.com"], "subject": "s", "body": "a\u0000b"}, "body"),
        ("get_out_of_office", {"mailbox": "a@\u202eb.com"}, "mailbox"),
        ("get_contacts", {"query": "a\udfffb"}, "query"),
    ],
)
def test_text_that_cannot_be_sent_is_bad_input(
    fresh_pack: PackRunner, backend: str, action: str, params: dict[str, object], field: str
) -> None:
    outcome = fresh_pack.run(action, params, backend)
    assert outcome.code == 64, outcome.envelope
    assert f"'{field}'" in outcome.error["message"]
    assert outcome.envelope["meta"]["requests"] == 0
    assert "\u202e" not in outcome.stderr + json.dumps(outcome.envelope, ensure_ascii=False)


def test_missing_ca_bundle_is_a_config_error(fresh_pack: PackRunner, backend: str) -> None:
    outcome = fresh_pack.run(
        "get_out_of_office",
        {"mailbox": "dave@contoso.com"},
        backend,
        ca_bundle="/nonexistent/ca.pem",
    )
    assert outcome.code == 78, outcome.envelope
    assert "'ca_bundle'" in outcome.error["message"]


# -- 3: the EWS version probe gets the same back-off as every request ---------------------------
def test_cold_ews_process_waits_out_server_busy(fresh_pack: PackRunner, tmp_path: Path) -> None:
    cache = tmp_path / "cold" / "tokens.json"  # no ews-versions.json yet: the probe is first
    fresh_pack.sandbox.fault(path="/EWS/Exchange.asmx", throttle=0.2, count=1)
    outcome = fresh_pack.run(
        "get_out_of_office", {"mailbox": "dave@contoso.com"}, "ews", token_cache_path=str(cache)
    )
    assert outcome.code == 0, outcome.envelope
    assert (outcome.envelope["meta"]["throttled"], outcome.envelope["meta"]["retries"]) == (1, 1)
    ews = [r for r in fresh_pack.sandbox.requests() if r["path"] == "/EWS/Exchange.asmx"]
    assert [r["operation"] for r in ews[:2]] == ["ConvertId", "ConvertId"]
    assert (cache.parent / "ews-versions.json").is_file()


def test_cold_ews_process_reports_lasting_server_busy_as_throttled(
    fresh_pack: PackRunner, tmp_path: Path
) -> None:
    cache = tmp_path / "cold" / "tokens.json"
    fresh_pack.sandbox.fault(path="/EWS/Exchange.asmx", throttle=30, count=5)
    outcome = fresh_pack.run(
        "get_out_of_office",
        {"mailbox": "dave@contoso.com"},
        "ews",
        token_cache_path=str(cache),
        max_retry_wait_seconds=1,
    )
    assert outcome.code == 75, outcome.envelope
    assert outcome.error["code"] == "THROTTLED"
    assert outcome.error["retry_after_seconds"] == pytest.approx(30)


# -- 5: credentials in URLs are never echoed ---------------------------------------------------
PROXY_PASSWORD = "Pr0xy~Pass.word_77"


def without_secret(outcome: Outcome, secret: str = PROXY_PASSWORD) -> None:
    text = json.dumps(outcome.envelope) + outcome.stderr
    assert secret not in text and "Pr0xy%7EPass" not in text


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("proxy_url", f"http://soc:{PROXY_PASSWORD}@proxy.contoso.com:3128 x"),
        ("proxy_url", f"ftp://soc:{PROXY_PASSWORD}@proxy.contoso.com"),
        ("proxy_url", f"http://soc:{PROXY_PASSWORD}@proxy.contoso.com:99999"),
        ("graph_url", f"https://soc:{PROXY_PASSWORD}@127.0.0.1"),
        ("ews_url", f"https://soc:{PROXY_PASSWORD}@127.0.0.1/EWS/Exchange.asmx"),
    ],
)
def test_url_credentials_in_a_bad_config_are_not_echoed(
    fresh_pack: PackRunner, backend: str, key: str, url: str
) -> None:
    outcome = fresh_pack.run("test_connection", {}, backend, **{key: url})
    assert outcome.code == 78, outcome.envelope
    assert f"'{key}'" in outcome.error["message"]
    without_secret(outcome)


def test_proxy_credentials_are_scrubbed_from_failures_and_logs(
    fresh_pack: PackRunner, backend: str
) -> None:
    config = fresh_pack.config(
        backend, proxy_url=f"http://soc:{PROXY_PASSWORD}@127.0.0.1:9", max_retries=0
    )
    document = {"config": config, "parameters": {"mailbox": "dave@contoso.com"}}
    process = subprocess.run(
        [sys.executable, str(ROOT / "actions" / "get_out_of_office.py"), "--debug"],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        env=fresh_pack.env,
        cwd=ROOT,
        timeout=120,
    )
    envelope = json.loads(process.stdout)
    assert process.returncode in (69, 75, 78), envelope
    assert "DEBUG" in process.stderr  # the debug log ran through the scrubber too
    without_secret(Outcome("get_out_of_office", process.returncode, envelope, process.stderr))


# -- 6: delete_attachments keeps a copy by default ---------------------------------------------
def test_delete_attachments_keeps_hashed_copies_by_default(
    fresh_pack: PackRunner, backend: str
) -> None:
    target = {"mailbox": "carol@contoso.com", "internet_message_id": campaign_id("carol")}
    saved = fresh_pack.run("get_attachments", target, backend).data["attachments"]
    before = {a["name"]: a["file"]["sha256"] for a in saved}
    for path in fresh_pack.output_dir.iterdir():
        path.unlink()
    done = fresh_pack.run("delete_attachments", {**target, "all_attachments": True}, backend)
    copies_dir = Path(done.data["copies_dir"])
    assert copies_dir == fresh_pack.output_dir.resolve()
    assert str(copies_dir) in done.envelope["message"]
    removed = done.data["attachments"]
    assert {a["status"] for a in removed} == {"deleted"}
    assert {a["name"]: a["copy"]["sha256"] for a in removed} == before
    for attachment in removed:
        copy = Path(attachment["copy"]["path"])
        assert copy.parent == copies_dir
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == attachment["copy"]["sha256"]
    assert done.envelope["summary"]["copies_saved"] == len(CAMPAIGN_ATTACHMENTS)


def test_delete_attachments_without_copies_only_when_asked(
    fresh_pack: PackRunner, backend: str
) -> None:
    target = {"mailbox": "bob@contoso.com", "internet_message_id": campaign_id("bob")}
    dry = fresh_pack.run(
        "delete_attachments", {**target, "all_attachments": True, "dry_run": True}, backend
    )
    assert dry.data["copies_dir"] is None and not fresh_pack.output_dir.exists()
    done = fresh_pack.run(
        "delete_attachments",
        {**target, "attachment_names": ["INV-20931.zip"], "save_copies": False},
        backend,
    )
    assert [(a["status"], a["copy"]) for a in done.data["attachments"]] == [("deleted", None)]
    assert done.data["copies_dir"] is None and "no copies kept" in done.envelope["message"]
    assert not fresh_pack.output_dir.exists()


def test_no_copy_no_removal(fresh_pack: PackRunner, backend: str, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where output_dir should be")
    target = {"mailbox": "bob@contoso.com", "internet_message_id": campaign_id("bob")}
    outcome = fresh_pack.run(
        "delete_attachments", {**target, "all_attachments": True}, backend, output_dir=str(blocked)
    )
    assert outcome.code == 78, outcome.envelope
    assert "output_dir" in outcome.error["message"]
    left = fresh_pack.run("get_attachments", target, backend).data["attachments"]
    assert len(left) == len(CAMPAIGN_ATTACHMENTS)


# -- 7: one exit code per fault, whatever the backend ------------------------------------------
FAULT_PATHS = {"graph": "^/v1.0/", "ews": "^/EWS/Exchange.asmx$"}


@pytest.mark.parametrize(
    ("status", "headers", "retry_after"),
    [(503, {"Retry-After": "1"}, 1.0), (503, {}, None), (502, {}, None), (504, {}, None)],
    ids=["503-retry-after", "503", "502", "504"],
)
def test_lasting_server_failure_is_transient_on_both_backends(
    fresh_pack: PackRunner,
    backend: str,
    tmp_path: Path,
    status: int,
    headers: dict[str, str],
    retry_after: float | None,
) -> None:
    fresh_pack.sandbox.fault(path=FAULT_PATHS[backend], status=status, headers=headers, count=50)
    outcome = fresh_pack.run(
        "get_out_of_office",
        {"mailbox": "dave@contoso.com"},
        backend,
        token_cache_path=str(tmp_path / "tokens.json"),
        max_retries=1,
        max_retry_wait_seconds=2,
    )
    assert outcome.code == 75, outcome.envelope
    assert outcome.error["code"] == "TRANSIENT" and outcome.error["retryable"] is True
    assert outcome.error.get("retry_after_seconds") == retry_after
    assert outcome.envelope["meta"]["retries"] == 1


# -- 8: no saved file name reads as an option --------------------------------------------------
DASH_ID = "<dash-names@attacker.example>"
DASH_NAMES = ["-rf", "-rf", "--help", ".-x", " -n", "..-rf", "-"]


def import_dash_message(pack: PackRunner) -> None:
    """alice gets a mail whose subject and attachment names begin with dashes (Graph import)."""
    message = EmailMessage()
    message["From"] = "attacker@attacker.example"
    message["To"] = "alice@contoso.com"
    message["Subject"] = "-rf --no-preserve-root"
    message["Message-ID"] = DASH_ID
    message.set_content("See attached.")
    for index, name in enumerate(DASH_NAMES):
        message.add_attachment(
            f"part {index}".encode(), "application", "octet-stream", filename=name
        )
    config = ConnectionConfig.model_validate(pack.config("graph"))
    with Session(config) as session:
        GraphClient(session).request(
            "POST",
            "/users/alice@contoso.com/messages",
            data=base64.b64encode(message.as_bytes()),
            headers={"Content-Type": "text/plain"},
        ).close()


def test_saved_names_never_begin_with_a_dash_or_dot(
    fresh_pack: PackRunner, backend: str, tmp_path: Path
) -> None:
    import_dash_message(fresh_pack)
    target = {"mailbox": "alice@contoso.com", "internet_message_id": DASH_ID}
    output = tmp_path / "out"
    saved = fresh_pack.run("get_attachments", target, backend, output_dir=str(output))
    assert len(saved.data["attachments"]) == len(DASH_NAMES)
    eml = fresh_pack.run("download_mail_as_eml", target, backend, output_dir=str(output))
    assert eml.code == 0, eml.envelope
    removed = fresh_pack.run(
        "delete_attachments", {**target, "all_attachments": True}, backend, output_dir=str(output)
    )
    assert {a["status"] for a in removed.data["attachments"]} == {"deleted"}
    written = sorted(p.name for p in output.iterdir())
    assert len(written) == 2 * len(DASH_NAMES) + 1
    for name in written:
        assert not name.startswith(("-", ".", " ")), written
    assert "_-rf" in written and "_-rf (2)" in written
