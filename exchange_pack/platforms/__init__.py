"""Platform adapters: each maps one SOAR's way of calling an action onto the one runner.

An adapter is one thin module: it takes the platform's call (environment variables, an argument
dict, keyword arguments), removes the keys that platform injects, calls
:func:`exchange_pack.runner.invoke` (or, for a process per call, the command-line runtime) and
hands the envelope back the platform's way. No action logic lives here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def without(values: Mapping[str, Any] | None, injected: Iterable[str]) -> dict[str, Any]:
    """``values`` less the keys a platform adds to every call (never the action's own keys)."""
    drop = set(injected)
    return {k: v for k, v in (values or {}).items() if k not in drop}
