"""Case 5: peak RSS of download_mail_as_eml and get_attachments on a 100 MiB attachment.

The message is made with the pack's own send_email (Graph upload session, 10 MiB random
bytes at a time from disk) from alice to bob, on a tenant without latency so setup stays short;
then each action runs as its own process on both backends at 50 ms latency, and its peak RSS
comes from ``wait4``. A small read action gives the interpreter's baseline.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from exchange_sandbox.process import Sandbox

from .actions import run_action

ATTACHMENT_BYTES = 100 * 1024 * 1024
SUBJECT = "bench: 100 MiB attachment"
RECIPIENT = "bob@contoso.com"
TARGET_GRAPH_BYTES = 100 * 1024 * 1024
BACKENDS = ("graph", "ews")
ACTIONS = ("download_mail_as_eml", "get_attachments")
MIB = 1024 * 1024


def write_random_file(path: Path, size: int) -> str:
    """``size`` incompressible bytes; returns their SHA-256."""
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        for _ in range(size // MIB):
            chunk = os.urandom(MIB)
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


def _config(sandbox: Sandbox, backend: str, workdir: Path) -> dict[str, Any]:
    return sandbox.pack_config(
        backend=backend,
        token_cache_path=str(workdir / "token-cache.json"),
        output_dir=str(workdir / f"output-{backend}"),
        # 100 MiB through a sandbox on a shared, busy machine: 30 s per request ran out once.
        timeout_seconds=300,
    )


def create_large_message(sandbox: Sandbox, workdir: Path) -> tuple[str, str]:
    """Sends the message through the pack; returns its internet_message_id and file SHA-256."""
    source = workdir / "evidence.bin"
    sha256 = write_random_file(source, ATTACHMENT_BYTES)
    config = _config(sandbox, "graph", workdir)
    sent = run_action(
        "send_email",
        config,
        {
            "mailbox": "alice@contoso.com",
            "to": [RECIPIENT],
            "subject": SUBJECT,
            "body": "A 100 MiB attachment for the memory benchmark.",
            "attachment_paths": [str(source)],
        },
    ).data
    source.unlink()
    return sent["message"]["internet_message_id"], sha256


def measure(sandbox: Sandbox, workdir: Path) -> dict[str, Any]:
    """Creates the message, then one process per (backend, action); peak RSS and checks."""
    sandbox.settings(latency_ms=0)
    internet_message_id, sha256 = create_large_message(sandbox, workdir)
    sandbox.settings(latency_ms=50)
    params = {
        "mailbox": RECIPIENT,
        "internet_message_id": internet_message_id,
        "max_size_bytes": 150 * MIB,
    }
    rows = []
    for backend in BACKENDS:
        config = _config(sandbox, backend, workdir)
        baseline = run_action("get_out_of_office", config, {"mailbox": RECIPIENT}).check()
        rows.append(_row(backend, "get_out_of_office (baseline)", baseline.peak_rss_bytes, None))
        for action in ACTIONS:
            run = run_action(action, config, params).check()
            rows.append(_row(backend, action, run.peak_rss_bytes, _file_check(run.data, sha256)))
            _remove_outputs(run.data)
    graph_peaks = [r["peak_rss_mib"] for r in rows if r["backend"] == "graph" and r["checked"]]
    return {
        "attachment_bytes": ATTACHMENT_BYTES,
        "rows": rows,
        "target_graph_mib": TARGET_GRAPH_BYTES // MIB,
        "target_met": max(graph_peaks) < TARGET_GRAPH_BYTES / MIB,
    }


def _row(backend: str, action: str, peak: int, checked: bool | None) -> dict[str, Any]:
    return {
        "backend": backend,
        "action": action,
        "peak_rss_mib": round(peak / MIB, 1),
        "checked": checked,
    }


def _files(data: dict[str, Any]) -> list[dict[str, Any]]:
    if "attachments" in data:
        return [a["file"] for a in data["attachments"] if a.get("file")]
    return [data["file"]]


def _file_check(data: dict[str, Any], sha256: str) -> bool:
    """The attachment arrived whole: its SHA-256 (or, for the EML, a size above it)."""
    files = _files(data)
    if "attachments" in data:
        return any(f["sha256"] == sha256 for f in files)
    return files[0]["size"] > ATTACHMENT_BYTES


def _remove_outputs(data: dict[str, Any]) -> None:
    for file in _files(data):
        Path(file["path"]).unlink(missing_ok=True)
