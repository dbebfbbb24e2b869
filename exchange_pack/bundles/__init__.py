"""Platform bundles generated from the one source: ``integration.yaml``, ``schemas/``, ``logos/``.

``exchange-pack bundle <platform> --out DIR`` writes one platform's files; nothing in a bundle is
kept by hand. Each platform is a module here with ``build(manifest, out) -> list[Path]``; what
they share (fields from the schemas, the logo, file writing) is in :mod:`.common`.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from ..errors import InputError
from ..manifest import Manifest, load_manifest

# platform name -> module under exchange_pack.bundles
PLATFORMS: dict[str, str] = {
    "cloud-soar": "cloud_soar",
    "xsoar": "xsoar",
    "splunk-soar": "splunk_soar",
    "stackstorm": "stackstorm",
}


def available() -> list[str]:
    """The platforms whose generator this installation has."""
    found = []
    for name, module in PLATFORMS.items():
        if importlib.util.find_spec(f"{__name__}.{module}") is not None:
            found.append(name)
    return found


def build(platform: str, out: Path, manifest: Manifest | None = None) -> list[Path]:
    """Writes ``platform``'s bundle under ``out`` and returns the files written."""
    if platform not in available():
        raise InputError(
            f"Unknown platform {platform!r}.",
            hint=f"One of: {', '.join(available())}.",
        )
    module = importlib.import_module(f"{__name__}.{PLATFORMS[platform]}")
    return module.build(manifest or load_manifest(), Path(out))
