"""The tenant's one store (SQLite), shared by the Graph and EWS faces.

Messages are kept as RFC 5322 MIME (the truth) plus indexed columns parsed from it (for
queries) and their mutable flags (read, folder, categories...). Attachments are parsed from the
MIME on insert and kept in their own table with stable ids; deleting one rewrites the MIME.
Thread-safe: one SQLite connection per thread (WAL), writes serialised by a lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from . import ids, prefilter, query
from .mime import (
    ParsedAttachment,
    ParsedMessage,
    append_attachment,
    format_addresses,
    parse_mime,
    remove_attachment,
    rewrite,
)
from .mime import build_mime as build_mime  # re-exported: part of the store contract

_T = TypeVar("_T")
MailboxType = Literal["user", "shared", "room", "equipment"]
Importance = Literal["low", "normal", "high"]

# Well-known folder names, Graph spelling -> EWS DistinguishedFolderId and display name.
WELL_KNOWN_FOLDERS: dict[str, tuple[str, str]] = {
    "msgfolderroot": ("msgfolderroot", "Top of Information Store"),
    "inbox": ("inbox", "Inbox"),
    "sentitems": ("sentitems", "Sent Items"),
    "drafts": ("drafts", "Drafts"),
    "deleteditems": ("deleteditems", "Deleted Items"),
    "junkemail": ("junkemail", "Junk Email"),
    "archive": ("archive", "Archive"),
    "outbox": ("outbox", "Outbox"),
    "contacts": ("contacts", "Contacts"),
    "clutter": ("clutter", "Clutter"),
    "conversationhistory": ("conversationhistory", "Conversation History"),
    "scheduled": ("scheduled", "Scheduled"),
    "syncissues": ("syncissues", "Sync Issues"),
    "conflicts": ("conflicts", "Conflicts"),
    "localfailures": ("localfailures", "Local Failures"),
    "serverfailures": ("serverfailures", "Server Failures"),
    "searchfolders": ("searchfolders", "Finder"),
    "recoverableitemsroot": ("recoverableitemsroot", "Recoverable Items"),
    "recoverableitemsdeletions": ("recoverableitemsdeletions", "Deletions"),
    "recoverableitemsversions": ("recoverableitemsversions", "Versions"),
    "recoverableitemspurges": ("recoverableitemspurges", "Purges"),
}


@dataclass
class Address:
    address: str
    name: str = ""


@dataclass
class App:
    client_id: str
    display_name: str
    client_secret: str | None
    secret_expires_at: dt.datetime | None
    certificate_pem: str | None  # the registered public certificate (PEM)
    roles: list[str]  # Graph app roles and/or "full_access_as_app"
    mailbox_scope: list[str] | None = None  # RBAC for Applications; None = all mailboxes


@dataclass
class Mailbox:
    id: int
    address: str  # primary SMTP address, lower case
    display_name: str
    type: MailboxType
    guid: str  # Exchange mailbox GUID (also the Graph user id)
    aliases: list[str] = field(default_factory=list)
    sid: str = ""  # for EWS impersonation by SID
    enabled: bool = True  # False -> Graph MailboxNotEnabledForRESTAPI


@dataclass
class Folder:
    id: str  # EWS-form id (ids.canonical)
    mailbox_id: int
    parent_id: str | None
    well_known: str | None  # key of WELL_KNOWN_FOLDERS or None
    display_name: str
    total_count: int = 0
    unread_count: int = 0
    child_folder_count: int = 0


@dataclass
class Attachment:
    id: str  # EWS-form id
    message_id: str
    name: str
    content_type: str
    size: int
    is_inline: bool
    content_id: str | None
    kind: Literal["file", "item"]  # item = an attached message (message/rfc822)
    last_modified: dt.datetime | None = None


@dataclass
class Message:
    id: str  # EWS-form id
    mailbox_id: int
    folder_id: str
    version: int  # bumps on every change (ChangeKey, @odata.etag)
    internet_message_id: str
    conversation_id: str
    subject: str
    sender: Address | None
    from_: Address | None
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    reply_to: list[Address]
    sent_at: dt.datetime | None
    received_at: dt.datetime
    created_at: dt.datetime
    modified_at: dt.datetime
    is_read: bool
    is_draft: bool
    importance: Importance
    has_attachments: bool
    size: int  # bytes of MIME
    body_type: Literal["text", "html"]
    body: str  # the body as the message's preferred type
    body_preview: str  # first 255 chars of the text body, whitespace folded
    categories: list[str] = field(default_factory=list)
    in_reply_to: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)  # internet headers, in order


def attached_message(
    parsed: ParsedMessage,
    size: int,
    received_at: dt.datetime,
    *,
    modified_at: dt.datetime | None = None,
    id: str = "",
    mailbox_id: int = 0,
) -> Message:
    """A transient Message for an attached .eml (read, not a draft, in no folder).

    ``received_at`` stands in when the .eml has no Date; ``modified_at`` (the attachment's own
    time) defaults to the message's received time.
    """
    received = parsed.sent_at or received_at
    changed = modified_at or received
    return Message(
        id=id,
        mailbox_id=mailbox_id,
        folder_id="",
        version=0,
        internet_message_id=parsed.internet_message_id,
        conversation_id=parsed.conversation_id,
        subject=parsed.subject,
        sender=parsed.sender,
        from_=parsed.from_,
        to=parsed.to,
        cc=parsed.cc,
        bcc=parsed.bcc,
        reply_to=parsed.reply_to,
        sent_at=parsed.sent_at,
        received_at=received,
        created_at=changed,
        modified_at=changed,
        is_read=True,
        is_draft=False,
        importance=parsed.importance,
        has_attachments=bool(parsed.attachments),
        size=size,
        body_type=parsed.body_type,
        body=parsed.body,
        body_preview=parsed.body_preview,
        in_reply_to=parsed.in_reply_to,
        headers=parsed.headers,
    )


@dataclass
class Contact:
    id: str
    mailbox_id: int
    display_name: str
    given_name: str
    surname: str
    emails: list[Address]
    phones: list[dict[str, str]]  # {"type": "business"|"mobile"|"home", "number": ...}
    company: str = ""
    job_title: str = ""
    department: str = ""


@dataclass
class OutOfOffice:
    status: Literal["disabled", "alwaysEnabled", "scheduled"]
    external_audience: Literal["none", "contactsOnly", "all"]
    start: dt.datetime | None
    end: dt.datetime | None
    internal_reply: str
    external_reply: str


@dataclass
class Rule:
    id: str
    mailbox_id: int
    display_name: str
    sequence: int
    is_enabled: bool
    conditions: dict[str, Any]  # Graph messageRulePredicates JSON
    actions: dict[str, Any]  # Graph messageRuleActions JSON


_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS apps (
    client_id TEXT PRIMARY KEY, display_name TEXT NOT NULL, client_secret TEXT,
    secret_expires_at TEXT, certificate_pem TEXT, roles TEXT NOT NULL, mailbox_scope TEXT);
CREATE TABLE IF NOT EXISTS mailboxes (
    id INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
    type TEXT NOT NULL, guid TEXT NOT NULL UNIQUE, sid TEXT NOT NULL, enabled INTEGER NOT NULL,
    aliases TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS mailboxes_sid ON mailboxes (lower(sid));
CREATE TABLE IF NOT EXISTS mailbox_aliases (
    alias TEXT PRIMARY KEY, mailbox_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS folders (
    id TEXT PRIMARY KEY, mailbox_id INTEGER NOT NULL, parent_id TEXT, well_known TEXT,
    display_name TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS folders_mailbox ON folders (mailbox_id, parent_id);
CREATE INDEX IF NOT EXISTS folders_parent ON folders (parent_id);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, mailbox_id INTEGER NOT NULL, folder_id TEXT NOT NULL,
    version INTEGER NOT NULL, internet_message_id TEXT NOT NULL, conversation_id TEXT NOT NULL,
    subject TEXT NOT NULL, sender TEXT, from_ TEXT, to_ TEXT NOT NULL, cc TEXT NOT NULL,
    bcc TEXT NOT NULL, reply_to TEXT NOT NULL, sent_at TEXT, received_at TEXT NOT NULL,
    created_at TEXT NOT NULL, modified_at TEXT NOT NULL, is_read INTEGER NOT NULL,
    is_draft INTEGER NOT NULL, importance TEXT NOT NULL, has_attachments INTEGER NOT NULL,
    size INTEGER NOT NULL, body_type TEXT NOT NULL, body TEXT NOT NULL,
    body_preview TEXT NOT NULL, categories TEXT NOT NULL, in_reply_to TEXT,
    headers TEXT NOT NULL, mime BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS messages_folder ON messages (mailbox_id, folder_id, received_at);
CREATE INDEX IF NOT EXISTS messages_imid ON messages (mailbox_id, internet_message_id);
CREATE INDEX IF NOT EXISTS messages_counts ON messages (folder_id, is_read);
CREATE TABLE IF NOT EXISTS attachments (
    id TEXT PRIMARY KEY, message_id TEXT NOT NULL, position INTEGER NOT NULL,
    name TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,
    is_inline INTEGER NOT NULL, content_id TEXT, kind TEXT NOT NULL, last_modified TEXT,
    content BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS attachments_message ON attachments (message_id, position);
CREATE TABLE IF NOT EXISTS contacts (
    id TEXT PRIMARY KEY, mailbox_id INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS contacts_mailbox ON contacts (mailbox_id);
CREATE TABLE IF NOT EXISTS out_of_office (mailbox_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mailbox_settings (
    mailbox_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rules (
    id TEXT PRIMARY KEY, mailbox_id INTEGER NOT NULL, sequence INTEGER NOT NULL,
    data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocked_senders (
    mailbox_id INTEGER NOT NULL, address TEXT NOT NULL, PRIMARY KEY (mailbox_id, address));
CREATE TABLE IF NOT EXISTS sync_states (
    token TEXT PRIMARY KEY, mailbox_id INTEGER NOT NULL, folder_id TEXT NOT NULL,
    created_at TEXT NOT NULL, data TEXT NOT NULL);
"""

