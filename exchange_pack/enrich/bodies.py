"""Bodies of a parsed message (text, and the HTML's visible text) and the URLs in them,
deduplicated, with Microsoft Defender SafeLinks wrappers unwrapped."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from .models import Url

MAX_BODY_CHARS = 100_000
MAX_URLS = 500
_SKIPPED = {"script", "style", "head", "title", "noscript", "template"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "source", "wbr"}
_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_TEXT_URL = re.compile(r"https?://[^\s<>\"'`)\]}]+", re.IGNORECASE)
_SAFELINKS_HOST = "safelinks.protection.outlook.com"


class _VisibleText(HTMLParser):
    """Collects the text a reader sees, and every link target (visible or not)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden: list[str] = []  # open tags that hide their content
        self._size = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag in ("a", "area") and values.get("href"):
            self.links.append(values["href"].strip())
        if tag in _VOID:
            if tag == "br":
                self.parts.append("\n")
            return
        hidden = (
            tag in _SKIPPED
            or "hidden" in values
            or bool(_HIDDEN_STYLE.search(values.get("style", "")))
        )
        if hidden or self._hidden:
            self._hidden.append(tag)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._hidden:
            if tag in self._hidden:
                while self._hidden and self._hidden.pop() != tag:
                    continue
            return
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden and self._size < MAX_BODY_CHARS:
            self.parts.append(data)
            self._size += len(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n".join(line for line in lines if line)[:MAX_BODY_CHARS]


def html_text(html: str) -> tuple[str, list[str]]:
    """(visible text, link targets) of an HTML body."""
    parser = _VisibleText()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # html.parser on broken markup: keep what it read
        pass
    return parser.text(), parser.links


def unwrap(url: str) -> tuple[str, str | None]:
    """(target, wrapper): a SafeLinks URL's ``url`` parameter, else the URL itself."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == _SAFELINKS_HOST or host.endswith("." + _SAFELINKS_HOST):
        target = parse_qs(parts.query).get("url")
        if target and target[0].lower().startswith(("http://", "https://")):
            return target[0], url
    return url, None


def collect_urls(text: str, links: list[str]) -> tuple[list[Url], bool]:
    """http(s) URLs from the links and the text, unwrapped, first occurrence kept; whether
    MAX_URLS cut the list."""
    found: dict[str, Url] = {}
    candidates = [*links, *_TEXT_URL.findall(text)]
    for raw in candidates:
        raw = raw.strip().rstrip(".,;:!?")
        if not raw.lower().startswith(("http://", "https://")):
            continue
        target, wrapper = unwrap(raw)
        if target in found:
            continue
        if len(found) == MAX_URLS:
            return list(found.values()), True
        domain = (urlsplit(target).hostname or "").lower()
        found[target] = Url(url=target, domain=domain, wrapped=wrapper)
    return list(found.values()), False
