"""get_out_of_office on EWS: GetUserOofSettings."""

from __future__ import annotations

import datetime as dt

from exchangelib import Account
from exchangelib.properties import Mailbox
from exchangelib.services import GetUserOofSettings

from ..models import OutOfOffice
from .shape import timestamp
from .transport import EwsTransport

_STATUS = {"Disabled": "disabled", "Enabled": "always_enabled", "Scheduled": "scheduled"}
_AUDIENCE = {"None": "none", "Known": "contacts_only", "All": "all"}


def out_of_office(transport: EwsTransport, account: Account) -> OutOfOffice:
    """EWS GetUserOofSettings: status, window, replies and external audience."""

    def run():  # type: ignore[no-untyped-def]
        return GetUserOofSettings(account=account).get(
            mailbox=Mailbox(email_address=account.primary_smtp_address)
        )

    oof = transport.call(run, mailbox=account.primary_smtp_address)
    status = _STATUS.get(oof.state or "Disabled", "disabled")
    start, end = oof.start, oof.end
    now = dt.datetime.now(dt.timezone.utc)
    scheduled = status == "scheduled"
    if scheduled:
        active = (start is None or start <= now) and (end is None or now < end)
    else:
        active = status == "always_enabled"
    return OutOfOffice(
        mailbox=account.primary_smtp_address,
        status=status,
        active_now=active,
        start=timestamp(start) if scheduled else None,
        end=timestamp(end) if scheduled else None,
        internal_reply=oof.internal_reply or "",
        external_reply=oof.external_reply or "",
        external_audience=_AUDIENCE.get(oof.external_audience or "None", "none"),
    )
