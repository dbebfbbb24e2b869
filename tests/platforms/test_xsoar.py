"""Cortex XSOAR: the generated content pack, run the way XSOAR runs an integration.

XSOAR executes the integration's script with ``demistomock`` (the ``demisto`` object) and
``CommonServerPython`` importable, ``__name__ == "__main__"``, and collects what
``demisto.results`` receives. Here the generated ``ExchangePack.py`` is executed exactly so,
with the stand-ins in ``xsoar_runtime/``, against the sandbox tenant on both backends.
"""

from __future__ import annotations

import hashlib
import json
import os
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from platform_helpers import rebuild_after_schema_change

from exchange_pack.bundles import build, png
from exchange_pack.bundles.xsoar import IMAGE_SIZE, INTEGRATION_DIR, PACK_DIR
from exchange_pack.manifest import load_manifest, pack_root
from exchange_pack.platforms.xsoar import (
    CREDENTIAL_PAIRS,
    LAST_RUN_KEY,
    commands,
    connection_config,
)
from exchange_sandbox.process import Sandbox

HERE = Path(__file__).resolve().parent
RUNTIME = HERE / "xsoar_runtime"
BACKENDS = ("graph", "ews")
CAMPAIGN_SENDER = "billing@contoso-payments.com"
CAMPAIGN_USERS = ("alice", "bob", "carol")
SEARCH = "exchange-search-emails-extended"
DELETE = "exchange-delete-email"
NOTE, ERROR = 1, 4


def campaign_id(user: str) -> str:
    return f"<inv-20931-{user}@contoso-payments.com>"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The XSOAR bundle, generated once for the module."""
    out = tmp_path_factory.mktemp("xsoar-bundle")
    build("xsoar", out)
    return out


@pytest.fixture(scope="module")
def integration_yml(bundle: Path) -> dict[str, Any]:
    return yaml.safe_load((bundle / INTEGRATION_DIR / "ExchangePack.yml").read_text("utf-8"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


class Xsoar:
    """Runs the generated integration script as XSOAR does, one command at a time."""

    def __init__(self, script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.script = script
        monkeypatch.syspath_prepend(str(RUNTIME))
        for name in ("demistomock", "CommonServerPython"):
            sys.modules.pop(name, None)
        import demistomock

        self.demisto = demistomock

    def run(self, command: str, params: dict[str, Any], args: dict[str, Any]) -> list[Any]:
        """The entries ``demisto.results`` received; a ``sys.exit(0)`` ends a run as in XSOAR."""
        self.demisto.set_call(command, params, args)
        try:
            runpy.run_path(str(self.script), run_name="__main__")
        except SystemExit as exc:
            assert exc.code in (0, None), exc.code
        return list(self.demisto.entries)


@pytest.fixture
def xsoar(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Xsoar]:
    yield Xsoar(bundle / INTEGRATION_DIR / "ExchangePack.py", monkeypatch)
    for name in ("demistomock", "CommonServerPython"):
        sys.modules.pop(name, None)


def instance_params(
    sandbox: Sandbox, backend: str, integration_yml: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    """The instance settings as ``demisto.params()`` hands them: text as text, checkboxes as
    booleans, secrets as credentials objects, unset fields empty, plus XSOAR's own keys."""
    config = sandbox.pack_config(backend=backend, **overrides)
    params: dict[str, Any] = {"isFetch": False, "incidentType": "", "engine": ""}
    for param in integration_yml["configuration"]:
        name = param["name"]
        if param["type"] == 9:
            partner = CREDENTIAL_PAIRS.get(name)
            params[name] = {
                "identifier": str(config.get(partner, "")) if partner else "",
                "password": str(config.get(name, "")),
                "credentials": {},
            }
        elif param["type"] == 8:
            params[name] = bool(config.get(name, param.get("defaultvalue") == "true"))
        else:
            value = config.get(name, param.get("defaultvalue"))
            params[name] = None if value is None else str(value)
    return params


