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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import ids

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
    "recoverableitemsdeletions": ("recoverableitemsdeletions", "Deletions"),
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
CREATE TABLE IF NOT EXISTS mailbox_aliases (
    alias TEXT PRIMARY KEY, mailbox_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS folders (
    id TEXT PRIMARY KEY, mailbox_id INTEGER NOT NULL, parent_id TEXT, well_known TEXT,
    display_name TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS folders_mailbox ON folders (mailbox_id, parent_id);
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
)

# Children of the message-folder root; the Recoverable Items folders live outside it.
_ROOT = "msgfolderroot"
_OUTSIDE_ROOT = ("recoverableitemsdeletions", "recoverableitemspurges")

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
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def utcnow() -> dt.datetime:
    """Aware current UTC time."""
    return dt.datetime.now(dt.timezone.utc)


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
    return [Address(a, n) for a, n in json.loads(value)]


class Store:
    """SQLite-backed tenant state. ``Store(path)`` creates the schema when new."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)

    # -- machinery ----------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=OFF")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

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
                raise
            conn.execute("COMMIT")

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        cur = self._conn().execute(sql, tuple(params))
        return cur.fetchall()

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
        """The app registered with this client id, or None."""
        rows = self._query("SELECT * FROM apps WHERE client_id = ?", (client_id,))
        return self._app_from(rows[0]) if rows else None

    def apps(self) -> list[App]:
        """Every registered app, in client id order."""
        return [self._app_from(r) for r in self._query("SELECT * FROM apps ORDER BY client_id")]

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
        for name, (_ews, display_name) in WELL_KNOWN_FOLDERS.items():
            if name == _ROOT:
                continue
            parent = None if name in _OUTSIDE_ROOT else root
            rows.append(
                (self._new_id("folder", mailbox_id), mailbox_id, parent, name, display_name)
            )
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
            rows = self._query(
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

    def folder_by_id(self, folder_id: str) -> Folder | None:
        """A folder by id alone (either form): the id names its mailbox."""
        key = ids.parse(folder_id, "folder")
        return None if key is None else self.folder(key.mailbox_id, key.ews)

    def folders(
        self, mailbox_id: int, parent_id: str | None = None, *, deep: bool = False
    ) -> list[Folder]:
        """Child folders of ``parent_id`` (default: the message-folder root), or all below it
        with ``deep``, in display-name order."""
        if parent_id is None:
            root = self.folder(mailbox_id, _ROOT)
            if root is None:
                return []
            parent_id = root.id
        else:
            parent_id = ids.canonical(parent_id, "folder") or parent_id
        rows = self._query(
            self._FOLDER_SELECT + "WHERE f.mailbox_id = ? ORDER BY f.display_name COLLATE NOCASE",
            (mailbox_id,),
        )
        every = [self._folder_from(r) for r in rows]
        if not deep:
            return [f for f in every if f.parent_id == parent_id]
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
        """Creates a user folder under ``parent_id`` (either id form or well-known name)."""
        parent = self.folder(mailbox_id, parent_id)
        if parent is None:
            raise StoreError(f"no folder {parent_id}")
        folder_id = self._new_id("folder", mailbox_id)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO folders VALUES (?, ?, ?, ?, ?)",
                (folder_id, mailbox_id, parent.id, None, display_name),
            )
        return Folder(folder_id, mailbox_id, parent.id, None, display_name)

    # -- messages -----------------------------------------------------------------------------
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

    def message(self, message_id: str) -> Message | None:
        """By either id form; None when absent or malformed."""

    def messages(
        self,
        mailbox_id: int,
        folder_ids: Iterable[str] | None = None,
        *,
        include_drafts: bool = True,
    ) -> list[Message]:
        """Every message of a mailbox (or of these folders), newest received first."""

    def find_by_internet_message_id(
        self, mailbox_id: int, internet_message_id: str
    ) -> list[Message]: ...
    def mime(self, message_id: str) -> bytes: ...
    def iter_mime(self, message_id: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """Streams the stored MIME (sqlite blob I/O), for large messages."""

    def update_message(self, message_id: str, **fields: Any) -> Message:
        """Mutable fields: is_read, categories, importance, subject, body, body_type, to, cc,
        bcc, reply_to, is_draft, folder_id. Draft edits regenerate the MIME."""

    def replace_mime(self, message_id: str, mime: bytes) -> Message: ...
    def move_message(self, message_id: str, folder_id: str) -> Message:
        """Same mailbox: keeps the id (immutable ids). Another mailbox: new id."""

    def copy_message(self, message_id: str, mailbox_id: int, folder_id: str) -> Message: ...
    def delete_message(self, message_id: str) -> None: ...

    # -- attachments --------------------------------------------------------------------------
    def attachments(self, message_id: str) -> list[Attachment]: ...
    def attachment(self, attachment_id: str) -> Attachment | None: ...
    def attachment_content(self, attachment_id: str) -> bytes: ...
    def iter_attachment_content(
        self, attachment_id: str, chunk_size: int = 1 << 16
    ) -> Iterator[bytes]: ...
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

    def delete_attachment(self, attachment_id: str) -> None:
        """Removes the part from the message's MIME; other attachments keep their ids."""

    # -- contacts, settings, rules, junk ------------------------------------------------------
    def add_contact(self, mailbox_id: int, contact: Contact) -> Contact: ...
    def contacts(self, mailbox_id: int) -> list[Contact]: ...
    def contact(self, contact_id: str) -> Contact | None: ...
    def out_of_office(self, mailbox_id: int) -> OutOfOffice: ...
    def set_out_of_office(self, mailbox_id: int, oof: OutOfOffice) -> None: ...
    def mailbox_settings(self, mailbox_id: int) -> dict[str, Any]:
        """timeZone, language, workingHours... (Graph mailboxSettings shape, minus OOF)."""

    def rules(self, mailbox_id: int) -> list[Rule]: ...
    def add_rule(self, mailbox_id: int, rule: Rule) -> Rule: ...
    def update_rule(self, rule_id: str, **fields: Any) -> Rule: ...
    def delete_rule(self, rule_id: str) -> None: ...
    def blocked_senders(self, mailbox_id: int) -> list[str]: ...
    def block_sender(self, mailbox_id: int, address: str, blocked: bool = True) -> None: ...

    # -- whole tenant -------------------------------------------------------------------------
    def reset(self) -> None:
        """Deletes every row (the caller then re-seeds)."""

    def close(self) -> None: ...


def build_mime(
    *,
    sender: Address,
    to: list[Address],
    cc: list[Address] = (),  # type: ignore[assignment]
    bcc: list[Address] = (),  # type: ignore[assignment]
    reply_to: list[Address] = (),  # type: ignore[assignment]
    subject: str,
    body: str,
    body_type: Literal["text", "html"] = "text",
    attachments: list[tuple[str, str, bytes, bool, str | None]] = (),  # type: ignore[assignment]
    attached_messages: list[bytes] = (),  # type: ignore[assignment]
    importance: Importance = "normal",
    internet_message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    date: dt.datetime | None = None,
    extra_headers: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> bytes:
    """RFC 5322 MIME for a message the faces create (send, reply, drafts, seeds).

    ``attachments``: (name, content_type, content, is_inline, content_id).
    """
