"""msal's ``http_cache`` with the sign-in authority's discovery answers kept across processes.

msal GETs ``/{tenant}/v2.0/.well-known/openid-configuration`` whenever an app object is built,
so every action process would ask the identity platform once even with its token cached. msal
caches successful GETs for 24 hours in the ``http_cache`` mapping it is given; this mapping
stores those answers (public documents: no token, no secret) as JSON in the token cache file,
so a later process finds them there. msal's answers to throttled token requests stay in the
process, as with msal's default cache: a throttled or failed sign-in is not replayed to the next
process.

msal's entries: ``"GET <url> hash=<params> 2xx"`` (a response: status, text, headers),
``"POST ..."`` (throttled token answers) and ``"_index_"``, its expiry index
``(heap of [expires_at, created_at, key], {key: [expires_at, created_at]})``. Anything else in
a file (another msal layout, a damaged document) is ignored: msal then simply asks again.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, MutableMapping
from types import SimpleNamespace
from typing import Any

from msal.throttled_http_client import NormalizedResponse

INDEX_KEY = "_index_"  # msal's _ExpiringMapping._INDEX
PERSISTED_PREFIX = "GET "


class DiscoveryCache(MutableMapping[str, Any]):
    """msal's ``http_cache`` mapping whose discovery GET answers are saved as JSON."""

    def __init__(self) -> None:
        self._entries: dict[str, Any] = {}
        self.has_state_changed = False

    # -- the mapping msal uses --------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._entries[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._entries[key] = value
        if key.startswith(PERSISTED_PREFIX):
            self.has_state_changed = True

    def __delitem__(self, key: str) -> None:
        del self._entries[key]
        if key.startswith(PERSISTED_PREFIX):
            self.has_state_changed = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    # -- persistence --------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The discovery answers and their expiry, as a JSON object for the cache file."""
        index = _index(self._entries.get(INDEX_KEY))
        if index is None:
            return {}
        expiry = index[1]
        answers = {
            key: {"status_code": value.status_code, "text": value.text, "headers": value.headers}
            for key, value in self._entries.items()
            if key.startswith(PERSISTED_PREFIX) and key in expiry and _is_response(value)
        }
        return {
            "answers": answers,
            "expiry": {key: expiry[key] for key in answers},
        }

    def merge_json(self, document: Any) -> None:
        """Adds the answers from the cache file that this process does not hold yet."""
        saved = _saved_answers(document)
        if not saved:
            return
        index = _index(self._entries.get(INDEX_KEY, ([], {})))
        if index is None:
            return
        heap, expiry = index
        for key, (answer, (expires_at, created_at)) in saved.items():
            if key in self._entries:
                continue
            self._entries[key] = NormalizedResponse(SimpleNamespace(**answer))
            expiry[key] = [expires_at, created_at]
            heapq.heappush(heap, [expires_at, created_at, key])
        self._entries[INDEX_KEY] = (heap, expiry)


def _index(value: Any) -> tuple[list[list[Any]], dict[str, list[int]]] | None:
    """msal's expiry index, or None when it is not the layout this module knows."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return None
    heap, expiry = value
    if not isinstance(heap, list) or not isinstance(expiry, dict):
        return None
    return heap, expiry


def _is_response(value: Any) -> bool:
    return (
        isinstance(getattr(value, "status_code", None), int)
        and isinstance(getattr(value, "text", None), str)
        and isinstance(getattr(value, "headers", None), dict)
    )


def _saved_answers(document: Any) -> dict[str, tuple[dict[str, Any], tuple[int, int]]]:
    """The well-formed ``key -> (answer, (expires_at, created_at))`` pairs of a file's entry."""
    if not isinstance(document, dict):
        return {}
    answers, expiry = document.get("answers"), document.get("expiry")
    if not isinstance(answers, dict) or not isinstance(expiry, dict):
        return {}
    saved = {}
    for key, answer in answers.items():
        times = expiry.get(key)
        if (
            isinstance(key, str)
            and key.startswith(PERSISTED_PREFIX)
            and isinstance(answer, dict)
            and set(answer) == {"status_code", "text", "headers"}
            and _is_response(SimpleNamespace(**answer))
            and isinstance(times, list)
            and len(times) == 2
            and all(isinstance(t, int) for t in times)
        ):
            saved[key] = (answer, (times[0], times[1]))
    return saved
