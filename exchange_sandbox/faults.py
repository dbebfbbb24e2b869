"""Fault injection for the admin API: answer chosen requests with an error, a delay, a dropped
connection or a throttling response, by count or by probability.
"""

from __future__ import annotations

import json
import random
import re
import threading
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from .web import Response


class FaultSpecError(ValueError):
    """A fault specification the admin API cannot accept."""


@dataclass
class Fault:
    """One injected fault; ``remaining`` None means it fires on every match (by probability)."""

    id: str
    method: str | None
    path: re.Pattern[str] | None
    status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    remaining: int | None = 1
    probability: float | None = None
    delay_ms: int = 0
    reset: bool = False
    throttle: float | None = None
    body_match: re.Pattern[str] | None = None  # searched in the request body (an EWS operation)

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Fault:
        """Builds a fault from the admin API's JSON (``method``, ``path`` regex, ``status``...)."""
        if not isinstance(spec, dict):
            raise FaultSpecError("a fault is a JSON object")
        known = {
            "method",
            "path",
            "status",
            "body",
            "headers",
            "count",
            "probability",
            "delay_ms",
            "reset",
            "throttle",
            "body_match",
        }
        unknown = sorted(set(spec) - known)
        if unknown:
            raise FaultSpecError(f"unknown fault fields: {', '.join(unknown)}")
        try:
            path = re.compile(spec["path"]) if spec.get("path") else None
        except re.error as exc:
            raise FaultSpecError(f"path is not a valid regex: {exc}") from exc
        try:
            body_match = re.compile(spec["body_match"]) if spec.get("body_match") else None
        except re.error as exc:
            raise FaultSpecError(f"body_match is not a valid regex: {exc}") from exc
        status = spec.get("status")
        if status is not None and not (isinstance(status, int) and 100 <= status <= 599):
            raise FaultSpecError("status must be an HTTP status code")
        probability = spec.get("probability")
        if probability is not None and not (
            isinstance(probability, int | float) and 0 <= probability <= 1
        ):
            raise FaultSpecError("probability must be between 0 and 1")
        count = spec.get("count")
        if count is not None and not (isinstance(count, int) and count > 0):
            raise FaultSpecError("count must be a positive integer")
        throttle = spec.get("throttle")
        if throttle is not None and not (isinstance(throttle, int | float) and throttle >= 0):
            raise FaultSpecError("throttle is the Retry-After in seconds")
        reset = bool(spec.get("reset", False))
        delay_ms = int(spec.get("delay_ms") or 0)
        if status is None and not reset and throttle is None and delay_ms <= 0:
            raise FaultSpecError("give status, reset, throttle or delay_ms")
        body = spec.get("body")
        headers = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
        if isinstance(body, dict | list):
            raw = json.dumps(body).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        elif isinstance(body, str):
            raw = body.encode("utf-8")
        elif body is None and status is not None and status >= 400:
            raw = json.dumps(_default_error(status)).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        else:
            raw = b""
        method = spec.get("method")
        return cls(
            id=str(uuid.uuid4()),
            method=None if method in (None, "*") else str(method).upper(),
            path=path,
            status=status,
            body=raw,
            headers=headers,
            # Without count or probability a fault fires once; with only a probability, forever.
            remaining=count if count is not None else (None if probability is not None else 1),
            probability=probability,
            delay_ms=delay_ms,
            reset=reset,
            throttle=throttle,
            body_match=body_match,
        )

    def matches(self, method: str, path: str, body: bytes = b"") -> bool:
        """Same method (or any), the path regex found anywhere in the path and, when given,
        the body regex anywhere in the body."""
        if self.method is not None and self.method != method.upper():
            return False
        if self.body_match is not None and not self.body_match.search(
            body.decode("utf-8", "replace")
        ):
            return False
        return self.path is None or self.path.search(path) is not None

    def response(self) -> Response | None:
        """The injected answer; status 0 drops the connection; None lets the request through."""
        if self.reset:
            return Response(status=0)
        if self.status is None:
            return None
        return Response(self.status, dict(self.headers), self.body)

    def describe(self) -> dict[str, Any]:
        """The fault as the admin API lists it."""
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path.pattern if self.path else None,
            "status": self.status,
            "remaining": self.remaining,
            "probability": self.probability,
            "delay_ms": self.delay_ms,
            "reset": self.reset,
            "throttle": self.throttle,
            "body_match": self.body_match.pattern if self.body_match else None,
        }


def _default_error(status: int) -> dict[str, Any]:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return {"error": {"code": phrase.replace(" ", ""), "message": "Injected by the sandbox."}}


class FaultInjector:
    """The active faults, consulted once per request in injection order."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._rng = rng or random.Random()

    def add(self, fault: Fault) -> Fault:
        """Activates ``fault``."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Removes every fault."""
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        """The active faults, described."""
        with self._lock:
            return [f.describe() for f in self._faults]

    def take(self, method: str, path: str, body: bytes = b"") -> Fault | None:
        """The first matching fault that fires for this request (spending one of its count)."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path, body):
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None
