"""Graph ``mailFolders``: list, get (by id or well-known name), create, and ``childFolders``."""

from __future__ import annotations

from ..store import Folder, StoreError
from ..web import Response
from . import errors, odata, permissions, responses, serialize
from .pipeline import GraphCall, GraphRoutes

DEFAULT_PAGE = 10
_HIDDEN = {"recoverableitemsdeletions", "recoverableitemspurges"}
_CREATE_KEYS = {"displayname", "ishidden", "@odata.type"}
_COUNTS = {"childfoldercount", "unreaditemcount", "totalitemcount"}


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


def _wants_counts(options: odata.QueryOptions) -> bool:
    """False when neither ``$select`` nor ``$filter`` can see a count (they cost a query each)."""
    if options.select is None or options.filter is not None:
        return True
    return any(name.lower() in _COUNTS for name in options.select)


def list_folders(call: GraphCall) -> Response:
    """GET /users/{id}/mailFolders: the folders under the message folder root."""
    assert call.mailbox is not None
    counts = _wants_counts(call.options())
    folders = [
        f
        for f in call.store.folders(call.mailbox.id, counts=counts)
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


def _create(call: GraphCall, parent: Folder, fragment: str) -> Response:
    """A new folder under ``parent`` from a mailFolder body; 409 ErrorFolderExists on a name
    a sibling already has (Exchange compares folder names case-insensitively)."""
    data = call.json_body()
    for key in data:
        if key.lower() not in _CREATE_KEYS:
            raise errors.bad_request(
                f"The property '{key}' does not exist on type 'microsoft.graph.mailFolder'."
            )
    name = data.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise errors.bad_request("The folder name must not be empty.", "ErrorInvalidRequest")
    if data.get("isHidden") not in (None, False):
        raise errors.bad_request("Hidden folders are not supported.", "ErrorInvalidRequest")
    try:
        created = call.store.create_folder(parent.mailbox_id, parent.id, name)
    except StoreError:
        raise errors.GraphError(
            409, "ErrorFolderExists", "A folder with the specified name already exists."
        ) from None
    return responses.entity(call, serialize.folder(created), fragment, status=201)


def create_folder(call: GraphCall) -> Response:
    """POST /users/{id}/mailFolders: a folder under the message folder root."""
    parent = call.folder("msgfolderroot")
    return _create(call, parent, f"{responses.user_set(call)}/mailFolders")


def create_child_folder(call: GraphCall) -> Response:
    """POST /users/{id}/mailFolders/{id}/childFolders."""
    parent = call.folder()
    fragment = (
        f"{responses.user_set(call)}/mailFolders('{serialize.rest_id(parent.id)}')/childFolders"
    )
    return _create(call, parent, fragment)


def register(routes: GraphRoutes) -> None:
    """Adds the mail folder routes."""
    read = permissions.MAIL_READ_BASIC
    routes.add("POST", "/users/{user}/mailFolders", create_folder, permissions.MAIL_WRITE)
    routes.add(
        "POST",
        "/users/{user}/mailFolders/{folder}/childFolders",
        create_child_folder,
        permissions.MAIL_WRITE,
    )
    routes.add("GET", "/users/{user}/mailFolders", list_folders, read)
    routes.add("GET", "/users/{user}/mailFolders/{folder}", get_folder, read)
    routes.add("GET", "/users/{user}/mailFolders/{folder}/childFolders", list_child_folders, read)
