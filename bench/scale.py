"""Case 7: the all-mailbox campaign search (``all_mailboxes: true``) from 10 to 50,000 mailboxes.

One ``bulk:N:2`` tenant per size (the campaign message in every mailbox, one ordinary message
beside it), ``--latency-ms 50`` on every request and sub-request, token cached, paged through
with ``next_cursor`` until every campaign message is returned. Per size, summed over the runs:
wall time (process spawn to exit), requests and requests per mailbox from the sandbox log,
client and sandbox CPU; the first run's own time (the first answer) and the directory's own
time in it: how long, from the first request to the last ``GET /users`` page, no ``$batch``
was in flight (the search waiting on the directory alone).
``BENCH_SCALE_SIZES=10,100`` runs fewer sizes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from exchange_sandbox.process import start_sandbox

from .actions import process_cpu_seconds, run_action
from .minimums import CAMPAIGN_SENDER
from .requests_per_action import is_identity_request

SIZES = (10, 100, 1_000, 10_000, 50_000)
MESSAGES_PER_MAILBOX = 2
LATENCY_MS = 50
MAX_RESULTS = 10_000  # the schema's maximum: larger tenants return a cursor for the rest
TARGET_MS_PER_MAILBOX_AT_50K = 2.0
TARGET_DIRECTORY_SHARE = 0.20
STARTUP_TIMEOUT = 3600  # seeding 50,000 mailboxes takes minutes on a busy machine
MAX_RUNS = 50  # a cursor that never ends is a failure, not an endless bench


def sizes() -> tuple[int, ...]:
    """SIZES, or the sizes named by ``BENCH_SCALE_SIZES``."""
    chosen = os.environ.get("BENCH_SCALE_SIZES")
    return tuple(int(n) for n in chosen.split(",")) if chosen else SIZES


def _union_length(intervals: list[tuple[float, float]], start: float, end: float) -> float:
    """How much of [start, end] the intervals cover."""
    covered, reach = 0.0, start
    for low, high in sorted(intervals):
        low, high = max(low, reach), min(high, end)
        if high > low:
            covered += high - low
            reach = high
    return covered


def directory_time(log: list[dict[str, Any]]) -> dict[str, float]:
    """From the request log: when the directory was read and how long it alone held the search
    up (no ``$batch`` in flight between the first request and the last ``GET /users``)."""
    tenant = [e for e in log if not is_identity_request(e)]
    start = min(e["ts"] for e in tenant)
    pages = [e for e in tenant if e["method"] == "GET" and e["path"] == "/v1.0/users"]
    batches = [e for e in tenant if e["path"] == "/v1.0/$batch"]
    end = max(e["ts"] + e["duration_ms"] / 1000 for e in pages) if pages else start
    spans = [(e["ts"], e["ts"] + e["duration_ms"] / 1000) for e in batches]
    first_batch = min((e["ts"] for e in batches), default=end)
    return {
        "pages": len(pages),
        "read_seconds": round(end - start, 3),
        "alone_seconds": round((end - start) - _union_length(spans, start, end), 3),
        "to_first_search_seconds": round(first_batch - start, 3),
    }


def measure_one(mailboxes: int, workdir: Path) -> dict[str, Any]:
    """One all-mailbox search in a fresh ``bulk:N:2`` tenant, paged through with its cursor
    until every campaign message is returned (``max_results`` is the schema's 10,000)."""
    seed = f"bulk:{mailboxes}:{MESSAGES_PER_MAILBOX}"
    with start_sandbox(
        seed=seed, latency_ms=LATENCY_MS, startup_timeout=STARTUP_TIMEOUT
    ) as sandbox:
        folder = workdir / f"scale-{mailboxes}"
        config = sandbox.pack_config(
            backend="graph",
            token_cache_path=str(folder / "token-cache.json"),
            output_dir=str(folder / "output"),
        )
        first = next(m for m in sandbox.info["mailboxes"] if m.startswith("user"))
        run_action("get_out_of_office", config, {"mailbox": first}).check()  # token cached
        sandbox.clear_requests()
        params = {"all_mailboxes": True, "sender": CAMPAIGN_SENDER, "max_results": MAX_RESULTS}
        runs, logs, sandbox_cpu = [], [], 0.0
        cursor = None
        while True:
            before = process_cpu_seconds(sandbox.process.pid)
            page = {**params, "cursor": cursor} if cursor else params
            run = run_action("search_emails_extended", config, page)
            sandbox_cpu += process_cpu_seconds(sandbox.process.pid) - before
            logs.append(sandbox.requests())
            sandbox.clear_requests()
            runs.append(run.check())
            cursor = run.envelope["data"]["next_cursor"]
            if not cursor or len(runs) > MAX_RUNS:
                break
    log = [entry for run_log in logs for entry in run_log]
    tenant = [e for e in log if not is_identity_request(e)]
    envelopes = [run.envelope for run in runs]
    ids = [m["internet_message_id"] for e in envelopes for m in e["data"]["messages"]]
    statuses = [box for e in envelopes for box in e["data"]["mailboxes"]]
    seconds = sum(run.seconds for run in runs)
    directory = directory_time(logs[0])
    return {
        "mailboxes": mailboxes,
        "seed": seed,
        "seconds": round(seconds, 3),
        "first_answer_seconds": round(runs[0].seconds, 3),
        "runs": len(runs),
        "ms_per_mailbox": round(seconds / mailboxes * 1000, 3),
        "requests": len(tenant),
        "requests_per_mailbox": round(len(tenant) / mailboxes, 4),
        "identity_requests": len(log) - len(tenant),
        "throttled_responses": sum(1 for e in log if e["status"] == 429),
        "client_cpu_seconds": round(sum(run.cpu_seconds for run in runs), 2),
        "sandbox_cpu_seconds": round(sandbox_cpu, 2),
        "mailboxes_searched": len({box["mailbox"].lower() for box in statuses}),
        "failed_mailboxes": sum(1 for box in statuses if box["status"] != "ok"),
        "messages": len(ids),
        "duplicates": len(ids) - len(set(ids)),
        "directory": directory,
        "directory_share": round(directory["alone_seconds"] / runs[0].seconds, 3),
        "meta": envelopes[0]["meta"],
    }


def measure(workdir: Path, progress: Any = print) -> dict[str, Any]:
    """Every size, smallest first; the targets at 50,000 mailboxes."""
    rows = []
    for mailboxes in sizes():
        rows.append(measure_one(mailboxes, workdir))
        progress(f"bench: all-mailbox search at {mailboxes} mailboxes: {rows[-1]['seconds']} s")
    largest = rows[-1]
    return {
        "latency_ms": LATENCY_MS,
        "rows": rows,
        "target_ms_per_mailbox": TARGET_MS_PER_MAILBOX_AT_50K,
        "target_directory_share": TARGET_DIRECTORY_SHARE,
        "target_met": (
            largest["mailboxes"] >= 50_000
            and largest["ms_per_mailbox"] <= TARGET_MS_PER_MAILBOX_AT_50K
            and all(r["directory_share"] <= TARGET_DIRECTORY_SHARE for r in rows)
            and all(r["failed_mailboxes"] == 0 for r in rows)
            and all(r["messages"] == r["mailboxes"] and not r["duplicates"] for r in rows)
        ),
    }
