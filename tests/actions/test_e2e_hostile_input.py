"""Hostile input and damaged local state, end to end on both backends: every run is one clean
envelope with the documented exit code (never 70), the field named, nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from pack_runner import PackRunner

pytestmark = pytest.mark.sandbox

DAMAGED_CACHES = {
    "not-utf8": b"\x00\xff garbage {{{",
    "wrong-shape": b'{"AccessToken": [], "ExchangePackCredentials": "x", '
    b'"ExchangePackDiscovery": 5}',
    "bad-timestamp": b'{"AccessToken": {"k": {"client_id": "c", "expires_on": "soon"}}}',
}


# -- 1: a damaged token cache is set aside -----------------------------------------------------
@pytest.mark.parametrize("damage", sorted(DAMAGED_CACHES))
def test_damaged_token_cache_is_set_aside(
    fresh_pack: PackRunner, backend: str, tmp_path: Path, damage: str
) -> None:
    cache = tmp_path / "cache" / "tokens.json"
    cache.parent.mkdir(mode=0o700)
    cache.write_bytes(DAMAGED_CACHES[damage])
    first = fresh_pack.run(
        "get_out_of_office", {"mailbox": "dave@contoso.com"}, backend, token_cache_path=str(cache)
    )
    assert first.code == 0, first.envelope
    assert any("corrupt" in w and "set aside" in w for w in first.warnings), first.warnings
    [aside] = cache.parent.glob("tokens.json.corrupt-*")
    assert aside.read_bytes() == DAMAGED_CACHES[damage]
    second = fresh_pack.run(
        "get_out_of_office", {"mailbox": "dave@contoso.com"}, backend, token_cache_path=str(cache)
    )
    assert second.code == 0 and second.warnings == []
    assert len(list(cache.parent.glob("tokens.json.corrupt-*"))) == 1
