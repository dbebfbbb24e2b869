"""GetUserOofSettings: a mailbox's automatic replies (out of office)."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from .errors import EwsError
from .serialize import ews_datetime
from .service import EwsContext, error_children, operation
from .soap import M, T, t

_STATE = {"disabled": "Disabled", "alwaysEnabled": "Enabled", "scheduled": "Scheduled"}
_AUDIENCE = {"none": "None", "contactsOnly": "Known", "all": "All"}


def _reply(tag_name: str, text: str) -> etree._Element:
    reply = T(tag_name, T.Message(text))
    reply.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    return reply


@operation("GetUserOofSettings", since="Exchange2007")
def get_user_oof_settings(context: EwsContext, request: etree._Element) -> etree._Element:
    """Implements EWS GetUserOofSettings (Mailbox/Address)."""
    address = request.findtext(f"{t('Mailbox')}/{t('Address')}") or ""
    try:
        mailbox = context.mailbox_by_address(address)
    except EwsError as error:
        message = M.ResponseMessage(ResponseClass="Error")
        message.extend(error_children(error))
        return M.GetUserOofSettingsResponse(message)
    oof = context.store.out_of_office(mailbox.id)
    now = context.tenant.now()
    start = oof.start or now.replace(minute=0, second=0, microsecond=0)
    end = oof.end or start + dt.timedelta(days=1)
    settings = T.OofSettings(
        T.OofState(_STATE[oof.status]),
        T.ExternalAudience(_AUDIENCE[oof.external_audience]),
        T.Duration(T.StartTime(ews_datetime(start)), T.EndTime(ews_datetime(end))),
        _reply("InternalReply", oof.internal_reply),
        _reply("ExternalReply", oof.external_reply),
    )
    return M.GetUserOofSettingsResponse(
        M.ResponseMessage(M.ResponseCode("NoError"), ResponseClass="Success"),
        settings,
        M.AllowExternalOof("All"),
    )