def context_of(entry: dict[str, Any]) -> dict[str, Any]:
    """The incident context an entry's ``EntryContext`` produces (dotted keys nest)."""
    context: dict[str, Any] = {}
    for key, value in entry["EntryContext"].items():
        node = context
        parts = key.split("(")[0].split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return context


def leaf_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every dotted path holding a value (list items share their list's path)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            for item in value:
                yield from leaf_paths(item, prefix)
        elif value:
            yield prefix
    else:
        yield prefix


def declared_outputs(integration_yml: dict[str, Any], command: str) -> dict[str, str]:
    spec = next(c for c in integration_yml["script"]["commands"] if c["name"] == command)
    return {o["contextPath"]: o["type"] for o in spec["outputs"]}


def assert_context_declared(entry: dict[str, Any], declared: dict[str, str]) -> set[str]:
    """Every value in the context sits at a declared contextPath (or an object one holds)."""
    paths = set(leaf_paths(context_of(entry)))
    for path in paths:
        assert path in declared or any(d.startswith(path + ".") for d in declared), path
    return paths


def values_at(context: Any, path: str) -> list[Any]:
    """The values at a dotted path, through lists."""
    found = [context]
    for part in path.split("."):
        nxt: list[Any] = []
        for node in found:
            items = node if isinstance(node, list) else [node]
            nxt += [i[part] for i in items if isinstance(i, dict) and part in i]
        found = nxt
    return [v for f in found for v in (f if isinstance(f, list) else [f])]


# -- the generated files --------------------------------------------------------------------


def test_pack_layout(bundle: Path, integration_yml: dict[str, Any]) -> None:
    base = bundle / INTEGRATION_DIR
    for name in ("ExchangePack.yml", "ExchangePack.py", "ExchangePack_description.md"):
        assert (base / name).is_file(), name
    assert png.size((base / "ExchangePack_image.png").read_bytes()) == IMAGE_SIZE
    assert png.decode((base / "ExchangePack_image.png").read_bytes())[25][60][3] > 0  # logo drawn
    metadata = json.loads((bundle / PACK_DIR / "pack_metadata.json").read_text("utf-8"))
    manifest = load_manifest()
    assert metadata["currentVersion"] == manifest.version
    assert "pack" not in metadata["name"].lower()
    notes = bundle / PACK_DIR / "ReleaseNotes" / f"{manifest.version.replace('.', '_')}.md"
    assert notes.is_file()
    assert f"exchange-pack:{manifest.version}" in (bundle / "Dockerfile").read_text("utf-8")
    assert integration_yml["script"]["dockerimage"] == f"exchange-pack:{manifest.version}"


def test_one_command_per_action(integration_yml: dict[str, Any]) -> None:
    manifest = load_manifest()
    names = [c["name"] for c in integration_yml["script"]["commands"]]
    assert names == [f"exchange-{a.id.replace('_', '-')}" for a in manifest.actions]
    assert commands(manifest)["test-module"] == manifest.connection["test_action"]
    by_name = {c["name"]: c for c in integration_yml["script"]["commands"]}
    for spec in manifest.actions:
        assert by_name[f"exchange-{spec.id.replace('_', '-')}"]["execution"] == spec.destructive
    search = {a["name"]: a for a in by_name[SEARCH]["arguments"]}
    assert search["mailboxes"]["isArray"] is True
    assert search["limit"]["defaultValue"] == "50"
    assert search["all_mailboxes"]["predefined"] == ["true", "false"]
    delete = {a["name"]: a for a in by_name[DELETE]["arguments"]}
    assert delete["delete_type"]["auto"] == "PREDEFINED"
    for command in integration_yml["script"]["commands"]:
        for output in command["outputs"]:
            assert output["contextPath"].startswith("ExchangePack."), output
            assert output["description"], output


def test_secrets_are_credentials_fields(integration_yml: dict[str, Any]) -> None:
    params = {p["name"]: p for p in integration_yml["configuration"]}
    for secret in ("client_secret", "certificate_pem", "certificate_password", "password"):
        assert params[secret]["type"] == 9, secret
    assert "client_id" not in params and "username" not in params  # the credentials' username
    assert params["backend"]["type"] == 15 and params["backend"]["options"] == ["graph", "ews"]
    assert params["verify_tls"]["type"] == 8 and params["verify_tls"]["defaultvalue"] == "true"
    mapped = connection_config(
        {"client_secret": {"identifier": "app-id", "password": "s3cret"}, "isFetch": True}
    )
    assert mapped == {"client_id": "app-id", "client_secret": "s3cret"}


def test_yaml_matches_demisto_sdk_schema(integration_yml: dict[str, Any]) -> None:
    schema = json.loads((HERE / "xsoar_integration.schema.json").read_text("utf-8"))
    validator = Draft202012Validator(schema)
    assert list(validator.iter_errors(integration_yml)) == []
    broken = json.loads(json.dumps(integration_yml))
    del broken["script"]["commands"][0]["outputs"][0]["description"]
    broken["configuration"][0]["colour"] = "red"
    assert len(list(validator.iter_errors(broken))) == 2


def test_a_changed_schema_changes_the_pack(
    pack_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def add_importance(schema: dict[str, Any]) -> None:
        schema["properties"]["importance"] = {
            "type": "string",
            "enum": ["low", "normal", "high"],
            "description": "Only messages of this importance.",
        }

    after, changed = rebuild_after_schema_change(
        "xsoar", pack_copy, tmp_path, monkeypatch, "search_emails_extended.input", add_importance
    )
    assert changed == [f"{INTEGRATION_DIR}/ExchangePack.yml", f"{INTEGRATION_DIR}/README.md"]
    document = yaml.safe_load((after / INTEGRATION_DIR / "ExchangePack.yml").read_text())
    search = next(c for c in document["script"]["commands"] if c["name"] == SEARCH)
    added = next(a for a in search["arguments"] if a["name"] == "importance")
    assert added["predefined"] == ["low", "normal", "high"]
    assert added["description"] == "Only messages of this importance."
    readme = (after / INTEGRATION_DIR / "README.md").read_text("utf-8")
    assert "| importance | Only messages of this importance. | Optional |" in readme


# -- commands run the way XSOAR runs them, against the sandbox --------------------------------


@pytest.mark.sandbox
def test_test_module(
    sandbox: Sandbox, backend: str, xsoar: Xsoar, integration_yml: dict[str, Any]
) -> None:
    params = instance_params(sandbox, backend, integration_yml)
    assert xsoar.run("test-module", params, {}) == ["ok"]


@pytest.mark.sandbox
def test_test_module_with_a_bad_secret(
    sandbox: Sandbox, xsoar: Xsoar, integration_yml: dict[str, Any]
) -> None:
    params = instance_params(sandbox, "graph", integration_yml, client_secret="wrong-Secret-42")
    [entry] = xsoar.run("test-module", params, {})
    assert entry["Type"] == ERROR
    assert entry["Contents"].startswith("AUTHENTICATION_FAILED:")
    assert "wrong-Secret-42" not in json.dumps(entry)
    assert "Traceback" not in entry["Contents"]


@pytest.mark.sandbox
def test_test_module_with_ews_blocked(
    fresh_sandbox: Sandbox, xsoar: Xsoar, integration_yml: dict[str, Any]
) -> None:
    fresh_sandbox.settings(ews_blocked=True)
    try:
        params = instance_params(fresh_sandbox, "ews", integration_yml)
        [entry] = xsoar.run("test-module", params, {})
    finally:
        fresh_sandbox.settings(ews_blocked=False)  # the session's tenant is shared
    assert entry["Type"] == ERROR
    assert entry["Contents"].startswith("EWS_BLOCKED:") and "graph" in entry["Contents"]


@pytest.mark.sandbox
def test_search_emails_extended(
    fresh_sandbox: Sandbox, backend: str, xsoar: Xsoar, integration_yml: dict[str, Any]
) -> None:
    params = instance_params(fresh_sandbox, backend, integration_yml)
    args = {
        "all_mailboxes": "true",
        "sender": CAMPAIGN_SENDER,
        "subject": "INV-20931",
        "limit": "50",
        "extend-context": "",  # an XSOAR system argument: never the action's
    }
    [entry] = xsoar.run(SEARCH, params, args)
    assert entry["Type"] == NOTE, entry
    assert entry["ContentsFormat"] == "json" and entry["Contents"]["ok"] is True
    assert entry["Contents"]["meta"]["backend"] == backend
    assert params["client_secret"]["password"] not in json.dumps(entry)
    declared = declared_outputs(integration_yml, SEARCH)
    paths = assert_context_declared(entry, declared)
    assert "ExchangePack.SearchEmailsExtended.messages.internet_message_id" in paths
    context = context_of(entry)
    ids = values_at(context, "ExchangePack.SearchEmailsExtended.messages.internet_message_id")
    assert {campaign_id(u) for u in CAMPAIGN_USERS} <= set(ids)
    senders = values_at(context, "ExchangePack.SearchEmailsExtended.messages.from.address")
    assert set(senders) == {CAMPAIGN_SENDER}
    assert declared["ExchangePack.SearchEmailsExtended.messages.has_attachments"] == "Boolean"
    assert declared["ExchangePack.SearchEmailsExtended.messages.received_at"] == "Date"
    table = entry["HumanReadable"]
    assert "### Search Emails Extended" in table
    assert "|mailbox|received_at|from.address|subject|" in table.replace(" ", "")
    assert table.count("INV-20931") >= len(CAMPAIGN_USERS)


@pytest.mark.sandbox
def test_delete_email(
    fresh_sandbox: Sandbox, backend: str, xsoar: Xsoar, integration_yml: dict[str, Any]
) -> None:
    params = instance_params(fresh_sandbox, backend, integration_yml)
    args = {"mailbox": "carol@contoso.com", "internet_message_id": campaign_id("carol")}
    [entry] = xsoar.run(DELETE, params, args)
    assert entry["Type"] == NOTE, entry
    assert_context_declared(entry, declared_outputs(integration_yml, DELETE))
    context = context_of(entry)
    [status] = values_at(context, "ExchangePack.DeleteEmail.results.status")
    assert status == "deleted"
    [found] = values_at(context, "ExchangePack.DeleteEmail.results.internet_message_id")
    assert found == campaign_id("carol")
    assert values_at(context, "ExchangePack.DeleteEmail.dry_run") == [False]
    assert "| carol@contoso.com |" in entry["HumanReadable"]

    search = {"mailbox": "carol@contoso.com", "internet_message_id": campaign_id("carol")}
    [after] = xsoar.run(SEARCH, params, {**search, "folder": "inbox"})
    assert values_at(context_of(after), "ExchangePack.SearchEmailsExtended.total") == [0]


@pytest.mark.sandbox
def test_download_mail_as_eml_is_a_war_room_file(
    sandbox: Sandbox,
    backend: str,
    xsoar: Xsoar,
    integration_yml: dict[str, Any],
    tmp_path: Path,
) -> None:
    params = instance_params(sandbox, backend, integration_yml, output_dir=str(tmp_path))
    args = {"mailbox": "alice@contoso.com", "internet_message_id": campaign_id("alice")}
    entry, file_entry = xsoar.run("exchange-download-mail-as-eml", params, args)
    assert entry["Type"] == NOTE, entry
    declared = declared_outputs(integration_yml, "exchange-download-mail-as-eml")
    assert_context_declared(entry, declared)
    context = context_of(entry)
    [sha256] = values_at(context, "ExchangePack.DownloadMailAsEml.file.sha256")
    [name] = values_at(context, "ExchangePack.DownloadMailAsEml.file.file_name")
    assert file_entry["Type"] == 3 and file_entry["File"] == name and name.endswith(".eml")
    content = xsoar.demisto.files[file_entry["FileID"]]
    assert hashlib.sha256(content).hexdigest() == sha256
    assert campaign_id("alice").encode() in content


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"limit": "many"}, "limit"),
        ({"mailbox": "carol@contoso.com", "colour": "red"}, "colour"),
    ],
)
def test_bad_argument_is_an_error_entry(
    sandbox: Sandbox, xsoar: Xsoar, integration_yml: dict[str, Any], args: dict, named: str
) -> None:
    params = instance_params(sandbox, "graph", integration_yml)
    sandbox.clear_requests()
    [entry] = xsoar.run(SEARCH, params, args)
    assert entry["Type"] == ERROR
    assert entry["Contents"].startswith("INVALID_INPUT:")
    assert named in entry["Contents"]
    assert "Traceback" not in entry["Contents"]
    assert sandbox.requests() == []  # refused before any network call


