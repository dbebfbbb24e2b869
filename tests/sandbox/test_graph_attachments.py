"""Graph face: attachments — list, get, $expand of attached messages, $value, add, delete,
and upload sessions for large files."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import requests
from graph_support import GraphClient, assert_graph_error, graph_token, openapi

from exchange_sandbox.process import Sandbox

ALICE = "/users/alice@contoso.com"
ATTACHMENTS = "/users/{user-id}/messages/{message-id}/attachments"


@pytest.fixture(scope="module")
def graph(sandbox: Sandbox) -> GraphClient:
    return GraphClient(sandbox, graph_token(sandbox))


@pytest.fixture
def fresh(fresh_sandbox: Sandbox, graph: GraphClient) -> GraphClient:
    return graph


def _listing(graph: GraphClient, message_id: str, **params: str) -> list[dict]:
    return graph.ok("GET", f"{ALICE}/messages/{message_id}/attachments", params=params)["value"]


def test_list_attachments_with_content_by_default(graph: GraphClient, shared_dir: Path) -> None:
    phish = graph.phish()
    page = graph.ok("GET", f"{ALICE}/messages/{phish['id']}/attachments")
    openapi(shared_dir).validate("GET", ATTACHMENTS, page)
    by_name = {a["name"]: a for a in page["value"]}
    assert {"INV-20931.pdf", "INV-20931.zip", "remittance.html"} <= set(by_name)
    # Graph v1.0 lists a file attachment's contentBytes unless $select leaves it out.
    assert base64.b64decode(by_name["INV-20931.pdf"]["contentBytes"]).startswith(b"%PDF")
    assert by_name["INV-20931.pdf"]["@odata.type"] == "#microsoft.graph.fileAttachment"
    items = [a for a in page["value"] if a["@odata.type"] == "#microsoft.graph.itemAttachment"]
    assert len(items) == 1 and "contentBytes" not in items[0]
    narrowed = _listing(graph, phish["id"], **{"$select": "name,size"})
    assert narrowed and all("contentBytes" not in a for a in narrowed)
    selected = _listing(graph, phish["id"], **{"$select": "name,contentBytes"})
    pdf = next(a for a in selected if a["name"] == "INV-20931.pdf")
    assert base64.b64decode(pdf["contentBytes"]).startswith(b"%PDF")


def test_get_file_attachment_and_value(graph: GraphClient, shared_dir: Path) -> None:
    phish = graph.phish()
    zip_meta = next(a for a in _listing(graph, phish["id"]) if a["name"] == "INV-20931.zip")
    path = f"{ALICE}/messages/{phish['id']}/attachments/{zip_meta['id']}"
    full = graph.ok("GET", path)
    openapi(shared_dir).validate("GET", f"{ATTACHMENTS}/{{attachment-id}}", full)
    content = base64.b64decode(full["contentBytes"])
    assert len(content) == full["size"] == zip_meta["size"]
    raw = graph.get(f"{path}/$value", stream=True)
    assert raw.status_code == 200 and raw.headers["Content-Type"] == full["contentType"]
    streamed = b"".join(raw.iter_content(4096))
    assert hashlib.sha256(streamed).digest() == hashlib.sha256(content).digest()
    names = zipfile.ZipFile(io.BytesIO(streamed)).namelist()
    assert any(n.endswith(".js") for n in names)


def test_item_attachment_expand_and_mime(graph: GraphClient) -> None:
    phish = graph.phish()
    item = next(
        a
        for a in _listing(graph, phish["id"])
        if a["@odata.type"] == "#microsoft.graph.itemAttachment"
    )
    path = f"{ALICE}/messages/{phish['id']}/attachments/{item['id']}"
    plain = graph.ok("GET", path)
    assert "item" not in plain and "contentBytes" not in plain
    expanded = graph.ok(
        "GET", f"{path}/", params={"$expand": "microsoft.graph.itemattachment/item"}
    )
    assert expanded["item"]["@odata.type"] == "#microsoft.graph.message"
    assert expanded["item"]["subject"]
    assert "item@odata.context" in expanded
    mime = graph.get(f"{path}/$value")
    assert mime.status_code == 200
    inner = message_from_bytes(mime.content, policy=policy.default)
    assert inner["Subject"] == expanded["item"]["subject"]


def test_add_and_delete_attachments(fresh: GraphClient, shared_dir: Path) -> None:
    phish = fresh.phish()
    base = f"{ALICE}/messages/{phish['id']}/attachments"
    created = fresh.ok(
        "POST",
        base,
        201,
        json={
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": "notes.txt",
            "contentType": "text/plain",
            "contentBytes": base64.b64encode(b"analyst notes").decode(),
        },
    )
    openapi(shared_dir).validate("POST", ATTACHMENTS, created)
    assert base64.b64decode(created["contentBytes"]) == b"analyst notes"
    item = fresh.ok(
        "POST",
        base,
        201,
        json={
            "@odata.type": "#microsoft.graph.itemAttachment",
            "name": "evidence",
            "item": {
                "subject": "Evidence",
                "body": {"contentType": "Text", "content": "attached"},
                "toRecipients": [{"emailAddress": {"address": "soc@contoso.com"}}],
            },
        },
    )
    assert item["@odata.type"] == "#microsoft.graph.itemAttachment"
    names = [a["name"] for a in fresh.ok("GET", base)["value"]]
    assert "notes.txt" in names and "evidence" in names
    zip_meta = next(a for a in fresh.ok("GET", base)["value"] if a["name"] == "INV-20931.zip")
    assert fresh.delete(f"{base}/{zip_meta['id']}").status_code == 204
    remaining = fresh.ok("GET", base)["value"]
    assert "INV-20931.zip" not in [a["name"] for a in remaining]
    pdf = next(a for a in remaining if a["name"] == "INV-20931.pdf")
    assert fresh.get(f"{base}/{pdf['id']}/$value").content.startswith(b"%PDF")
    mime = fresh.get(f"{ALICE}/messages/{phish['id']}/$value").content
    assert b"INV-20931.zip" not in mime
    assert_graph_error(fresh.get(f"{base}/{zip_meta['id']}"), 404, "ErrorItemNotFound")
    too_big = fresh.post(
        base,
        json={
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": "big.bin",
            "contentBytes": base64.b64encode(b"\0" * (3 * 1024 * 1024 + 1)).decode(),
        },
    )
    assert_graph_error(too_big, 413, "ErrorRequestEntityTooLarge")


def test_upload_session_in_ranges(fresh: GraphClient, fresh_sandbox: Sandbox) -> None:
    draft = fresh.ok("POST", f"{ALICE}/messages", 201, json={"subject": "big file"})
    base = f"{ALICE}/messages/{draft['id']}/attachments"
    small = fresh.post(
        f"{base}/createUploadSession",
        json={"AttachmentItem": {"attachmentType": "file", "name": "s.bin", "size": 10}},
    )
    assert_graph_error(small, 400, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize")
    payload = bytes(range(256)) * (13 * 1024)  # 3.25 MiB
    session = fresh.ok(
        "POST",
        f"{base}/createUploadSession",
        201,
        json={
            "AttachmentItem": {
                "attachmentType": "file",
                "name": "capture.pcap",
                "size": len(payload),
                "contentType": "application/vnd.tcpdump.pcap",
            }
        },
    )
    assert session["nextExpectedRanges"] == ["0-"]
    url = session["uploadUrl"]
    assert url.startswith(fresh_sandbox.base_url) and "authtoken=" in url
    anonymous = requests.Session()
    anonymous.trust_env = False
    anonymous.verify = fresh_sandbox.ca_bundle
    total = len(payload)
    half = 2 * 1024 * 1024
    out_of_order = anonymous.put(
        url, data=payload[half:], headers={"Content-Range": f"bytes {half}-{total - 1}/{total}"}
    )
    assert out_of_order.status_code == 416
    first = anonymous.put(
        url, data=payload[:half], headers={"Content-Range": f"bytes 0-{half - 1}/{total}"}
    )
    assert first.status_code == 200 and first.json()["nextExpectedRanges"] == [f"{half}-"]
    last = anonymous.put(
        url, data=payload[half:], headers={"Content-Range": f"bytes {half}-{total - 1}/{total}"}
    )
    assert last.status_code == 201 and "/attachments(" in last.headers["Location"]
    stored = next(a for a in fresh.ok("GET", base)["value"] if a["name"] == "capture.pcap")
    assert stored["size"] == total
    assert fresh.get(f"{base}/{stored['id']}/$value").content == payload
    forged = anonymous.put(
        url.split("authtoken=")[0] + "authtoken=wrong",
        data=b"x",
        headers={"Content-Range": "bytes 0-0/1"},
    )
    assert forged.status_code in (401, 404)
