"""The Splunk SOAR app: generated from the manifest, its actions run the way Splunk SOAR runs them.

Two levels. Everywhere: the adapter gets what Splunk hands an app (the asset config and a
``param`` dict carrying Splunk's ``context`` key) and returns the action result, checked
against the data paths the app declares. With ``splunk-soar-sdk`` installed (Python 3.13,
``make check-bundles``): the generated app is imported with the real SDK, its manifest
(parameters, data paths, test connectivity) is read from the SDK, and actions run through the
SDK's ``App.handle`` with the input JSON the platform sends, against the sandbox.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest
import tomllib
from platform_helpers import (
    CAMPAIGN_SENDER,
    CAMPAIGN_USERS,
    REPORTS,
    SEEDED_REPORTS,
    SEEDED_SINCE,
    campaign_id,
    deliver_report,
    rebuild_after_schema_change,
)

from exchange_pack.bundles import build
from exchange_pack.bundles.splunk_soar import data_paths
from exchange_pack.config import SECRET_KEYS
from exchange_pack.manifest import load_manifest
from exchange_pack.platforms.splunk_soar import CHECKPOINT_KEY, PollFailed, on_poll, run_action

SEARCH = {"all_mailboxes": True, "sender": CAMPAIGN_SENDER, "subject": "INV-20931"}
NO_SDK = "splunk-soar-sdk is not installed (it needs Python 3.13): run `make check-bundles`"


def splunk_param(values: dict[str, Any]) -> dict[str, Any]:
    """A ``param`` as Splunk SOAR passes it: the action's values plus its ``context``."""
    context = {"artifact_id": 0, "guid": str(uuid.uuid4()), "parent_action_run": []}
    return {**values, "context": context}


