"""Shared machinery of the EWS operations: the request context, the operation registry, id
and folder resolution, and the ResponseMessages layout every operation answers with."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lxml import etree

from .. import ids
from ..store import Folder, Mailbox, Message, Store
from ..tenant import Tenant
from ..web import Request
from .errors import EwsError, EwsFault
from .soap import Envelope, M, message_xml_children, t

Operation = Callable[["EwsContext", etree._Element], etree._Element]
Input = TypeVar("Input")

# Operation name -> (handler, first ExchangeVersionType that has it).
OPERATIONS: dict[str, tuple[Operation, str]] = {}

# EWS's "root" (the mailbox's non-IPM subtree) is not a store folder; a fixed key names it.
_ROOT_KEY = b"\x00" * 16


def operation(name: str, since: str = "Exchange2007") -> Callable[[Operation], Operation]:
    """Registers the handler of the EWS operation ``name``."""

    def register(handler: Operation) -> Operation:
        OPERATIONS[name] = (handler, since)
        return handler

    return register


def item_key(element: etree._Element, kind: ids.Kind) -> ids.ItemKey:
    """The store key an id element's ``Id`` names (ErrorInvalidIdMalformed when it is no id)."""
    key = ids.parse(element.get("Id", ""), kind)
    if key is None:
        raise EwsError("ErrorInvalidIdMalformed")
    return key


def root_folder(mailbox: Mailbox) -> Folder:
    """The mailbox's EWS ``root`` folder, parent of msgfolderroot and the Recoverable Items."""
    folder_id = ids.ews_id(ids.new_key("folder", mailbox.id, _ROOT_KEY))
    return Folder(folder_id, mailbox.id, None, "root", "Root")


@dataclass
class EwsContext:
    """One authenticated EWS request: the tenant, the caller, and the mailbox it acts as."""

    tenant: Tenant
    request: Request
    envelope: Envelope
    claims: dict[str, Any]
    mailbox: Mailbox | None  # the impersonated mailbox, or the service account's own
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        """The tenant's store."""
        return self.tenant.store

    @property
    def app_id(self) -> str | None:
        """The calling app's client id (None for a service account)."""
        return self.claims.get("appid")

    def require_mailbox(self) -> Mailbox:
        """The mailbox the request acts as; ErrorNonExistentMailbox when there is none."""
        if self.mailbox is None:
            raise EwsError("ErrorNonExistentMailbox")
        return self.mailbox

    def accessible(self, mailbox: Mailbox) -> Mailbox:
        """``mailbox`` if the caller may open it (RBAC for Applications), else ErrorAccessDenied."""
        if self.app_id and not self.tenant.in_scope(self.app_id, mailbox):
            raise EwsError("ErrorAccessDenied")
        return mailbox

    def mailbox_by_address(self, address: str) -> Mailbox:
        """A tenant mailbox by SMTP address; ErrorNonExistentMailbox when there is none."""
        mailbox = self.store.mailbox(address.strip()) if address.strip() else None
        if mailbox is None or not mailbox.enabled:
            raise EwsError(
                "ErrorNonExistentMailbox", message_xml=[("Value", "SmtpAddress", address)]
            )
        return self.accessible(mailbox)

    # -- folders --------------------------------------------------------------------------------
    def folder(self, element: etree._Element) -> Folder:
        """The folder a ``t:FolderId`` or ``t:DistinguishedFolderId`` (with ``t:Mailbox``) names."""
        if element.tag == t("DistinguishedFolderId"):
            address = element.findtext(f"{t('Mailbox')}/{t('EmailAddress')}")
            mailbox = self.mailbox_by_address(address) if address else self.require_mailbox()
            name = element.get("Id", "")
            if name == "root":
                return root_folder(mailbox)
            found = self.store.folder(mailbox.id, name)
        elif element.tag == t("FolderId"):
            key = item_key(element, "folder")
            owner = self.store.mailbox(key.mailbox_id)
            if owner is None:
                raise EwsError("ErrorFolderNotFound")
            self.accessible(owner)
            if key.key == _ROOT_KEY:
                return root_folder(owner)
            found = self.store.folder(key.mailbox_id, key.ews)
        else:
            raise EwsError("ErrorInvalidIdMalformed")
        if found is None:
            raise EwsError("ErrorFolderNotFound")
        return found

    def target_folder(self, container: etree._Element | None) -> Folder | None:
        """The folder inside a TargetFolderIdType element (ToFolderId, SavedItemFolderId)."""
        if container is None:
            return None
        element = next((c for c in container if isinstance(c.tag, str)), None)
        if element is None:
            raise EwsError("ErrorInvalidIdMalformed")
        return self.folder(element)

    # -- items ------------------------------------------------------------------------------------
    def message(self, element: etree._Element) -> Message:
        """The message an ``t:ItemId`` names, in a mailbox the caller may open."""
        key = item_key(element, "message")
        message = self.store.message(key.full)
        if message is None:
            raise EwsError("ErrorItemNotFound")
        owner = self.store.mailbox(message.mailbox_id)
        if owner is None:
            raise EwsError("ErrorItemNotFound")
        self.accessible(owner)
        return message


def item_id_elements(container: etree._Element | None) -> list[etree._Element]:
    """The id elements of a NonEmptyArrayOfBaseItemIdsType (ItemIds, ...)."""
    return [] if container is None else [c for c in container if isinstance(c.tag, str)]


def _response_message(
    operation: str, response_class: str, children: Sequence[etree._Element]
) -> etree._Element:
    message = M(f"{operation}ResponseMessage", ResponseClass=response_class)
    message.extend(children)
    return message


def success_message(operation: str, children: Sequence[etree._Element] = ()) -> etree._Element:
    """``m:<Operation>ResponseMessage ResponseClass="Success"`` with NoError and ``children``."""
    return _response_message(operation, "Success", [M.ResponseCode("NoError"), *children])


def error_children(error: EwsError) -> list[etree._Element]:
    """MessageText, ResponseCode, DescriptiveLinkKey and MessageXml of an error message."""
    children = [M.MessageText(error.text), M.ResponseCode(error.code), M.DescriptiveLinkKey("0")]
    if error.message_xml:
        container = M.MessageXml()
        container.extend(message_xml_children(error.message_xml))
        children.append(container)
    return children


def error_message(
    operation: str, error: EwsError, children: Sequence[etree._Element] = ()
) -> etree._Element:
    """``m:<Operation>ResponseMessage ResponseClass="Error"`` for ``error``."""
    return _response_message(operation, "Error", [*error_children(error), *children])


def response(operation: str, messages: Iterable[etree._Element]) -> etree._Element:
    """``m:<Operation>Response`` wrapping ``m:ResponseMessages``."""
    container = M.ResponseMessages()
    container.extend(messages)
    return M(f"{operation}Response", container)


def per_item(
    operation: str,
    inputs: Iterable[Input],
    produce: Callable[[Input], Sequence[etree._Element]],
    on_error: Callable[[], Sequence[etree._Element]] = list,
) -> etree._Element:
    """One response message per input, as Exchange answers batches: errors stay per item."""
    messages = []
    for item in inputs:
        try:
            messages.append(success_message(operation, produce(item)))
        except EwsFault:
            raise
        except EwsError as error:
            messages.append(error_message(operation, error, on_error()))
    return response(operation, messages)
