"""The EWS server version: probed once per endpoint, then read from a file beside the token cache.

exchangelib needs the server build before its first request (it picks schema versions and
features from it) and otherwise guesses it with an extra ConvertId round trip in every process.
The pack probes once and keeps ``{endpoint: {"build", "api_version"}}`` in ``ews-versions.json``
next to the msal token cache (memory only when ``token_cache_path`` is ``none``).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from exchangelib.version import Build, Version

from ..config import ConnectionConfig
from ..token_cache import DISABLED, default_cache_dir

FILE_NAME = "ews-versions.json"


def cache_path(config: ConnectionConfig) -> Path | None:
    """``ews-versions.json`` in the token cache's folder, or None when caching is off."""
    setting = config.token_cache_path
    if setting is not None and setting.strip().lower() == DISABLED:
        return None
    folder = Path(setting).expanduser().parent if setting else default_cache_dir()
    return folder / FILE_NAME


def load(config: ConnectionConfig) -> Version | None:
    """The cached version of ``config.ews_endpoint``, or None."""
    path = cache_path(config)
    entry = _read(path).get(config.ews_endpoint) if path else None
    if not isinstance(entry, dict):
        return None
    try:
        build = Build(*(int(part) for part in str(entry["build"]).split(".")))
        return Version(build=build, api_version=str(entry["api_version"]))
    except (KeyError, TypeError, ValueError):
        return None


def save(config: ConnectionConfig, version: Version) -> None:
    """Records the probed version (best effort: an unwritable folder only costs a probe)."""
    path = cache_path(config)
    if path is None or version.build is None:
        return
    entries = _read(path)
    entries[config.ews_endpoint] = {"build": str(version.build), "api_version": version.api_version}
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entries, handle, indent=1, sort_keys=True)
        os.replace(temp, path)


def _read(path: Path | None) -> dict:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
