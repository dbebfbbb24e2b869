"""GetServerTimeZones (Windows time zones with their rules, from the IANA database) and
GetUserAvailability (the sandbox keeps no calendars: every attendee is free all the time)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from .errors import EwsError
from .service import EwsContext, error_message, operation, response, success_message
from .soap import M, T, m, t

# Windows time zone id -> (IANA zone, display name), the zones Exchange names most often.
WINDOWS_ZONES: dict[str, tuple[str, str]] = {
    "UTC": ("UTC", "(UTC) Coordinated Universal Time"),
    "GMT Standard Time": ("Europe/London", "(UTC+00:00) Dublin, Edinburgh, Lisbon, London"),
    "W. Europe Standard Time": (
        "Europe/Berlin",
        "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
    ),
    "Romance Standard Time": ("Europe/Paris", "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris"),
    "Eastern Standard Time": ("America/New_York", "(UTC-05:00) Eastern Time (US & Canada)"),
    "Central Standard Time": ("America/Chicago", "(UTC-06:00) Central Time (US & Canada)"),
    "Mountain Standard Time": ("America/Denver", "(UTC-07:00) Mountain Time (US & Canada)"),
    "Pacific Standard Time": ("America/Los_Angeles", "(UTC-08:00) Pacific Time (US & Canada)"),
    "India Standard Time": ("Asia/Kolkata", "(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi"),
    "China Standard Time": ("Asia/Shanghai", "(UTC+08:00) Beijing, Chongqing, Hong Kong, Urumqi"),
    "Tokyo Standard Time": ("Asia/Tokyo", "(UTC+09:00) Osaka, Sapporo, Tokyo"),
    "AUS Eastern Standard Time": ("Australia/Sydney", "(UTC+10:00) Canberra, Melbourne, Sydney"),
}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _duration(delta: dt.timedelta) -> str:
    """An xs:duration such as ``PT8H``, ``-PT5H30M`` or ``PT0M``."""
    minutes = int(delta.total_seconds() // 60)
    sign, minutes = ("-", -minutes) if minutes < 0 else ("", minutes)
    hours, rest = divmod(minutes, 60)
    text = (f"{hours}H" if hours else "") + (f"{rest}M" if rest or not hours else "")
    return f"{sign}PT{text}"


def _transitions(zone: ZoneInfo, year: int) -> list[tuple[dt.datetime, dt.timedelta]]:
    """(local wall time just before, new UTC offset) of each offset change in ``year``."""
    found = []
    instant = dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc)
    offset = instant.astimezone(zone).utcoffset()
    while instant.year == year:
        after = instant + dt.timedelta(hours=1)
        new = after.astimezone(zone).utcoffset()
        if new != offset:
            assert offset is not None and new is not None
            found.append(((after + offset).replace(tzinfo=None), new))
            offset = new
        instant = after
    return found


def _recurring(to: str, wall: dt.datetime) -> etree._Element:
    occurrence = (wall.day - 1) // 7 + 1
    if (wall + dt.timedelta(days=7)).month != wall.month:
        occurrence = -1  # the last such weekday of the month, as Windows writes it
    return T.RecurringDayTransition(
        T.To(to, Kind="Period"),
        T.TimeOffset(_duration(dt.timedelta(hours=wall.hour, minutes=wall.minute))),
        T.Month(str(wall.month)),
        T.DayOfWeek(_DAYS[wall.weekday()]),
        T.Occurrence(str(occurrence)),
    )


def definition(zone_id: str, full: bool, year: int) -> etree._Element:
    """``t:TimeZoneDefinition`` of a Windows time zone (periods and yearly rules when full)."""
    iana, name = WINDOWS_ZONES[zone_id]
    element = T.TimeZoneDefinition(Id=zone_id, Name=name)
    if not full:
        return element
    zone = ZoneInfo(iana)
    changes = _transitions(zone, year)
    january = dt.datetime(year, 1, 15, tzinfo=dt.timezone.utc).astimezone(zone).utcoffset()
    assert january is not None
    offsets = sorted({january, *(new for _, new in changes)})
    standard = min(offsets)
    prefix = f"trule:Microsoft/Registry/{zone_id}/{year}"
    period_ids = {standard: f"{prefix}-Standard"}
    periods = T.Periods(
        T.Period(Bias=_duration(-standard), Name="Standard", Id=period_ids[standard])
    )
    for other in offsets:
        if other != standard:
            period_ids[other] = f"{prefix}-Daylight"
            periods.append(T.Period(Bias=_duration(-other), Name="Daylight", Id=period_ids[other]))
    group = T.TransitionsGroup(Id="0")
    if changes:
        group.extend(_recurring(period_ids[new], wall) for wall, new in changes)
    else:
        group.append(T.Transition(T.To(period_ids[standard], Kind="Period")))
    element.extend([periods, T.TransitionsGroups(group)])
    element.append(T.Transitions(T.Transition(T.To("0", Kind="Group"))))
    return element


def available_zones() -> list[str]:
    """The Windows zones this machine's time zone database can describe."""
    found = []
    for zone_id, (iana, _) in WINDOWS_ZONES.items():
        try:
            ZoneInfo(iana)
        except ZoneInfoNotFoundError:
            continue
        found.append(zone_id)
    return found


