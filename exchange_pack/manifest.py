"""The pack's manifest (``integration.yaml``) and its JSON Schema contracts (``schemas/``)."""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
import json
import os
import re
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import jsonschema_rs
import yaml
from pydantic import BaseModel, ConfigDict

from .errors import ConfigError, InternalError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

# libyaml's safe loader when PyYAML has it: the manifest is read at every action's start.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The action ids users and playbooks call (binding, DESIGN.md).
BINDING_ACTION_IDS: tuple[str, ...] = (
    "test_connection",
    "get_attachments",
    "get_contacts",
    "get_searchable_mailboxes",
    "get_out_of_office",
    "search_emails_extended",
    "copy_email",
    "delete_attachments",
    "delete_email",
    "download_mail_as_eml",
    "junk_mail",
    "send_email",
    "reply_to_email",
    "poll_mailbox",
    "get_email",
    "search_and_delete_emails",  # round 2 (DESIGN.md)
)
ACTION_ID = re.compile(r"^[a-z][a-z0-9_]*$")
PACKAGED_DIR = "_pack"  # where a wheel carries the top-level pack files (setup.py)
_CHANGELOG_RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+[^\]]*)\]", re.MULTILINE)


def pack_root() -> Path:
    """The pack's directory (holds integration.yaml, schemas/ and actions/).

    ``EXCHANGE_PACK_ROOT`` when set; else the checkout this package sits in (a source tree or an
    editable install); else the copy a wheel carries as package data (``exchange_pack/_pack``).
    """
    override = os.environ.get("EXCHANGE_PACK_ROOT")
    if override:
        return Path(override)
    return _installed_root()


@functools.lru_cache(maxsize=1)
def _installed_root() -> Path:
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "integration.yaml").is_file() and (checkout / "pyproject.toml").is_file():
        return checkout
    packaged = importlib.resources.files("exchange_pack") / PACKAGED_DIR
    if isinstance(packaged, Path) and (packaged / "integration.yaml").is_file():
        return packaged
    raise ConfigError(
        "The pack's manifest is missing: neither a checkout nor the installed package holds "
        "integration.yaml.",
        hint="Reinstall exchange-pack from its wheel or sdist, or set EXCHANGE_PACK_ROOT.",
    )


def schema_path(name: str, root: Path | None = None) -> Path:
    """``schemas/<name>.json`` (``name`` like ``connection`` or ``copy_email.input``)."""
    return (root or pack_root()) / "schemas" / f"{name}.json"


@functools.lru_cache(maxsize=64)
def _load_schema_file(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def load_schema(name: str, root: Path | None = None) -> dict[str, Any]:
    """A schema document from ``schemas/`` (cached per process)."""
    if not ACTION_ID.match(name.replace(".", "_")):
        raise ConfigError(f"Invalid schema name {name!r}.")
    path = schema_path(name, root)
    try:
        return _load_schema_file(path)
    except FileNotFoundError:
        raise InternalError(f"Schema {path.name} is missing from the pack.") from None
    except ValueError as exc:
        raise InternalError(f"Schema {path.name} is not valid JSON ({exc}).") from None


@functools.lru_cache(maxsize=64)
def _validator(path: Path) -> Draft202012Validator:
    from jsonschema import Draft202012Validator, FormatChecker  # only to explain a failure

    return Draft202012Validator(_load_schema_file(path), format_checker=FormatChecker())


@functools.lru_cache(maxsize=64)
def _compiled(path: Path) -> Any:
    return jsonschema_rs.validator_for(_load_schema_file(path), validate_formats=True)


def schema_is_valid(name: str, instance: Any, root: Path | None = None) -> bool:
    """Whether ``instance`` matches ``schemas/<name>.json``, by jsonschema-rs (formats checked,
    microseconds). False means "ask ``schema_validator``": jsonschema has the last word and
    names the problems, and is imported only then (~70 ms of an action's start)."""
    load_schema(name, root)
    return bool(_compiled(schema_path(name, root)).is_valid(instance))


def schema_validator(name: str, root: Path | None = None) -> Draft202012Validator:
    """A draft 2020-12 validator (with format checks) for ``schemas/<name>.json``."""
    load_schema(name, root)
    return _validator(schema_path(name, root))


class ActionSpec(BaseModel):
    """One ``actions[]`` entry of integration.yaml."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    title: str
    description: str
    kind: Literal["test", "investigate", "contain", "notify", "generic"]
    read_only: bool
    destructive: bool
    idempotent: bool
    script: str
    input_schema: str
    output_schema: str
    backends: list[Literal["graph", "ews"]]
    permissions: dict[str, list[str]]
    extra_permissions: list[dict[str, Any]] = []
    table_columns: list[str] = []


class Manifest(BaseModel):
    """integration.yaml: pack metadata, the connection and every action."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    name: str
    version: str
    description: str
    vendor: str
    product: str
    category: str
    logos: dict[str, str]
    runtime: dict[str, Any]
    connection: dict[str, Any]
    actions: list[ActionSpec]

    def action(self, action_id: str) -> ActionSpec:
        """The action entry with this id (ConfigError when the manifest has none)."""
        for spec in self.actions:
            if spec.id == action_id:
                return spec
        known = ", ".join(a.id for a in self.actions)
        raise ConfigError(f"Unknown action {action_id!r}; the pack has: {known}.")


def manifest_path(root: Path | None = None) -> Path:
    """``integration.yaml`` in the pack root."""
    return (root or pack_root()) / "integration.yaml"


def _manifest_text(root: Path | None) -> tuple[Path, str]:
    path = manifest_path(root)
    try:
        return path, path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist.") from None


def load_manifest_document(root: Path | None = None) -> dict[str, Any]:
    """integration.yaml as parsed YAML (not yet checked)."""
    path, text = _manifest_text(root)
    return _parsed(path.name, text)


def _parsed(name: str, text: str) -> dict[str, Any]:
    try:
        document = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name} is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{name} must be a mapping at the top level.")
    return document


def load_manifest(root: Path | None = None) -> Manifest:
    """integration.yaml, validated against ``schemas/integration.json``."""
    path, text = _manifest_text(root)
    return _checked(path.parent, text)


@functools.lru_cache(maxsize=8)
def _checked(root: Path, text: str) -> Manifest:
    """One parse and schema check per manifest text (a process reads it more than once)."""
    document = _parsed("integration.yaml", text)
    if schema_is_valid("integration", document, root):
        return Manifest.model_validate(document)
    errors = sorted(
        schema_validator("integration", root).iter_errors(document), key=lambda e: e.json_path
    )
    if errors:
        problems = "; ".join(f"{e.json_path}: {e.message}" for e in errors[:5])
        raise ConfigError(f"integration.yaml does not match schemas/integration.json: {problems}")
    return Manifest.model_validate(document)


def changelog_version(root: Path | None = None) -> str | None:
    """The newest released version in CHANGELOG.md (``## [x.y.z] - date``; Unreleased skipped)."""
    path = (root or pack_root()) / "CHANGELOG.md"
    try:
        match = _CHANGELOG_RELEASE.search(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return match.group(1) if match else None


def load_action_module(spec: ActionSpec, root: Path | None = None) -> ModuleType:
    """Imports ``actions/<id>.py`` (the script) as a module, without running its ``main``."""
    path = (root or pack_root()) / spec.script
    if not path.is_file():
        raise ConfigError(f"The script {spec.script} of action {spec.id} does not exist.")
    module_spec = importlib.util.spec_from_file_location(f"exchange_pack_action_{spec.id}", path)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(f"The script {spec.script} cannot be imported.")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module
