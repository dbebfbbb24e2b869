"""EWS ResponseCode values the sandbox answers, with the MessageText Exchange puts beside them."""

from __future__ import annotations

from collections.abc import Sequence

# MessageXml children as (element local name in the types namespace, its Name attribute, text):
# ("Value", "BackOffMilliseconds", "5000") or ("Violation", None, "...").
MessageXml = Sequence[tuple[str, str | None, str]]

# The texts are Exchange Online's, so clients that match on them (exchangelib, EWS Managed API)
# behave as they do against the real service.
MESSAGE_TEXT: dict[str, str] = {
    "ErrorAccessDenied": "Access is denied. Check credentials and try again.",
    "ErrorCannotDeleteObject": "The object cannot be deleted.",
    "ErrorFolderNotFound": "The specified folder could not be found in the store.",
    "ErrorImpersonateUserDenied": (
        "The account does not have permission to impersonate the requested user."
    ),
    "ErrorInternalServerError": "An internal server error occurred. The operation failed.",
    "ErrorInvalidArgument": "The argument is invalid.",
    "ErrorInvalidAttachmentId": "The attachment could not be found.",
    "ErrorInvalidExchangeImpersonationHeaderData": (
        "ExchangeImpersonation SOAP header must be present for this type of OAuth token."
    ),
    "ErrorInvalidIdMalformed": "Id is malformed.",
    "ErrorInvalidIdNotAnItemAttachmentId": "The Id is invalid.",
    "ErrorInvalidOperation": "The operation is not valid for this item.",
    "ErrorInvalidPropertyRequest": "The property request is invalid.",
    "ErrorInvalidRecipients": (
        "At least one recipient isn't valid., A message can't be sent because it contains no "
        "recipients."
    ),
    "ErrorInvalidPropertyAppend": "The property does not support append.",
    "ErrorInvalidPropertyDelete": "The property cannot be deleted.",
    "ErrorInvalidPropertySet": "The property cannot be set.",
    "ErrorIrresolvableConflict": (
        "The send or update operation could not be performed because the change key passed in "
        "the request does not match the current change key for the item."
    ),
    "ErrorFolderExists": "A folder with the specified name already exists.",
    "ErrorMailRecipientNotFound": "The recipient could not be found.",
    "ErrorInvalidRequest": "The request is invalid.",
    "ErrorInvalidTimeInterval": "The time interval is invalid.",
    "ErrorInvalidRestriction": "The restriction is invalid.",
    "ErrorInvalidServerVersion": "The specified server version is invalid.",
    "ErrorInvalidSmtpAddress": "The SMTP address format is invalid.",
    "ErrorInvalidSyncStateData": "Synchronization state data is corrupt or otherwise invalid.",
    "ErrorItemNotFound": (
        "The specified object was not found in the store., The process failed to get the "
        "correct properties."
    ),
    "ErrorMoveCopyFailed": "The move or copy operation failed.",
    "ErrorNameResolutionMultipleResults": "Multiple results were found.",
    "ErrorNameResolutionNoResults": "No results were found.",
    "ErrorNonExistentMailbox": "The SMTP address has no mailbox associated with it.",
    "ErrorSendAsDenied": (
        "The user account which was used to submit this request does not have the right to "
        "send mail on behalf of the specified sending account."
    ),
    "ErrorSchemaValidation": "The request failed schema validation.",
    "ErrorServerBusy": "The server cannot service this request right now. Try again later.",
    "ErrorUnsupportedPathForQuery": "The property can not be used with this type of restriction.",
    "ErrorUnsupportedPathForSortGroup": (
        "The property can not be used for sorting or grouping results."
    ),
    "ErrorInvalidValueForProperty": "The value is invalid for the property.",
    "ErrorUnsupportedQueryFilter": "The Restriction contains an unsupported filter.",
}


class EwsError(Exception):
    """An EWS ResponseCode answered inside a response message (HTTP 200, ResponseClass=Error)."""

    def __init__(
        self,
        code: str,
        text: str | None = None,
        message_xml: MessageXml = (),
    ) -> None:
        self.code = code
        self.text = text or MESSAGE_TEXT.get(code, code)
        self.message_xml = list(message_xml)
        super().__init__(f"{code}: {self.text}")


class EwsFault(EwsError):
    """An EWS ResponseCode that fails the whole request: a SOAP fault, HTTP 500 like Exchange."""

    def __init__(
        self,
        code: str,
        text: str | None = None,
        message_xml: MessageXml = (),
        *,
        fault_code: str | None = None,
    ) -> None:
        super().__init__(code, text, message_xml)
        # soap:Client for malformed requests; otherwise Exchange's own "a:<ResponseCode>" form.
        self.fault_code = fault_code