_TABLES = (
    "settings",
    "apps",
    "mailboxes",
    "mailbox_aliases",
    "folders",
    "messages",
    "attachments",
    "contacts",
    "out_of_office",
    "mailbox_settings",
    "rules",
    "blocked_senders",
    "sync_states",
)

# Children of the message-folder root, except these: the search folders' root and Recoverable
# Items live beside it (in EWS's non-IPM "root"), and a few well-known folders nest as in Exchange.
_ROOT = "msgfolderroot"
_OUTSIDE_ROOT = ("searchfolders", "recoverableitemsroot")
_NESTED = {
    "conflicts": "syncissues",
    "localfailures": "syncissues",
    "serverfailures": "syncissues",
    "recoverableitemsdeletions": "recoverableitemsroot",
    "recoverableitemsversions": "recoverableitemsroot",
    "recoverableitemspurges": "recoverableitemsroot",
}

_DEFAULT_MAILBOX_SETTINGS: dict[str, Any] = {
    "timeZone": "UTC",
    "language": {"locale": "en-US", "displayName": "English (United States)"},
    "dateFormat": "M/d/yyyy",
    "timeFormat": "h:mm tt",
    "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
    "userPurpose": "user",
    "workingHours": {
        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
        "startTime": "08:00:00.0000000",
        "endTime": "17:00:00.0000000",
        "timeZone": {"name": "UTC"},
    },
}


class StoreError(Exception):
    """A store operation named something that does not exist (the faces map it to NotFound)."""


