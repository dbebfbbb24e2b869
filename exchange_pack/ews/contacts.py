"""get_contacts on EWS: FindItem on the Contacts folder, with a local text filter.

No EWS Restriction does a substring match over names, company and the indexed email
addresses together, so the text filter runs locally (like the Graph backend's) over a larger
window; without a filter the page comes straight from the server's IndexedPageItemView.
"""

from __future__ import annotations

from exchangelib import Account
from exchangelib import Contact as EwsContact
from exchangelib.fields import FieldPath

from ..models import Contact, Page
from . import folders as folder_lookup
from .find import find_page
from .search import decode_cursor, encode_cursor
from .transport import EwsTransport

CONTACT_FIELDS = (
    "display_name",
    "given_name",
    "surname",
    "company_name",
    "email_addresses",
    "phone_numbers",
    "job_title",
    "department",
)
# Contacts read per request when a text filter has to be checked locally.
FILTER_WINDOW = 1000
# EWS phone labels Graph also has (businessPhones, homePhones, mobilePhone), in Graph's order.
_PHONE_TYPES = (
    (("BusinessPhone", "BusinessPhone2"), "business"),
    (("HomePhone", "HomePhone2"), "home"),
    (("MobilePhone",), "mobile"),
)


def contacts(
    transport: EwsTransport, account: Account, query: str | None, limit: int, cursor: str | None
) -> Page[Contact]:
    """EWS FindItem on ``contacts``: up to ``limit`` contacts matching ``query``."""
    offset = decode_cursor(cursor)
    folder = folder_lookup.distinguished(account, "contacts")
    fields = [FieldPath(field=EwsContact.get_field_by_fieldname(n)) for n in CONTACT_FIELDS]
    needle = (query or "").strip().lower()
    if not needle:
        items, more = find_page(transport, account, [folder], None, fields, limit, offset=offset)
        found = [contact(item) for item in items if isinstance(item, EwsContact)]
        return Page[Contact](
            items=found, next_cursor=encode_cursor(offset + limit) if more else None
        )
    items, _ = find_page(transport, account, [folder], None, fields, FILTER_WINDOW)
    matching = [contact(i) for i in items if isinstance(i, EwsContact) and _matches(i, needle)]
    page = matching[offset : offset + limit]
    more = len(matching) > offset + limit
    return Page[Contact](items=page, next_cursor=encode_cursor(offset + limit) if more else None)


def contact(item: EwsContact) -> Contact:
    """An EWS Contact as the pack's Contact (phones typed business, home, mobile)."""
    phones: list[dict[str, str]] = []
    numbers = [(p.label or "", p.phone_number) for p in item.phone_numbers or [] if p.phone_number]
    for labels, kind in _PHONE_TYPES:
        phones += [{"type": kind, "number": n} for label, n in numbers if label in labels]
    return Contact(
        id=item.id,
        display_name=item.display_name or "",
        given_name=item.given_name or "",
        surname=item.surname or "",
        email_addresses=[e.email for e in item.email_addresses or [] if e.email],
        phones=phones,
        company=item.company_name or "",
        job_title=item.job_title or "",
        department=item.department or "",
    )


def _matches(item: EwsContact, needle: str) -> bool:
    values = [item.display_name, item.given_name, item.surname, item.company_name]
    values += [e.email for e in item.email_addresses or []]
    return any(needle in (value or "").lower() for value in values)
