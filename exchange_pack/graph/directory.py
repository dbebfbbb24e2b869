"""get_searchable_mailboxes on Graph: users with a mailbox, typed by ``userPurpose``.

``GET /users`` (paged), then ``mailboxSettings/userPurpose`` for each user with a mail
address through ``$batch`` (20 per round trip); a 404 there means the user has no mailbox.
"""

from __future__ import annotations

from ..models import MailboxInfo
from .shape import mailbox_info
from .transport import BatchRequest, GraphClient, graph_path, with_query

USER_FIELDS = "id,displayName,mail,userPrincipalName"
USERS_PAGE = 999
# Each sub-request reads another user's settings, so Outlook's 4 concurrent requests per app
# and mailbox are never approached: as many batches in flight as the fan-out starts with.
BATCH_CONCURRENCY = 16


def searchable_mailboxes(client: GraphClient, limit: int | None = None) -> list[MailboxInfo]:
    """Users that have a mailbox, with type user/shared/room/equipment."""
    top = min(limit, USERS_PAGE) if limit else USERS_PAGE
    users = []
    for page in client.pages(with_query("/users", {"$select": USER_FIELDS, "$top": top})):
        users += [user for user in page.get("value") or [] if user.get("mail")]
        if limit and len(users) >= limit:
            users = users[:limit]
            break
    requests = [
        BatchRequest(id=str(i), url=graph_path("/users/{}/mailboxSettings/userPurpose", u["id"]))
        for i, u in enumerate(users)
    ]
    answers = client.batch(requests, concurrency=BATCH_CONCURRENCY)
    mailboxes = []
    for index, user in enumerate(users):
        answer = answers.get(str(index))
        if answer is not None and answer.status == 404:
            continue  # no mailbox behind this user
        purpose = "unknown"
        if answer is not None and answer.ok and isinstance(answer.body, dict):
            purpose = answer.body.get("value") or answer.body.get("userPurpose") or "unknown"
        mailboxes.append(mailbox_info(user, str(purpose)))
    return mailboxes
