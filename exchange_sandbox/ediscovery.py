"""Microsoft Purview eDiscovery over the sandbox store: cases, searches and their operations.

The Graph face (``graph/ediscovery.py``) serves it under ``/security/cases/ediscoveryCases``.
State lives in the store's settings (so ``/_sandbox/reset`` clears it with the mail). The
asynchronous operations follow Microsoft's statuses (``notStarted`` -> ``running`` ->
``succeeded``) on a clock: an estimate takes ``ESTIMATE_SECONDS`` plus
``ESTIMATE_SECONDS_PER_1000`` per 1,000 searched mailboxes, a purge ``PURGE_SECONDS`` plus
``PURGE_SECONDS_PER_1000`` per 1,000 mailboxes with hits, all multiplied by the tenant's
``ediscovery_time_scale`` (default 0.01: a 50,000-mailbox estimate that would take minutes in
Exchange Online takes seconds here). A purge removes at most ``PURGE_LIMIT`` items per
location (mailbox) per call, as ``purgeData`` documents; ``recoverable`` moves them to
Recoverable Items\\Deletions, ``permanentlyDelete`` removes them. Searches cover every mail
folder but Recoverable Items, so an estimate after a purge counts what is left.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import TYPE_CHECKING, Any

from . import kql, query

if TYPE_CHECKING:
    from .tenant import Tenant

STATE_KEY = "ediscovery"
PURGE_LIMIT = 100  # items per location per purgeData call (Microsoft's documented limit)
# Assumed, not Microsoft figures (Microsoft documents these operations as asynchronous, with no
# duration): a fixed minute per operation, growing slowly with the locations involved, since
# Purview searches its content indexes in parallel.
ESTIMATE_SECONDS = 60.0
ESTIMATE_SECONDS_PER_1000 = 1.0
PURGE_SECONDS = 60.0
PURGE_SECONDS_PER_1000 = 1.0
HIDDEN_FOLDERS = ("recoverableitemsdeletions", "recoverableitemspurges")
PURGE_TYPES = ("recoverable", "permanentlyDelete")

_lock = threading.Lock()


class EDiscoveryError(Exception):
    """A request the service refuses: ``status`` and Graph error ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class EDiscovery:
    """Cases, searches and operations of one tenant."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    # -- state ---------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        state = self.tenant.store.get_setting(STATE_KEY)
        return state or {"cases": {}, "searches": {}, "operations": {}, "sources": {}}

    def _save(self, state: dict[str, Any]) -> None:
        self.tenant.store.set_setting(STATE_KEY, state)

    def _scale(self) -> float:
        return float(getattr(self.tenant.settings, "ediscovery_time_scale", 0.01))

    # -- cases ---------------------------------------------------------------------------------
    def cases(self) -> list[dict[str, Any]]:
        """Every case, oldest first."""
        return list(self._state()["cases"].values())

    def create_case(self, display_name: str, description: str, creator: dict[str, Any]) -> dict:
        """A new active case (400 when the name is taken, as Purview refuses duplicates)."""
        with _lock:
            state = self._state()
            if any(c["displayName"] == display_name for c in state["cases"].values()):
                raise EDiscoveryError(
                    400, "BadRequest", f"A case with the name '{display_name}' already exists."
                )
            now = _iso(self.tenant.now())
            case = {
                "id": str(uuid.uuid4()),
                "displayName": display_name,
                "description": description,
                "status": "active",
                "externalId": None,
                "createdDateTime": now,
                "lastModifiedDateTime": now,
                "closedDateTime": None,
                "createdBy": creator,
                "lastModifiedBy": creator,
                "closedBy": None,
            }
            state["cases"][case["id"]] = case
            self._save(state)
            return case

    def case(self, case_id: str) -> dict[str, Any]:
        """The case (404 when unknown)."""
        found = self._state()["cases"].get(case_id)
        if found is None:
            raise EDiscoveryError(404, "NotFound", f"Case '{case_id}' was not found.")
        return found

    # -- searches ------------------------------------------------------------------------------
    def create_search(self, case_id: str, body: dict[str, Any], creator: dict[str, Any]) -> dict:
        """A search with a KQL contentQuery (checked now) and data source scopes."""
        self.case(case_id)
        name = body.get("displayName")
        if not isinstance(name, str) or not name.strip():
            raise EDiscoveryError(400, "BadRequest", "displayName is required.")
        content_query = body.get("contentQuery") or ""
        self.predicate(content_query)  # 400 now for a query the service cannot parse
        scopes = body.get("dataSourceScopes") or "none"
        if scopes not in ("none", "allTenantMailboxes", "allTenantSites", "allCaseCustodians"):
            raise EDiscoveryError(400, "BadRequest", f"Invalid dataSourceScopes '{scopes}'.")
        with _lock:
            state = self._state()
            now = _iso(self.tenant.now())
            search = {
                "id": str(uuid.uuid4()),
                "caseId": case_id,
                "displayName": name,
                "description": body.get("description") or "",
                "contentQuery": content_query,
                "dataSourceScopes": scopes,
                "createdDateTime": now,
                "lastModifiedDateTime": now,
                "createdBy": creator,
                "lastModifiedBy": creator,
            }
            state["searches"][search["id"]] = search
            state["sources"][search["id"]] = []
            self._save(state)
            return search

    def search(self, case_id: str, search_id: str) -> dict[str, Any]:
        """The search of this case (404 when unknown)."""
        found = self._state()["searches"].get(search_id)
        if found is None or found["caseId"] != case_id:
            raise EDiscoveryError(404, "NotFound", f"Search '{search_id}' was not found.")
        return found

    def add_source(self, case_id: str, search_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``additionalSources``: a userSource naming one mailbox by email."""
        self.search(case_id, search_id)
        email = str(body.get("email") or "").lower()
        if body.get("@odata.type") != "microsoft.graph.security.userSource" or not email:
            raise EDiscoveryError(400, "BadRequest", "A userSource with an email is expected.")
        if self.tenant.store.mailbox(email) is None:
            raise EDiscoveryError(404, "NotFound", f"No mailbox for '{email}'.")
        with _lock:
            state = self._state()
            source = {
                "id": str(uuid.uuid4()),
                "email": email,
                "includedSources": body.get("includedSources") or "mailbox",
                "displayName": email,
                "createdDateTime": _iso(self.tenant.now()),
                "holdStatus": "notApplied",
                "siteWebUrl": None,
            }
            state["sources"].setdefault(search_id, []).append(source)
            self._save(state)
            return source

    def sources(self, search_id: str) -> list[dict[str, Any]]:
        """The search's additional sources."""
        return list(self._state()["sources"].get(search_id, []))

    # -- evaluation ----------------------------------------------------------------------------
    def predicate(self, content_query: str) -> query.Predicate:
        """The store predicate for a KQL contentQuery (400 for what cannot be parsed)."""
        try:
            return (
                kql.parse_kql(content_query, self.tenant.now())
                if content_query
                else (query.TrueP())
            )
        except query.QueryError as exc:
            raise EDiscoveryError(
                400, "BadRequest", f"Invalid contentQuery: {exc.message}"
            ) from None

    def locations(self, search: dict[str, Any]) -> list[Any]:
        """The mailboxes the search covers."""
        store = self.tenant.store
        if search["dataSourceScopes"] == "allTenantMailboxes":
            return store.mailboxes()
        found = [store.mailbox(s["email"]) for s in self.sources(search["id"])]
        return [m for m in found if m is not None]

    def hits(self, search: dict[str, Any]) -> tuple[int, dict[int, list[Any]]]:
        """(locations searched, matching messages per mailbox id) outside Recoverable Items."""
        store = self.tenant.store
        predicate = self.predicate(search["contentQuery"])
        boxes = self.locations(search)
        found: dict[int, list[Any]] = {}
        for box in boxes:
            hidden = {f.id for f in (store.folder(box.id, name) for name in HIDDEN_FOLDERS) if f}
            messages = [m for m in store.search(box.id, predicate) if m.folder_id not in hidden]
            if messages:
                found[box.id] = messages
        return len(boxes), found

    # -- operations ----------------------------------------------------------------------------
    def _operation(
        self, case_id: str, search_id: str, action: str, seconds: float, extra: dict[str, Any]
    ) -> dict[str, Any]:
        now = self.tenant.now()
        operation = {
            "id": uuid.uuid4().hex,
            "caseId": case_id,
            "searchId": search_id,
            "action": action,
            "createdDateTime": _iso(now),
            "doneAt": _iso(now + dt.timedelta(seconds=seconds * self._scale())),
            **extra,
        }
        with _lock:
            state = self._state()
            state["operations"][operation["id"]] = operation
            if action == "estimateStatistics":
                state["searches"][search_id]["lastEstimateId"] = operation["id"]
            self._save(state)
        return operation

    def estimate(self, case_id: str, search_id: str, creator: dict[str, Any]) -> dict[str, Any]:
        """``estimateStatistics``: counts now, reported when the operation completes."""
        search = self.search(case_id, search_id)
        searched, found = self.hits(search)
        seconds = ESTIMATE_SECONDS + ESTIMATE_SECONDS_PER_1000 * searched / 1000
        items = [m for messages in found.values() for m in messages]
        return self._operation(
            case_id,
            search_id,
            "estimateStatistics",
            seconds,
            {
                "createdBy": creator,
                "indexedItemCount": len(items),
                "indexedItemsSize": sum(m.size for m in items),
                "unindexedItemCount": 0,
                "unindexedItemsSize": 0,
                "mailboxCount": len(found),
                "siteCount": 0,
            },
        )

    def purge(
        self, case_id: str, search_id: str, body: dict[str, Any], creator: dict[str, Any]
    ) -> dict[str, Any]:
        """``purgeData``: at most PURGE_LIMIT items per mailbox, recoverable or permanently."""
        search = self.search(case_id, search_id)
        purge_type = body.get("purgeType") or "recoverable"
        areas = body.get("purgeAreas") or "mailboxes"
        if purge_type not in PURGE_TYPES:
            raise EDiscoveryError(400, "BadRequest", f"Invalid purgeType '{purge_type}'.")
        if "mailboxes" not in str(areas).split(","):
            raise EDiscoveryError(400, "BadRequest", "purgeAreas must include mailboxes.")
        store = self.tenant.store
        _, found = self.hits(search)
        purged = 0
        for mailbox_id, messages in found.items():
            deletions = store.folder(mailbox_id, "recoverableitemsdeletions")
            for message in messages[:PURGE_LIMIT]:
                if purge_type == "permanentlyDelete" or deletions is None:
                    store.delete_message(message.id)
                else:
                    store.move_message(message.id, deletions.id)
                purged += 1
        seconds = PURGE_SECONDS + PURGE_SECONDS_PER_1000 * len(found) / 1000
        return self._operation(
            case_id,
            search_id,
            "purgeData",
            seconds,
            {"createdBy": creator, "purgedItemCount": purged, "locations": len(found)},
        )

    def operation(self, case_id: str, operation_id: str) -> dict[str, Any]:
        """The operation with its status and progress as of now (404 when unknown)."""
        found = self._state()["operations"].get(operation_id)
        if found is None or found["caseId"] != case_id:
            raise EDiscoveryError(404, "NotFound", f"Operation '{operation_id}' was not found.")
        return found

    def last_estimate(self, case_id: str, search_id: str) -> dict[str, Any]:
        """The search's latest estimate operation (404 when none ran)."""
        search = self.search(case_id, search_id)
        if not search.get("lastEstimateId"):
            raise EDiscoveryError(404, "NotFound", "No estimate has run for this search.")
        return self.operation(case_id, search["lastEstimateId"])

    def progress(self, operation: dict[str, Any]) -> tuple[str, int, str | None]:
        """(status, percentProgress, completedDateTime) of an operation at the tenant's now."""
        now = self.tenant.now()
        created, done = _parse(operation["createdDateTime"]), _parse(operation["doneAt"])
        if now >= done:
            return "succeeded", 100, operation["doneAt"]
        total = max((done - created).total_seconds(), 1e-6)
        elapsed = (now - created).total_seconds()
        if elapsed < total * 0.05:
            return "notStarted", 0, None
        return "running", min(99, int(100 * elapsed / total)), None