def to_db_time(value: dt.datetime | None) -> str | None:
    """A fixed-width UTC text form that sorts chronologically."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(value: str | None) -> dt.datetime | None:
    """The inverse of ``to_db_time``."""
    if value is None:
        return None
    # fromisoformat is C code, ~10x faster than strptime; Python 3.10's takes no "Z" suffix.
    return dt.datetime.fromisoformat(value[:-1] + "+00:00")


def utcnow() -> dt.datetime:
    """Aware current UTC time."""
    return dt.datetime.now(dt.timezone.utc)


_EMPTY_JSON_LIST = "[]"  # most cc, bcc, reply-to and category columns: skip the decoder


def _json_list(value: str) -> list[Any]:
    return [] if value == _EMPTY_JSON_LIST else json.loads(value)


def _addr_json(value: Address | None) -> str | None:
    return None if value is None else json.dumps([value.address, value.name])


def _addr_from(value: str | None) -> Address | None:
    if not value:
        return None
    address, name = json.loads(value)
    return Address(address, name)


def _addrs_json(values: Iterable[Address]) -> str:
    return json.dumps([[a.address, a.name] for a in values])


def _addrs_from(value: str) -> list[Address]:
    return [Address(a, n) for a, n in _json_list(value)]


class _ThreadConnection:
    """One thread's SQLite connection, handed back when the thread ends (its locals are
    dropped): the web server runs a thread per HTTP connection, so connections must not pile
    up; one kept idle keeps its statement and page caches warm for the next thread."""

    def __init__(self, idle: _IdleConnections) -> None:
        self.idle = idle
        self.conn = idle.take()

    def __del__(self) -> None:
        self.idle.give_back(self.conn)


class _IdleConnections:
    """The SQLite connections no thread holds, up to ``KEEP``; the others are closed."""

    KEEP = 64  # above the pack's HTTP pool of 32 connections

    def __init__(self, path: Path) -> None:
        self.path = path
        self._idle: list[sqlite3.Connection] = []
        # Re-entrant: a holder may be dropped (give_back) by a garbage collection that runs
        # while this thread is inside take or give_back.
        self._lock = threading.RLock()
        self._closed = False

    def take(self) -> sqlite3.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def give_back(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self.KEEP and not conn.in_transaction:
                self._idle.append(conn)
                return
        conn.close()  # a no-op for one Store.close closed already

    def close(self) -> None:
        """Closes the idle connections, and from now on those given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class Store:
    """SQLite-backed tenant state. ``Store(path)`` creates the schema when new."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._idle = _IdleConnections(self.path)
        self._write_lock = threading.RLock()
        self._connections: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._connections_lock = threading.Lock()
        # Bumped after every write transaction: reads cached with an older value are stale.
        # (The sandbox is the one process writing its state.)
        self._generation = 0
        self._kept: dict[Hashable, tuple[int, Any]] = {}
        self._kept_lock = threading.Lock()
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)

    # -- machinery ----------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        holder: _ThreadConnection | None = getattr(self._local, "conn", None)
        if holder is None:
            holder = _ThreadConnection(self._idle)
            self._local.conn = holder
            with self._connections_lock:
                self._connections.add(holder)
        return holder.conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One serialised write transaction (re-entrant: nested calls join the outer one)."""
        with self._write_lock:
            conn = self._conn()
            if conn.in_transaction:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                self._generation += 1
                raise
            conn.execute("COMMIT")
            self._generation += 1

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction around many store calls (seeds); nested calls join it."""
        return self._write()

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        cur = self._conn().execute(sql, tuple(params))
        return cur.fetchall()

    _KEPT = 4096  # reads kept (a fan-out reads each mailbox and its folder tree twice)

    def kept(self, key: Hashable, read: Callable[[], _T]) -> _T:
        """``read()``, kept until the next write, for what requests read again and again (a
        mailbox, its folder tree, an app). The value is shared: callers must not change it. A
        writer inside its transaction reads its own rows, never a kept value."""
        generation = self._generation  # read before reading: a write meanwhile invalidates
        found = self._kept.get(key)
        writing = self._conn().in_transaction
        if found is not None and found[0] == generation and not writing:
            return found[1]
        value = read()
        if not writing:
            with self._kept_lock:
                if len(self._kept) >= self._KEPT:
                    del self._kept[next(iter(self._kept))]
                self._kept[key] = (generation, value)
        return value

    def _kept_query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """``_query`` through ``kept``: the rows are shared, so callers read them only."""
        return self.kept((sql, params), lambda: self._query(sql, params))

    def _new_key_bytes(self) -> bytes:
        source: Callable[[], bytes] | None = getattr(self._local, "key_source", None)
        return source() if source else uuid.uuid4().bytes

    def _new_id(self, kind: ids.Kind, mailbox_id: int) -> str:
        return ids.new_key(kind, mailbox_id, self._new_key_bytes()).ews

    @contextlib.contextmanager
    def deterministic_ids(self, seed: str) -> Iterator[None]:
        """Ids, mailbox GUIDs and SIDs created by this thread come from a seeded RNG (seeds)."""
        rng = random.Random(seed)
        previous = getattr(self._local, "key_source", None)
        self._local.key_source = lambda: rng.randbytes(16)
        try:
            yield
        finally:
            self._local.key_source = previous

    def new_key_bytes(self) -> bytes:
        """16 fresh key bytes from this thread's id source (seeded during seeding)."""
        return self._new_key_bytes()

    # -- tenant, apps ------------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        """A tenant-wide setting (JSON value) or ``default``."""
        rows = self._query("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        """Stores a tenant-wide setting (any JSON value)."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                (key, json.dumps(value)),
            )

    def add_app(self, app: App) -> None:
        """Registers (or replaces) an app registration."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO apps VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    app.client_id,
                    app.display_name,
                    app.client_secret,
                    to_db_time(app.secret_expires_at),
                    app.certificate_pem,
                    json.dumps(app.roles),
                    None if app.mailbox_scope is None else json.dumps(app.mailbox_scope),
                ),
            )

    def update_app(self, client_id: str, **fields: Any) -> App:
        """Changes fields of a registered app (for example ``certificate_pem`` after seeding)."""
        app = self.app(client_id)
        if app is None:
            raise StoreError(f"no app {client_id}")
        for name, value in fields.items():
            if not hasattr(app, name):
                raise TypeError(f"App has no field {name}")
            setattr(app, name, value)
        self.add_app(app)
        return app

    @staticmethod
    def _app_from(row: sqlite3.Row | tuple[Any, ...]) -> App:
        scope = row[6]
        return App(
            client_id=row[0],
            display_name=row[1],
            client_secret=row[2],
            secret_expires_at=from_db_time(row[3]),
            certificate_pem=row[4],
            roles=json.loads(row[5]),
            mailbox_scope=None if scope is None else json.loads(scope),
        )

    def app(self, client_id: str) -> App | None:
        """The app registered with this client id, or None (every request asks)."""
        rows = self._kept_query("SELECT * FROM apps WHERE client_id = ?", (client_id,))
        return self._app_from(rows[0]) if rows else None

    def apps(self) -> list[App]:
        """Every registered app, by display name."""
        return [
            self._app_from(r)
            for r in self._query("SELECT * FROM apps ORDER BY display_name, client_id")
        ]

    # -- mailboxes ----------------------------------------------------------------------------
    def add_mailbox(
        self,
        address: str,
        display_name: str,
        type: MailboxType = "user",
        aliases: Iterable[str] = (),
    ) -> Mailbox:
        """Creates the mailbox and its well-known folders."""
        return self.add_mailboxes([(address, display_name, type, list(aliases))])[0]

    def add_mailboxes(
        self, specs: Iterable[tuple[str, str, MailboxType, list[str]]]
    ) -> list[Mailbox]:
        """Creates many mailboxes (address, display name, type, aliases) in one transaction."""
        created: list[Mailbox] = []
        with self._write() as conn:
            next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM mailboxes").fetchone()[0]
            mailbox_rows, alias_rows, folder_rows = [], [], []
            for address, display_name, mailbox_type, aliases in specs:
                key = self._new_key_bytes()
                guid = str(uuid.UUID(bytes=key))
                sid = "S-1-5-21-{}-{}-{}-{}".format(
                    *(int.from_bytes(key[i : i + 4], "big") for i in (0, 4, 8, 12))
                )
                mailbox = Mailbox(
                    id=next_id,
                    address=address.lower(),
                    display_name=display_name,
                    type=mailbox_type,
                    guid=guid,
                    aliases=[a.lower() for a in aliases],
                    sid=sid,
                )
                next_id += 1
                mailbox_rows.append(
                    (
                        mailbox.id,
                        mailbox.address,
                        display_name,
                        mailbox_type,
                        guid,
                        sid,
                        1,
                        json.dumps(mailbox.aliases),
                    )
                )
                alias_rows.extend((a, mailbox.id) for a in mailbox.aliases)
                folder_rows.extend(self._well_known_folder_rows(mailbox.id))
                created.append(mailbox)
            conn.executemany("INSERT INTO mailboxes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", mailbox_rows)
            conn.executemany("INSERT INTO mailbox_aliases VALUES (?, ?)", alias_rows)
            conn.executemany("INSERT INTO folders VALUES (?, ?, ?, ?, ?)", folder_rows)
        return created

    def _well_known_folder_rows(self, mailbox_id: int) -> list[tuple[Any, ...]]:
        root = self._new_id("folder", mailbox_id)
        rows: list[tuple[Any, ...]] = [
            (root, mailbox_id, None, _ROOT, WELL_KNOWN_FOLDERS[_ROOT][1])
        ]
        made = {_ROOT: root}
        for name, (_ews, display_name) in WELL_KNOWN_FOLDERS.items():
            if name == _ROOT:
                continue
            parent = None if name in _OUTSIDE_ROOT else made[_NESTED.get(name, _ROOT)]
            made[name] = self._new_id("folder", mailbox_id)
            rows.append((made[name], mailbox_id, parent, name, display_name))
        return rows

    def set_mailbox_enabled(self, mailbox_id: int, enabled: bool) -> None:
        """Disables (or enables) a mailbox for REST (Graph MailboxNotEnabledForRESTAPI)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE mailboxes SET enabled = ? WHERE id = ?", (int(enabled), mailbox_id)
            )

    @staticmethod
    def _mailbox_from(row: sqlite3.Row | tuple[Any, ...]) -> Mailbox:
        return Mailbox(
            id=row[0],
            address=row[1],
            display_name=row[2],
            type=row[3],
            guid=row[4],
            sid=row[5],
            enabled=bool(row[6]),
            aliases=json.loads(row[7]),
        )

    def mailbox(self, ref: str | int) -> Mailbox | None:
        """By id, primary address or alias (case-insensitive), guid, or SID."""
        if isinstance(ref, int):
            rows = self._query("SELECT * FROM mailboxes WHERE id = ?", (ref,))
        else:
            text = ref.strip().lower()
            if text.startswith("smtp:"):
                text = text[5:]
            rows = self._kept_query(
                "SELECT * FROM mailboxes WHERE address = ? OR guid = ? OR lower(sid) = ? "
                "OR id = (SELECT mailbox_id FROM mailbox_aliases WHERE alias = ?)",
                (text, text, text, text),
            )
        return self._mailbox_from(rows[0]) if rows else None

    def mailboxes(self, *, offset: int = 0, limit: int | None = None) -> list[Mailbox]:
        """Mailboxes in creation order, paged."""
        rows = self._query(
            "SELECT * FROM mailboxes ORDER BY id LIMIT ? OFFSET ?",
            (-1 if limit is None else limit, offset),
        )
        return [self._mailbox_from(r) for r in rows]

    def count_mailboxes(self) -> int:
        """How many mailboxes the tenant has."""
        return self._query("SELECT COUNT(*) FROM mailboxes")[0][0]

    # -- folders ------------------------------------------------------------------------------
    _FOLDER_SELECT = (
        "SELECT f.id, f.mailbox_id, f.parent_id, f.well_known, f.display_name, "
        "(SELECT COUNT(*) FROM messages m WHERE m.folder_id = f.id), "
        "(SELECT COUNT(*) FROM messages m WHERE m.folder_id = f.id AND m.is_read = 0), "
        "(SELECT COUNT(*) FROM folders c WHERE c.parent_id = f.id) FROM folders f "
    )
    _FOLDER_SELECT_UNCOUNTED = (
        "SELECT f.id, f.mailbox_id, f.parent_id, f.well_known, f.display_name FROM folders f "
    )

    @staticmethod
    def _folder_from(row: sqlite3.Row | tuple[Any, ...]) -> Folder:
        return Folder(*row)

    def folder(self, mailbox_id: int, ref: str) -> Folder | None:
        """By id (either id form) or well-known name (Graph or EWS spelling, case-insensitive)."""
        name = ref.strip().lower()
        if name in WELL_KNOWN_FOLDERS:
            rows = self._query(
                self._FOLDER_SELECT + "WHERE f.mailbox_id = ? AND f.well_known = ?",
                (mailbox_id, name),
            )
        else:
            folder_id = ids.canonical(ref, "folder")
            if folder_id is None:
                return None
            rows = self._query(
                self._FOLDER_SELECT + "WHERE f.id = ? AND f.mailbox_id = ?", (folder_id, mailbox_id)
            )
        return self._folder_from(rows[0]) if rows else None

    def well_known_folder_ids(self, well_known: str) -> dict[int, str]:
        """Mailbox id -> id of that mailbox's well-known folder (bulk seeding)."""
        rows = self._query(
            "SELECT mailbox_id, id FROM folders WHERE well_known = ?", (well_known.lower(),)
        )
        return {mailbox_id: folder_id for mailbox_id, folder_id in rows}

    def folder_by_id(self, folder_id: str) -> Folder | None:
        """A folder by id alone (either form): the id names its mailbox."""
        key = ids.parse(folder_id, "folder")
        return None if key is None else self.folder(key.mailbox_id, key.ews)

    def folders(
        self,
        mailbox_id: int,
        parent_id: str | None = None,
        *,
        deep: bool = False,
        counts: bool = True,
    ) -> list[Folder]:
        """Child folders of ``parent_id`` (default: the message-folder root), or all below it
        with ``deep``, in display-name order. Without ``counts`` the item and child folder
        counts are left 0 (no COUNT per folder: for callers that need the tree alone)."""
        if counts:
            rows = self._query(
                self._FOLDER_SELECT
                + "WHERE f.mailbox_id = ? ORDER BY f.display_name COLLATE NOCASE",
                (mailbox_id,),
            )
        else:
            rows = self._kept_query(
                self._FOLDER_SELECT_UNCOUNTED
                + "WHERE f.mailbox_id = ? ORDER BY f.display_name COLLATE NOCASE",
                (mailbox_id,),
            )
        if parent_id is None:
            root = next((r for r in rows if r[3] == _ROOT), None)
            if root is None:
                return []
            parent_id = root[0]
        else:
            parent_id = ids.canonical(parent_id, "folder") or parent_id
        if not deep:
            return [self._folder_from(r) for r in rows if r[2] == parent_id]
        every = [self._folder_from(r) for r in rows]
        wanted, found = {parent_id}, []
        changed = True
        while changed:
            changed = False
            for folder in every:
                if folder.parent_id in wanted and folder.id not in wanted:
                    wanted.add(folder.id)
                    found.append(folder)
                    changed = True
        return sorted(found, key=lambda f: f.display_name.lower())

    def folder_by_path(self, mailbox_id: int, path: str) -> Folder | None:
        """``Inbox/Phishing`` style paths, case-insensitive, from the message-folder root."""
        current = self.folder(mailbox_id, _ROOT)
        for part in [p.strip().lower() for p in path.replace("\\", "/").split("/") if p.strip()]:
            if current is None:
                return None
            parent_id = current.id
            current = next(
                (
                    child
                    for child in self.folders(mailbox_id, parent_id)
                    if part in (child.display_name.lower(), child.well_known)
                ),
                None,
            )
        return current

    def create_folder(self, mailbox_id: int, parent_id: str, display_name: str) -> Folder:
        """Creates a user folder under ``parent_id`` (either id form or well-known name);
        StoreError when the parent is missing or a child already has the name (any case)."""
        parent = self.folder(mailbox_id, parent_id)
        if parent is None:
            raise StoreError(f"no folder {parent_id}")
        taken = {f.display_name.lower() for f in self.folders(mailbox_id, parent.id)}
        if display_name.lower() in taken:
            raise StoreError(f"a folder named {display_name!r} exists")
        folder_id = self._new_id("folder", mailbox_id)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO folders VALUES (?, ?, ?, ?, ?)",
                (folder_id, mailbox_id, parent.id, None, display_name),
            )
        return Folder(folder_id, mailbox_id, parent.id, None, display_name)

    # -- messages -----------------------------------------------------------------------------
    _MESSAGE_COLUMNS = (
        "id, mailbox_id, folder_id, version, internet_message_id, conversation_id, subject, "
        "sender, from_, to_, cc, bcc, reply_to, sent_at, received_at, created_at, modified_at, "
        "is_read, is_draft, importance, has_attachments, size, body_type, body, body_preview, "
        "categories, in_reply_to, headers"
    )

    @staticmethod
    def _message_from(row: sqlite3.Row | tuple[Any, ...]) -> Message:
        return Message(
            id=row[0],
            mailbox_id=row[1],
            folder_id=row[2],
            version=row[3],
            internet_message_id=row[4],
            conversation_id=row[5],
            subject=row[6],
            sender=_addr_from(row[7]),
            from_=_addr_from(row[8]),
            to=_addrs_from(row[9]),
            cc=_addrs_from(row[10]),
            bcc=_addrs_from(row[11]),
            reply_to=_addrs_from(row[12]),
            sent_at=from_db_time(row[13]),
            received_at=from_db_time(row[14]),  # type: ignore[arg-type]
            created_at=from_db_time(row[15]),  # type: ignore[arg-type]
            modified_at=from_db_time(row[16]),  # type: ignore[arg-type]
            is_read=bool(row[17]),
            is_draft=bool(row[18]),
            importance=row[19],
            has_attachments=bool(row[20]),
            size=row[21],
            body_type=row[22],
            body=row[23],
            body_preview=row[24],
            categories=_json_list(row[25]),
            in_reply_to=row[26],
            headers=[tuple(h) for h in _json_list(row[27])],  # type: ignore[misc]
        )

    @staticmethod
    def _parsed_columns(parsed: ParsedMessage) -> tuple[Any, ...]:
        """The indexed columns that come from the MIME (internet_message_id .. headers)."""
        return (
            parsed.internet_message_id,
            parsed.conversation_id,
            parsed.subject,
            _addr_json(parsed.sender),
            _addr_json(parsed.from_),
            _addrs_json(parsed.to),
            _addrs_json(parsed.cc),
            _addrs_json(parsed.bcc),
            _addrs_json(parsed.reply_to),
            to_db_time(parsed.sent_at),
        )

    def _attachment_rows(
        self,
        message_id: str,
        mailbox_id: int,
        parts: list[ParsedAttachment],
        keep_ids: list[str | None],
        when: str | None,
    ) -> list[tuple[Any, ...]]:
        rows = []
        for position, part in enumerate(parts):
            attachment_id = keep_ids[position] if position < len(keep_ids) else None
            rows.append(
                (
                    attachment_id or self._new_id("attachment", mailbox_id),
                    message_id,
                    position,
                    part.name,
                    part.content_type,
                    len(part.content),
                    int(part.is_inline),
                    part.content_id,
                    part.kind,
                    when,
                    part.content,
                )
            )
        return rows

    def _new_message_rows(
        self, new: NewMessage, now: dt.datetime
    ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        message_id = self._new_id("message", new.mailbox_id)
        parsed = new.parsed or parse_mime(new.mime)
        stamp = to_db_time(new.created_at or now)
        received = to_db_time(new.received_at or parsed.sent_at or now)
        row = (
            message_id,
            new.mailbox_id,
            new.folder_id,
            1,
            *self._parsed_columns(parsed),
            received,
            stamp,
            stamp,
            int(new.is_read),
            int(new.is_draft),
            parsed.importance,
            int(any(not a.is_inline for a in parsed.attachments)),
            len(new.mime),
            parsed.body_type,
            parsed.body,
            parsed.body_preview,
            json.dumps(list(new.categories)),
            parsed.in_reply_to,
            json.dumps(parsed.headers),
            new.mime,
        )
        attachments = self._attachment_rows(
            message_id, new.mailbox_id, parsed.attachments, [], stamp
        )
        return row, attachments

    def _resolve_folder_id(self, mailbox_id: int, folder_ref: str) -> str:
        folder = self.folder(mailbox_id, folder_ref)
        if folder is None:
            raise StoreError(f"no folder {folder_ref} in mailbox {mailbox_id}")
        return folder.id

    def add_message(
        self,
        mailbox_id: int,
        folder_id: str,
        mime: bytes,
        *,
        received_at: dt.datetime | None = None,
        is_read: bool = False,
        is_draft: bool = False,
        categories: Iterable[str] = (),
    ) -> Message:
        """Parses the MIME, stores it with its attachments, returns the new message."""
        new = NewMessage(
            mailbox_id,
            self._resolve_folder_id(mailbox_id, folder_id),
            mime,
            received_at=received_at,
            is_read=is_read,
            is_draft=is_draft,
            categories=list(categories),
        )
        message_id = self.add_messages([new])[0]
        found = self.message(message_id)
        assert found is not None
        return found

    def add_messages(self, messages: Iterable[NewMessage]) -> list[str]:
        """Bulk insert (seeds): one transaction, ``executemany``; returns the new ids in order.

        ``folder_id`` must already be a folder id (EWS form); a pre-parsed ``parsed`` skips
        parsing the MIME again (templates)."""
        now = utcnow()
        message_rows: list[tuple[Any, ...]] = []
        attachment_rows: list[tuple[Any, ...]] = []
        for new in messages:
            row, attachments = self._new_message_rows(new, now)
            message_rows.append(row)
            attachment_rows.extend(attachments)
        placeholders = ", ".join("?" * 29)
        with self._write() as conn:
            conn.executemany(f"INSERT INTO messages VALUES ({placeholders})", message_rows)
            conn.executemany(
                "INSERT INTO attachments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", attachment_rows
            )
        return [row[0] for row in message_rows]

    def message(self, message_id: str) -> Message | None:
        """By either id form, immutable or entry id; None when absent or malformed, and for an
        entry id from before the message moved to another folder."""
        canonical = ids.canonical(message_id, "message")
        if canonical is None:
            return None
        rows = self._query(
            f"SELECT {self._MESSAGE_COLUMNS} FROM messages WHERE id = ?", (canonical,)
        )
        found = self._message_from(rows[0]) if rows else None
        if found is not None and not ids.names_folder(message_id, found.folder_id):
            return None
        return found

    def _require(self, message_id: str) -> Message:
        found = self.message(message_id)
        if found is None:
            raise StoreError(f"no message {message_id}")
        return found

    def _folder_key(self, mailbox_id: int, ref: str | Folder) -> str:
        """A folder id (EWS form) for a folder, an id in either form or a well-known name."""
        if isinstance(ref, Folder):
            return ref.id
        key = ids.canonical(ref, "folder")
        if key is not None:
            return key
        folder = self.folder(mailbox_id, ref)
        return folder.id if folder else ref

    def messages(
        self,
        mailbox_id: int,
        folder_ids: Iterable[str | Folder] | None = None,
        *,
        include_drafts: bool = True,
    ) -> list[Message]:
        """Every message of a mailbox (or of these folders: folders, ids in either form or
        well-known names), newest received first."""
        return self._messages(mailbox_id, folder_ids, include_drafts, None)

    def _messages(
        self,
        mailbox_id: int,
        folder_ids: Iterable[str | Folder] | None,
        include_drafts: bool,
        where: prefilter.Condition | None,
    ) -> list[Message]:
        sql = f"SELECT {self._MESSAGE_COLUMNS} FROM messages WHERE mailbox_id = ?"
        params: list[Any] = [mailbox_id]
        if folder_ids is not None:
            wanted = [self._folder_key(mailbox_id, f) for f in folder_ids]
            if not wanted:
                return []
            sql += f" AND folder_id IN ({', '.join('?' * len(wanted))})"
            params += wanted
        if not include_drafts:
            sql += " AND is_draft = 0"
        if where is not None:
            sql += f" AND ({where.sql})"
            params += where.params
        # Ties (copies keep their received time) go newest item first, as a stable order.
        rows = self._query(sql + " ORDER BY received_at DESC, rowid DESC", params)
        return [self._message_from(r) for r in rows]

    def search(
        self,
        mailbox_id: int,
        predicate: query.Predicate,
        folder_ids: Iterable[str | Folder] | None = None,
        *,
        include_drafts: bool = True,
    ) -> list[Message]:
        """``messages()`` filtered by a query predicate, newest received first. SQLite drops
        the rows that cannot match first (``prefilter``); the predicate decides the rest."""
        where = prefilter.condition(predicate)
        candidates = self._messages(mailbox_id, folder_ids, include_drafts, where)
        names: dict[str, list[str]] | None = None

        def attachment_names(message_id: str) -> list[str]:
            nonlocal names
            if names is None:  # one query for every candidate, and only if the predicate asks
                names = self.attachment_names([m.id for m in candidates if m.has_attachments])
            return names.get(message_id, [])

        return query.filter_messages(predicate, candidates, attachment_names)

    def attachment_names(self, message_ids: Iterable[str]) -> dict[str, list[str]]:
        """Attachment names of many messages at once, in attachment order."""
        wanted = list(message_ids)
        found: dict[str, list[str]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._query(
                "SELECT message_id, name FROM attachments WHERE message_id IN "
                f"({', '.join('?' * len(chunk))}) ORDER BY message_id, position",
                chunk,
            )
            for message_id, name in rows:
                found.setdefault(message_id, []).append(name)
        return found

    def find_by_internet_message_id(
        self, mailbox_id: int, internet_message_id: str
    ) -> list[Message]:
        """Messages of a mailbox with this Message-ID (with or without angle brackets)."""
        bare = internet_message_id.strip().strip("<>")
        rows = self._query(
            f"SELECT {self._MESSAGE_COLUMNS} FROM messages WHERE mailbox_id = ? "
            "AND internet_message_id IN (?, ?) ORDER BY received_at DESC, rowid DESC",
            (mailbox_id, f"<{bare}>", bare),
        )
        return [self._message_from(r) for r in rows]

    def mime(self, message_id: str) -> bytes:
        """The stored MIME of a message."""
        rows = self._query(
            "SELECT mime FROM messages WHERE id = ?", (ids.canonical(message_id, "message"),)
        )
        if not rows:
            raise StoreError(f"no message {message_id}")
        return bytes(rows[0][0])

    def _iter_blob(
        self, table: str, column: str, key: str | None, chunk_size: int
    ) -> Iterator[bytes]:
        # A private connection: its read snapshot stays stable while the caller streams, and
        # the thread's own connection stays free for writes.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("BEGIN")
            rows = conn.execute(f"SELECT rowid FROM {table} WHERE id = ?", (key,)).fetchall()
            if not rows:
                raise StoreError(f"no {table} row {key}")
            with conn.blobopen(table, column, rows[0][0], readonly=True) as blob:
                while chunk := blob.read(chunk_size):
                    yield chunk
        finally:
            conn.close()

    def iter_mime(self, message_id: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """Streams the stored MIME (sqlite blob I/O), for large messages."""
        key = ids.canonical(message_id, "message")
        if key is None or self.message(key) is None:
            raise StoreError(f"no message {message_id}")
        return self._iter_blob("messages", "mime", key, chunk_size)

    def _store_mime(
        self,
        conn: sqlite3.Connection,
        message: Message,
        mime: bytes,
        attachment_ids: Callable[[list[ParsedAttachment]], list[str | None]],
    ) -> None:
        """Re-indexes a message from new MIME; ``attachment_ids`` names the parts' ids."""
        parsed = parse_mime(mime)
        stamp = to_db_time(utcnow())
        conn.execute(
            "UPDATE messages SET internet_message_id = ?, conversation_id = ?, subject = ?, "
            "sender = ?, from_ = ?, to_ = ?, cc = ?, bcc = ?, reply_to = ?, sent_at = ?, "
            "importance = ?, has_attachments = ?, size = ?, body_type = ?, body = ?, "
            "body_preview = ?, in_reply_to = ?, headers = ?, mime = ?, version = version + 1, "
            "modified_at = ? WHERE id = ?",
            (
                *self._parsed_columns(parsed),
                parsed.importance,
                int(any(not a.is_inline for a in parsed.attachments)),
                len(mime),
                parsed.body_type,
                parsed.body,
                parsed.body_preview,
                parsed.in_reply_to,
                json.dumps(parsed.headers),
                mime,
                stamp,
                message.id,
            ),
        )
        keep = attachment_ids(parsed.attachments)
        conn.execute("DELETE FROM attachments WHERE message_id = ?", (message.id,))
        conn.executemany(
            "INSERT INTO attachments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self._attachment_rows(message.id, message.mailbox_id, parsed.attachments, keep, stamp),
        )

    def _current_attachment_ids(self, message_id: str) -> list[str]:
        return [a.id for a in self.attachments(message_id)]

    _FLAG_FIELDS = ("is_read", "categories", "is_draft", "folder_id")
    _MIME_HEADERS = {
        "subject": "Subject",
        "to": "To",
        "cc": "Cc",
        "bcc": "Bcc",
        "reply_to": "Reply-To",
    }

    def update_message(self, message_id: str, **fields: Any) -> Message:
        """Mutable fields: is_read, categories, importance, subject, body, body_type, to, cc,
        bcc, reply_to, is_draft, folder_id. Draft edits regenerate the MIME."""
        message = self._require(message_id)
        unknown = set(fields) - set(self._FLAG_FIELDS) - set(self._MIME_HEADERS)
        unknown -= {"importance", "body", "body_type"}
        if unknown:
            raise TypeError(f"not mutable: {', '.join(sorted(unknown))}")
        with self._write() as conn:
            if "folder_id" in fields:
                fields["folder_id"] = self._resolve_folder_id(
                    message.mailbox_id, fields["folder_id"]
                )
            flags = {k: v for k, v in fields.items() if k in self._FLAG_FIELDS}
            if flags:
                values = [
                    json.dumps(list(v))
                    if k == "categories"
                    else (int(v) if k != "folder_id" else v)
                    for k, v in flags.items()
                ]
                assignments = ", ".join(f"{k} = ?" for k in flags)
                conn.execute(
                    f"UPDATE messages SET {assignments}, version = version + 1, modified_at = ? "
                    "WHERE id = ?",
                    (*values, to_db_time(utcnow()), message.id),
                )
            mime_fields = {k: v for k, v in fields.items() if k not in self._FLAG_FIELDS}
            if mime_fields:
                self._rewrite(conn, message, mime_fields)
        return self._require(message.id)

    def _rewrite(self, conn: sqlite3.Connection, message: Message, changes: dict[str, Any]) -> None:
        headers: dict[str, str | None] = {}
        for name, header in self._MIME_HEADERS.items():
            if name in changes:
                value = changes[name]
                if name == "subject":
                    headers[header] = value
                else:
                    headers[header] = format_addresses(list(value)) if value else None
        if "importance" in changes:
            importance = changes["importance"]
            headers["Importance"] = None if importance == "normal" else importance.capitalize()
            headers["X-Priority"] = {"high": "1 (Highest)", "low": "5 (Lowest)"}.get(importance)
        mime = rewrite(
            self.mime(message.id),
            header_changes=headers,
            body=changes.get("body"),
            body_type=changes.get("body_type"),
        )
        current = self._current_attachment_ids(message.id)
        self._store_mime(conn, message, mime, lambda parts: list(current))

    def replace_mime(self, message_id: str, mime: bytes) -> Message:
        """Replaces a message's MIME; attachments keep their ids where the same name sits at
        the same position."""
        message = self._require(message_id)
        current = self.attachments(message.id)

        def same_place(parts: list[ParsedAttachment]) -> list[str | None]:
            return [
                current[i].id if i < len(current) and current[i].name == part.name else None
                for i, part in enumerate(parts)
            ]

        with self._write() as conn:
            self._store_mime(conn, message, mime, same_place)
        return self._require(message.id)

    def move_message(self, message_id: str, folder_id: str) -> Message:
        """Same mailbox: keeps the immutable id (the entry id changes with the folder). Another
        mailbox: a new item."""
        message = self._require(message_id)
        target = self.folder_by_id(folder_id)
        if target is None:
            target = self.folder(message.mailbox_id, folder_id)
        if target is None:
            raise StoreError(f"no folder {folder_id}")
        if target.mailbox_id == message.mailbox_id:
            return self.update_message(message.id, folder_id=target.id)
        with self._write():
            moved = self.copy_message(message.id, target.mailbox_id, target.id)
            self.delete_message(message.id)
        return moved

    def copy_message(self, message_id: str, mailbox_id: int, folder_id: str) -> Message:
        """A new item (new id, new attachment ids) with the same MIME and flags."""
        message = self._require(message_id)
        new = NewMessage(
            mailbox_id,
            self._resolve_folder_id(mailbox_id, folder_id),
            self.mime(message.id),
            received_at=message.received_at,
            is_read=message.is_read,
            is_draft=message.is_draft,
            categories=list(message.categories),
        )
        with self._write():
            new_id = self.add_messages([new])[0]
        return self._require(new_id)

    def delete_message(self, message_id: str) -> None:
        """Removes the message and its attachments for good."""
        message = self._require(message_id)
        with self._write() as conn:
            conn.execute("DELETE FROM attachments WHERE message_id = ?", (message.id,))
            conn.execute("DELETE FROM messages WHERE id = ?", (message.id,))

    # -- attachments --------------------------------------------------------------------------
    _ATTACHMENT_COLUMNS = (
        "id, message_id, name, content_type, size, is_inline, content_id, kind, last_modified"
    )

    @staticmethod
    def _attachment_from(row: sqlite3.Row | tuple[Any, ...]) -> Attachment:
        return Attachment(
            id=row[0],
            message_id=row[1],
            name=row[2],
            content_type=row[3],
            size=row[4],
            is_inline=bool(row[5]),
            content_id=row[6],
            kind=row[7],
            last_modified=from_db_time(row[8]),
        )

    def attachments(self, message_id: str) -> list[Attachment]:
        """The message's attachments in MIME order."""
        rows = self._query(
            f"SELECT {self._ATTACHMENT_COLUMNS} FROM attachments WHERE message_id = ? "
            "ORDER BY position",
            (ids.canonical(message_id, "message"),),
        )
        return [self._attachment_from(r) for r in rows]

    def attachment(self, attachment_id: str) -> Attachment | None:
        """By either id form; None when absent or malformed."""
        key = ids.canonical(attachment_id, "attachment")
        if key is None:
            return None
        rows = self._query(
            f"SELECT {self._ATTACHMENT_COLUMNS} FROM attachments WHERE id = ?", (key,)
        )
        return self._attachment_from(rows[0]) if rows else None

    def attachment_content(self, attachment_id: str) -> bytes:
        """Decoded content (the whole attached message for item attachments)."""
        rows = self._query(
            "SELECT content FROM attachments WHERE id = ?",
            (ids.canonical(attachment_id, "attachment"),),
        )
        if not rows:
            raise StoreError(f"no attachment {attachment_id}")
        return bytes(rows[0][0])

    def iter_attachment_content(
        self, attachment_id: str, chunk_size: int = 1 << 16
    ) -> Iterator[bytes]:
        """Streams decoded attachment content (sqlite blob I/O)."""
        key = ids.canonical(attachment_id, "attachment")
        if key is None or self.attachment(key) is None:
            raise StoreError(f"no attachment {attachment_id}")
        return self._iter_blob("attachments", "content", key, chunk_size)

    def add_attachment(
        self,
        message_id: str,
        name: str,
        content_type: str,
        content: bytes,
        *,
        is_inline: bool = False,
        content_id: str | None = None,
        kind: Literal["file", "item"] = "file",
    ) -> Attachment:
        """Adds a part to the message's MIME and indexes it."""
        message = self._require(message_id)
        part = ParsedAttachment(name, content_type, content, is_inline, content_id, kind)
        with self._write() as conn:
            current = self._current_attachment_ids(message.id)
            mime = append_attachment(self.mime(message.id), part)
            self._store_mime(conn, message, mime, lambda parts: list(current))
            new_id = self._current_attachment_ids(message.id)[-1]
        found = self.attachment(new_id)
        assert found is not None
        return found

    def delete_attachment(self, attachment_id: str) -> None:
        """Removes the part from the message's MIME; other attachments keep their ids."""
        attachment = self.attachment(attachment_id)
        if attachment is None:
            raise StoreError(f"no attachment {attachment_id}")
        message = self._require(attachment.message_id)
        with self._write() as conn:
            current = self._current_attachment_ids(message.id)
            index = current.index(attachment.id)
            mime = remove_attachment(self.mime(message.id), index)
            remaining: list[str | None] = [a for a in current if a != attachment.id]
            self._store_mime(conn, message, mime, lambda parts: remaining)

    # -- contacts, settings, rules, junk ------------------------------------------------------
    def add_contact(self, mailbox_id: int, contact: Contact) -> Contact:
        """Stores a contact (a new id when ``contact.id`` is empty)."""
        contact.id = ids.canonical(contact.id, "contact") if contact.id else None  # type: ignore[assignment]
        contact.id = contact.id or self._new_id("contact", mailbox_id)
        contact.mailbox_id = mailbox_id
        data = asdict(contact)
        data["emails"] = [[a.address, a.name] for a in contact.emails]
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO contacts VALUES (?, ?, ?)",
                (contact.id, mailbox_id, json.dumps(data)),
            )
        return contact

    @staticmethod
    def _contact_from(data: str) -> Contact:
        fields = json.loads(data)
        fields["emails"] = [Address(a, n) for a, n in fields["emails"]]
        return Contact(**fields)

    def contacts(self, mailbox_id: int) -> list[Contact]:
        """The mailbox's contacts, by display name."""
        rows = self._query("SELECT data FROM contacts WHERE mailbox_id = ?", (mailbox_id,))
        found = [self._contact_from(r[0]) for r in rows]
        return sorted(found, key=lambda c: (c.display_name.lower(), c.id))

    def contact(self, contact_id: str) -> Contact | None:
        """By either id form; None when absent or malformed."""
        rows = self._query(
            "SELECT data FROM contacts WHERE id = ?", (ids.canonical(contact_id, "contact"),)
        )
        return self._contact_from(rows[0][0]) if rows else None

    def out_of_office(self, mailbox_id: int) -> OutOfOffice:
        """Automatic replies settings (disabled when never set)."""
        rows = self._query("SELECT data FROM out_of_office WHERE mailbox_id = ?", (mailbox_id,))
        if not rows:
            return OutOfOffice("disabled", "all", None, None, "", "")
        data = json.loads(rows[0][0])
        data["start"], data["end"] = from_db_time(data["start"]), from_db_time(data["end"])
        return OutOfOffice(**data)

    def set_out_of_office(self, mailbox_id: int, oof: OutOfOffice) -> None:
        """Replaces the automatic replies settings."""
        data = asdict(oof)
        data["start"], data["end"] = to_db_time(oof.start), to_db_time(oof.end)
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO out_of_office VALUES (?, ?)", (mailbox_id, json.dumps(data))
            )

    def mailbox_settings(self, mailbox_id: int) -> dict[str, Any]:
        """timeZone, language, workingHours... (Graph mailboxSettings shape, minus OOF)."""
        rows = self._query("SELECT data FROM mailbox_settings WHERE mailbox_id = ?", (mailbox_id,))
        settings = json.loads(json.dumps(_DEFAULT_MAILBOX_SETTINGS))
        mailbox = self.mailbox(mailbox_id)
        if mailbox is not None:
            # Graph's userPurpose names the Exchange recipient type: user, shared, room, equipment.
            settings["userPurpose"] = mailbox.type
        if rows:
            settings.update(json.loads(rows[0][0]))
        return settings

    def set_mailbox_settings(self, mailbox_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Merges top-level keys into the mailbox settings; returns the result."""
        rows = self._query("SELECT data FROM mailbox_settings WHERE mailbox_id = ?", (mailbox_id,))
        stored = json.loads(rows[0][0]) if rows else {}
        stored.update(changes)
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO mailbox_settings VALUES (?, ?)",
                (mailbox_id, json.dumps(stored)),
            )
        return self.mailbox_settings(mailbox_id)

    @staticmethod
    def _rule_from(data: str) -> Rule:
        return Rule(**json.loads(data))

    def rules(self, mailbox_id: int) -> list[Rule]:
        """Inbox rules in sequence order."""
        rows = self._query(
            "SELECT data FROM rules WHERE mailbox_id = ? ORDER BY sequence, id", (mailbox_id,)
        )
        return [self._rule_from(r[0]) for r in rows]

    def rule(self, rule_id: str) -> Rule | None:
        """By either id form; None when absent or malformed."""
        rows = self._query("SELECT data FROM rules WHERE id = ?", (ids.canonical(rule_id, "rule"),))
        return self._rule_from(rows[0][0]) if rows else None

    def _save_rule(self, rule: Rule) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO rules VALUES (?, ?, ?, ?)",
                (rule.id, rule.mailbox_id, rule.sequence, json.dumps(asdict(rule))),
            )

    def add_rule(self, mailbox_id: int, rule: Rule) -> Rule:
        """Stores an inbox rule (a new id when ``rule.id`` is empty)."""
        rule.id = (ids.canonical(rule.id, "rule") if rule.id else None) or self._new_id(
            "rule", mailbox_id
        )
        rule.mailbox_id = mailbox_id
        self._save_rule(rule)
        return rule

    def update_rule(self, rule_id: str, **fields: Any) -> Rule:
        """Changes fields of an inbox rule."""
        rule = self.rule(rule_id)
        if rule is None:
            raise StoreError(f"no rule {rule_id}")
        for name, value in fields.items():
            if name in ("id", "mailbox_id") or not hasattr(rule, name):
                raise TypeError(f"not mutable: {name}")
            setattr(rule, name, value)
        self._save_rule(rule)
        return rule

    def delete_rule(self, rule_id: str) -> None:
        """Removes an inbox rule."""
        if self.rule(rule_id) is None:
            raise StoreError(f"no rule {rule_id}")
        with self._write() as conn:
            conn.execute("DELETE FROM rules WHERE id = ?", (ids.canonical(rule_id, "rule"),))

    def blocked_senders(self, mailbox_id: int) -> list[str]:
        """The mailbox's blocked senders list (lower case, sorted)."""
        rows = self._query(
            "SELECT address FROM blocked_senders WHERE mailbox_id = ? ORDER BY address",
            (mailbox_id,),
        )
        return [r[0] for r in rows]

    def block_sender(self, mailbox_id: int, address: str, blocked: bool = True) -> None:
        """Adds (or with ``blocked=False`` removes) an address on the blocked senders list."""
        with self._write() as conn:
            if blocked:
                conn.execute(
                    "INSERT OR IGNORE INTO blocked_senders VALUES (?, ?)",
                    (mailbox_id, address.strip().lower()),
                )
            else:
                conn.execute(
                    "DELETE FROM blocked_senders WHERE mailbox_id = ? AND address = ?",
                    (mailbox_id, address.strip().lower()),
                )

    # -- whole tenant -------------------------------------------------------------------------
    def reset(self) -> None:
        """Deletes every row (the caller then re-seeds)."""
        with self._write() as conn:
            for table in _TABLES:
                conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        """Closes every thread's connection."""
        with self._connections_lock:
            for holder in list(self._connections):
                holder.conn.close()
            self._connections = weakref.WeakSet()
        self._idle.close()
        self._local = threading.local()


@dataclass
class NewMessage:
    """One message for ``Store.add_messages`` (bulk seeds)."""

    mailbox_id: int
    folder_id: str  # EWS-form folder id
    mime: bytes
    parsed: ParsedMessage | None = None  # pre-parsed (templates); parsed from ``mime`` if None
    received_at: dt.datetime | None = None
    is_read: bool = False
    is_draft: bool = False
    categories: list[str] = field(default_factory=list)
    created_at: dt.datetime | None = None  # default: now (seeds pin it for stable output)
