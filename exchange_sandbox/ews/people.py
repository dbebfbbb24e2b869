"""People: ResolveNames (contacts + directory), FindPeople, and contacts folders in FindItem."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ..store import Contact, Folder, Mailbox
from .errors import EwsError, EwsFault
from .serialize import contact_element
from .service import EwsContext, error_children, operation, response
from .soap import M, T, m

_MAILBOX_TYPES = {"user": "Mailbox", "shared": "Mailbox", "room": "Mailbox", "equipment": "Mailbox"}


def contact_items(
    context: EwsContext, folder: Folder, view: etree._Element | None
) -> list[Contact]:
    """A contacts folder's contacts by display name, within ContactsView's name range."""
    found = sorted(context.store.contacts(folder.mailbox_id), key=lambda c: c.display_name.lower())
    if view is None:
        return found
    initial = (view.get("InitialName") or "").lower()
    final = (view.get("FinalName") or "").lower()
    chosen = [
        c
        for c in found
        if c.display_name.lower() >= initial and (not final or c.display_name.lower() <= final)
    ]
    limit = int(view.get("MaxEntriesReturned", "0") or 0)
    return chosen[:limit] if limit else chosen


@dataclass
class _Candidate:
    """One name-resolution hit: a directory mailbox or a personal contact."""

    name: str
    address: str
    mailbox_type: str
    contact: Contact | None = None
    mailbox: Mailbox | None = None


def _matches(text: str, *values: str) -> bool:
    return any(v and (v.lower() == text or v.lower().startswith(text)) for v in values)


def _directory_hits(context: EwsContext, text: str) -> list[_Candidate]:
    hits = []
    for mailbox in context.store.mailboxes():
        local = mailbox.address.split("@", 1)[0]
        names = mailbox.display_name.split()
        if _matches(text, mailbox.address, local, mailbox.display_name, *names):
            hits.append(
                _Candidate(
                    mailbox.display_name,
                    mailbox.address,
                    _MAILBOX_TYPES[mailbox.type],
                    mailbox=mailbox,
                )
            )
    return hits


def _contact_hits(context: EwsContext, text: str) -> list[_Candidate]:
    if context.mailbox is None:
        return []
    hits = []
    for contact in context.store.contacts(context.mailbox.id):
        addresses = [a.address for a in contact.emails]
        if _matches(text, contact.display_name, contact.given_name, contact.surname, *addresses):
            address = addresses[0] if addresses else ""
            hits.append(_Candidate(contact.display_name, address, "Contact", contact=contact))
    return hits


def _directory_contact(mailbox: Mailbox) -> etree._Element:
    return T.Contact(
        T.DisplayName(mailbox.display_name),
        T.EmailAddresses(T.Entry(f"SMTP:{mailbox.address}", Key="EmailAddress1")),
        T.ContactSource("ActiveDirectory"),
    )


def _resolution(candidate: _Candidate, full: bool) -> etree._Element:
    mailbox = T.Mailbox(
        T.Name(candidate.name),
        T.EmailAddress(candidate.address),
        T.RoutingType("SMTP"),
        T.MailboxType(candidate.mailbox_type),
    )
    if candidate.contact is not None:
        mailbox.append(T.ItemId(Id=candidate.contact.id, ChangeKey="EQAAABYAAAA="))
    resolution = T.Resolution(mailbox)
    if full and candidate.contact is not None:
        resolution.append(contact_element(candidate.contact, with_id=False))
    elif full and candidate.mailbox is not None:
        resolution.append(_directory_contact(candidate.mailbox))
    return resolution


@operation("ResolveNames")
def resolve_names(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS ResolveNames over the mailbox's contacts and the tenant directory."""
    entry = (request.findtext(m("UnresolvedEntry")) or "").strip()
    text = entry.lower().removeprefix("smtp:")
    scope = request.get("SearchScope", "ActiveDirectoryContacts")
    full = request.get("ReturnFullContactData") == "true"
    hits: list[_Candidate] = []
    if "Contacts" in scope or scope == "Contacts":
        hits += _contact_hits(context, text)
    if scope.startswith("ActiveDirectory") or scope == "ContactsActiveDirectory":
        known = {h.address.lower() for h in hits}
        hits += [h for h in _directory_hits(context, text) if h.address.lower() not in known]
    if not hits:
        message = M.ResolveNamesResponseMessage(ResponseClass="Error")
        message.extend(error_children(EwsError("ErrorNameResolutionNoResults")))
        return response("ResolveNames", [message])
    resolution_set = M.ResolutionSet(
        TotalItemsInView=str(len(hits)), IncludesLastItemInRange="true"
    )
    resolution_set.extend(_resolution(h, full) for h in hits)
    if len(hits) == 1:
        message = M.ResolveNamesResponseMessage(M.ResponseCode("NoError"), ResponseClass="Success")
    else:
        message = M.ResolveNamesResponseMessage(ResponseClass="Warning")
        message.extend(error_children(EwsError("ErrorNameResolutionMultipleResults")))
    message.append(resolution_set)
    return response("ResolveNames", [message])


