"""Attachment names from a hostile mail never write outside output_dir, on both backends."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from pathlib import Path

import pytest
from pack_runner import PackRunner

from exchange_pack.actions.files import MAX_NAME_BYTES
from exchange_pack.config import ConnectionConfig
from exchange_pack.graph import GraphClient
from exchange_pack.session import Session

pytestmark = pytest.mark.sandbox

HOSTILE_ID = "<hostile-names@attacker.example>"
HOSTILE_NAMES = [
    "../../etc/passwd",
    "..\\..\\Windows\\win.ini",
    "/etc/shadow",
    "evil\x00.pdf.exe",
    "x" * 300 + ".pdf",
    "in\u202evoice.pdf.exe",
    "CON",
    ".htaccess",
    "passwd",
    "etc_passwd",
    "Rechnung_Müller.pdf",
]


def hostile_mime() -> bytes:
    message = EmailMessage()
    message["From"] = "attacker@attacker.example"
    message["To"] = "alice@contoso.com"
    message["Subject"] = "../../Quarterly report"
    message["Message-ID"] = HOSTILE_ID
    message.set_content("See attached.")
    for index, name in enumerate(HOSTILE_NAMES):
        message.add_attachment(
            f"attachment {index}".encode(), "application", "octet-stream", filename=name
        )
    return message.as_bytes()


@pytest.fixture
def hostile_message(fresh_pack: PackRunner) -> PackRunner:
    """Imports the hostile message into alice's Inbox (Graph MIME import)."""
    config = ConnectionConfig.model_validate(fresh_pack.config("graph"))
    with Session(config) as session:
        client = GraphClient(session)
        client.request(
            "POST",
            "/users/alice@contoso.com/messages",
            data=base64.b64encode(hostile_mime()),
            headers={"Content-Type": "text/plain"},
        ).close()
    return fresh_pack


def test_hostile_attachment_names_stay_inside_output_dir(
    hostile_message: PackRunner, backend: str, tmp_path: Path
) -> None:
    output = tmp_path / backend / "out"
    out = hostile_message.run(
        "get_attachments", {"internet_message_id": HOSTILE_ID}, backend, output_dir=str(output)
    )
    saved = out.data["attachments"]
    assert len(saved) == len(HOSTILE_NAMES)
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(Path(a["file"]["path"]) for a in saved)
    names = [path.name for path in written]
    assert len(set(names)) == len(names)
    for path in written:
        assert path.parent == output.resolve()
        assert not path.name.startswith(".")
        assert len(path.name.encode()) <= MAX_NAME_BYTES
        assert "\x00" not in path.name and "\u202e" not in path.name
    contents = sorted(path.read_bytes() for path in written)
    assert contents == sorted(f"attachment {i}".encode() for i in range(len(HOSTILE_NAMES)))
    eml = hostile_message.run(
        "download_mail_as_eml", {"internet_message_id": HOSTILE_ID}, backend, output_dir=str(output)
    )
    assert Path(eml.data["file"]["path"]).parent == output.resolve()
    assert eml.data["file"]["file_name"] == "Quarterly report.eml"
