"""The naive fan-out baseline: search mailboxes one after another, one Graph request each.

This is how peer integrations search "all mailboxes" for a sender: acquire a token with msal,
then for each mailbox ``GET /users/{mailbox}/messages?$filter=from/emailAddress/address eq
'<sender>'`` and wait for the answer before asking the next mailbox. Same HTTP stack as the
pack (requests + msal) and, to be fair to it, one keep-alive ``requests.Session``.

Runs as its own process, like an action: ``python -m bench.naive_search`` reads
``{"config": {...}, "parameters": {"mailboxes": [...], "sender": "..."}}`` on stdin (the
pack's connection config) and prints one JSON line: messages found, mailboxes failed, requests.
"""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import quote

import msal
import requests

SELECT = "id,internetMessageId,subject,from,receivedDateTime,parentFolderId"


def graph_session(config: dict[str, Any]) -> requests.Session:
    """A keep-alive session trusting the configured CA (never REQUESTS_CA_BUNDLE)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = config.get("ca_bundle") or True
    return session


def acquire_token(config: dict[str, Any], session: requests.Session) -> str:
    """Client-credentials token for Graph from msal (no persistent cache: a fresh process)."""
    app = msal.ConfidentialClientApplication(
        config["client_id"],
        client_credential=config["client_secret"],
        authority=f"{config['authority_host'].rstrip('/')}/{config['tenant_id']}",
        instance_discovery=False,
        http_client=session,
    )
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    if "access_token" not in result:
        raise SystemExit(f"no token: {result.get('error')}")
    return result["access_token"]


def search(config: dict[str, Any], mailboxes: list[str], sender: str) -> dict[str, Any]:
    """``GET /users/{mailbox}/messages?$filter=...`` for each mailbox, in order."""
    session = graph_session(config)
    session.headers["Authorization"] = f"Bearer {acquire_token(config, session)}"
    graph = f"{config['graph_url'].rstrip('/')}/v1.0"
    params = {
        "$filter": f"from/emailAddress/address eq '{sender}'",
        "$select": SELECT,
        "$top": "50",
    }
    found = failed = requests_made = 0
    for mailbox in mailboxes:
        response = session.get(f"{graph}/users/{quote(mailbox)}/messages", params=params)
        requests_made += 1
        if response.status_code == 200:
            found += len(response.json().get("value") or [])
        else:
            failed += 1
    return {
        "mailboxes": len(mailboxes),
        "messages": found,
        "failed": failed,
        "requests": requests_made,
    }


def main() -> int:
    """stdin document in, one JSON line out."""
    document = json.load(sys.stdin)
    parameters = document["parameters"]
    result = search(document["config"], parameters["mailboxes"], parameters["sender"])
    print(json.dumps(result))
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
