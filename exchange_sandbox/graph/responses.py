"""Graph response bodies: an entity with ``@odata.context``, or a collection page with
``@odata.count`` and an absolute ``@odata.nextLink`` on this server."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..web import Response
from . import odata
from .pipeline import GraphCall

T = TypeVar("T")


def _with_select(fragment: str, options: odata.QueryOptions) -> str:
    return f"{fragment}({','.join(options.select)})" if options.select else fragment


def collection(
    call: GraphCall,
    items: Sequence[T],
    render: Callable[[T], dict[str, Any]],
    fragment: str,
    options: odata.QueryOptions,
    *,
    default_top: int = 10,
    headers: dict[str, str] | None = None,
) -> Response:
    """One page of ``items`` rendered with ``render``; ``fragment`` names the entity set."""
    page = odata.paginate(items, options, default_top)
    body: dict[str, Any] = {"@odata.context": call.context(_with_select(fragment, options))}
    if options.count:
        body["@odata.count"] = page.total
    body["value"] = [render(item) for item in page.items]
    if page.next_offset is not None:
        body["@odata.nextLink"] = odata.next_link(call.request, page.next_offset)
    return Response.json(200, body, headers)


def entity(
    call: GraphCall,
    data: dict[str, Any],
    fragment: str,
    *,
    status: int = 200,
    options: odata.QueryOptions | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A single entity with its ``@odata.context`` first, as Graph orders it."""
    context = _with_select(fragment, options) if options else fragment
    body = {"@odata.context": call.context(f"{context}/$entity"), **data}
    return Response.json(status, body, headers)


def count(total: int) -> Response:
    """``/$count``: the number alone, as ``text/plain``."""
    return Response(200, {"Content-Type": "text/plain; charset=utf-8"}, str(total).encode())


def user_set(call: GraphCall) -> str:
    """``users('alice%40contoso.com')`` as Graph writes the user key in a context URL."""
    return f"users('{call.params['user'].replace('@', '%40')}')"
