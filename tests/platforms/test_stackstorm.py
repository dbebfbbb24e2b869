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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
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


def _stand_in(dotted: str, name: str, value: Any) -> Iterator[None]:
    """``dotted`` (and its parents) importable with ``name`` in it, then as it was."""
    parts = dotted.split(".")
    names = [".".join(parts[: i + 1]) for i in range(len(parts))]
    saved = {module: sys.modules.get(module) for module in names}
    for module in names:
        sys.modules[module] = types.ModuleType(module)
    setattr(sys.modules[dotted], name, value)
    yield
    for module, previous in saved.items():
        if previous is None:
            sys.modules.pop(module, None)
        else:
            sys.modules[module] = previous


@pytest.fixture(scope="module")
def st2common() -> Iterator[None]:
    """``st2common.runners.base_action`` importable, as in an st2 pack virtualenv."""
    yield from _stand_in("st2common.runners.base_action", "Action", Action)


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
    def describe_sender(schema: dict[str, Any]) -> None:
        schema["properties"]["sender"]["description"] = "Sender address, changed by the test."

    after, changed = rebuild_after_schema_change(
        "stackstorm",
        pack_copy,
        tmp_path,
        monkeypatch,
        "search_emails_extended.input",
        describe_sender,
    )
    assert changed == ["actions/search_emails_extended.yaml"]
    sender = load(after / "actions" / "search_emails_extended.yaml")["parameters"]["sender"]
    assert sender["description"] == "Sender address, changed by the test."


# -- the polling sensor ------------------------------------------------------------------------
class PollingSensor(abc.ABC):
    """Stands in for st2reactor.sensor.base.PollingSensor (st2's constructor and attributes)."""

    def __init__(self, sensor_service: Any, config: dict[str, Any] | None = None,
                 poll_interval: float = 5) -> None:  # fmt: skip
        self.sensor_service = sensor_service
        self.config = config or {}
        self._poll_interval = poll_interval

    @abc.abstractmethod
    def setup(self) -> None: ...

    @abc.abstractmethod
    def poll(self) -> None: ...

    @abc.abstractmethod
    def cleanup(self) -> None: ...

    @abc.abstractmethod
    def add_trigger(self, trigger: Any) -> None: ...

    @abc.abstractmethod
    def update_trigger(self, trigger: Any) -> None: ...

    @abc.abstractmethod
    def remove_trigger(self, trigger: Any) -> None: ...


class SensorService:
    """What st2's SensorService offers a sensor: the datastore (local to the sensor), dispatch
    and a logger; records what the sensor did."""

    def __init__(self) -> None:
        self.datastore: dict[str, str] = {}
        self.dispatched: list[dict[str, Any]] = []
        self.errors: list[str] = []

    def get_value(self, name: str, local: bool = True, scope: str = "st2kv.system",
                  decrypt: bool = False) -> str | None:  # fmt: skip
        return self.datastore.get(name)

    def set_value(self, name: str, value: str, ttl: int | None = None, local: bool = True,
                  scope: str = "st2kv.system", encrypt: bool = False) -> bool:  # fmt: skip
        assert isinstance(value, str)  # st2 stores strings
        self.datastore[name] = value
        return True

    def dispatch(self, trigger: str, payload: Any = None, trace_tag: str | None = None) -> None:
        self.dispatched.append({"trigger": trigger, "payload": payload, "trace_tag": trace_tag})

    def get_logger(self, name: str) -> Any:
        service = self

        class Logger:
            def error(self, message: str, *args: Any) -> None:
                service.errors.append(message % args if args else message)

        return Logger()


@pytest.fixture(scope="module")
def st2reactor() -> Iterator[None]:
    """``st2reactor.sensor.base`` importable, as in st2's sensor container."""
    yield from _stand_in("st2reactor.sensor.base", "PollingSensor", PollingSensor)


def sensor_files(pack_dir: Path) -> tuple[dict[str, Any], Path]:
    [metadata_file] = sorted((pack_dir / "sensors").glob("*.yaml"))
    metadata = load(metadata_file)
    return metadata, pack_dir / "sensors" / metadata["entry_point"]


