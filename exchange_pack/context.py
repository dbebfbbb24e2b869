"""What an action's ``run`` gets besides its inputs: the lazy session, counters, progress."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from .config import ConnectionConfig
from .envelope import ActionResult
from .session import Session, SessionStats

__all__ = ["ActionContext", "RunFunction"]


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


RunFunction = Callable[[dict, ConnectionConfig, ActionContext], ActionResult]
