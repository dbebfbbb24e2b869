"""``make bench``: every benchmark against the sandbox tenant, then the table and the reports.

    python -m bench.run [--output bench] [--render bench/results.json]

Cases 1-3, 5 and 6 share one ``demo`` tenant started with ``--latency-ms 50``; case 4 starts
``bulk:1000:20`` tenants (plain, then ``--throttle microsoft``); case 7 one ``bulk:N:2`` tenant
per size up to 50,000 mailboxes. Writes ``RESULTS.md``, ``results.json`` and ``scale.png``
into the output folder and prints the summary table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from exchange_sandbox.process import start_sandbox

from . import (
    campaign,
    cold_start,
    envelope_cost,
    fanout,
    memory,
    requests_per_action,
    scale,
    token_reuse,
)
from .machine import machine
from .report import render_markdown, render_table
from .report_scale import plot
from .sandbox_throughput import measure as sandbox_throughput

LATENCY_MS = 50
THROUGHPUT_THREADS = 4
THROUGHPUT_SECONDS = 3.0
HERE = Path(__file__).resolve().parent
T = TypeVar("T")


def _step(title: str, work: Callable[[], T]) -> T:
    print(f"bench: {title} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    result = work()
    print(f"bench: {title} done in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return result


def run_all(workdir: Path) -> dict[str, Any]:
    """Runs the eight cases; returns every figure (the content of results.json)."""
    started = time.perf_counter()
    results: dict[str, Any] = {
        "command": "make bench  (python -m bench.run)",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "latency_ms": LATENCY_MS,
    }
    with start_sandbox(seed="demo", latency_ms=LATENCY_MS) as sandbox:
        rows = _step("requests per action", lambda: requests_per_action.measure(sandbox, workdir))
        results["requests_per_action"] = [row.as_dict() for row in rows]
        results["token_reuse"] = [
            _step(f"token reuse ({b})", lambda b=b: token_reuse.measure(sandbox, b, workdir))
            for b in ("graph", "ews")
        ]
        results["cold_start"] = [
            _step(f"cold start ({b})", lambda b=b: cold_start.measure(sandbox, b, workdir))
            for b in ("graph", "ews")
        ]
        sandbox.reset()
        results["memory"] = _step("memory", lambda: memory.measure(sandbox, workdir))
        sandbox.settings(latency_ms=0)
        results["sandbox_throughput"] = _step(
            "sandbox throughput",
            lambda: sandbox_throughput(sandbox, THROUGHPUT_THREADS, THROUGHPUT_SECONDS),
        )
    results["fanout"] = _step("fan-out vs naive", lambda: fanout.compare(workdir))
    results["fanout_throttled"] = _step(
        "fan-out, --throttle microsoft", lambda: fanout.throttled(workdir)
    )
    results["scale"] = _step(
        "all-mailbox search, 10 to 50,000 mailboxes",
        lambda: scale.measure(workdir, progress=lambda text: print(text, file=sys.stderr)),
    )
    results["envelope_cost"] = _step("envelope cost", envelope_cost.measure)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    """Runs everything, writes RESULTS.md and results.json, prints the summary table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=HERE)
    parser.add_argument(
        "--render", type=Path, metavar="RESULTS_JSON", help="only re-render a results.json"
    )
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    if args.render:
        results = json.loads(args.render.read_text())
    else:
        workdir = Path(tempfile.mkdtemp(prefix="exchange-pack-bench-"))
        try:
            results = run_all(workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        (args.output / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    if "scale" in results:
        plot(results, args.output)
    (args.output / "RESULTS.md").write_text(render_markdown(results))
    campaign.keep_section(args.output / "RESULTS.md")  # bench.campaign's own section
    print(render_table(results))
    print(f"\nWrote {args.output / 'RESULTS.md'} and {args.output / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