def sensor_instance(pack_dir: Path, service: SensorService, config: dict[str, Any]) -> Any:
    """The sensor as st2's sensor wrapper makes it: the class named by class_name in the entry
    point, built with the service, the pack config (schema defaults filled) and poll_interval."""
    metadata, entry_point = sensor_files(pack_dir)
    spec = importlib.util.spec_from_file_location(f"st2_sensor_{entry_point.stem}", entry_point)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    klass = getattr(module, metadata["class_name"])
    assert issubclass(klass, PollingSensor)
    config_schema = load(pack_dir / "config.schema.yaml")
    pack_config = {k: s["default"] for k, s in config_schema.items() if "default" in s}
    sensor = klass(service, {**pack_config, **config}, metadata["poll_interval"])
    sensor.setup()
    return sensor


def test_sensor_metadata_matches_st2_definitions(pack_dir: Path) -> None:
    metadata, entry_point = sensor_files(pack_dir)
    assert check("sensor", metadata) == []
    assert entry_point.is_file() and f"class {metadata['class_name']}(" in entry_point.read_text()
    [trigger] = metadata["trigger_types"]
    Draft4Validator.check_schema(trigger["payload_schema"])
    assert (
        metadata["poll_interval"]
        == load_manifest().model_extra["ingestion"]["interval_minutes"] * 60
    )
    config_schema = load(pack_dir / "config.schema.yaml")
    assert {"ingest_mailbox", "ingest_severity", "ingest_since"} <= set(config_schema)
    assert "ingest_checkpoint" not in config_schema  # the datastore holds it
    # The schema written from st2 refuses what st2 refuses.
    assert check("sensor", {k: v for k, v in metadata.items() if k != "class_name"})
    assert check("sensor", {**metadata, "poll_interval": 1})
    assert check("sensor", {**metadata, "trigger_types": [{"description": "no name"}]})
    assert check("sensor", {**metadata, "parameters": {}})


@pytest.mark.sandbox
def test_sensor_polls_twice_with_mail_in_between_losing_and_doubling_nothing(
    st2reactor: Any, pack_dir: Path, fresh_sandbox, connection: dict[str, Any], backend: str
) -> None:
    service = SensorService()
    settings = {"ingest_mailbox": REPORTS, "ingest_since": SEEDED_SINCE, "ingest_limit": 1,
                "ingest_enrich": True, "ingest_severity": "high"}  # fmt: skip
    sensor = sensor_instance(pack_dir, service, {**connection, **settings})
    metadata, _ = sensor_files(pack_dir)
    payload_schema = metadata["trigger_types"][0]["payload_schema"]
    sensor.poll()
    [checkpoint] = service.datastore.values()
    deliver_report(fresh_sandbox, "reported between polls")
    sensor.poll()
    assert service.errors == []
    assert list(service.datastore.values()) != [checkpoint]
    payloads = [d["payload"] for d in service.dispatched]
    for payload in payloads:
        Draft4Validator(payload_schema).validate(payload)
    trigger = f"exchange_pack.{metadata['trigger_types'][0]['name']}"
    assert {d["trigger"] for d in service.dispatched} == {trigger}
    assert [p["fields"]["internet_message_id"] for p in payloads[:2]] == SEEDED_REPORTS
    assert [p["fields"]["subject"] for p in payloads[2:]] == ["reported between polls"]
    assert len({p["source_id"] for p in payloads}) == 3 == len(payloads)
    assert payloads[0]["fields"]["reported_sender"] == "it-helpdesk@contoso-support.net"
    assert {p["severity"] for p in payloads} == {"high"}
    sensor.poll()  # nothing new
    assert len(service.dispatched) == 3


@pytest.mark.sandbox
def test_failed_sensor_poll_is_logged_and_stores_nothing(
    st2reactor: Any, pack_dir: Path, connection: dict[str, Any]
) -> None:
    service = SensorService()
    service.datastore["poll_mailbox.checkpoint"] = "kept"
    sensor = sensor_instance(pack_dir, service, {**connection, "ingest_limit": 0})
    sensor.poll()
    assert service.dispatched == [] and service.datastore == {"poll_mailbox.checkpoint": "kept"}
    [error] = service.errors
    assert error.startswith("ERROR INVALID_INPUT") and "limit" in error
    assert connection["client_secret"] not in error
