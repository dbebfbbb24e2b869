"""The action contract (DESIGN.md): input paths, coercion, validation, envelope, exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from contract_action import ACTION_ID, build_contract_pack, run
from jsonschema import Draft202012Validator

from exchange_pack import errors
from exchange_pack.envelope import Scrubber
from exchange_pack.runtime import run_action

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVELOPE_SCHEMA = json.loads((REPO_ROOT / "schemas" / "envelope.json").read_text())
SECRET = "s3cr3t-Value~with.special_chars"
CONFIG = {"tenant_id": "contoso.com", "client_id": "app-1", "client_secret": SECRET}


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = build_contract_pack(tmp_path / "pack")
    monkeypatch.setenv("EXCHANGE_PACK_ROOT", str(root))
    return root


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


class Outcome:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr
        self.envelope: dict[str, Any] = json.loads(stdout)

    @property
    def data(self) -> dict[str, Any]:
        return self.envelope["data"]

    @property
    def message(self) -> str:
        return self.envelope["error"]["message"] if not self.envelope["ok"] else ""


def invoke(
    argv: list[str] | None = None,
    stdin: str | io.StringIO = "",
    environ: dict[str, str] | None = None,
    stderr: io.StringIO | None = None,
) -> Outcome:
    out, err = io.StringIO(), stderr or io.StringIO()
    stdin_stream = io.StringIO(stdin) if isinstance(stdin, str) else stdin
    code = run_action(
        ACTION_ID,
        run,
        argv=argv or [],
        stdin=stdin_stream,
        environ=environ or {},
        stdout=out,
        stderr=err,
    )
    assert out.getvalue().count("\n") == 1, "stdout must be exactly one JSON line"
    return Outcome(code, out.getvalue(), err.getvalue())


def document(parameters: dict[str, Any], config: dict[str, Any] | None = None) -> str:
    return json.dumps({"config": config or CONFIG, "parameters": parameters})


def assert_valid_envelope(envelope: dict[str, Any]) -> None:
    errors_found = list(Draft202012Validator(ENVELOPE_SCHEMA).iter_errors(envelope))
    assert not errors_found, [e.message for e in errors_found]


# -- input paths ------------------------------------------------------------------------------
def test_stdin_document(pack: Path) -> None:
    result = invoke(stdin=document({"mailbox": "alice@contoso.com", "limit": 3}))
    assert result.code == 0, result.stdout
    assert result.stderr == ""
    assert result.data["parameters"] == {
        "mailbox": "alice@contoso.com",
        "limit": 3,
        "dry_run": False,
    }
    assert result.data["config"]["tenant_id"] == "contoso.com"
    assert_valid_envelope(result.envelope)
    assert result.envelope["message"] == "probe ok"
    assert result.envelope["summary"] == {"count": 1}


@pytest.mark.parametrize("style", ["plain", "prefixed"])
def test_config_from_environment(pack: Path, style: str) -> None:
    def name(key: str) -> str:
        return key if style == "plain" else f"EXCHANGE_{key.upper()}"

    environ = {name(k): v for k, v in CONFIG.items()} | {name("cloud"): "usgov"}
    result = invoke(["--mailbox", "bob@contoso.com"], environ=environ)
    assert result.code == 0, result.stdout
    assert result.data["config"] == {
        "backend": "graph",
        "tenant_id": "contoso.com",
        "cloud": "usgov",
    }
    assert result.data["parameters"]["mailbox"] == "bob@contoso.com"


def test_stdin_without_config_takes_it_from_the_environment(pack: Path) -> None:
    result = invoke(stdin=json.dumps({"parameters": {"limit": 2}}), environ=CONFIG)
    assert result.code == 0, result.stdout
    assert result.data["parameters"]["limit"] == 2


def test_flags_forms_and_coercion(pack: Path) -> None:
    argv = [
        "--mailbox=alice@contoso.com",
        "--limit",
        "5",
        "--dry-run",
        "--mailboxes",
        "a@contoso.com, b@contoso.com",
        "--ratio",
        "0.5",
        "--note",
        "5",
    ]
    result = invoke(argv, environ=CONFIG)
    assert result.code == 0, result.stdout
    assert result.data["parameters"] == {
        "mailbox": "alice@contoso.com",
        "limit": 5,
        "dry_run": True,
        "mailboxes": ["a@contoso.com", "b@contoso.com"],
        "ratio": 0.5,
        "note": "5",  # a string parameter stays a string
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"dry_run": "false"}, False),
        ({"dry_run": "TRUE"}, True),
        ({"dry_run": "yes"}, True),
        ({"dry_run": "0"}, False),
    ],
)
def test_boolean_coercion(pack: Path, raw: dict[str, str], expected: bool) -> None:
    result = invoke(stdin=document(raw))
    assert result.data["parameters"]["dry_run"] is expected


def test_json_list_and_blank_values_from_a_soar_form(pack: Path) -> None:
    result = invoke(stdin=document({"mailboxes": '["x@contoso.com","y@contoso.com"]', "limit": ""}))
    assert result.code == 0, result.stdout
    assert result.data["parameters"]["mailboxes"] == ["x@contoso.com", "y@contoso.com"]
    assert result.data["parameters"]["limit"] == 10  # blank means "not given": the default


def test_config_file_json_and_yaml_and_env_precedence(pack: Path, tmp_path: Path) -> None:
    json_file = tmp_path / "conn.json"
    json_file.write_text(json.dumps({"config": CONFIG | {"backend": "ews"}}))
    result = invoke(["--config", str(json_file)])
    assert result.code == 0, result.stdout
    assert result.data["config"]["backend"] == "ews"

    yaml_file = tmp_path / "conn.yaml"
    yaml_file.write_text(yaml.safe_dump(CONFIG | {"cloud": "china"}))
    result = invoke([], environ={"EXCHANGE_CONFIG": str(yaml_file), "EXCHANGE_CLOUD": "dod"})
    assert result.code == 0, result.stdout
    assert result.data["config"]["cloud"] == "dod"  # the environment overrides the file


def test_missing_config_file_is_a_config_error(pack: Path, tmp_path: Path) -> None:
    result = invoke(["--config", str(tmp_path / "absent.yaml")])
    assert result.code == 78
    assert "absent.yaml" in result.message


def test_repeated_flag_builds_a_list(pack: Path) -> None:
    argv = ["--mailboxes", "a@contoso.com", "--mailboxes", "b@contoso.com", "--mailboxes=c@x.com"]
    result = invoke(argv, environ=CONFIG)
    assert result.data["parameters"]["mailboxes"] == ["a@contoso.com", "b@contoso.com", "c@x.com"]
    twice = invoke(["--limit", "1", "--limit", "2"], environ=CONFIG)
    assert twice.code == 64
    assert "'limit' must be of type integer" in twice.message


def test_non_secret_config_key_as_flag(pack: Path) -> None:
    result = invoke(["--backend", "ews"], environ=CONFIG)
    assert result.code == 0, result.stdout
    assert result.data["config"]["backend"] == "ews"


@pytest.mark.parametrize("key", ["client_secret", "password", "certificate_pem"])
def test_secret_flags_are_refused(pack: Path, key: str) -> None:
    result = invoke([f"--{key}", SECRET], environ=CONFIG)
    assert result.code == 64
    assert f"--{key} is a secret" in result.message
    assert SECRET not in result.stdout + result.stderr


def test_a_parameter_given_two_ways_with_different_values_is_refused(pack: Path) -> None:
    result = invoke(["--limit", "2"], stdin=document({"limit": 3}))
    assert result.code == 64
    assert "'limit' is given two ways" in result.message
    assert "stdin JSON and flag --limit" in result.message


def test_an_environment_parameter_conflicting_with_stdin_is_refused(pack: Path) -> None:
    result = invoke(stdin=document({"limit": 3}), environ={"limit": "4"})
    assert result.code == 64
    assert "stdin JSON and environment variable limit" in result.message


def test_sources_that_agree_or_complement_each_other_are_merged(pack: Path) -> None:
    # the same value twice (after coercion: "3" from a flag equals 3 on stdin) is no conflict
    same = invoke(["--limit", "3"], stdin=document({"limit": 3}), environ={"limit": "3"})
    assert same.code == 0, same.message
    assert same.data["parameters"]["limit"] == 3
    merged = invoke(["--limit", "3"], stdin=document({}), environ={"note": "from env"})
    assert merged.code == 0, merged.message
    assert merged.data["parameters"]["limit"] == 3
    assert merged.data["parameters"]["note"] == "from env"


def test_environment_parameters_are_read_with_stdin_config(pack: Path) -> None:
    result = invoke(stdin=document({}), environ={"limit": "7"})
    assert result.code == 0, result.message
    assert result.data["parameters"]["limit"] == 7


def test_a_blank_environment_variable_is_not_given(pack: Path) -> None:
    result = invoke(stdin=document({"limit": 2}), environ={"limit": "  "})
    assert result.code == 0, result.message
    assert result.data["parameters"]["limit"] == 2


def test_config_given_two_ways_with_different_values_is_refused(pack: Path) -> None:
    result = invoke(
        stdin=document({}, CONFIG | {"backend": "graph"}), environ={"EXCHANGE_BACKEND": "ews"}
    )
    assert result.code == 78
    assert "config key 'backend' is given two ways" in result.message
    assert "environment variable EXCHANGE_BACKEND" in result.message
    assert SECRET not in result.stdout


def test_config_from_the_environment_completes_stdin_config(pack: Path) -> None:
    result = invoke(stdin=document({}), environ={"EXCHANGE_BACKEND": "ews"})
    assert result.code == 0, result.message
    assert result.data["config"]["backend"] == "ews"


@pytest.mark.parametrize(
    ("stdin", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"config": {}, "parameters": {}, "extra": 1}', "extra"),
        ('{"parameters": [1]}', '"parameters" must be a JSON object'),
    ],
)
def test_bad_stdin_documents(pack: Path, stdin: str, fragment: str) -> None:
    result = invoke(stdin=stdin)
    assert result.code == 64
    assert fragment in result.message


def test_tty_stdin_falls_back_to_flags(pack: Path) -> None:
    result = invoke(["--limit", "4"], stdin=TtyStream('{"ignored": true}'), environ=CONFIG)
    assert result.code == 0, result.stdout
    assert result.data["parameters"]["limit"] == 4


# -- validation messages -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("parameters", "fragments"),
    [
        (
            {"delete_type": "purge"},
            ["'delete_type'", "move_to_deleted_items, soft, hard", '"purge"'],
        ),
        ({"limit": 500}, ["'limit'", "at most 100"]),
        ({"limit": "many"}, ["'limit'", "integer"]),
        ({"mailbox": "not-an-address"}, ["'mailbox'", "email"]),
        ({"colour": "red"}, ["unknown parameter 'colour'", "allowed:", "mailbox"]),
        ({"mailboxes": ["a"] * 6}, ["'mailboxes'", "at most this many items: 5"]),
    ],
)
def test_parameter_validation_names_field_and_allowed_values(
    pack: Path, parameters: dict[str, Any], fragments: list[str]
) -> None:
    result = invoke(stdin=document(parameters))
    assert result.code == 64
    assert result.envelope["error"]["code"] == "INVALID_INPUT"
    for fragment in fragments:
        assert fragment in result.message
    assert_valid_envelope(result.envelope)


@pytest.mark.parametrize(
    ("config", "fragments"),
    [
        (CONFIG | {"cloud": "mars"}, ["'cloud'", "global, usgov, usgovhigh, dod, china"]),
        (CONFIG | {"backend": "imap"}, ["'backend'", "graph, ews"]),
        (CONFIG | {"timeout_seconds": "0"}, ["'timeout_seconds'", "greater than 0"]),
        (CONFIG | {"colour": 1}, ["unknown config key 'colour'"]),
        ({"tenant_id": "t", "client_id": "c"}, ["client_secret", "certificate_path"]),
        ({"client_secret": SECRET}, ["missing tenant_id and client_id"]),
        (
            {"backend": "ews", "ews_auth": "ntlm", "username": "svc", "password": SECRET},
            ["needs ews_url"],
        ),
    ],
)
def test_config_validation_is_exit_78_and_never_echoes_secrets(
    pack: Path, config: dict[str, Any], fragments: list[str]
) -> None:
    result = invoke(stdin=document({}, config))
    assert result.code == 78, result.stdout
    assert result.envelope["error"]["category"] == "config"
    for fragment in fragments:
        assert fragment in result.message
    assert SECRET not in result.stdout + result.stderr


def test_a_wrongly_typed_secret_is_not_echoed(pack: Path) -> None:
    result = invoke(stdin=document({}, CONFIG | {"client_secret": 987654321}))
    assert result.code == 78
    assert "'client_secret' must be of type string" in result.message
    assert "987654321" not in result.stdout + result.stderr


def test_verify_tls_and_numbers_from_environment_strings(pack: Path) -> None:
    environ = CONFIG | {
        "EXCHANGE_VERIFY_TLS": "false",
        "max_retries": "2",
        "timeout_seconds": "7.5",
    }
    result = invoke([], environ=environ)
    assert result.code == 0, result.stdout


# -- exit codes and the failure envelope -------------------------------------------------------
EXPECTED_EXIT = {
    "InputError": 64,
    "UnsupportedError": 64,
    "NotFoundError": 66,
    "MessageNotFoundError": 66,
    "FolderNotFoundError": 66,
    "AttachmentNotFoundError": 66,
    "MailboxNotFoundError": 67,
    "ServiceUnavailableError": 69,
    "EwsBlockedError": 69,
    "ExchangePackError": 70,
    "InternalError": 70,
    "TransientError": 75,
    "ThrottledError": 75,
    "AmbiguousOutcomeError": 75,
    "SyncStateExpiredError": 75,
    "AccessDeniedError": 77,
    "ConfigError": 78,
    "AuthenticationError": 78,
}


def test_every_error_class_has_an_expected_exit_code() -> None:
    from contract_action import ERROR_CLASSES

    assert sorted(EXPECTED_EXIT) == ERROR_CLASSES


@pytest.mark.parametrize(("name", "exit_code"), sorted(EXPECTED_EXIT.items()))
def test_error_classes_map_to_exit_codes(pack: Path, name: str, exit_code: int) -> None:
    error_class = getattr(errors, name)
    result = invoke(stdin=document({"raise": name}))
    assert result.code == exit_code
    error = result.envelope["error"]
    assert error["code"] == error_class.code
    assert error["category"] == error_class.category
    assert error["retryable"] is error_class.retryable
    assert error["backend_code"] == "ProbeCode"
    assert error["hint"] == "probe hint"
    assert result.envelope["ok"] is False and result.envelope["data"] is None
    if error_class.retryable:
        assert error["retry_after_seconds"] == 7
    assert result.stderr == f"ERROR {error_class.code}: probe raised {name}\n"
    assert_valid_envelope(result.envelope)


def test_unexpected_exception_is_a_generic_internal_error(pack: Path) -> None:
    result = invoke(stdin=document({"crash": True, "message": f"leaking {SECRET}"}))
    assert result.code == 70
    assert result.envelope["error"]["code"] == "INTERNAL_ERROR"
    assert result.message == "Unexpected internal error (RuntimeError)."
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert SECRET not in result.stdout + result.stderr


def test_traceback_only_with_debug_logging_and_scrubbed(pack: Path) -> None:
    result = invoke(["--debug"], stdin=document({"crash": True, "message": f"leaking {SECRET}"}))
    assert result.code == 70
    assert "Traceback" in result.stderr
    assert "RuntimeError" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert result.stderr.endswith(
        "ERROR INTERNAL_ERROR: Unexpected internal error (RuntimeError).\n"
    )


def test_secret_in_an_error_message_is_scrubbed(pack: Path) -> None:
    result = invoke(stdin=document({"raise": "ConfigError", "message": f"bad value {SECRET}"}))
    assert result.code == 78
    assert SECRET not in result.stdout + result.stderr
    assert "[REDACTED]" in result.stderr


def test_output_schema_violation_is_an_internal_error(pack: Path) -> None:
    result = invoke(stdin=document({"bad_output": True}))
    assert result.code == 70
    assert "does not match its output schema" in result.message
    assert "'parameters' is a required property" in result.message


def test_run_must_return_an_action_result(pack: Path) -> None:
    result = invoke(stdin=document({"wrong_result": True}))
    assert result.code == 70
    assert "not an ActionResult" in result.message


# -- stderr, logging, warnings, progress -------------------------------------------------------
def test_logs_only_when_asked(pack: Path) -> None:
    quiet = invoke(stdin=document({"log": True}))
    assert quiet.code == 0 and quiet.stderr == ""
    verbose = invoke(
        ["--verbose"], stdin=TtyStream(""), environ=CONFIG | {"EXCHANGE_LOG_LEVEL": ""}
    )
    assert verbose.code == 0
    assert "INFO exchange_pack: contract_probe: input from command line" in verbose.stderr
    by_env = invoke(["--log", "true"], environ=CONFIG | {"EXCHANGE_LOG_LEVEL": "info"})
    assert "probe log line" in by_env.stderr


def test_warnings_reach_the_envelope(pack: Path) -> None:
    result = invoke(stdin=document({"warn": "mailbox x was throttled"}))
    assert result.envelope["warnings"] == ["mailbox x was throttled"]
    assert result.stderr == ""


def test_progress_only_on_a_terminal(pack: Path) -> None:
    assert invoke(stdin=document({"progress": True})).stderr == ""
    terminal = TtyStream()
    result = invoke(stdin=document({"progress": True}), stderr=terminal)
    assert result.code == 0
    assert "1/2 halfway" in terminal.getvalue()


def test_meta_fields(pack: Path) -> None:
    meta = invoke(stdin=document({})).envelope["meta"]
    assert meta["backend"] == "graph"
    assert meta["requests"] == 0 and meta["throttled"] == 0
    assert meta["pack_version"]
    assert meta["duration_ms"] >= 0


def test_help_lists_parameters(pack: Path) -> None:
    out = io.StringIO()
    code = run_action(ACTION_ID, run, argv=["--help"], stdin=io.StringIO(), environ={}, stdout=out)
    assert code == 0
    assert "--delete_type" in out.getvalue()


# -- the scrubber -------------------------------------------------------------------------------
def test_scrubber_removes_known_and_credential_shaped_values() -> None:
    scrubber = Scrubber([SECRET, "abc"])  # too short to scrub safely
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJyb2xlcyI6WyJNYWlsLlJlYWQiXX0.c2lnbmF0dXJlLXZhbHVl"
    text = scrubber.text(
        f"s={SECRET} token {jwt} Authorization: Bearer abcdefghijklmnopqrstu "
        "client_secret=xyz123&x=1 -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- abc"
    )
    assert SECRET not in text and jwt not in text and "MIIE" not in text
    assert "abcdefghijklmnopqrstu" not in text and "xyz123" not in text
    assert text.endswith("abc")
    assert scrubber.value({"a": [f"x{SECRET}"]}) == {"a": ["x[REDACTED]"]}


# -- the real process -----------------------------------------------------------------------
def _process_env(pack_root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", *CONFIG):
        env.pop(name, None)
    return env | {"EXCHANGE_PACK_ROOT": str(pack_root)} | extra


def run_script(
    pack_root: Path, argv: list[str], stdin: str, **env: str
) -> subprocess.CompletedProcess:
    script = pack_root / "actions" / f"{ACTION_ID}.py"
    return subprocess.run(
        [sys.executable, str(script), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=_process_env(pack_root, **env),
        timeout=60,
    )


def test_script_process_success_has_empty_stderr(pack: Path) -> None:
    done = run_script(pack, [], document({"mailbox": "alice@contoso.com"}))
    assert done.returncode == 0
    assert done.stderr == ""
    envelope = json.loads(done.stdout)
    assert envelope["ok"] is True
    assert_valid_envelope(envelope)


def test_script_process_failure_has_one_stderr_line(pack: Path) -> None:
    done = run_script(pack, [], document({"raise": "MailboxNotFoundError"}))
    assert done.returncode == 67
    assert done.stderr == "ERROR MAILBOX_NOT_FOUND: probe raised MailboxNotFoundError\n"
    assert json.loads(done.stdout)["error"]["code"] == "MAILBOX_NOT_FOUND"


def test_script_process_flags_with_empty_stdin(pack: Path) -> None:
    done = run_script(
        pack, ["--limit", "9"], "", tenant_id="t", client_id="c", EXCHANGE_CLIENT_SECRET=SECRET
    )
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["data"]["parameters"]["limit"] == 9
    assert done.stderr == ""


def test_scrubber_leaves_the_packs_own_sentences_whole() -> None:
    scrubber = Scrubber(["wrong", SECRET])
    text = scrubber.text(f"AADSTS7000215: The client secret is wrong. It was wrong: {SECRET}")
    assert text == "AADSTS7000215: The client secret is wrong. It was [REDACTED]: [REDACTED]"


def test_pretty_flag_indents_and_engines_get_one_line(pack: Path) -> None:
    out = io.StringIO()
    code = run_action(
        ACTION_ID,
        run,
        argv=["--pretty"],
        stdin=io.StringIO(document({})),
        environ={},
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 0
    assert out.getvalue().startswith('{\n  "ok": true,')
    assert json.loads(out.getvalue())["ok"] is True
    compact = invoke(stdin=document({}))  # invoke() asserts exactly one line
    assert compact.envelope["ok"] is True


def test_help_lists_types_defaults_allowed_values_and_required(pack: Path) -> None:
    out = io.StringIO()
    assert run_action(ACTION_ID, run, argv=["--help"], stdout=out) == 0
    text = out.getvalue()
    assert "--limit (integer; optional; default 10; range 1..100)" in text
    assert "one of: move_to_deleted_items, soft, hard" in text
    assert "--mailboxes (list of string; optional)" in text
    assert "environment variable named by its id" in text


@pytest.mark.parametrize(
    "entry",
    [["actions/get_out_of_office.py"], ["-m", "exchange_pack.run", "get_out_of_office"]],
    ids=["script", "module"],
)
def test_action_process_freezes_what_is_left_before_shutdown(entry: list[str]) -> None:
    # exit_process: the interpreter's shutdown skips what the action left (gc.freeze), and the
    # exit handlers still run (this one reports the frozen count).
    root = Path(__file__).resolve().parents[2]
    probe = (
        "import atexit, gc, runpy, sys\n"
        "atexit.register(lambda: sys.stderr.write(f'frozen={gc.get_freeze_count()}'))\n"
        f"sys.argv = [{entry[-1]!r}, '--help']\n"
        + (
            f"runpy.run_path({entry[0]!r}, run_name='__main__')\n"
            if len(entry) == 1
            else "sys.argv = ['run', 'get_out_of_office', '--help']\n"
            "runpy.run_module('exchange_pack.run', run_name='__main__')\n"
        )
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=root, timeout=60
    )
    assert done.returncode == 0 and "get_out_of_office" in done.stdout
    assert int(done.stderr.rsplit("frozen=", 1)[1]) > 1000