def _persona(candidate: _Candidate) -> etree._Element:
    persona_id = candidate.contact.id if candidate.contact else candidate.mailbox.guid  # type: ignore[union-attr]
    persona = T.Persona(T.PersonaId(Id=persona_id), T.PersonaType("Person"))
    persona.append(T.DisplayName(candidate.name))
    if candidate.contact is not None:
        if candidate.contact.given_name:
            persona.append(T.GivenName(candidate.contact.given_name))
        if candidate.contact.surname:
            persona.append(T.Surname(candidate.contact.surname))
        if candidate.contact.company:
            persona.append(T.CompanyName(candidate.contact.company))
    persona.append(
        T.EmailAddress(
            T.Name(candidate.name), T.EmailAddress(candidate.address), T.RoutingType("SMTP")
        )
    )
    persona.append(T.RelevanceScore("2147483647"))
    return persona


@operation("FindPeople", since="Exchange2013")
def find_people(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS FindPeople over a contacts folder or the directory, with QueryString."""
    text = (request.findtext(m("QueryString")) or "").strip().lower()
    parent = request.find(m("ParentFolderId"))
    folder_element = None if parent is None else next(iter(parent), None)
    if folder_element is not None and folder_element.get("Id") == "directory":
        candidates = _directory_hits(context, text)
    else:
        folder = context.folder(folder_element) if folder_element is not None else None
        owner = folder.mailbox_id if folder else context.require_mailbox().id
        contacts = sorted(context.store.contacts(owner), key=lambda c: c.display_name.lower())
        candidates = [
            _Candidate(c.display_name, c.emails[0].address if c.emails else "", "Contact", c)
            for c in contacts
            if not text or _matches(text, c.display_name, c.given_name, c.surname,
                                    *[a.address for a in c.emails])
        ]  # fmt: skip
    view = request.find(m("IndexedPageItemView"))
    offset = int(view.get("Offset", "0")) if view is not None else 0
    limit = int(view.get("MaxEntriesReturned", "0") or 0) if view is not None else 0
    page = candidates[offset : offset + limit] if limit else candidates[offset:]
    people = M.People()
    people.extend(_persona(c) for c in page)
    return M.FindPeopleResponse(
        M.ResponseCode("NoError"),
        people,
        M.TotalNumberOfPeopleInView(str(len(candidates))),
        M.FirstMatchingRowIndex(str(offset)),
        M.FirstLoadedRowIndex(str(offset)),
        ResponseClass="Success",
    )


def _candidate_by_persona_id(context: EwsContext, persona_id: str) -> _Candidate:
    contact = context.store.contact(persona_id)
    if contact is not None:
        context.accessible(context.store.mailbox(contact.mailbox_id) or context.require_mailbox())
        address = contact.emails[0].address if contact.emails else ""
        return _Candidate(contact.display_name, address, "Contact", contact)
    mailbox = context.store.mailbox(persona_id)
    if mailbox is None:
        raise EwsError("ErrorItemNotFound")
    return _Candidate(mailbox.display_name, mailbox.address, "Mailbox", mailbox=mailbox)


@operation("GetPersona", since="Exchange2013")
def get_persona(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS GetPersona for the personas FindPeople returns."""
    persona_id = next(
        (c.get("Id", "") for c in request if etree.QName(c).localname == "PersonaId"), ""
    )
    try:
        persona = _persona(_candidate_by_persona_id(context, persona_id))
    except EwsFault:
        raise
    except EwsError as error:
        message = M.GetPersonaResponseMessage(ResponseClass="Error")
        message.extend(error_children(error))
        message.append(M.Persona(T.PersonaId(Id=persona_id)))  # the schema requires one
        return message
    persona.tag = m("Persona")
    return M.GetPersonaResponseMessage(M.ResponseCode("NoError"), persona, ResponseClass="Success")
