"""Graph ``mailFolders``: list, get (by id or well-known name) and ``childFolders``."""

from __future__ import annotations

from ..store import Folder
from ..web import Response
from . import errors, odata, permissions, responses, serialize
from .pipeline import GraphCall, GraphRoutes

DEFAULT_PAGE = 10
_HIDDEN = {"recoverableitemsdeletions", "recoverableitemspurges"}


def _filtered(folders: list[Folder], options: odata.QueryOptions) -> list[Folder]:
    if options.filter is None:
        return folders
    return [
        f
        for f in folders
        if odata.evaluate(options.filter, lambda p, f=f: _property(f, p))  # type: ignore[misc]
    ]


def _property(f: Folder, path: str) -> object:
    data = serialize.folder(f)
    for key, value in data.items():
        if key.lower() == path.lower():
            return value
    raise errors.invalid_filter(f"Could not find a property named '{path}' on type mailFolder.")


def _respond(call: GraphCall, folders: list[Folder], fragment: str) -> Response:
    options = call.options()
    return responses.collection(
        call,
        _filtered(folders, options),
        lambda f: serialize.folder(f, options.select),
        fragment,
        options,
        default_top=DEFAULT_PAGE,
    )


def list_folders(call: GraphCall) -> Response:
    """GET /users/{id}/mailFolders: the folders under the message folder root."""
    assert call.mailbox is not None
    root = call.folder("msgfolderroot")
    folders = [
        f
        for f in call.store.folders(call.mailbox.id, root.id)
        if f.well_known not in _HIDDEN and f.well_known != "contacts"
    ]
    return _respond(call, folders, f"{responses.user_set(call)}/mailFolders")


def get_folder(call: GraphCall) -> Response:
    """GET /users/{id}/mailFolders/{id | wellKnownName}."""
    options = call.options()
    data = serialize.folder(call.folder(), options.select)
    return responses.entity(call, data, f"{responses.user_set(call)}/mailFolders", options=options)


def list_child_folders(call: GraphCall) -> Response:
    """GET /users/{id}/mailFolders/{id}/childFolders."""
    assert call.mailbox is not None
    parent = call.folder()
    folders = call.store.folders(call.mailbox.id, parent.id)
    fragment = (
        f"{responses.user_set(call)}/mailFolders('{serialize.rest_id(parent.id)}')/childFolders"
    )
    return _respond(call, folders, fragment)


def register(routes: GraphRoutes) -> None:
    """Adds the mail folder routes."""
    read = permissions.MAIL_READ_BASIC
    routes.add("GET", "/users/{user}/mailFolders", list_folders, read)
    routes.add("GET", "/users/{user}/mailFolders/{folder}", get_folder, read)
    routes.add("GET", "/users/{user}/mailFolders/{folder}/childFolders", list_child_folders, read)
