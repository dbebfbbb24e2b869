"""EWS operations independent clients use around the pack's own: UpdateItem, CreateFolder,
GetServerTimeZones, GetUserAvailability, and the answer to an operation the sandbox does not
know (a schema fault, never one exchangelib reads as a version mismatch)."""

from __future__ import annotations

import datetime as dt

import pytest
from ews_face_support import (
    NS,
    assert_schema_valid,
    body_payload,
    envelope,
    ews_token,
    oauth_account,
    post,
)
from exchangelib import EWSTimeZone
from exchangelib.errors import ErrorFolderExists, ErrorItemNotFound, ErrorSchemaValidation
from exchangelib.folders import Folder
from exchangelib.properties import EWS_ID, AlternateId
from graph_support import GraphClient, graph_token

from exchange_sandbox.process import Sandbox

PHISH = "Action required: overdue invoice INV-20931"

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def token(sandbox: Sandbox) -> str:
    return ews_token(sandbox)


def _phish_id(sandbox: Sandbox, token: str) -> tuple[str, str]:
    acct = oauth_account(sandbox, "alice@contoso.com", token)
    message = acct.inbox.get(subject=PHISH)
    return message.id, message.changekey


# -- UpdateItem --------------------------------------------------------------------------------
def test_update_item_read_state_categories_and_importance(
    fresh_sandbox: Sandbox, token: str
) -> None:
    acct = oauth_account(fresh_sandbox, "alice@contoso.com", token)
    message = acct.inbox.get(subject=PHISH)
    before = message.changekey
    message.is_read = True
    message.categories = ["Phishing", "Triage"]
    message.importance = "Low"
    message.save(update_fields=["is_read", "categories", "importance"])
    assert message.changekey != before
    again = acct.inbox.get(id=message.id)
    assert again.is_read is True
    assert again.categories == ["Phishing", "Triage"]
    assert again.importance == "Low"
    again.is_read = False
    again.categories = None
    again.save(update_fields=["is_read", "categories"])
    reread = acct.inbox.get(id=message.id)
    assert reread.is_read is False and not reread.categories


def test_update_item_raw_answers_are_schema_valid(
    fresh_sandbox: Sandbox, token: str, shared_dir: object
) -> None:
    item_id, change_key = _phish_id(fresh_sandbox, token)
    body = (
        '<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="NeverOverwrite">'
        "<m:ItemChanges><t:ItemChange>"
        f'<t:ItemId Id="{item_id}" ChangeKey="{change_key}"/>'
        "<t:Updates>"
        '<t:SetItemField><t:FieldURI FieldURI="message:IsRead"/>'
        "<t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField>"
        '<t:AppendToItemField><t:FieldURI FieldURI="item:Categories"/>'
        "<t:Message><t:Categories><t:String>Red</t:String></t:Categories></t:Message>"
        "</t:AppendToItemField>"
        "</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"
    )
    first = body_payload(
        post(fresh_sandbox, envelope(body, impersonate="alice@contoso.com"), token)
    )
    assert_schema_valid(first)
    assert first.findtext(".//m:ResponseCode", namespaces=NS) == "NoError"
    assert first.findtext(".//t:Count", namespaces=NS) == "0"
    new_key = first.find(".//t:ItemId", NS).get("ChangeKey")
    assert new_key != change_key
    # The same stale ChangeKey again: NeverOverwrite refuses it, as Exchange does.
    stale = body_payload(
        post(fresh_sandbox, envelope(body, impersonate="alice@contoso.com"), token)
    )
    assert_schema_valid(stale)
    assert stale.findtext(".//m:ResponseCode", namespaces=NS) == "ErrorIrresolvableConflict"


# -- CreateFolder ------------------------------------------------------------------------------
def test_create_folder_and_move_into_it(fresh_sandbox: Sandbox, token: str) -> None:
    acct = oauth_account(fresh_sandbox, "alice@contoso.com", token)
    quarantine = Folder(parent=acct.inbox, name="Quarantine")
    quarantine.save()
    assert quarantine.id
    assert [f.name for f in acct.inbox.children if f.name == "Quarantine"] == ["Quarantine"]
    message = acct.inbox.get(subject=PHISH)
    message.move(quarantine)
    assert [m.subject for m in quarantine.all()] == [PHISH]
    with pytest.raises(ErrorFolderExists):
        Folder(parent=acct.inbox, name="quarantine").save()


def test_create_folder_raw_answer_is_schema_valid(
    fresh_sandbox: Sandbox, token: str, shared_dir: object
) -> None:
    body = (
        '<m:CreateFolder><m:ParentFolderId><t:DistinguishedFolderId Id="msgfolderroot"/>'
        "</m:ParentFolderId><m:Folders><t:Folder><t:DisplayName>Cases</t:DisplayName>"
        "</t:Folder><t:Folder><t:DisplayName>Inbox</t:DisplayName></t:Folder>"
        "</m:Folders></m:CreateFolder>"
    )
    payload = body_payload(
        post(fresh_sandbox, envelope(body, impersonate="bob@contoso.com"), token)
    )
    assert_schema_valid(payload)
    codes = [c.text for c in payload.findall(".//m:ResponseCode", NS)]
    assert codes == ["NoError", "ErrorFolderExists"]
    assert payload.find(".//t:Folder/t:FolderId", NS) is not None


