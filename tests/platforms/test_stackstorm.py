"""The StackStorm pack: metadata checked against st2's own definitions, and actions run the way
st2's python runner runs them (entry point loaded from file, ``Action(config=...)``,
``run(**kwargs)``, the ``(status, result)`` tuple) against the sandbox on Graph and EWS.

st2common does not install here: ``Action`` is stood in by a minimal base class with st2's
constructor (``config``, ``action_service``) and abstract ``run``.
"""

from __future__ import annotations

import abc
import importlib.util
import inspect
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from platform_helpers import CAMPAIGN_SENDER, CAMPAIGN_USERS, campaign_id

from exchange_pack.bundles import build
from exchange_pack.config import SECRET_KEYS
from exchange_pack.manifest import load_manifest

META_SCHEMA = json.loads(
    (Path(__file__).parent / "stackstorm_metadata.schema.json").read_text(encoding="utf-8")
)


def check(kind: str, document: Any) -> list[str]:
    """Violations of ``document`` against the st2 definition ``kind`` (pack, action, ...)."""
    validator = Draft202012Validator(
        {**META_SCHEMA, "$ref": f"#/$defs/{kind}"}, format_checker=FormatChecker()
    )
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]


class Action(abc.ABC):
    """Stands in for st2common.runners.base_action.Action (same constructor, abstract run)."""

    def __init__(self, config: dict[str, Any] | None = None, action_service: Any = None) -> None:
        self.config = config or {}
        self.action_service = action_service

    @abc.abstractmethod
    def run(self, **kwargs: Any) -> Any: ...


@pytest.fixture(scope="module")
def st2common() -> Any:
    """``st2common.runners.base_action`` importable, as in an st2 pack virtualenv."""
    names = ("st2common", "st2common.runners", "st2common.runners.base_action")
    saved = {name: sys.modules.get(name) for name in names}
    for name in names:
        sys.modules[name] = types.ModuleType(name)
    sys.modules["st2common.runners.base_action"].Action = Action  # type: ignore[attr-defined]
    yield
    for name, module in saved.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stackstorm")
    build("stackstorm", out)
    return out


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def action_class(entry_point: Path) -> type:
    """The Action subclass defined in the file, found the way st2's loader finds it."""
    spec = importlib.util.spec_from_file_location(f"st2_action_{entry_point.stem}", entry_point)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = [
        k
        for _, k in inspect.getmembers(module, inspect.isclass)
        if k.__module__ == module.__name__ and issubclass(k, Action)
    ]
    assert len(found) == 1, found
    return found[0]


def st2_run(pack_dir: Path, action_id: str, given: dict[str, Any], config: dict[str, Any]):
    """One execution as st2 does it: declared parameters as kwargs (defaults, else None)."""
    metadata = load(pack_dir / "actions" / f"{action_id}.yaml")
    kwargs = {}
    for name, spec in metadata["parameters"].items():
        kwargs[name] = given[name] if name in given else spec.get("default")
    unknown = set(given) - set(kwargs)
    assert not unknown, f"st2 refuses undeclared parameters: {unknown}"
    config_schema = load(pack_dir / "config.schema.yaml")
    pack_config = {k: s["default"] for k, s in config_schema.items() if "default" in s}
    pack_config.update(config)
    klass = action_class(pack_dir / "actions" / metadata["entry_point"])
    output = klass(config=pack_config, action_service=None).run(**kwargs)
    assert isinstance(output, tuple) and len(output) == 2
    status, result = output
    Draft4Validator(metadata["output_schema"]).validate(result)
    return ("succeeded" if status is True else "failed"), result


def test_metadata_matches_st2_definitions(pack_dir: Path) -> None:
    manifest = load_manifest()
    assert check("pack", load(pack_dir / "pack.yaml")) == []
    config_schema = load(pack_dir / "config.schema.yaml")
    assert check("config_schema", config_schema) == []
    assert {k for k, s in config_schema.items() if s.get("secret")} == SECRET_KEYS & set(
        config_schema
    )
    assert load(pack_dir / "pack.yaml")["ref"] == "exchange_pack"
    for spec in manifest.actions:
        metadata = load(pack_dir / "actions" / f"{spec.id}.yaml")
        assert check("action", metadata) == [], spec.id
        assert metadata["runner_type"] == "python-script"
        assert (pack_dir / "actions" / metadata["entry_point"]).is_file()
    assert (pack_dir / "requirements.txt").read_text().startswith("exchange-pack==")
    assert (pack_dir / "icon.png").read_bytes().startswith(b"\x89PNG")


