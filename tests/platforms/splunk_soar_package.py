"""Packages the generated Splunk SOAR app with the SDK's own build (``soarapps package build``).

The SDK's packager takes every dependency as a wheel from the app's ``uv.lock`` by URL, so the
pack's wheel is served from a PEP 503 index on loopback for the lock, as a private index would
serve it. (A module with a distinct name, so tests can import it.)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
FETCHES_AT_ONCE = 6
FETCH_TRIES = 4


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """``directory`` over HTTP on loopback; yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def pack_index(directory: Path) -> Path:
    """Builds the pack's wheel into ``directory`` with a PEP 503 page naming its sha256."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(directory),
         str(REPO_ROOT)],
        check=True,
    )  # fmt: skip
    [wheel] = directory.glob("exchange_pack-*.whl")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    page = directory / "simple" / "exchange-pack" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(f'<a href="../../{wheel.name}#sha256={digest}">{wheel.name}</a>\n')
    return wheel


def lock(app_dir: Path, index_url: str) -> None:
    """``uv lock`` with exchange-pack taken from ``index_url`` (everything else from PyPI)."""
    pyproject = app_dir / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + f'\n[[tool.uv.index]]\nname = "pack"\nurl = "{index_url}/simple"\nexplicit = true\n'
        + '\n[tool.uv.sources]\nexchange-pack = { index = "pack" }\n'
    )
    uv = Path(sys.executable).with_name("uv")
    subprocess.run(
        [str(uv), "lock", "--quiet", "--python", sys.executable], cwd=app_dir, check=True
    )


def _limited_fetch(fetch: Any) -> Any:
    # The SDK opens every wheel download at once with a 10 s connect timeout; on a network that
    # refuses that many connections some time out, so a few at a time, each tried again.
    gate: dict[str, asyncio.Semaphore] = {}

    async def limited(self: Any) -> bytes:
        semaphore = gate.setdefault("fetch", asyncio.Semaphore(FETCHES_AT_ONCE))
        async with semaphore:
            for attempt in range(FETCH_TRIES):
                try:
                    return await fetch(self)
                except Exception:
                    if attempt == FETCH_TRIES - 1:
                        raise
                    await asyncio.sleep(2)
        raise AssertionError("unreachable")

    return limited


def package(app_dir: Path, work: Path, output: Path) -> Path:
    """Locks ``app_dir`` and runs the SDK's ``package build`` into ``output`` (a .tgz)."""
    from soar_sdk.cli.package import cli as package_cli
    from soar_sdk.meta.dependencies import sources

    index = work / "index"
    index.mkdir(parents=True)
    pack_index(index)
    with serve(index) as url:
        lock(app_dir, url)
        original = sources.UvWheel.fetch
        sources.UvWheel.fetch = _limited_fetch(original)  # type: ignore[method-assign]
        try:
            package_cli.build(app_dir, output, None)
        finally:
            sources.UvWheel.fetch = original  # type: ignore[method-assign]
    return output
