"""Sumo Logic Cloud SOAR: an Open Integration Framework script runs one action in its container.

The framework starts the script (``python <file>``) with the integration's connection fields
and the action's fields as environment variables named by field id (and ``proxy_url`` when a
proxy is set), gives it nothing on stdin, reads stdout as the JSON result and treats anything on
stderr, or a non-zero exit, as failure. That is the pack's command-line contract with an empty
stdin, so this adapter only fixes stdin and hands over. ``--field value`` arguments, as Sumo's
``EnvDefault`` argparse example accepts, are honoured too; one given both ways differently is
exit 64. Variables the framework adds for other uses (a trigger's ``token``, ``cloudsoarurl``)
name no parameter or connection key and are never read. :func:`daemon` is the ingestion hook.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from ..errors import ExchangePackError
from ..ingest_hooks import SEVERITY, HookFailed, IngestResult, ingestion_spec, run_ingest
from ..inputs import ParsedArgs, read_input
from ..manifest import load_manifest
from ..runner import execute
from ..runtime import emit, run_action

SOURCE = "cloud-soar"


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


def daemon(
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The OIF Daemon action: polls (``poll_mailbox``, via the runner) and prints the incidents.

    A Daemon prints a JSON array; the platform runs each object through the daemon's rules
    (filter, then "create incident from template"...) and passes the output field the rule
    names to the next run. Every object carries ``checkpoint``, and the array always ends with
    a ``kind: checkpoint`` object, so a run that found nothing still hands the checkpoint on:
    rules filter on ``kind`` equal to ``incident`` and pass ``checkpoint`` to the next run.
    """
    environ = os.environ if environ is None else environ
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    manifest = load_manifest()
    spec = ingestion_spec(manifest)
    try:
        raw = read_input(ParsedArgs(), None, environ, spec.action)
    except ExchangePackError as exc:
        return emit(execute(spec.action, None, error=exc), stdout, stderr)
    params = dict(raw.parameters)
    checkpoint = params.pop(spec.checkpoint, None)
    params[SEVERITY] = environ.get(SEVERITY) or None
    try:
        result = run_ingest(manifest, params, raw.config, checkpoint, source=SOURCE)
    except HookFailed as failed:
        return emit(failed.outcome, stdout, stderr)
    stdout.write(json.dumps(daemon_objects(result), default=str) + "\n")
    return 0


def daemon_objects(result: IngestResult) -> list[dict[str, Any]]:
    """The Daemon's output array: one flat object per incident, then the checkpoint object."""
    objects: list[dict[str, Any]] = [
        {
            **incident.fields,
            "kind": "incident",
            "name": incident.name,
            "severity": incident.severity,
            "occurred": incident.occurred,
            "source_id": incident.source_id,
            "redelivered": incident.redelivered,
            "checkpoint": result.checkpoint,
        }
        for incident in result.incidents
    ]
    objects.append(
        {"kind": "checkpoint", "checkpoint": result.checkpoint, "count": len(result.incidents)}
    )
    return objects
