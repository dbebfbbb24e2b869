"""Graph ``contacts`` (list with ``$filter``/``$top``/paging, get) and ``contactFolders``."""

from __future__ import annotations

from typing import Any

from .. import ids
from ..store import Contact, Folder
from ..web import Response
from . import errors, odata, permissions, responses, serialize
from .pipeline import GraphCall, GraphRoutes

DEFAULT_PAGE = 10


def _contacts_folder(call: GraphCall) -> Folder:
    return call.folder("contacts")


def _lookup(data: dict[str, Any]) -> Any:
    lower = {k.lower(): v for k, v in data.items()}

    def lookup(path: str) -> Any:
        if path.lower() not in lower:
            raise errors.invalid_filter(
                f"Could not find a property named '{path}' on type contact."
            )
        return lower[path.lower()]

    return lookup


def _list(call: GraphCall, fragment: str) -> Response:
    assert call.mailbox is not None
    options = call.options()
    parent = _contacts_folder(call).id
    found: list[Contact] = call.store.contacts(call.mailbox.id)
    if options.filter is not None:
        found = [
            c
            for c in found
            if odata.evaluate(options.filter, _lookup(serialize.contact(c, parent, None)))
        ]
    for name, descending in reversed(options.orderby):
        found.sort(
            key=lambda c, n=name: str(
                _lookup(serialize.contact(c, parent, None))(n) or ""
            ).casefold(),
            reverse=descending,
        )
    return responses.collection(
        call,
        found,
        lambda c: serialize.contact(c, parent, options.select),
        fragment,
        options,
        default_top=DEFAULT_PAGE,
    )


def list_contacts(call: GraphCall) -> Response:
    """GET /users/{id}/contacts."""
    return _list(call, f"{responses.user_set(call)}/contacts")


def get_contact(call: GraphCall) -> Response:
    """GET /users/{id}/contacts/{id}."""
    assert call.mailbox is not None
    key = ids.parse(call.params["contact"], "contact")
    if key is None:
        raise errors.malformed_id()
    found = call.store.contact(key.ews)
    if found is None or found.mailbox_id != call.mailbox.id:
        raise errors.item_not_found()
    options = call.options()
    data = serialize.contact(found, _contacts_folder(call).id, options.select)
    return responses.entity(call, data, f"{responses.user_set(call)}/contacts", options=options)


def _contact_folder(call: GraphCall) -> Folder:
    """A contact folder by id, or the default one by its well-known name ``contacts``."""
    found = call.folder(call.params["contactfolder"])
    default = _contacts_folder(call)
    if found.id != default.id and found.parent_id != default.id:
        raise errors.item_not_found()
    return found


def list_contact_folders(call: GraphCall) -> Response:
    """GET /users/{id}/contactFolders: the folders under the default Contacts folder."""
    assert call.mailbox is not None
    options = call.options()
    children = call.store.folders(call.mailbox.id, _contacts_folder(call).id)
    return responses.collection(
        call,
        children,
        serialize.contact_folder,
        f"{responses.user_set(call)}/contactFolders",
        options,
        default_top=DEFAULT_PAGE,
    )


def get_contact_folder(call: GraphCall) -> Response:
    """GET /users/{id}/contactFolders/{id}."""
    data = serialize.contact_folder(_contact_folder(call))
    return responses.entity(call, data, f"{responses.user_set(call)}/contactFolders")


def list_folder_contacts(call: GraphCall) -> Response:
    """GET /users/{id}/contactFolders/{id}/contacts (the store keeps every contact in the
    default Contacts folder, so other contact folders are empty)."""
    folder = _contact_folder(call)
    fragment = (
        f"{responses.user_set(call)}/contactFolders('{call.params['contactfolder']}')/contacts"
    )
    if folder.id != _contacts_folder(call).id:
        return responses.collection(
            call, [], serialize.contact_folder, fragment, call.options(), default_top=DEFAULT_PAGE
        )
    return _list(call, fragment)


def register(routes: GraphRoutes) -> None:
    """Adds the contact routes."""
    read = permissions.CONTACTS_READ
    routes.add("GET", "/users/{user}/contacts", list_contacts, read)
    routes.add("GET", "/users/{user}/contacts/{contact}", get_contact, read)
    routes.add("GET", "/users/{user}/contactFolders", list_contact_folders, read)
    routes.add("GET", "/users/{user}/contactFolders/{contactfolder}", get_contact_folder, read)
    routes.add(
        "GET", "/users/{user}/contactFolders/{contactfolder}/contacts", list_folder_contacts, read
    )
