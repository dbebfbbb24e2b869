"""The Splunk SOAR app: a ``splunk-soar-sdk`` project (``pyproject.toml``, ``src/app.py``, logos).

``src/app.py`` declares the asset (from ``schemas/connection.json``), one ``@app.action`` per
manifest action with its ``Params`` and ``ActionOutput`` models (from the action's schemas, so
the SDK derives the parameters and ``action_result.data.*`` paths), and ``test connectivity``
mapped to ``test_connection``. Each action body is one call to
:mod:`exchange_pack.platforms.splunk_soar`.
"""

from __future__ import annotations

import keyword
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .. import __version__
from ..fields import InputField, connection_fields, input_fields, table_column_path
from ..ingest_hooks import has_ingestion, hook_fields, ingestion_spec
from ..inputs import resolve_ref
from ..manifest import ActionSpec, Manifest, load_schema
from ..platforms.splunk_soar import INGEST_PREFIX
from .common import BundleWriter, logo_bytes

PLATFORM = "splunk-soar"
SDK_REQUIREMENT = "splunk-soar-sdk>=7,<8"
PYTHON = "3.13"  # Splunk SOAR's app runtime that splunk-soar-sdk 7 targets
REQUIRES_PYTHON = f">={PYTHON},<3.14"
# The platforms a uv.lock resolves for (as the SDK's own app template): the SDK's packager takes
# the lock's wheels for Linux x86_64 and aarch64; without this, Windows-only wheels get in.
UV_ENVIRONMENTS = [
    f"sys_platform == '{system}' and platform_machine == '{machine}'"
    f" and python_version == '{PYTHON}'"
    for system, machine in (
        ("linux", "x86_64"),
        ("linux", "aarch64"),
        ("darwin", "x86_64"),
        ("darwin", "arm64"),
    )
]
# Splunk SOAR action types; the manifest's kinds map onto them.
ACTION_TYPES = {
    "test": "generic",
    "investigate": "investigate",
    "contain": "contain",
    "notify": "generic",
    "generic": "generic",
}
_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_MAX_DEPTH = 6
_MODEL_ATTRIBUTES = frozenset(dir(BaseModel))  # a field named so would shadow pydantic's own


def app_id(manifest: Manifest) -> str:
    """A stable app id (Splunk wants a UUID): uuid5 of the manifest id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://exchange-pack/{manifest.id}/splunk-soar"))


def action_name(spec: ActionSpec) -> str:
    """Splunk's action name: lower-case words (``search emails extended``)."""
    return spec.id.replace("_", " ")


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in text.replace("-", "_").split("_"))


def _identifier(name: str) -> tuple[str, str | None]:
    """A Python attribute name for a JSON key, and the alias when they differ."""
    plain = name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")
    if plain and name not in _MODEL_ATTRIBUTES:
        return name, None
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name).strip("_") or "field"
    return cleaned + "_", name


def _text(value: str) -> str:
    return repr(" ".join(str(value).split()))


def _param_line(field: InputField) -> str:
    """One ``Params`` field: arrays as comma-separated text (``allow_list``), enums as lists."""
    name, alias = _identifier(field.name)
    kind = "str" if field.is_array else _SCALARS.get(field.type, "str")
    args = [f"description={_text(field.description or field.name)}"]
    if field.allowed and not field.is_array:
        args.append(f"value_list={list(field.allowed)!r}")
    if field.is_array:
        args.append("allow_list=True")
    if field.secret:
        args.append("sensitive=True")
    if alias:
        args.append(f"alias={alias!r}")
    default = field.default
    if field.has_default and default is not None:
        if isinstance(default, list):
            default = ",".join(str(v) for v in default)
        args.append(f"default={default!r}")
    annotation = kind if field.required else f"{kind} | None"
    if not field.required and not (field.has_default and default is not None):
        args.append("required=False")
    return f"    {name}: {annotation} = Param({', '.join(args)})"


def ingest_asset_fields(manifest: Manifest) -> list[InputField]:
    """The on-poll settings as asset fields: the hook's fields, prefixed ``ingest_``."""
    if not has_ingestion(manifest):
        return []
    return [
        field.model_copy(
            update={
                "name": INGEST_PREFIX + field.name,
                "description": f"On poll: {field.description}",
            }
        )
        for field in hook_fields(manifest)
    ]


