"""The async SDK baseline: a careful hand-written ``msgraph-sdk`` script searching mailboxes.

What an engineer writes with Microsoft's Python SDK: one ``GraphServiceClient`` on the SDK's
default middleware (its retry handler honours ``Retry-After``), one token from msal, and every
mailbox's ``GET /users/{mailbox}/messages?$filter=from/emailAddress/address eq '<sender>'``
started at once under an ``asyncio.Semaphore`` of ``IN_FLIGHT`` (the pack's starting window),
on one HTTP/1.1 keep-alive pool. No folder names: it does less than the pack.

Runs as its own process, like an action: ``python -m bench.sdk_search`` reads
``{"config": {...}, "parameters": {"mailboxes": [...], "sender": "..."}}`` on stdin and prints
one JSON line: messages found, mailboxes failed, requests. Needs the ``bench`` extra.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.users.item.messages.messages_request_builder import MessagesRequestBuilder
from msgraph_core import GraphClientFactory

from .naive_search import acquire_token, graph_session

IN_FLIGHT = 16
SELECT = ["id", "internetMessageId", "subject", "from", "receivedDateTime", "parentFolderId"]


class StaticToken(AccessTokenProvider):
    """The token msal fetched once, for the sandbox host only."""

    def __init__(self, token: str, host: str) -> None:
        self.token = token
        self.validator = AllowedHostsValidator([host])

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] | None = None
    ) -> str:
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self.validator


async def search(config: dict[str, Any], mailboxes: list[str], sender: str) -> dict[str, Any]:
    """Every mailbox's ``$filter`` query through the SDK, IN_FLIGHT at a time."""
    token = acquire_token(config, graph_session(config))
    graph = config["graph_url"].rstrip("/")
    http = httpx.AsyncClient(
        verify=config.get("ca_bundle") or True,
        trust_env=False,
        limits=httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT),
        timeout=60,
    )
    auth = BaseBearerTokenAuthenticationProvider(StaticToken(token, urlsplit(graph).hostname))
    client = GraphClientFactory.create_with_default_middleware(client=http)
    adapter = GraphRequestAdapter(auth, client=client)
    adapter.base_url = f"{graph}/v1.0"
    service = GraphServiceClient(request_adapter=adapter)
    query = MessagesRequestBuilder.MessagesRequestBuilderGetQueryParameters(
        filter=f"from/emailAddress/address eq '{sender}'", select=SELECT, top=50
    )
    request = RequestConfiguration(query_parameters=query)
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(mailbox: str) -> int | None:
        async with gate:
            try:
                page = await service.users.by_user_id(mailbox).messages.get(request)
            except Exception:  # an APIError or transport error: this mailbox failed
                return None
        return len(page.value or []) if page is not None else 0

    counts = await asyncio.gather(*(one(mailbox) for mailbox in mailboxes))
    await http.aclose()
    return {
        "mailboxes": len(mailboxes),
        "messages": sum(c for c in counts if c is not None),
        "failed": sum(1 for c in counts if c is None),
        "requests": len(mailboxes),
    }


def main() -> int:
    """stdin document in, one JSON line out."""
    document = json.load(sys.stdin)
    parameters = document["parameters"]
    result = asyncio.run(search(document["config"], parameters["mailboxes"], parameters["sender"]))
    print(json.dumps(result))
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