@operation("GetServerTimeZones", since="Exchange2010")
def get_server_time_zones(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS GetServerTimeZones (all zones, or the ``m:Ids`` asked for)."""
    full = request.get("ReturnFullTimeZoneData", "true") in ("true", "1")
    known = available_zones()
    wanted = [(i.text or "").strip() for i in request.findall(f"{m('Ids')}/{t('Id')}")] or known
    year = context.tenant.now().year
    unknown = [zone_id for zone_id in wanted if zone_id not in known]
    if unknown:
        error = EwsError("ErrorInvalidArgument", f"The time zone '{unknown[0]}' is not valid.")
        return response("GetServerTimeZones", [error_message("GetServerTimeZones", error)])
    container = M.TimeZoneDefinitions()
    container.extend(definition(zone_id, full, year) for zone_id in wanted)
    return response("GetServerTimeZones", [success_message("GetServerTimeZones", [container])])


def _zone_time(name: str) -> etree._Element:
    """A SerializableTimeZoneTime of a zone without daylight time (UTC)."""
    return T(
        name,
        T.Bias("0"),
        T.Time("00:00:00"),
        T.DayOrder("1"),
        T.Month("1"),
        T.DayOfWeek("Sunday"),
    )


def _utc_working_hours() -> etree._Element:
    """Monday to Friday, 08:00 to 17:00 UTC: the working hours of every sandbox mailbox."""
    zone = T.TimeZone(T.Bias("0"), _zone_time("StandardTime"), _zone_time("DaylightTime"))
    period = T.WorkingPeriod(
        T.DayOfWeek("Monday Tuesday Wednesday Thursday Friday"),
        T.StartTimeInMinutes("480"),
        T.EndTimeInMinutes("1020"),
    )
    return T.WorkingHours(zone, T.WorkingPeriodArray(period))


def _window(options: etree._Element | None) -> tuple[dt.datetime, dt.datetime, int, str]:
    if options is None:
        raise EwsError("ErrorInvalidRequest", "FreeBusyViewOptions are required.")
    try:
        start = dt.datetime.fromisoformat(options.findtext(f"{t('TimeWindow')}/{t('StartTime')}"))
        end = dt.datetime.fromisoformat(options.findtext(f"{t('TimeWindow')}/{t('EndTime')}"))
    except (TypeError, ValueError):
        raise EwsError("ErrorInvalidTimeInterval", "The time window is not valid.") from None
    if end <= start:
        raise EwsError("ErrorInvalidTimeInterval", "EndTime must be after StartTime.")
    interval = int(options.findtext(t("MergedFreeBusyIntervalInMinutes")) or "30")
    view = (options.findtext(t("RequestedView")) or "Detailed").strip()
    return start, end, max(interval, 5), view


@operation("GetUserAvailability", since="Exchange2007_SP1")
def get_user_availability(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS GetUserAvailability: free/busy of each mailbox (free: no calendars)."""
    start, end, interval, view = _window(request.find(t("FreeBusyViewOptions")))
    slots = int((end - start).total_seconds() // 60) // interval
    answers = M.FreeBusyResponseArray()
    for data in request.findall(f"{m('MailboxDataArray')}/{t('MailboxData')}"):
        address = (data.findtext(f"{t('Email')}/{t('Address')}") or "").strip()
        mailbox = context.store.mailbox(address) if address else None
        answer = M.FreeBusyResponse()
        if mailbox is None:
            error = EwsError("ErrorMailRecipientNotFound")
            answer.append(
                M.ResponseMessage(
                    M.MessageText(error.text),
                    M.ResponseCode(error.code),
                    M.DescriptiveLinkKey("0"),
                    ResponseClass="Error",
                )
            )
            answers.append(answer)
            continue
        context.accessible(mailbox)
        answer.append(M.ResponseMessage(M.ResponseCode("NoError"), ResponseClass="Success"))
        shown = M.FreeBusyView(T.FreeBusyViewType(view))
        if "Merged" in view:
            shown.append(T.MergedFreeBusy("0" * slots))
        shown.append(_utc_working_hours())
        answer.append(shown)
        answers.append(answer)
    return M.GetUserAvailabilityResponse(answers)
