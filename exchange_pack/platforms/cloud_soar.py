"""Sumo Logic Cloud SOAR: an Open Integration Framework script runs one action in its container.

The framework starts the script (``python <file>``) with the integration's connection fields
and the action's fields as environment variables named by field id (and ``proxy_url`` when a
proxy is set), gives it nothing on stdin, reads stdout as the JSON result and treats anything on
stderr, or a non-zero exit, as failure. That is the pack's command-line contract with an empty
stdin, so this adapter only fixes stdin and hands over. ``--field value`` arguments, as Sumo's
``EnvDefault`` argparse example accepts, are honoured too; one given both ways differently is
exit 64. Variables the framework adds for other uses (a trigger's ``token``, ``cloudsoarurl``)
name no parameter or connection key and are never read.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from ..runtime import run_action


def run(
    action_id: str,
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Runs ``action_id`` the way the framework runs a script; returns the exit code."""
    return run_action(
        action_id,
        argv=list(sys.argv[1:] if argv is None else argv),
        stdin=io.StringIO(""),  # the framework gives none: never wait on the real stdin
        environ=os.environ if environ is None else environ,
        stdout=stdout,
        stderr=stderr,
    )
