"""The Cortex XSOAR pack's documents: description, READMEs, release notes, the README section."""

from __future__ import annotations

from typing import Any

from ..manifest import Manifest
from ..platforms.xsoar import CONTEXT_ROOT, TEST_COMMAND, command_name, context_prefix
from .common import docker_tag

_BUNDLE_DIR = "dist/bundles/xsoar"


def _cell(text: Any) -> str:
    return " ".join(str(text).replace("|", "\\|").split())


def _permissions(manifest: Manifest) -> list[str]:
    granted = manifest.connection.get("permissions", {})
    labels = {
        "graph": "Microsoft Graph (application permissions, admin consent)",
        "ews": "EWS in Exchange Online (Office 365 Exchange Online API)",
        "ews_on_premises": "Exchange Server on-premises (roles of the service account or app)",
    }
    return [
        f"- {labels.get(backend, backend)}: {', '.join(f'`{p}`' for p in names)}"
        for backend, names in granted.items()
    ]


def _settings_table(document: dict[str, Any]) -> list[str]:
    lines = [
        "| Setting | Parameter | Required | Default | Description |",
        "|---|---|---|---|---|",
    ]
    for param in document["configuration"]:
        label = param.get("display") or param.get("displaypassword", "")
        if param.get("type") == 9 and param.get("display"):
            label = f"{param['display']} + {param['displaypassword']} (credentials)"
        elif param.get("type") == 9:
            label = f"{label} (credentials, password only)"
        required = "yes" if param.get("required") else "no"
        info = _cell(param.get("additionalinfo", ""))
        default = f"`{param['defaultvalue']}`" if "defaultvalue" in param else ""
        lines.append(f"| {label} | `{param['name']}` | {required} | {default} | {info} |")
    return lines


def description_markdown(manifest: Manifest) -> str:
    """``ExchangePack_description.md``: the instance help shown beside the settings."""
    lines = [
        f"## {manifest.name}",
        "",
        " ".join(manifest.description.split()),
        "",
        "### Authentication",
        "Register an app in Microsoft Entra ID (no redirect URI), add a client secret or a",
        "certificate, grant the application permissions below and admin consent. Enter the",
        "tenant ID, the app's client ID and its secret (or the certificate as inline PEM).",
        "For Exchange Server on-premises choose backend `ews`, set the EWS URL and, with",
        "`ntlm` or `basic`, a service account holding the ApplicationImpersonation role.",
        "",
        "### Permissions",
        *_permissions(manifest),
        "",
        "Click **Test** to run `test_connection`: it reports the granted roles and, for every",
        "command, the permission still missing.",
    ]
    return "\n".join(lines) + "\n"


def integration_readme(manifest: Manifest, document: dict[str, Any]) -> str:
    """The integration's README (the layout ``demisto-sdk generate-docs`` writes)."""
    lines = [
        " ".join(manifest.description.split()),
        "",
        f"## Configure {manifest.name} in Cortex XSOAR",
        "",
        *_settings_table(document),
        "",
        "## Commands",
        "",
        "You can execute these commands from the CLI, as part of an automation, or in a playbook.",
        "",
    ]
    for cmd in document["script"]["commands"]:
        lines += [f"### {cmd['name']}", "", "***", _cell(cmd["description"]), ""]
        lines += ["#### Base Command", "", f"`{cmd['name']}`", "", "#### Input", ""]
        if cmd["arguments"]:
            lines += [
                "| **Argument Name** | **Description** | **Required** |",
                "| --- | --- | --- |",
            ]
            for arg in cmd["arguments"]:
                required = "Required" if arg.get("required") else "Optional"
                lines.append(f"| {arg['name']} | {_cell(arg['description'])} | {required} |")
        else:
            lines.append("There are no input arguments for this command.")
        lines += ["", "#### Context Output", ""]
        lines += ["| **Path** | **Type** | **Description** |", "| --- | --- | --- |"]
        for out in cmd["outputs"]:
            lines.append(f"| {out['contextPath']} | {out['type']} | {_cell(out['description'])} |")
        lines.append("")
    return "\n".join(lines)


