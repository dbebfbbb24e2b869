"""get_out_of_office on Graph: ``GET /users/{id}/mailboxSettings/automaticRepliesSetting``."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..models import OutOfOffice, iso_utc
from .shape import parse_time
from .transport import GraphClient, graph_path

STATUS = {"disabled": "disabled", "alwaysenabled": "always_enabled", "scheduled": "scheduled"}
AUDIENCE = {"none": "none", "contactsonly": "contacts_only", "all": "all"}
UTC_NAMES = frozenset({"", "utc", "gmt", "etc/utc", "coordinated universal time"})


def schedule_time(value: dict[str, Any] | None) -> dt.datetime | None:
    """A Graph ``dateTimeTimeZone`` as an aware UTC datetime (IANA or UTC zone names)."""
    if not value or not value.get("dateTime"):
        return None
    local = parse_time(value["dateTime"])
    if local is None:
        return None
    zone_name = (value.get("timeZone") or "").strip()
    if zone_name.lower() not in UTC_NAMES:
        # Windows zone names are not IANA ones: the Prefer header asks Graph for UTC anyway.
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
            local = local.replace(tzinfo=ZoneInfo(zone_name))
    return local.astimezone(dt.timezone.utc)


def out_of_office(client: GraphClient, mailbox: str, now: dt.datetime | None = None) -> OutOfOffice:
    """The mailbox's automatic replies; ``active_now`` from the status and schedule in UTC."""
    path = graph_path("/users/{}/mailboxSettings/automaticRepliesSetting", mailbox)
    data = client.get_json(path, headers={"Prefer": 'outlook.timezone="UTC"'})
    status = STATUS.get((data.get("status") or "disabled").lower(), "disabled")
    start = schedule_time(data.get("scheduledStartDateTime"))
    end = schedule_time(data.get("scheduledEndDateTime"))
    moment = now or dt.datetime.now(dt.timezone.utc)
    if status == "scheduled":
        active = (start is None or start <= moment) and (end is None or moment < end)
    else:
        active = status == "always_enabled"
    return OutOfOffice(
        mailbox=mailbox,
        status=status,
        active_now=active,
        start=iso_utc(start) if status == "scheduled" else None,
        end=iso_utc(end) if status == "scheduled" else None,
        internal_reply=data.get("internalReplyMessage") or "",
        external_reply=data.get("externalReplyMessage") or "",
        external_audience=AUDIENCE.get((data.get("externalAudience") or "none").lower(), "none"),
    )
