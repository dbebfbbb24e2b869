"""Stand-in for XSOAR's ``demistomock``: the call XSOAR makes, the entries it gets back.

Inside XSOAR the server provides ``demisto.command()``, ``params()`` and ``args()`` and
collects what ``demisto.results()`` receives; here a test sets the call with :func:`set_call`
and reads :data:`entries`.
"""

from __future__ import annotations

import copy
from typing import Any

_call: dict[str, Any] = {"command": "", "params": {}, "args": {}}
entries: list[Any] = []
logs: list[str] = []
files: dict[str, bytes] = {}  # FileID -> the bytes fileResult stored
fetched: list[list[dict[str, Any]]] = []  # each demisto.incidents() call of the last run
last_run: dict[str, Any] = {}  # what setLastRun stored; XSOAR keeps it between fetches
calls: list[str] = []  # incidents / setLastRun, in the order the script made them


def set_call(command: str, params: dict[str, Any], args: dict[str, Any]) -> None:
    """The next run's command, instance parameters and command arguments."""
    _call.update(command=command, params=copy.deepcopy(params), args=copy.deepcopy(args))
    entries.clear()
    logs.clear()
    files.clear()
    fetched.clear()
    calls.clear()


def command() -> str:
    return _call["command"]


def params() -> dict[str, Any]:
    return copy.deepcopy(_call["params"])


def args() -> dict[str, Any]:
    return copy.deepcopy(_call["args"])


def results(entry: Any) -> None:
    """One entry, or a list of entries (each its own war-room entry)."""
    if isinstance(entry, list):
        entries.extend(entry)
    else:
        entries.append(entry)


def debug(message: str, *_: Any) -> None:
    logs.append(str(message))


info = error = debug


def getLastRun() -> dict[str, Any]:
    return copy.deepcopy(last_run)


def setLastRun(value: dict[str, Any]) -> None:
    """XSOAR stores it for the next fetch (a JSON object)."""
    calls.append("setLastRun")
    last_run.clear()
    last_run.update(copy.deepcopy(value))


def incidents(found: list[dict[str, Any]]) -> None:
    calls.append("incidents")
    fetched.append(copy.deepcopy(found))