def pack_readme(manifest: Manifest) -> str:
    """The pack's README (marketplace page)."""
    actions = ", ".join(f"`{command_name(spec.id)}`" for spec in manifest.actions)
    return (
        f"# {manifest.name}\n\n{' '.join(manifest.description.split())}\n\n"
        f"Commands: {actions}. Outputs are under `{CONTEXT_ROOT}.<Action>` in the context.\n"
    )


def release_notes(manifest: Manifest) -> str:
    """``ReleaseNotes/<x_y_z>.md`` for the pack's current version."""
    lines = ["#### Integrations", "", f"##### {manifest.name}", ""]
    lines += [
        f"- {manifest.name} {manifest.version}: {len(manifest.actions)} commands on Microsoft "
        "Graph and EWS, generated from the pack's manifest.",
    ]
    return "\n".join(lines) + "\n"


def install_section(manifest: Manifest, document: dict[str, Any], integration: str) -> str:
    """The README's "Cortex XSOAR" install section for the integration ``document``."""
    pack_dir = f"Packs/{integration}"
    rows = ["| XSOAR command | Action | Context |", "|---|---|---|"]
    rows.append(
        f"| `{TEST_COMMAND}` (Test button) | `{manifest.connection['test_action']}` | none |"
    )
    rows += [
        f"| `{command_name(s.id)}` | `{s.id}` | `{context_prefix(s.id)}` |"
        for s in manifest.actions
    ]
    lines = [
        "### Cortex XSOAR",
        "",
        f"**Build.** `make bundles` (one platform: `exchange-pack bundle xsoar --out "
        f"{_BUNDLE_DIR}`) writes the content pack `{pack_dir}/` and a `Dockerfile`. The "
        f"integration runs in the image `{docker_tag()}`: put the pack's wheel (`make dist`) "
        f"beside the Dockerfile, `docker build -t {docker_tag()} .`, and make the image "
        "available to the XSOAR server or engine that runs the integration.",
        "",
        f"**Upload.** `demisto-sdk upload -i {pack_dir}` (with `DEMISTO_BASE_URL` and "
        f"`DEMISTO_API_KEY` set), or `demisto-sdk zip-packs -i {pack_dir} -o .` and upload the "
        "zip as a custom content pack.",
        "",
        f"**Configure.** Settings → Integrations → *{manifest.name}* ({integration}) → Add "
        "instance. Secrets are XSOAR credentials fields (stored credentials work); each maps "
        "to the pack's connection key:",
        "",
        *_settings_table(document),
        "",
        "**Commands.** One per action; the action's `data` lands under its context key, the "
        "whole envelope is the raw response, the war-room table comes from the manifest's "
        "`table_columns`, every file an action saves (an EML, attachments) is also a war-room file "
        "entry (the container's `output_dir` does not outlive the command), and a failure is an "
        "error entry with the error code and hint. "
        "Destructive commands are marked `execution: true` (XSOAR asks before running them).",
        "",
        *rows,
        "",
        "**Permissions** (the app registration's, for every command):",
        "",
        *_permissions(manifest),
        "",
        "**What ran for real.** `make test` executes the generated `ExchangePack.py` in process "
        "against the sandbox tenant on both backends, with stand-ins for XSOAR's "
        "`demistomock` and `CommonServerPython` (the `demisto` object's "
        "`command()`/`params()`/`args()`/`results()` and `return_results`/`return_error` as "
        "XSOAR documents them), and checks every context value lands at a `contextPath` the "
        "YAML declares. The YAML is checked against a JSON Schema written from demisto-sdk's "
        "own `integration.yml` schema. `make check-bundles` runs `demisto-sdk validate` "
        "itself (its own virtualenv: demisto-sdk pins pydantic 1, the pack needs pydantic 2) "
        "with the SDK's path-based selection of validators, less those that need the network "
        "or its Neo4j content graph and the Docker Hub rules for images Palo Alto Networks "
        "publishes (DO101, DO103); the content repository's approved category and use-case "
        "lists are stood in by the pack's own. Not run here: an XSOAR server, its Docker "
        "runner, the image build.",
    ]
    return "\n".join(lines) + "\n"
