"""Microsoft's documented EWS example requests, sent to a schema-checking sandbox with seeded ids;
plus XSD validity of every operation's responses, success and error alike."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from ews_face_support import (
    NS,
    SCHEMA_DIR,
    assert_schema_valid,
    body_payload,
    envelope,
    ews_token,
    post,
)
from lxml import etree

from exchange_sandbox.ews.service import OPERATIONS
from exchange_sandbox.ews.soap import SOAP_NS, TYPES_NS
from exchange_sandbox.process import Sandbox, start_sandbox

pytestmark = [pytest.mark.sandbox, pytest.mark.shared]

EXAMPLES = SCHEMA_DIR.parents[1] / "ews-examples"
PHISH = "Action required: overdue invoice INV-20931"
# Doc typos (see ews-examples/INDEX.md): Exchange rejects these requests, so must the sandbox.
REJECTED = {
    "CreateItem-ReplyAllToItem-request.xml": "ErrorInvalidServerVersion",
    "CreateItem-delayed-send-howto-request.xml": "ErrorInvalidServerVersion",
    "GetItem-attachmentids-request.xml": "ErrorInvalidServerVersion",
    "CreateItem-with-attachments-request.xml": "ErrorSchemaValidation",
    "ResolveNames-delegate-contacts-request.xml": "ErrorSchemaValidation",
}
# The sandbox stores mail only: a calendar item is refused per item, validly.
NOT_MAIL = {"ExchangeImpersonation-CreateItem-request.xml"}


def _example_requests() -> list[Path]:
    if not EXAMPLES.is_dir():
        return []
    found = []
    for path in sorted(EXAMPLES.glob("*-request.xml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(f"<m:{name}" in text or f"<{name}" in text for name in OPERATIONS):
            found.append(path)
    return found


@pytest.fixture(scope="module")
def schema_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    if not SCHEMA_DIR.is_dir():
        reason = f"EWS schemas not found at {SCHEMA_DIR} (they live outside the repository)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("ews-schema-sandbox")
    with start_sandbox(state, seed="demo", schema_dir=str(SCHEMA_DIR)) as running:
        yield running


@pytest.fixture(scope="module")
def token(schema_sandbox: Sandbox) -> str:
    return ews_token(schema_sandbox)


def call(sandbox: Sandbox, token: str, body: str, mailbox: str = "alice@contoso.com"):
    response = post(sandbox, envelope(body, impersonate=mailbox), token)
    payload = body_payload(response)
    assert_schema_valid(payload) if response.status_code == 200 else None
    return response, payload


@pytest.fixture(scope="module")
def phish(schema_sandbox: Sandbox, token: str) -> str:
    """The seeded phishing message, looked up once while it is the only one with its subject:
    examples delete attachments of the copies, so copies must never be copied again."""
    _, found = call(
        schema_sandbox,
        token,
        "<m:FindItem Traversal='Shallow'><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
        "</m:ItemShape><m:Restriction><t:IsEqualTo><t:FieldURI FieldURI='item:Subject'/>"
        f"<t:FieldURIOrConstant><t:Constant Value='{PHISH}'/></t:FieldURIOrConstant>"
        "</t:IsEqualTo></m:Restriction><m:ParentFolderIds>"
        "<t:DistinguishedFolderId Id='inbox'/></m:ParentFolderIds></m:FindItem>",
    )
    (original,) = found.iterfind(".//t:ItemId", NS)
    return original.get("Id")


def seeded_ids(sandbox: Sandbox, token: str, original: str) -> dict[str, object]:
    """Two fresh copies of the seeded phishing message in alice's Inbox (so examples that
    delete or move things never run out), their attachment ids and the Inbox id."""
    copies = []
    for _ in range(2):
        _, copied = call(
            sandbox,
            token,
            "<m:CopyItem><m:ToFolderId><t:DistinguishedFolderId Id='inbox'/></m:ToFolderId>"
            f"<m:ItemIds><t:ItemId Id='{original}'/></m:ItemIds></m:CopyItem>",
        )
        copies.append(copied.find(".//t:ItemId", NS).get("Id"))
    _, items = call(
        sandbox,
        token,
        "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
        "<t:FieldURI FieldURI='item:Attachments'/><t:FieldURI FieldURI='item:ParentFolderId'/>"
        "</t:AdditionalProperties></m:ItemShape><m:ItemIds>"
        + "".join(f"<t:ItemId Id='{c}'/>" for c in copies)
        + "</m:ItemIds></m:GetItem>",
    )
    files = [a.get("Id") for a in items.iterfind(".//t:FileAttachment/t:AttachmentId", NS)]
    attached = [a.get("Id") for a in items.iterfind(".//t:ItemAttachment/t:AttachmentId", NS)]
    return {
        "message": copies[0],
        "folder": items.find(".//t:ParentFolderId", NS).get("Id"),
        "attachments": [files[0], attached[0], *files[1:], *attached[1:]],
    }


def with_seeded_ids(path: Path, ids: dict[str, object]) -> bytes:
    """The example request with the SOAP namespace fixed and ids/addresses made real."""
    raw = path.read_bytes().replace(
        b"https://schemas.xmlsoap.org/soap/envelope/", b"http://schemas.xmlsoap.org/soap/envelope/"
    )
    try:
        root = etree.fromstring(raw)
    except etree.XMLSyntaxError:
        return raw  # sent as documented: the server must answer ErrorSchemaValidation
    t = f"{{{TYPES_NS}}}"
    attachments = iter(ids["attachments"])  # type: ignore[call-overload]
    for element in root.iter():
        name = etree.QName(element).localname if isinstance(element.tag, str) else ""
        if name in ("ItemId", "ReferenceItemId", "ParentItemId", "PersonaId"):
            element.set("Id", ids["message"])
            element.attrib.pop("ChangeKey", None)
        elif name == "AttachmentId":
            element.set("Id", next(attachments))
        elif name == "FolderId":
            element.set("Id", ids["folder"])
            element.attrib.pop("ChangeKey", None)
        elif name in ("PrimarySmtpAddress", "SmtpAddress", "PrincipalName") or (
            name == "EmailAddress"
            and element.getparent().getparent().tag == (f"{t}DistinguishedFolderId")
        ):
            element.text = "alice@contoso.com"
        elif name == "Address" and element.getparent().tag == f"{t}Mailbox":
            element.text = "dave@contoso.com"
        elif name == "UnresolvedEntry":
            element.text = "bob"
    header = root.find(f"{{{SOAP_NS}}}Header")
    if header is None:
        header = etree.Element(f"{{{SOAP_NS}}}Header")
        root.insert(0, header)
    if header.find(f"{t}ExchangeImpersonation") is None:
        impersonation = etree.SubElement(header, f"{t}ExchangeImpersonation")
        connecting = etree.SubElement(impersonation, f"{t}ConnectingSID")
        etree.SubElement(connecting, f"{t}PrimarySmtpAddress").text = "alice@contoso.com"
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def documented(path: Path) -> etree._Element | None:
    response = path.with_name(path.name.replace("-request.xml", "-response.xml"))
    if not response.exists():
        return None
    raw = response.read_bytes().replace(b"https://schemas", b"http://schemas")
    try:
        return etree.fromstring(raw).find(f"{{{SOAP_NS}}}Body")[0]
    except (etree.XMLSyntaxError, TypeError):
        return None


def message_shape(payload: etree._Element) -> list[tuple[str, str | None]]:
    messages = payload.find("m:ResponseMessages", NS)
    children = list(messages) if messages is not None else [payload]
    return [(etree.QName(c).localname, c.get("ResponseClass")) for c in children]


@pytest.mark.parametrize("path", _example_requests(), ids=lambda p: p.name)
def test_documented_request(schema_sandbox: Sandbox, token: str, phish: str, path: Path) -> None:
    ids = seeded_ids(schema_sandbox, token, phish)
    response = post(schema_sandbox, with_seeded_ids(path, ids), token)
    payload = body_payload(response)
    if path.name in REJECTED:
        assert response.status_code == 500
        assert payload.findtext(".//{*}ResponseCode") == REJECTED[path.name]
        return
    assert response.status_code == 200, response.text
    assert_schema_valid(payload)
    expected = documented(path)
    if expected is None:
        return
    assert etree.QName(payload).localname == etree.QName(expected).localname
    ours, theirs = message_shape(payload), message_shape(expected)
    assert [name for name, _ in ours][:1] == [name for name, _ in theirs][:1]
    if path.name not in NOT_MAIL and theirs[0][1] == "Success":
        assert all(cls in ("Success", "Warning") for _, cls in ours), response.text


ERROR_REQUESTS = {
    "GetItem": "<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape>"
    "<m:ItemIds><t:ItemId Id='{gone}'/><t:ItemId Id='bad'/></m:ItemIds></m:GetItem>",
    "FindItem": "<m:FindItem Traversal='Shallow'><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
    "</m:ItemShape><m:ParentFolderIds><t:FolderId Id='bad'/></m:ParentFolderIds></m:FindItem>",
    "DeleteItem": "<m:DeleteItem DeleteType='HardDelete'><m:ItemIds><t:ItemId Id='{gone}'/>"
    "</m:ItemIds></m:DeleteItem>",
    "MoveItem": "<m:MoveItem><m:ToFolderId><t:DistinguishedFolderId Id='junkemail'/>"
    "</m:ToFolderId><m:ItemIds><t:ItemId Id='{gone}'/></m:ItemIds></m:MoveItem>",
    "CopyItem": "<m:CopyItem><m:ToFolderId><t:DistinguishedFolderId Id='junkemail'/>"
    "</m:ToFolderId><m:ItemIds><t:ItemId Id='{gone}'/></m:ItemIds></m:CopyItem>",
    "MarkAsJunk": "<m:MarkAsJunk IsJunk='true' MoveItem='true'><m:ItemIds>"
    "<t:ItemId Id='{gone}'/></m:ItemIds></m:MarkAsJunk>",
    "GetAttachment": "<m:GetAttachment><m:AttachmentIds><t:AttachmentId Id='bad'/>"
    "</m:AttachmentIds></m:GetAttachment>",
    "DeleteAttachment": "<m:DeleteAttachment><m:AttachmentIds><t:AttachmentId Id='bad'/>"
    "</m:AttachmentIds></m:DeleteAttachment>",
    "GetFolder": "<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape>"
    "</m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id='calendar'/></m:FolderIds>"
    "</m:GetFolder>",
    "FindFolder": "<m:FindFolder Traversal='Deep'><m:FolderShape><t:BaseShape>Default"
    "</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:FolderId Id='bad'/>"
    "</m:ParentFolderIds></m:FindFolder>",
    "ResolveNames": "<m:ResolveNames ReturnFullContactData='true'>"
    "<m:UnresolvedEntry>nobody-at-all</m:UnresolvedEntry></m:ResolveNames>",
    "GetUserOofSettings": "<m:GetUserOofSettingsRequest><t:Mailbox><t:Address>"
    "ghost@contoso.com</t:Address></t:Mailbox></m:GetUserOofSettingsRequest>",
    "CreateItem": "<m:CreateItem MessageDisposition='SendOnly'><m:Items><t:Message>"
    "<t:Subject>no recipients</t:Subject></t:Message></m:Items></m:CreateItem>",
    "SendItem": "<m:SendItem SaveItemToFolder='true'><m:ItemIds><t:ItemId Id='{gone}'/>"
    "</m:ItemIds></m:SendItem>",
    "GetPersona": "<m:GetPersona><m:PersonaId Id='{gone}'/></m:GetPersona>",
    "ConvertId": "<m:ConvertId DestinationFormat='EwsLegacyId'><m:SourceIds>"
    "<t:AlternateId Format='EwsId' Id='DUMMY' Mailbox='alice@contoso.com'/></m:SourceIds>"
    "</m:ConvertId>",
}


@pytest.mark.parametrize("operation", sorted(ERROR_REQUESTS))
def test_error_responses_are_schema_valid(
    schema_sandbox: Sandbox, token: str, operation: str
) -> None:
    gone = "AAMkJAAAAAEAAAAAAAAAAAAAAAAAAAAA"  # a well-formed id of no message
    response, payload = call(schema_sandbox, token, ERROR_REQUESTS[operation].format(gone=gone))
    assert response.status_code == 200, response.text
    classes = [cls for _, cls in message_shape(payload)]
    assert "Error" in classes or payload.find(".//m:ResponseMessage", NS) is not None


def test_other_operations_are_schema_valid(schema_sandbox: Sandbox, token: str, phish: str) -> None:
    ids = seeded_ids(schema_sandbox, token, phish)
    item_attachment = ids["attachments"][1]  # type: ignore[index]
    requests = [
        "<m:ConvertId DestinationFormat='HexEntryId'><m:SourceIds><t:AlternateId Format='EwsId' "
        f"Id='{ids['message']}' Mailbox='alice@contoso.com'/></m:SourceIds></m:ConvertId>",
        "<m:FindItem Traversal='Shallow'><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape>"
        "<t:AdditionalProperties><t:FieldURI FieldURI='message:InternetMessageId'/>"
        "</t:AdditionalProperties></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned='3' "
        "Offset='0' BasePoint='Beginning'/><m:SortOrder><t:FieldOrder Order='Ascending'>"
        "<t:FieldURI FieldURI='item:Subject'/></t:FieldOrder></m:SortOrder><m:ParentFolderIds>"
        "<t:DistinguishedFolderId Id='inbox'/><t:DistinguishedFolderId Id='sentitems'/>"
        "</m:ParentFolderIds><m:QueryString>subject:invoice</m:QueryString></m:FindItem>",
        "<m:FindItem Traversal='Shallow'><m:ItemShape><t:BaseShape>Default</t:BaseShape>"
        "</m:ItemShape><m:ContactsView MaxEntriesReturned='10'/><m:ParentFolderIds>"
        "<t:DistinguishedFolderId Id='contacts'/></m:ParentFolderIds></m:FindItem>",
        "<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape>"
        "<t:IncludeMimeContent>true</t:IncludeMimeContent><t:BodyType>Text</t:BodyType>"
        f"</m:ItemShape><m:ItemIds><t:ItemId Id='{ids['message']}'/></m:ItemIds></m:GetItem>",
        "<m:GetAttachment><m:AttachmentShape><t:IncludeMimeContent>true</t:IncludeMimeContent>"
        f"</m:AttachmentShape><m:AttachmentIds><t:AttachmentId Id='{item_attachment}'/>"
        "</m:AttachmentIds></m:GetAttachment>",
        "<m:FindPeople><m:IndexedPageItemView MaxEntriesReturned='10' Offset='0' "
        "BasePoint='Beginning'/><m:ParentFolderId><t:DistinguishedFolderId Id='contacts'/>"
        "</m:ParentFolderId></m:FindPeople>",
        "<m:FindFolder Traversal='Deep'><m:FolderShape><t:BaseShape>Default</t:BaseShape>"
        "</m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id='root'/>"
        "</m:ParentFolderIds></m:FindFolder>",
        "<m:GetSearchableMailboxes><m:SearchFilter>contoso</m:SearchFilter>"
        "</m:GetSearchableMailboxes>",
        "<m:MarkAsJunk IsJunk='true' MoveItem='true'><m:ItemIds>"
        f"<t:ItemId Id='{ids['message']}'/></m:ItemIds></m:MarkAsJunk>",
    ]
    for body in requests:
        response, payload = call(schema_sandbox, token, body)
        assert response.status_code == 200, response.text
        assert all(cls == "Success" for _, cls in message_shape(payload)), response.text
    rest = payload  # the last: MarkAsJunk answered with the moved item id
    assert rest.find(".//m:MovedItemId", NS) is not None


def test_invalid_request_gets_error_schema_validation(schema_sandbox: Sandbox, token: str) -> None:
    body = "<m:GetItem><m:ItemIds><t:ItemId Id='x'/></m:ItemIds></m:GetItem>"  # no ItemShape
    response = post(schema_sandbox, envelope(body, impersonate="alice@contoso.com"), token)
    assert response.status_code == 500
    detail = body_payload(response).find("detail")
    assert detail.findtext("{*}ResponseCode") == "ErrorSchemaValidation"
    assert detail.find("t:MessageXml/t:LineNumber", NS) is not None