def test_st2_schema_refuses_what_st2_refuses() -> None:
    """The schema written from st2 is not a rubber stamp."""
    assert check("pack", {"name": "x", "description": "d", "version": "1.0", "author": "a"})
    assert check("pack", {"ref": "exchange-pack", "name": "x", "description": "d",
                          "version": "1.0.0", "author": "a"})  # fmt: skip
    bad_param = {"name": "a", "runner_type": "python-script",
                 "parameters": {"mailbox": {"type": "string", "format": "email"}}}  # fmt: skip
    assert check("action", bad_param)
    union = {"m": {"type": ["string", "null"]}}  # st2 takes one simple type per parameter
    assert check("action", {"name": "a", "runner_type": "x", "parameters": union})
    assert check("config_schema", {"k": {"type": "string", "secret": "yes"}})


def test_parameters_follow_the_input_schema(pack_dir: Path) -> None:
    params = load(pack_dir / "actions" / "search_emails_extended.yaml")["parameters"]
    assert params["mailboxes"] == {
        "type": "array",
        "description": "SMTP addresses of several mailboxes.",
        "items": {"type": "string"},
    }
    assert params["all_mailboxes"]["default"] is False
    delete = load(pack_dir / "actions" / "delete_email.yaml")["parameters"]
    assert delete["delete_type"]["enum"] == ["move_to_deleted_items", "soft", "hard"]
    assert delete["delete_type"]["default"] == "move_to_deleted_items"


@pytest.mark.sandbox
def test_search_emails_extended(st2common, pack_dir: Path, connection, backend: str) -> None:
    status, result = st2_run(
        pack_dir,
        "search_emails_extended",
        {"all_mailboxes": True, "sender": CAMPAIGN_SENDER, "subject": "INV-20931"},
        connection,
    )
    assert status == "succeeded", result
    assert result["ok"] is True and result["meta"]["backend"] == backend
    found = {m["internet_message_id"] for m in result["data"]["messages"]}
    assert {campaign_id(u) for u in CAMPAIGN_USERS} <= found
    message_keys = load(pack_dir / "actions" / "search_emails_extended.yaml")["output_schema"][
        "properties"
    ]["data"]["anyOf"][0]["properties"]["messages"]["items"]["properties"]
    for message in result["data"]["messages"]:
        assert set(message) <= set(message_keys)
        assert {"mailbox", "id", "internet_message_id", "subject"} <= set(message)


@pytest.mark.sandbox
def test_delete_email_then_gone(
    st2common, pack_dir: Path, fresh_sandbox, connection, backend: str
) -> None:
    target = {"mailbox": "carol@contoso.com", "internet_message_id": campaign_id("carol")}
    status, result = st2_run(pack_dir, "delete_email", target, connection)
    assert status == "succeeded", result
    assert [r["status"] for r in result["data"]["results"]] == ["deleted"]
    assert result["data"]["delete_type"] == "move_to_deleted_items"
    status, again = st2_run(pack_dir, "delete_email", target, connection)
    assert status == "failed" or again["data"]["results"][0]["status"] == "not_found"


@pytest.mark.sandbox
def test_bad_parameter_is_a_failed_execution(st2common, pack_dir: Path, connection) -> None:
    status, result = st2_run(
        pack_dir, "search_emails_extended", {"mailbox": "not an address"}, connection
    )
    assert status == "failed"
    assert result["ok"] is False
    assert result["error"]["code"] == "INVALID_INPUT"
    assert "mailbox" in result["error"]["message"]


@pytest.mark.sandbox
def test_connection_action(st2common, pack_dir: Path, connection, backend: str) -> None:
    status, result = st2_run(pack_dir, "test_connection", {}, connection)
    assert status == "succeeded", result
    assert result["meta"]["backend"] == backend
    assert {a["id"] for a in result["data"]["actions"]} >= {"delete_email", "junk_mail"}


@pytest.mark.sandbox
def test_bad_secret_fails_without_leaking_it(st2common, pack_dir: Path, connection) -> None:
    status, result = st2_run(
        pack_dir, "test_connection", {}, {**connection, "client_secret": "wrong-secret-value"}
    )
    assert status == "failed"
    assert "wrong-secret-value" not in json.dumps(result)


def test_bundle_follows_the_schemas(
    pack_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tmp_path / "before"
    build("stackstorm", before)
    schema_file = pack_copy / "schemas" / "search_emails_extended.input.json"
    schema = json.loads(schema_file.read_text())
    schema["properties"]["sender"]["description"] = "Sender address, changed by the test."
    schema_file.write_text(json.dumps(schema))
    monkeypatch.setenv("EXCHANGE_PACK_ROOT", str(pack_copy))
    after = tmp_path / "after"
    build("stackstorm", after)
    changed = [
        p.relative_to(after).as_posix()
        for p in sorted(after.rglob("*"))
        if p.is_file() and p.read_bytes() != (before / p.relative_to(after)).read_bytes()
    ]
    assert changed == ["actions/search_emails_extended.yaml"]
    sender = load(after / "actions" / "search_emails_extended.yaml")["parameters"]["sender"]
    assert sender["description"] == "Sender address, changed by the test."