# -- GetServerTimeZones and GetUserAvailability ---------------------------------------------------
def test_server_time_zones_through_exchangelib(sandbox: Sandbox, token: str) -> None:
    acct = oauth_account(sandbox, "alice@contoso.com", token)
    zones = {z.id: z for z in acct.protocol.get_timezones(return_full_timezone_data=True)}
    assert {"UTC", "Pacific Standard Time", "W. Europe Standard Time"} <= set(zones)
    pacific = zones["Pacific Standard Time"]
    biases = sorted(p.bias for p in pacific.periods)
    assert biases == [dt.timedelta(hours=7), dt.timedelta(hours=8)]
    # exchangelib turns the server's definition into a zone it can use.
    assert EWSTimeZone.from_ms_id("Pacific Standard Time").key == "America/Los_Angeles"


def test_server_time_zones_raw_rules(sandbox: Sandbox, token: str, shared_dir: object) -> None:
    body = (
        '<m:GetServerTimeZones ReturnFullTimeZoneData="true"><m:Ids>'
        "<t:Id>W. Europe Standard Time</t:Id><t:Id>India Standard Time</t:Id>"
        "</m:Ids></m:GetServerTimeZones>"
    )
    payload = body_payload(post(sandbox, envelope(body, impersonate="alice@contoso.com"), token))
    assert_schema_valid(payload)
    berlin, india = payload.findall(".//t:TimeZoneDefinition", NS)
    rules = berlin.findall(".//t:RecurringDayTransition", NS)
    # Central European summer time: last Sunday of March, 02:00 local; back on the last
    # Sunday of October, 03:00 local summer time.
    assert [
        (r.findtext("t:Month", namespaces=NS), r.findtext("t:Occurrence", namespaces=NS))
        for r in rules
    ] == [("3", "-1"), ("10", "-1")]
    assert [r.findtext("t:TimeOffset", namespaces=NS) for r in rules] == ["PT2H", "PT3H"]
    assert [p.get("Bias") for p in india.findall(".//t:Period", NS)] == ["-PT5H30M"]
    unknown = envelope(
        "<m:GetServerTimeZones><m:Ids><t:Id>Mars Standard Time</t:Id></m:Ids>"
        "</m:GetServerTimeZones>",
        impersonate="alice@contoso.com",
    )
    refused = body_payload(post(sandbox, unknown, token))
    assert refused.findtext(".//m:ResponseCode", namespaces=NS) == "ErrorInvalidArgument"


def test_user_availability(sandbox: Sandbox, token: str) -> None:
    acct = oauth_account(sandbox, "alice@contoso.com", token)
    start = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)
    end = start + dt.timedelta(hours=4)
    tz = EWSTimeZone("UTC")
    views = list(
        acct.protocol.get_free_busy_info(
            accounts=[(acct, "Organizer", False), ("bob@contoso.com", "Required", False)],
            start=start.astimezone(tz),
            end=end.astimezone(tz),
            merged_free_busy_interval=30,
        )
    )
    assert len(views) == 2
    for view in views:
        assert view.view_type == "DetailedMerged"
        assert view.merged == "0" * 8  # free: the sandbox keeps no calendars
        assert view.working_hours and view.working_hours[0].start == dt.time(8, 0)


def test_user_availability_raw_answer(sandbox: Sandbox, token: str, shared_dir: object) -> None:
    body = (
        "<m:GetUserAvailabilityRequest>"
        "<t:TimeZone><t:Bias>0</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>00:00:00</t:Time>"
        "<t:DayOrder>1</t:DayOrder><t:Month>1</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek>"
        "</t:StandardTime><t:DaylightTime><t:Bias>0</t:Bias><t:Time>00:00:00</t:Time>"
        "<t:DayOrder>1</t:DayOrder><t:Month>1</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek>"
        "</t:DaylightTime></t:TimeZone>"
        "<m:MailboxDataArray>"
        "<t:MailboxData><t:Email><t:Address>carol@contoso.com</t:Address></t:Email>"
        "<t:AttendeeType>Required</t:AttendeeType></t:MailboxData>"
        "<t:MailboxData><t:Email><t:Address>ghost@contoso.com</t:Address></t:Email>"
        "<t:AttendeeType>Required</t:AttendeeType></t:MailboxData>"
        "</m:MailboxDataArray>"
        "<t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>2026-12-01T00:00:00</t:StartTime>"
        "<t:EndTime>2026-12-02T00:00:00</t:EndTime></t:TimeWindow>"
        "<t:MergedFreeBusyIntervalInMinutes>60</t:MergedFreeBusyIntervalInMinutes>"
        "<t:RequestedView>FreeBusyMerged</t:RequestedView></t:FreeBusyViewOptions>"
        "</m:GetUserAvailabilityRequest>"
    )
    payload = body_payload(post(sandbox, envelope(body, impersonate="alice@contoso.com"), token))
    assert_schema_valid(payload)
    found, missing = payload.findall(".//m:FreeBusyResponse", NS)
    assert found.findtext(".//t:MergedFreeBusy", namespaces=NS) == "0" * 24
    assert missing.findtext(".//m:ResponseCode", namespaces=NS) == "ErrorMailRecipientNotFound"


