"""StackStorm: a python-script action's ``run(**kwargs)`` and pack config onto the one runner.

st2 passes every declared parameter as a keyword argument (``None`` for an optional one left
unset) and the pack config as ``self.config``; a ``(status, result)`` tuple makes a ``False``
status a failed execution with ``result`` as its output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..runner import invoke

SOURCE = "stackstorm"


def _set(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """The values given: st2 passes None for an unset optional parameter (or config key)."""
    return {k: v for k, v in (values or {}).items() if v is not None}


def run_action(
    action_id: str, kwargs: Mapping[str, Any], config: Mapping[str, Any] | None
) -> tuple[bool, dict[str, Any]]:
    """Runs ``action_id`` in process; ``(ok, envelope)`` as st2's python runner expects."""
    outcome = invoke(action_id, _set(kwargs), _set(config), source=SOURCE)
    return outcome.ok, outcome.envelope
