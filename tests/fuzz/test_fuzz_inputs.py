"""Fuzzing the action contract in-process: every action's real ``run`` under the runtime, fed
inputs generated from its input schema, hostile strings and hostile stdin documents.

Whatever the input: the exit code is a documented one and never 70, stdout is exactly one
envelope valid against ``schemas/envelope.json``, stderr is empty or one ``ERROR`` line, no
traceback, and no secret from the config anywhere. Generated parameters run against the sandbox
tenant (what passes validation reaches Graph or EWS for real); generated configs and stdin
documents point at a closed local port (nothing to reach).
"""

from __future__ import annotations

import importlib.util
import io
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange_pack.errors import EXIT_CODES
from exchange_pack.manifest import BINDING_ACTION_IDS, load_schema, schema_validator
from exchange_pack.runtime import run_action
from exchange_sandbox.process import Sandbox

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_EXITS = set(EXIT_CODES) - {70}
SECRET = "Fuzz~Secret.Value_0123456789"
URL_PASSWORD = "Url~Pass.word_9876"
SECRETS = (SECRET, URL_PASSWORD, "Url%7EPass.word_9876")

# The probes that found the defects of issue 12, and their relatives.
HOSTILE = [
    "",
    " ",
    "null",
    "true",
    "-1",
    "1e999",
    "[[[[[[[[",
    "{}",
    "x@evil.example,bob@contoso.com",
    '"x@evil.example" <bob@contoso.com>',
    "a b@c.com",
    "\u0000@b.com",
    "a@\u202eb.com",
    "a@b.com\r\nBcc: x@y",
    "bob@contoso.com;x@y.com",
    "\ud800",
    "a\udfffb",
    "a\u0001b",
    "\uffff",
    "line\nbreak",
    "\u2028",
    "' or 1 eq 1 or '",
    '") or (subject ne "',
    "<x>&amp;</x>]]><!--",
    "$filter=id ne null",
    "../../etc/passwd",
    "-rf",
    "%00%0d%0a",
    "A" * 2000,
    "\U0001f600" * 50,
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    "http://user:" + URL_PASSWORD + "@proxy.contoso.com:3128",
    "-1http://user:" + URL_PASSWORD + "@proxy.contoso.com:3128",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=6)), max_size=4).map("".join),
)


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


deep_values = st.integers(min_value=20, max_value=3000).map(nested)


def value_strategy(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values for one schema property: often plausible, often hostile, sometimes deep."""
    kind = prop.get("type")
    choices: list[st.SearchStrategy[Any]] = [hostile_text]
    if "enum" in prop:
        choices.append(st.sampled_from(prop["enum"]))
    if kind == "boolean":
        choices += [st.booleans(), st.sampled_from(["true", "no", "yes", "0", "maybe"])]
    if kind in ("integer", "number"):
        low, high = prop.get("minimum", -10), prop.get("maximum", 10**6)
        choices += [
            st.integers(min_value=low - 3, max_value=high + 3),
            st.integers(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(min_value=low, max_value=high).map(str),
            st.integers(min_value=low, max_value=high).map(float),
        ]
    if kind == "string" and prop.get("format") == "email":
        choices.append(st.emails())
    if kind == "array":
        items = prop.get("items", {})
        item = st.one_of(value_strategy(items) if items else hostile_text, st.emails())
        choices += [st.lists(item, max_size=4), st.lists(hostile_text, max_size=3).map(",".join)]
    choices += [deep_values, st.none(), st.dictionaries(hostile_text, hostile_text, max_size=2)]
    return st.one_of(*choices)


ALICE_COPY = "<inv-20931-alice@contoso-payments.com>"
ALICE = {"mailbox": "alice@contoso.com", "internet_message_id": ALICE_COPY}
# A valid run of each action on the demo tenant (writes as dry runs or to the SOC mailbox):
# hostile values replace one or two of its fields, so they reach Graph and EWS for real.
BASELINES: dict[str, dict[str, Any]] = {
    "test_connection": {},
    "get_attachments": ALICE,
    "get_contacts": {"mailbox": "alice@contoso.com"},
    "get_searchable_mailboxes": {},
    "get_out_of_office": {"mailbox": "dave@contoso.com"},
    "search_emails_extended": {"mailbox": "alice@contoso.com", "subject": "INV-20931"},
    "copy_email": {**ALICE, "destination_folder": "archive"},
    "delete_attachments": {**ALICE, "attachment_names": ["remittance.html"], "dry_run": True},
    "delete_email": {"mailbox": "alice@contoso.com", "message_ids": [ALICE_COPY], "dry_run": True},
    "download_mail_as_eml": ALICE,
    "junk_mail": {**ALICE, "is_junk": True, "move": False},
    "send_email": {"to": ["soc@contoso.com"], "subject": "fuzz", "body": "fuzz"},
    "reply_to_email": {**ALICE, "to": ["soc@contoso.com"], "body": "fuzz"},
    "poll_mailbox": {"mailbox": "phish-report@contoso.com", "limit": 5},
    "get_email": ALICE,
    # mode estimate (the default): a delete needs an approval token no generator can forge
    "search_and_delete_emails": {
        "mailboxes": ["alice@contoso.com"],
        "sender": "contoso-payments.com",
    },
}


def parameters_strategy(action_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly a valid run with one or two fields replaced; sometimes a wholly generated one."""
    properties = load_schema(f"{action_id}.input").get("properties", {})
    values = {name: value_strategy(prop) for name, prop in properties.items()}
    values["not_a_parameter"] = hostile_text
    baseline = BASELINES[action_id]
    mutated = st.lists(
        st.sampled_from(sorted(values)), min_size=1, max_size=2, unique=True
    ).flatmap(lambda keys: st.fixed_dictionaries({k: values[k] for k in keys}))
    generated = st.fixed_dictionaries({}, optional=values)
    return st.one_of(mutated.map(lambda change: {**baseline, **change}), generated)


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A local port nothing listens on: every connection is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]