def _asset_line(field: InputField) -> str:
    name, _ = _identifier(field.name)
    kind = _SCALARS.get(field.type, "str")
    args = [f"description={_text(field.description or field.name)}"]
    if field.allowed:
        args.append(f"value_list={list(field.allowed)!r}")
    if field.secret:
        args.append("sensitive=True")
    if field.has_default and field.default is not None:
        args.append(f"default={field.default!r}")
        annotation = kind
    else:
        args.append("required=False")
        annotation = f"{kind} | None"
    return f"    {name}: {annotation} = AssetField({', '.join(args)})"


class _OutputModels:
    """Generates nested ``ActionOutput`` classes for one action's output schema.

    ``paths`` collects the ``action_result.data.*`` paths the SDK derives from those classes.
    """

    def __init__(self, action_id: str, columns: list[str]) -> None:
        self.prefix = _camel(action_id)
        self.root: dict[str, Any] = load_schema(f"{action_id}.output")
        self.columns = {table_column_path(c): n for n, c in enumerate(columns)}
        self.classes: list[str] = []
        self.paths: list[str] = []

    def _annotation(self, schema: Any, path: list[str], depth: int, datapath: str) -> str | None:
        """The Python type of one schema node, or None when the SDK cannot declare it."""
        schema = resolve_ref(schema, self.root)
        options = schema.get("anyOf") or schema.get("oneOf")
        declared = schema.get("type")
        kinds: list[Any] = []
        if options:
            kinds = [resolve_ref(o, self.root) for o in options]
        elif isinstance(declared, list):
            kinds = [{**schema, "type": k} for k in declared]
        if kinds:
            nullable = any(k.get("type") == "null" for k in kinds)
            rest = [k for k in kinds if k.get("type") != "null"]
            if len(rest) != 1:
                return None  # the SDK takes no unions but Optional
            inner = self._annotation(rest[0], path, depth, datapath)
            return None if inner is None else (f"{inner} | None" if nullable else inner)
        if declared in _SCALARS:
            self.paths.append(datapath)
            return _SCALARS[declared]
        if declared == "array" and depth < _MAX_DEPTH:
            item = self._annotation(schema.get("items", {}), path, depth + 1, datapath + ".*")
            return None if item is None else f"list[{item}]"
        if declared == "object" and schema.get("properties") and depth < _MAX_DEPTH:
            return self.model(schema, path, depth + 1, datapath)
        return None  # a free-form object: the SDK has no data type for it

    def model(
        self,
        schema: dict[str, Any],
        path: list[str],
        depth: int = 0,
        datapath: str = "action_result.data.*",
    ) -> str:
        """Writes the class for an object schema and returns its name."""
        name = self.prefix + "".join(_camel(p) for p in path) + "Output"
        required = set(schema.get("required", []))
        lines = [
            f"class {name}(PermissiveActionOutput):",
            f'    """{".".join(path) or "data"} of {self.prefix} (undeclared keys kept)."""',
            "",
        ]
        declared = 0
        for key, prop in schema.get("properties", {}).items():
            annotation = self._annotation(prop, [*path, key], depth, f"{datapath}.{key}")
            if annotation is None:
                continue
            attribute, alias = _identifier(key)
            args = []
            if alias:
                args.append(f"alias={alias!r}")
            if ".".join([*path, key]) in self.columns:
                args.append(f"column_name={key.replace('_', ' ').title()!r}")
            optional = key not in required and not annotation.endswith("| None")
            annotation = f"{annotation} | None" if optional else annotation
            lines.append(f"    {attribute}: {annotation} = OutputField({', '.join(args)})")
            declared += 1
        if not declared:
            lines.append("    pass")
        self.classes.append("\n".join(lines))
        return name


def data_paths(action_id: str) -> list[str]:
    """The ``action_result.data.*`` paths the app declares for an action (as the SDK derives)."""
    models = _OutputModels(action_id, [])
    models.model(models.root, [])
    return models.paths