# -- an operation the sandbox does not know -------------------------------------------------------
def test_unknown_operation_is_a_schema_fault_read_once(fresh_sandbox: Sandbox, token: str) -> None:
    acct = oauth_account(fresh_sandbox, "alice@contoso.com", token)
    assert acct.inbox.total_count  # connect first: version detection is not measured
    fresh_sandbox.clear_requests()
    with pytest.raises(ErrorSchemaValidation):
        list(acct.protocol.get_roomlists())
    asked = [r for r in fresh_sandbox.requests() if r["operation"] == "GetRoomLists"]
    assert len(asked) == 1  # not one per schema version, as a version-mismatch answer causes


def test_unknown_operation_raw_fault(sandbox: Sandbox, token: str) -> None:
    body = '<m:FindConversation><m:ParentFolderId><t:DistinguishedFolderId Id="inbox"/>'
    body += "</m:ParentFolderId></m:FindConversation>"
    response = post(sandbox, envelope(body, impersonate="alice@contoso.com"), token)
    assert response.status_code == 500
    fault = body_payload(response)
    assert fault.findtext("faultcode").endswith(":ErrorSchemaValidation")
    assert "FindConversation" in fault.findtext("faultstring")
    assert fault.findtext(".//t:Violation", namespaces=NS)


# -- ids change when an item moves ---------------------------------------------------------------
def test_move_gives_a_new_item_id_and_the_old_one_is_gone(
    fresh_sandbox: Sandbox, token: str
) -> None:
    acct = oauth_account(fresh_sandbox, "alice@contoso.com", token)
    message = acct.inbox.get(subject=PHISH)
    before = message.id
    message.move(acct.junk)
    assert message.id != before  # exchangelib takes the new id from MoveItem's answer
    assert acct.junk.get(id=message.id).subject == PHISH
    with pytest.raises(ErrorItemNotFound):
        acct.inbox.get(id=before)
    # ConvertId keeps naming the moved item; the id from before the move names nothing.
    [hex_id] = acct.protocol.convert_ids(
        [AlternateId(id=message.id, format=EWS_ID, mailbox="alice@contoso.com")],
        destination_format="HexEntryId",
    )
    [back] = acct.protocol.convert_ids(
        [AlternateId(id=hex_id.id, format="HexEntryId", mailbox="alice@contoso.com")],
        destination_format=EWS_ID,
    )
    assert back.id == message.id
    [stale] = acct.protocol.convert_ids(
        [AlternateId(id=before, format=EWS_ID, mailbox="alice@contoso.com")],
        destination_format="HexEntryId",
    )
    assert isinstance(stale, ErrorItemNotFound)
    junked = message.id
    message.soft_delete()  # to Recoverable Items: another move, another id
    with pytest.raises(ErrorItemNotFound):
        acct.junk.get(id=junked)


def test_update_item_flag_is_seen_by_graph(fresh_sandbox: Sandbox, token: str) -> None:
    item_id, change_key = _phish_id(fresh_sandbox, token)
    flag = (
        '<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AutoResolve">'
        f'<m:ItemChanges><t:ItemChange><t:ItemId Id="{item_id}" ChangeKey="{change_key}"/>'
        '<t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Flag"/>'
        "<t:Message><t:Flag><t:FlagStatus>Flagged</t:FlagStatus></t:Flag></t:Message>"
        "</t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"
    )
    as_alice = {"impersonate": "alice@contoso.com"}
    answer = body_payload(post(fresh_sandbox, envelope(flag, **as_alice), token))
    assert answer.findtext(".//m:ResponseCode", namespaces=NS) == "NoError"
    read = (
        "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
        '<t:FieldURI FieldURI="item:Flag"/></t:AdditionalProperties></m:ItemShape>'
        f'<m:ItemIds><t:ItemId Id="{item_id}"/></m:ItemIds></m:GetItem>'
    )
    got = body_payload(post(fresh_sandbox, envelope(read, **as_alice), token))
    assert got.findtext(".//t:Flag/t:FlagStatus", namespaces=NS) == "Flagged"
    graph = GraphClient(fresh_sandbox, graph_token(fresh_sandbox))
    rest_id = item_id.replace("/", "-").replace("+", "_")
    message = graph.ok("GET", f"/users/alice@contoso.com/messages/{rest_id}")
    assert message["flag"] == {"flagStatus": "flagged"}
    done = graph.ok(
        "PATCH",
        f"/users/alice@contoso.com/messages/{rest_id}",
        json={"flag": {"flagStatus": "complete"}},
    )
    assert done["flag"] == {"flagStatus": "complete"} and done["changeKey"] != message["changeKey"]
    again = body_payload(
        post(fresh_sandbox, envelope(read, impersonate="alice@contoso.com"), token)
    )
    assert again.findtext(".//t:Flag/t:FlagStatus", namespaces=NS) == "Complete"
