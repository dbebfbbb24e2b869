"""The wheel is the pack: built from the sdist, installed alone into a fresh virtual environment
outside the checkout, it runs every action against the sandbox tenant.

This is how every SOAR's Docker image gets the pack, so nothing may come from the checkout:
the test runs the installed commands from a temporary folder, with no EXCHANGE_PACK_ROOT and no
``sys.path`` entry pointing back here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exchange_sandbox.process import CA_ENV_VARS, Sandbox

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from recording import SCENARIOS  # noqa: E402

pytestmark = pytest.mark.sandbox
BUILD_TIMEOUT = 600


class Installed:
    """A virtual environment holding only the built wheel (and its dependencies)."""

    def __init__(self, prefix: Path, build_log: str, dist: Path) -> None:
        self.prefix = prefix
        self.build_log = build_log
        self.dist = dist
        self.bin = prefix / "bin"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in CA_ENV_VARS and not k.startswith("EXCHANGE_") and k != "PYTHONPATH"
        }
        self.env["PATH"] = f"{self.bin}{os.pathsep}{self.env.get('PATH', '')}"

    def run(self, argv: list[str], stdin: str = "", cwd: Path | None = None):
        return subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=cwd or self.prefix.parent,
            timeout=180,
        )


def _build(out: Path) -> str:
    """``python -m build``: the sdist, then the wheel built from that sdist."""
    process = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    return process.stdout + process.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    log = _build(dist)
    wheels = sorted(dist.glob("exchange_pack-*.whl"))
    assert len(wheels) == 1, list(dist.iterdir())
    prefix = base / "venv"
    venv.create(prefix, with_pip=True)
    process = subprocess.run(
        [str(prefix / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheels[0])],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    yield Installed(prefix, log, dist)


def test_the_build_has_no_license_deprecation(installed: Installed) -> None:
    assert "project.license" not in installed.build_log
    assert "License classifiers are deprecated" not in installed.build_log


def test_the_sdist_carries_the_pack_files(installed: Installed) -> None:
    (sdist,) = installed.dist.glob("exchange_pack-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"integration.yaml", "setup.py", "schemas/connection.json"} <= names
    assert "actions/get_out_of_office.py" in names and "logos/exchange-pack.png" in names


def test_the_installed_package_is_not_the_checkout(installed: Installed) -> None:
    process = installed.run(
        [
            str(installed.bin / "python"),
            "-c",
            "import exchange_pack, exchange_pack.manifest as m; "
            "print(exchange_pack.__file__); print(m.pack_root())",
        ]
    )
    assert process.returncode == 0, process.stderr
    package_file, root = process.stdout.split()
    assert str(installed.prefix) in package_file and str(ROOT) not in package_file
    assert root.endswith("exchange_pack/_pack") and str(installed.prefix) in root


def test_the_installed_commands_work_without_a_checkout(installed: Installed) -> None:
    listing = installed.run([str(installed.bin / "exchange-pack"), "actions", "--json"])
    assert listing.returncode == 0, listing.stderr
    assert {row["id"] for row in json.loads(listing.stdout)} >= {s.action for s in SCENARIOS}
    usage = installed.run([str(installed.bin / "exchange-pack"), "run", "delete_email", "--help"])
    assert usage.returncode == 0 and "--delete_type" in usage.stdout


def _config(sandbox: Sandbox, backend: str, tmp_path: Path) -> dict[str, Any]:
    return sandbox.pack_config(
        app="full",
        backend=backend,
        output_dir=str(tmp_path / "output"),
        token_cache_path=str(tmp_path / "tokens.json"),
    )


@pytest.mark.parametrize("backend", ["graph", "ews"])
def test_every_action_runs_from_the_installed_wheel(
    installed: Installed, fresh_sandbox: Sandbox, backend: str, tmp_path: Path
) -> None:
    config = _config(fresh_sandbox, backend, tmp_path)
    failures = []
    for scenario in SCENARIOS:
        fresh_sandbox.reset()
        document = json.dumps({"config": config, "parameters": scenario.parameters})
        process = installed.run(
            [str(installed.bin / "exchange-pack"), "run", scenario.action], document, tmp_path
        )
        envelope = json.loads(process.stdout)
        if process.returncode != 0 or not envelope["ok"] or process.stderr:
            failures.append((scenario.action, process.returncode, process.stderr))
    assert failures == []


def test_the_module_entry_and_environment_parameters(
    installed: Installed, fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    """``python -m exchange_pack.run``, config and parameters from the environment only."""
    config = _config(fresh_sandbox, "graph", tmp_path)
    env = installed.env | {f"EXCHANGE_{k.upper()}": str(v) for k, v in config.items()}
    env["mailbox"] = "dave@contoso.com"
    process = subprocess.run(
        [str(installed.bin / "python"), "-m", "exchange_pack.run", "get_out_of_office"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    assert json.loads(process.stdout)["data"]["mailbox"] == "dave@contoso.com"