def _action_block(manifest: Manifest, spec: ActionSpec) -> str:
    camel = _camel(spec.id)
    fields = input_fields(spec.id)
    models = _OutputModels(spec.id, spec.table_columns)
    output = models.model(models.root, [])
    params = [f"class {camel}Params(Params):", f'    """Parameters of {spec.id}."""', ""]
    params += [_param_line(f) for f in fields] or ["    pass"]
    function = [
        "@app.action(",
        f"    name={action_name(spec)!r},",
        f"    identifier={spec.id!r},",
        f"    description={_text(spec.description)},",
        f"    action_type={ACTION_TYPES[spec.kind]!r},",
        f"    read_only={spec.read_only!r},",
        "    summary_type=Summary,",
        *(['    render_as="table",'] if spec.table_columns else []),
        ")",
        f"def {spec.id}(params: {camel}Params, soar: SOARClient, asset: Asset) -> {output}:",
        f'    """{_one_line(spec.title)}: the pack\'s {spec.id}, in process."""',
        f"    return adapter.sdk_run({spec.id!r}, params, asset, soar, {output}, Summary)",
    ]
    return "\n\n\n".join([*models.classes, "\n".join(params), "\n".join(function)])


def _one_line(text: str) -> str:
    return " ".join(text.split())


def on_poll_block(manifest: Manifest) -> str:
    """The app's ``@app.on_poll``: the ingestion hook, one call to the adapter."""
    ingest = ingestion_spec(manifest)
    return f'''@app.on_poll()
def on_poll(
    params: OnPollParams, soar: SOARClient, asset: Asset
) -> Iterator[Container | Artifact]:
    """{ingest.name}: the pack's {ingest.action} from the checkpoint in the asset's ingest
    state; a container (source_data_identifier: the message's dedup key) with one artifact per
    new message."""
    yield from adapter.sdk_on_poll(params, asset)'''


def app_source(manifest: Manifest) -> str:
    """``src/app.py``: the asset, the app, one action per manifest action, test connectivity."""
    test_action = manifest.connection.get("test_action", "test_connection")
    ingest_lines = ""
    if has_ingestion(manifest):
        ingest = ingestion_spec(manifest)
        ingest_lines = (
            f"\n\n    # On poll ({ingest.name}): the {ingest.action} settings of scheduled "
            "ingestion.\n" + "\n".join(_asset_line(f) for f in ingest_asset_fields(manifest))
        )
    header = f'''"""{manifest.name} {manifest.version} for Splunk SOAR (splunk-soar-sdk).

Generated by `exchange-pack bundle {PLATFORM}` from integration.yaml and schemas/; do not edit.
"""

from collections.abc import Iterator

from soar_sdk.abstract import SOARClient
from soar_sdk.action_results import OutputField, PermissiveActionOutput
from soar_sdk.app import App
from soar_sdk.asset import AssetField, BaseAsset
from soar_sdk.models.artifact import Artifact
from soar_sdk.models.container import Container
from soar_sdk.params import OnPollParams, Param, Params

from exchange_pack.platforms import splunk_soar as adapter


class Asset(BaseAsset):
    """The connection (schemas/connection.json); secrets are sensitive fields."""

{chr(10).join(_asset_line(f) for f in connection_fields())}{ingest_lines}


class Summary(PermissiveActionOutput):
    """The envelope's summary: counts for the playbook."""


app = App(
    name={manifest.name!r},
    app_type="email",
    logo="logo.svg",
    logo_dark="logo_dark.svg",
    product_vendor={manifest.vendor!r},
    product_name={manifest.product!r},
    publisher={manifest.name + " maintainers"!r},
    appid={app_id(manifest)!r},
    python_version={PYTHON!r},
    fips_compliant=False,
    asset_cls=Asset,
)


@app.test_connectivity()
def test_connectivity(soar: SOARClient, asset: Asset) -> None:
    """Test connectivity: the pack's {test_action}."""
    adapter.sdk_test_connectivity({test_action!r}, asset, soar)
'''
    blocks = [header.rstrip("\n")]
    if has_ingestion(manifest):
        blocks.append(on_poll_block(manifest))
    blocks += [_action_block(manifest, spec) for spec in manifest.actions]
    blocks.append('if __name__ == "__main__":\n    app.cli()')
    return "\n\n\n".join(blocks) + "\n"