@pytest.fixture(scope="module")
def tenant(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict]:
    """Configs for the sandbox tenant: the token cached once, files in a temporary folder."""
    cache = tmp_path_factory.mktemp("fuzz-cache") / "tokens.json"
    output = tmp_path_factory.mktemp("fuzz-output")

    def config(backend: str) -> dict[str, Any]:
        return sandbox.pack_config(
            backend=backend,
            token_cache_path=str(cache),
            output_dir=str(output),
            max_retries=0,
            timeout_seconds=10,
        )

    return config


@pytest.fixture(scope="module")
def config(closed_port: int, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A config whose endpoints are a closed local port (for generated config values)."""
    base = f"https://127.0.0.1:{closed_port}"
    return {
        "tenant_id": "0a89d252-bfa9-4906-b2c4-f8471fbddea0",
        "client_id": "c8301c60-1a91-47d0-9b84-9d2c41015aed",
        "client_secret": SECRET,
        "authority_host": base,
        "graph_url": base,
        "ews_url": f"{base}/EWS/Exchange.asmx",
        "default_mailbox": "soc@contoso.com",
        "token_cache_path": "none",
        "max_retries": 0,
        "timeout_seconds": 5,
        "output_dir": str(tmp_path_factory.mktemp("fuzz-output")),
    }


_RUNS: dict[str, Callable[..., Any]] = {}


def action_run(action_id: str) -> Callable[..., Any]:
    """The action script's ``run``, loaded once."""
    if action_id not in _RUNS:
        path = ROOT / "actions" / f"{action_id}.py"
        spec = importlib.util.spec_from_file_location(f"fuzz_action_{action_id}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _RUNS[action_id] = module.run
    return _RUNS[action_id]


def run_raw(action_id: str, stdin_text: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run_action(
        action_id,
        action_run(action_id),
        argv=[],
        stdin=io.StringIO(stdin_text),
        environ={},
        stdout=stdout,
        stderr=stderr,
    )
    return code, stdout.getvalue(), stderr.getvalue()


def check_contract(
    action_id: str, code: int, stdout: str, stderr: str, secrets: tuple[str, ...] = SECRETS
) -> dict[str, Any]:
    """The contract every run keeps, whatever it was fed."""
    assert code in ALLOWED_EXITS, (code, stdout)
    lines = stdout.splitlines()
    assert len(lines) == 1 and stdout.endswith("\n"), stdout
    envelope = json.loads(lines[0])
    schema_validator("envelope").validate(envelope)
    assert envelope["action"] == action_id
    if code == 0:
        assert envelope["ok"] and stderr == ""
    else:
        assert not envelope["ok"]
        assert stderr.startswith(f"ERROR {envelope['error']['code']}:") and stderr.count("\n") == 1
    assert "Traceback" not in stdout + stderr
    for secret in secrets:
        assert secret not in stdout and secret not in stderr
    stdout.encode("utf-8")  # no lone surrogate reached the output
    return envelope


def dumps(document: Any) -> str:
    """JSON as an engine would send it (lone surrogates as \\ud800 escapes)."""
    return json.dumps(document, allow_nan=True)


@pytest.mark.sandbox
@pytest.mark.parametrize("backend", ["graph", "ews"])
@pytest.mark.parametrize("action_id", BINDING_ACTION_IDS)
def test_generated_parameters_keep_the_contract(
    action_id: str, backend: str, tenant: Callable[[str], dict], fresh_sandbox: Sandbox
) -> None:
    config = tenant(backend)
    secrets = (config["client_secret"], *SECRETS)

    @given(params=parameters_strategy(action_id))
    def check(params: dict[str, Any]) -> None:
        try:
            text = dumps({"config": config, "parameters": params})
        except RecursionError:
            return  # too deep for the test's own encoder; stdin depth has its own test
        check_contract(action_id, *run_raw(action_id, text), secrets=secrets)

    check()


CONFIG_KEYS = load_schema("connection").get("properties", {})


@pytest.mark.parametrize("action_id", ["test_connection", "send_email"])
def test_generated_config_keeps_the_contract_and_its_secrets(
    action_id: str, config: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Files the pack may write (token cache and its lock, output) stay in this test's folder.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    changes = st.fixed_dictionaries(
        {},
        optional={
            **{key: value_strategy(prop) for key, prop in CONFIG_KEYS.items()},
            "token_cache_path": st.sampled_from(
                ["none", "", str(tmp_path / "cache" / "tokens.json"), "relative/tokens.json"]
            ),
            "output_dir": st.sampled_from([str(tmp_path / "out"), "relative-out"]),
            "proxy_url": st.sampled_from(
                [
                    f"http://soc:{URL_PASSWORD}@127.0.0.1:{config['graph_url'].rsplit(':', 1)[1]}",
                    f"http://soc:{URL_PASSWORD}@proxy.contoso.com:99999",
                    f"ftp://soc:{URL_PASSWORD}@proxy",
                    f"http://soc:{URL_PASSWORD.replace('~', '%7E')}@x y",
                ]
            ),
            "graph_url": st.just(f"https://soc:{URL_PASSWORD}@127.0.0.1"),
        },
    )

    @given(changes=changes)
    def check(changes: dict[str, Any]) -> None:
        params = {"to": ["bob@contoso.com"], "subject": "s", "body": "b"}
        if action_id == "test_connection":
            params = {}
        try:
            text = dumps({"config": {**config, **changes}, "parameters": params})
        except RecursionError:
            return
        check_contract(action_id, *run_raw(action_id, text))

    check()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), hostile_text),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(hostile_text, children, max_size=3)
    ),
    max_leaves=12,
)
stdin_documents = st.one_of(
    json_values.map(dumps),
    st.dictionaries(st.sampled_from(["config", "parameters", "extra"]), json_values).map(dumps),
    st.integers(min_value=1, max_value=200_000).map(lambda n: "[" * n + "]" * n),
    st.integers(min_value=1, max_value=200_000).map(
        lambda n: '{"config": {}, "parameters": {"mailbox": ' + "[" * n + "]" * n + "}}"
    ),
    st.text(max_size=60),
    st.binary(max_size=40).map(lambda b: b.decode("utf-8", errors="surrogateescape")),
    st.sampled_from(['{"parameters": {"subject": "\\ud800"}}', "\ufeff{}", '{"a": 1e99999}']),
)


@pytest.mark.parametrize("action_id", ["get_out_of_office", "search_emails_extended"])
def test_hostile_stdin_keeps_the_contract(action_id: str) -> None:
    @given(stdin_text=stdin_documents)
    def check(stdin_text: str) -> None:
        check_contract(action_id, *run_raw(action_id, stdin_text))

    check()
