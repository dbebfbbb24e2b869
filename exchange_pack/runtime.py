"""The action contract on the command line: ``python actions/<id>.py`` and ``exchange-pack run``.

Every ``actions/<id>.py`` ends with ``exit_process(main())`` where ``main`` calls
:func:`run_action` with the script's ``run(params, config, ctx)``. Inputs come from stdin JSON,
``--flags`` and the environment (:func:`exchange_pack.inputs.read_input`);
:func:`exchange_pack.runner.execute` runs the action; stdout gets exactly one JSON envelope
(indented on a terminal or with ``--pretty``, one line otherwise); stderr is empty on success
and one ``ERROR <CODE>: message`` line on failure; the exit code is sysexits.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, TextIO

from .context import ActionContext, RunFunction
from .envelope import ActionResult
from .errors import ExchangePackError
from .inputs import LOG_LEVEL_ENV, ParsedArgs, parse_argv, read_input
from .runner import Outcome, execute
from .usage import help_text

__all__ = ["ActionContext", "ActionResult", "RunFunction", "report_failure", "run_action"]


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _log_level(args: ParsedArgs, environ: Mapping[str, str]) -> str | None:
    level = args.log_level or environ.get(LOG_LEVEL_ENV) or None
    if level and level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        return "INFO"
    return level.upper() if level else None


def render_envelope(envelope: dict[str, Any], pretty: bool) -> str:
    """The envelope as stdout text: indented for a person, one compact line for an engine."""
    if pretty:
        return json.dumps(envelope, default=str, indent=2, ensure_ascii=False) + "\n"
    return json.dumps(envelope, default=str) + "\n"


def emit(outcome: Outcome, stdout: TextIO, stderr: TextIO, pretty: bool = False) -> int:
    """Prints the envelope (and the stderr line on failure); returns the exit code."""
    stdout.write(render_envelope(outcome.envelope, pretty or _is_tty(stdout)))
    stdout.flush()
    if outcome.stderr:
        stderr.write(outcome.stderr)
        stderr.flush()
    return outcome.exit_code


def run_action(
    action_id: str,
    run_fn: RunFunction | None = None,
    argv: Sequence[str] | None = None,
    stdin: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Runs one action under the contract and returns its exit code (sysexits)."""
    argv = sys.argv[1:] if argv is None else argv
    stdin = sys.stdin if stdin is None else stdin
    environ = os.environ if environ is None else environ
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr

    error: ExchangePackError | None = None
    try:
        args = parse_argv(argv)
    except ExchangePackError as exc:
        args, error = ParsedArgs(), exc
    if args.help and error is None:
        stdout.write(help_text(action_id))
        return 0
    raw = None
    if error is None:
        try:
            raw = read_input(args, stdin, environ, action_id)
        except ExchangePackError as exc:
            error = exc
    outcome = execute(
        action_id,
        raw,
        run_fn=run_fn,
        error=error,
        log_stream=stderr,
        log_level=_log_level(args, environ),
        progress_stream=stderr,
    )
    return emit(outcome, stdout, stderr, args.pretty)


def exit_process(code: int) -> NoReturn:
    """Ends an action's own process with ``code`` once its envelope is out.

    What the action leaves behind is frozen first (``gc.freeze``), so the interpreter's shutdown
    does not walk it with the cycle collector: 30-60 ms of every action process, spent on
    nothing. Exit handlers and flushes still run; the pack closes its own files and sessions.
    For a process the pack owns only: an in-process caller (a platform, a test) keeps collecting.
    """
    gc.freeze()
    sys.exit(code)


def report_failure(
    action_id: str,
    error: ExchangePackError,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The contract's failure output for an action that could not even start."""
    return emit(execute(action_id, None, error=error), stdout or sys.stdout, stderr or sys.stderr)
