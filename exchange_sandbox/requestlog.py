"""The request log the admin API serves: one entry per answered request, admin calls excluded."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from .web import Request, Response

LOG_LIMIT = 200_000  # entries kept; a benchmark run stays well below, memory stays bounded


class RequestLog:
    """Thread-safe, bounded list of ``{method, path, status, duration_ms, app, mailbox,
    operation, ts}`` entries (``ts``: arrival, epoch seconds)."""

    def __init__(self, limit: int = LOG_LIMIT) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, request: Request, response: Response, duration_ms: float) -> None:
        """Appends the entry for one answered (or dropped: status 0) request."""
        entry = {
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "duration_ms": round(duration_ms, 3),
            "app": request.app,
            "mailbox": request.mailbox,
            "operation": request.operation,
            # Arrival on the wall clock, so a benchmark can compare it with a process's spawn.
            "ts": round(time.time() - duration_ms / 1000, 6),
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Empties the log."""
        with self._lock:
            self._entries.clear()
