"""``make demo``: the playbook starts from a poll of the reporting mailbox and runs through
containment, with every step a separate action process (Graph; EWS runs the same steps)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.sandbox

PLAYBOOK = Path(__file__).resolve().parents[2] / "demo" / "playbook.py"


def test_the_demo_starts_from_the_reporting_mailbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("playbook", PLAYBOOK)
    assert spec is not None and spec.loader is not None
    playbook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(playbook)
    assert playbook.main(["--backend", "graph", "--output", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    steps = [line for line in out.splitlines() if line.startswith("== Step")]
    assert steps[1].startswith("== Step 2: Poll the reporting mailbox phish-report@contoso.com")
    assert "incident [high] Reported email: Phishing report" in out
    assert steps[-1].startswith("== Step 13: Poll again") and "0 new message(s)" in out
