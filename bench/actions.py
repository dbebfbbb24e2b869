"""Runs pack actions as separate processes with the stdin contract, as an automation engine does.

Each run records what a benchmark needs: the envelope, wall time, the process's spawn time on
the wall clock (to compare with the sandbox log's ``ts``) and its peak RSS (``wait4`` rusage).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from exchange_sandbox.process import CA_ENV_VARS

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class ActionRun:
    """One finished action process."""

    action: str
    exit_code: int
    envelope: dict[str, Any]
    stderr: str
    spawned_at: float
    seconds: float
    cpu_seconds: float
    peak_rss_bytes: int

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and bool(self.envelope.get("ok"))

    def check(self) -> ActionRun:
        """This run, or RuntimeError naming the error when the action failed."""
        if not self.ok:
            error = self.envelope.get("error") or {}
            raise RuntimeError(
                f"{self.action} failed (exit {self.exit_code}): {error.get('code')}: "
                f"{error.get('message')} {self.stderr.strip()}"
            )
        return self

    @property
    def data(self) -> dict[str, Any]:
        """The envelope's data (the action must have succeeded)."""
        return self.check().envelope["data"]


def action_env() -> dict[str, str]:
    """The parent's environment without the CA overrides that would replace the sandbox CA."""
    env = {k: v for k, v in os.environ.items() if k not in CA_ENV_VARS}
    env.pop("EXCHANGE_CONFIG", None)
    return env


@dataclass
class ProcessRun:
    """One finished process: its output, when it was spawned, how long and how big it ran."""

    exit_code: int
    stdout: bytes
    stderr: str
    spawned_at: float
    seconds: float
    cpu_seconds: float
    peak_rss_bytes: int


def run_process(argv: list[str], document: dict[str, Any]) -> ProcessRun:
    """Runs ``argv`` with ``document`` as JSON on stdin, in the repository, without CA vars."""
    spawned_at = time.time()
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=action_env(),
        cwd=ROOT,
    )
    stdout, stderr = _exchange(process, json.dumps(document).encode())
    # wait4 rather than wait: the child's own peak RSS comes with its exit status.
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return ProcessRun(
        exit_code=process.returncode,
        stdout=stdout,
        stderr=stderr.decode(errors="replace"),
        spawned_at=spawned_at,
        seconds=time.perf_counter() - started,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_bytes=usage.ru_maxrss * 1024,  # Linux reports kilobytes
    )


def run_action(
    action: str,
    config: dict[str, Any],
    params: dict[str, Any],
    *,
    python_flags: tuple[str, ...] = (),
) -> ActionRun:
    """``python actions/<action>.py`` with ``{"config", "parameters"}`` on stdin."""
    argv = [sys.executable, *python_flags, str(ROOT / "actions" / f"{action}.py")]
    done = run_process(argv, {"config": config, "parameters": params})
    return ActionRun(
        action=action,
        exit_code=done.exit_code,
        envelope=json.loads(done.stdout) if done.stdout.strip() else {},
        stderr=done.stderr,
        spawned_at=done.spawned_at,
        seconds=done.seconds,
        cpu_seconds=done.cpu_seconds,
        peak_rss_bytes=done.peak_rss_bytes,
    )


def _exchange(process: subprocess.Popen[bytes], document: bytes) -> tuple[bytes, bytes]:
    """Feeds stdin and drains stdout/stderr without reaping the child."""
    assert process.stdin and process.stdout and process.stderr
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: IO[bytes]) -> None:
        chunks[name] = stream.read()
        stream.close()

    readers = [
        threading.Thread(target=drain, args=(name, stream))
        for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))
    ]
    for reader in readers:
        reader.start()
    process.stdin.write(document)
    process.stdin.close()
    for reader in readers:
        reader.join()
    return chunks["stdout"], chunks["stderr"]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
