"""Runs actions the way an automation engine does: ``python actions/<id>.py`` with one JSON
document on stdin, against the sandbox tenant; checks the envelope on every run.

(A module with a distinct name, not conftest, so test modules can import its helpers.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from exchange_sandbox.process import CA_ENV_VARS, Sandbox

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ("graph", "ews")
CAMPAIGN_SENDER = "billing@contoso-payments.com"
CAMPAIGN_SUBJECT = "Action required: overdue invoice INV-20931"
CAMPAIGN_USERS = ("alice", "bob", "carol")
CAMPAIGN_ATTACHMENTS = ["INV-20931.pdf", "INV-20931.zip", "remittance.html", "forwarded-notice.eml"]


def campaign_id(user: str) -> str:
    """The internet_message_id of ``user``'s copy of the phishing message."""
    return f"<inv-20931-{user}@contoso-payments.com>"


def _validator(name: str) -> Draft202012Validator:
    document = json.loads((ROOT / "schemas" / f"{name}.json").read_text())
    return Draft202012Validator(document, format_checker=FormatChecker())


ENVELOPE = _validator("envelope")


@dataclass
class Outcome:
    """One action process: exit code, the parsed stdout envelope, stderr."""

    action: str
    code: int
    envelope: dict[str, Any]
    stderr: str

    @property
    def data(self) -> dict[str, Any]:
        assert self.envelope["ok"], self.envelope.get("error")
        return self.envelope["data"]

    @property
    def error(self) -> dict[str, Any]:
        assert not self.envelope["ok"], "the action succeeded"
        return self.envelope["error"]

    @property
    def warnings(self) -> list[str]:
        return self.envelope["warnings"]


class PackRunner:
    """Starts action processes with the stdin contract against one sandbox."""

    def __init__(self, sandbox: Sandbox, output_dir: Path) -> None:
        self.sandbox = sandbox
        self.output_dir = output_dir
        self.env = {k: v for k, v in os.environ.items() if k not in CA_ENV_VARS}
        self.env.pop("EXCHANGE_CONFIG", None)

    def config(self, backend: str, app: str = "full", **overrides: Any) -> dict[str, Any]:
        overrides.setdefault("output_dir", str(self.output_dir))
        return self.sandbox.pack_config(app=app, backend=backend, **overrides)

    def run(
        self,
        action: str,
        params: dict[str, Any],
        backend: str = "graph",
        app: str = "full",
        **config: Any,
    ) -> Outcome:
        document = {"config": self.config(backend, app, **config), "parameters": params}
        process = subprocess.run(
            [sys.executable, str(ROOT / "actions" / f"{action}.py")],
            input=json.dumps(document),
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
            timeout=120,
        )
        envelope = json.loads(process.stdout)
        check_envelope(action, process.returncode, envelope, process.stderr)
        return Outcome(action, process.returncode, envelope, process.stderr)


def check_envelope(action: str, code: int, envelope: dict[str, Any], stderr: str) -> None:
    """The contract every run keeps, success or not."""
    ENVELOPE.validate(envelope)
    assert envelope["action"] == action
    if envelope["ok"]:
        assert code == 0, envelope
        assert stderr == "", stderr
        _validator(f"{action}.output").validate(envelope["data"])
    else:
        assert code != 0
        assert stderr.startswith(f"ERROR {envelope['error']['code']}:"), stderr
        assert stderr.count("\n") == 1 and "Traceback" not in stderr
