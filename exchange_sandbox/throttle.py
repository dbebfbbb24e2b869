"""Microsoft's service limits for mail, per app and mailbox (``--throttle microsoft``).

Graph (Outlook service): 4 concurrent requests and 10,000 requests per 10 minutes for each
app + mailbox pair (Graph throttling limits, "Outlook service limits"). EWS in Exchange Online:
the default throttling policy's ``EWSMaxConcurrency`` of 27 per mailbox, plus the same rate.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limit:
    """One budget: concurrent requests and requests per sliding window."""

    concurrency: int
    window_requests: int
    window_seconds: float
    concurrency_retry_after: float = 1.0

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``CONCURRENT:REQUESTS:SECONDS``, e.g. ``4:10000:600`` (Outlook's own limits)."""
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError("give CONCURRENT:REQUESTS:SECONDS, e.g. 4:10000:600")
        concurrency, requests, seconds = int(parts[0]), int(parts[1]), float(parts[2])
        if concurrency < 1 or requests < 1 or seconds <= 0:
            raise ValueError("each of CONCURRENT:REQUESTS:SECONDS must be positive")
        return cls(concurrency, requests, seconds)


GRAPH_OUTLOOK = Limit(concurrency=4, window_requests=10_000, window_seconds=600)
EWS_EXCHANGE_ONLINE = Limit(concurrency=27, window_requests=10_000, window_seconds=600)


@dataclass
class _Budget:
    active: int = 0
    recent: deque[float] = field(default_factory=deque)


class Throttler:
    """Counts requests per (audience, app, mailbox) key; answers how long to back off."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._budgets: dict[tuple[str, str, str], _Budget] = {}
        self._lock = threading.Lock()

    def acquire(self, key: tuple[str, str, str], limit: Limit) -> float | None:
        """None when the request may run (the caller then owes a ``release``), else seconds."""
        now = self._clock()
        with self._lock:
            budget = self._budgets.setdefault(key, _Budget())
            horizon = now - limit.window_seconds
            while budget.recent and budget.recent[0] <= horizon:
                budget.recent.popleft()
            if len(budget.recent) >= limit.window_requests:
                return max(1.0, math.ceil(budget.recent[0] - horizon))
            if budget.active >= limit.concurrency:
                return limit.concurrency_retry_after
            budget.active += 1
            budget.recent.append(now)
            return None

    def release(self, key: tuple[str, str, str]) -> None:
        """Ends one concurrent request of ``key``."""
        with self._lock:
            budget = self._budgets.get(key)
            if budget is not None and budget.active > 0:
                budget.active -= 1

    def clear(self) -> None:
        """Forgets every budget (reset, or limits switched off)."""
        with self._lock:
            self._budgets.clear()
