"""Case 3: cold start of one action process, and what it imports.

Time to first request is measured from outside: the wall clock just before the process is
spawned against the arrival time (``ts``) of its first request in the sandbox log. The import
profile comes from ``python -X importtime`` running the same action for real.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exchange_sandbox.process import Sandbox

from .actions import run_action
from .requests_per_action import is_identity_request

ACTION = "get_out_of_office"
PARAMS = {"mailbox": "dave@contoso.com"}
RUNS = 7
TOP_IMPORTS = 10
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)$")


@dataclass(frozen=True)
class ImportEntry:
    """One line of ``-X importtime``: a module, its own and cumulative import time."""

    module: str
    self_us: int
    cumulative_us: int
    depth: int


def parse_importtime(stderr: str) -> list[ImportEntry]:
    """The ``import time:`` lines of a ``-X importtime`` run (other stderr lines ignored)."""
    entries = []
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            self_us, cumulative_us, indent, module = match.groups()
            entries.append(ImportEntry(module, int(self_us), int(cumulative_us), len(indent) // 2))
    return entries


def import_profile(config: dict[str, Any]) -> dict[str, Any]:
    """Total import time, the slowest top-level imports, and whether exchangelib was loaded."""
    run = run_action(ACTION, config, PARAMS, python_flags=("-X", "importtime"))
    entries = parse_importtime(run.stderr)
    top_level = [e for e in entries if e.depth == 0]
    # A package's own line (``msal``, not ``msal.oauth2cli``) covers all of its submodules.
    packages = sorted(
        (e for e in entries if "." not in e.module and not e.module.startswith("_")),
        key=lambda e: e.cumulative_us,
        reverse=True,
    )
    modules = {e.module.split(".")[0] for e in entries}
    return {
        "ok": run.ok,
        "modules_imported": len(entries),
        "import_seconds": round(sum(e.cumulative_us for e in top_level) / 1e6, 3),
        "top_imports": [
            {"module": e.module, "cumulative_ms": round(e.cumulative_us / 1000, 1)}
            for e in packages[:TOP_IMPORTS]
        ],
        "imports_exchangelib": "exchangelib" in modules,
        "imports_msal": "msal" in modules,
    }


def measure(sandbox: Sandbox, backend: str, workdir: Path) -> dict[str, Any]:
    """Median spawn-to-first-request (any, and first Graph/EWS one) over ``RUNS`` processes."""
    config = sandbox.pack_config(
        backend=backend,
        token_cache_path=str(workdir / f"cold-start-{backend}" / "token-cache.json"),
        output_dir=str(workdir / f"cold-start-{backend}" / "output"),
    )
    run_action(ACTION, config, PARAMS).check()  # token and EWS version cached, as in production
    first_any: list[float] = []
    first_api: list[float] = []
    totals: list[float] = []
    for _ in range(RUNS):
        sandbox.clear_requests()
        run = run_action(ACTION, config, PARAMS).check()
        log = sandbox.requests()
        first_any.append(log[0]["ts"] - run.spawned_at)
        first_api.append(next(e for e in log if not is_identity_request(e))["ts"] - run.spawned_at)
        totals.append(run.seconds)
    return {
        "backend": backend,
        "action": ACTION,
        "runs": RUNS,
        "to_first_request_seconds": round(statistics.median(first_any), 3),
        "to_first_api_request_seconds": round(statistics.median(first_api), 3),
        "process_seconds": round(statistics.median(totals), 3),
        "imports": import_profile(config),
    }
