"""Runs ``demisto-sdk validate`` (its own virtualenv: it pins pydantic 1) on a generated pack.

demisto-sdk validates packs inside a content repository: a git work tree with ``Packs/`` and
``Config/``. This builds one in a temporary folder: the bundle, committed, plus ``Config``
files listing the category, use cases and tags the pack uses (the content repository's full
lists are not fetched offline). The validations run are the SDK's own ``path_based_validations``
selection less the ones that need the network or its Neo4j content graph.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from exchange_pack.bundles import build
from exchange_pack.bundles.xsoar import CATEGORY, PACK_DIR, USE_CASES

# demisto-sdk's Docker image rules are for images published by Palo Alto Networks on Docker Hub:
# DO101 (the image must be demisto/* or demistoextended/*) and DO103 (it must exist on
# Docker Hub). The pack's image is built by its user from the generated Dockerfile.
NOT_APPLICABLE = {"DO101", "DO103"}
_GRAPH_USE = re.compile(r"self\.graph\b|using_graph|graph_interface")
_CODE = re.compile(r"^([A-Z]{2}\d{3})_")


def sdk_dir(sdk_python: Path) -> Path:
    """The installed ``demisto_sdk`` package folder."""
    out = subprocess.run(
        [
            str(sdk_python),
            "-c",
            "import demisto_sdk, os; print(os.path.dirname(demisto_sdk.__file__))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def graph_validators(package: Path) -> set[str]:
    """Error codes of the validators that query the content graph (Neo4j, downloaded)."""
    codes = set()
    for path in (package / "commands" / "validate" / "validators").rglob("*.py"):
        match = _CODE.match(path.name)
        if match and _GRAPH_USE.search(path.read_text(encoding="utf-8")):
            codes.add(match.group(1))
    return codes


def validation_config(sdk_python: Path, target: Path) -> list[str]:
    """Writes the SDK's path-based selection, less graph and not-applicable checks."""
    package = sdk_dir(sdk_python)
    source = package / "commands" / "validate" / "sdk_validation_config.toml"
    reader = (
        "import json, sys, tomllib; c = tomllib.load(open(sys.argv[1], 'rb'));"
        " print(json.dumps(c['path_based_validations']['select']))"
    )
    out = subprocess.run(
        [str(sdk_python), "-c", reader, str(source)], capture_output=True, text=True, check=True
    )
    skipped = graph_validators(package) | NOT_APPLICABLE
    selected = [code for code in json.loads(out.stdout) if code not in skipped]
    lines = ["[path_based_validations]", "select = ["]
    lines += [f'  "{code}",' for code in selected]
    lines += ["]", "warning = []", ""]
    target.write_text("\n".join(lines), encoding="utf-8")
    return selected


def content_repo(root: Path) -> Path:
    """A content repository holding the generated pack, committed (the SDK reads git)."""
    build("xsoar", root)
    config = root / "Config"
    config.mkdir(exist_ok=True)
    lists = {
        "approved_categories.json": {"approved_list": [CATEGORY]},
        "approved_usecases.json": {"approved_list": USE_CASES},
        "approved_tags.json": {"approved_list": {"common": [], "xsoar": [], "marketplacev2": []}},
    }
    for name, document in lists.items():
        (config / name).write_text(json.dumps(document), encoding="utf-8")
    commit(root, "generated pack")
    return root


def commit(root: Path, message: str) -> None:
    """Commits everything under ``root`` (a new repository the first time)."""
    git = ["git", "-C", str(root), "-c", "user.email=check@example.com", "-c", "user.name=check"]
    if not (root / ".git").exists():
        subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", message], check=True)


def validate(sdk_bin: Path, repo: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """``demisto-sdk validate -i Packs/<pack>`` in ``repo`` with ``config``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEMISTO_SDK_OFFLINE")}
    env["DEMISTO_SDK_IGNORE_CONTENT_WARNING"] = "true"
    return subprocess.run(
        [str(sdk_bin), "validate", "-i", PACK_DIR, "--config-path", str(config)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
