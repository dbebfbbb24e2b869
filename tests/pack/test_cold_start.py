"""Cold start: a Graph action process never imports exchangelib (an EWS one does), no action
that succeeds imports jsonschema (jsonschema-rs checks; jsonschema only explains), and an app
with a client secret never imports cryptography (only a certificate needs it).

Runs real action processes against the sandbox with ``python -X importtime`` and reads the
modules they imported from its report on stderr (timings are for ``make bench``, not here).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from exchange_sandbox.process import Sandbox

ROOT = Path(__file__).resolve().parents[2]
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \| +(\S+)$")


def imported_modules(
    backend: str,
    sandbox: Sandbox,
    tmp_path: Path,
    message_id: str = "<inv-20931-alice@contoso-payments.com>",
    auth: str = "secret",
) -> set[str]:
    """Runs download_mail_as_eml on ``backend`` under ``-X importtime``; its top-level modules."""
    document: dict[str, Any] = {
        "config": sandbox.pack_config(
            backend=backend,
            auth=auth,
            token_cache_path=str(tmp_path / "token-cache.json"),
            output_dir=str(tmp_path / "output"),
        ),
        "parameters": {
            "mailbox": "alice@contoso.com",
            "internet_message_id": message_id,
        },
    }
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "actions" / "download_mail_as_eml.py")],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    envelope = json.loads(done.stdout)
    expected = 0 if "@" in message_id else 64
    assert done.returncode == expected, (envelope.get("error"), done.stderr[-2000:])
    modules = {
        match.group(1).split(".")[0]
        for match in map(IMPORT_LINE.match, done.stderr.splitlines())
        if match
    }
    assert "exchange_pack" in modules, "no -X importtime report on stderr"
    return modules


def test_graph_action_leaves_out_exchangelib_jsonschema_cryptography(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    modules = imported_modules("graph", sandbox, tmp_path)
    assert "exchangelib" not in modules
    assert "jsonschema" not in modules
    assert "cryptography" not in modules


def test_jsonschema_explains_bad_input(sandbox: Sandbox, tmp_path: Path) -> None:
    # The same detection sees jsonschema when a parameter is refused, so the test above can fail.
    assert "jsonschema" in imported_modules("graph", sandbox, tmp_path, message_id="no-at-sign")


def test_ews_action_imports_exchangelib(sandbox: Sandbox, tmp_path: Path) -> None:
    # The same detection sees exchangelib when it is loaded, so the Graph test can fail.
    assert "exchangelib" in imported_modules("ews", sandbox, tmp_path)


def test_certificate_app_imports_cryptography(sandbox: Sandbox, tmp_path: Path) -> None:
    # The same detection sees cryptography when a certificate is loaded, so the test can fail.
    assert "cryptography" in imported_modules("graph", sandbox, tmp_path, auth="certificate")
