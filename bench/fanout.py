"""Case 4: search_emails_extended over 1,000 mailboxes for one sender, against the naive way
and against a hand-written async msgraph-sdk script (bench/sdk_search.py).

All three run as processes against the same ``bulk:1000:20`` tenant (one campaign message in every
mailbox), alternating pack and baselines so all see the same machine load; wall time is spawn
to exit, request counts come from the sandbox log. Then the pack once more against a tenant
started with ``--throttle microsoft``, and against one whose per-mailbox budget is lowered so
it really throttles: no mailbox may fail, throttle waits are reported.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

from exchange_sandbox.process import Sandbox, start_sandbox

from .actions import process_cpu_seconds, run_action, run_process
from .minimums import CAMPAIGN_SENDER
from .requests_per_action import is_identity_request

MAILBOXES = 1000
SEED = f"bulk:{MAILBOXES}:20"
RUNS = 3
TARGET_SPEEDUP = 20.0
TARGET_SPEEDUP_VS_SDK = 10.0
SDK_IN_FLIGHT = 16  # bench/sdk_search.py IN_FLIGHT (not imported: it needs the bench extra)


def _config(sandbox: Sandbox, workdir: Path, name: str) -> dict[str, Any]:
    folder = workdir / name
    return sandbox.pack_config(
        backend="graph",
        token_cache_path=str(folder / "token-cache.json"),
        output_dir=str(folder / "output"),
    )


def _mailboxes(sandbox: Sandbox) -> list[str]:
    return [m for m in sandbox.info["mailboxes"] if m.startswith("user")]


def _pack_run(
    sandbox: Sandbox, config: dict[str, Any], mailboxes: list[str], **extra: Any
) -> dict[str, Any]:
    sandbox.clear_requests()
    sandbox_cpu = process_cpu_seconds(sandbox.process.pid)
    run = run_action(
        "search_emails_extended",
        config,
        {
            "mailboxes": mailboxes,
            "sender": CAMPAIGN_SENDER,
            "max_results": 10 * len(mailboxes),
            **extra,
        },
    )
    sandbox_cpu = process_cpu_seconds(sandbox.process.pid) - sandbox_cpu
    log = sandbox.requests()
    envelope = run.check().envelope
    statuses = [box["status"] for box in envelope["data"]["mailboxes"]]
    return {
        "seconds": run.seconds,
        "cpu_seconds": run.cpu_seconds,
        "sandbox_cpu_seconds": sandbox_cpu,
        "requests": len(log),
        "identity_requests": sum(1 for e in log if is_identity_request(e)),
        "throttled_responses": sum(1 for e in log if e["status"] == 429),
        "messages": len(envelope["data"]["messages"]),
        "failed_mailboxes": sum(1 for status in statuses if status != "ok"),
        "meta": envelope["meta"],
        "warnings": envelope["warnings"],
    }


def _naive_run(
    sandbox: Sandbox, config: dict[str, Any], mailboxes: list[str], script: str = "naive_search"
) -> dict[str, Any]:
    sandbox.clear_requests()
    sandbox_cpu = process_cpu_seconds(sandbox.process.pid)
    done = run_process(
        [sys.executable, "-m", f"bench.{script}"],
        {"config": config, "parameters": {"mailboxes": mailboxes, "sender": CAMPAIGN_SENDER}},
    )
    sandbox_cpu = process_cpu_seconds(sandbox.process.pid) - sandbox_cpu
    log = sandbox.requests()
    if not done.stdout.strip():
        raise RuntimeError(f"{script} failed: {done.stderr.strip()[-2000:]}")
    result = json.loads(done.stdout)
    return {
        "seconds": done.seconds,
        "cpu_seconds": done.cpu_seconds,
        "sandbox_cpu_seconds": sandbox_cpu,
        "requests": len(log),
        "messages": result["messages"],
        "failed_mailboxes": result["failed"],
    }


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(run[key] for run in runs), 3)


def compare(workdir: Path) -> dict[str, Any]:
    """RUNS alternating pack and naive runs at 50 ms latency; medians and their ratio."""
    with start_sandbox(seed=SEED, latency_ms=50) as sandbox:
        mailboxes = _mailboxes(sandbox)
        config = _config(sandbox, workdir, "fanout")
        run_action("get_out_of_office", config, {"mailbox": mailboxes[0]}).check()  # token
        pack_runs, naive_runs, sdk_runs = [], [], []
        for _ in range(RUNS):
            pack_runs.append(_pack_run(sandbox, config, mailboxes))
            naive_runs.append(_naive_run(sandbox, config, mailboxes))
            sdk_runs.append(_naive_run(sandbox, config, mailboxes, "sdk_search"))
        # The same search limited to the Inbox: no folder list per mailbox to name folders.
        inbox_only = _pack_run(sandbox, config, mailboxes, folder="inbox")
    pack_seconds = _median(pack_runs, "seconds")
    naive_seconds = _median(naive_runs, "seconds")
    speedup = round(naive_seconds / pack_seconds, 2)
    failed = max(run["failed_mailboxes"] for run in pack_runs)
    return {
        "mailboxes": len(mailboxes),
        "seed": SEED,
        "runs": RUNS,
        "pack": {
            "seconds_median": pack_seconds,
            "seconds_runs": [round(r["seconds"], 3) for r in pack_runs],
            "requests": pack_runs[-1]["requests"],
            "identity_requests": pack_runs[-1]["identity_requests"],
            "messages": pack_runs[-1]["messages"],
            "failed_mailboxes": failed,
            "cpu_seconds_median": _median(pack_runs, "cpu_seconds"),
            "sandbox_cpu_seconds_median": _median(pack_runs, "sandbox_cpu_seconds"),
        },
        "pack_inbox_only": {
            "seconds": round(inbox_only["seconds"], 3),
            "requests": inbox_only["requests"],
            "identity_requests": inbox_only["identity_requests"],
            "messages": inbox_only["messages"],
            "failed_mailboxes": inbox_only["failed_mailboxes"],
            "sandbox_cpu_seconds": round(inbox_only["sandbox_cpu_seconds"], 2),
        },
        "naive": {
            "seconds_median": naive_seconds,
            "seconds_runs": [round(r["seconds"], 3) for r in naive_runs],
            "requests": naive_runs[-1]["requests"],
            "messages": naive_runs[-1]["messages"],
            "failed_mailboxes": max(run["failed_mailboxes"] for run in naive_runs),
            "cpu_seconds_median": _median(naive_runs, "cpu_seconds"),
            "sandbox_cpu_seconds_median": _median(naive_runs, "sandbox_cpu_seconds"),
        },
        "sdk_async": {
            "seconds_median": _median(sdk_runs, "seconds"),
            "seconds_runs": [round(r["seconds"], 3) for r in sdk_runs],
            "requests": sdk_runs[-1]["requests"],
            "messages": sdk_runs[-1]["messages"],
            "failed_mailboxes": max(run["failed_mailboxes"] for run in sdk_runs),
            "cpu_seconds_median": _median(sdk_runs, "cpu_seconds"),
            "sandbox_cpu_seconds_median": _median(sdk_runs, "sandbox_cpu_seconds"),
            "in_flight": SDK_IN_FLIGHT,
        },
        "speedup_vs_sdk": round(_median(sdk_runs, "seconds") / pack_seconds, 2),
        "target_speedup_vs_sdk": TARGET_SPEEDUP_VS_SDK,
        "speedup": speedup,
        "target_speedup": TARGET_SPEEDUP,
        "target_met": speedup >= TARGET_SPEEDUP and failed == 0,
    }


# Throttling rehearsal: per app and mailbox 1 request a second instead of Outlook's 10,000 per
# 10 minutes, so every mailbox's second request (its folder listing) is answered 429.
LOWERED_LIMIT = "4:1:1"


def _throttled_run(workdir: Path, name: str, **limits: Any) -> dict[str, Any]:
    with start_sandbox(seed=SEED, latency_ms=50, throttle="microsoft", **limits) as sandbox:
        mailboxes = _mailboxes(sandbox)
        config = _config(sandbox, workdir, name)
        run_action("get_out_of_office", config, {"mailbox": mailboxes[0]}).check()  # token
        sandbox.clear_requests()
        run = _pack_run(sandbox, config, mailboxes)
    meta = run["meta"]
    return {
        "seconds": round(run["seconds"], 3),
        "requests": run["requests"],
        "messages": run["messages"],
        "failed_mailboxes": run["failed_mailboxes"],
        "sandbox_cpu_seconds": round(run["sandbox_cpu_seconds"], 2),
        "throttled_responses": run["throttled_responses"],
        "meta_throttled": meta.get("throttled"),
        "meta_throttle_wait_seconds": meta.get("throttle_wait_seconds"),
        "meta_retries": meta.get("retries"),
        "warnings": run["warnings"],
        "target_met": run["failed_mailboxes"] == 0,
    }


def throttled(workdir: Path) -> dict[str, Any]:
    """The pack against Microsoft's limits (``--throttle microsoft``), then against a lowered
    per-mailbox budget that answers 429 for real: no mailbox may fail, the waits are reported."""
    result = _throttled_run(workdir, "fanout-throttled")
    lowered = _throttled_run(workdir, "fanout-lowered", graph_mailbox_limit=LOWERED_LIMIT)
    result["lowered"] = {**lowered, "graph_mailbox_limit": LOWERED_LIMIT}
    result["target_met"] = result["target_met"] and lowered["target_met"]
    return result
