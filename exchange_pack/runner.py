"""The one action runner: raw inputs in, validation, the action's ``run``, one envelope out.

Every way into the pack ends here: the command line and ``actions/<id>.py`` (through
:mod:`exchange_pack.runtime`) and each platform adapter in :mod:`exchange_pack.platforms`
(through :func:`invoke`, in process). Nothing here prints: the caller decides where the envelope
goes.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
import warnings
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict

from .config import SECRET_KEYS
from .context import ActionContext, RunFunction
from .envelope import (
    ActionResult,
    Scrubber,
    base_meta,
    failure_envelope,
    stderr_line,
    success_envelope,
    url_secrets,
)
from .errors import ConfigError, ExchangePackError, InputError, InternalError, TransientError
from .inputs import RawInput, merge_parameter_sources, validate_config, validate_parameters
from .manifest import load_action_module, load_manifest
from .schema_check import schema_errors
from .session import SessionStats

__all__ = ["Outcome", "execute", "invoke", "load_run_function"]

log = logging.getLogger("exchange_pack")


class Outcome(BaseModel):
    """What one run of an action produced: the envelope (scrubbed), its exit code, stderr line."""

    model_config = ConfigDict(frozen=True)

    action: str
    envelope: dict[str, Any]
    exit_code: int
    stderr: str = ""  # "ERROR <CODE>: message\n" on failure, "" on success

    @property
    def ok(self) -> bool:
        """Whether the action succeeded (exit 0)."""
        return self.exit_code == 0

    @property
    def data(self) -> Any:
        """The envelope's ``data`` (None on failure)."""
        return self.envelope.get("data")


@functools.lru_cache(maxsize=64)
def load_run_function(action_id: str) -> RunFunction:
    """The ``run(params, config, ctx)`` of ``actions/<id>.py`` (imported once per process)."""
    try:
        spec = load_manifest().action(action_id)
    except ConfigError as exc:
        raise InputError(exc.message, hint="Run `exchange-pack actions` for the list.") from None
    return load_action_module(spec).run


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
def _logging_to(stream: TextIO | None, level: str | None, scrubber: Scrubber) -> Iterator[None]:
    """Logs to ``stream`` only when a level is asked for; otherwise nothing, not even warnings."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    handler: logging.Handler
    if level and stream is not None:
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


def _known_secrets(config: Mapping[str, Any]) -> list[str]:
    return [str(v) for k, v in config.items() if k in SECRET_KEYS and v] + url_secrets(config)


def _check_output(action_id: str, result: Any) -> ActionResult:
    if not isinstance(result, ActionResult):
        raise InternalError(f"{action_id} returned {type(result).__name__}, not an ActionResult.")
    problems = schema_errors(f"{action_id}.output", result.data)
    if problems:
        raise InternalError(
            f"{action_id} produced data that does not match its output schema (a bug): "
            + "; ".join(problems[:3]),
            hint="Report this to the pack maintainers with the action's parameters.",
        )
    return result


def execute(
    action_id: str,
    raw: RawInput | None,
    *,
    run_fn: RunFunction | None = None,
    error: ExchangePackError | None = None,
    log_stream: TextIO | None = None,
    log_level: str | None = None,
    progress_stream: TextIO | None = None,
) -> Outcome:
    """Validates ``raw``, runs the action and returns the scrubbed envelope with its exit code.

    ``error`` is a failure found before the inputs could be read (a bad command line): the
    envelope then reports it. Never raises, whatever the action does.
    """
    started = time.monotonic()
    stats = SessionStats()
    scrubber = Scrubber()
    backend: str | None = None
    ctx: ActionContext | None = None
    result: ActionResult | None = None

    with _logging_to(log_stream, log_level, scrubber):
        if error is None and raw is not None:
            try:
                scrubber.add(_known_secrets(raw.config))
                config = validate_config(raw.config)
                backend = config.backend
                params = validate_parameters(action_id, raw.parameters)
                log.info("%s: input from %s, backend %s", action_id, raw.source, backend)
                run = run_fn or load_run_function(action_id)
                ctx = ActionContext(action_id, config, stats, progress_stream)
                result = _check_output(action_id, run(params, config, ctx))
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
        envelope: dict[str, Any] = {}
        if error is None and result is not None:
            envelope = success_envelope(action_id, result, stats.all_warnings(), meta)
            problems = schema_errors("envelope", envelope)
            if problems:
                error = InternalError(f"The envelope does not match its schema: {problems[0]}")
        if error is None and result is None:
            error = InternalError("The action was given no input.")
        if error is not None:
            envelope = failure_envelope(action_id, error, stats.all_warnings(), meta)
            log.info("%s failed: %s (exit %s)", action_id, error.code, error.exit_code)

    return Outcome(
        action=action_id,
        envelope=scrubber.value(envelope),
        exit_code=0 if error is None else error.exit_code,
        stderr="" if error is None else scrubber.text(stderr_line(error)),
    )


def invoke(
    action_id: str,
    parameters: Mapping[str, Any] | None,
    config: Mapping[str, Any] | None,
    *,
    source: str = "adapter",
    log_stream: TextIO | None = None,
    log_level: str | None = None,
) -> Outcome:
    """Runs an action in process from two mappings, as a platform adapter calls it.

    The mappings are taken as they are: the adapter removes the keys its platform injects;
    a key that is no parameter of the action is still refused (exit 64).
    """
    try:
        merged, sources = merge_parameter_sources(action_id, [(source, dict(parameters or {}))])
    except ExchangePackError as exc:
        return execute(action_id, None, error=exc)
    raw = RawInput(config=dict(config or {}), parameters=merged, source=source, sources=sources)
    return execute(action_id, raw, log_stream=log_stream, log_level=log_level)
