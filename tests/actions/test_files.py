"""Safe output files: hostile names stay inside output_dir; digests computed while streaming."""

from __future__ import annotations

import base64
import hashlib
import os
import unicodedata
from pathlib import Path

import pytest

from exchange_pack.actions.files import (
    INLINE_CONTENT_LIMIT,
    MAX_NAME_BYTES,
    FileTooLargeError,
    OutputFolder,
    safe_file_name,
)

HOSTILE_NAMES = [
    "../../etc/passwd",
    "..\\..\\Windows\\System32\\drivers\\etc\\hosts",
    "/etc/shadow",
    "C:\\boot.ini",
    "evil\x00.pdf.exe",
    "a\x00/../b",
    "..",
    ".",
    "",
    "   ",
    ".bashrc",
    "...hidden",
    "CON",
    "con.txt",
    "LPT1.pdf",
    "nul .zip",
    "report.pdf.",
    "name with trailing space ",
    "in\u202evoice.pdf.exe",  # right-to-left override disguising the extension
    "x" * 300 + ".pdf",
    "é" * 300 + ".docx",
    "📎" * 120 + ".zip",
    "line\nbreak\r.txt",
    'quotes"<>|?*:.txt',
    "\u0065\u0301t\u00e9.txt",  # decomposed e-acute
    "-rf",
    "--help",
    ".-rf",
    " -n",
    "-",
    "/-rf",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_safe_name_is_a_plain_name_within_bounds(name: str) -> None:
    safe = safe_file_name(name)
    assert safe
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert safe not in (".", "..")
    assert not safe.startswith((".", "-", " "))
    assert not safe.endswith((".", " "))
    assert len(safe.encode()) <= MAX_NAME_BYTES
    assert unicodedata.is_normalized("NFC", safe)
    assert all(ord(c) >= 32 for c in safe)
    assert safe.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "LPT1", "COM1"}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_written_inside_the_folder(tmp_path: Path, name: str) -> None:
    root = tmp_path / "out"
    digest = OutputFolder(root).write(name, [b"data"])
    written = Path(digest.path)
    assert written.parent == root.resolve()
    assert written.read_bytes() == b"data"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [written.name]


def test_leading_dashes_are_prefixed_not_lost() -> None:
    assert safe_file_name("-rf") == "_-rf"
    assert safe_file_name("..--help") == "_--help"
    assert safe_file_name("report-1.pdf") == "report-1.pdf"


def test_traversal_keeps_the_useful_part() -> None:
    assert safe_file_name("../../etc/passwd") == "etc_passwd"
    assert safe_file_name("folder/INV-20931.pdf") == "folder_INV-20931.pdf"


def test_long_names_keep_their_extension() -> None:
    assert safe_file_name("x" * 300 + ".pdf").endswith(".pdf")
    name = safe_file_name("é" * 300 + ".docx")
    assert name.endswith(".docx")
    assert len(name.encode()) <= MAX_NAME_BYTES
    name.encode().decode("utf-8")  # cut on a character boundary


def test_unicode_is_kept_and_normalized() -> None:
    assert safe_file_name("Rechnung_Müller.pdf") == "Rechnung_Müller.pdf"
    assert safe_file_name("e\u0301t\u00e9.txt") == "\u00e9t\u00e9.txt"


def test_windows_reserved_and_dot_files() -> None:
    assert safe_file_name("CON") == "_CON"
    assert safe_file_name("com1.txt") == "_com1.txt"
    assert safe_file_name(".htaccess") == "htaccess"
    assert safe_file_name("") == "attachment"


def test_collisions_get_unique_names(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path)
    names = [folder.write("INV-20931.pdf", [bytes([i])]).file_name for i in range(4)]
    assert names == ["INV-20931.pdf", "INV-20931 (2).pdf", "INV-20931 (3).pdf", "INV-20931 (4).pdf"]
    assert len({(tmp_path / n).read_bytes() for n in names}) == 4


def test_collision_on_a_maximal_name_stays_within_bounds(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path)
    first = folder.write("y" * 400 + ".pdf", [b"1"]).file_name
    second = folder.write("y" * 400 + ".pdf", [b"2"]).file_name
    assert first != second
    assert second.endswith(" (2).pdf")
    assert len(second.encode()) <= MAX_NAME_BYTES


def test_an_existing_symlink_is_never_followed(tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.write_bytes(b"keep")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(target, out / "report.pdf")
    digest = OutputFolder(out).write("report.pdf", [b"new"])
    assert digest.file_name == "report (2).pdf"
    assert target.read_bytes() == b"keep"


def test_digests_are_computed_while_streaming(tmp_path: Path) -> None:
    chunks = [os.urandom(65536) for _ in range(5)] + [b"", b"tail"]
    content = b"".join(chunks)
    consumed: list[int] = []

    def stream():
        for chunk in chunks:
            consumed.append(len(chunk))
            yield chunk

    digest = OutputFolder(tmp_path).write("blob.bin", stream())
    assert consumed == [len(c) for c in chunks]
    assert digest.size == len(content)
    assert digest.sha256 == hashlib.sha256(content).hexdigest()
    assert digest.sha1 == hashlib.sha1(content).hexdigest()
    assert digest.md5 == hashlib.md5(content).hexdigest()
    assert Path(digest.path).read_bytes() == content
    assert digest.content_base64 is None


def test_include_content_only_for_small_files(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path)
    small = folder.write("small.txt", [b"hello"], include_content=True)
    assert base64.b64decode(small.content_base64 or "") == b"hello"
    big = folder.write("big.bin", [b"x" * (INLINE_CONTENT_LIMIT + 1)], include_content=True)
    assert big.content_base64 is None
    assert big.size == INLINE_CONTENT_LIMIT + 1


def test_max_size_refuses_and_leaves_nothing(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path)
    with pytest.raises(FileTooLargeError) as caught:
        folder.write("big.bin", [b"x" * 600, b"x" * 600], max_size_bytes=1000)
    assert caught.value.limit == 1000
    assert caught.value.size > 1000
    assert list(tmp_path.iterdir()) == []


def test_extension_added_for_messages(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path)
    assert folder.write("Action required", [b"x"], extension=".eml").file_name == (
        "Action required.eml"
    )
    assert folder.write("notice.eml", [b"x"], extension=".eml").file_name == "notice.eml"
    assert folder.write("notice", [b"x"], extension=".eml").file_name == "notice (2).eml"