def leaf_paths(value: Any, prefix: str = "action_result.data.*") -> set[str]:
    """The data paths of every scalar in a data row (lists as ``*``)."""
    if isinstance(value, dict):
        return set().union(*(leaf_paths(v, f"{prefix}.{k}") for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(leaf_paths(v, f"{prefix}.*") for v in value))
    return {prefix} if value is not None else set()


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("splunk-soar")
    build("splunk-soar", out)
    return out


def test_app_project(app_dir: Path) -> None:
    manifest = load_manifest()
    project = tomllib.loads((app_dir / "pyproject.toml").read_text())
    assert project["tool"]["soar"]["app"]["main_module"] == "src.app:app"
    assert f"exchange-pack=={manifest.version}" in project["project"]["dependencies"]
    assert any(d.startswith("splunk-soar-sdk") for d in project["project"]["dependencies"])
    source = (app_dir / "src" / "app.py").read_text()
    compile(source, "app.py", "exec")
    assert source.count("@app.action(") == len(manifest.actions)
    for spec in manifest.actions:
        assert f"identifier={spec.id!r}" in source
    assert "@app.test_connectivity()" in source
    assert (app_dir / "logo.svg").read_bytes().lstrip().startswith(b"<")


def test_data_paths_cover_the_output_schema() -> None:
    paths = data_paths("search_emails_extended")
    for key in ("mailbox", "id", "internet_message_id", "subject"):
        assert f"action_result.data.*.messages.*.{key}" in paths
    assert "action_result.data.*.truncated" in paths


@pytest.mark.sandbox
def test_search_emails_extended(connection: dict[str, Any], backend: str) -> None:
    result = run_action("search_emails_extended", splunk_param(SEARCH), connection)
    assert result.status is True, result.message
    assert result.envelope["meta"]["backend"] == backend
    [row] = result.data
    found = {m["internet_message_id"] for m in row["messages"]}
    assert {campaign_id(u) for u in CAMPAIGN_USERS} <= found
    assert leaf_paths(row) <= set(data_paths("search_emails_extended"))
    assert "action_result.data.*.messages.*.subject" in leaf_paths(row)


@pytest.mark.sandbox
def test_delete_email(fresh_sandbox, connection: dict[str, Any], backend: str) -> None:
    target = {"mailbox": "carol@contoso.com", "internet_message_id": campaign_id("carol")}
    result = run_action("delete_email", splunk_param(target), connection)
    assert result.status is True, result.message
    [row] = result.data
    assert [r["status"] for r in row["results"]] == ["deleted"]
    assert leaf_paths(row) <= set(data_paths("delete_email"))
    assert result.summary


@pytest.mark.sandbox
def test_list_parameter_as_comma_text(fresh_sandbox, connection: dict[str, Any]) -> None:
    """The SDK has no list parameters: Splunk passes ``allow_list`` text, the runner splits it."""
    param = {"mailboxes": "alice@contoso.com,bob@contoso.com", "sender": CAMPAIGN_SENDER}
    result = run_action("search_emails_extended", splunk_param(param), connection)
    assert result.status is True, result.message
    mailboxes = {m["mailbox"] for m in result.data[0]["messages"]}
    assert mailboxes == {"alice@contoso.com", "bob@contoso.com"}


@pytest.mark.sandbox
def test_bad_parameter_fails_with_the_message(connection: dict[str, Any]) -> None:
    result = run_action("search_emails_extended", splunk_param({"limit": "many"}), connection)
    assert result.status is False
    assert result.exit_code == 64
    assert result.message.startswith("INVALID_INPUT") and "limit" in result.message
    assert result.data == []


@pytest.mark.sandbox
def test_connectivity_secret_never_in_the_result(connection: dict[str, Any]) -> None:
    good = run_action("test_connection", splunk_param({}), connection)
    assert good.status is True, good.message
    bad = run_action("test_connection", {}, {**connection, "client_secret": "not-the-secret-9"})
    assert bad.status is False
    assert "not-the-secret-9" not in json.dumps(bad.model_dump())


def test_bundle_follows_the_schemas(
    pack_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def add_note(schema: dict[str, Any]) -> None:
        schema["properties"]["results"]["items"]["properties"]["note"] = {"type": "string"}

    after, changed = rebuild_after_schema_change(
        "splunk-soar", pack_copy, tmp_path, monkeypatch, "delete_email.output", add_note
    )
    assert changed == ["src/app.py"]
    assert "action_result.data.*.results.*.note" in data_paths("delete_email")
    assert "    note: str | None = OutputField()" in (after / "src" / "app.py").read_text()


# -- with the real splunk-soar-sdk -------------------------------------------------------------


def import_app(app_dir: Path) -> Any:
    """The generated app imported with the real SDK, afresh (a new process per run on SOAR)."""
    sys.path.insert(0, str(app_dir))
    try:
        spec = importlib.util.spec_from_file_location("src.app", app_dir / "src" / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(app_dir))
    return module.app


@pytest.fixture(scope="module")
def sdk_app(app_dir: Path) -> Any:
    if importlib.util.find_spec("soar_sdk") is None:
        if os.environ.get("EXCHANGE_PACK_REQUIRE_SOAR_SDK"):  # make check-bundles
            pytest.fail(NO_SDK)
        pytest.skip(NO_SDK)
    return import_app(app_dir)


def sdk_manifest(app: Any) -> dict[str, dict[str, Any]]:
    return {a.identifier: a.model_dump() for a in app.actions_manager.get_actions_meta_list()}


def test_sdk_manifest(sdk_app: Any) -> None:
    actions = sdk_manifest(sdk_app)
    manifest = load_manifest()
    assert set(actions) == {s.id for s in manifest.actions} | {"test_connectivity", "on_poll"}
    assert actions["test_connectivity"]["type"] == "test"
    assert actions["on_poll"]["type"] == "ingest"
    for spec in manifest.actions:
        declared = [
            o["data_path"]
            for o in actions[spec.id]["output"]
            if o["data_path"].startswith("action_result.data.")
        ]
        assert declared == data_paths(spec.id), spec.id
    search = actions["search_emails_extended"]["parameters"]
    assert search["mailboxes"]["allow_list"] is True
    assert search["all_mailboxes"]["data_type"] == "boolean"
    delete = actions["delete_email"]
    assert delete["type"] == "contain" and delete["read_only"] is False
    assert delete["parameters"]["delete_type"]["value_list"][0] == "move_to_deleted_items"
    asset = sdk_app.asset_cls.to_json_schema()
    secrets = {k for k, v in asset.items() if v["data_type"] == "password"}
    assert secrets == SECRET_KEYS & set(asset)


def sdk_handle(app_dir: Path, identifier: str, values: dict[str, Any], asset: dict[str, Any]):
    """One action run as Splunk SOAR spawns it: ``App.handle`` with the platform's input JSON."""
    from soar_sdk.shims.phantom_common.encryption.encryption_manager_factory import (
        platform_encryption_backend,
    )

    asset_id = "7"
    stored = {
        k: platform_encryption_backend.encrypt(v, asset_id) if k in SECRET_KEYS and v else v
        for k, v in asset.items()
    }
    spec = {
        "action": identifier,
        "identifier": identifier,
        "asset_id": asset_id,
        "config": {"app_version": "0", "directory": ".", "main_module": "src.app:app", **stored},
        "parameters": [splunk_param(values)],
    }
    app = import_app(app_dir)
    app.handle(json.dumps(spec))
    [result] = app.actions_manager.get_results()
    return result


@pytest.mark.sandbox
def test_sdk_search_and_delete(
    sdk_app: Any, app_dir: Path, fresh_sandbox, connection: dict[str, Any], backend: str
) -> None:
    declared = set(data_paths("search_emails_extended"))
    found = sdk_handle(app_dir, "search_emails_extended", SEARCH, connection)
    assert found.get_status() is True, found.get_message()
    [row] = found.get_data()
    assert {campaign_id(u) for u in CAMPAIGN_USERS} <= {
        m["internet_message_id"] for m in row["messages"]
    }
    assert "action_result.data.*.messages.*.subject" in leaf_paths(row) & declared

    target = {"mailbox": "carol@contoso.com", "internet_message_id": campaign_id("carol")}
    deleted = sdk_handle(app_dir, "delete_email", target, connection)
    assert deleted.get_status() is True, deleted.get_message()
    assert [r["status"] for r in deleted.get_data()[0]["results"]] == ["deleted"]
    assert deleted.get_summary()


@pytest.mark.sandbox
def test_sdk_failures_and_connectivity(
    sdk_app: Any, app_dir: Path, connection: dict[str, Any]
) -> None:
    bad = sdk_handle(app_dir, "search_emails_extended", {"limit": -3}, connection)
    assert bad.get_status() is False
    assert "INVALID_INPUT" in bad.get_message() and "limit" in bad.get_message()
    assert "Traceback" not in bad.get_message()
    ok = sdk_handle(app_dir, "test_connectivity", {}, connection)
    assert ok.get_status() is True, ok.get_message()
    wrong = {**connection, "client_secret": "not-the-secret-9"}
    failed = sdk_handle(app_dir, "test_connectivity", {}, wrong)
    assert failed.get_status() is False
    assert "not-the-secret-9" not in failed.get_message()


@pytest.mark.timeout(900)
def test_sdk_package_build(sdk_app: Any, tmp_path: Path) -> None:
    """``soarapps package build`` makes the installable .tgz (downloads the wheels from PyPI)."""
    from splunk_soar_package import package

    app = tmp_path / "app"
    build("splunk-soar", app)
    archive = package(app, tmp_path / "work", tmp_path / "exchange-pack.tgz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        [manifest_name] = [n for n in names if n.endswith("/manifest.json")]
        app_manifest = json.load(tar.extractfile(manifest_name))  # type: ignore[arg-type]
    root = manifest_name.split("/")[0]
    assert f"{root}/src/app.py" in names
    wheels = [n for n in names if "/wheels/" in n]
    assert any(Path(n).name.startswith("exchange_pack-") for n in wheels)
    assert any(Path(n).name.startswith("exchangelib-") for n in wheels)
    manifest = load_manifest()
    assert app_manifest["main_module"] == "src.app:app"
    assert {a["identifier"] for a in app_manifest["actions"]} == {
        s.id for s in manifest.actions
    } | {"test_connectivity", "on_poll"}
    secrets = {k for k, v in app_manifest["configuration"].items() if v["data_type"] == "password"}
    assert secrets == SECRET_KEYS & set(app_manifest["configuration"])


# -- on poll -----------------------------------------------------------------------------------
INGEST = {
    "ingest_mailbox": REPORTS,
    "ingest_since": SEEDED_SINCE,
    "ingest_limit": 1,
    "ingest_enrich": True,
    "ingest_severity": "critical",
}


def poll_as_the_sdk_does(asset: dict[str, Any], state: dict[str, Any], **kwargs: Any):
    """Takes (saves) every container and artifact, then the state is committed: a copy of
    ``state`` updated only when the generator finished, as the SDK's ingest-state transaction."""
    working = dict(state)
    saved = list(on_poll(asset, working, **kwargs))
    state.clear()
    state.update(working)
    return saved


@pytest.mark.sandbox
def test_on_poll_twice_with_mail_in_between_loses_and_doubles_nothing(
    fresh_sandbox, connection: dict[str, Any], backend: str
) -> None:
    asset = {**connection, **INGEST}
    state: dict[str, Any] = {}
    first = poll_as_the_sdk_does(asset, state)
    checkpoint = state[CHECKPOINT_KEY]
    deliver_report(fresh_sandbox, "reported between polls")
    second = poll_as_the_sdk_does(asset, state)
    assert state[CHECKPOINT_KEY] != checkpoint
    assert [a["cef"]["internetMessageId"] for _, a in first] == SEEDED_REPORTS
    assert [a["cef"]["emailSubject"] for _, a in second] == ["reported between polls"]
    containers = [c for c, _ in first + second]
    assert len({c["source_data_identifier"] for c in containers}) == 3
    assert {c["severity"] for c in containers} == {"high"}  # critical: Splunk's highest built-in
    container, artifact = first[0]
    assert artifact["source_data_identifier"] == container["source_data_identifier"]
    assert artifact["cef"]["reported_sender"] == "it-helpdesk@contoso-support.net"
    assert artifact["cef_types"]["fromEmail"] == ["email"]
    assert poll_as_the_sdk_does(asset, state) == []


@pytest.mark.sandbox
def test_poll_now_takes_the_count_and_leaves_the_state(
    fresh_sandbox, connection: dict[str, Any]
) -> None:
    asset = {**connection, **INGEST, "ingest_limit": 50}
    state: dict[str, Any] = {}
    now = poll_as_the_sdk_does(asset, state, poll_now_count=1)
    assert [a["cef"]["internetMessageId"] for _, a in now] == SEEDED_REPORTS[:1]
    assert state == {}
    scheduled = poll_as_the_sdk_does(asset, state)
    assert [a["cef"]["internetMessageId"] for _, a in scheduled] == SEEDED_REPORTS
    assert scheduled[0][0]["source_data_identifier"] == now[0][0]["source_data_identifier"]


@pytest.mark.sandbox
def test_on_poll_failure_keeps_the_state_and_names_the_field(connection: dict[str, Any]) -> None:
    state = {CHECKPOINT_KEY: "kept"}
    with pytest.raises(PollFailed, match="severity"):
        poll_as_the_sdk_does({**connection, "ingest_severity": "urgent"}, state)
    with pytest.raises(PollFailed, match=r"INVALID_INPUT.*limit"):
        poll_as_the_sdk_does({**connection, "ingest_limit": 0}, state)
    assert state == {CHECKPOINT_KEY: "kept"}


@pytest.mark.sandbox
def test_ingest_settings_never_reach_other_actions(connection: dict[str, Any]) -> None:
    result = run_action(
        "get_out_of_office", {"mailbox": "dave@contoso.com"}, {**connection, **INGEST}
    )
    assert result.status is True, result.message


def sdk_poll(app_dir: Path, asset: dict[str, Any], state: dict[str, Any], container_count: int):
    """One on poll as Splunk SOAR spawns it (a fresh process: the app imported afresh, the
    asset state it saved last time loaded back); returns the result, what it saved and the
    state it leaves."""
    from soar_sdk.shims.phantom_common.encryption.encryption_manager_factory import (
        platform_encryption_backend,
    )

    asset_id = "7"
    stored = {
        k: platform_encryption_backend.encrypt(v, asset_id) if k in SECRET_KEYS and v else v
        for k, v in asset.items()
    }
    app = import_app(app_dir)
    manager = app.actions_manager
    manager.save_state(dict(state))
    saved: list[dict[str, Any]] = []

    def save_container(container: dict[str, Any], fail_on_duplicate: bool = False):
        saved.append({"container": container, "artifacts": []})
        return True, "Container saved successfully", len(saved)

    def save_artifacts(artifacts: list[dict[str, Any]]):
        saved[-1]["artifacts"] += artifacts
        return True, "Artifacts saved successfully", list(range(len(artifacts)))

    manager.save_container = save_container
    manager.save_artifacts = save_artifacts
    spec = {
        "action": "on_poll",
        "identifier": "on_poll",
        "asset_id": asset_id,
        "config": {"app_version": "0", "directory": ".", "main_module": "src.app:app", **stored},
        "parameters": [{"container_count": container_count, "artifact_count": container_count}],
    }
    app.handle(json.dumps(spec))
    [result] = manager.get_results()
    return result, saved, dict(manager.load_state() or {})


def ingest_part(state: dict[str, Any]) -> dict[str, Any]:
    """The asset state's ingest part, decrypted as the SDK reads it back."""
    from soar_sdk.shims.phantom.encryption_helper import encryption_helper

    return json.loads(encryption_helper.decrypt(state["ingest"], "7")) if state else {}


@pytest.mark.sandbox
def test_sdk_on_poll_scheduled_twice_and_poll_now(
    sdk_app: Any, app_dir: Path, fresh_sandbox, connection: dict[str, Any], backend: str
) -> None:
    from soar_sdk.params import MAX_COUNT_VALUE

    asset = {**connection, **INGEST}
    now, shown, untouched = sdk_poll(app_dir, asset, {}, 1)
    assert now.get_status() is True, now.get_message()
    assert len(shown) == 1 and ingest_part(untouched) == {}
    first, saved_first, state = sdk_poll(app_dir, asset, {}, MAX_COUNT_VALUE)
    assert first.get_status() is True, first.get_message()
    checkpoint = ingest_part(state)[CHECKPOINT_KEY]
    assert checkpoint and checkpoint not in json.dumps(state)  # stored encrypted
    deliver_report(fresh_sandbox, "reported between polls")
    second, saved_second, later = sdk_poll(app_dir, asset, state, MAX_COUNT_VALUE)
    assert second.get_status() is True, second.get_message()
    assert ingest_part(later)[CHECKPOINT_KEY] != checkpoint
    containers = [s["container"] for s in saved_first + saved_second]
    assert [len(s["artifacts"]) for s in saved_first + saved_second] == [1, 1, 1]
    assert len({c["source_data_identifier"] for c in containers}) == 3
    assert (
        shown[0]["container"]["source_data_identifier"] == containers[0]["source_data_identifier"]
    )
    cefs = [s["artifacts"][0]["cef"] for s in saved_first + saved_second]
    assert [c["internetMessageId"] for c in cefs[:2]] == SEEDED_REPORTS
    assert cefs[2]["emailSubject"] == "reported between polls"
    assert saved_second[0]["artifacts"][0]["run_automation"] is True
    bad, nothing, kept = sdk_poll(app_dir, {**asset, "ingest_limit": 0}, later, MAX_COUNT_VALUE)
    assert bad.get_status() is False and "limit" in bad.get_message()
    assert nothing == [] and kept == later
