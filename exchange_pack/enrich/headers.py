"""Header analysis of one parsed message: sender addresses and whether their domains agree, the
Received chain (hosts, IPs, times, delay per hop), Authentication-Results verdicts,
X-Originating-IP and Microsoft's anti-spam verdicts. Bounded: at most MAX_HEADERS headers are
read and MAX_HOPS Received headers; a header that does not parse is read as plain text."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import itertools
import re
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from ..models import iso_utc
from .models import AddressCheck, AntiSpam, Authentication, HeaderAnalysis, Hop

MAX_HEADERS = 1000
MAX_HOPS = 100
_ADDRESS_HEADERS = (("from", "From"), ("sender", "Sender"), ("reply_to", "Reply-To"))
_FROM = re.compile(r"\bfrom\s+([^\s;()]+)", re.IGNORECASE)
_BY = re.compile(r"\bby\s+([^\s;()]+)", re.IGNORECASE)
_WITH = re.compile(r"\bwith\s+([^\s;()]+)", re.IGNORECASE)
_IP_CANDIDATE = re.compile(r"[\[(]\s*(?:IPv6:)?([0-9A-Fa-f:.]{3,45})\s*[\])]")
_VERDICT = re.compile(r"\b(spf|dkim|dmarc|compauth)\s*=\s*([A-Za-z]+)", re.IGNORECASE)
_PROPERTY = re.compile(r"\b(smtp\.mailfrom|header\.from)\s*=\s*([^\s;]+)", re.IGNORECASE)


def headers_of(message: EmailMessage) -> tuple[list[tuple[str, str]], bool]:
    """(name, raw value) of the first MAX_HEADERS headers, and whether there were more."""
    # raw_items: the stored values, without building a policy header object for each one.
    items = list(itertools.islice(message.raw_items(), MAX_HEADERS + 1))
    kept = [(name, _plain(str(value))) for name, value in items[:MAX_HEADERS]]
    return kept, len(items) > MAX_HEADERS


def _plain(value: str) -> str:
    """A raw header value unfolded, RFC 2047 encoded-words decoded (when they decode)."""
    if "=?" in value:
        with contextlib.suppress(ValueError, LookupError, UnicodeError):
            value = str(make_header(decode_header(value)))
    return " ".join(value.split())


def _all(headers: list[tuple[str, str]], name: str) -> list[str]:
    wanted = name.lower()
    return [value for key, value in headers if key.lower() == wanted]


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    found = _all(headers, name)
    return found[0] if found else None


def _address(value: str | None) -> str | None:
    if not value:
        return None
    try:
        pairs = getaddresses([value])
    except Exception:  # a hostile header: treat as no address
        return None
    for _, address in pairs:
        if "@" in address:
            return address.strip().lower()
    return None


def org_domain(domain: str) -> str:
    """The registrable part, approximated by the last two labels (three under a two-letter
    second-level such as co.uk)."""
    labels = domain.lower().strip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _addresses(headers: list[tuple[str, str]]) -> list[AddressCheck]:
    found: list[AddressCheck] = []
    for key, name in (*_ADDRESS_HEADERS, ("return_path", "Return-Path")):
        address = _address(_first(headers, name))
        if address:
            found.append(AddressCheck(header=key, address=address, domain=address.split("@")[1]))
    return found


def _ip(text: str) -> str | None:
    for candidate in _IP_CANDIDATE.findall(text):
        try:
            return str(ipaddress.ip_address(candidate.strip()))
        except ValueError:
            continue
    return None


def _when(text: str) -> dt.datetime | None:
    _, _, stamp = text.rpartition(";")
    try:
        parsed = parsedate_to_datetime(stamp.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def received_chain(headers: list[tuple[str, str]]) -> list[Hop]:
    """The Received headers, newest first, each with the delay since the hop before it."""
    hops: list[Hop] = []
    times: list[dt.datetime | None] = []
    for raw in _all(headers, "Received")[:MAX_HOPS]:
        text = " ".join(raw.split())
        before_by = re.split(r"\bby\b", text, maxsplit=1, flags=re.IGNORECASE)[0]
        after_by = text[len(before_by) :]
        when = _when(text)
        times.append(when)
        hops.append(
            Hop(
                from_host=_match(_FROM, before_by),
                from_ip=_ip(before_by),
                by_host=_match(_BY, after_by),
                protocol=_match(_WITH, after_by),
                at=iso_utc(when),
            )
        )
    for index, hop in enumerate(hops[:-1]):
        newer, older = times[index], times[index + 1]
        if newer and older:
            hop.delay_seconds = int((newer - older).total_seconds())
    return hops


def _match(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.search(text)
    return found.group(1).lower() if found else None


def authentication(headers: list[tuple[str, str]]) -> Authentication:
    """Verdicts of the first Authentication-Results header (the receiving system's own)."""
    value = _first(headers, "Authentication-Results") or ""
    result = Authentication()
    for method, verdict in _VERDICT.findall(value):
        if getattr(result, method.lower()) is None:
            setattr(result, method.lower(), verdict.lower())
    for name, found in _PROPERTY.findall(value):
        field = "smtp_mailfrom" if name.lower() == "smtp.mailfrom" else "header_from"
        if getattr(result, field) is None:
            setattr(result, field, found.strip().lower())
    return result


def _pairs(value: str | None) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in (value or "").split(";"):
        key, sep, found = item.partition(":")
        if sep and key.strip():
            pairs.setdefault(key.strip().upper(), found.strip())
    return pairs


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def antispam(headers: list[tuple[str, str]]) -> AntiSpam:
    """X-Forefront-Antispam-Report, X-Microsoft-Antispam and the organisation SCL header."""
    report = _pairs(_first(headers, "X-Forefront-Antispam-Report"))
    microsoft = _pairs(_first(headers, "X-Microsoft-Antispam"))
    scl = _first(headers, "X-MS-Exchange-Organization-SCL")
    return AntiSpam(
        scl=_int(scl.strip() if scl else report.get("SCL")),
        bcl=_int(microsoft.get("BCL")),
        sfv=report.get("SFV") or None,
        category=report.get("CAT") or None,
        country=report.get("CTRY") or None,
        connecting_ip=report.get("CIP") or None,
        direction=report.get("DIR") or None,
    )


def analyse(message: EmailMessage) -> tuple[HeaderAnalysis, bool]:
    """The header analysis, and whether the header count passed MAX_HEADERS."""
    headers, truncated = headers_of(message)
    addresses = _addresses(headers)
    sender = next((a for a in addresses if a.header == "from"), None)
    mismatched = [
        a.header
        for a in addresses
        if sender is not None and org_domain(a.domain) != org_domain(sender.domain)
    ]
    hops = received_chain(headers)
    total = None
    stamped = [h for h in hops if h.at]
    if len(stamped) >= 2:
        total = int(
            (
                dt.datetime.fromisoformat(stamped[0].at.replace("Z", "+00:00"))  # type: ignore[union-attr]
                - dt.datetime.fromisoformat(stamped[-1].at.replace("Z", "+00:00"))  # type: ignore[union-attr]
            ).total_seconds()
        )
    originating = _first(headers, "X-Originating-IP")
    return (
        HeaderAnalysis(
            addresses=addresses,
            domains_agree=not mismatched,
            mismatched_headers=mismatched,
            received=hops,
            total_delay_seconds=total,
            authentication=authentication(headers),
            x_originating_ip=_ip(f"[{originating.strip().strip('[]')}]") if originating else None,
            antispam=antispam(headers),
            header_count=sum(1 for _ in message.raw_items()),
        ),
        truncated,
    )
