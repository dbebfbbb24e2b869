"""Runs one action under the contract: read and validate input, call ``run``, print the envelope.

Every ``actions/<id>.py`` ends with ``sys.exit(main())`` where ``main`` calls :func:`run_action`
with the script's ``run(params, config, ctx)``. stdout gets exactly one JSON envelope; stderr is
empty on success and one ``ERROR <CODE>: message`` line on failure; the exit code is sysexits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from jsonschema import Draft202012Validator

from .config import SECRET_KEYS, ConnectionConfig
from .envelope import (
    ActionResult,
    Scrubber,
    base_meta,
    failure_envelope,
    stderr_line,
    success_envelope,
    url_secrets,
)
from .errors import ExchangePackError, InternalError, TransientError
from .inputs import (
    LOG_LEVEL_ENV,
    ParsedArgs,
    parse_argv,
    read_input,
    validate_config,
    validate_parameters,
)
from .manifest import load_schema, schema_validator
from .session import Session, SessionStats

__all__ = ["ActionContext", "ActionResult", "RunFunction", "report_failure", "run_action"]

log = logging.getLogger("exchange_pack")

RunFunction = Callable[[dict[str, Any], ConnectionConfig, "ActionContext"], ActionResult]


class ActionContext:
    """What ``run`` gets besides its inputs: the lazy session, counters, progress, warnings."""

    def __init__(
        self,
        action_id: str,
        config: ConnectionConfig,
        stats: SessionStats | None = None,
        progress_stream: TextIO | None = None,
    ) -> None:
        self.action_id = action_id
        self.config = config
        self.stats = stats or SessionStats()
        self._progress_stream = progress_stream
        self._progress_shown = False
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """The connection's Session, created on first use (no network until then)."""
        if self._session is None:
            self._session = Session(self.config, self.stats)
        return self._session

    @property
    def output_dir(self) -> Path:
        """The config's ``output_dir``, created when first asked for."""
        path = Path(self.config.output_dir).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def warn(self, text: str) -> None:
        """Adds a warning to the envelope."""
        self.stats.warn(text)

    def progress(self, done: int, total: int | None, text: str = "") -> None:
        """Shows progress on stderr, only when stderr is a terminal (never for the engine)."""
        stream = self._progress_stream
        if stream is None or not _is_tty(stream):
            return
        count = f"{done}/{total}" if total else str(done)
        stream.write(f"\r\x1b[2K[{self.action_id}] {count} {text}"[:200])
        stream.flush()
        self._progress_shown = True

    def close(self) -> None:
        """Ends the progress line and closes the session."""
        if self._progress_shown and self._progress_stream is not None:
            self._progress_stream.write("\r\x1b[2K")
            self._progress_stream.flush()
        if self._session is not None:
            self._session.close()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _ScrubbingFilter(logging.Filter):
    """Runs every log record through the scrubber before a handler formats it."""

    def __init__(self, scrubber: Scrubber) -> None:
        super().__init__()
        self.scrubber = scrubber

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrubber.text(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrubber.text(
                logging.Formatter().formatException(record.exc_info)
            )
            record.exc_info = None
        return True


@contextlib.contextmanager
def _logging_to(stream: TextIO, level: str | None, scrubber: Scrubber) -> Iterator[None]:
    """Logs to stderr only when asked; otherwise nothing (not even library warnings)."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    handler: logging.Handler
    if level:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(_ScrubbingFilter(scrubber))
        root.setLevel(getattr(logging, level.upper(), logging.INFO))
    else:
        handler = logging.NullHandler()  # stops logging's last-resort printer on stderr
    root.handlers = [handler]
    logging.captureWarnings(True)
    with warnings.catch_warnings():
        warnings.simplefilter("default" if level else "ignore")
        try:
            yield
        finally:
            logging.captureWarnings(False)
            root.setLevel(saved[0])
            root.handlers = saved[1]


def _log_level(args: ParsedArgs, environ: Mapping[str, str]) -> str | None:
    level = args.log_level or environ.get(LOG_LEVEL_ENV) or None
    if level and level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        return "INFO"
    return level.upper() if level else None


def _known_secrets(config: Mapping[str, Any]) -> list[str]:
    return [str(v) for k, v in config.items() if k in SECRET_KEYS and v] + url_secrets(config)


def _check_output(action_id: str, result: Any) -> ActionResult:
    if not isinstance(result, ActionResult):
        raise InternalError(f"{action_id} returned {type(result).__name__}, not an ActionResult.")
    problems = _schema_errors(schema_validator(f"{action_id}.output"), result.data)
    if problems:
        raise InternalError(
            f"{action_id} produced data that does not match its output schema (a bug): "
            + "; ".join(problems[:3]),
            hint="Report this to the pack maintainers with the action's parameters.",
        )
    return result


def _schema_errors(validator: Draft202012Validator, instance: Any) -> list[str]:
    # Paths, rule names and key names only: the values may hold mail content.
    return [
        f"{e.json_path}: {e.message}"
        if e.validator in ("required", "additionalProperties")
        else f"{e.json_path}: violates '{e.validator}'"
        for e in sorted(validator.iter_errors(instance), key=lambda e: e.json_path)
    ]


def _write(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()


def _help_text(action_id: str) -> str:
    schema = load_schema(f"{action_id}.input")
    lines = [f"usage: {action_id} [--config FILE] [--verbose|--debug] [--<parameter> VALUE ...]"]
    lines.append('       or one JSON document on stdin: {"config": {...}, "parameters": {...}}')
    lines.append("")
    lines.append(schema.get("description", ""))
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        flag = f"--{name}" + (" (required)" if name in required else "")
        lines.append(f"  {flag:32} {prop.get('description', '')}")
    return "\n".join(lines) + "\n"


def run_action(
    action_id: str,
    run_fn: RunFunction,
    argv: Sequence[str] | None = None,
    stdin: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Runs one action under the contract and returns its exit code (sysexits)."""
    started = time.monotonic()
    argv = sys.argv[1:] if argv is None else argv
    stdin = sys.stdin if stdin is None else stdin
    environ = os.environ if environ is None else environ
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    stats = SessionStats()
    scrubber = Scrubber()
    backend: str | None = None
    ctx: ActionContext | None = None
    error: ExchangePackError | None = None
    envelope: dict[str, Any]

    try:
        args = parse_argv(argv)
    except ExchangePackError as exc:
        args, error = ParsedArgs(), exc
    if args.help and error is None:
        _write(stdout, _help_text(action_id))
        return 0

    with _logging_to(stderr, _log_level(args, environ), scrubber):
        result: ActionResult | None = None
        if error is None:
            try:
                parameter_names = set(load_schema(f"{action_id}.input").get("properties", {}))
                raw = read_input(args, stdin, environ, parameter_names)
                scrubber.add(_known_secrets(raw.config))
                config = validate_config(raw.config)
                backend = config.backend
                params = validate_parameters(action_id, raw.parameters)
                log.info("%s: input from %s, backend %s", action_id, raw.source, backend)
                ctx = ActionContext(action_id, config, stats, stderr)
                result = _check_output(action_id, run_fn(params, config, ctx))
            except ExchangePackError as exc:
                error = exc
            except KeyboardInterrupt:
                error = TransientError("Interrupted before the action finished.")
            except Exception as exc:  # the contract allows no traceback
                log.debug("unexpected error in %s", action_id, exc_info=True)
                error = InternalError(
                    f"Unexpected internal error ({type(exc).__name__}).",
                    hint="Run again with --debug (or EXCHANGE_LOG_LEVEL=DEBUG) and report the log.",
                )
            finally:
                if ctx is not None:
                    with contextlib.suppress(Exception):
                        ctx.close()

        meta = base_meta(backend, (time.monotonic() - started) * 1000, stats.as_meta())
        if error is None and result is not None:
            envelope = success_envelope(action_id, result, stats.all_warnings(), meta)
            problems = _schema_errors(schema_validator("envelope"), envelope)
            if problems:
                error = InternalError(f"The envelope does not match its schema: {problems[0]}")
        if error is not None:
            envelope = failure_envelope(action_id, error, stats.all_warnings(), meta)
            log.info("%s failed: %s (exit %s)", action_id, error.code, error.exit_code)

    return _emit(envelope, error, scrubber, stdout, stderr)


def _emit(
    envelope: dict[str, Any],
    error: ExchangePackError | None,
    scrubber: Scrubber,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    """Prints the envelope (and the stderr line on failure); returns the exit code."""
    _write(stdout, json.dumps(scrubber.value(envelope), default=str) + "\n")
    if error is None:
        return 0
    _write(stderr, scrubber.text(stderr_line(error)))
    return error.exit_code


def report_failure(
    action_id: str,
    error: ExchangePackError,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The contract's failure output for an action that could not even start."""
    meta = base_meta(None, 0.0, SessionStats().as_meta())
    envelope = failure_envelope(action_id, error, [], meta)
    return _emit(envelope, error, Scrubber(), stdout or sys.stdout, stderr or sys.stderr)
