"""The official Microsoft Graph SDK for Python (msgraph-sdk, with azure-identity) as a second
client of the sandbox: the mail operations the pack depends on and the common ones around them,
through the SDK's own request builders, models, paging, batching and error types."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import ClientSecretCredential
from graph_support import PHISH_SENDER, PHISH_SUBJECT
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.file_attachment import FileAttachment
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.mail_folder import MailFolder
from msgraph.generated.models.message import Message
from msgraph.generated.models.message_rule import MessageRule
from msgraph.generated.models.message_rule_actions import MessageRuleActions
from msgraph.generated.models.message_rule_predicates import MessageRulePredicates
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.users.item.messages.item.copy.copy_post_request_body import (
    CopyPostRequestBody,
)
from msgraph.generated.users.item.messages.item.create_reply.create_reply_post_request_body import (
    CreateReplyPostRequestBody,
)
from msgraph.generated.users.item.messages.item.move.move_post_request_body import (
    MovePostRequestBody,
)
from msgraph.generated.users.item.messages.item.reply.reply_post_request_body import (
    ReplyPostRequestBody,
)
from msgraph.generated.users.item.messages.messages_request_builder import MessagesRequestBuilder
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
    SendMailPostRequestBody,
)
from msgraph_core import GraphClientFactory
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

from exchange_sandbox.process import Sandbox

pytestmark = pytest.mark.sandbox

T = TypeVar("T")
ALICE = "alice@contoso.com"
Query = MessagesRequestBuilder.MessagesRequestBuilderGetQueryParameters


def _credential(sandbox: Sandbox) -> ClientSecretCredential:
    """azure-identity against the sandbox authority, trusting only the sandbox CA."""
    app = sandbox.app("full")
    session = requests.Session()
    session.trust_env = False
    return ClientSecretCredential(
        sandbox.tenant_id,
        app["client_id"],
        app["client_secret"],
        authority=sandbox.info["authority_host"],
        disable_instance_discovery=True,
        transport=RequestsTransport(
            session=session, session_owner=False, connection_verify=sandbox.ca_bundle
        ),
    )


@pytest.fixture(scope="module")
def sdk(sandbox: Sandbox) -> Callable[[Callable[[GraphServiceClient], Awaitable[T]]], T]:
    """``sdk(lambda client: ...)`` runs a coroutine with a GraphServiceClient on the sandbox
    (a new httpx client per run: an async client belongs to one event loop)."""
    credential = _credential(sandbox)
    host = urlsplit(sandbox.info["graph_url"]).hostname or ""
    auth = AzureIdentityAuthenticationProvider(
        credential, scopes=["https://graph.microsoft.com/.default"], allowed_hosts=[host]
    )

    def run(body: Callable[[GraphServiceClient], Awaitable[T]]) -> T:
        async def main() -> T:
            http = httpx.AsyncClient(verify=sandbox.ca_bundle, trust_env=False, timeout=60)
            async with http:
                adapter = GraphRequestAdapter(
                    auth, client=GraphClientFactory.create_with_default_middleware(client=http)
                )
                adapter.base_url = f"{sandbox.info['graph_url']}/v1.0"
                return await body(GraphServiceClient(request_adapter=adapter))

        return asyncio.run(main())

    return run


async def _phish(client: GraphServiceClient, user: str = ALICE) -> Message:
    config = RequestConfiguration(query_parameters=Query(filter=f"subject eq '{PHISH_SUBJECT}'"))
    page = (
        await client.users.by_user_id(user)
        .mail_folders.by_mail_folder_id("inbox")
        .messages.get(request_configuration=config)
    )
    assert page and page.value
    return page.value[0]


# -- list, filter, page, get ---------------------------------------------------------------------
def test_list_filter_select_and_page_through_next_links(sdk: Any) -> None:
    since = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc).isoformat()  # ...+00:00

    async def body(client: GraphServiceClient) -> tuple[list[Message], int]:
        messages = client.users.by_user_id(ALICE).messages
        config = RequestConfiguration(
            query_parameters=Query(
                filter=f"receivedDateTime ge {since}",
                select=["id", "subject", "receivedDateTime"],
                top=3,
                count=True,
            )
        )
        page = await messages.get(request_configuration=config)
        assert page is not None
        found = list(page.value or [])
        total = page.odata_count or 0
        while page.odata_next_link:
            page = await messages.with_url(page.odata_next_link).get()
            assert page is not None
            found.extend(page.value or [])
        return found, total

    found, total = sdk(body)
    assert len(found) == total > 3
    assert len({m.id for m in found}) == total
    received = [m.received_date_time for m in found]
    assert received == sorted(received, reverse=True)


def test_get_message_body_as_text_and_mime(sdk: Any) -> None:
    async def body(client: GraphServiceClient) -> tuple[Message, bytes]:
        phish = await _phish(client)
        item = client.users.by_user_id(ALICE).messages.by_message_id(phish.id or "")
        config = RequestConfiguration()
        config.headers.add("Prefer", 'outlook.body-content-type="text"')
        got = await item.get(request_configuration=config)
        mime = await item.content.get()
        assert got is not None and mime is not None
        return got, mime

    message, mime = sdk(body)
    assert message.subject == PHISH_SUBJECT
    assert message.from_.email_address.address == PHISH_SENDER
    assert message.body.content_type == BodyType.Text and "<" not in message.body.content
    assert b"Subject: Action required" in mime and b"INV-20931" in mime


def test_search_with_a_quoted_term(sdk: Any) -> None:
    async def body(client: GraphServiceClient) -> list[str]:
        config = RequestConfiguration(query_parameters=Query(search="\"'invoice'\"", top=50))
        page = await client.users.by_user_id("bob@contoso.com").messages.get(
            request_configuration=config
        )
        return [m.subject or "" for m in (page.value if page else None) or []]

    assert PHISH_SUBJECT in sdk(body)


# -- attachments ---------------------------------------------------------------------------------
def test_attachments_list_with_content_by_default(sdk: Any) -> None:
    async def body(client: GraphServiceClient) -> list[Any]:
        phish = await _phish(client)
        listed = (
            await client.users.by_user_id(ALICE)
            .messages.by_message_id(phish.id or "")
            .attachments.get()
        )
        return list(listed.value if listed else [])

    attachments = sdk(body)
    pdf = next(a for a in attachments if a.name == "INV-20931.pdf")
    assert isinstance(pdf, FileAttachment)
    assert pdf.content_bytes is not None and pdf.content_bytes.startswith(b"%PDF")
    assert len(pdf.content_bytes) == pdf.size
    assert any(a.odata_type == "#microsoft.graph.itemAttachment" for a in attachments)


# -- move, copy, delete --------------------------------------------------------------------------
def test_move_copy_delete_and_ids(sdk: Any, fresh_sandbox: Sandbox) -> None:
    async def body(client: GraphServiceClient) -> None:
        phish = await _phish(client)
        messages = client.users.by_user_id(ALICE).messages
        copy = await messages.by_message_id(phish.id or "").copy.post(
            CopyPostRequestBody(destination_id="archive")
        )
        assert copy and copy.id != phish.id
        moved = await messages.by_message_id(phish.id or "").move.post(
            MovePostRequestBody(destination_id="junkemail")
        )
        assert moved and moved.id != phish.id  # a move changes the default id
        with pytest.raises(ODataError) as gone:
            await messages.by_message_id(phish.id or "").get()
        assert gone.value.response_status_code == 404
        assert gone.value.error and gone.value.error.code == "ErrorItemNotFound"
        await messages.by_message_id(moved.id or "").delete()
        trash = (
            await client.users.by_user_id(ALICE)
            .mail_folders.by_mail_folder_id("deleteditems")
            .messages.get()
        )
        assert PHISH_SUBJECT in [m.subject for m in (trash.value if trash else None) or []]

    sdk(body)


# -- send, reply ---------------------------------------------------------------------------------
def test_send_mail_create_reply_and_reply(sdk: Any, fresh_sandbox: Sandbox) -> None:
    async def body(client: GraphServiceClient) -> None:
        note = Message(
            subject="sdk: sent through msgraph-sdk",
            body=ItemBody(content_type=BodyType.Text, content="hello from the SDK"),
            to_recipients=[Recipient(email_address=EmailAddress(address="carol@contoso.com"))],
            attachments=[
                FileAttachment(
                    odata_type="#microsoft.graph.fileAttachment",
                    name="iocs.txt",
                    content_type="text/plain",
                    content_bytes=b"1.2.3.4\n",
                )
            ],
        )
        await client.users.by_user_id(ALICE).send_mail.post(
            SendMailPostRequestBody(message=note, save_to_sent_items=True)
        )
        config = RequestConfiguration(
            query_parameters=Query(filter="subject eq 'sdk: sent through msgraph-sdk'")
        )
        carol = client.users.by_user_id("carol@contoso.com").messages
        [received] = (await carol.get(request_configuration=config)).value
        assert received.has_attachments
        draft = await carol.by_message_id(received.id or "").create_reply.post(
            CreateReplyPostRequestBody(comment="Got it.")
        )
        assert draft and draft.is_draft and draft.subject == "RE: sdk: sent through msgraph-sdk"
        await carol.by_message_id(draft.id or "").send.post()
        await carol.by_message_id(received.id or "").reply.post(
            ReplyPostRequestBody(comment="And once more.")
        )
        inbox = (
            await client.users.by_user_id(ALICE)
            .mail_folders.by_mail_folder_id("inbox")
            .messages.get(
                request_configuration=RequestConfiguration(
                    query_parameters=Query(filter="subject eq 'RE: sdk: sent through msgraph-sdk'")
                )
            )
        )
        assert inbox and len(inbox.value or []) == 2

    sdk(body)


# -- mailbox settings, contacts, folders, rules ----------------------------------------------------
def test_mailbox_settings_and_contacts(sdk: Any) -> None:
    async def body(client: GraphServiceClient) -> tuple[Any, Any]:
        settings = await client.users.by_user_id("dave@contoso.com").mailbox_settings.get()
        contacts = await client.users.by_user_id(ALICE).contacts.get()
        return settings, contacts

    settings, contacts = sdk(body)
    assert settings.time_zone and settings.automatic_replies_setting is not None
    assert contacts.value and all(c.display_name for c in contacts.value)


def test_folders_well_known_create_and_children(sdk: Any, fresh_sandbox: Sandbox) -> None:
    async def body(client: GraphServiceClient) -> None:
        folders = client.users.by_user_id(ALICE).mail_folders
        clutter = await folders.by_mail_folder_id("clutter").get()
        assert clutter and clutter.display_name == "Clutter"
        created = await folders.post(MailFolder(display_name="Cases"))
        assert created and created.id
        child = await folders.by_mail_folder_id(created.id).child_folders.post(
            MailFolder(display_name="2026")
        )
        assert child and child.parent_folder_id == created.id
        children = await folders.by_mail_folder_id(created.id).child_folders.get()
        assert [f.display_name for f in (children.value if children else None) or []] == ["2026"]
        with pytest.raises(ODataError) as exists:
            await folders.post(MailFolder(display_name="cases"))
        assert exists.value.error and exists.value.error.code == "ErrorFolderExists"

    sdk(body)


def test_inbox_rules(sdk: Any, fresh_sandbox: Sandbox) -> None:
    async def body(client: GraphServiceClient) -> list[str]:
        rules = client.users.by_user_id(ALICE).mail_folders.by_mail_folder_id("inbox").message_rules
        await rules.post(
            MessageRule(
                display_name="Junk the campaign sender",
                sequence=1,
                is_enabled=True,
                conditions=MessageRulePredicates(sender_contains=[PHISH_SENDER]),
                actions=MessageRuleActions(move_to_folder="junkemail", stop_processing_rules=True),
            )
        )
        listed = await rules.get()
        return [r.display_name or "" for r in (listed.value if listed else None) or []]

    assert "Junk the campaign sender" in sdk(body)


# -- $batch and errors ---------------------------------------------------------------------------
def test_batch(sdk: Any) -> None:
    async def body(client: GraphServiceClient) -> tuple[dict[str, int], dict[str, Any]]:
        alice = client.users.by_user_id(ALICE)
        listing = BatchRequestItem(
            request_information=alice.messages.to_get_request_information(
                RequestConfiguration(query_parameters=Query(top=2, select=["subject"]))
            ),
            id="1",
        )
        missing = BatchRequestItem(
            request_information=client.users.by_user_id(
                "ghost@contoso.com"
            ).mailbox_settings.to_get_request_information(),
            id="2",
        )
        content = BatchRequestContent({"1": listing, "2": missing})
        answer = await client.batch.post(content)
        # The SDK drops sub-response bodies that are JSON objects, as Graph sends them
        # (microsoft/kiota-python#737); the same batch is read raw through the SDK's adapter.
        info = await client.batch.to_post_request_information(content)
        raw = await client.request_adapter.send_primitive_async(info, "bytes", {})
        bodies = {r["id"]: r for r in json.loads(raw)["responses"]}
        return answer.get_response_status_codes(), bodies

    codes, bodies = sdk(body)
    assert codes == {"1": 200, "2": 404}
    assert len(bodies["1"]["body"]["value"]) == 2
    assert bodies["2"]["body"]["error"]["code"] == "ErrorInvalidUser"


def test_errors_parse_as_odata_error(sdk: Any) -> None:
    async def body(client: GraphServiceClient) -> ODataError:
        bogus = base64.urlsafe_b64encode(b"not an id").decode()
        with pytest.raises(ODataError) as raised:
            await client.users.by_user_id(ALICE).messages.by_message_id(bogus).get()
        return raised.value

    error = sdk(body)
    assert error.response_status_code == 400
    assert error.error and error.error.code == "ErrorInvalidIdMalformed"
    assert error.error.message and error.error.inner_error is not None