def pyproject(manifest: Manifest) -> str:
    """The app project's ``pyproject.toml`` (what ``soarapps package build`` reads)."""
    environments = ",\n".join(f"    {_toml_string(e)}" for e in UV_ENVIRONMENTS)
    return f"""[project]
name = "{manifest.id}-splunk-soar"
version = "{manifest.version}"
description = {_toml_string(_one_line(manifest.description))}
license = "Apache-2.0"
requires-python = "{REQUIRES_PYTHON}"
authors = [{{ name = "{manifest.name} maintainers" }}]
dependencies = [
    "{SDK_REQUIREMENT}",
    "exchange-pack=={__version__}",
]

[tool.soar.app]
main_module = "src.app:app"

[tool.uv]
environments = [
{environments}
]
required-environments = [
    {_toml_string(UV_ENVIRONMENTS[0])},
]
"""


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build(manifest: Manifest, out: Path) -> list[Path]:
    """Writes the Splunk SOAR app project under ``out`` and returns the files written."""
    writer = BundleWriter(out)
    writer.write("pyproject.toml", pyproject(manifest))
    writer.write("src/__init__.py", "")
    writer.write("src/app.py", app_source(manifest))
    svg = logo_bytes(manifest, "svg")
    writer.write("logo.svg", svg)
    writer.write("logo_dark.svg", svg)
    return writer.written


def on_poll_readme(manifest: Manifest) -> str:
    """The Splunk SOAR section's paragraph on ingestion (on poll), if the manifest has one."""
    if not has_ingestion(manifest):
        return ""
    ingest = ingestion_spec(manifest)
    return f"""\
Ingestion (`on poll`): set the asset's `ingest_*` fields (`ingest_mailbox`, `ingest_folder`,
`ingest_since` for the first poll, `ingest_enrich`, `ingest_severity`, ...) and the asset's
ingest settings (label, polling interval). Each poll runs `{ingest.action}` from the checkpoint
in the asset's ingest state and saves one container per new message (`source_data_identifier`
is the message's dedup key) with one `Email Artifact` whose CEF-like fields hold the sender,
recipients, subject, message ids and the enrichment (SPF/DKIM/DMARC, URLs, attachment hashes,
the reported original's sender); the SDK commits the new checkpoint only after they are saved.
Severity `critical` becomes `high` and `unknown` `low` (Splunk's built-in severities). Poll now
takes its container count as the limit and leaves the checkpoint alone (a later scheduled poll
finds the same containers as duplicates, never new ones).

"""


def readme_section(manifest: Manifest) -> str:
    """The README's Splunk SOAR section."""
    secrets = ", ".join(f"`{f.name}`" for f in connection_fields() if f.secret)
    graph = ", ".join(manifest.connection.get("permissions", {}).get("graph", []))
    test_action = manifest.connection.get("test_action", "test_connection")
    actions = ", ".join(f"`{action_name(spec)}`" for spec in manifest.actions)
    return f"""### Splunk SOAR

Build: `exchange-pack bundle splunk-soar --out dist/bundles/splunk-soar` writes a
`splunk-soar-sdk` app project (`pyproject.toml`, `src/app.py`, logos). Package it with the
SDK's own tool on Python {PYTHON} (`{SDK_REQUIREMENT}` needs it): put the `exchange-pack` wheel
(`make dist`) on a package index you control, add it as the `exchange-pack` source in
`pyproject.toml` (`[tool.uv.sources]`), `uv lock`, then `soarapps package build` writes the
installable `.tgz` (the app, its manifest and every dependency as a wheel). Upload it in Splunk
SOAR under Apps > Install App (or `soarapps package install`).

Configure: create an asset of the app; its fields are the keys of `schemas/connection.json`.
`test connectivity` runs `{test_action}`.

- Sensitive (encrypted) asset fields: {secrets}.
- Permissions of the app registration: Graph {graph}; EWS `full_access_as_app`.
- Actions: {actions}.

{on_poll_readme(manifest)}Parameters and output data paths (`action_result.data.*.…`) are declared
from the schemas as SDK `Params` / `ActionOutput` models; list parameters are comma-separated
text (the SDK takes no list parameters) and free-form objects in the outputs are kept in the
data but not declared as data paths (the SDK has no data type for them). Each action runs the
pack in process; a failure fails the action with the pack's message.

What ran for real: `make check-bundles` installs `splunk-soar-sdk` beside the pack in a Python
{PYTHON} venv, imports the generated app with the real SDK, compares the SDK's manifest
(parameters, data paths, test connectivity) with the schemas, runs actions through the SDK's
`App.handle` with the input JSON Splunk SOAR sends (asset config with encrypted secrets, a
`param` with its `context`) against the sandbox tenant on Graph and EWS, and builds the `.tgz`
with `soarapps package build` (the pack's wheel served from a loopback index, the other wheels
from PyPI). `make test` (Python 3.11, no SDK) runs the adapter the same way. The Splunk SOAR
platform itself does not run here.
"""
