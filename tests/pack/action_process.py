"""Runs a real action script as its own process with the stdin contract, as an engine does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from exchange_sandbox.process import CA_ENV_VARS

ROOT = Path(__file__).resolve().parents[2]


def run_action(action: str, config: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """``python actions/<action>.py``; asserts success and returns the stdout envelope."""
    env = {k: v for k, v in os.environ.items() if k not in CA_ENV_VARS}
    env.pop("EXCHANGE_CONFIG", None)
    process = subprocess.run(
        [sys.executable, str(ROOT / "actions" / f"{action}.py")],
        input=json.dumps({"config": config, "parameters": params}),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    envelope = json.loads(process.stdout)
    assert (process.returncode, process.stderr) == (0, ""), envelope
    return envelope
