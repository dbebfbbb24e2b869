"""What the platform adapter tests share (a module with a distinct name, so tests can import it)."""

from __future__ import annotations

CAMPAIGN_SENDER = "billing@contoso-payments.com"
CAMPAIGN_USERS = ("alice", "bob", "carol")


def campaign_id(user: str) -> str:
    """The internet_message_id of ``user``'s copy of the seeded phishing message."""
    return f"<inv-20931-{user}@contoso-payments.com>"