def test_unknown_command_is_an_error_entry(xsoar: Xsoar) -> None:
    [entry] = xsoar.run("exchange-launch-rockets", {}, {})
    assert entry["Type"] == ERROR and "exchange-launch-rockets" in entry["Contents"]


# -- demisto-sdk itself (make check-bundles) ---------------------------------------------------

SDK_VENV = Path(os.environ.get("XSOAR_SDK_VENV") or pack_root() / ".venv" / "demisto-sdk").resolve()


@pytest.fixture
def demisto_sdk() -> Path:
    """demisto-sdk's virtualenv; skipped without it, a failure when XSOAR_SDK_VENV names it."""
    if not (SDK_VENV / "bin" / "demisto-sdk").exists():
        reason = f"demisto-sdk is not installed in {SDK_VENV} (make check-bundles installs it)"
        if os.environ.get("XSOAR_SDK_VENV"):
            pytest.fail(reason)
        pytest.skip(reason)
    return SDK_VENV


def test_demisto_sdk_validates_the_pack(demisto_sdk: Path, tmp_path: Path) -> None:
    import xsoar_sdk

    config = tmp_path / "validate.toml"
    selected = xsoar_sdk.validation_config(demisto_sdk / "bin" / "python", config)
    assert len(selected) > 100  # the SDK's selection, not an empty one
    repo = xsoar_sdk.content_repo(tmp_path / "content")
    result = xsoar_sdk.validate(demisto_sdk / "bin" / "demisto-sdk", repo, config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All validations passed" in result.stdout + result.stderr

    # The same check fails on a pack with a command output lacking its description.
    yml = repo / INTEGRATION_DIR / "ExchangePack.yml"
    document = yaml.safe_load(yml.read_text("utf-8"))
    del document["script"]["commands"][0]["outputs"][0]["description"]
    yml.write_text(yaml.safe_dump(document, sort_keys=False), "utf-8")
    xsoar_sdk.commit(repo, "broken")
    broken = xsoar_sdk.validate(demisto_sdk / "bin" / "demisto-sdk", repo, config)
    assert broken.returncode != 0
    assert "ST110" in broken.stdout + broken.stderr


# -- fetch-incidents ---------------------------------------------------------------------------
def test_fetch_settings_in_the_yaml(integration_yml: dict[str, Any]) -> None:
    assert integration_yml["script"]["isfetch"] is True
    params = {p["name"]: p for p in integration_yml["configuration"]}
    # demisto-sdk's INCIDENT_FETCH_REQUIRED_PARAMS, MAX_FETCH_PARAM and FIRST_FETCH_PARAM.
    assert (params["isFetch"]["type"], params["incidentType"]["type"]) == (8, 13)
    assert params["incidentFetchInterval"]["type"] == 19
    assert (params["max_fetch"]["type"], params["max_fetch"]["defaultvalue"]) == (0, "50")
    assert (params["first_fetch"]["type"], params["first_fetch"]["defaultvalue"]) == (0, "7 days")
    assert params["fetch_severity"]["options"] == ["unknown", "low", "medium", "high", "critical"]
    assert "fetch_checkpoint" not in params and "fetch_since" not in params
    assert {p["section"] for p in params.values() if p["name"].startswith("fetch_")} == {"Collect"}
    assert set(integration_yml["sectionOrder"]) == {p["section"] for p in params.values()}


FETCH_SETTINGS = {"isFetch": True, "fetch_mailbox": "phish-report@contoso.com", "max_fetch": "1",
                  "first_fetch": "2026-11-20T00:00:00Z", "fetch_enrich": True,
                  "fetch_severity": "high"}  # fmt: skip


@pytest.mark.sandbox
def test_fetch_incidents_twice_with_mail_in_between_loses_and_doubles_nothing(
    xsoar: Xsoar, fresh_sandbox: Sandbox, integration_yml: dict[str, Any], backend: str
) -> None:
    from platform_helpers import SEEDED_REPORTS, deliver_report

    params = {**instance_params(fresh_sandbox, backend, integration_yml), **FETCH_SETTINGS}
    xsoar.demisto.last_run.clear()
    assert xsoar.run("fetch-incidents", params, {}) == []
    first = [i for call in xsoar.demisto.fetched for i in call]
    assert xsoar.demisto.calls == ["incidents", "setLastRun"]  # incidents first
    checkpoint = xsoar.demisto.last_run[LAST_RUN_KEY]
    deliver_report(fresh_sandbox, "reported between fetches")
    assert xsoar.run("fetch-incidents", params, {}) == []
    second = [i for call in xsoar.demisto.fetched for i in call]
    assert xsoar.demisto.last_run[LAST_RUN_KEY] != checkpoint
    records = [json.loads(i["rawJSON"]) for i in first + second]
    assert [r["fields"]["internet_message_id"] for r in records[:2]] == SEEDED_REPORTS
    assert [r["fields"]["subject"] for r in records[2:]] == ["reported between fetches"]
    assert len({i["dbotMirrorId"] for i in first + second}) == 3
    assert {i["severity"] for i in first + second} == {3}
    assert all(i["occurred"].endswith("Z") and i["name"] for i in first + second)
    assert "it-helpdesk@contoso-support.net" in first[0]["details"]
    assert xsoar.run("fetch-incidents", params, {}) == []
    assert xsoar.demisto.fetched == [[]]


@pytest.mark.sandbox
def test_first_fetch_takes_xsoar_relative_time_and_a_failure_stores_nothing(
    xsoar: Xsoar, fresh_sandbox: Sandbox, integration_yml: dict[str, Any]
) -> None:
    params = {**instance_params(fresh_sandbox, "graph", integration_yml), **FETCH_SETTINGS}
    xsoar.demisto.last_run.clear()
    assert xsoar.run("fetch-incidents", {**params, "first_fetch": "1 hour"}, {}) == []
    assert xsoar.demisto.fetched == [[]]  # the seeded reports are older
    xsoar.demisto.last_run.clear()
    assert xsoar.run("fetch-incidents", {**params, "first_fetch": "3650 days"}, {}) == []
    assert len(xsoar.demisto.fetched[0]) == 2  # both seeded reports (max_fetch 1 per round)
    xsoar.demisto.last_run.update({LAST_RUN_KEY: "kept"})
    [error] = xsoar.run("fetch-incidents", {**params, "max_fetch": "0"}, {})
    assert error["Type"] == ERROR and "max_fetch" not in error["Contents"]
    assert "INVALID_INPUT" in error["Contents"] and "limit" in error["Contents"]
    assert xsoar.demisto.last_run == {LAST_RUN_KEY: "kept"} and xsoar.demisto.fetched == []


@pytest.mark.sandbox
def test_fetch_settings_never_reach_commands(
    xsoar: Xsoar, sandbox: Sandbox, integration_yml: dict[str, Any]
) -> None:
    params = {**instance_params(sandbox, "graph", integration_yml), **FETCH_SETTINGS}
    [entry] = xsoar.run("exchange-get-out-of-office", params, {"mailbox": "dave@contoso.com"})
    assert entry["Type"] == NOTE, entry
