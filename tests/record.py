"""``make record``: re-record every action's cassette on both backends.

Against the sandbox tenant (default): starts it with the demo seed and resets it before each
scenario, so every cassette starts from the same mailbox content.

Against a real tenant: set ``EXCHANGE_RECORD_CONFIG`` to a connection config file (JSON) for a
tenant whose mailboxes hold the demo content; scenarios then run in order without resets.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recording import (
    BACKENDS,
    CASSETTES,
    SCENARIOS,
    cassette,
    normalize,
    recorded_config,
    run_in_process,
)

from exchange_sandbox.process import CA_ENV_VARS, start_sandbox


def record_all(make_config: Any, reset: Any, only: set[str] | None = None) -> int:
    failures = 0
    for backend in BACKENDS:
        for scenario in SCENARIOS:
            if only and scenario.action not in only:
                continue
            reset()
            with tempfile.TemporaryDirectory() as output_dir:
                config = make_config(backend, output_dir)
                target = CASSETTES / backend / f"{scenario.action}.yaml"
                target.unlink(missing_ok=True)
                with cassette(backend, scenario.action, "all"):
                    code, envelope, stderr = run_in_process(
                        scenario.action, config, scenario.parameters
                    )
                ok = code == 0 and envelope.get("ok")
                failures += not ok
                print(
                    f"{backend:5} {scenario.action:26} exit {code} {'' if ok else stderr.strip()}"
                )
                expected = {
                    "config": recorded_config(config),
                    "parameters": scenario.parameters,
                    "exit_code": code,
                    "data": normalize(envelope.get("data"), scenario.volatile, output_dir),
                }
                target.with_suffix(".json").write_text(
                    json.dumps(expected, indent=2, sort_keys=True) + "\n", encoding="utf-8"
                )
    return failures


def main() -> int:
    """Records every scenario, or only the actions named on the command line."""
    only = set(sys.argv[1:]) or None
    for name in CA_ENV_VARS:
        os.environ.pop(name, None)
    real = os.environ.get("EXCHANGE_RECORD_CONFIG")
    if real:
        base = json.loads(Path(real).read_text(encoding="utf-8"))
        base["token_cache_path"] = "none"
        return record_all(
            lambda backend, out: {**base, "backend": backend, "output_dir": out},
            lambda: None,
            only,
        )
    with start_sandbox(seed="demo") as sb:
        return record_all(
            lambda backend, out: sb.pack_config(
                backend=backend, output_dir=out, token_cache_path="none"
            ),
            sb.reset,
            only,
        )


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
