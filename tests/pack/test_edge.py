"""The edge checks and URL scrubbing as pure logic: addresses, text, nesting, URLs."""

from __future__ import annotations

import pytest

from exchange_pack.edge import address_problem, depth_problem, text_problem, url_problem
from exchange_pack.envelope import REDACTED, Scrubber, url_secrets
from exchange_pack.errors import InputError
from exchange_pack.inputs import parse_argv, read_input, validate_parameters


@pytest.mark.parametrize(
    "address",
    [
        "bob@contoso.com",
        "first.last+tag@sub.contoso.co.uk",
        "o'brien@contoso.com",
        "a@b",
        "x@xn--bcher-kva.example",
    ],
)
def test_addresses_accepted(address: str) -> None:
    assert address_problem(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "",
        "x@evil.example,bob@contoso.com",
        '"x@evil.example" <bob@contoso.com>',
        "<bob@contoso.com>",
        "a b@c.com",
        "\u0000@b.com",
        "a@\u202eb.com",
        "a@b.com\r\nBcc: x@y",
        "bob@contoso.com;x@y.com",
        '"quoted"@contoso.com',
        "bob@[127.0.0.1]",
        "bob.@contoso.com",
        ".bob@contoso.com",
        "bo..b@contoso.com",
        "bob@-contoso.com",
        "bob@contoso..com",
        "bob@contoso.com.",
        "bob",
        "@contoso.com",
        "bob@",
        "b" * 65 + "@contoso.com",
        "bob@" + "a" * 64 + ".com",
        "bücher@contoso.com",
    ],
)
def test_addresses_refused(address: str) -> None:
    assert address_problem(address)


@pytest.mark.parametrize(
    ("text", "multiline", "refused"),
    [
        ("plain text", False, False),
        ("tab\tok", False, False),
        ("two\nlines", True, False),
        ("two\nlines", False, True),
        ("two\u2028lines", False, True),
        ("\ud800", True, True),
        ("a\u0001b", True, True),
        ("nul\u0000", True, True),
        ("\uffff", True, True),
        ("emoji \U0001f600 ok", False, False),
    ],
)
def test_text(text: str, multiline: bool, refused: bool) -> None:
    assert bool(text_problem(text, multiline)) is refused


def test_depth_is_counted_without_recursion() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert depth_problem(deep)
    assert depth_problem({"a": [["x"]]}) is None


@pytest.mark.parametrize(
    ("url", "userinfo_allowed", "refused"),
    [
        ("https://graph.microsoft.com", False, False),
        ("http://soc:pw@proxy:3128", True, False),
        ("http://soc:pw@proxy:3128", False, True),
        ("http://proxy:99999", True, True),
        ("http://[::1", True, True),
        ("http:///path", True, True),
        ("http://proxy:3128 x", True, True),
    ],
)
def test_urls(url: str, userinfo_allowed: bool, refused: bool) -> None:
    problem = url_problem(url, userinfo_allowed)
    assert bool(problem) is refused
    assert "pw" not in (problem or "")


def test_scrubber_removes_url_userinfo_everywhere() -> None:
    scrubber = Scrubber()
    text = "ProxyError: http://soc:S3cret%21@proxy:3128 failed; see https://graph/users/a@b.com"
    scrubbed = scrubber.text(text)
    assert "S3cret" not in scrubbed
    assert f"http://{REDACTED}@proxy:3128" in scrubbed
    assert "https://graph/users/a@b.com" in scrubbed  # an address in a path is no userinfo
    glued = scrubber.text('"-1http://user:Pa\'ss~9@proxy:3128" and xhttps://u:Pw@h')
    assert "Pa'ss" not in glued and "Pw" not in glued


def test_url_secrets_include_the_decoded_password() -> None:
    secrets = url_secrets({"proxy_url": "http://soc:S3cret%21@proxy:3128", "graph_url": "http://["})
    assert {"soc:S3cret%21", "S3cret%21", "S3cret!"} <= set(secrets)
    scrubber = Scrubber(secrets)
    assert "S3cret" not in scrubber.text("password was S3cret! and soc:S3cret%21")


def test_url_credentials_are_refused_as_flags() -> None:
    args = parse_argv(["--proxy_url", "http://soc:S3cret%21@proxy:3128", "--mailbox", "a@b.com"])
    with pytest.raises(InputError) as caught:
        read_input(args, None, {}, {"mailbox"})
    assert "--proxy_url" in caught.value.message
    assert "S3cret" not in caught.value.message + (caught.value.hint or "")


def test_integral_float_for_an_integer_is_an_integer() -> None:
    assert validate_parameters("get_searchable_mailboxes", {"limit": 1000.0})["limit"] == 1000
    with pytest.raises(InputError):
        validate_parameters("get_searchable_mailboxes", {"limit": 10.5})
