"""Graph ``users``: list (``$filter``, ``$select``, ``$top``, ``$count``, paging) and get."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

from ..store import Mailbox, Store
from ..web import Response
from . import errors, odata, permissions, responses, serialize
from .pipeline import GraphCall, GraphRoutes

DEFAULT_PAGE = 100
_FILTERABLE = {
    p.lower(): p for p in (*serialize.USER_PROPERTIES, "accountEnabled", "userType", "mailNickname")
}
_COLLECTIONS = {"proxyaddresses": "proxyAddresses", "othermails": "otherMails"}


def _check(expr: odata.Expr) -> None:
    if isinstance(expr, odata.And | odata.Or):
        _check(expr.left)
        _check(expr.right)
    elif isinstance(expr, odata.Not):
        _check(expr.operand)
    elif isinstance(expr, odata.AnyOf):
        if expr.collection.lower() not in _COLLECTIONS:
            raise errors.invalid_filter(f"'{expr.collection}' is not a collection of type user.")
    elif expr.prop.path.lower() not in _FILTERABLE:
        raise errors.invalid_filter(
            f"Unsupported or invalid query filter clause specified for property "
            f"'{expr.prop.path}' of resource 'User'."
        )


def _lookup(data: dict[str, Any]) -> Any:
    lower = {k.lower(): v for k, v in data.items()}
    return lambda path: lower.get(path.lower())


class _Tenant(Sequence[Mailbox]):
    """Every mailbox in creation order, read from the store a slice at a time: one page of an
    unfiltered, unordered ``GET /users`` costs its page, not the whole tenant."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.total = store.count_mailboxes()

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> Mailbox: ...
    @overload
    def __getitem__(self, index: slice) -> list[Mailbox]: ...
    def __getitem__(self, index: int | slice) -> Mailbox | list[Mailbox]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self.total)
            chunk = self.store.mailboxes(offset=start, limit=max(0, stop - start))
            return chunk[::step]
        position = range(self.total)[index]  # IndexError outside, as a list
        return self.store.mailboxes(offset=position, limit=1)[0]


def list_users(call: GraphCall) -> Response:
    """GET /users."""
    options = call.options()
    if options.search is not None:
        raise errors.bad_request(
            "Request with $search query parameter only works through MSGraph with a special "
            "request header: 'ConsistencyLevel: eventual'",
            code="Request_UnsupportedQuery",
        )
    if options.filter is None and not options.orderby:
        return _page(call, _Tenant(call.store), options)
    mailboxes = call.store.mailboxes()
    if options.filter is not None:
        _check(options.filter)
        mailboxes = [
            mb
            for mb in mailboxes
            if odata.evaluate(options.filter, _lookup(serialize.user_lookup(mb)))
        ]
    for name, descending in reversed(options.orderby):
        key = _FILTERABLE.get(name.lower())
        if key is None:
            raise errors.unknown_property(name, "user")
        mailboxes.sort(
            key=lambda mb, k=key: str(serialize.user_lookup(mb).get(k) or "").casefold(),
            reverse=descending,
        )
    return _page(call, mailboxes, options)


def _page(call: GraphCall, mailboxes: Sequence[Mailbox], options: odata.QueryOptions) -> Response:
    return responses.collection(
        call,
        mailboxes,
        lambda mb: serialize.user(mb, options.select),
        "users",
        options,
        default_top=DEFAULT_PAGE,
    )


def get_user(call: GraphCall) -> Response:
    """GET /users/{id | userPrincipalName}."""
    assert call.mailbox is not None
    options = call.options()
    return responses.entity(
        call, serialize.user(call.mailbox, options.select), "users", options=options
    )


def me(call: GraphCall) -> Response:
    """Any ``/me`` route: app-only tokens have no signed-in user, so Graph refuses it."""
    raise errors.bad_request("/me request is only valid with delegated authentication flow.")


def register(routes: GraphRoutes) -> None:
    """Adds the user routes (and ``/me``, which application permissions cannot use)."""
    for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
        routes.add(method, "/me{rest}", me, (), target="none")
    routes.add("GET", "/users", list_users, permissions.USERS_READ, target="none")
    routes.add("GET", "/users/{user}", get_user, permissions.USERS_READ, target="directory")
